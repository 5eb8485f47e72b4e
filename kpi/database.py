"""The DuckDB connection indicator SQL runs on: extract tables, the calendar, the shared macros and
views of queries/, and the `period` relation; locked so that no SQL can touch files, the network or
the configuration.

It does not decide which months or indicators to run (plan.py) nor what the counts mean (assess.py).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from typing import Iterable, Mapping

import duckdb

from kpi.calendar import CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, calendar_sql, non_working_days
from kpi.definitions import QueryFile, SharedDefinition
from kpi.extracts import Table, create_empty_table
from kpi.issues import Issue
from kpi.periods import PERIOD_COLUMNS
from kpi.sqlcheck import describe_error, locate, query_file_statement



def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory database, still open to files so that extracts can be loaded.

    Beyond its memory limit DuckDB spills to the system's temporary folder (not the working folder), so
    extracts larger than memory still load.
    """
    spill = os.path.join(tempfile.gettempdir(), "kpi-duckdb")
    return duckdb.connect(":memory:", config={"threads": os.cpu_count() or 2, "temp_directory": spill})


def lock(con: duckdb.DuckDBPyConnection) -> None:
    """From here on no statement may read or write files, attach databases, load extensions or change settings."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def create_missing_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[Table]) -> None:
    """Empty tables for the extracts not loaded, so that views over them still bind."""
    present = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    for table in tables:
        if table.name not in present:
            create_empty_table(con, table)


def install_calendar(con: duckdb.DuckDBPyConnection, closure_days: tuple[date, ...] = (), empty: bool = False) -> None:
    """ref_calendar: one row per day, with working days numbered (see queries/macros.sql); `empty`, no
    rows but the same columns, for SQL that is only bound (`kpi validate`), not run: no bank holidays
    are worked out."""
    if empty:
        con.execute("CREATE OR REPLACE TEMP TABLE _non_working_days (calendar_date DATE)")
        con.execute(calendar_sql(CALENDAR_FIRST_YEAR, CALENDAR_FIRST_YEAR - 1))
    else:
        closed = sorted(non_working_days(CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, closure_days))
        values = ", ".join(f"(DATE '{day.isoformat()}')" for day in closed)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _non_working_days AS SELECT * FROM (VALUES {values}) v(calendar_date)")
        con.execute(calendar_sql())
    con.execute("DROP TABLE _non_working_days")


def install_period(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, date]]) -> None:
    """The `period` relation: one row per month being computed, with the indicator's window."""
    rows = list(rows)
    if not rows:
        columns = ", ".join(f"{c} DATE" for c in PERIOD_COLUMNS)
        con.execute(f"CREATE OR REPLACE TEMP TABLE period ({columns})")
        return
    # One statement with literal dates: far cheaper than a prepared insert per row, run per indicator.
    values = ", ".join("(" + ", ".join(f"DATE '{row[c].isoformat()}'" for c in PERIOD_COLUMNS) + ")" for row in rows)
    con.execute(f"CREATE OR REPLACE TEMP TABLE period AS SELECT * FROM (VALUES {values}) v({', '.join(PERIOD_COLUMNS)})")


def shared_definitions(files: Iterable[QueryFile]) -> tuple[list[SharedDefinition], list[Issue]]:
    """The statements of queries/*.sql as macros and views; anything else is an issue."""
    found, issues = [], []
    for file in files:
        for statement in file.statements:
            kind_name = query_file_statement(statement.text)
            if kind_name is None:
                issues.append(Issue(
                    "forbidden-statement",
                    "a file under queries/ may hold only CREATE VIEW and CREATE MACRO statements",
                    statement.file, statement.line,
                    hint="move anything else out: the engine loads the data and runs the indicators",
                ))
                continue
            found.append(SharedDefinition(kind_name[0], kind_name[1], statement))
    return found, issues


def install_shared(con: duckdb.DuckDBPyConnection, definitions: list[SharedDefinition]) -> list[Issue]:
    """Create the macros and views, each after those it depends on; report the ones that fail.

    A view may read `period`: an empty one is created first, so that such views bind here. DuckDB binds
    a view's names again each time a query reads it, so each later install_period (a run's group of
    indicators, a test case, a drill) is what those views then see.
    """
    columns = ", ".join(f"{c} DATE" for c in PERIOD_COLUMNS)
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS period ({columns})")
    pending = list(definitions)
    while pending:
        failed: list[tuple[SharedDefinition, Exception]] = []
        for definition in pending:
            try:
                con.execute(definition.sql.text)
            except duckdb.Error as error:
                failed.append((definition, error))
        if len(failed) == len(pending):  # no progress: these fail on their own
            return [_shared_issue(d, e) for d, e in failed]
        pending = [d for d, _ in failed]
    return []


def materialise(con: duckdb.DuckDBPyConnection, views: list[SharedDefinition]) -> None:
    """Compute each view once into a temporary table of the same name, which shadows the view.

    A view that fails here is left as it is: the indicators that read it report the error.
    """
    for view in views:
        try:
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{view.name}" AS SELECT * FROM main."{view.name}"')
        except duckdb.Error:
            pass


def _shared_issue(definition: SharedDefinition, error: Exception) -> Issue:
    message = describe_error(error)
    sql_line = locate(definition.sql.text, error)
    line = definition.sql.file_line(sql_line) if sql_line else definition.sql.line
    return Issue("sql-binding", f"{definition.kind.lower()} {definition.name}: {message}", definition.sql.file, line)


def wrap(sql: str) -> str:
    """A user SELECT as a subquery, keeping its line numbers (DuckDB's `LINE n` stays the SQL's line n)."""
    body = sql.strip().rstrip(";")
    return f"SELECT * FROM ({body}\n)"


def columns_of(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str]:
    """The columns a SELECT returns, with their DuckDB types (binds it without running it)."""
    # DESCRIBE through execute(): its errors carry DuckDB's `LINE n`, which the relation API's lack.
    rows = con.execute(f"DESCRIBE {wrap(sql)}").fetchall()
    return {row[0].lower(): str(row[1]) for row in rows}

