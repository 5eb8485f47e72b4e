"""What made a scorecard, recorded with it: kpi's version, a fingerprint of the definitions (and the git
commit when the project is a repository), each extract read (file, rows, checksum), the source, the
extract date and the time; and the comparison `kpi compute --reproduce` makes with a recorded run.

It records and compares; it computes no number and reads no extract beyond checksumming its file.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from kpi import __version__

CHUNK = 1 << 20


@dataclass(frozen=True)
class DataRead:
    """One table as read: where from (a file, or a table inside a database), how many rows, its checksum."""

    table: str
    origin: str  # the file as shown to the user, or `database (table t)`
    rows: int
    sha256: str | None = None  # of the file's bytes; None for a table inside a database

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "file": self.origin, "rows": self.rows, "sha256": self.sha256}


@dataclass(frozen=True)
class Provenance:
    """The record written with every output (JSON top level, CSV/xlsx/HTML footer, Parquet metadata)."""

    kpi_version: str
    definitions_sha256: str
    git_commit: str | None
    git_dirty: bool
    source: str
    data: str | None  # the --data given, as shown; None for the demo council
    extract_date: date | None
    generated_at: str
    period: str
    selection: Mapping[str, str | None] = field(default_factory=dict)  # the filters and --by of the run
    tables: tuple[DataRead, ...] = ()
    data_entries: tuple[Mapping[str, Any], ...] = ()  # kpi.toml's [[data]] entries read: source, path, tables

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi_version": self.kpi_version,
            "definitions": {"sha256": self.definitions_sha256, "git_commit": self.git_commit, "git_dirty": self.git_dirty},
            "source": self.source,
            "data": self.data,
            "extract_date": self.extract_date.isoformat() if self.extract_date else None,
            "generated_at": self.generated_at,
            "period": self.period,
            "selection": dict(self.selection),
            "tables": [t.to_dict() for t in self.tables],
        } | ({"data_entries": [dict(e) for e in self.data_entries]} if self.data_entries else {})

    def summary_lines(self) -> list[str]:
        """The record as short lines of text, for the footers of CSV, xlsx and HTML."""
        definitions = f"definitions {self.definitions_sha256[:12]}"
        if self.git_commit:
            definitions += f" (git {self.git_commit[:12]}{', with uncommitted changes' if self.git_dirty else ''})"
        lines = [
            f"kpi {self.kpi_version}; {definitions}; generated {self.generated_at}",
            f"source {self.source}; data {self.data or 'the demo council'}; extract date {self.extract_date or 'not known'}",
        ]
        lines += [f"{t.table}: {t.origin}, {t.rows:,} rows" + (f", sha256 {t.sha256[:16]}" if t.sha256 else "") for t in self.tables]
        return lines


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks (extracts can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def definitions_sha256(files: Iterable[Path], root: Path) -> str:
    """One fingerprint of every definition file (indicators, queries, extract tables, profile).

    Each file contributes its path relative to `root` and its bytes, in path order, so a renamed,
    added, removed or edited file changes the fingerprint and nothing else does.
    """
    digest = hashlib.sha256()
    for path in sorted({Path(p).resolve() for p in files}):
        try:
            name = str(path.relative_to(root.resolve()))
        except ValueError:
            name = path.name
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def git_state(root: Path) -> tuple[str | None, bool]:
    """(the commit checked out, whether the working tree differs from it) when `root` is in a git repository."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None, False
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, False
    return commit.stdout.strip() or None, bool(status.stdout.strip())


def now() -> str:
    """The time of generation, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between the provenance of a recorded run and of its re-run, as sentences."""
    found = []
    if recorded.get("kpi_version") != current.get("kpi_version"):
        found.append(f"kpi's version: {recorded.get('kpi_version')} then, {current.get('kpi_version')} now")
    old_definitions, new_definitions = recorded.get("definitions") or {}, current.get("definitions") or {}
    if old_definitions.get("sha256") != new_definitions.get("sha256"):
        where = ""
        if old_definitions.get("git_commit") and new_definitions.get("git_commit") and old_definitions["git_commit"] != new_definitions["git_commit"]:
            where = f" (git {old_definitions['git_commit'][:12]} then, {new_definitions['git_commit'][:12]} now: `git diff` shows how)"
        found.append("the definitions (indicators/, queries/, the extract tables or the profile) have changed" + where)
    if recorded.get("source") != current.get("source"):
        found.append(f"the source: {recorded.get('source')} then, {current.get('source')} now")
    old_tables = {t["table"]: t for t in recorded.get("tables") or []}
    new_tables = {t["table"]: t for t in current.get("tables") or []}
    for name in sorted(set(old_tables) | set(new_tables)):
        old, new = old_tables.get(name), new_tables.get(name)
        if old is None or new is None:
            found.append(f"table {name}: {'not read then' if old is None else 'not read now'}")
        elif (old.get("rows"), old.get("sha256")) != (new.get("rows"), new.get("sha256")):
            found.append(f"table {name} ({new.get('file')}): {old.get('rows'):,} rows then, {new.get('rows'):,} now"
                         + ("" if old.get("sha256") == new.get("sha256") else "; the file's contents differ"))
    return found
