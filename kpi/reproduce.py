"""`kpi compute --reproduce scorecard.json`: run again what a recorded scorecard's provenance names (the
same month, indicators, breakdown and data) with today's definitions and data, and say whether every
published number matches, and if not, what changed: the definitions, the data or kpi itself.

It compares published outputs (the JSON form); it decides nothing about what the numbers should be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping

from kpi.config import DataEntry, Project
from kpi.issues import KpiError, display_path
from kpi.periods import PeriodError, parse_period
from kpi.provenance import differences

# What may differ between two runs of the same thing: when and where they were made, not what they say.
_UNCOMPARED = ("provenance",)


@dataclass(frozen=True)
class Reproduction:
    """The outcome: the numbers that differ (empty when every one matches) and what changed in between."""

    recorded: str  # the file, as shown
    number_differences: tuple[str, ...]
    causes: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.number_differences


def read_record(path: Path) -> dict[str, Any]:
    """The JSON scorecard at `path`, refused unless it carries the provenance kpi writes."""
    shown = display_path(path)
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KpiError(f"{shown} does not exist: give --reproduce a scorecard kpi wrote as JSON") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KpiError(f"{shown} cannot be read as JSON ({error}): give --reproduce a scorecard kpi wrote with --format json") from None
    provenance = record.get("provenance") if isinstance(record, dict) else None
    if not isinstance(provenance, dict) or "selection" not in provenance or "period" not in provenance:
        raise KpiError(f"{shown} holds no provenance record: --reproduce needs a scorecard written by `kpi compute --format json`")
    return record


def reproduce(
    project: Project, path: Path, compute: Callable[..., Mapping[str, Any]],
) -> Reproduction:
    """Run the recorded scorecard again through `compute(period, data, indicator_ids, by, scale, source, extract_date)`, which
    returns the new scorecard in its JSON form, and compare the two."""
    record = read_record(path)
    provenance = record["provenance"]
    selection = provenance.get("selection") or {}
    try:
        period = parse_period(str(provenance["period"]))
    except PeriodError as error:
        raise KpiError(f"{display_path(path)}: its provenance names an unreadable period ({error})") from None
    recorded = provenance.get("data")
    # A database is recorded by its URL with the password masked: give the password as the driver's
    # usual files or environment do (docs/database.md), and the same URL reads it again.
    data = None if not recorded else recorded if "://" in recorded else Path(recorded)
    if provenance.get("data_entries"):  # kpi.toml's [[data]] entries, each read through its own source
        data = _entries(path, provenance["data_entries"])
    if isinstance(data, str) and "***" in data:
        raise KpiError(f"{display_path(path)} was computed from {data}, whose password is not recorded: "
                       "give it through PGPASSWORD or ~/.pgpass and run the compute again with --data")
    if isinstance(data, Path) and not data.exists():
        raise KpiError(f"{display_path(path)} was computed from {data}, which is no longer there: "
                       "put the extracts back where they were to reproduce it")
    source = provenance.get("source") if provenance.get("source") not in (None, "demo") and not isinstance(data, tuple) else None
    extract_date = date.fromisoformat(provenance["extract_date"]) if provenance.get("extract_date") else None
    current = compute(period, data, list(selection.get("indicators") or []), selection.get("by"),
                      int(selection.get("scale") or 1), source, extract_date)
    numbers = compare_scorecards(record, current)
    causes = differences(provenance, current.get("provenance") or {}) if numbers else []
    return Reproduction(display_path(path), tuple(numbers), tuple(causes))


def _entries(path: Path, recorded: list) -> tuple[DataEntry, ...]:
    entries = []
    for number, entry in enumerate(recorded, start=1):
        folder = Path(entry["path"])
        if not folder.exists():
            raise KpiError(f"{display_path(path)} was computed from {folder} ([[data]] entry {number}), which is no longer there: "
                           "put the files back where they were to reproduce it")
        tables = tuple(entry["tables"]) if entry.get("tables") is not None else None
        entries.append(DataEntry(number, entry["source"], folder, tables))
    return tuple(entries)


def compare_scorecards(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Every published field that differs, as `CSC 038 months.2017-08: 92 then, 90 now`."""
    found = []
    old_rows = {row["id"]: row for row in recorded.get("indicators") or []}
    new_rows = {row["id"]: row for row in current.get("indicators") or []}
    for indicator_id in sorted(set(old_rows) | set(new_rows)):
        old, new = old_rows.get(indicator_id), new_rows.get(indicator_id)
        if old is None or new is None:
            found.append(f"{indicator_id}: {'not in the recorded scorecard' if old is None else 'no longer defined'}")
            continue
        found.extend(f"{indicator_id} {where}" for where in _differences(old, new, ""))
    found.extend(f"summary {where}" for where in _differences(recorded.get("summary"), current.get("summary"), ""))
    return found


def _differences(old: Any, new: Any, path: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            if key in _UNCOMPARED:
                continue
            found.extend(_differences(old.get(key), new.get(key), f"{path}.{key}" if path else key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for n, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{path}[{n}]")]
    if old != new:
        return [f"{path}: {json.dumps(old, ensure_ascii=False)} then, {json.dumps(new, ensure_ascii=False)} now"]
    return []
