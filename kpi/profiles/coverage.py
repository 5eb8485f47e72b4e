"""Which indicators an extract can give: those whose numbers read no column or table the extract lacks,
read from DuckDB's own optimised plan of each query (its columns pruned through every view).

Touches no data: the plans are made on empty tables of the canonical shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import duckdb

from kpi import database
from kpi.database import columns_of, wrap
from kpi.definitions import Definitions
from kpi.extracts import Table
from kpi.plan import Plan
from kpi.profiles.profile import Profile
from kpi.profiles.report import LoadReport


def blocked_indicators(definitions: Definitions, plan: Plan, report: LoadReport) -> dict[str, list[str]]:
    """The indicators whose numbers would depend on an absent column or table, with what they need
    (`table.column` or `the table t`).

    Read from DuckDB's own optimised plan of each query's measure (its columns pruned through every
    view), on empty tables of the canonical shape: a column counts only if the number reads it.
    """
    if not report.absent and not report.absent_tables and not report.refused:
        return {}
    con = database.connect()
    try:
        # Statistics on empty tables would fold filters away, and with them the columns they read.
        for optimizers in ("statistics_propagation,empty_result_pullup", "statistics_propagation"):
            try:  # the second optimizer is younger than some DuckDB versions kpi runs on
                con.execute(f"SET disabled_optimizers = '{optimizers}'")
                break
            except duckdb.Error:
                continue
        for table in definitions.tables.values():
            database.create_empty_table(con, table)
        database.install_calendar(con)
        database.install_shared(con, list(definitions.shared))
        blocked = {}
        for indicator_plan in plan.indicators:
            database.install_period(con, indicator_plan.period[:1])
            needs = set()
            for sql in (indicator_plan.numerator, indicator_plan.denominator):
                if sql is not None:
                    needs |= _needs(con, sql.text, report, indicator_plan.tables)
            if indicator_plan.indicator.id in report.refused:
                needs.add(report.refused[indicator_plan.indicator.id])
            if needs:
                blocked[indicator_plan.indicator.id] = sorted(needs)
        return blocked
    finally:
        con.close()


def needs_message(needs: list[str]) -> str:
    """The error of an indicator that is not computed because the extract lacks what it reads."""
    return f"not computed: it needs {', '.join(needs)}, which this extract does not have (`kpi coverage` lists what each indicator needs)"


def _needs(con: duckdb.DuckDBPyConnection, sql: str, report: LoadReport, tables: Iterable[str]) -> set[str]:
    try:
        aggregate = "sum(value)" if "value" in columns_of(con, sql) else "count(*)"
    except duckdb.Error:
        return set()  # a query that does not bind reports its own error when it runs
    try:
        plan = json.loads(con.execute(f"EXPLAIN (FORMAT JSON) SELECT month, {aggregate} FROM ({wrap(sql)}) GROUP BY ALL").fetchall()[0][1])
    except (duckdb.Error, ValueError, IndexError):
        # no plan to read (an older DuckDB): every absent column of the tables the query reads counts
        return ({f"the table {t}" for t in tables if t in report.absent_tables}
                | {f"{t}.{c}" for t in tables for c in report.absent.get(t, ())})
    needs: set[str] = set()
    for node in _nodes(plan):
        info = node.get("extra_info") or {}
        if "Table" not in info:
            continue
        table = str(info["Table"]).split(".")[-1]
        if table in report.absent_tables:
            needs.add(f"the table {table}")
        read = " ".join(_strings(info.get("Projections"))) + " " + " ".join(_strings(info.get("Filters")))
        for column in report.absent.get(table, ()):
            if re.search(rf"\b{re.escape(column)}\b", read):
                needs.add(f"{table}.{column}")
    return needs


def _nodes(nodes: list) -> Iterable[dict]:
    for node in nodes:
        yield node
        yield from _nodes(node.get("children") or [])


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def assumed_report(profile: Profile, tables: Mapping[str, Table]) -> LoadReport:
    """What would be absent from an extract shaped as the profile says (no data read): its no-source
    columns and tables."""
    report = LoadReport()
    for table, columns in profile.no_source.items():
        report.absent.setdefault(table, set()).update(columns)
    report.absent_tables.update(t for t in profile.no_source_tables if t not in profile.optional_tables)
    report.refused.update(profile.refused)
    report.approximations.update(profile.approximations)
    return report


@dataclass(frozen=True)
class Coverage:
    """Whether one indicator is computable from an extract, and if not what it needs."""

    indicator_id: str
    title: str
    computable: bool
    reason: str
    approximation: str | None = None  # computable, but only as this says (a statutory return's proxy)


def coverage(definitions: Definitions, plan: Plan, report: LoadReport) -> list[Coverage]:
    """Per indicator of the plan: computable, or not and why."""
    blocked = blocked_indicators(definitions, plan, report)
    for indicator_id in blocked:  # an indicator not computed is not approximate either
        report.approximations.pop(indicator_id, None)
    rows = []
    for indicator_plan in plan.indicators:
        indicator = indicator_plan.indicator
        needs = blocked.get(indicator.id)
        reason = f"needs {', '.join(needs)}" if needs else "reads only what the extract has"
        approximation = None if needs else report.approximations.get(indicator.id)
        if approximation:
            reason = f"approximate: {approximation}"
        read_from = sorted({report.table_sources[t] for t in indicator_plan.tables if t in report.table_sources})
        if read_from and not needs:  # several sources read: say which this indicator's tables came from
            reason += f" (from {', '.join(read_from)})"
        rows.append(Coverage(indicator.id, indicator.title, not needs, reason, approximation))
    return rows
