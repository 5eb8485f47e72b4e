"""Definitions in layers: a council's project finds the bundled views and macros, its own indicators
(by id) and views and macros (by name) replace the bundled ones, and the bundled indicators join it only
when kpi.toml asks (`include_bundled_indicators`)."""

import shutil

from tests.conftest import FIXTURE_EXTRACTS, REPO

# An indicator reading a bundled view: the project holds only indicators/.
READS_A_VIEW = """\
id: TST 500
title: Referrals started in the month
tier: key
service_group: Referrals
collected: monthly
polarity: none
unit: count
numerator: |
  SELECT month, cine_referral_id FROM referrals_in_window
tests:
  - period: 2017-09
    given:
      ssd_cin_episodes:
        - {cine_referral_id: R1, cine_person_id: P1, cine_referral_date: '2017-09-30 23:30'}
    expect: {numerator: 1}
"""


def _project(tmp_path, indicators: dict[str, str], toml: str = "") -> object:
    (tmp_path / "indicators").mkdir()
    for name, text in indicators.items():
        (tmp_path / "indicators" / name).write_text(text)
    if toml:
        (tmp_path / "kpi.toml").write_text(toml)
    return tmp_path


def test_a_project_of_indicators_only_finds_the_bundled_views(kpi, tmp_path):
    project = _project(tmp_path, {"tst_500.yaml": READS_A_VIEW})
    assert kpi("validate", "--project", project).exit_code == 0
    tested = kpi("test", "--project", project)
    assert tested.exit_code == 0 and "1 passed, 0 failed" in tested.stdout
    scorecard = kpi.json("compute", "--project", project, "--period", "2017-09", "--data", FIXTURE_EXTRACTS)
    assert [row["id"] for row in scorecard["indicators"]] == ["TST 500"]  # no bundled indicators unless asked


def test_a_view_of_the_project_replaces_the_bundled_one_of_that_name(kpi, tmp_path):
    project = _project(tmp_path, {"tst_500.yaml": READS_A_VIEW.replace("expect: {numerator: 1}", "expect: {numerator: 0}")})
    (project / "queries").mkdir()
    # this council counts no referral started after 23:00 (a made-up rule, to tell the two views apart)
    (project / "queries" / "referrals.sql").write_text(
        "CREATE OR REPLACE VIEW referrals_in_window AS\n"
        "SELECT p.month, r.cine_referral_id\nFROM ssd_cin_episodes r\n"
        "JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date\n"
        "WHERE hour(r.cine_referral_date) < 23;\n"
    )
    assert kpi("validate", "--project", project).exit_code == 0  # no duplicate-view: the bundled one is dropped
    tested = kpi("test", "--project", project)
    assert tested.exit_code == 0 and "1 passed, 0 failed" in tested.stdout, tested.stdout


def test_bundled_indicators_join_when_asked_and_the_projects_file_wins_by_id(kpi, tmp_path):
    own = (REPO / "indicators" / "csc_038.yaml").read_text().replace("target: 90", "target: 95")
    project = _project(tmp_path, {"csc_038.yaml": own, "tst_500.yaml": READS_A_VIEW}, "include_bundled_indicators = true\n")
    listed = kpi("list", "--project", project)
    assert listed.exit_code == 0
    rows = {line.split()[0] + " " + line.split()[1]: line for line in listed.stdout.splitlines() if line[:4] in ("CSC ", "TST ")}
    bundled = len(list((REPO / "indicators").glob("*.yaml")))
    assert len(rows) == bundled + 1
    assert rows["CSC 038"].rstrip().endswith("project") and " 95 " in rows["CSC 038"]
    assert rows["CSC 040"].rstrip().endswith("bundled") and rows["TST 500"].rstrip().endswith("project")
    assert kpi("validate", "--project", project).exit_code == 0  # one CSC 038, not two


def test_a_folder_with_only_kpi_toml_is_a_project(kpi, tmp_path, monkeypatch):
    (tmp_path / "kpi.toml").write_text('authority_name = "Northtown"\n')
    monkeypatch.chdir(tmp_path)
    result = kpi("list")
    assert result.exit_code == 0 and "CSC" not in result.stdout  # its own (none), not the bundled catalogue


def test_the_engines_own_definitions_are_all_bundled(kpi):
    listed = kpi("list", "--project", REPO)
    rows = [line for line in listed.stdout.splitlines() if line.startswith("CSC ")]
    assert rows and all(line.rstrip().endswith("bundled") for line in rows)


def test_an_unknown_id_names_the_nearest_and_exits_2(kpi):
    for command in (["test", "CSC 38"], ["drill", "CSC 38", "--period", "2017-09"], ["explain", "CSC 38", "--period", "2017-09"]):
        result = kpi(*command, "--project", REPO)
        assert result.exit_code == 2, command
        assert "no indicator has the id 'CSC 38'" in result.stderr and "'CSC 038'" in result.stderr
    assert "0 passed" not in kpi("test", "CSC 999", "--project", REPO).stdout
