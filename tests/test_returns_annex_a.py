"""Ofsted's Annex A as a source: the workbook (Ofsted's template with a title row above each header, or
LIIA-style sheets; code text, serial and text dates) read into the canonical tables; bad cells refused
naming the sheet, row, column and value; the demo council written as Annex A and read back."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from kpi.extracts import table_definitions
from kpi.returns import frames

from tests.conftest import FIXTURES, REPO

ANNEX = FIXTURES / "returns" / "annex_a"
TABLES = table_definitions(REPO / "schemas")


def read(path: Path) -> dict:
    return {name: frame.to_dicts() for name, frame in frames("annex-a", path, TABLES).items()}


def test_ofsteds_template_with_its_title_rows_serial_dates_and_code_text():
    tables = read(ANNEX / "ofsted_template")
    people = {p["pers_person_id"]: p for p in tables["ssd_person"]}
    assert (people["0042"]["pers_sex"], people["0042"]["pers_ethnicity"], people["0042"]["pers_dob"]) == ("F", "WBRI", date(2012, 1, 5))
    # an Excel date and the serial 42948 are one day; `q) 6: Police` and `1A - Individual` give their codes
    assert [(c["cont_contact_id"], c["cont_contact_date"], c["cont_contact_source_code"]) for c in tables["ssd_contacts"]] == [
        ("0042|2017-08-01", datetime(2017, 8, 1), "6"), ("0042|2017-08-01#2", datetime(2017, 8, 1), "1A")]
    [referral] = tables["ssd_cin_episodes"]   # the blank trailing row is no referral
    # List 6's closure joins the referral whose date is its CIN start date
    assert (referral["cine_referral_nfa"], referral["cine_close_date"], referral["cine_close_reason"], referral["cine_cin_primary_need_code"]) \
        == (False, date(2017, 9, 20), "RC8", "N1")
    placements = [(p["clap_cla_placement_start_date"], p["clap_cla_placement_type"], p["clap_cla_placement_provider"])
                  for p in tables["ssd_cla_placement"]]
    assert placements == [(date(2016, 1, 10), None, None), (date(2017, 6, 1), "U6", "PR4")]   # the earlier one is unknown
    assert [s["lega_legal_status"] for s in tables["ssd_legal_status"]] == ["C2"]


def test_liia_style_sheets_with_the_header_first():
    tables = read(ANNEX / "liia_style")
    assert [p["pers_person_id"] for p in tables["ssd_person"]] == ["123"]   # a spreadsheet's 123.0
    [conference] = tables["ssd_initial_cp_conference"]
    assert (conference["icpc_icpc_date"], conference["icpc_icpc_outcome_cp_flag"], conference["icpc_cp_plan_id"]) \
        == (date(2017, 7, 20), True, "123|CPP|2017-07-20")
    [assessment] = tables["ssd_cin_assessments"]
    # "requiring LA children’s social care support?" (a curly apostrophe): No means no further action
    assert (assessment["cina_assessment_child_seen"], assessment["cina_assessment_outcome_nfa"]) == (True, True)


def _workbook(tmp_path: Path, rows: list[list]) -> Path:
    import xlsxwriter

    folder = tmp_path / "annex"
    folder.mkdir()
    book = xlsxwriter.Workbook(str(folder / "annex_a.xlsx"))
    sheet = book.add_worksheet("List_3")
    sheet.write(0, 0, "List 3: Referrals")
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    book.close()
    return folder


HEADER = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age", "Date of Referral", "Referral Source", "Referral NFA?"]


@pytest.mark.parametrize("row, expected", [
    (["C1", "b) Female", "WBRI", "05/01/2012", 5, "01/08/17", "6", "No"],
     "sheet List_3, row 3, column 'date of referral': '01/08/17' has a 2-digit year"),
    (["C1", "b) Female", "WBRI", "05/01/2012", 5, "last week", "6", "No"],
     "sheet List_3, row 3, column 'date of referral': 'last week' is not a date"),
    (["C1", "b) Female", "WBRI", "05/01/2012", 5, "01/08/2017", "6", "perhaps"],
     "sheet List_3, row 3, column 'referral nfa': 'perhaps' is not yes or no"),
    (["", "b) Female", "WBRI", "05/01/2012", 5, "01/08/2017", "6", "No"], "sheet List_3, row 3, column 'Child Unique ID': is empty"),
])
def test_a_bad_cell_is_refused_naming_the_sheet_row_column_and_value(kpi, tmp_path, row, expected):
    folder = _workbook(tmp_path, [HEADER, row])
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "annex-a")
    assert result.exit_code == 2
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_workbook_with_no_list_is_refused(kpi, tmp_path):
    folder = _workbook(tmp_path, [["Name", "Value"], ["a", 1]])
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "annex-a")
    assert result.exit_code == 2
    assert "no sheet is a list of Annex A" in result.stderr


EXACT_IN_WINDOW = ("CSC 004i", "CSC 004k", "CSC 013", "CSC 014", "CSC 035", "CSC 038", "CSC 040", "CSC 058", "CSC 078", "CSC 098",
                   "CSC 165", "CSC 181", "CSC 182", "CSC 186", "CSC 187", "CSC 200", "CSC 201")
APPROXIMATE = ("CSC 161", "CSC 173", "CSC 229")


def test_the_demo_council_written_as_annex_a_gives_the_same_numbers_inside_its_window(kpi, tmp_path):
    out = tmp_path / "annex"
    assert kpi("demo", "--out", out, "--format", "annex-a").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["annex_a_2017-09-30.xlsx", "ref_population.csv"]
    canonical = {i["id"]: i for i in kpi.json("compute", "--period", "2017-09")["indicators"]}
    result = kpi("compute", "--period", "2017-09", "--data", out, "--source", "annex-a", "--format", "json")
    assert result.exit_code == 1
    scorecard = json.loads(result.stdout)
    returned = {i["id"]: i for i in scorecard["indicators"]}
    assert {i for i, row in returned.items() if not row.get("error")} == set(EXACT_IN_WINDOW + APPROXIMATE)
    for indicator in EXACT_IN_WINDOW:   # April to September 2017: the 6 months the lists hold
        assert returned[indicator]["months"] == canonical[indicator]["months"], indicator
    for indicator in EXACT_IN_WINDOW + APPROXIMATE:
        assert any(w.startswith(f"{indicator} is approximate from source annex-a") for w in scorecard["warnings"]), indicator
    # a re-referral looks back past the window: refused, not counted as none
    assert "needs the referrals before the Annex A window" in returned["CSC 032"]["error"]
