"""What a profile found while the tables loaded (absent columns and tables, values no map knows, rows
it could not read as it says), and how the user is told: warnings for `kpi compute`, findings for
`kpi check-data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi.profiles.profile import Profile
from kpi.quality import Finding

UNMAPPED_SHOWN = 10  # distinct unmapped values named per column in warnings


@dataclass(frozen=True)
class Unmapped:
    """Values of a mapped column that no map knows."""

    table: str
    column: str
    value: str
    rows: int


@dataclass(frozen=True)
class Note:
    """Rows of a table the profile could not read as it says (a lookup, a flag, rows kept), and why."""

    table: str
    check: str  # not-derived | flag-not-found | no-rows-kept
    rows: int
    message: str


@dataclass
class LoadReport:
    """What a profile found while the tables loaded: absent columns and tables, unmapped values."""

    absent: dict[str, set[str]] = field(default_factory=dict)     # table → columns loaded as null
    absent_tables: set[str] = field(default_factory=set)          # tables loaded empty
    unmapped: list[Unmapped] = field(default_factory=list)
    lookups: dict[str, list[str]] = field(default_factory=dict)   # table → columns to fill after loading
    notes: list[Note] = field(default_factory=list)               # rows the profile could not read as it says
    refused: dict[str, str] = field(default_factory=dict)         # indicator id → what the source never holds
    approximations: dict[str, str] = field(default_factory=dict)  # indicator id → how the source approximates it
    approximated_by: dict[str, str] = field(default_factory=dict)  # indicator id → the source approximating it, when several are read
    table_sources: dict[str, str] = field(default_factory=dict)    # table → the source it was read from, when several are read

    def absent_columns(self) -> list[tuple[str, str]]:
        return sorted((t, c) for t, cs in self.absent.items() for c in cs)


def warnings(report: LoadReport, profile: Profile) -> list[str]:
    """One sentence per mapped column with values no map knows: the table, column, values and rows."""
    by_column: dict[tuple[str, str], list[Unmapped]] = {}
    for item in report.unmapped:
        by_column.setdefault((item.table, item.column), []).append(item)
    messages = [note.message for note in report.notes]
    messages += [f"{indicator} is approximate from source {report.approximated_by.get(indicator, profile.name)}: {how}"
                 for indicator, how in sorted(report.approximations.items())]
    for (table, column), items in sorted(by_column.items()):
        shown = ", ".join(f"{i.value!r} ({i.rows:,} rows)" for i in items[:UNMAPPED_SHOWN])
        more = f" and {len(items) - UNMAPPED_SHOWN} more" if len(items) > UNMAPPED_SHOWN else ""
        rows = sum(i.rows for i in items)
        messages.append(
            f"{table}.{column}: {rows:,} rows hold values the source profile {profile.name} does not map: {shown}{more}; "
            f"the indicators read them as no code: add them under [profile.value_maps.{table}.{column}] in kpi.toml"
        )
    return messages


def findings(report: LoadReport, profile: Profile) -> list[Finding]:
    """The report as `kpi check-data` findings: one per value no map knows, one per note."""
    found = [Finding(u.table, "unmapped-value", f"`{u.column}` holds {u.value!r}, which the source profile {profile.name} does not map", u.rows, ())
             for u in report.unmapped]
    found += [Finding(note.table, note.check, note.message, note.rows, ()) for note in report.notes]
    return found
