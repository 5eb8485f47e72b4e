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


def test_a_parquet_file_damaged_inside_its_data_is_refused_naming_it(kpi, extracts):
    """A Parquet file is read where it is, so damage that its footer does not show is found by the checks:
    still one line naming the file, exit 2, never a traceback."""
    frame = pl.read_csv(extracts / "ssd_contacts.csv", infer_schema=False)
    frame = pl.concat([frame.with_columns(pl.col("cont_contact_id") + f"-{n}") for n in range(2000)])
    (extracts / "ssd_contacts.csv").unlink()
    path = extracts / "ssd_contacts.parquet"
    frame.write_parquet(path, compression="zstd")
    data = bytearray(path.read_bytes())
    data[len(data) // 5: len(data) // 2] = b"\xff" * (len(data) // 2 - len(data) // 5)  # the pages, not the footer
    path.write_bytes(bytes(data))
    result = compute(kpi, extracts)
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert "cannot read" in result.stderr and "ssd_contacts.parquet" in result.stderr, result.stderr


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
    ("1/9/2017", "2017-09-01"), ("30/09/2017 23:59", "2017-09-30"), ("2017-09-30T23:59:59+01:00", "2017-09-30"),
    # a year that is not written in full is unreadable, not the year 11 or 12
    ("11/06/12", "None"), ("11/06/12 10:00", "None"), ("12-06-11", "None"), ("0012-06-11", "None"),
    ("11/06/0012", "None"), ("NULL", "None"), ("20170930", "None"), ("1012-06-11", "None"), ("1/1/1899", "None"),
    ("1/1/1900", "1900-01-01"),
])
def test_date_forms(text, expected):
    from kpi.extracts import parse_expression

    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    assert str(con.execute(f"SELECT {parse_expression('d', 'date')} FROM t").fetchone()[0]) == expected


@pytest.mark.parametrize("text, expected", [
    ("2017-09-30 14:05", "2017-09-30 14:05:00"), ("30/09/2017 14:05:07", "2017-09-30 14:05:07"),
    ("30/09/2017", "2017-09-30 00:00:00"), ("2017-09-30T14:05:00Z", "2017-09-30 14:05:00"),
    ("2017-09-30 23:30:00-05:00", "2017-09-30 23:30:00"),  # the time as written, not moved to UTC
    ("30/09/17 14:05", "None"), ("17-09-30 14:05", "None"),
])
def test_timestamp_forms(text, expected):
    from kpi.extracts import parse_expression

    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    assert str(con.execute(f"SELECT {parse_expression('d', 'timestamp')} FROM t").fetchone()[0]) == expected


@pytest.mark.parametrize("text, pivot, expected", [
    ("11/06/12", 50, "2012-06-11"), ("31/12/49", 50, "2049-12-31"), ("1/1/50", 50, "1950-01-01"),
    ("11/06/99 10:00", 50, "1999-06-11"), ("11/06/12", 0, "1912-06-11"), ("11/06/2012", 50, "2012-06-11"),
    ("12-06-11", 50, "None"),  # year first with two digits stays ambiguous
])
def test_a_configured_pivot_reads_two_digit_years(text, pivot, expected):
    from kpi.extracts import parse_expression

    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    assert str(con.execute(f"SELECT {parse_expression('d', 'date', pivot)} FROM t").fetchone()[0]) == expected


def test_a_two_digit_year_is_refused_naming_file_row_column_value_and_the_pivot(kpi, extracts):
    path = extracts / "ssd_cp_plans.csv"
    path.write_text(path.read_text().replace("2017-01-10", "10/01/17"))
    result = compute(kpi, extracts)
    assert result.exit_code == 2
    assert "ssd_cp_plans.csv" in result.stderr and "row 1 (line 2)" in result.stderr
    assert "`cppl_cp_plan_start_date`: '10/01/17' is not a date" in result.stderr
    assert "two_digit_year_pivot" in result.stderr


def load(path, columns, kind="csv"):
    """Load one file as a table of text columns; its rows, or its problems."""
    from kpi.extracts import Column, Source, Table, load_table

    table = Table("t", (columns[0],), tuple(Column(c, "text") for c in columns))
    con = duckdb.connect()
    problems = load_table(con, table, Source("t", path, kind))
    return problems or con.execute("SELECT * FROM t").fetchall()


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8"])
def test_text_arrives_intact_whatever_the_encoding(tmp_path, encoding):
    path = tmp_path / "t.csv"
    text = "id,note\r\n1,£5 for the café\r\n2,naïve\r\n"
    if encoding in ("utf-16-le", "utf-16-be"):  # with their byte-order mark, as Excel writes them
        path.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))
    else:
        path.write_bytes(text.encode(encoding))
    assert load(path, ["id", "note"]) == [("1", "£5 for the café"), ("2", "naïve")]


def test_a_configured_encoding_is_used(tmp_path):
    from kpi.extracts import Column, Source, Table, load_table

    path = tmp_path / "t.csv"
    path.write_bytes("id,note\n1,Łódź\n".encode("iso-8859-2"))
    table = Table("t", ("id",), (Column("id", "text"), Column("note", "text")))
    con = duckdb.connect()
    assert load_table(con, table, Source("t", path, "csv"), encoding="iso-8859-2") == []
    assert con.execute("SELECT note FROM t").fetchone()[0] == "Łódź"


def test_a_file_no_encoding_reads_names_the_line_the_encoding_and_what_to_do(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,note\n1,ok\n2,\x81\n")
    [problem] = load(path, ["id", "note"])
    assert problem.line == 3 and "line 3" in problem.message and "cp1252" in problem.message
    assert "CSV UTF-8" in problem.hint and "[encoding]" in problem.hint


def test_a_utf8_file_with_one_bad_byte_is_refused_not_garbled(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id,note\n1,café\n2,ok\n".encode("utf-8") + b"3,\xe9t\xe9\n")  # one line saved as Windows-1252
    [problem] = load(path, ["id", "note"])
    assert "line 4" in problem.message and "UTF-8" in problem.message


def test_rows_whose_every_cell_is_empty_are_no_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,note\n1,a\n,\n2,b\n , \n,\n")
    assert load(path, ["id", "note"]) == [("1", "a"), ("2", "b")]
    excel = tmp_path / "t.xlsx"
    pl.DataFrame({"id": ["1", None, "2", None], "note": ["a", None, "b", None]}).write_excel(excel)
    assert load(excel, ["id", "note"], "xlsx") == [("1", "a"), ("2", "b")]


def test_typed_text_is_trimmed_and_numbers_stored_for_text_are_written_whole(tmp_path):
    path = tmp_path / "t.parquet"
    pl.DataFrame({"id": ["  A1 ", "B2", "   "], "float_id": [22889.0, 7.0, 2.5], "int_id": [1, 22, 333]}).write_parquet(path)
    assert load(path, ["int_id", "id", "float_id"], "parquet") == [("1", "A1", "22889"), ("22", "B2", "7"), ("333", None, "2.5")]


def test_a_typed_date_with_an_implausible_year_is_named(tmp_path):
    from datetime import date

    from kpi.extracts import Column, Source, Table, load_table

    path = tmp_path / "t.parquet"
    pl.DataFrame({"id": ["1", "2"], "d": [date(2012, 6, 11), date(12, 6, 11)]}).write_parquet(path)
    table = Table("t", ("id",), (Column("id", "text"), Column("d", "date")))
    [problem] = load_table(duckdb.connect(), table, Source("t", path, "parquet"))
    assert "row 2, column `d`: '0012-06-11' is not a date from 1900 on" in problem.message


def test_files_kpi_writes_get_the_umask_permissions(tmp_path):
    import os

    from kpi.atomic import write_atomically

    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "out.txt", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").read_text() == "x"
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


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
