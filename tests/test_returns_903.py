"""The SSDA903 return as a source: its CSV files read into the canonical tables (hand-written files with
the format's quirks, one year and several), bad files refused with the file, row, field and value, and
the demo council written out as the return and read back to the same numbers."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from kpi.extracts import table_definitions
from kpi.returns import frames

from tests.conftest import FIXTURES, REPO

RETURN = FIXTURES / "returns" / "ssda903"
TABLES = table_definitions(REPO / "schemas")


def read(folder: Path) -> dict:
    return {name: frame.to_dicts() for name, frame in frames("ssda903", folder, TABLES).items()}


def by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def test_ids_stay_text_with_their_leading_zeros_and_lose_a_spreadsheets_point_nought():
    people = by(read(RETURN / "one_year")["ssd_person"], "pers_person_id")
    assert set(people) == {"0012345", "987", "C3"}
    # SEX 1/2 (to 2023/24) and M/F/U (from 2024/25) read alike; a BOM and CRLF in the file change nothing
    assert [people[c]["pers_sex"] for c in ("0012345", "987", "C3")] == ["M", "F", "M"]
    assert people["0012345"]["pers_dob"] == date(2006, 5, 3)


def test_placements_and_legal_statuses_are_rebuilt_from_the_episodes():
    tables = read(RETURN / "one_year")
    episodes = [e for e in tables["ssd_cla_episodes"] if e["clae_person_id"] == "0012345"]
    assert len(episodes) == 4
    assert {e["clae_cla_id"] for e in episodes} == {"0012345|2017-01-10"}   # X1 episodes: one period of care
    assert {e["clae_entered_care_date"] for e in episodes} == {date(2017, 1, 10)}
    placements = [p for p in tables["ssd_cla_placement"] if p["clap_person_id"] == "0012345"]
    # RNE L changes the legal status only: two placements, not four
    assert [(p["clap_cla_placement_start_date"], p["clap_cla_placement_end_date"], p["clap_cla_placement_type"])
            for p in placements] == [(date(2017, 1, 10), date(2017, 6, 1), "U4"), (date(2017, 6, 1), None, "K2")]
    assert placements[0]["clap_cla_placement_change_reason"] == "CARPL"   # from the episode that ends it
    statuses = [(s["lega_legal_status"], s["lega_legal_status_start_date"], s["lega_legal_status_end_date"])
                for s in tables["ssd_legal_status"] if s["lega_person_id"] == "0012345"]
    assert statuses == [("L2", date(2017, 1, 10), date(2017, 1, 13)), ("C1", date(2017, 1, 13), date(2017, 9, 20)),
                        ("C2", date(2017, 9, 20), None)]


def test_a_repeated_row_counts_once_and_a_new_start_is_a_new_period():
    episodes = [e for e in read(RETURN / "one_year")["ssd_cla_episodes"] if e["clae_person_id"] == "987"]
    assert [(e["clae_cla_episode_id"], e["clae_cla_id"]) for e in episodes] == [
        ("987|2015-04-01", "987|2015-04-01"), ("987|2018-02-01", "987|2018-02-01")]


def test_missing_reviews_health_and_care_leavers():
    tables = read(RETURN / "one_year")
    missing = sorted(m["miss_table_id"] for m in tables["ssd_missing"])
    # two episodes begun the same day are both kept, the second with #2
    assert missing == ["0012345|2017-07-02|M", "0012345|2017-07-02|M#2", "0012345|2017-08-15|A"]
    reviews = by(tables["ssd_cla_reviews"], "clar_cla_review_id")
    assert reviews["0012345|2017-05-03"]["clar_cla_id"] == "0012345|2017-01-10"
    # OC2 has no dates: a check done in the year is dated 31 March (TEETH_CHECK = 1, HEALTH_ASSESSMENT = 0)
    assert [(h["clah_person_id"], h["clah_health_check_type"], h["clah_health_check_date"]) for h in tables["ssd_cla_health"]] \
        == [("C3", "DENTAL", date(2018, 3, 31))]
    leaver = tables["ssd_care_leavers"][0]
    assert (leaver["clea_care_leaver_accommodation"], leaver["clea_care_leaver_accom_suitable"], leaver["clea_care_leaver_activity"]) \
        == ("S", "1", "G4")


def test_several_years_keep_the_latest_version_and_close_what_the_next_year_lacks():
    tables = read(RETURN / "two_years")
    episodes = by(tables["ssd_cla_episodes"], "clae_cla_episode_id")
    # open at 31 March 2017, closed in the 2017/18 file: the later version wins
    assert (episodes["C1|2016-05-01"]["clae_cla_episode_ceased_date"], episodes["C1|2016-05-01"]["clae_cla_episode_ceased_reason"]) \
        == (date(2017, 10, 10), "E4A")
    # open at 31 March 2017 and absent from the 2017/18 file: closed at the end of 2016/17
    assert (episodes["C2|2016-06-01"]["clae_cla_episode_ceased_date"], episodes["C2|2016-06-01"]["clae_cla_episode_ceased_reason"]) \
        == (date(2017, 3, 31), "E99")
    people = by(tables["ssd_person"], "pers_person_id")
    assert people["C1"]["pers_ethnicity"] == "WOTH"   # the latest year's header


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "903"
    shutil.copytree(RETURN / "one_year", folder)
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("old, new, expected", [
    ("01/06/2017,P,C1", "01/06/2017,Q,C1", r"episodes\.csv:4: error: RNE 'Q' is not a code of the return"),
    ("01/06/2016,S,V2", "01/06/16,S,V2", r"episodes\.csv:9: error: DECOM '01/06/16' has a 2-digit year"),
    ("01/06/2016,S,V2", "2016/06/01,S,V2", r"episodes\.csv:9: error: DECOM '2016/06/01' is not a date in the form dd/mm/yyyy"),
    ("01/02/2018,S,V3", "01/02/2018,S,XX", r"episodes\.csv:8: error: LS 'XX' is not a code of the return"),
    ("987.0,01/04/2015,S,V2,N4,U1,PR1,05/08/2017", "987.0,01/04/2015,S,V2,N4,U1,PR1,06/08/2017",
     r"episodes\.csv:7: error: a second row for 987\|2015-04-01 that differs from the first"),
])
def test_a_bad_value_is_refused_naming_the_file_row_field_and_value(kpi, tmp_path, old, new, expected):
    folder = _copy(tmp_path)
    _replace(folder / "episodes.csv", old, new)
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903")
    assert result.exit_code == 2
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_of_another_return_is_refused(kpi, tmp_path):
    folder = _copy(tmp_path)
    (folder / "cin.csv").write_text("LAchildID,CINreferralDate\nC1,2017-05-01\n", encoding="utf-8")
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903")
    assert result.exit_code == 2
    assert "cin.csv: error: this is not a file of the SSDA903 return" in result.stderr


def test_a_missing_episodes_file_is_refused(kpi, tmp_path):
    folder = _copy(tmp_path)
    (folder / "episodes.csv").unlink()
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903")
    assert result.exit_code == 2
    assert "the episodes file of the SSDA903 return is missing" in result.stderr


def test_sources_and_coverage_know_the_return(kpi):
    assert re.search(r"^ssda903: the SSDA903 return", kpi("sources").stdout, re.M)
    result = kpi("coverage", "--source", "ssda903")
    rows = {i: f"{c:<3} {why}" for i, c, why in re.findall(r"^(CSC \S+)\s+(yes|no)\s+(.*)$", result.stdout, re.M)}
    assert rows["CSC 201"] == "yes reads only what the extract has"
    assert rows["CSC 250"].startswith("yes approximate: the return's OC2 HEALTH_ASSESSMENT has no date")
    assert rows["CSC 246"] == "no  needs ssd_missing.miss_reported_to_police"
    assert rows["CSC 247"].startswith("no  needs ssd_cla_health rows of type IHA")
    assert rows["CSC 013"] == "no  needs the table ssd_cin_episodes"


EXACT = ("CSC 200", "CSC 201", "CSC 218", "CSC 228", "CSC 229")
APPROXIMATE = ("CSC 250", "CSC 251")
MONTHS = ("2017-04", "2017-05", "2017-06", "2017-07", "2017-08", "2017-09")


def test_the_demo_council_written_as_the_return_gives_the_same_numbers(kpi, tmp_path):
    out = tmp_path / "903"
    result = kpi("demo", "--out", out, "--format", "ssda903")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["2014-15", "2015-16", "2016-17", "2017-18", "ref_population.csv"]
    canonical = {i["id"]: i for i in kpi.json("compute", "--period", "2017-09")["indicators"]}
    result = kpi("compute", "--period", "2017-09", "--data", out, "--source", "ssda903", "--format", "json")
    assert result.exit_code == 1  # the indicators the return cannot give are failed, each saying why
    scorecard = json.loads(result.stdout)
    returned = {i["id"]: i for i in scorecard["indicators"]}
    computed = {i for i, row in returned.items() if not row.get("error")}
    assert computed == set(EXACT + APPROXIMATE)
    for indicator in EXACT:
        for month in MONTHS:
            assert _value(returned[indicator], month) == _value(canonical[indicator], month), (indicator, month)
    # an approximate number says so: it is never passed off as the definition's
    for indicator in APPROXIMATE:
        assert any(w.startswith(f"{indicator} is approximate from source ssda903") for w in scorecard["warnings"])
    assert "needs ssd_missing.miss_reported_to_police" in returned["CSC 246"]["error"]


def _value(row: dict, month: str):
    return row["months"][month]


def test_the_provenance_names_the_returns_own_files(kpi, tmp_path):
    folder = _copy(tmp_path)
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903", "--format", "json")
    reads = {r["table"]: r for r in json.loads(result.stdout)["provenance"]["tables"]}
    assert reads["ssd_cla_episodes"]["file"].endswith("903 (the ssda903 return)")
    before = reads["ssd_cla_episodes"]["sha256"]
    _replace(folder / "reviews.csv", "07/02/2017", "08/02/2017")
    again = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903", "--format", "json")
    assert {r["table"]: r for r in json.loads(again.stdout)["provenance"]["tables"]}["ssd_cla_episodes"]["sha256"] != before


def test_the_tables_kpi_does_not_read_are_recognised_and_left_aside(tmp_path):
    folder = _copy(tmp_path)
    (folder / "DoLo.csv").write_text("CHILD,DOB,DOLO_START,DOLO_END\nC3,01/01/2002,01/05/2017,\n", encoding="utf-8")
    (folder / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\nC3,1,01/01/2002,\n", encoding="utf-8")
    assert {p["pers_person_id"] for p in read(folder)["ssd_person"]} == {"0012345", "987", "C3"}


def test_a_councils_own_profile_of_the_return_says_its_own_approximations(kpi, tmp_path):
    # The texts are data (profiles/ssda903.yaml): a project's profile extending it changes them, no code.
    project = tmp_path / "project"
    (project / "profiles").mkdir(parents=True)
    (project / "kpi.toml").write_text("include_bundled_indicators = true\n")
    (project / "profiles" / "northtown-903.yaml").write_text(
        "description: Northtown's 903, checked by hand\nextends: ssda903\n"
        "approximations:\n  CSC 250: our OC2 is dated by our health team, not 31 March\nrefused: {CSC 218: we send no reviews}\n")
    listed = kpi("sources", "--project", project).stdout
    assert "northtown-903: Northtown's 903, checked by hand" in listed and "read by the ssda903 reader" in listed
    result = kpi("coverage", "--project", project, "--source", "northtown-903")
    rows = {i: f"{c:<3} {why}" for i, c, why in re.findall(r"^(CSC \S+)\s+(yes|no)\s+(.*)$", result.stdout, re.M)}
    assert rows["CSC 250"] == "yes approximate: our OC2 is dated by our health team, not 31 March"
    assert rows["CSC 251"].startswith("yes approximate: the return's OC2 TEETH_CHECK has no date")  # the bundled text stays
    assert rows["CSC 218"] == "no  needs we send no reviews"


def test_a_profile_naming_a_reader_kpi_lacks_is_an_error_naming_the_file(kpi, tmp_path):
    project = tmp_path / "project"
    (project / "profiles").mkdir(parents=True)
    (project / "kpi.toml").write_text("include_bundled_indicators = true\n")
    (project / "profiles" / "mine.yaml").write_text("description: mine\nreader: ssda-903\n")
    result = kpi("coverage", "--project", project, "--source", "mine")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "profiles/mine.yaml names the reader 'ssda-903', which kpi does not have: write one of annex-a, cin-census, ssda903" in result.stderr


def test_an_approximate_number_is_marked_in_every_output(kpi, tmp_path):
    import polars as pl
    import pyarrow.parquet as pq

    from tests.conftest import scorecard_csv

    out = tmp_path / "903"
    assert kpi("demo", "--out", out, "--format", "ssda903").exit_code == 0
    how = "the return's OC2 HEALTH_ASSESSMENT has no date: a health assessment is dated 31 March of its year, so only the March value is meaningful"
    args = ("compute", "--period", "2017-09", "--data", out, "--source", "ssda903", "--indicators", "CSC 250,CSC 201")
    written = {}
    for fmt in ("json", "csv", "table", "html", "xlsx", "parquet"):
        written[fmt] = tmp_path / f"scorecard.{fmt}"
        result = kpi(*args, "--format", fmt, "--output", written[fmt])
        assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(written["json"].read_text())["indicators"]}
    assert rows["CSC 250"]["approximation"] == how and rows["CSC 201"]["approximation"] is None
    rows = {r["id"]: r for r in scorecard_csv(written["csv"].read_text())}
    assert rows["CSC 250"]["approximation"] == how and rows["CSC 201"]["approximation"] == ""
    table = written["table"].read_text()
    assert re.search(r"^CSC 250 ≈", table, re.M) and not re.search(r"^CSC 201 ≈", table, re.M)
    assert f"≈ CSC 250: approximate: {how}" in " ".join(table.split())
    page = written["html"].read_text()
    assert f'<td class="id">CSC 250 <abbr class="approx" title="approximate: {how}">≈</abbr></td>' in page.replace("&#39;", "'")
    assert f"<li>≈ CSC 250: approximate: {how}</li>" in page.replace("&#39;", "'") and '<td class="id">CSC 201</td>' in page
    sheet = pl.read_excel(written["xlsx"], sheet_name="Scorecard", infer_schema_length=0)
    by_id = dict(zip(sheet["Indicator"], sheet["Approximation"]))
    assert by_id["CSC 250"] == how and by_id["CSC 201"] in ("", None)
    long = pq.read_table(written["parquet"]).to_pylist()
    assert {r["approximation"] for r in long if r["id"] == "CSC 250"} == {how}
    assert {r["approximation"] for r in long if r["id"] == "CSC 201"} == {None}


XML = FIXTURES / "returns" / "ssda903_xml" / "one_year.xml"


def _csv_twin(tmp_path: Path) -> Path:
    """The CSV fixture one_year/ with L9's Header row, which its XML form must have (OC3 sits in HEADER)."""
    folder = tmp_path / "csv"
    shutil.copytree(RETURN / "one_year", folder)
    with open(folder / "header.csv", "a", encoding="utf-8", newline="") as handle:
        handle.write("L9,1,20/10/1999,WBRI,,,\r\n")
    return folder


def test_the_xml_form_reads_to_the_same_tables_as_the_csv_files(tmp_path):
    from_csv = read(_csv_twin(tmp_path))
    assert read(XML) == from_csv       # the file itself: a namespace, prefixed elements, a BOM, an extra element
    folder = tmp_path / "xml" / "2017-18"
    folder.mkdir(parents=True)
    shutil.copy(XML, folder / "return.xml")
    assert read(tmp_path / "xml") == from_csv  # a folder of years' XML files (or folders)
    assert {p["pers_person_id"] for p in from_csv["ssd_person"]} == {"0012345", "987", "C3", "L9"}


def test_the_xml_form_computes_through_the_cli(kpi, tmp_path):
    shutil.copy(XML, tmp_path / "return.xml")
    result = kpi("compute", "--period", "2017-09", "--data", tmp_path / "return.xml", "--source", "ssda903",
                 "--indicators", "CSC 201", "--extract-date", "2017-10-05", "--format", "json")
    scorecard = json.loads(result.stdout)
    assert scorecard["indicators"][0]["error"] is None and scorecard["indicators"][0]["value"] == 2
    assert scorecard["provenance"]["tables"][0]["file"].endswith("return.xml (the ssda903 return)")


@pytest.mark.parametrize("old, new, expected", [
    ("<DECOM>01/06/2017</DECOM>", "<DECOM>31/06/2017</DECOM>", r"return\.xml:\d+: error: .*DECOM.*31/06/2017"),
    ("<DECOM>01/06/2017</DECOM>", "<DECOM>01/06/17</DECOM>", r"return\.xml:\d+: error: .*DECOM.*2-digit year"),
    ("<CHILDID>C3</CHILDID>", "", r"return\.xml:\d+: error: a <HEADER> without its <CHILDID> element"),
    ("<RNE>P</RNE>", "<RNE>Q</RNE>", r"return\.xml:\d+: error: .*RNE.*'Q'"),
    ("</la:EXPSSDA903>", "", r"return\.xml:\d+: error: this is not well-formed XML"),
    ("la:EXPSSDA903", "la:Message", r"return\.xml:4: error: this is not an SSDA903 XML file: its root element is <Message>, not <EXPSSDA903>"),
])
def test_a_bad_xml_file_is_refused_naming_the_file_line_and_element(kpi, tmp_path, old, new, expected):
    text = XML.read_text(encoding="utf-8-sig")
    assert old in text
    (tmp_path / "return.xml").write_text(text.replace(old, new), encoding="utf-8")
    result = kpi("compute", "--period", "2017-09", "--data", tmp_path / "return.xml", "--source", "ssda903")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert re.search(expected, result.stderr), result.stderr


def test_a_folder_with_both_forms_is_refused(kpi, tmp_path):
    folder = _csv_twin(tmp_path)
    shutil.copy(XML, folder / "return.xml")
    result = kpi("compute", "--period", "2017-09", "--data", folder, "--source", "ssda903")
    assert result.exit_code == 2 and "holds both CSV files and XML files of the SSDA903 return" in result.stderr


def _as_xml(folder: Path, out: Path) -> None:
    """One year's CSV files of the return written as its XML form, in a namespace (a test's own writer)."""
    import csv
    from xml.sax.saxutils import escape

    def rows(name: str) -> list[dict]:
        path = folder / f"{name}.csv"
        return list(csv.DictReader(path.open(encoding="utf-8-sig"))) if path.exists() else []

    def fields(row: dict, renamed: dict | None = None) -> str:
        """The row's values as elements; a group nested in HEADER leaves out the child's CHILD and DOB."""
        names = renamed or {}
        return "".join(f"<{names.get(k, k)}>{escape(v)}</{names.get(k, k)}>" for k, v in row.items()
                       if renamed is not None or k not in ("CHILD", "DOB"))

    children: dict[str, dict] = {}
    for row in rows("header"):
        children[row["CHILD"]] = {"header": row, "groups": [], "episodes": []}
    for name, tag in (("reviews", "AREVIEW"), ("missing", "AMISSING"), ("oc2", "OC2")):
        for row in rows(name):
            children[row["CHILD"]]["groups"].append(f"<{tag}>{fields(row)}</{tag}>")
    for row in rows("episodes"):
        children[row["CHILD"]]["episodes"].append("<EPISODE>" + fields({k: v for k, v in row.items() if k != "CHILD"}, {"PLACE": "PL"}) + "</EPISODE>")
    body = "".join(f"<CHILD><HEADER>{fields(c['header'], {'CHILD': 'CHILDID'})}{''.join(c['groups'])}</HEADER>{''.join(c['episodes'])}</CHILD>\n"
                   for c in children.values())
    out.write_text(f'<?xml version="1.0"?>\n<d:EXPSSDA903 xmlns:d="urn:example:903">\n{body}</d:EXPSSDA903>\n', encoding="utf-8")


def test_the_demo_council_as_the_xml_form_reads_as_its_csv_files(kpi, tmp_path):
    out = tmp_path / "903"
    assert kpi("demo", "--out", out, "--format", "ssda903").exit_code == 0
    years = sorted(p for p in out.iterdir() if p.is_dir())
    assert not (years[-1] / "oc3.csv").exists()  # the demo's care leavers are not written: every child has a Header row
    xml = tmp_path / "xml"
    xml.mkdir()
    for year in years:
        _as_xml(year, xml / f"{year.name}.xml")
    assert read(xml) == read(out)  # four years: the latest version of each record, periods, placements, all alike
