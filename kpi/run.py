"""Run each indicator's numerator and denominator once for all its months, on a locked DuckDB
connection, and return the measure per month: the count of rows, or the sum of a `value` column.

One indicator's failure is kept in its result and does not stop the others. No rounding, no display.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

import duckdb

from kpi.database import columns_of, install_period, wrap
from kpi.definitions import Sql
from kpi.extracts import quote
from kpi.plan import IndicatorPlan, Plan
from kpi.sqlcheck import describe_error, locate

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


class QueryError(Exception):
    """An indicator query that failed: the message names the part and, when known, the file line."""


@dataclass(frozen=True)
class Counts:
    """The numerator and denominator of one indicator per month (absent months have no rows), and,
    when a breakdown is asked for, the same per group of each dimension (`breakdowns`: dimension →
    group → Counts), or why it cannot be broken down by one (`breakdown_errors`: dimension → text)."""

    numerator: Mapping[date, float] = field(default_factory=dict)
    denominator: Mapping[date, float] | None = None
    error: str | None = None
    breakdowns: Mapping[str, Mapping[str, "Counts"]] = field(default_factory=dict)
    breakdown_errors: Mapping[str, str] = field(default_factory=dict)


def run_plan(
    con: duckdb.DuckDBPyConnection, plan: Plan, by: tuple[str, ...] = (), time_limit: float | None = None,
) -> dict[str, Counts]:
    """Counts for every indicator of the plan, by id; per group of each dimension of `by` too.

    Indicators with the same `period` rows (the same `collected` and months) share one installation of
    it, and their queries run as one UNION ALL, which DuckDB runs in parallel with one round trip. If
    that fails, each indicator runs on its own, so that the one at fault reports its own error.
    """
    groups: dict[tuple, list[IndicatorPlan]] = {}
    for indicator_plan in plan.indicators:
        groups.setdefault(tuple(tuple(row.values()) for row in indicator_plan.period), []).append(indicator_plan)
    counts: dict[str, Counts] = {}
    for same_period in groups.values():
        install_period(con, same_period[0].period)
        together = None if by else _run_together(con, same_period, time_limit)
        for indicator_plan in same_period:
            indicator_id = indicator_plan.indicator.id
            counts[indicator_id] = together[indicator_id] if together else run_indicator(
                con, indicator_plan, by, period_installed=True, time_limit=time_limit)
    return counts


def _run_together(con: duckdb.DuckDBPyConnection, plans: list[IndicatorPlan], time_limit: float | None = None) -> dict[str, Counts] | None:
    """The counts of several indicators from one query; None when any part of it fails."""
    parts = []
    try:
        for number, indicator_plan in enumerate(plans):
            for part, sql in (("numerator", indicator_plan.numerator), ("denominator", indicator_plan.denominator)):
                if sql is not None:
                    aggregate = _aggregate(con, sql, part)
                    parts.append(f"SELECT {number} AS n, '{part}' AS part, CAST(month AS DATE) AS month, "
                                 f"{aggregate} AS measure FROM ({wrap(sql.text)}) GROUP BY ALL")
        rows = _fetch(con, "\nUNION ALL\n".join(parts), time_limit)
    except (duckdb.Error, QueryError, QueryTimeout):
        return None
    measured: dict[tuple[int, str], dict[date, float]] = {}
    if any(value is not None and not math.isfinite(value) for *_, value in rows):
        return None  # run alone, the indicator at fault names its month
    for number, part, month, value in rows:
        if month is not None:
            measured.setdefault((number, part), {})[_as_date(month)] = float(value) if value is not None else 0.0
    return {
        p.indicator.id: Counts(
            measured.get((n, "numerator"), {}),
            measured.get((n, "denominator"), {}) if p.denominator is not None else None,
        )
        for n, p in enumerate(plans)
    }


def run_indicator(
    con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, by: tuple[str, ...] = (), period_installed: bool = False,
    time_limit: float | None = None,
) -> Counts:
    """Counts for one indicator; a failure becomes `Counts.error`."""
    if not period_installed:
        install_period(con, plan.period)
    try:
        numerator = _totals(measure(con, plan.numerator, "numerator", time_limit=time_limit))
        denominator = _totals(measure(con, plan.denominator, "denominator", time_limit=time_limit)) if plan.denominator else None
    except QueryError as error:
        return Counts(error=str(error))
    breakdowns, errors = {}, {}
    for dimension in by:
        try:
            breakdowns[dimension] = _groups(con, plan, dimension, denominator, time_limit)
        except QueryError as error:
            errors[dimension] = str(error)
    return Counts(numerator, denominator, breakdowns=breakdowns, breakdown_errors=errors)


def _groups(
    con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, by: str, denominator: Mapping[date, float] | None,
    time_limit: float | None = None,
) -> dict[str, Counts]:
    """Counts per value of `by`. A denominator without that column (a population) serves every group."""
    if by.lower() not in columns_of(con, plan.numerator.text):
        raise QueryError(f"the numerator returns no column `{by}` to break it down by")
    numerators = measure(con, plan.numerator, "numerator", by, time_limit)
    denominators = None
    if plan.denominator is not None and by.lower() in columns_of(con, plan.denominator.text):
        denominators = measure(con, plan.denominator, "denominator", by, time_limit)
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


def measure(
    con: duckdb.DuckDBPyConnection, sql: Sql, part: str, by: str | None = None, time_limit: float | None = None,
) -> dict[tuple[date, str | None], float]:
    """The measure per month (and per value of `by`) of one query: the number of rows, or the sum of `value`."""
    try:
        aggregate = _aggregate(con, sql, part)
        group = f"CAST({quote(by)} AS VARCHAR)" if by else "NULL"
        rows = _fetch(
            con,
            f"SELECT CAST(month AS DATE) AS month, {group} AS grp, {aggregate} AS measure "
            f"FROM ({wrap(sql.text)}) GROUP BY ALL",
            time_limit,
        )
    except QueryTimeout:
        raise QueryError(f"the {part} ran for more than {time_limit:g} s and was stopped: "
                         "look for a join without a condition, or raise query_time_limit in kpi.toml") from None
    except duckdb.Error as error:
        message = describe_error(error)
        line = locate(sql.text, error)
        where = f"{sql.file}:{sql.file_line(line)}" if line else sql.file
        raise QueryError(f"the {part} failed at {where}: {message}") from None
    for month, _, value in rows:
        if value is not None and not math.isfinite(value):
            shown = f"{month:%Y-%m}" if month is not None else "a row without a month"
            raise QueryError(f"the {part}'s `value` adds up to {value} in {shown}, not a number: "
                             "look for a division by zero or an overflow in its `value` expression "
                             "(nullif(x, 0) makes a zero divisor give no value)")
    return {(_as_date(month), grp): float(value) if value is not None else 0.0 for month, grp, value in rows if month is not None}


class QueryTimeout(Exception):
    """A query stopped because it ran longer than the time limit."""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, time_limit: float | None) -> list[tuple]:
    """All rows of `sql`; a query still running after `time_limit` seconds is interrupted.

    A runaway query (a join without a condition over millions of rows) must not hang a monthly run.
    """
    if not time_limit:
        return con.execute(sql).fetchall()
    timer = threading.Timer(time_limit, con.interrupt)
    timer.start()
    try:
        return con.execute(sql).fetchall()
    except duckdb.InterruptException:
        raise QueryTimeout() from None
    finally:
        timer.cancel()


def _aggregate(con: duckdb.DuckDBPyConnection, sql: Sql, part: str) -> str:
    """How a query's rows make its measure: `count(*)`, or `sum(value)` when it returns a numeric `value`."""
    columns = columns_of(con, sql.text)
    if "month" not in columns:
        raise QueryError(f"the {part} returns no column `month`: select p.month from the `period` relation")
    if "value" in columns and not columns["value"].upper().startswith(NUMERIC_TYPES):
        raise QueryError(f"the {part}'s `value` column is {columns['value']}, not a number")
    return "sum(value)" if "value" in columns else "count(*)"


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
