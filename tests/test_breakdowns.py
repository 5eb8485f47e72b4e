"""Breakdowns (`kpi compute --by`): dimensions declared once in queries/, joined to every indicator's
rows by the child and a date; the groups add up to the total, with a `(none)` group; what cannot be
broken down says so in its row; an unknown dimension is a usage error. See docs/breakdowns.md.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.config import open_project
from kpi.extracts import load_rows
from kpi.pipeline import load_definitions
from kpi.plan import dimensions, plan_indicator
from kpi.run import NO_GROUP, run_indicator
from kpi.testing import open_case_database
from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, REPO, scorecard_csv

BUNDLED = load_definitions(open_project(REPO))
DIMENSIONS = dimensions(list(BUNDLED.shared), BUNDLED.tables)
SEPTEMBER = date(2017, 9, 1)


def indicator(indicator_id: str):
    return next(i for i in BUNDLED.indicators if i.id == indicator_id)


def row(scorecard, indicator_id):
    return next(i for i in scorecard["indicators"] if i["id"] == indicator_id)


def test_the_dimensions_are_declared_in_queries():
    assert set(DIMENSIONS) == {"team", "worker", "age_band", "sex", "ethnicity", "legal_status", "placement_type"}
    assert all(d.file.endswith("dimensions.sql") for d in DIMENSIONS.values())
    assert DIMENSIONS["team"].tables == {"ssd_involvements", "ssd_cin_episodes"}
    assert DIMENSIONS["placement_type"].tables == {"ssd_cla_placement"}  # through the cla_placements view


def test_an_unknown_dimension_is_a_usage_error_listing_those_there_are(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--by", "team,colour")
    assert result.exit_code == 2
    assert "there is no dimension 'colour'" in result.stderr
    assert "age_band, ethnicity, legal_status, placement_type, sex, team, worker" in result.stderr


def test_a_name_that_is_not_a_dimension_name_is_a_usage_error(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--period", "2017-09", "--by", "team; drop")
    assert result.exit_code == 2 and "is not a dimension name" in result.stderr


def test_a_dimension_whose_tables_are_not_in_the_data_says_so_in_each_row(kpi):
    # the fixture extracts have no ssd_person: no indicator can be broken down by sex, and none fails
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--by", "sex", "--indicators", "TST 001,TST 002", "--format", "json")
    assert result.exit_code == 0, result.stderr
    scorecard = json.loads(result.stdout)
    for indicator_id in ("TST 001", "TST 002"):
        assert row(scorecard, indicator_id)["breakdowns"]["sex"] == {
            "error": "the sex dimension reads ssd_person, which has no rows in these data", "groups": []}
    assert "2 indicator(s) not broken down by sex (each row says why): TST 001, TST 002" in result.stderr


def test_a_breakdown_error_is_in_the_csv_and_under_the_table(kpi):
    args = ("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--by", "team,sex",
            "--indicators", "TST 001")
    rows = scorecard_csv(kpi(*args, "--format", "csv").stdout)
    assert rows[0]["breakdown_error"] == "sex: the sex dimension reads ssd_person, which has no rows in these data"
    assert all(r["breakdown_error"] == "" for r in rows[1:])
    table = kpi(*args, "--format", "table").stdout
    assert "TST 001: not by sex: the sex dimension reads ssd_person, which has no rows in these data" in table
    assert "team Team A" in table


def shown_groups(tmp_path) -> Path:
    """A project of the bundled indicators whose breakdowns withhold no small group (to add them up)."""
    (tmp_path / "kpi.toml").write_text("include_bundled_indicators = true\nbreakdown_suppress_below = 0\n")
    return tmp_path


def test_the_demo_council_breaks_every_indicator_with_a_child_down_by_team(kpi, tmp_path):
    scorecard = kpi.json("compute", "--project", shown_groups(tmp_path), "--period", "2017-09", "--by", "team",
                         "--indicators", "CSC 004,CSC 013,CSC 183,CSC 014")
    # CSC 004 counts communications, about one child or several: no child to find a team for
    assert "no child to find it for" in row(scorecard, "CSC 004")["breakdowns"]["team"]["error"]
    # CSC 014 is a rate per 10,000: its population has no teams, so no group has a rate of its own
    assert "so its groups would have no denominator of their own" in row(scorecard, "CSC 014")["breakdowns"]["team"]["error"]
    assert row(scorecard, "CSC 014")["breakdowns"]["team"]["groups"] == []
    for indicator_id in ("CSC 013", "CSC 183"):
        result = row(scorecard, indicator_id)
        groups = result["breakdowns"]["team"]["groups"]
        assert result["breakdowns"]["team"]["error"] is None and len(groups) > 1
        assert sum(g["numerator"] for g in groups) == result["numerator"]  # the sum rule
        if result["unit"] == "percent":
            assert sum(g["denominator"] for g in groups) == result["denominator"]


def test_breakdowns_leave_the_scorecard_as_it_was(kpi):
    # every indicator: a group withheld for its small numbers (breakdown_suppress_below) never withholds
    # a total that kpi.toml's suppress_below lets be shown; the groups are withheld instead
    plain = kpi.json("compute", "--period", "2017-09")
    broken_down = kpi.json("compute", "--period", "2017-09", "--by", "team,ethnicity,legal_status")
    for result in broken_down["indicators"]:
        result.pop("breakdowns")
    assert broken_down == plain


EXTRACTS_WITH_TEAMS = {
    "ssd_person.csv": "pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_death_date\nP1,F,WBRI,2010-05-01,\nP2,M,ABAN,2017-01-15,\n",
    "ssd_involvements.csv": ("invo_involvements_id,invo_person_id,invo_professional_id,invo_professional_role_id,"
                             "invo_professional_team,invo_involvement_start_date,invo_involvement_end_date\n"
                             "I1,P1,W7,SW,Team East,2017-01-01,\n"
                             "I2,P2,W8,SW,Team West,2017-01-01,2017-09-15\n"),
}


def test_the_own_column_comes_before_the_join_and_the_child_is_found_by_its_name(kpi, tmp_path):
    extracts = tmp_path / "extracts"
    shutil.copytree(FIXTURE_EXTRACTS, extracts)
    for name, text in EXTRACTS_WITH_TEAMS.items():
        (extracts / name).write_text(text)
    scorecard = kpi.json("compute", "--project", FIXTURE_PROJECT, "--data", extracts, "--period", "2017-09",
                         "--by", "team,worker,sex", "--indicators", "TST 001")
    breakdowns = row(scorecard, "TST 001")["breakdowns"]
    # TST 001 returns `r.cine_referral_team AS team`: its own column; the worker and sex through cine_person_id
    assert [g["group"] for g in breakdowns["team"]["groups"]] == ["Team A", "Team B"]
    workers = {g["group"]: g["numerator"] for g in breakdowns["worker"]["groups"]}
    sexes = {g["group"]: g["numerator"] for g in breakdowns["sex"]["groups"]}
    assert sum(workers.values()) == sum(sexes.values()) == row(scorecard, "TST 001")["numerator"] == 3
    assert sexes == {"F": 1, "M": 1, NO_GROUP: 1}  # R3's child P3 has no person record
    assert workers["W7"] == 1  # P1, allocated to W7 on 30 September; P2's allocation ended on the 15th


# The sum rule, on many small councils: children with and without allocations (open, ended, several at
# once), referrals in and out of the months.
DAY = st.integers(0, 400).map(lambda n: date(2016, 9, 1) + timedelta(days=n))
CHILDREN = [f"P{n}" for n in range(1, 7)]


@st.composite
def councils(draw):
    involvements = []
    for number in range(draw(st.integers(0, 8))):
        start = draw(DAY)
        end = draw(st.one_of(st.none(), st.integers(0, 200).map(lambda n: start + timedelta(days=n))))
        involvements.append({
            "invo_involvements_id": f"I{number}", "invo_person_id": draw(st.sampled_from(CHILDREN)),
            "invo_professional_id": draw(st.sampled_from(["W1", "W2", "W3"])),
            "invo_professional_team": draw(st.sampled_from(["Team 1", "Team 2", "Team 10", None])),
            "invo_involvement_start_date": start.isoformat(), "invo_involvement_end_date": end and end.isoformat(),
        })
    referrals = [{
        "cine_referral_id": f"R{number}", "cine_person_id": draw(st.sampled_from(CHILDREN)),
        "cine_referral_date": draw(DAY).isoformat(), "cine_referral_team": draw(st.sampled_from(["Team 2", None])),
    } for number in range(draw(st.integers(0, 12)))]
    people = [{"pers_person_id": child, "pers_sex": draw(st.sampled_from(["F", "M", None])),
               "pers_dob": draw(st.one_of(st.none(), DAY.map(lambda d: d.replace(year=d.year - 12))))}
              for child in CHILDREN if draw(st.booleans())]
    return {"ssd_involvements": involvements, "ssd_cin_episodes": referrals, "ssd_person": people}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(council=councils(), indicator_id=st.sampled_from(["CSC 013", "CSC 032"]),
       names=st.lists(st.sampled_from(["team", "worker", "age_band", "sex"]), min_size=1, max_size=2, unique=True))
def test_the_groups_add_up_to_the_total(council, indicator_id, names):
    con, problems = open_case_database(BUNDLED.tables, list(BUNDLED.shared))
    assert not problems
    try:
        for table, rows in council.items():
            assert not load_rows(con, BUNDLED.tables[table], rows, "test")
        chosen = indicator(indicator_id)
        months = [date(2017, m, 1) for m in range(4, 10)]
        plan = plan_indicator(chosen, months, list(BUNDLED.shared), BUNDLED.tables)
        counts = run_indicator(con, plan, tuple(DIMENSIONS[n] for n in names))
    finally:
        con.close()
    assert counts.error is None and not counts.breakdown_errors
    for name in names:
        groups = counts.breakdowns[name]
        assert list(groups) == sorted(groups, key=lambda g: (g == NO_GROUP, [int(t) if t.isdigit() else t for t in g.split(" ")]))
        for month in months:
            assert sum(g.numerator.get(month, 0) for g in groups.values()) == counts.numerator.get(month, 0)
            if chosen.unit == "percent":
                assert sum(g.denominator.get(month, 0) for g in groups.values()) == counts.denominator.get(month, 0)


def test_each_child_is_in_the_team_open_on_the_date_else_none():
    """CSC 013 counts referrals by the child's team on the referral date: the allocation open that day
    (the one that began latest), else the open CIN episode's team, else `(none)`."""
    council = {
        "ssd_cin_episodes": [
            {"cine_referral_id": "R1", "cine_person_id": "P1", "cine_referral_date": "2017-09-10"},
            {"cine_referral_id": "R2", "cine_person_id": "P2", "cine_referral_date": "2017-09-11", "cine_referral_team": "Front Door"},
            {"cine_referral_id": "R3", "cine_person_id": "P3", "cine_referral_date": "2017-09-12"},
            {"cine_referral_id": "R4", "cine_person_id": "P4", "cine_referral_date": "2017-09-13"},
        ],
        "ssd_involvements": [
            {"invo_involvements_id": "I1", "invo_person_id": "P1", "invo_professional_team": "Team 1",
             "invo_involvement_start_date": "2017-01-01"},
            {"invo_involvements_id": "I2", "invo_person_id": "P1", "invo_professional_team": "Team 2",
             "invo_involvement_start_date": "2017-06-01"},  # both open: the later wins
            {"invo_involvements_id": "I3", "invo_person_id": "P3", "invo_professional_team": "Team 1",
             "invo_involvement_start_date": "2017-01-01", "invo_involvement_end_date": "2017-09-12"},  # ended that day
            {"invo_involvements_id": "I4", "invo_person_id": "P4", "invo_professional_team": "Team 1",
             "invo_involvement_start_date": "2017-09-14"},  # not yet
        ],
    }
    con, _ = open_case_database(BUNDLED.tables, list(BUNDLED.shared))
    try:
        for table, rows in council.items():
            load_rows(con, BUNDLED.tables[table], rows, "test")
        plan = plan_indicator(indicator("CSC 013"), [SEPTEMBER], list(BUNDLED.shared), BUNDLED.tables)
        counts = run_indicator(con, plan, (DIMENSIONS["team"],))
    finally:
        con.close()
    assert {name: g.numerator[SEPTEMBER] for name, g in counts.breakdowns["team"].items()} == {
        "Front Door": 1, "Team 2": 1, NO_GROUP: 2}


def test_the_csv_columns_are_those_cli_md_lists(kpi):
    text = (REPO / "docs" / "cli.md").read_text()
    paragraph = text[text.index("**The CSV's columns**"):]
    paragraph = paragraph[:paragraph.index("\n- ")]
    documented = {name.strip() for quoted in paragraph.split("`")[1::2] for name in quoted.split(",")}
    for by in ((), ("--by", "team")):
        result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", *by, "--format", "csv")
        header = result.stdout.splitlines()[0].split(",")
        labelled_by_period = {"2015/16", "2016/17"} | {f"2017-0{m}" for m in range(4, 10)}
        assert set(header) - labelled_by_period <= documented, set(header) - labelled_by_period - documented
        assert ("dimension" in header) == bool(by) and header[-1] == ("breakdown_error" if by else "approximation")


def test_explain_lists_the_dimensions_an_indicator_breaks_down_by(kpi):
    text = kpi("explain", "CSC 013", "--period", "2017-09").stdout
    assert "-- --by: age_band, ethnicity, legal_status, placement_type, sex, team, worker\n" in text
    text = kpi("explain", "CSC 004", "--period", "2017-09").stdout
    assert "-- --by: no dimension\n" in text
    assert "-- not by team: the numerator returns no column `team` and no child to find it for" in text


TWO_CHILDREN = """\
id: TST 201
title: Referrals, with the child twice
tier: key
service_group: Contacts
collected: monthly
polarity: none
unit: count
{breakdown}
numerator: |
  SELECT p.month, r.cine_referral_id, r.cine_person_id, r.cine_person_id AS other_person_id, r.cine_referral_date
  FROM ssd_cin_episodes r
  JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date
"""


def test_an_indicator_names_the_child_and_the_date_where_the_rule_cannot(kpi, project, tmp_path):
    extracts = tmp_path / "extracts"
    shutil.copytree(FIXTURE_EXTRACTS, extracts)
    (extracts / "ssd_person.csv").write_text(EXTRACTS_WITH_TEAMS["ssd_person.csv"])
    path = project / "indicators" / "tst_201.yaml"

    def sex_breakdown(breakdown: str) -> dict:
        path.write_text(TWO_CHILDREN.format(breakdown=breakdown))
        scorecard = kpi.json("compute", "--project", project, "--data", extracts, "--period", "2017-09", "--by", "sex",
                             "--indicators", "TST 201")
        return row(scorecard, "TST 201")["breakdowns"]["sex"]

    assert sex_breakdown("")["error"] == ("the numerator returns 2 child columns (cine_person_id, other_person_id): "
                                          "name the one to break it down by in the indicator's breakdown.child")
    named = sex_breakdown("breakdown: {child: other_person_id, date: cine_referral_date}")
    assert named["error"] is None and {g["group"]: g["numerator"] for g in named["groups"]} == {"F": 1, "M": 1, NO_GROUP: 1}
    assert sex_breakdown("breakdown: {child: cine_person_id, date: referral_day}")["error"] == (
        "the numerator returns no column `referral_day` (the indicator's breakdown.date)")


def test_small_groups_are_withheld_by_default_and_the_totals_are_not(kpi):
    """Without suppress_below, a breakdown's groups of 1 to 4 are withheld (breakdown_suppress_below, 5),
    with a further group so that none follows from the total; the council's own totals are as they were."""
    plain = kpi.json("compute", "--period", "2017-09", "--indicators", "CSC 038")
    scorecard = kpi.json("compute", "--period", "2017-09", "--by", "ethnicity", "--indicators", "CSC 038")
    result = row(scorecard, "CSC 038")
    assert result["numerator"] == row(plain, "CSC 038")["numerator"] and not result["suppressed"]
    groups = result["breakdowns"]["ethnicity"]["groups"]
    assert all(g["numerator"] is None or g["numerator"] == 0 or g["numerator"] >= 5 for g in groups)
    withheld = [g for g in groups if g["suppressed"]]
    assert len(withheld) >= 2 and all(g["numerator"] is None and g["value"] is None for g in withheld)
