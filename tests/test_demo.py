"""Tests of the demo council (kpi/demo/): the tables' shape, their consistency, September 2017's
volumes against the seed scorecard, determinism and scaling. Writing the files: test_demo_extract_files.py."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import holidays
import numpy as np
import polars as pl
import pytest
import yaml

from kpi import demo

EXTRACT = demo.EXTRACT_DATE
ME = date(2017, 9, 30)             # the seed's month end
MONTH = (date(2017, 9, 1), ME)
FYTD = (date(2017, 4, 1), ME)


@pytest.fixture(scope="module")
def t() -> dict[str, pl.DataFrame]:
    """The demo council at scale 1 with the default seed, generated once for the module."""
    started = time.perf_counter()
    tables = demo.generate()
    print(f"\ndemo.generate(scale=1): {time.perf_counter() - started:.3f}s")  # reported, never asserted
    return tables


def between(column: str, window: tuple[date, date]) -> pl.Expr:
    """Rows whose date (or timestamp's date) falls in the window, inclusive."""
    return pl.col(column).cast(pl.Date).is_between(*window)


def open_at(start: str, end: str, day: date) -> pl.Expr:
    """SPEC §4: open when started on or before the day and not ended by it (ending on the day closes it)."""
    return (pl.col(start) <= day) & (pl.col(end).is_null() | (pl.col(end) > day))


def busday_calendar() -> np.busdaycalendar:
    """England and Wales working days, built here independently of the generator."""
    closed = holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2020))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(sorted(closed), dtype="M8[D]"))


def working_days(a: pl.Series, b: pl.Series) -> np.ndarray:
    """SPEC §4's working_days(a, b): working days d with a < d <= b."""
    one = np.timedelta64(1, "D")
    return np.busday_count(a.to_numpy() + one, b.to_numpy() + one, busdaycal=busday_calendar())


# --- Shape ---------------------------------------------------------------------------------------------

def test_every_table_of_the_schema_with_its_columns_in_order_and_types(t):
    schemas = demo.table_schemas()
    assert list(t) == list(schemas)
    expected = {"text": pl.String, "date": pl.Date, "timestamp": pl.Datetime("us"), "boolean": pl.Boolean,
                "integer": pl.Int64, "double": pl.Float64}
    spec_file = Path(__file__).resolve().parents[1] / "schemas" / "extracts.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["tables"]
    for name, frame in t.items():
        columns = spec[name]["columns"]
        assert frame.columns == list(columns), name
        for column, kind in columns.items():
            kind = kind if isinstance(kind, str) else kind["type"]
            assert frame.schema[column] == expected[kind], (name, column)
        assert frame.height > 0, name


def test_keys_are_unique_non_empty_text(t):
    for name, frame in t.items():
        if name.startswith("ref_"):
            continue
        key = frame.columns[0]
        assert frame[key].null_count() == 0, name
        assert frame[key].n_unique() == frame.height, name
        assert frame[key].str.contains(r"^[A-Z]+\d{6,}$").all(), name


def test_reference_tables(t):
    population = t["ref_population"].sort("year")
    assert population["year"].to_list() == list(range(2013, 2019))
    assert set(population["age_band"]) == {"0-17"}
    assert population.filter(pl.col("year") == 2017)["population"].item() == 22_627
    assert 22_000 < population.filter(pl.col("year") == 2015)["population"].item() < 23_500
    benchmarks = t["ref_benchmarks"]
    assert benchmarks.height == 48 and benchmarks["indicator_id"].n_unique() == 16
    assert set(benchmarks["area"]) == {"england", "region", "statistical_neighbours"}
    assert set(benchmarks["period"]) == {"2016/17"}
    assert benchmarks.filter((pl.col("indicator_id") == "CSC 014") & (pl.col("area") == "england"))["value"].item() == 532
    assert benchmarks.filter((pl.col("indicator_id") == "CSC 229") & (pl.col("area") == "region"))["value"].item() == 67
    assert benchmarks["source"].null_count() == 0


# --- Consistency ---------------------------------------------------------------------------------------

def test_every_person_referenced_exists(t):
    people = t["ssd_person"]["pers_person_id"]
    for name, frame in t.items():
        for column in frame.columns:
            if column.endswith("person_id"):
                assert frame[column].is_in(people.implode()).all(), (name, column)


REFERENCES = [
    ("ssd_cin_episodes", "cine_contact_id", "ssd_contacts", "cont_contact_id"),
    ("ssd_cin_episodes", "cine_referral_worker_id", "ssd_professionals", "prof_professional_id"),
    ("ssd_cin_assessments", "cina_referral_id", "ssd_cin_episodes", "cine_referral_id"),
    ("ssd_strategy_discussions", "strd_referral_id", "ssd_cin_episodes", "cine_referral_id"),
    ("ssd_s47_enquiry", "s47e_referral_id", "ssd_cin_episodes", "cine_referral_id"),
    ("ssd_s47_enquiry", "s47e_strategy_id", "ssd_strategy_discussions", "strd_strategy_id"),
    ("ssd_initial_cp_conference", "icpc_s47_enquiry_id", "ssd_s47_enquiry", "s47e_s47_enquiry_id"),
    ("ssd_initial_cp_conference", "icpc_cp_plan_id", "ssd_cp_plans", "cppl_cp_plan_id"),
    ("ssd_cp_plans", "cppl_icpc_id", "ssd_initial_cp_conference", "icpc_icpc_id"),
    ("ssd_cp_reviews", "cppr_cp_plan_id", "ssd_cp_plans", "cppl_cp_plan_id"),
    ("ssd_cp_visits", "cppv_cp_plan_id", "ssd_cp_plans", "cppl_cp_plan_id"),
    ("ssd_cla_episodes", "clae_cla_placement_id", "ssd_cla_placement", "clap_cla_placement_id"),
    ("ssd_cla_placement", "clap_cla_id", "ssd_cla_episodes", "clae_cla_id"),
    ("ssd_cla_reviews", "clar_cla_id", "ssd_cla_episodes", "clae_cla_id"),
    ("ssd_cla_visits", "clav_cla_id", "ssd_cla_episodes", "clae_cla_id"),
    ("ssd_early_help_assessments", "eha_episode_id", "ssd_early_help_episodes", "earl_episode_id"),
    ("ssd_involvements", "invo_professional_id", "ssd_professionals", "prof_professional_id"),
]


@pytest.mark.parametrize(("table", "column", "target", "key"), REFERENCES, ids=[f"{r[0]}.{r[1]}" for r in REFERENCES])
def test_references_resolve_to_a_record_of_the_same_child(t, table, column, target, key):
    rows = t[table].filter(pl.col(column).is_not_null())
    assert rows.height > 0
    assert rows[column].is_in(t[target][key].implode()).all()
    person = next((c for c in t[table].columns if c.endswith("person_id")), None)
    target_person = next((c for c in t[target].columns if c.endswith("person_id")), None)
    if person and target_person:
        parent = t[target].select(pl.col(key).alias(column), pl.col(target_person).alias("_parent_person"))
        joined = rows.join(parent, on=column)
        assert (joined[person] == joined["_parent_person"]).all()


def test_nothing_is_dated_after_the_extract_date(t):
    for name, frame in t.items():
        for column, dtype in frame.schema.items():
            if dtype in (pl.Date, pl.Datetime("us")):
                latest = frame[column].cast(pl.Date).max()
                assert latest is None or latest <= EXTRACT, (name, column, latest)


ORDERED = [  # (table, earlier, later): the later is never before the earlier (by date)
    ("ssd_cin_episodes", "cine_referral_date", "cine_close_date"),
    ("ssd_cin_episodes", "cine_referral_date", "cine_referral_completed_datetime"),
    ("ssd_cin_assessments", "cina_assessment_start_date", "cina_assessment_auth_date"),
    ("ssd_s47_enquiry", "s47e_s47_start_date", "s47e_s47_end_date"),
    ("ssd_cp_plans", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    ("ssd_cla_placement", "clap_cla_placement_start_date", "clap_cla_placement_end_date"),
    ("ssd_cla_episodes", "clae_cla_episode_start_date", "clae_cla_episode_ceased_date"),
    ("ssd_cla_episodes", "clae_entered_care_date", "clae_cla_episode_start_date"),
    ("ssd_legal_status", "lega_legal_status_start_date", "lega_legal_status_end_date"),
    ("ssd_early_help_episodes", "earl_episode_start_date", "earl_episode_end_date"),
    ("ssd_early_help_assessments", "eha_start_date", "eha_completed_date"),
    ("ssd_involvements", "invo_involvement_start_date", "invo_involvement_end_date"),
    ("ssd_missing", "miss_missing_episode_start_date", "miss_missing_episode_end_date"),
    ("ssd_care_leavers", "clea_care_leaver_latest_contact", "clea_service_end_date"),
]


@pytest.mark.parametrize(("table", "earlier", "later"), ORDERED, ids=[f"{o[0]}.{o[2]}" for o in ORDERED])
def test_no_end_before_its_start(t, table, earlier, later):
    frame = t[table]
    assert frame.filter(pl.col(later).cast(pl.Date) < pl.col(earlier).cast(pl.Date)).height == 0
    if later.endswith(("end_date", "ceased_date")) and table not in ("ssd_missing", "ssd_early_help_episodes"):
        # An episode lasts at least a day (the open-at rule would never see one that ends on its start).
        assert frame.filter(pl.col(later) <= pl.col(earlier)).height == 0


def test_journeys_follow_their_order(t):
    referrals = t["ssd_cin_episodes"]
    with_contact = referrals.join(t["ssd_contacts"], left_on="cine_contact_id", right_on="cont_contact_id")
    assert (with_contact["cine_referral_date"] >= with_contact["cont_contact_date"]).all()
    assert with_contact["cont_outcome_new_referral"].all()
    assert t["ssd_contacts"]["cont_outcome_new_referral"].sum() == referrals.height
    assessments = t["ssd_cin_assessments"].join(referrals, left_on="cina_referral_id", right_on="cine_referral_id")
    assert (assessments["cina_assessment_start_date"] >= assessments["cine_referral_date"].cast(pl.Date)).all()
    strategy = t["ssd_strategy_discussions"].join(referrals, left_on="strd_referral_id", right_on="cine_referral_id")
    assert (strategy["strd_strategy_date"] >= strategy["cine_referral_date"].cast(pl.Date)).all()
    icpc = t["ssd_initial_cp_conference"].join(t["ssd_s47_enquiry"], left_on="icpc_s47_enquiry_id",
                                               right_on="s47e_s47_enquiry_id")
    assert (icpc["icpc_icpc_date"] >= icpc["s47e_s47_start_date"]).all()
    target = icpc.filter(pl.col("icpc_icpc_target_date").is_not_null())
    assert (working_days(target["s47e_s47_start_date"], target["icpc_icpc_target_date"]) == 15).all()
    plans = t["ssd_cp_plans"].join(t["ssd_initial_cp_conference"], left_on="cppl_icpc_id", right_on="icpc_icpc_id")
    assert (plans["cppl_cp_plan_start_date"] == plans["icpc_icpc_date"]).all()
    assert plans["icpc_icpc_outcome_cp_flag"].all()
    transfers = t["ssd_initial_cp_conference"].filter(pl.col("icpc_icpc_transfer_in"))
    assert transfers.height > 0 and transfers["icpc_s47_enquiry_id"].null_count() == transfers.height


def test_visits_and_reviews_fall_within_their_plan_or_period(t):
    plans = t["ssd_cp_plans"].select("cppl_cp_plan_id", "cppl_cp_plan_start_date",
                                     pl.col("cppl_cp_plan_end_date").fill_null(EXTRACT).alias("plan_end"))
    for table, plan_column, day in (("ssd_cp_visits", "cppv_cp_plan_id", "cppv_cp_visit_date"),
                                    ("ssd_cp_reviews", "cppr_cp_plan_id", "cppr_cp_review_date")):
        rows = t[table].join(plans, left_on=plan_column, right_on="cppl_cp_plan_id")
        assert rows.height == t[table].height
        assert rows.filter(~pl.col(day).is_between("cppl_cp_plan_start_date", "plan_end")).height == 0, table
    periods = t["ssd_cla_episodes"].group_by("clae_cla_id").agg(
        pl.col("clae_entered_care_date").min().alias("entered"),
        pl.when(pl.col("clae_cla_episode_ceased_date").null_count() > 0).then(EXTRACT)
        .otherwise(pl.col("clae_cla_episode_ceased_date").max()).alias("left"),
    )
    for table, period_column, day in (("ssd_cla_visits", "clav_cla_id", "clav_cla_visit_date"),
                                      ("ssd_cla_reviews", "clar_cla_id", "clar_cla_review_date")):
        rows = t[table].join(periods, left_on=period_column, right_on="clae_cla_id")
        assert rows.height == t[table].height
        assert rows.filter(~pl.col(day).is_between("entered", "left")).height == 0, table
    health = t["ssd_cla_health"].join(
        t["ssd_cla_episodes"], left_on="clah_person_id", right_on="clae_person_id").filter(
        pl.col("clah_health_check_date").is_between("clae_cla_episode_start_date",
                                                    pl.col("clae_cla_episode_ceased_date").fill_null(EXTRACT)))
    assert health["clah_health_check_id"].n_unique() == t["ssd_cla_health"].height


EPISODES = [  # (table, person, start, end): one child's episodes never overlap
    ("ssd_cin_episodes", "cine_person_id", "cine_referral_date", "cine_close_date"),
    ("ssd_cp_plans", "cppl_person_id", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    ("ssd_cla_placement", "clap_person_id", "clap_cla_placement_start_date", "clap_cla_placement_end_date"),
    ("ssd_cla_episodes", "clae_person_id", "clae_cla_episode_start_date", "clae_cla_episode_ceased_date"),
    ("ssd_legal_status", "lega_person_id", "lega_legal_status_start_date", "lega_legal_status_end_date"),
    ("ssd_early_help_episodes", "earl_person_id", "earl_episode_start_date", "earl_episode_end_date"),
]


@pytest.mark.parametrize(("table", "person", "start", "end"), EPISODES, ids=[e[0] for e in EPISODES])
def test_a_childs_episodes_do_not_overlap(t, table, person, start, end):
    frame = t[table].select(person, pl.col(start).cast(pl.Date).alias("s"), pl.col(end).alias("e")).sort(person, "s")
    has_previous = pl.col("s").shift(1).over(person).is_not_null()
    previous_end = pl.col("e").shift(1).over(person)
    assert frame.filter(has_previous & (previous_end.is_null() | (pl.col("s") < previous_end))).height == 0


def test_every_child_on_a_plan_or_looked_after_has_a_worker_allocated(t):
    workers = t["ssd_involvements"].filter(open_at("invo_involvement_start_date", "invo_involvement_end_date", ME))
    on_plan = t["ssd_cp_plans"].filter(open_at("cppl_cp_plan_start_date", "cppl_cp_plan_end_date", ME))
    looked_after = t["ssd_cla_episodes"].filter(open_at("clae_cla_episode_start_date", "clae_cla_episode_ceased_date", ME))
    allocated = workers["invo_person_id"].implode()
    assert on_plan["cppl_person_id"].is_in(allocated).all()
    assert looked_after["clae_person_id"].is_in(allocated).all()
    qualified = t["ssd_professionals"]["prof_is_qualified_sw"].mean()
    assert 0.75 < qualified < 1


# --- Volumes of September 2017 (INDICATORS.md) ---------------------------------------------------------

def volumes(t) -> dict[str, tuple[float, float]]:
    """(demo, seed) per measure, at September 2017: the month, the year to date or the month end."""
    contacts = t["ssd_contacts"].filter(between("cont_contact_date", MONTH))
    referrals = t["ssd_cin_episodes"]
    cp = t["ssd_cp_plans"]
    short_breaks = t["ssd_legal_status"].filter(
        pl.col("lega_legal_status").is_in(["V3", "V4"])
        & open_at("lega_legal_status_start_date", "lega_legal_status_end_date", ME))["lega_person_id"]
    looked_after = t["ssd_cla_episodes"].filter(
        open_at("clae_cla_episode_start_date", "clae_cla_episode_ceased_date", ME))["clae_person_id"]
    looked_after = looked_after.filter(~looked_after.is_in(short_breaks.implode()))
    missing = t["ssd_missing"].filter((pl.col("miss_missing_episode_type") == "M")
                                      & between("miss_missing_episode_start_date", MONTH))
    missing = missing.join(t["ssd_cla_episodes"], left_on="miss_person_id", right_on="clae_person_id").filter(
        open_at("clae_cla_episode_start_date", "clae_cla_episode_ceased_date",
                pl.col("miss_missing_episode_start_date").cast(pl.Date)))
    latest = (t["ssd_care_leavers"].filter(pl.col("clea_care_leaver_latest_contact") <= ME)
              .sort("clea_care_leaver_latest_contact").group_by("clea_person_id").last()
              .join(t["ssd_person"], left_on="clea_person_id", right_on="pers_person_id"))
    age = ((date(2017, 9, 30).year - pl.col("pers_dob").dt.year())
           - (pl.col("pers_dob").dt.strftime("%m%d") > "0930").cast(pl.Int32))
    leavers = latest.filter(age.is_between(19, 21) & (pl.col("clea_service_end_date").is_null()
                                                      | (pl.col("clea_service_end_date") > ME)))
    people = t["ssd_person"].filter((pl.col("pers_dob") <= ME) & (pl.col("pers_dob") > date(1999, 9, 30)))
    return {
        "004 communications in month": (contacts["cont_communication_id"].n_unique(), 425),
        "004i child-contact rows in month": (contacts.height, 698),
        "004k children contacted in month": (contacts["cont_person_id"].n_unique(), 587),
        "013 referrals in month": (referrals.filter(between("cine_referral_date", MONTH)).height, 96),
        "014 referrals FYTD": (referrals.filter(between("cine_referral_date", FYTD)).height, 577),
        "035 assessments authorised FYTD": (
            t["ssd_cin_assessments"].filter(between("cina_assessment_auth_date", FYTD)).height, 576),
        "001 early help assessments FYTD": (
            t["ssd_early_help_assessments"].filter(between("eha_start_date", FYTD)).height, 783),
        "strategy discussions FYTD": (
            t["ssd_strategy_discussions"].filter(between("strd_strategy_date", FYTD)).height, 239),
        "165 S47s started FYTD": (t["ssd_s47_enquiry"].filter(between("s47e_s47_start_date", FYTD)).height, 172),
        "164 S47s ended FYTD": (t["ssd_s47_enquiry"].filter(between("s47e_s47_end_date", FYTD)).height, 161),
        "173 ICPCs FYTD": (t["ssd_initial_cp_conference"].filter(between("icpc_icpc_date", FYTD)).height, 83),
        "187 CP plans begun FYTD": (cp.filter(between("cppl_cp_plan_start_date", FYTD)).height, 70),
        "182 on a CP plan at month end": (
            cp.filter(open_at("cppl_cp_plan_start_date", "cppl_cp_plan_end_date", ME))["cppl_person_id"].n_unique(), 91),
        "201 looked after at month end": (looked_after.n_unique(), 216),
        "246 missing from care in month": (missing["miss_table_id"].n_unique(), 43),
        "286 care leavers 19-21 served": (leavers.height, 48),
        "children aged 0-17": (people.height, 22_627),
    }


def test_september_2017_volumes_are_within_a_quarter_of_the_seeds(t):
    found = volumes(t)
    for name, (value, target) in found.items():
        print(f"{name:36s} {value:8,} (seed {target:,})")
    off = {name: v for name, v in found.items() if not 0.75 * v[1] <= v[0] <= 1.25 * v[1]}
    assert not off


def test_timeliness_resembles_the_seed(t):
    fytd = t["ssd_cin_assessments"].filter(between("cina_assessment_auth_date", FYTD))
    wd = working_days(fytd["cina_assessment_start_date"], fytd["cina_assessment_auth_date"])
    for limit, seed in ((10, 0.33), (15, 0.43), (25, 0.64), (45, 0.94)):   # CSC 098, 078, 058, 038
        assert abs((wd <= limit).mean() - seed) < 0.06, limit
    completed = t["ssd_cin_episodes"].filter(between("cine_referral_completed_datetime", FYTD))
    hours = (completed["cine_referral_completed_datetime"] - completed["cine_referral_date"]).dt.total_minutes() / 60
    assert 0.90 < (hours <= 24).mean() < 0.99                                # CSC 022: 96%
    assert 0 < (hours > 72).mean() < 0.05                                    # CSC 026: 0-5%
    assert 0.85 < completed["cine_outcome_assessment"].mean() < 0.96          # CSC 015: 92%
    assert 0.02 < completed["cine_outcome_strategy"].mean() < 0.07            # CSC 018: 4%
    conferences = t["ssd_initial_cp_conference"].filter(between("icpc_icpc_date", FYTD) & ~pl.col("icpc_icpc_transfer_in"))
    conferences = conferences.join(t["ssd_s47_enquiry"], left_on="icpc_s47_enquiry_id", right_on="s47e_s47_enquiry_id")
    assert (working_days(conferences["s47e_s47_start_date"], conferences["icpc_icpc_date"]) <= 15).mean() > 0.9  # CSC 176


def test_re_referrals_within_12_months_are_about_a_quarter(t):
    referrals = t["ssd_cin_episodes"].select("cine_referral_id", "cine_person_id",
                                             pl.col("cine_referral_date").cast(pl.Date).alias("day"), "cine_close_date")
    fytd = referrals.filter(pl.col("day").is_between(*FYTD))
    earlier = fytd.join(referrals, on="cine_person_id", suffix="_prev").filter(
        (pl.col("cine_close_date_prev") < pl.col("day"))
        & (pl.col("cine_close_date_prev") >= pl.col("day").dt.offset_by("-12mo")))
    share = earlier["cine_referral_id"].n_unique() / fytd.height             # CSC 032: 133/577 = 23%
    assert 0.15 < share < 0.32


def test_visit_timeliness_has_the_seeds_imperfections(t):
    cal = busday_calendar()
    visits = t["ssd_cp_visits"].join(t["ssd_cp_plans"], left_on="cppv_cp_plan_id", right_on="cppl_cp_plan_id").sort(
        "cppv_cp_plan_id", "cppv_cp_visit_date").with_columns(
        pl.col("cppv_cp_visit_date").shift(1).over("cppv_cp_plan_id").fill_null(pl.col("cppl_cp_plan_start_date"))
        .alias("previous"))
    visits = visits.filter(pl.col("previous") >= date(2014, 4, 1))
    due = np.busday_offset(visits["previous"].to_numpy(), 10, roll="backward", busdaycal=cal)
    in_time = visits["cppv_cp_visit_date"].to_numpy() <= due
    assert 0.80 < in_time.mean() < 0.95                                       # CSC 252b: 88%
    cla = t["ssd_cla_visits"].sort("clav_cla_id", "clav_cla_visit_date").with_columns(
        pl.col("clav_cla_visit_date").shift(1).over("clav_cla_id").alias("previous")).drop_nulls("previous")
    cla = cla.join(t["ssd_cla_placement"], left_on="clav_cla_id", right_on="clap_cla_id").filter(
        open_at("clap_cla_placement_start_date", "clap_cla_placement_end_date", pl.col("clav_cla_visit_date"))
        & (pl.col("previous") >= pl.col("clap_cla_placement_start_date")))
    gap = (cla["clav_cla_visit_date"] - cla["previous"]).dt.total_days()
    assert 0.88 < (gap <= cla["clap_visit_frequency_days"]).mean() < 0.99     # CSC 260b: 94%
    reviews = t["ssd_cla_reviews"].filter(~pl.col("clar_cla_review_cancelled"))
    late = (reviews["clar_cla_review_date"] > reviews["clar_cla_review_due_date"]).mean()
    assert 0 < late < 0.05                                                   # CSC 218: near 100%
    assert t["ssd_cla_reviews"]["clar_cla_review_cancelled"].any()
    cp_reviews = t["ssd_cp_reviews"]
    assert 0 < (cp_reviews["cppr_cp_review_date"] > cp_reviews["cppr_cp_review_due"]).mean() < 0.05   # CSC 191


def test_looked_after_children_resemble_the_seed(t):
    placements = t["ssd_cla_placement"].filter(open_at("clap_cla_placement_start_date", "clap_cla_placement_end_date", ME))
    adoption = placements["clap_cla_placement_type"].is_in(["A3", "A4", "A5", "A6"])
    assert 0 < adoption.mean() < 0.08                                         # CSC 230: 7 of 216
    far = placements.filter(~adoption)["clap_cla_placement_distance"] > 20
    assert 0.04 < far.mean() < 0.16                                           # CSC 230: 19/209
    assert set(t["ssd_cla_placement"]["clap_visit_frequency_days"].unique()) == {7, 28, 42, 91}
    window = t["ssd_cla_placement"].filter((pl.col("clap_cla_placement_start_date") <= ME)
                                           & (pl.col("clap_cla_placement_end_date").is_null()
                                              | (pl.col("clap_cla_placement_end_date") > date(2016, 9, 30))))
    moves = window.filter(pl.col("clap_person_id").is_in(placements["clap_person_id"].implode())).group_by(
        "clap_person_id").len()
    assert 0.05 < (moves["len"] >= 3).sum() / placements.height < 0.2      # CSC 228: 26/216
    statuses = set(t["ssd_legal_status"]["lega_legal_status"])
    assert {"C1", "C2", "V2", "V3", "V4", "E1"} <= statuses
    checks = t["ssd_cla_health"]
    assert set(checks["clah_health_check_type"]) == {"IHA", "HEALTH", "DENTAL"}
    leavers = t["ssd_care_leavers"]
    assert 0.9 < (leavers["clea_care_leaver_accom_suitable"] == "1").mean() < 0.99   # CSC 286: 46/48
    assert 0.2 < leavers["clea_care_leaver_activity"].is_in(["G4", "G5", "G6"]).mean() < 0.4   # CSC 294: 29%
    assert leavers["clea_service_end_date"].null_count() > 0


def test_a_few_long_and_repeat_plans(t):
    plans = t["ssd_cp_plans"]
    ended = plans.filter(pl.col("cppl_cp_plan_end_date").is_not_null())
    length = (ended["cppl_cp_plan_end_date"] - ended["cppl_cp_plan_start_date"]).dt.total_days()
    assert 0 < (length >= 730).mean() < 0.06                                  # CSC 186: England 3.7%
    assert 0.5 < ((length >= 90) & (length <= 550)).mean()                    # mostly 3-18 months
    repeats = plans.group_by("cppl_person_id").len().filter(pl.col("len") > 1)
    assert 0 < repeats.height < plans["cppl_person_id"].n_unique() * 0.15
    contacted = t["ssd_contacts"].filter(between("cont_contact_date", MONTH))
    open_help = contacted.join(t["ssd_early_help_episodes"], left_on="cont_person_id", right_on="earl_person_id").filter(
        open_at("earl_episode_start_date", "earl_episode_end_date", pl.col("cont_contact_date").cast(pl.Date)))
    share = open_help["cont_person_id"].n_unique() / contacted["cont_person_id"].n_unique()
    assert 0.01 < share < 0.08                                               # CSC 004s: 27/706


# --- Determinism and scale -----------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_tables_and_another_seed_others(t):
    again = demo.generate()
    assert all(again[name].equals(frame) for name, frame in t.items())
    other = demo.generate(seed=1)
    assert not other["ssd_cin_episodes"].equals(t["ssd_cin_episodes"])
    assert not other["ssd_person"].equals(t["ssd_person"])


def test_scale_multiplies_every_volume(t):
    double = demo.generate(scale=2)
    assert double["ref_population"]["population"].to_list() == [2 * p for p in t["ref_population"]["population"]]
    assert double["ref_benchmarks"].equals(t["ref_benchmarks"])
    for name, frame in t.items():
        if name.startswith("ref_") or frame.height < 500:
            continue
        assert 1.5 < double[name].height / frame.height < 2.6, name
    people = double["ssd_person"]["pers_person_id"]
    assert double["ssd_contacts"]["cont_person_id"].is_in(people.implode()).all()


def test_scale_must_be_a_positive_whole_number():
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError):
            demo.generate(scale=bad)
