"""The other commands end to end: test, list, explain, schema; the configuration file; help texts."""

import json

import pytest

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, REPO


def test_kpi_test_passes_the_fixture_cases(kpi):
    result = kpi("test", "--project", FIXTURE_PROJECT)
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("7 passed, 0 failed")


def test_a_failing_case_shows_expected_and_actual_and_where(kpi, project):
    path = project / "indicators" / "tst_002.yaml"
    path.write_text(path.read_text().replace("expect: {numerator: 1, denominator: 2, value: 50.0}",
                                             "expect: {numerator: 2, denominator: 2, value: 50.0}"))
    result = kpi("test", "--project", project)
    assert result.exit_code == 1
    assert "FAIL  TST 002: the 10th working day" in result.stdout
    assert "numerator: expected 2, got 1" in result.stdout
    assert "tst_002.yaml:" in result.stdout
    assert "6 passed, 1 failed" in result.stdout


def test_a_case_naming_an_unknown_column_says_so(kpi, project):
    path = project / "indicators" / "tst_003.yaml"
    path.write_text(path.read_text().replace("cppl_cp_plan_start_date: 2017-09-30}", "cppl_plan_start_date: 2017-09-30}"))
    result = kpi("test", "--project", project, "TST 003")
    assert result.exit_code == 1
    assert "has no column `cppl_plan_start_date`" in result.stdout and "did you mean `cppl_cp_plan_start_date`" in result.stdout


def test_kpi_test_selects_by_pattern(kpi):
    result = kpi("test", "--project", FIXTURE_PROJECT, "TST 00[45]")
    assert "2 passed, 0 failed" in result.stdout


def test_list(kpi):
    result = kpi("list", "--project", FIXTURE_PROJECT)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "title", "lead_officer", "unit", "collected", "polarity", "target", "from"]
    assert all(line.rstrip().endswith("project") for line in lines[2:] if line.startswith("TST"))
    assert any(line.startswith("TST 002") and "percent" in line and "90" in line for line in lines)


def test_explain_shows_the_windows_and_sql(kpi):
    result = kpi("explain", "TST 004", "--period", "2017-09", "--project", FIXTURE_PROJECT)
    assert result.exit_code == 0
    assert "--   2017-09: 2017-04-01 to 2017-09-30" in result.stdout
    assert "reads: ref_population, ssd_cin_episodes" in result.stdout
    assert "FROM ssd_cin_episodes r" in result.stdout and "ref_population" in result.stdout


def test_schema_is_the_json_schema(kpi):
    result = kpi("schema", "--project", FIXTURE_PROJECT)
    assert json.loads(result.stdout)["title"] == "kpi indicator"


@pytest.mark.parametrize("command", ["compute", "validate", "test", "list", "explain", "demo", "schema"])
def test_every_command_has_help_with_an_example(kpi, command):
    result = kpi(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_configuration_names_the_authority_and_closure_days(kpi, project):
    (project / "kpi.toml").write_text('authority_name = "Northtown"\nclosure_days = [2017-09-04]\n')
    data = json.loads(kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                          "--indicators", "TST 002", "--format", "json").stdout)
    assert data["authority"] == "Northtown"
    # with 4 September closed, A1 (authorised 5 September) takes 9 working days and A2 10: both in time
    assert data["indicators"][0]["numerator"] == 4


@pytest.mark.parametrize("content, message", [
    ("colour = 'red'\n", "unknown key `colour`"),
    ("fy_start_month = 'April'\n", "`fy_start_month` must be a month number"),
    ("fy_start_month = 13\n", "`fy_start_month` must be a month number"),
    ("suppress_below = [5]\n", "`suppress_below` must be a whole number"),
    ("authority_name = \n", "cannot be read as TOML"),
])
def test_bad_configuration_is_named(kpi, project, content, message):
    (project / "kpi.toml").write_text(content)
    result = kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert result.exit_code == 2
    assert message in result.stderr and "kpi.toml" in result.stderr


def test_a_folder_without_indicators_is_refused(kpi, tmp_path):
    result = kpi("list", "--project", tmp_path)
    assert result.exit_code == 2
    assert "holds no indicators/ folder" in result.stderr


def test_default_suppression_from_configuration(kpi, project):
    (project / "kpi.toml").write_text("suppress_below = 10\n")
    data = json.loads(kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                          "--indicators", "TST 001", "--format", "json").stdout)
    row = data["indicators"][0]
    assert row["suppressed"] is True and row["value"] is None and row["months"]["2017-05"] == 0


def titles_in_list(stdout: str) -> dict[str, str]:
    """Each indicator's title as `kpi list` shows it, its wrapped lines joined."""
    header, _, *lines = stdout.splitlines()
    start, end = header.index("title"), header.index("lead_officer")
    titles: dict[str, list[str]] = {}
    for line in lines:
        if line and not line[0].isspace():
            current = titles.setdefault(line[:start].strip(), [])
        current.append(line[start:end].strip())
    return {indicator_id: " ".join(part for part in parts if part) for indicator_id, parts in titles.items()}


@pytest.mark.parametrize("columns", [None, "120"])
def test_list_shows_whole_titles_wrapped_so_similar_ones_differ(kpi, monkeypatch, columns):
    from kpi import pipeline
    from kpi.config import open_project

    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    result = kpi("list", "--project", REPO)
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= int(columns or 160)
    shown = titles_in_list(result.stdout)
    expected = {i.id: " ".join(i.title.split()) for i in pipeline.load_definitions(open_project(REPO)).indicators}
    assert shown == expected
    assessments = {shown[i] for i in ("CSC 038", "CSC 058", "CSC 078", "CSC 098")}
    assert len(assessments) == 4


@pytest.mark.parametrize("args", [
    ["list", "--project", FIXTURE_PROJECT],
    ["compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "table"],
    ["drill", "TST 002", "--period", "2017-09", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--format", "table"],
])
def test_tables_carry_no_escape_codes_when_not_a_terminal(kpi, monkeypatch, args):
    monkeypatch.setenv("FORCE_COLOR", "1")  # even when asked for colour: a pipe or a file gets plain text
    result = kpi(*args)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout and result.stdout.strip()


def test_a_title_with_brackets_is_shown_as_written(kpi, project):
    path = project / "indicators" / "tst_001.yaml"
    path.write_text(path.read_text().replace("title: Referrals received in the month",
                                             "title: 'Referrals [bold]received[/bold] in the month'"))
    result = kpi("list", "--project", project)
    assert "Referrals [bold]received[/bold] in the month" in result.stdout


def test_on_a_terminal_tables_have_the_terminals_width_and_styles():
    from kpi.render_text import Screen, catalogue
    from kpi import pipeline
    from kpi.config import open_project

    indicators = pipeline.load_definitions(open_project(REPO)).indicators
    text = catalogue(indicators, Screen(width=100, styled=True))
    assert "\x1b[1m" in text.splitlines()[0]  # the header in bold
    plain = catalogue(indicators, Screen(width=100))
    assert "\x1b[" not in plain and max(len(line) for line in plain.splitlines()) <= 100
