"""Data-quality findings (SPEC §6): what is suspicious in an extract but does not stop a run. Each rule
reads schemas/extracts.yaml (keys, `references`, `periods`, column types); none knows an indicator.

Findings are warnings, counted per table and rule, with example rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

import duckdb

from kpi.extracts import Table, quote

EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One rule broken by `count` rows of one table, with a few of them as examples."""

    table: str
    check: str  # duplicate-key | empty-key | end-before-start | after-extract-date | orphan-reference
    description: str
    count: int
    examples: tuple[Mapping[str, object], ...]


def check_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], present: set[str], extract_date: date) -> list[Finding]:
    """Every finding in the tables loaded (`present`), table by table."""
    findings: list[Finding] = []
    for name in sorted(present):
        table = tables[name]
        findings += _keys(con, table)
        findings += _periods(con, table)
        findings += _future(con, table, extract_date)
        findings += _orphans(con, table, tables, present)
    return [f for f in findings if f.count]


def _finding(con: duckdb.DuckDBPyConnection, table: Table, check: str, description: str, condition: str, columns: list[str]) -> Finding:
    key = [quote(k) for k in table.key]
    shown = ", ".join(dict.fromkeys(key + [quote(c) for c in columns]))
    count = con.execute(f"SELECT count(*) FROM {quote(table.name)} WHERE {condition}").fetchone()[0]
    examples: tuple = ()
    if count:
        relation = con.execute(f"SELECT {shown} FROM {quote(table.name)} WHERE {condition} ORDER BY ALL LIMIT {EXAMPLES}")
        names = [d[0] for d in relation.description]
        examples = tuple(dict(zip(names, row)) for row in relation.fetchall())
    return Finding(table.name, check, description, count, examples)


def _keys(con: duckdb.DuckDBPyConnection, table: Table) -> list[Finding]:
    key = ", ".join(quote(k) for k in table.key)
    named = ", ".join(f"`{k}`" for k in table.key)
    empty = " OR ".join(f"{quote(k)} IS NULL" for k in table.key)
    return [
        _finding(con, table, "empty-key", f"the key {named} is empty", empty, []),
        _finding(con, table, "duplicate-key", f"the key {named} is used by more than one row",
                 f"({key}) IN (SELECT ({key}) FROM {quote(table.name)} GROUP BY ALL HAVING count(*) > 1)", []),
    ]


def _periods(con: duckdb.DuckDBPyConnection, table: Table) -> list[Finding]:
    return [
        _finding(con, table, "end-before-start", f"{end} is before {start}",
                 f"CAST({quote(end)} AS DATE) < CAST({quote(start)} AS DATE)", [start, end])
        for start, end in table.periods
    ]


def _future(con: duckdb.DuckDBPyConnection, table: Table, extract_date: date) -> list[Finding]:
    dated = [c.name for c in table.columns if c.type in ("date", "timestamp")]
    return [
        _finding(con, table, "after-extract-date", f"{column} is after the extract date {extract_date.isoformat()}",
                 f"CAST({quote(column)} AS DATE) > DATE '{extract_date.isoformat()}'", [column])
        for column in dated
    ]


def _orphans(con: duckdb.DuckDBPyConnection, table: Table, tables: Mapping[str, Table], present: set[str]) -> list[Finding]:
    findings = []
    for column, target, target_column in table.references:
        if target not in present:
            continue
        condition = (f"{quote(column)} IS NOT NULL AND {quote(column)} NOT IN "
                     f"(SELECT {quote(target_column)} FROM {quote(target)} WHERE {quote(target_column)} IS NOT NULL)")
        findings.append(_finding(con, table, "orphan-reference", f"{column} refers to a {target} record not in the extract",
                                 condition, [column]))
    return findings
