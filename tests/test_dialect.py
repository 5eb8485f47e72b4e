"""Indicators written in T-SQL (`dialect: tsql`, or kpi.toml's `sql_dialect`): translated to DuckDB
line for line, so messages point at the YAML's line; `kpi explain` shows both; and T-SQL written as if
it were DuckDB's gets a hint naming the DuckDB form."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.dialect import transpile

TSQL_INDICATOR = """\
id: TST 101
title: Assessments authorised within 45 days of their start
tier: key
service_group: Assessments
collected: monthly
polarity: bigger
unit: percent
{dialect}numerator: |
  SELECT p.month, [a].[cina_assessment_id]
  FROM ssd_cin_assessments a
  JOIN period p ON a.cina_assessment_auth_date BETWEEN p.start_date AND p.end_date
  WHERE DATEDIFF(day, a.cina_assessment_start_date, a.cina_assessment_auth_date) <= 45
    AND ISNULL(a.cina_assessment_outcome_nfa, 0) = 0
denominator: |
  SELECT p.month, a.cina_assessment_id
  FROM ssd_cin_assessments a
  JOIN period p ON a.cina_assessment_auth_date BETWEEN p.start_date AND p.end_date
tests:
  - period: 2017-09
    given:
      ssd_cin_assessments:
        - {{cina_assessment_id: A1, cina_assessment_start_date: 2017-08-01, cina_assessment_auth_date: 2017-09-14}}
        - {{cina_assessment_id: A2, cina_assessment_start_date: 2017-08-01, cina_assessment_auth_date: 2017-09-16}}
    expect: {{numerator: 1, denominator: 2, value: 50.0}}
"""


def _project(tmp_path, text: str, toml: str = ""):
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "tst_101.yaml").write_text(text)
    if toml:
        (tmp_path / "kpi.toml").write_text(toml)
    return tmp_path


@pytest.mark.parametrize("dialect, toml", [("dialect: tsql\n", ""), ("", 'sql_dialect = "tsql"\n')])
def test_an_indicator_in_tsql_validates_and_passes_its_case(kpi, tmp_path, dialect, toml):
    project = _project(tmp_path, TSQL_INDICATOR.format(dialect=dialect), toml)
    validated = kpi("validate", "--project", project)
    assert validated.exit_code == 0, validated.stdout
    tested = kpi("test", "--project", project)
    assert tested.exit_code == 0 and "1 passed, 0 failed" in tested.stdout, tested.stdout


def test_explain_shows_the_duckdb_sql_and_the_tsql_as_written(kpi, tmp_path):
    project = _project(tmp_path, TSQL_INDICATOR.format(dialect="dialect: tsql\n"))
    shown = kpi("explain", "TST 101", "--period", "2017-09", "--project", project).stdout
    assert 'SELECT p.month, "a"."cina_assessment_id"' in shown  # as run
    assert "-- numerator as written in T-SQL (indicators/tst_101.yaml, line 10)" in shown.replace(str(project) + "/", "")
    assert "--   AND ISNULL(a.cina_assessment_outcome_nfa, 0) = 0" in shown


def test_a_wrong_column_in_tsql_is_reported_at_its_line_of_the_yaml(kpi, tmp_path):
    text = TSQL_INDICATOR.format(dialect="dialect: tsql\n").replace("outcome_nfa, 0)", "outcome_nfx, 0)")
    project = _project(tmp_path, text)
    result = kpi("validate", "--project", project)
    assert result.exit_code == 1
    line = next(n for n, l in enumerate(text.splitlines(), start=1) if "outcome_nfx" in l)
    assert f"tst_101.yaml:{line}: error: the numerator does not bind" in result.stdout, result.stdout


def test_tsql_that_cannot_be_read_is_an_error_at_the_yaml(kpi, tmp_path):
    text = TSQL_INDICATOR.format(dialect="dialect: tsql\n").replace("AND p.end_date\n  WHERE", "AND (p.end_date\n  WHERE")
    result = kpi("validate", "--project", _project(tmp_path, text))
    assert result.exit_code == 1 and "the numerator cannot be read as T-SQL" in result.stdout


@pytest.mark.parametrize("habit, duckdb_form", [
    ("SELECT TOP 10 p.month", "LIMIT n"),
    ("SELECT p.month, DATEDIFF(day, a.cina_assessment_start_date, a.cina_assessment_auth_date) AS d", "date_diff('day', a, b)"),
    ("SELECT p.month, GETDATE() AS today", "current_date"),
    ("SELECT p.month, ISNULL(a.cina_assessment_outcome_nfa, 0) AS nfa", "coalesce(a, b)"),
])
def test_tsql_written_as_duckdb_gets_the_duckdb_form_as_a_hint(kpi, tmp_path, habit, duckdb_form):
    text = TSQL_INDICATOR.format(dialect="").replace("SELECT p.month, a.cina_assessment_id\n", f"{habit}, a.cina_assessment_id\n", 1)
    result = kpi("validate", "--project", _project(tmp_path, text))
    assert result.exit_code == 1
    at = next(n for n, l in enumerate(text.splitlines(), start=1) if habit in l)
    line = next(l for l in result.stdout.splitlines() if f"tst_101.yaml:{at}" in l)
    assert duckdb_form in line, result.stdout


def test_double_quoted_text_gets_the_single_quote_hint(kpi, tmp_path):
    text = TSQL_INDICATOR.format(dialect="").replace(
        "JOIN period p ON a.cina_assessment_auth_date BETWEEN p.start_date AND p.end_date\n  WHERE",
        "JOIN period p ON a.cina_assessment_auth_date BETWEEN p.start_date AND p.end_date\n  WHERE a.cina_assessment_id <> \"X\" AND")
    result = kpi("validate", "--project", _project(tmp_path, text.replace("[a].[cina_assessment_id]", "a.cina_assessment_id")))
    assert result.exit_code == 1 and "single quotes" in result.stdout, result.stdout


words = st.sampled_from(["a.x", "b.y", "1", "'t'", "AND", "=", "<", "+", ",", "(", ")", "SELECT", "FROM", "WHERE", "TOP 5", "[c]", "GETDATE()"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(words, max_size=6).map(" ".join), min_size=1, max_size=8))
def test_a_translation_has_as_many_lines_as_the_tsql(lines):
    sql = "SELECT a.x, [b].[y]\n" + "\n".join(lines).replace("SELECT", "") + "\nFROM t a JOIN u b ON a.x = b.y"
    try:
        translated = transpile(sql, "tsql")
    except Exception as error:  # SQL that is not SQL: only a DialectError may say so
        assert type(error).__name__ == "DialectError"
        return
    assert translated.count("\n") == sql.count("\n")
