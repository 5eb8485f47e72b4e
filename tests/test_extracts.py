"""Loading the council's extracts (kpi/extracts.py): formats, date forms, and every kind of bad input
reported with file, row, column and value, all in one run, with nothing computed."""

import json
import duckdb
import polars as pl
import pytest

from tests.conftest import FIXTURE_PROJECT


def compute(kpi, extracts, *extra):
    return kpi("compute", "--project", FIXTURE_PROJECT, "--data", extracts, "--period", "2017-09", "--format", "json", *extra)


def numbers(result):
    """The published scorecard, without the provenance record (which names the files it was made from)."""
    assert result.exit_code == 0, result.stderr
    scorecard = json.loads(result.stdout)
    scorecard.pop("provenance")
    return scorecard


def test_unreadable_values_name_file_row_column_and_value_all_at_once(kpi, extracts):
    path = extracts / "ssd_cin_assessments.csv"
    path.write_text(path.read_text().replace("2017-09-05", "31/02/2017").replace("30/09/2017,true", "30/09/2017,maybe"))
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "ssd_cin_assessments.csv, row 1 (line 2), column `cina_assessment_auth_date`: '31/02/2017' is not a date" in result.stderr
    assert "row 4 (line 5), column `cina_assessment_child_seen`: 'maybe' is not true/false" in result.stderr


def test_a_misspelt_column_is_named_with_a_suggestion(kpi, extracts):
    path = extracts / "ssd_cp_plans.csv"
    path.write_text(path.read_text().replace("cppl_cp_plan_end_date", "cppl_cp_plan_end_dte"))
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "has no column `cppl_cp_plan_end_date`" in result.stderr
    assert "`cppl_cp_plan_end_dte`" in result.stderr


def test_duplicate_and_empty_keys(kpi, extracts):
    path = extracts / "ssd_contacts.csv"
    path.write_text(path.read_text() + "K1,P9,2017-01-01 10:00,1A,M9,N\n,P9,2017-01-01 10:00,1A,M9,N\n")
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "the key `cont_contact_id` 'K1' is used by more than one row (row 1 (line 2), row 4 (line 5))" in result.stderr
    assert "row 5 (line 6): the key `cont_contact_id` is empty" in result.stderr


def test_a_missing_table_names_the_indicators_that_need_it(kpi, extracts):
    (extracts / "ssd_cp_plans.csv").unlink()
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "table ssd_cp_plans is not in" in result.stderr and "TST 003 need it" in result.stderr


def test_a_table_no_indicator_uses_may_be_absent(kpi, extracts):
    (extracts / "ssd_cp_plans.csv").unlink()
    result = compute(kpi, extracts, "--indicators", "TST 001")
    assert result.exit_code == 0


def test_problems_in_several_files_are_all_listed(kpi, extracts):
    (extracts / "ssd_contacts.csv").write_text("cont_contact_id,cont_person_id\nK1,P1\n")
    path = extracts / "ssd_cin_episodes.csv"
    path.write_text(path.read_text().replace("2017-08-15 10:00", "yesterday"))
    result = compute(kpi, extracts)
    assert "ssd_contacts.csv has no column `cont_contact_date`" in result.stderr
    assert "'yesterday' is not a date and time" in result.stderr


def test_parquet_excel_and_duckdb_files_load_like_csv(kpi, extracts, tmp_path):
    expected = numbers(compute(kpi, extracts))
    for name in ("ssd_cin_episodes", "ssd_contacts"):
        frame = pl.read_csv(extracts / f"{name}.csv", infer_schema=False)
        (extracts / f"{name}.csv").unlink()
        if name == "ssd_cin_episodes":
            frame.write_parquet(extracts / f"{name}.parquet")
        else:
            frame.write_excel(extracts / f"{name}.xlsx")
    assert numbers(compute(kpi, extracts)) == expected

    database = tmp_path / "extracts.duckdb"
    with duckdb.connect(str(database)) as con:
        for path in sorted(extracts.iterdir()):
            if path.suffix == ".csv":
                con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_csv('{path}', all_varchar = true)")
            elif path.suffix == ".parquet":
                con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_parquet('{path}')")
            else:
                con.register("frame", pl.read_excel(path).to_arrow())
                con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM frame")
    assert numbers(compute(kpi, database)) == expected


def test_a_table_given_twice_is_an_error(kpi, extracts):
    pl.read_csv(extracts / "ssd_contacts.csv", infer_schema=False).write_parquet(extracts / "ssd_contacts.parquet")
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "table ssd_contacts is given more than once" in result.stderr


def test_a_corrupt_file_is_reported(kpi, extracts):
    (extracts / "ssd_contacts.csv").unlink()
    (extracts / "ssd_contacts.parquet").write_bytes(b"not parquet at all")
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and "ssd_contacts.parquet" in result.stderr


@pytest.mark.parametrize("text, expected", [
    ("2017-09-30", "2017-09-30"), ("30/09/2017", "2017-09-30"), ("2017-09-30 00:00:00", "2017-09-30"),
    ("1/9/2017", "2017-09-01"),
])
def test_date_forms(text, expected):
    from kpi.extracts import parse_expression

    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    assert str(con.execute(f"SELECT {parse_expression('d', 'date')} FROM t").fetchone()[0]) == expected


@pytest.mark.parametrize("text, expected", [
    ("Y", True), ("n", False), ("1", True), ("0", False), ("true", True), ("FALSE", False), ("", None),
])
def test_boolean_forms(text, expected):
    from kpi.extracts import parse_expression

    con = duckdb.connect()
    con.execute("CREATE TABLE t (b VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    assert con.execute(f"SELECT {parse_expression('b', 'boolean')} FROM t").fetchone()[0] is expected


def test_loading_reports_progress_per_table(extracts):
    from kpi import pipeline
    from kpi.config import open_project
    from kpi.periods import parse_period

    project = open_project(FIXTURE_PROJECT)
    definitions = pipeline.load_definitions(project)
    messages = []
    pipeline.compute(project, definitions, definitions.indicators, parse_period("2017-09"), extracts, progress=messages.append)
    assert len(messages) == 6
    assert any(m.endswith(" s") and "ssd_contacts.csv: 3 rows in" in m for m in messages)
    assert messages[0].startswith("[1/6] ")
