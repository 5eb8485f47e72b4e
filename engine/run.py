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
from engine.extracts import quote
from engine.plan import IndicatorPlan, Plan

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


class QueryError(Exception):
    """An indicator query that failed: the message names the part and, when known, the file line."""


@dataclass(frozen=True)
class Counts:
    """The numerator and denominator of one indicator per month (absent months have no rows), and,
    when a breakdown is asked for, the same per value of the dimension (`groups`)."""

    numerator: Mapping[date, float] = field(default_factory=dict)
    denominator: Mapping[date, float] | None = None
    error: str | None = None
    groups: Mapping[str, "Counts"] | None = None
    group_error: str | None = None


def run_plan(con: duckdb.DuckDBPyConnection, plan: Plan, by: str | None = None) -> dict[str, Counts]:
    """Counts for every indicator of the plan, by id; per value of the column `by` too, when given.

    Indicators with the same `period` rows (the same `collected` and months) run one after another on
    one installation of it.
    """
    by_period: dict[tuple, list[IndicatorPlan]] = {}
    for indicator_plan in plan.indicators:
        by_period.setdefault(tuple(tuple(row.values()) for row in indicator_plan.period), []).append(indicator_plan)
    counts = {}
    for same_period in by_period.values():
        install_period(con, same_period[0].period)
        for indicator_plan in same_period:
            counts[indicator_plan.indicator.id] = run_indicator(con, indicator_plan, by, period_installed=True)
    return counts


def run_indicator(
    con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, by: str | None = None, period_installed: bool = False,
) -> Counts:
    """Counts for one indicator; a failure becomes `Counts.error`."""
    if not period_installed:
        install_period(con, plan.period)
    try:
        numerator = _totals(measure(con, plan.numerator, "numerator"))
        denominator = _totals(measure(con, plan.denominator, "denominator")) if plan.denominator else None
    except QueryError as error:
        return Counts(error=str(error))
    if by is None:
        return Counts(numerator, denominator)
    try:
        groups = _groups(con, plan, by, denominator)
    except QueryError as error:
        return Counts(numerator, denominator, group_error=str(error))
    return Counts(numerator, denominator, groups=groups)


def _groups(con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, by: str, denominator: Mapping[date, float] | None) -> dict[str, Counts]:
    """Counts per value of `by`. A denominator without that column (a population) serves every group."""
    if by.lower() not in columns_of(con, plan.numerator.text):
        raise QueryError(f"the numerator returns no column `{by}` to break it down by")
    numerators = measure(con, plan.numerator, "numerator", by)
    denominators = None
    if plan.denominator is not None and by.lower() in columns_of(con, plan.denominator.text):
        denominators = measure(con, plan.denominator, "denominator", by)
    names = sorted({g for _, g in numerators} | {g for _, g in denominators or {}}, key=lambda g: (g is None, g or ""))
    groups = {}
    for name in names:
        label = "(none)" if name is None else name
        group_denominator = denominator
        if denominators is not None:
            group_denominator = {m: v for (m, g), v in denominators.items() if g == name}
        groups[label] = Counts({m: v for (m, g), v in numerators.items() if g == name}, group_denominator)
    return groups


def _totals(measured: Mapping[tuple[date, str | None], float]) -> dict[date, float]:
    return {month: value for (month, _), value in measured.items()}


def measure(con: duckdb.DuckDBPyConnection, sql: Sql, part: str, by: str | None = None) -> dict[tuple[date, str | None], float]:
    """The measure per month (and per value of `by`) of one query: the number of rows, or the sum of `value`."""
    try:
        columns = columns_of(con, sql.text)
        if "month" not in columns:
            raise QueryError(f"the {part} returns no column `month`: select p.month from the `period` relation")
        if "value" in columns and not columns["value"].upper().startswith(NUMERIC_TYPES):
            raise QueryError(f"the {part}'s `value` column is {columns['value']}, not a number")
        aggregate = "sum(value)" if "value" in columns else "count(*)"
        group = f"CAST({quote(by)} AS VARCHAR)" if by else "NULL"
        rows = con.execute(
            f"SELECT CAST(month AS DATE) AS month, {group} AS grp, {aggregate} AS measure "
            f"FROM ({wrap(sql.text)}) GROUP BY ALL"
        ).fetchall()
    except duckdb.Error as error:
        message, _ = describe_duckdb_error(error)
        line = locate(sql.text, error)
        where = f"{sql.file}:{sql.file_line(line)}" if line else sql.file
        raise QueryError(f"the {part} failed at {where}: {message}") from None
    return {(_as_date(month), grp): float(value) if value is not None else 0.0 for month, grp, value in rows if month is not None}


def query_rows(con: duckdb.DuckDBPyConnection, sql: Sql) -> duckdb.DuckDBPyRelation:
    """The rows a query returns (the drill-down), for the months of the installed `period`."""
    return con.sql(wrap(sql.text))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
