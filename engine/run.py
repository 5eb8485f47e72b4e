"""Run each indicator's numerator and denominator once for all its months, on a locked DuckDB
connection, and return the measure per month: the count of rows, or the sum of a `value` column.

One indicator's failure is kept in its result and does not stop the others. No rounding, no display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

import duckdb

from engine.database import columns_of, describe_duckdb_error, install_period, locate, wrap
from engine.definitions import Sql
from engine.plan import IndicatorPlan, Plan

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


class QueryError(Exception):
    """An indicator query that failed: the message names the part and, when known, the file line."""


@dataclass(frozen=True)
class Counts:
    """The numerator and denominator of one indicator per month (absent months have no rows)."""

    numerator: Mapping[date, float] = field(default_factory=dict)
    denominator: Mapping[date, float] | None = None
    error: str | None = None


def run_plan(con: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, Counts]:
    """Counts for every indicator of the plan, by id."""
    return {p.indicator.id: run_indicator(con, p) for p in plan.indicators}


def run_indicator(con: duckdb.DuckDBPyConnection, plan: IndicatorPlan) -> Counts:
    """Counts for one indicator; a failure becomes `Counts.error`."""
    install_period(con, plan.period)
    try:
        numerator = measure(con, plan.numerator, "numerator")
        denominator = measure(con, plan.denominator, "denominator") if plan.denominator else None
    except QueryError as error:
        return Counts(error=str(error))
    return Counts(numerator, denominator)


def measure(con: duckdb.DuckDBPyConnection, sql: Sql, part: str) -> dict[date, float]:
    """The measure per month of one query: the number of rows, or the sum of its `value` column."""
    try:
        columns = columns_of(con, sql.text)
        if "month" not in columns:
            raise QueryError(f"the {part} returns no column `month`: select p.month from the `period` relation")
        if "value" in columns and not columns["value"].upper().startswith(NUMERIC_TYPES):
            raise QueryError(f"the {part}'s `value` column is {columns['value']}, not a number")
        aggregate = "sum(value)" if "value" in columns else "count(*)"
        rows = con.execute(
            f"SELECT CAST(month AS DATE) AS month, {aggregate} AS measure FROM ({wrap(sql.text)}) GROUP BY ALL"
        ).fetchall()
    except duckdb.Error as error:
        message, _ = describe_duckdb_error(error)
        line = locate(sql.text, error)
        where = f"{sql.file}:{sql.file_line(line)}" if line else sql.file
        raise QueryError(f"the {part} failed at {where}: {message}") from None
    return {_as_date(month): float(value) if value is not None else 0.0 for month, value in rows if month is not None}


def query_rows(con: duckdb.DuckDBPyConnection, sql: Sql) -> duckdb.DuckDBPyRelation:
    """The rows a query returns (the drill-down), for the months of the installed `period`."""
    return con.sql(wrap(sql.text))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
