"""Run indicators' fixture cases (SPEC §8): each on an otherwise empty database holding only the rows
it gives, for its one month, compared with what it expects.

Reuses one locked connection for all cases (emptying the tables between them): building the calendar
and the shared views once keeps a few hundred cases to a few seconds.
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


def run_cases(
    indicators: Iterable[Indicator], tables: Mapping[str, Table], shared: list[SharedDefinition],
    first_month: int = 4,
) -> tuple[list[CaseResult], list[Issue]]:
    """Every case of every indicator given, in order; and the shared definitions that failed to install."""
    con = database.connect()
    database.create_missing_tables(con, tables.values())
    database.lock(con)
    database.install_calendar(con)
    # A broken view fails the cases that use it, not all of them; the caller reports `problems`.
    problems = database.install_shared(con, shared)
    results = []
    try:
        for indicator in indicators:
            for case in indicator.tests:
                results.append(_run_case(con, indicator, case, tables, shared, first_month))
    finally:
        con.close()
    return results, problems


def _run_case(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, case: TestCase, tables: Mapping[str, Table],
    shared: list[SharedDefinition], first_month: int,
) -> CaseResult:
    origin = f"{indicator.numerator.file}:{case.line}"
    # What `kpi compute` refuses to run, no case may pass (a CTE named `period` passes any one-month case).
    for part in ("numerator", "denominator"):
        sql = getattr(indicator, part)
        refused = sql is not None and (select_problem(sql.text, part) or shadowing_problem(sql.text, part))
        if refused:
            return CaseResult(indicator, case, (), f"{refused} ({sql.file}:{sql.line})")
    for table in tables.values():
        con.execute(f"DELETE FROM {quote(table.name)}")
    problems = []
    for name, rows in case.given.items():
        if name not in tables:
            problems.append(f"{origin}: `given` names {name}, which is not an extract table")
            continue
        problems.extend(str(issue) for issue in load_rows(con, tables[name], rows, origin))
    if problems:
        return CaseResult(indicator, case, (), "; ".join(problems))
    plan = plan_indicator(indicator, [case.period], shared, tables, first_month)
    counts = run_indicator(con, plan)
    if counts.error:
        return CaseResult(indicator, case, (), counts.error)
    numerator = counts.numerator.get(case.period, 0.0)
    denominator = None if counts.denominator is None else counts.denominator.get(case.period, 0.0)
    actual = {"numerator": numerator, "denominator": denominator, "value": compute_value(indicator.unit, numerator, denominator)}
    differences = tuple(
        f"{key}: expected {_show(expected)}, got {_show(actual[key])}"
        for key, expected in case.expect.items()
        if not matches(expected, actual[key])
    )
    return CaseResult(indicator, case, differences)


def _show(value: float | None) -> str:
    if value is None:
        return "no value"
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0")
