"""End to end: the demo council written as SystemC, Mosaic and Eclipse export the SSD (tests/ssd_dialects.py)
and computed through the matching profile gives the canonical demo's numbers, every month of the
scorecard, for every indicator the dialect can give; every other one says what it needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kpi import demo
from tests import ssd_dialects

NOT_IN_THE_SSD = {  # indicator → what no SSD extract has (research/ssd-real.md §3)
    "CSC 001": "the table ssd_early_help_assessments",
    "CSC 004": "ssd_contacts.cont_communication_id",
    "CSC 011": "ssd_contacts.cont_communication_id",
    "CSC 015": "ssd_cin_episodes.cine_referral_completed_datetime",
    "CSC 018": "ssd_cin_episodes.cine_referral_completed_datetime",
    "CSC 022": "ssd_cin_episodes.cine_referral_completed_datetime",
    "CSC 026": "ssd_cin_episodes.cine_referral_completed_datetime",
    "CSC 161": "the table ssd_strategy_discussions",
    "CSC 246": "ssd_missing.miss_reported_to_police",
    "CSC 260": "ssd_cla_placement.clap_visit_frequency_days",
    "CSC 260a": "ssd_cla_placement.clap_visit_frequency_days",
    "CSC 260b": "ssd_cla_placement.clap_visit_frequency_days",
    "CSC 286": "ssd_care_leavers.clea_service_end_date",
    "CSC 294": "ssd_care_leavers.clea_service_end_date",
}
ALSO_MISSING = {
    "systemc": {},
    "eclipse": {"CSC 218": "ssd_cla_reviews.clar_person_id"},
    # the demo's children in care without a referral: their involvements cannot reach them in Mosaic
    "mosaic": {"CSC 183": "ssd_involvements.invo_person_id", "CSC 227": "ssd_involvements.invo_person_id",
               "CSC 247": "ssd_cla_health.clah_health_check_status", "CSC 250": "ssd_cla_health.clah_health_check_status",
               "CSC 251": "ssd_cla_health.clah_health_check_status"},
}
NUMBERS = ("value", "numerator", "denominator", "months", "outturns", "same_period_last_year", "trend", "target_status")


@pytest.fixture(scope="module")
def council():
    return demo.generate()


@pytest.fixture(scope="module")
def canonical(council, tmp_path_factory, kpi_module):
    folder = tmp_path_factory.mktemp("canonical")
    demo.write_extracts(council, folder)
    return _scorecard(kpi_module, folder, "ssd", expect_exit=0)


@pytest.fixture(scope="module")
def kpi_module():
    from tests.conftest import Kpi
    return Kpi()


def _scorecard(kpi, folder: Path, source: str, expect_exit: int = 1) -> dict:
    result = kpi("compute", "--source", source, "--period", "2017-09", "--data", folder, "--format", "json")
    assert result.exit_code == expect_exit, result.stderr
    scorecard = json.loads(result.stdout)
    scorecard["stderr"] = result.stderr
    return scorecard


@pytest.mark.parametrize("cms", ssd_dialects.CMS)
def test_each_dialect_gives_the_canonical_numbers_or_says_what_it_needs(cms, council, canonical, tmp_path, kpi_module):
    folder = ssd_dialects.write(council, cms, tmp_path / cms)
    scorecard = _scorecard(kpi_module, folder, f"ssd-{cms}")
    expected_missing = NOT_IN_THE_SSD | ALSO_MISSING[cms]
    canon = {i["id"]: i for i in canonical["indicators"]}
    missing = {}
    for row in scorecard["indicators"]:
        if row["error"]:
            missing[row["id"]] = re.search(r"it needs (.*), which", row["error"]).group(1)
            assert row["value"] is None and set(row["months"].values()) == {None}
        else:
            assert {k: row[k] for k in NUMBERS} == {k: canon[row["id"]][k] for k in NUMBERS}, row["id"]
    assert missing == expected_missing
    assert f"{len(expected_missing)} indicator(s) failed" in scorecard["stderr"]
    if cms == "mosaic":  # the rows whose person id cannot be derived are named
        assert scorecard["warnings"] == [w for w in scorecard["warnings"] if w.startswith("ssd_involvements.invo_person_id: ")]
        assert len(scorecard["warnings"]) == 1
    else:
        assert scorecard["warnings"] == []


def test_the_dialect_files_are_as_a_sql_client_writes_them(council, tmp_path):
    folder = ssd_dialects.write(council, "systemc", tmp_path / "systemc")
    raw = (folder / "ssd_cin_assessments.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ssd_dialects.HEADERS["systemc"]["ssd_cin_assessments"]
    assert ",NULL," in text and "01/01/1900 00:00" in text
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", text)
    assert "Accommodated under an agreed series of short-term breaks" in (folder / "ssd_legal_status.csv").read_text(encoding="utf-8-sig")
    assert not (folder / "ssd_strategy_discussions.csv").exists()


def test_without_its_profile_a_systemc_extract_does_not_pass_silently(council, tmp_path, kpi_module):
    """Read as the canonical tables, SystemC's NULLs stop the run rather than giving other numbers."""
    folder = ssd_dialects.write(council, "systemc", tmp_path / "systemc")
    result = kpi_module("compute", "--period", "2017-09", "--data", folder, "--format", "json")
    assert result.exit_code == 2 and "'NULL' is not" in result.stderr


def test_unknown_descriptions_in_a_dialect_are_warned_and_change_only_what_they_touch(council, canonical, tmp_path, kpi_module):
    folder = ssd_dialects.write(council, "systemc", tmp_path / "systemc")
    path = folder / "ssd_legal_status.csv"
    text = path.read_text(encoding="utf-8-sig")
    local = text.replace("Accommodated under an agreed series of short-term breaks, when agreements are recorded (NOT individual episodes of care)",
                         "Short break (local)")
    assert local != text
    path.write_text(local, encoding="utf-8-sig")
    scorecard = _scorecard(kpi_module, folder, "ssd-systemc")
    assert len(scorecard["warnings"]) == 1 and "'Short break (local)'" in scorecard["warnings"][0]
    rows = {i["id"]: i for i in scorecard["indicators"]}
    assert rows["CSC 201"]["value"] > {i["id"]: i for i in canonical["indicators"]}["CSC 201"]["value"]  # short breaks counted as in care


def test_drill_through_a_profile_gives_the_canonical_rows(council, tmp_path, kpi_module):
    canonical = tmp_path / "canonical"
    demo.write_extracts(council, canonical)
    systemc = ssd_dialects.write(council, "systemc", tmp_path / "systemc")
    args = ("drill", "CSC 227", "--period", "2017-09", "--format", "csv", "--part", "denominator")
    plain = kpi_module(*args, "--data", canonical)
    through = kpi_module(*args, "--data", systemc, "--source", "ssd-systemc")
    assert plain.exit_code == through.exit_code == 0, through.stderr
    assert through.stdout == plain.stdout
    blocked = kpi_module("drill", "CSC 022", "--period", "2017-09", "--data", systemc, "--source", "ssd-systemc")
    assert blocked.exit_code == 2 and "needs ssd_cin_episodes.cine_referral_completed_datetime" in blocked.stderr


def test_validate_data_reports_what_a_source_cannot_give(council, tmp_path, kpi_module):
    eclipse = ssd_dialects.write(council, "eclipse", tmp_path / "eclipse")
    result = kpi_module("validate", "--data", eclipse, "--period", "2017-09", "--source", "ssd-eclipse")
    assert result.exit_code == 1
    assert "CSC 218 fails on the data: not computed: it needs ssd_cla_reviews.clar_person_id" in result.stdout


def test_an_iro_is_not_the_childs_social_worker(council, canonical, tmp_path, kpi_module):
    """SystemC writes every involvement type; kept too, a qualified IRO would hide an unqualified allocation."""
    import shutil

    from tests.conftest import REPO

    systemc = ssd_dialects.write(council, "systemc", tmp_path / "systemc")
    project = tmp_path / "project"
    for folder in ("indicators", "queries"):
        shutil.copytree(REPO / folder, project / folder)
    (project / "kpi.toml").write_text('source = "ssd-systemc"\n[profile.keep_rows.ssd_involvements]\ninvo_professional_role_id = ["CW", "IRO"]\n')
    result = kpi_module("compute", "--project", project, "--period", "2017-09", "--data", systemc, "--indicators", "CSC 183", "--format", "json")
    with_iros = json.loads(result.stdout)["indicators"][0]["months"]
    expected = {i["id"]: i for i in canonical["indicators"]}["CSC 183"]["months"]
    assert with_iros != expected and with_iros["2017-09"] > expected["2017-09"]


def test_coverage_of_an_extract_counts_what_its_rows_can_give(council, tmp_path, kpi_module):
    mosaic = ssd_dialects.write(council, "mosaic", tmp_path / "mosaic")
    assumed = kpi_module("coverage", "--source", "ssd-mosaic")
    found = kpi_module("coverage", "--source", "ssd-mosaic", "--data", mosaic)
    assert "34 of 51 indicator(s) computable" in assumed.stderr  # if every person id can be derived
    assert "32 of 51 indicator(s) computable" in found.stderr
    assert re.search(r"warning: ssd_involvements.invo_person_id: [\d,]+ rows could not be derived", found.stderr)
    assert re.search(r"^CSC 227\s+no\s+needs ssd_involvements.invo_person_id$", found.stdout, re.M)


def test_canonical_files_without_an_extension_table_still_give_the_rest(council, canonical, tmp_path, kpi_module):
    folder = tmp_path / "canonical"
    demo.write_extracts(council, folder)
    (folder / "ssd_strategy_discussions.csv").unlink()
    result = kpi_module("compute", "--period", "2017-09", "--data", folder, "--indicators", "CSC 161,CSC 165", "--format", "json")
    assert result.exit_code == 1
    rows = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert "needs the table ssd_strategy_discussions" in rows["CSC 161"]["error"]
    assert rows["CSC 165"]["months"] == {i["id"]: i for i in canonical["indicators"]}["CSC 165"]["months"]
    (folder / "ssd_s47_enquiry.csv").unlink()  # a canonical table is still required
    missing = kpi_module("compute", "--period", "2017-09", "--data", folder, "--indicators", "CSC 165")
    assert missing.exit_code == 2 and "table ssd_s47_enquiry is not in" in missing.stderr
