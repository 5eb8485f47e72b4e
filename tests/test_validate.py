"""`kpi validate` and the definitions it checks: YAML syntax, the JSON Schema, rules across files, and the
SQL (binding, single SELECT, no file or network access), each problem at its file and line."""

import json

import pytest

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT


def validate(kpi, project, *args):
    return kpi("validate", "--project", project, *args)


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_fixture_project_is_valid(kpi):
    result = validate(kpi, FIXTURE_PROJECT)
    assert result.exit_code == 0, result.stdout
    assert "7 indicator(s) checked: 0 error(s)" in result.stderr


def test_malformed_yaml_names_the_line(kpi, project):
    path = project / "indicators" / "tst_001.yaml"
    edit(path, "tier: key\n", "tier: [key\n")
    result = validate(kpi, project)
    assert result.exit_code == 1
    assert "tst_001.yaml:" in result.stdout and "not valid YAML" in result.stdout


def test_an_unknown_key_suggests_the_right_one(kpi, project):
    path = project / "indicators" / "tst_002.yaml"
    edit(path, "polarity: bigger", "polarty: bigger")
    result = validate(kpi, project)
    assert result.exit_code == 1
    assert "tst_002.yaml:8:1: error: unknown key `polarty` (did you mean `polarity`?)" in result.stdout
    assert "missing required key `polarity`" in result.stdout


def test_a_wrong_enum_value_names_the_choices(kpi, project):
    edit(project / "indicators" / "tst_003.yaml", "collected: month_end", "collected: Month End")
    result = validate(kpi, project)
    assert "tst_003.yaml:6:12: error: `collected` is 'Month End', which is not one of" in result.stdout


def test_a_duplicate_key_is_not_silently_merged(kpi, project):
    path = project / "indicators" / "tst_005.yaml"
    path.write_text(path.read_text() + "unit: percent\n")
    assert "key `unit` is given twice" in validate(kpi, project).stdout


def test_rules_across_keys_and_files(kpi, project):
    indicators = project / "indicators"
    edit(indicators / "tst_005.yaml", "polarity: none", "polarity: none\ntarget: 3")
    edit(indicators / "tst_003.yaml", "unit: count", "unit: percent")
    edit(indicators / "tst_006.yaml", "id: TST 006", "id: TST 001")
    result = validate(kpi, project)
    out = result.stdout
    assert result.exit_code == 1
    assert "tst_005.yaml:8:1: error: a target needs a polarity" in out
    assert "tst_003.yaml" in out and "a percent needs a `denominator`" in out
    assert "the file is named tst_006.yaml but holds TST 001 (rename it tst_001.yaml)" in out
    assert "id 'TST 001' is also used by" in out


def test_a_misspelt_column_is_reported_at_its_line_inside_the_sql_block(kpi, project):
    path = project / "indicators" / "tst_002.yaml"
    edit(path, "WHERE working_days(a.cina_assessment_start_date,", "WHERE working_days(a.cina_assesment_start_date,")
    result = validate(kpi, project)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "cina_assesment_start_date" in text)
    assert f"tst_002.yaml:{line}: error: the numerator does not bind" in result.stdout
    assert "cina_assessment_start_date" in result.stdout  # DuckDB's suggestion


def test_a_misspelt_table_gets_duckdbs_suggestion(kpi, project):
    edit(project / "indicators" / "tst_003.yaml", "FROM ssd_cp_plans c", "FROM ssd_cp_plan c")
    result = validate(kpi, project)
    assert 'did you mean "ssd_cp_plans"' in result.stdout.lower()


def test_a_query_without_month(kpi, project):
    edit(project / "indicators" / "tst_005.yaml", "SELECT p.month, k.cont_contact_id", "SELECT p.month AS m, k.cont_contact_id")
    assert "the numerator returns no column `month`" in validate(kpi, project).stdout


HOSTILE = {
    "read a file": "SELECT p.month FROM period p, read_csv('/etc/passwd')",
    "glob the disk": "SELECT p.month FROM period p, glob('/etc/*')",
    "drop a table": "DROP TABLE ssd_cin_episodes",
    "two statements": "SELECT p.month FROM period p; DELETE FROM ssd_contacts",
    "attach": "ATTACH '/tmp/other.duckdb' AS other",
    "copy out": "COPY ssd_contacts TO '/tmp/stolen.csv'",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "change a setting": "SET enable_external_access = true",
    "pragma": "PRAGMA database_list",
    "insert": "INSERT INTO ssd_contacts (cont_contact_id) VALUES ('x')",
    "read over the network": "SELECT p.month FROM period p, read_parquet('https://example.com/x.parquet')",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_sql_is_refused_at_validation(kpi, project, kind):
    path = project / "indicators" / "tst_005.yaml"
    text = path.read_text()
    start = text.index("numerator: |")
    end = text.index("tests:")
    path.write_text(text[:start] + "numerator: |\n  " + HOSTILE[kind] + "\n" + text[end:])
    result = validate(kpi, project)
    assert result.exit_code == 1
    assert "tst_005.yaml:10:" in result.stdout
    assert ("only a SELECT is allowed" in result.stdout or "exactly one SELECT" in result.stdout
            or "may not do" in result.stdout or "does not bind" in result.stdout)


@pytest.mark.parametrize("kind", ["read a file", "glob the disk", "read over the network"])
def test_hostile_sql_fails_at_run_time_too(kpi, project, extracts, kind):
    path = project / "indicators" / "tst_005.yaml"
    text = path.read_text()
    start, end = text.index("numerator: |"), text.index("tests:")
    path.write_text(text[:start] + "numerator: |\n  " + HOSTILE[kind] + "\n" + text[end:])
    result = kpi("compute", "--project", project, "--data", extracts, "--period", "2017-09", "--format", "json")
    assert result.exit_code == 1
    failed = next(i for i in json.loads(result.stdout)["indicators"] if i["id"] == "TST 005")
    assert "may not do" in failed["error"] or "disabled" in failed["error"]


def test_a_view_file_may_hold_only_views_and_macros(kpi, project):
    (project / "queries").mkdir(exist_ok=True)
    (project / "queries" / "bad.sql").write_text("CREATE VIEW ok_view AS SELECT 1 AS x;\n\nDELETE FROM ssd_contacts;\n")
    result = validate(kpi, project)
    assert "bad.sql:3: error: a file under queries/ may hold only CREATE VIEW and CREATE MACRO statements" in result.stdout


def test_a_view_cycle_is_reported(kpi, project):
    (project / "queries").mkdir(exist_ok=True)
    (project / "queries" / "loop.sql").write_text(
        "CREATE VIEW view_a AS SELECT * FROM view_b;\nCREATE VIEW view_b AS SELECT * FROM view_a;\n")
    assert "view view_a depends on itself: view_a → view_b → view_a" in validate(kpi, project).stdout


def test_github_and_json_output(kpi, project):
    edit(project / "indicators" / "tst_002.yaml", "polarity: bigger", "polarty: bigger")
    github = validate(kpi, project, "--output-format", "github").stdout
    assert "::error file=" in github and "tst_002.yaml,line=8,col=1" in github
    issues = json.loads(validate(kpi, project, "--output-format", "json").stdout)
    assert any(i["code"] == "schema" and i["line"] == 8 for i in issues)


def test_warnings_do_not_fail_validation(kpi, project):
    path = project / "indicators" / "tst_001.yaml"
    path.write_text(path.read_text().split("tests:")[0])
    result = validate(kpi, project)
    assert result.exit_code == 0
    assert "warning: no test exercises this indicator" in result.stdout


def test_a_query_that_ignores_period_is_a_warning(kpi, project):
    edit(project / "indicators" / "tst_005.yaml",
         "JOIN period p ON CAST(k.cont_contact_date AS DATE) BETWEEN p.start_date AND p.end_date",
         "CROSS JOIN (SELECT DATE '2017-09-01' AS month) p")
    result = validate(kpi, project)
    assert result.exit_code == 0
    assert "warning: the numerator does not join the `period` relation" in result.stdout


def test_the_data_stage_flags_a_percentage_above_100(kpi, project):
    # a numerator that counts every referral twice, over a denominator that counts each once
    path = project / "indicators" / "tst_007.yaml"
    text = path.read_text()
    start, end = text.index("numerator: |"), text.index("denominator: |")
    path.write_text(text[:start] + "numerator: |\n"
                    "  SELECT p.month, r.cine_referral_id FROM ssd_cin_episodes r, (VALUES (1), (2)) t(copy)\n"
                    "  JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date\n"
                    + text[end:].split("tests:")[0])
    result = kpi("validate", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert result.exit_code == 1
    assert "TST 007: the numerator exceeds the denominator in" in result.stdout
    assert "2017-09" in result.stdout and "(2 > 1 in 2016-03)" in result.stdout


def test_the_data_stage_passes_on_sound_definitions(kpi):
    result = kpi("validate", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert result.exit_code == 0, result.stdout


def test_the_data_stage_needs_a_period(kpi):
    result = kpi("validate", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS)
    assert result.exit_code == 2 and "--data needs --period" in result.stderr


def test_the_data_stage_names_an_indicator_that_fails_on_the_data(kpi, project):
    # It binds (so the SQL stage passes) but fails when run: person ids are not numbers.
    edit(project / "indicators" / "tst_001.yaml", "JOIN period p ON", "JOIN period p ON CAST(r.cine_person_id AS INTEGER) > 0 AND")
    assert validate(kpi, project).exit_code == 0
    result = validate(kpi, project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert result.exit_code == 1
    assert "tst_001.yaml:" in result.stdout and "error: TST 001 fails on the data:" in result.stdout
    assert "1 error(s)" in result.stderr


def test_the_data_stage_does_not_run_on_definitions_with_errors(kpi, project, tmp_path):
    edit(project / "indicators" / "tst_003.yaml", "FROM ssd_cp_plans c", "FROM ssd_cp_plan c")
    # the extracts are not even read: a folder without them gives the definitions' error, not a data error
    result = validate(kpi, project, "--data", tmp_path, "--period", "2017-09")
    assert result.exit_code == 1 and "does not bind" in result.stdout
