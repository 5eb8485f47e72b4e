"""`kpi compute` and `kpi test` apply the rules `kpi validate` applies: a definition validate refuses
never publishes a number (issue: right numbers or a loud refusal)."""

import json

from tests.conftest import FIXTURE_EXTRACTS

SHADOWING_CTE = """  WITH period AS (SELECT DATE '2017-09-01' AS month, DATE '2017-04-01' AS start_date, DATE '2017-09-30' AS end_date)
"""


def compute(kpi, project, *more):
    return kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "json", *more)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rows(result):
    return {r["id"]: r for r in json.loads(result.stdout)["indicators"]}


def test_an_id_used_twice_stops_the_run_naming_both_files(kpi, project):
    copy = project / "indicators" / "tst_099.yaml"
    copy.write_text((project / "indicators" / "tst_002.yaml").read_text().replace("numerator: |\n", "numerator: |\n  -- an edited copy\n"))
    result = compute(kpi, project)
    assert result.exit_code == 2
    assert "tst_099.yaml" in result.stderr and "tst_002.yaml (give each indicator its own id)" in result.stderr
    assert result.stdout == ""


def test_a_percent_without_a_denominator_errors_in_its_row(kpi, project):
    path = project / "indicators" / "tst_002.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("denominator: |")] + text[text.index("tests:"):])
    result = compute(kpi, project)
    assert result.exit_code == 1
    found = rows(result)
    assert "a percent needs a `denominator`" in found["TST 002"]["error"]
    assert found["TST 002"]["value"] is None and found["TST 002"]["display"] == "-"
    assert found["TST 001"]["error"] is None and found["TST 001"]["value"] == 3


def test_a_count_with_a_denominator_errors_in_its_row(kpi, project):
    edit(project / "indicators" / "tst_002.yaml", "unit: percent", "unit: count")
    edit(project / "indicators" / "tst_002.yaml", "target: 90\n", "")
    result = compute(kpi, project)
    assert result.exit_code == 1
    assert "a count has no `denominator`" in rows(result)["TST 002"]["error"]


def test_a_cte_named_period_is_refused_by_validate_compute_and_test(kpi, project):
    edit(project / "indicators" / "tst_002.yaml", "numerator: |\n", "numerator: |\n" + SHADOWING_CTE)
    validated = kpi("validate", "--project", project)
    assert validated.exit_code == 1
    assert "tst_002.yaml:12: error: the numerator defines its own `period`" in validated.stdout
    computed = compute(kpi, project)
    assert computed.exit_code == 1
    assert "hides the engine's `period`" in rows(computed)["TST 002"]["error"]
    tested = kpi("test", "--project", project, "TST 002")
    assert tested.exit_code == 1 and "hides the engine's `period`" in tested.stdout


def test_a_value_that_divides_by_zero_is_that_indicators_error(kpi, project):
    edit(project / "indicators" / "tst_001.yaml", "r.cine_referral_team AS team\n", "r.cine_referral_team AS team, 1.0 / 0 AS value\n")
    result = compute(kpi, project)
    assert result.exit_code == 1
    found = rows(result)
    assert "not a number" in found["TST 001"]["error"] and "division by zero" in found["TST 001"]["error"]
    assert found["TST 002"]["error"] is None


def test_validate_with_data_reports_a_value_that_divides_by_zero(kpi, project):
    edit(project / "indicators" / "tst_001.yaml", "r.cine_referral_team AS team\n", "r.cine_referral_team AS team, 1.0 / 0 AS value\n")
    result = kpi("validate", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert result.exit_code == 1
    assert "TST 001 fails on the data" in result.stdout
