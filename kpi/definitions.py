"""Indicator definitions as immutable values: what the loader builds and every later stage reads.

No parsing and no SQL execution here; see load.py for how files become these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # only for the annotation: extracts.py does not need definitions
    from kpi.extracts import Table
    from kpi.issues import Issue


@dataclass(frozen=True)
class Sql:
    """A query written in a definition file, with where its first line sits in that file."""

    text: str
    file: str
    line: int  # 1-based line of the SQL's first line
    column: int = 1
    # SQL written in another dialect (T-SQL) is run as its DuckDB translation, `text`, which keeps
    # each line on its line; `written` is the SQL as the file holds it.
    written: str | None = None
    dialect: str = "duckdb"

    def file_line(self, sql_line: int) -> int:
        """The file line of the SQL's line `sql_line` (1-based), for messages that point inside it."""
        return self.line + sql_line - 1


@dataclass(frozen=True)
class TestCase:
    """A fixture case (SPEC §8): the rows given, the month computed, the numbers expected."""

    name: str
    period: date
    given: Mapping[str, tuple[Mapping[str, Any], ...]]
    expect: Mapping[str, float | None]
    line: int


@dataclass(frozen=True)
class AllowedMutant:
    """A mutant of the indicator's SQL proven to compute the same numbers (`mutants: allow:`), and why."""

    mutant: str
    reason: str
    line: int


@dataclass(frozen=True)
class Indicator:
    """One indicator file, loaded and checked against the JSON Schema."""

    id: str
    title: str
    tier: str
    service_group: str
    collected: str
    polarity: str
    unit: str
    numerator: Sql
    path: Path
    denominator: Sql | None = None
    lead_officer: str | None = None
    head: str | None = None
    reported: str = "monthly"
    target: float | None = None
    trend: str = "comparable"
    suppress_below: int | None = None
    definition: str | None = None
    tests: tuple[TestCase, ...] = ()
    origin: str = "project"  # project | bundled: which layer of definitions the file comes from
    allowed_mutants: tuple[AllowedMutant, ...] = ()
    # For breakdowns (--by): the column of the rows holding the child, and the date to take the child's
    # group on, where the engine's rule (docs/breakdowns.md) is not to be used.
    breakdown_child: str | None = None
    breakdown_date: str | None = None
    positions: Mapping[tuple, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)

    def position(self, *path: str | int) -> tuple[int, int]:
        """(line, column) of a key in the file, falling back to its nearest enclosing key."""
        keys = tuple(path)
        while keys and keys not in self.positions:
            keys = keys[:-1]
        return self.positions.get(keys, (1, 1))

    @property
    def file_stem(self) -> str:
        """The file name an id calls for: `CSC 004s` → csc_004s."""
        return file_stem_for(self.id)


def file_stem_for(indicator_id: str) -> str:
    """`CSC 038` → `csc_038`."""
    return indicator_id.lower().replace(" ", "_")


@dataclass(frozen=True)
class QueryFile:
    """A file of shared SQL under queries/: CREATE MACRO and CREATE VIEW statements."""

    path: Path
    statements: tuple[Sql, ...]


@dataclass(frozen=True)
class SharedDefinition:
    """A macro or view from queries/, by name."""

    kind: str  # MACRO | VIEW
    name: str
    sql: Sql


@dataclass(frozen=True)
class Definitions:
    """Everything a project defines: indicators, shared SQL, extract tables; and what failed to load."""

    indicators: tuple[Indicator, ...]
    query_files: tuple[QueryFile, ...]
    shared: tuple[SharedDefinition, ...]
    tables: Mapping[str, Table]
    issues: tuple[Issue, ...]
