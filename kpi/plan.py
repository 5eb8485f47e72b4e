"""Plan a run: for each indicator, the months it needs, the `period` rows with its windows, the
queries to run (with the default population denominator of a rate) and the extract tables they read.

Pure: reads definitions, touches no data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from kpi.definitions import Indicator, SharedDefinition, Sql
from kpi.periods import (
    PERIOD_COLUMNS, ScorecardMonths, fy_end, fy_start, last_day, quarter_end, quarter_start, scorecard_months, window,
)
from kpi.sqlcheck import parse_all, referenced_names, view_body

DEFAULT_DENOMINATOR_FILE = Path(__file__).parent / "sql" / "default_rate_denominator.sql"


@lru_cache(maxsize=1)
def default_rate_denominator() -> Sql:
    """The 0-17 population per month, for a rate per 10,000 written without a denominator."""
    text = DEFAULT_DENOMINATOR_FILE.read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return Sql(text=body.strip(), file="engine: default rate denominator", line=1)


def period_rows(collected: str, months: Iterable[date], first_month: int = 4) -> tuple[Mapping[str, date], ...]:
    """One row of the `period` relation per month, with the window `collected` gives it."""
    rows = []
    for month in sorted(set(months)):
        start, end = window(collected, month, first_month)
        values = (
            month, start, end, last_day(month), month, last_day(month),
            fy_start(month, first_month), fy_end(month, first_month), quarter_start(month), quarter_end(month),
        )
        rows.append(dict(zip(PERIOD_COLUMNS, values)))
    return tuple(rows)


@dataclass(frozen=True)
class IndicatorPlan:
    """What to run for one indicator."""

    indicator: Indicator
    months: tuple[date, ...]
    period: tuple[Mapping[str, date], ...]
    numerator: Sql
    denominator: Sql | None
    tables: frozenset[str]


@dataclass(frozen=True)
class Plan:
    """A whole run: the reporting month, the scorecard's history months and each indicator's plan."""

    current: date
    scorecard: ScorecardMonths
    indicators: tuple[IndicatorPlan, ...]

    @property
    def tables(self) -> frozenset[str]:
        """Every extract table some indicator in the run reads."""
        return frozenset().union(*(p.tables for p in self.indicators)) if self.indicators else frozenset()

    def needing(self, table: str) -> list[str]:
        """The ids of the indicators that read `table`."""
        return [p.indicator.id for p in self.indicators if table in p.tables]


def plan_indicator(
    indicator: Indicator, months: Iterable[date], shared: list[SharedDefinition], extract_tables: Iterable[str],
    first_month: int = 4,
) -> IndicatorPlan:
    """The plan of one indicator over the months given."""
    months = tuple(sorted(set(months)))
    denominator = indicator.denominator
    if denominator is None and indicator.unit == "rate_per_10000":
        denominator = default_rate_denominator()
    queries = [q for q in (indicator.numerator, denominator) if q is not None]
    tables = tables_read(queries, shared, frozenset(extract_tables))
    return IndicatorPlan(indicator, months, period_rows(indicator.collected, months, first_month), indicator.numerator, denominator, tables)


def plan_scorecard(
    indicators: Iterable[Indicator], current: date, shared: list[SharedDefinition], extract_tables: Iterable[str],
    first_month: int = 4,
) -> Plan:
    """The plan of a scorecard for `current`: every indicator over the months its columns need."""
    scorecard = scorecard_months(current, first_month)
    extract_tables = frozenset(extract_tables)
    indicators = tuple(indicators)
    parse_all([q.text for i in indicators for q in (i.numerator, i.denominator) if q]
              + [shared_body(d) for d in shared])
    plans = tuple(
        plan_indicator(i, scorecard.all_months(i.reported), shared, extract_tables, first_month) for i in indicators
    )
    return Plan(current, scorecard, plans)


def tables_read(queries: Iterable[Sql], shared: list[SharedDefinition], extract_tables: frozenset[str]) -> frozenset[str]:
    """The extract tables the queries read, directly or through views and macros of queries/."""
    return frozenset(names_read(queries, shared) & extract_tables)


def names_read(queries: Iterable[Sql], shared: list[SharedDefinition]) -> frozenset[str]:
    """Every name the queries read from (tables, views, macros, `period`), following views and macros
    to what they read.

    A macro counts as read where its name appears as a word: a table macro's call is no table in
    DuckDB's parse tree, and a scalar macro sits inside an expression. A view named in a string is read
    too (the argument of a table macro that reads it through query_table).
    """
    bodies = {d.name: shared_body(d) for d in shared}
    macros = frozenset(d.name for d in shared if d.kind == "MACRO")
    seen: set[str] = set()
    pending = [_reads(q.text, macros) for q in queries]
    while pending:
        for name in pending.pop():
            if name not in seen:
                seen.add(name)
                if name in bodies:
                    pending.append(_reads(bodies[name], macros))
    return frozenset(seen)


def shared_body(definition: SharedDefinition) -> str:
    """The SELECT a view or a table macro stands for; a scalar macro's expression as a SELECT."""
    body = view_body(definition.sql.text).strip().rstrip(";")
    if definition.kind == "MACRO":
        table = re.match(r"TABLE\b", body, re.IGNORECASE)
        body = body[table.end():] if table else f"SELECT {body}"
    return body


def _reads(sql: str, macros: frozenset[str]) -> frozenset[str]:
    # A relation named in a string (`query_table('cp_visit_plans')`, a table macro's argument) is read too.
    named = {name.lower() for name in re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", sql)}
    return referenced_names(sql) | (_words(sql) & macros) | named


def materialisable_views(plan: "Plan", shared: list[SharedDefinition]) -> list[SharedDefinition]:
    """The views the plan reads that do not depend on `period`, each after the views it reads.

    These are computed once per run instead of once per query that reads them: `visits_due`, for
    instance, is read by the queries of six indicators. A view read by a single query is left as it
    is, and so is one that reads `period` (directly or through a view or macro): its rows change with
    each group of indicators' `period`, so it is computed with each query that reads it.
    """
    views = {d.name: d for d in shared if d.kind == "VIEW"}
    readers: dict[str, int] = {}
    for indicator_plan in plan.indicators:
        for query in (indicator_plan.numerator, indicator_plan.denominator):
            for name in names_read([query], shared) if query else ():
                readers[name] = readers.get(name, 0) + 1
    reads = {name: names_read([Sql(shared_body(views[name]), "", 1)], shared) for name in readers if name in views}
    # A view read by one query only is left to DuckDB, which can push that query's filters into it.
    candidates = {name for name, read in reads.items() if "period" not in read and readers[name] > 1}
    ordered: list[SharedDefinition] = []
    done: set[str] = set()
    while candidates - done:
        ready = sorted(n for n in candidates - done if not ((reads[n] & candidates) - done - {n}))
        if not ready:  # a cycle: validation reports it; leave these as views
            break
        ordered.extend(views[n] for n in ready)
        done.update(ready)
    return ordered


DIMENSION_PREFIX = "dimension_"


@dataclass(frozen=True)
class Dimension:
    """What a scorecard can be broken down by (`--by NAME`): a macro of queries/ named
    `dimension_NAME(child_id, on_date)`, giving one child's group on one date, and the extract tables it
    reads (directly or through views and macros)."""

    name: str
    macro: str
    tables: frozenset[str]
    file: str = ""
    line: int = 0


def dimensions(shared: list[SharedDefinition], extract_tables: Iterable[str]) -> dict[str, Dimension]:
    """The dimensions queries/ declares, by name, in order of name."""
    extract_tables = frozenset(extract_tables)
    found = {}
    for definition in shared:
        if definition.kind == "MACRO" and definition.name.startswith(DIMENSION_PREFIX) and len(definition.name) > len(DIMENSION_PREFIX):
            name = definition.name[len(DIMENSION_PREFIX):]
            found[name] = Dimension(name, definition.name, tables_read([Sql(shared_body(definition), "", 1)], shared, extract_tables),
                                    definition.sql.file, definition.sql.line)
    return dict(sorted(found.items()))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", text.lower()))
