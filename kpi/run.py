"""Run each indicator's numerator and denominator once for all its months, on a locked DuckDB
connection, and return the measure per month: the count of rows, or the sum of a `value` column.

One indicator's failure is kept in its result and does not stop the others. No rounding, no display.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Mapping

import duckdb

from kpi.database import columns_of, install_period, wrap
from kpi.definitions import Sql
from kpi.extracts import quote
from kpi.plan import Dimension, IndicatorPlan, Plan
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
    con: duckdb.DuckDBPyConnection, plan: Plan, by: tuple[Dimension, ...] = (), time_limit: float | None = None,
    unavailable: Mapping[str, str] | None = None,
) -> dict[str, Counts]:
    """Counts for every indicator of the plan, by id; per group of each dimension of `by` too
    (`unavailable`: why a dimension cannot be joined to any child in these data, by name).

    Indicators with the same `period` rows (the same `collected` and months) share one installation of
    it, and their queries run as one UNION ALL, which DuckDB runs in parallel with one round trip; so do
    their breakdowns, one UNION ALL per dimension. If one fails, each indicator runs on its own, so
    that the one at fault reports its own error.
    """
    groups: dict[tuple, list[IndicatorPlan]] = {}
    for indicator_plan in plan.indicators:
        groups.setdefault(tuple(tuple(row.values()) for row in indicator_plan.period), []).append(indicator_plan)
    counts: dict[str, Counts] = {}
    for same_period in groups.values():
        install_period(con, same_period[0].period)
        together = _run_together(con, same_period, time_limit)
        for indicator_plan in same_period:
            indicator_id = indicator_plan.indicator.id
            counts[indicator_id] = together[indicator_id] if together else run_indicator(
                con, indicator_plan, period_installed=True, time_limit=time_limit)
        if by:
            counted = [p for p in same_period if not counts[p.indicator.id].error]
            broken_down = {p.indicator.id: ({}, {}) for p in counted}
            for dimension in by:
                reason = (unavailable or {}).get(dimension.name)
                found = _breakdowns_together(con, counted, dimension, reason, time_limit)
                for indicator_id, (found_groups, error) in found.items():
                    if error is None:
                        broken_down[indicator_id][0][dimension.name] = found_groups
                    else:
                        broken_down[indicator_id][1][dimension.name] = error
            for indicator_id, (breakdowns, errors) in broken_down.items():
                counts[indicator_id] = replace(counts[indicator_id], breakdowns=breakdowns, breakdown_errors=errors)
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
    con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, by: tuple[Dimension, ...] = (), period_installed: bool = False,
    time_limit: float | None = None, unavailable: Mapping[str, str] | None = None,
) -> Counts:
    """Counts for one indicator (and its groups of each dimension of `by`); a failure becomes `Counts.error`."""
    if not period_installed:
        install_period(con, plan.period)
    try:
        numerator = _totals(measure(con, plan.numerator, "numerator", time_limit=time_limit))
        denominator = _totals(measure(con, plan.denominator, "denominator", time_limit=time_limit)) if plan.denominator else None
    except QueryError as error:
        return Counts(error=str(error))
    counts = Counts(numerator, denominator)
    breakdowns, errors = {}, {}
    for dimension in by:
        reason = (unavailable or {}).get(dimension.name)
        found_groups, error = _breakdown_alone(con, plan, dimension, reason, time_limit)
        if error is None:
            breakdowns[dimension.name] = found_groups
        else:
            errors[dimension.name] = error
    return replace(counts, breakdowns=breakdowns, breakdown_errors=errors)


class NoBreakdown(Exception):
    """Why a query's rows cannot be grouped by a dimension (no child column, the dimension's tables empty)."""


def breakdown_query(con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, sql: Sql, part: str, dimension: Dimension,
                    unavailable: str | None = None) -> str:
    """The SELECT of one query's measure per month and group of `dimension` (columns month, grp, measure).

    A row that carries a column named like the dimension is grouped by it (the record's own team);
    otherwise by the dimension's macro, called with the row's child (the column the indicator's
    `breakdown.child` names, else the one column named `person_id` or ending in `_person_id`) and date
    (the column `breakdown.date` names, else the end of the row's month, `period.snapshot_date`).
    Raises NoBreakdown when it cannot be; QueryError (or duckdb.Error) when the query does not bind.
    """
    columns = columns_of(con, sql.text)
    aggregate = _aggregate(con, sql, part)
    indicator = plan.indicator
    source = f"({wrap(sql.text)}) q"
    if dimension.name in columns:
        group = f"q.{quote(dimension.name)}"
    else:
        if unavailable:
            raise NoBreakdown(unavailable)
        child = _child_column(columns, part, dimension, indicator.breakdown_child)
        if indicator.breakdown_date:
            if indicator.breakdown_date.lower() not in columns:
                raise NoBreakdown(f"the {part} returns no column `{indicator.breakdown_date}` (the indicator's breakdown.date)")
            on_date = f"CAST(q.{quote(indicator.breakdown_date.lower())} AS DATE)"
        else:
            on_date = "p.snapshot_date"
            source += " JOIN period p ON p.month = q.month"
        group = f"{dimension.macro}(q.{quote(child)}, {on_date})"
    # On one line before the query: its lines keep their numbers in DuckDB's messages.
    return (f"SELECT CAST(q.month AS DATE) AS month, CAST({group} AS VARCHAR) AS grp, {aggregate} AS measure "
            f"FROM {source} GROUP BY ALL")


def _child_column(columns: Mapping[str, str], part: str, dimension: Dimension, named: str | None) -> str:
    if named:
        if named.lower() in columns:
            return named.lower()
        raise NoBreakdown(f"the {part} returns no column `{named}` (the indicator's breakdown.child)")
    found = [c for c in columns if c == "person_id" or c.endswith("_person_id")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NoBreakdown(f"the {part} returns no column `{dimension.name}` and no child to find it for "
                          "(a column named person_id or ending in _person_id)")
    raise NoBreakdown(f"the {part} returns {len(found)} child columns ({', '.join(found)}): "
                      "name the one to break it down by in the indicator's breakdown.child")


def _breakdowns_together(
    con: duckdb.DuckDBPyConnection, plans: list[IndicatorPlan], dimension: Dimension, unavailable: str | None,
    time_limit: float | None,
) -> dict[str, tuple[dict[str, Counts], str | None]]:
    """Every indicator's groups of one dimension, from one query where it can: (groups, None), or
    (empty, why not) per id. Falls back to each indicator alone when the query as a whole fails."""
    def each_alone() -> dict[str, tuple[dict[str, Counts], str | None]]:
        # run alone, the indicator at fault names its own error or month
        return {p.indicator.id: _breakdown_alone(con, p, dimension, unavailable, time_limit) for p in plans}

    found: dict[str, tuple[dict[str, Counts], str | None]] = {}
    queries: dict[tuple[int, str], str] = {}
    for number, indicator_plan in enumerate(plans):
        try:
            parts = breakdown_parts(con, indicator_plan, dimension, unavailable)
        except NoBreakdown as reason:
            found[indicator_plan.indicator.id] = ({}, str(reason))
            continue
        except (duckdb.Error, QueryError):
            return each_alone()
        queries.update({(number, part): text for part, text in parts.items()})
    if queries:
        union = "\nUNION ALL\n".join(f"SELECT {n} AS n, '{part}' AS part, month, grp, measure FROM ({text})"
                                      for (n, part), text in queries.items())
        try:
            rows = _fetch(con, union, time_limit)
        except (duckdb.Error, QueryTimeout):
            return each_alone()
        if any(value is not None and not math.isfinite(value) for *_, value in rows):
            return each_alone()
        measured: dict[tuple[int, str], dict[tuple[date, str | None], float]] = {}
        for number, part, month, grp, value in rows:
            if month is not None:
                measured.setdefault((number, part), {})[(_as_date(month), grp)] = float(value) if value is not None else 0.0
        for number, indicator_plan in enumerate(plans):
            if indicator_plan.indicator.id not in found:
                denominators = measured.get((number, "denominator"), {}) if (number, "denominator") in queries else None
                found[indicator_plan.indicator.id] = (_groups(measured.get((number, "numerator"), {}), denominators), None)
    return found


def breakdown_parts(con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, dimension: Dimension, unavailable: str | None) -> dict[str, str]:
    """The breakdown queries of an indicator's numerator and, when it breaks down too, its denominator.

    The denominator must break down too, or the groups would have no denominator of their own: a
    rate's population divided among groups it has no record of would give each group a plausible rate
    that is not its own (a share of the whole rate, not the rate per 10,000 of that group)."""
    parts = {"numerator": breakdown_query(con, plan, plan.numerator, "numerator", dimension, unavailable)}
    if plan.denominator is not None:
        try:
            parts["denominator"] = breakdown_query(con, plan, plan.denominator, "denominator", dimension, unavailable)
        except NoBreakdown as reason:
            raise NoBreakdown(f"{reason}, so its groups would have no denominator of their own") from None
    return parts


def _breakdown_alone(
    con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, dimension: Dimension, unavailable: str | None,
    time_limit: float | None,
) -> tuple[dict[str, Counts], str | None]:
    """One indicator's groups of one dimension: (groups, None), or (empty, why not)."""
    try:
        parts = breakdown_parts(con, plan, dimension, unavailable)
        numerators = _measured(con, parts["numerator"], plan.numerator, "numerator", time_limit)
        denominators = None
        if "denominator" in parts:
            denominators = _measured(con, parts["denominator"], plan.denominator, "denominator", time_limit)
    except NoBreakdown as reason:
        return {}, str(reason)
    except QueryError as error:
        return {}, str(error)
    except duckdb.Error as error:
        return {}, describe_error(error)
    return _groups(numerators, denominators), None


def _groups(
    numerators: Mapping[tuple[date, str | None], float], denominators: Mapping[tuple[date, str | None], float] | None,
) -> dict[str, Counts]:
    """Counts per group, in natural order (`Team 2` before `Team 10`), `(none)` last: the rows with no
    value of the dimension. `denominators` is none for an indicator without one (one that cannot be
    broken down refuses the dimension: breakdown_parts)."""
    names = sorted({g for _, g in numerators} | {g for _, g in denominators or {}}, key=_group_order)
    groups = {}
    for name in names:
        group_denominator = None if denominators is None else {m: v for (m, g), v in denominators.items() if g == name}
        groups[NO_GROUP if name is None else name] = Counts({m: v for (m, g), v in numerators.items() if g == name}, group_denominator)
    return groups


NO_GROUP = "(none)"


def _group_order(name: str | None) -> tuple:
    """None last; else by text, with runs of digits compared as numbers."""
    if name is None:
        return (1, ())
    return (0, tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.findall(r"\d+|\D+", name)))


def _totals(measured: Mapping[tuple[date, str | None], float]) -> dict[date, float]:
    return {month: value for (month, _), value in measured.items()}


def measure(
    con: duckdb.DuckDBPyConnection, sql: Sql, part: str, time_limit: float | None = None,
) -> dict[tuple[date, str | None], float]:
    """The measure per month of one query: the number of rows, or the sum of `value` (keys: (month, None))."""
    try:
        aggregate = _aggregate(con, sql, part)
    except duckdb.Error as error:
        raise _query_error(sql, part, error) from None
    return _measured(con, f"SELECT CAST(month AS DATE) AS month, NULL AS grp, {aggregate} AS measure "
                          f"FROM ({wrap(sql.text)}) GROUP BY ALL", sql, part, time_limit)


def _measured(
    con: duckdb.DuckDBPyConnection, select: str, sql: Sql, part: str, time_limit: float | None = None,
) -> dict[tuple[date, str | None], float]:
    """The rows (month, grp, measure) of `select`, which wraps the query `sql` on its first line."""
    try:
        rows = _fetch(con, select, time_limit)
    except QueryTimeout:
        raise QueryError(f"the {part} ran for more than {time_limit:g} s and was stopped: "
                         "look for a join without a condition, or raise query_time_limit in kpi.toml") from None
    except duckdb.Error as error:
        raise _query_error(sql, part, error) from None
    for month, _, value in rows:
        if value is not None and not math.isfinite(value):
            shown = f"{month:%Y-%m}" if month is not None else "a row without a month"
            raise QueryError(f"the {part}'s `value` adds up to {value} in {shown}, not a number: "
                             "look for a division by zero or an overflow in its `value` expression "
                             "(nullif(x, 0) makes a zero divisor give no value)")
    return {(_as_date(month), grp): float(value) if value is not None else 0.0 for month, grp, value in rows if month is not None}


def _query_error(sql: Sql, part: str, error: duckdb.Error) -> QueryError:
    message = describe_error(error)
    line = locate(sql.text, error)
    where = f"{sql.file}:{sql.file_line(line)}" if line else sql.file
    return QueryError(f"the {part} failed at {where}: {message}")


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
