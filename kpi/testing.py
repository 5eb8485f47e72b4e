"""Run indicators' fixture cases (SPEC §8): each on an otherwise empty database holding only the rows
it gives, for its one month, compared with what it expects.

Reuses one locked connection for all cases (emptying the tables between them): building the calendar
and the shared views once keeps a few hundred cases to a few seconds. Mutation testing (mutants.py)
runs the same steps against altered SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

import duckdb

from kpi import database
from kpi.assess import compute_value
from kpi.definitions import Indicator, SharedDefinition, TestCase
from kpi.extracts import Table, load_rows, quote
from kpi.issues import Issue
from kpi.plan import plan_indicator
from kpi.run import run_indicator
from kpi.sqlcheck import select_problem, shadowing_problem


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: passed, or the differences (and any error) to show."""

    indicator: Indicator
    case: TestCase
    differences: tuple[str, ...]
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.differences and self.error is None

    @property
    def where(self) -> str:
        """file:line of the case."""
        return f"{self.indicator.numerator.file}:{self.case.line}"


def matches(expected: float | None, actual: float | None) -> bool:
    """A whole number exactly; a number with decimals after rounding the actual one to as many decimals."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if float(expected).is_integer():
        return float(actual) == float(expected)
    places = -Decimal(repr(float(expected))).normalize().as_tuple().exponent
    return round(float(actual), places) == round(float(expected), places)


def expected_numbers(indicator: Indicator, case: TestCase) -> dict[str, float | None]:
    """What a case expects; with `value` worked out from its numerator and denominator when it gives
    both (or the numerator of a count) but not the value, so that the value is always checked."""
    expect = dict(case.expect)
    if "value" not in expect and expect.get("numerator") is not None:
        if indicator.unit == "count":
            expect["value"] = expect["numerator"]
        elif "denominator" in expect:
            expect["value"] = compute_value(indicator.unit, expect["numerator"], expect["denominator"])
    return expect


def open_case_database(tables: Mapping[str, Table], shared: list[SharedDefinition]) -> tuple[duckdb.DuckDBPyConnection, list[Issue]]:
    """A locked connection with every extract table (empty), the calendar and the shared definitions;
    and the shared definitions that failed to install."""
    con = database.connect()
    database.create_missing_tables(con, tables.values())
    database.lock(con)
    database.install_calendar(con)
    # A broken view fails the cases that use it, not all of them; the caller reports the problems.
    return con, database.install_shared(con, shared)


def run_cases(
    indicators: Iterable[Indicator], tables: Mapping[str, Table], shared: list[SharedDefinition],
    first_month: int = 4,
) -> tuple[list[CaseResult], list[Issue]]:
    """Every case of every indicator given, in order; and the shared definitions that failed to install."""
    con, problems = open_case_database(tables, shared)
    results = []
    try:
        for indicator in indicators:
            for case in indicator.tests:
                results.append(_run_case(con, indicator, case, tables, shared, first_month))
    finally:
        con.close()
    return results, problems


def refused(indicator: Indicator) -> str | None:
    """Why `kpi compute` would refuse to run the indicator's SQL, or None: what it refuses, no case may
    pass (a CTE named `period` passes any one-month case)."""
    for part in ("numerator", "denominator"):
        sql = getattr(indicator, part)
        problem = sql is not None and (select_problem(sql.text, part) or shadowing_problem(sql.text, part))
        if problem:
            return f"{problem} ({sql.file}:{sql.line})"
    return None


def load_case(con: duckdb.DuckDBPyConnection, indicator: Indicator, case: TestCase, tables: Mapping[str, Table]) -> list[str]:
    """Empty every extract table and load the case's rows; the problems with them, if any."""
    origin = f"{indicator.numerator.file}:{case.line}"
    # one query finds the tables an earlier case left rows in: a DELETE per table per case is most of a run
    holding = " UNION ALL ".join(f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {quote(t.name)})" for i, t in enumerate(tables.values()))
    names = [t.name for t in tables.values()]
    for (index,) in con.execute(holding).fetchall() if holding else []:
        con.execute(f"DELETE FROM {quote(names[index])}")
    problems = []
    for name, rows in case.given.items():
        if name not in tables:
            problems.append(f"{origin}: `given` names {name}, which is not an extract table")
            continue
        problems.extend(str(issue) for issue in load_rows(con, tables[name], rows, origin))
    return problems


def check_case(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, case: TestCase, tables: Mapping[str, Table],
    shared: list[SharedDefinition], first_month: int,
) -> tuple[tuple[str, ...], str | None]:
    """Run the indicator on the rows loaded for the case: the differences from what it expects, and any error."""
    plan = plan_indicator(indicator, [case.period], shared, tables, first_month)
    counts = run_indicator(con, plan)
    if counts.error:
        return (), counts.error
    numerator = counts.numerator.get(case.period, 0.0)
    denominator = None if counts.denominator is None else counts.denominator.get(case.period, 0.0)
    actual = {"numerator": numerator, "denominator": denominator, "value": compute_value(indicator.unit, numerator, denominator)}
    expect = expected_numbers(indicator, case)
    differences = tuple(
        f"{key}{'' if key in case.expect else ' (from numerator and denominator)'}: "
        f"expected {_show(expected)}, got {_show(actual[key])}"
        for key, expected in expect.items()
        if not matches(expected, actual[key])
    )
    return differences, None


def _run_case(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, case: TestCase, tables: Mapping[str, Table],
    shared: list[SharedDefinition], first_month: int,
) -> CaseResult:
    problem = refused(indicator)
    if problem:
        return CaseResult(indicator, case, (), problem)
    problems = load_case(con, indicator, case, tables)
    if problems:
        return CaseResult(indicator, case, (), "; ".join(problems))
    differences, error = check_case(con, indicator, case, tables, shared, first_month)
    return CaseResult(indicator, case, differences, error)


def _show(value: float | None) -> str:
    if value is None:
        return "no value"
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0")
