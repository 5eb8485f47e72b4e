"""The CIN census as a source: its XML (old and new XSDs, namespaces, yes/no in every spelling, several
censuses with the latest winning) read into the canonical tables; bad files refused naming the element
and value; the demo council written as the census and read back to the same numbers."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from kpi.extracts import table_definitions
from kpi.returns import frames

from tests.conftest import FIXTURES, REPO

CENSUS = FIXTURES / "returns" / "cin_census" / "two_years"
TABLES = table_definitions(REPO / "schemas")


def read(path: Path) -> dict:
    return {name: frame.to_dicts() for name, frame in frames("cin-census", path, TABLES).items()}


def test_both_xsd_generations_and_a_namespace_read_alike():
    people = {p["pers_person_id"]: p for p in read(CENSUS)["ssd_person"]}
    # GenderCurrent 1/2 (to 2023/24, in a namespace) and Sex M/F (from 2024/25) are one code list
    assert (people["0001"]["pers_sex"], people["C2"]["pers_sex"]) == ("F", "M")
    assert people["0001"]["pers_ethnicity"] == "WBRI"   # kept from the earlier census where the later lacks it
    assert people["0001"]["pers_dob"] == date(2010, 2, 3)


def test_keys_come_from_natural_values_and_the_latest_census_wins():
    tables = read(CENSUS)
    referrals = {r["cine_referral_id"]: r for r in tables["ssd_cin_episodes"]}
    assert set(referrals) == {"0001|2017-03-01", "0001|2018-01-10", "C2|2016-05-05"}
    assert referrals["0001|2017-03-01"]["cine_referral_date"] == datetime(2017, 3, 1)
    assert referrals["C2|2016-05-05"]["cine_referral_nfa"] is True       # `1`; `false`, `FALSE`, `0` read as no
    # the S47 begun in March is in both censuses: the later one, with its conference, wins
    [s47] = tables["ssd_s47_enquiry"]
    assert (s47["s47e_s47_enquiry_id"], s47["s47e_s47_end_date"], s47["s47e_s47_nfa"]) \
        == ("0001|2017-03-01|S47|2017-03-20", date(2017, 4, 7), False)
    assert [a["cina_assessment_auth_date"] for a in tables["ssd_cin_assessments"]] == [date(2017, 4, 20)]


def test_conferences_plans_and_every_review_date():
    tables = read(CENSUS)
    conferences = {c["icpc_icpc_id"]: c for c in tables["ssd_initial_cp_conference"]}
    on_s47 = conferences["0001|2017-03-01|ICPC|2017-04-07"]
    assert (on_s47["icpc_s47_enquiry_id"], on_s47["icpc_icpc_outcome_cp_flag"], on_s47["icpc_cp_plan_id"]) \
        == ("0001|2017-03-01|S47|2017-03-20", True, "0001|2017-03-01|CPP|2017-04-07")
    # an ICPC on the CINdetails (no S47 in this census) is read once, linked to its same-day plan
    assert conferences["0001|2018-01-10|ICPC|2018-01-12"]["icpc_s47_enquiry_id"] is None
    plans = {p["cppl_cp_plan_id"]: p["cppl_icpc_id"] for p in tables["ssd_cp_plans"]}
    assert plans["0001|2018-01-10|CPP|2018-01-12"] == "0001|2018-01-10|ICPC|2018-01-12"
    # both dates of one <Reviews> group
    assert sorted(r["cppr_cp_review_date"] for r in tables["ssd_cp_reviews"]) == [date(2017, 7, 1), date(2017, 12, 15)]


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "cin"
    shutil.copytree(CENSUS, folder)
    return folder


@pytest.mark.parametrize("old, new, expected", [
    ("<DateOfInitialCPC>2017-04-07</DateOfInitialCPC>", "<DateOfInitialCPC>07/04/2017</DateOfInitialCPC>",
     r"cin_2018\.xml: error: Child 0001/CINdetails 2017-03-01: DateOfInitialCPC '07/04/2017' is not a date in the form yyyy-mm-dd"),
    ("<ICPCnotRequired>0</ICPCnotRequired>", "<ICPCnotRequired>maybe</ICPCnotRequired>",
     r"cin_2018\.xml: error: Child 0001/CINdetails 2017-03-01: ICPCnotRequired 'maybe' is not a yes/no value"),
    ("<Sex>F</Sex>", "<Sex>X</Sex>", r"cin_2018\.xml: error: Child 0001: Sex/GenderCurrent 'X' is not a code"),
    ("<ReferenceDate>2018-03-31</ReferenceDate>", "", r"cin_2018\.xml: error: Header/CollectionDetails: ReferenceDate is missing"),
    ("</Children>", "</Childs>", r"cin_2018\.xml: error: line \d+: the file is not well-formed XML"),
    ("<Message>", "<SSDA903>", r"cin_2018\.xml: error: <SSDA903>: this is not a CIN census file"),
])
def test_a_bad_file_is_refused_naming_the_element_and_value(kpi, tmp_path, old, new, expected):
    folder = _copy(tmp_path)
    path = folder / "cin_2018.xml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    if new == "<SSDA903>":
        text = text.replace("</Message>", "</SSDA903>")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "cin-census")
    assert result.exit_code == 2
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


EXACT = ("CSC 013", "CSC 014", "CSC 032", "CSC 034", "CSC 035", "CSC 038", "CSC 040", "CSC 058", "CSC 078", "CSC 098",
         "CSC 165", "CSC 173", "CSC 181", "CSC 182", "CSC 186", "CSC 187", "CSC 188", "CSC 191")
APPROXIMATE = ("CSC 161", "CSC 164")


def test_the_demo_council_written_as_the_census_gives_the_same_numbers(kpi, tmp_path):
    out = tmp_path / "cin"
    assert kpi("demo", "--out", out, "--format", "cin-census").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cin_census_2015.xml", "cin_census_2016.xml", "cin_census_2017.xml", "cin_census_2018.xml", "ref_population.csv"]
    canonical = {i["id"]: i for i in kpi.json("compute", "--period", "2017-09")["indicators"]}
    result = kpi("compute", "--period", "2017-09", "--data", out, "--source", "cin-census", "--format", "json")
    assert result.exit_code == 1  # the indicators the census cannot give are failed, each saying why
    scorecard = json.loads(result.stdout)
    returned = {i["id"]: i for i in scorecard["indicators"]}
    assert {i for i, row in returned.items() if not row.get("error")} == set(EXACT + APPROXIMATE)
    for indicator in EXACT:
        assert returned[indicator]["months"] == canonical[indicator]["months"], indicator
    for indicator in APPROXIMATE:
        assert any(w.startswith(f"{indicator} is approximate from source cin-census") for w in scorecard["warnings"])
    assert "needs ssd_cin_episodes.cine_referral_completed_datetime" in returned["CSC 022"]["error"]


def test_a_plan_repeated_exactly_counts_once_and_two_different_ones_with_one_key_are_refused(kpi, tmp_path):
    folder = _copy(tmp_path)
    path = folder / "cin_2018.xml"
    text = path.read_text(encoding="utf-8")
    plan = text[text.index("<ChildProtectionPlans>"):text.index("</ChildProtectionPlans>") + len("</ChildProtectionPlans>")]
    path.write_text(text.replace(plan, plan + plan, 1), encoding="utf-8")
    assert len(read(folder)["ssd_cp_plans"]) == 2
    path.write_text(text.replace(plan, plan + plan.replace("NEG", "PHY"), 1), encoding="utf-8")
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "cin-census")
    assert result.exit_code == 2
    assert "hold two different records '0001|2017-03-01|CPP|2017-04-07' of ssd_cp_plans (they differ in cppl_cp_plan_initial_category)" \
        in result.stderr, result.stderr
