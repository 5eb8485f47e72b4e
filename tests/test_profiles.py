"""Source profiles (kpi/profiles/, profiles/*.yaml): value maps, outcome flags on invalid JSON, null
markers and placeholder dates, absent columns, overrides from kpi.toml, bad profile files, and the
commands that show them (`kpi sources`, `kpi coverage`)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi import profiles
from tests.conftest import REPO
from tests.ssd_dialects import HEADERS

V3 = "Accommodated under an agreed series of short-term breaks, when individual episodes of care are recorded"


def make_project(tmp_path: Path, toml: str = "", own_profiles: dict[str, str] | None = None) -> Path:
    """A project with the bundled indicators and queries, a kpi.toml and profiles of its own."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "indicators", root / "indicators")
    shutil.copytree(REPO / "queries", root / "queries")
    # The rows these tests write end months before the period computed: say when the extract was taken.
    (root / "kpi.toml").write_text("extract_date = 2017-10-05\n" + toml)
    for name, text in (own_profiles or {}).items():
        (root / "profiles").mkdir(exist_ok=True)
        (root / "profiles" / f"{name}.yaml").write_text(text)
    return root


def write_table(folder: Path, table: str, rows: list[dict], cms: str = "systemc") -> None:
    """One table as the CMS writes it: its header, NULL for what a row does not give, BOM and CRLF."""
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADERS[cms][table].split(",")
    with open(folder / f"{table}.csv", "w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "NULL") for c in header])


def looked_after(folder: Path, statuses: list[str]) -> Path:
    """Children in care on 30 September 2017, one per legal status given."""
    episodes, legal = [], []
    for n, status in enumerate(statuses, start=1):
        episodes.append({"clae_cla_episode_id": f"E{n}", "clae_person_id": f"P{n}", "clae_cla_id": f"C{n}",
                         "clae_cla_episode_start_date": "01/06/2017 00:00", "clae_cla_episode_ceased_date": "NULL",
                         "clae_entered_care_date": "01/01/1900 00:00"})
        legal.append({"lega_legal_status_id": f"L{n}", "lega_person_id": f"P{n}", "lega_legal_status": status,
                      "lega_legal_status_start_date": "01/06/2017 00:00"})
    write_table(folder, "ssd_cla_episodes", episodes)
    write_table(folder, "ssd_legal_status", legal)
    write_table(folder, "ssd_cla_placement", [])  # the looked-after cohort reads placements (for adoption)
    return folder


def looked_after_count(kpi, project: Path, data: Path, *extra: str) -> tuple[float, dict, str]:
    result = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--indicators", "CSC 201",
                 "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    scorecard = json.loads(result.stdout)
    # These few rows begin in June 2017, so the history months before are only partly covered: that
    # warning (tests/test_damaged_extracts.py) is not what these tests are about.
    scorecard["warnings"] = [w for w in scorecard["warnings"] if not w.startswith("the data start on")]
    stderr = "\n".join(line for line in result.stderr.splitlines() if "the data start on" not in line)
    return scorecard["indicators"][0]["value"], scorecard, stderr


# --- value maps -------------------------------------------------------------------------------------

def _mapped(values: list[str], codes: dict) -> list:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    return [row[0] for row in con.execute(f"SELECT {profiles.map_sql('v', codes)} FROM t ORDER BY rowid").fetchall()]


LEGAL = {"V3": (V3,), "V4": ("Short breaks, agreements recorded",), "C2": ("Full care order",)}


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(sorted(LEGAL)), form=st.sampled_from(["code", "description", "prefixed", "bracketed"]),
       upper=st.booleans(), spaces=st.integers(1, 3))
def test_a_code_is_read_as_the_code_the_description_or_either_with_the_other(code, form, upper, spaces):
    description = LEGAL[code][0]
    text = {"code": code, "description": description, "prefixed": f"{code} - {description}",
            "bracketed": f"{description} ({code})"}[form]
    text = (" " * spaces).join(text.split(" "))
    text = text.upper() if upper else text.lower()
    assert _mapped([f"  {text} "], LEGAL) == [code]


def test_values_no_map_knows_are_not_given_a_code():
    assert _mapped(["V33", "Short breaks", "V3X - something", "C", "", None], LEGAL) == [None] * 6


def test_a_description_under_two_codes_is_an_error(kpi, tmp_path):
    project = make_project(tmp_path, 'source = "mine"\n', {"mine": "description: mine\nvalue_maps:\n  ssd_legal_status:\n"
                                                                  "    lega_legal_status: {V3: [Short breaks], V4: [short  BREAKS]}\n"})
    result = kpi("coverage", "--project", project)
    assert result.exit_code == 2
    assert "'short  BREAKS' means both V3 and V4" in result.stderr


# --- outcome flags ------------------------------------------------------------------------------------

def _flags(values: list[str | None], flag: profiles.Flag) -> list:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (j VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    return [row[0] for row in con.execute(f"SELECT {profiles.flag_sql('j', flag)} FROM t ORDER BY rowid").fetchall()]


def test_json_flags_are_read_from_valid_unescaped_cut_and_prefixed_json():
    flag = profiles.Flag("j", json_keys=("OUTCOME_SINGLE_ASSESSMENT_FLAG", "SINGLE_ASSESSMENT_FLAG"))
    values = [
        '{"SINGLE_ASSESSMENT_FLAG": "Y", "COMMENTS": ""}',
        '{"SINGLE_ASSESSMENT_FLAG": "N", "COMMENTS": "mum said "no"\nagain"}',            # unescaped
        '{"STRATEGY_DISCUSSION_FLAG": "N", "SINGLE_ASSESSMENT_FLAG": "Y", "COMMENTS": "long no',  # cut at 4,000
        '{"OUTCOME_SINGLE_ASSESSMENT_FLAG" : "Y", "OTHER_OUTCOMES_EXIST_FLAG" : "N"}',        # Eclipse
        '{"SINGLE_ASSESSMENT_FLAG": "true"}',
        '{"SINGLE_ASSESSMENT_FLAG": ""}',                                                     # not recorded
        '{"STRATEGY_DISCUSSION_FLAG": "Y"}',                                                  # key absent
        None,
        "not json at all",
    ]
    assert _flags(values, flag) == ["Y", "N", "Y", "Y", "Y", None, None, None, None]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_a_json_flag_never_fails_whatever_the_text(text):
    assert _flags([text], profiles.Flag("j", json_keys=("NEW_REFERRAL_FLAG",)))[0] in ("Y", "N", None)


def test_list_flags_find_a_step_among_descriptions():
    flag = profiles.Flag("j", list_items=("Strategy Discussion",))
    assert _flags(["Child and Family Assessment, strategy  discussion", "Strategy Discussion Outcome", "NFA", None], flag) == ["Y", "N", "N", None]


# --- null markers, placeholder dates, renames, absent columns ----------------------------------------------

def test_null_markers_and_1900_dates_read_as_empty_and_descriptions_as_codes(kpi, tmp_path):
    project = make_project(tmp_path)
    data = looked_after(tmp_path / "data", [V3, "C2 - Full care order", "FULL CARE ORDER"])
    value, scorecard, stderr = looked_after_count(kpi, project, data, "--source", "ssd-systemc")
    assert value == 2  # the child on short breaks is not looked after; NULL and 1900-01-01 are no dates
    assert scorecard["warnings"] == [] and "warning" not in stderr
    # read as the canonical profile, the same file does not load: NULL is not a date
    plain = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--indicators", "CSC 201")
    assert plain.exit_code == 2 and "'NULL' is not a date" in plain.stderr


def test_an_unmapped_legal_status_is_a_warning_naming_table_column_value_and_rows(kpi, tmp_path):
    project = make_project(tmp_path)
    data = looked_after(tmp_path / "data", [V3, "Short break (local)", "Short break (local)", "C2"])
    value, scorecard, stderr = looked_after_count(kpi, project, data, "--source", "ssd-systemc")
    assert value == 3
    assert len(scorecard["warnings"]) == 1
    warning = scorecard["warnings"][0]
    assert warning.startswith("ssd_legal_status.lega_legal_status: 2 rows")
    assert "'Short break (local)' (2 rows)" in warning and "[profile.value_maps.ssd_legal_status.lega_legal_status]" in warning
    assert f"warning: {warning}" in stderr
    checked = kpi("check-data", "--project", project, "--data", data, "--source", "ssd-systemc")
    assert checked.exit_code == 0
    assert "2 row(s): `lega_legal_status` holds 'Short break (local)', which the source profile ssd-systemc does not map [unmapped-value]" in checked.stdout


def _docs_toml() -> str:
    text = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    return re.search(r"```toml\n(.*?)```", text, re.S).group(1)


def test_the_councils_own_value_map_in_the_docs_works_from_kpi_toml(kpi, tmp_path):
    project = make_project(tmp_path, _docs_toml())
    data = looked_after(tmp_path / "data", [V3, "Short break (local)", "Short break (local)", "C2"])
    value, scorecard, _ = looked_after_count(kpi, project, data)  # source = "ssd-systemc" in kpi.toml
    assert value == 1 and scorecard["warnings"] == []
    sources = kpi("sources", "--project", project)
    assert "ssd-systemc (default)" in sources.stdout


def test_an_absent_extension_column_blocks_only_the_indicators_whose_numbers_read_it(kpi, tmp_path):
    project = make_project(tmp_path)
    data = looked_after(tmp_path / "data", ["C2"])
    write_table(data, "ssd_cla_placement", [{"clap_cla_placement_id": "PL1", "clap_cla_id": "C1", "clap_person_id": "P1",
                                             "clap_cla_placement_start_date": "01/06/2017 00:00", "clap_cla_placement_type": "U1"}])
    write_table(data, "ssd_cla_visits", [{"clav_cla_visit_id": "V1", "clav_cla_id": "C1", "clav_person_id": "P1",
                                          "clav_cla_visit_date": "01/07/2017 00:00", "clav_cla_visit_seen": "Y"}])
    result = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--source", "ssd-systemc",
                 "--indicators", "CSC 201,CSC 228,CSC 260a", "--format", "json")
    assert result.exit_code == 1
    rows = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert rows["CSC 201"]["error"] is None and rows["CSC 228"]["error"] is None  # cla_placements is read, not the column
    assert "ssd_cla_placement.clap_visit_frequency_days" in rows["CSC 260a"]["error"]
    assert rows["CSC 260a"]["value"] is None
    assert "1 indicator(s) failed: CSC 260a" in result.stderr


def test_a_missing_canonical_column_is_still_an_error(kpi, tmp_path):
    project = make_project(tmp_path)
    data = looked_after(tmp_path / "data", ["C2"])
    path = data / "ssd_legal_status.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace("lega_legal_status_start_date", "lega_start"), encoding="utf-8")
    result = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--indicators", "CSC 201", "--source", "ssd-systemc")
    assert result.exit_code == 2 and "has no column `lega_legal_status_start_date`" in result.stderr


def test_keeping_no_rows_at_all_is_a_warning(kpi, tmp_path):
    project = make_project(tmp_path)
    data = tmp_path / "data"
    write_table(data, "ssd_involvements", [{"invo_involvements_id": "I1", "invo_professional_id": "W1", "invo_professional_role_id": "SW",
                                            "invo_person_id": "P1", "invo_involvement_start_date": "01/06/2017 00:00"}])
    write_table(data, "ssd_professionals", [{"prof_professional_id": "W1", "prof_social_worker_registration_no": "SW123"}])
    write_table(data, "ssd_cp_plans", [{"cppl_cp_plan_id": "CP1", "cppl_person_id": "P1", "cppl_cp_plan_start_date": "01/06/2017 00:00"}])
    result = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--source", "ssd-systemc",
                 "--indicators", "CSC 183", "--format", "json")
    assert "ssd_involvements: no row has invo_professional_role_id CW" in result.stderr
    assert json.loads(result.stdout)["indicators"][0]["value"] == 0


# --- profile files and overrides -------------------------------------------------------------------------

def test_a_bad_profile_file_names_the_file_line_and_key(kpi, tmp_path):
    project = make_project(tmp_path, own_profiles={"mine": "description: mine\nvalue_maps:\n  ssd_legal_status:\n"
                                                           "    lega_legal_status: {V3: Short breaks}\nflagz: {}\n"})
    result = kpi("compute", "--project", project, "--period", "2017-09", "--source", "mine", "--data", tmp_path)
    assert result.exit_code == 2
    assert "the source profile profiles/mine.yaml is not valid" in result.stderr.replace(str(project) + "/", "")
    assert re.search(r"mine\.yaml:4:\d+: error: `value_maps\.ssd_legal_status\.lega_legal_status\.V3` must be a list, not 'Short breaks'", result.stderr)
    assert re.search(r"mine\.yaml:5:1: error: unknown key `flagz` \(did you mean `flags`\?\)", result.stderr)
    assert "Traceback" not in result.stderr


def test_a_profile_naming_a_column_the_tables_lack_is_an_error(kpi, tmp_path):
    project = make_project(tmp_path, own_profiles={"mine": "description: mine\nextends: ssd-systemc\n"
                                                           "renames: {ssd_cla_reviews: {clar_cla_person_id: clar_persn_id}}\n"})
    result = kpi("sources", "--project", project)
    assert result.exit_code == 2
    assert "a rename names ssd_cla_reviews.clar_persn_id, which is not a column of the canonical table" in result.stderr


def test_bad_overrides_in_kpi_toml_name_the_key(kpi, tmp_path):
    project = make_project(tmp_path, 'source = "ssd-systemc"\n[profile]\nnull_markers = "NULL"\n')
    result = kpi("coverage", "--project", project)
    assert result.exit_code == 2
    assert "kpi.toml [profile]: error: `null_markers` must be a list, not 'NULL'" in result.stderr


def test_an_unknown_source_lists_the_profiles(kpi, tmp_path):
    result = kpi("coverage", "--source", "ssd-liquidlogic")
    assert result.exit_code == 2
    assert "there is no source profile 'ssd-liquidlogic': choose one of annex-a, cin-census, ssd, ssd-eclipse, ssd-mosaic, ssd-systemc, ssda903" in result.stderr


def test_overrides_extend_value_maps_and_replace_the_rest():
    base = {"null_markers": ["NULL"], "value_maps": {"t": {"c": {"V3": ["a"], "V4": ["b"]}}}}
    merged = profiles.merge(base, {"null_markers": ["-"], "value_maps": {"t": {"c": {"V3": ["x", "a"]}}}})
    assert merged == {"null_markers": ["-"], "value_maps": {"t": {"c": {"V3": ["a", "x"], "V4": ["b"]}}}}


# --- kpi sources, kpi coverage ------------------------------------------------------------------------------

def test_sources_lists_every_profile_and_what_it_maps(kpi):
    result = kpi("sources")
    assert result.exit_code == 0
    names = re.findall(r"^(\S+?)(?: \(default\))?:", result.stdout, re.M)
    assert names == ["annex-a", "cin-census", "ssd", "ssd-eclipse", "ssd-mosaic", "ssd-systemc", "ssda903"]  # the returns are profiles too
    assert "renamed: ssd_cla_reviews.clar_cla_person_id → clar_person_id" in result.stdout
    assert "derived: ssd_cp_visits.cppv_person_id from ssd_cp_plans.cppl_person_id where cppl_cp_plan_id = cppv_cp_plan_id" in result.stdout


def test_coverage_from_the_profile_alone(kpi):
    result = kpi("coverage", "--source", "ssd-systemc")
    assert result.exit_code == 0
    rows = {i: (c, why) for i, c, why in re.findall(r"^(CSC \S+)\s+(yes|no)\s+(.*)$", result.stdout, re.M)}
    assert rows["CSC 013"][0] == "yes"  # reads the referrals view, not its completion time
    assert rows["CSC 022"] == ("no", "needs ssd_cin_episodes.cine_referral_completed_datetime")
    assert rows["CSC 001"] == ("no", "needs the table ssd_early_help_assessments")
    assert "37 of 51 indicator(s) computable from source ssd-systemc" in result.stderr
    assert "51 of 51" in kpi("coverage").stderr


def test_no_row_meaning_a_code_the_indicators_count_is_a_warning(kpi, tmp_path):
    project = make_project(tmp_path)
    data = looked_after(tmp_path / "data", ["C2"])
    write_table(data, "ssd_cla_health", [
        {"clah_health_check_id": "H1", "clah_person_id": "P1", "clah_health_check_type": "Health Assessment", "clah_health_check_date": "05/06/2017 00:00"},
        {"clah_health_check_id": "H2", "clah_person_id": "P1", "clah_health_check_type": "Dental Check", "clah_health_check_date": "05/07/2017 00:00"},
    ])
    result = kpi("compute", "--project", project, "--data", data, "--period", "2017-09", "--source", "ssd-systemc",
                 "--indicators", "CSC 247", "--format", "json")
    warnings = [w for w in json.loads(result.stdout)["warnings"] if not w.startswith("the data start on")]
    assert warnings == ["ssd_cla_health.clah_health_check_type: none of its 2 rows means IHA, so the indicators that count IHA count none: "
                        "if your system has another description for it, add it under [profile.value_maps.ssd_cla_health.clah_health_check_type] in kpi.toml"]


def test_a_profile_that_is_not_yaml_names_the_line(kpi, tmp_path):
    project = make_project(tmp_path, own_profiles={"mine": "description: mine\nvalue_maps: {ssd_legal_status: [\n"})
    result = kpi("compute", "--project", project, "--period", "2017-09", "--source", "mine", "--data", tmp_path)
    assert result.exit_code == 2
    assert re.search(r"mine\.yaml:3:\d+: error: the file is not valid YAML", result.stderr) and "Traceback" not in result.stderr


def test_a_councils_own_profile_extends_a_bundled_one(kpi, tmp_path):
    project = make_project(tmp_path, own_profiles={"northtown": "description: Northtown's SystemC extract\nextends: ssd-systemc\n"
                                                                "value_maps:\n  ssd_legal_status:\n    lega_legal_status: {V4: [Short break (local)]}\n"})
    data = looked_after(tmp_path / "data", [V3, "Short break (local)", "C2"])
    value, scorecard, _ = looked_after_count(kpi, project, data, "--source", "northtown")
    assert value == 1 and scorecard["warnings"] == []
    listed = kpi("sources", "--project", project).stdout
    assert "northtown: Northtown's SystemC extract" in listed and "ssd-systemc:" in listed


def test_overrides_belong_to_the_source_kpi_toml_names(kpi, tmp_path):
    project = make_project(tmp_path, _docs_toml())  # source = "ssd-systemc", with its own V4 description
    data = looked_after(tmp_path / "data", [V3, "Short break (local)", "C2"])
    value, scorecard, _ = looked_after_count(kpi, project, data, "--source", "ssd-eclipse")
    assert value == 2 and "'Short break (local)'" in scorecard["warnings"][0]  # not ssd-systemc's override
