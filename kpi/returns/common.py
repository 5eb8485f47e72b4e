"""What the return readers share: reading a return's CSV as text rows (BOM, CRLF, Windows-1252), ids kept
as text, dates in the return's own format, codes checked, and every problem as an Issue naming the file,
row, field and value. Knows no particular return.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kpi.issues import Issue, KpiError, display_path

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d+)$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


@dataclass
class Rows:
    """One CSV file of a return: its columns (upper case, trimmed) and its rows as text, with the file's
    line number of each (the header is line 1)."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]

    @property
    def shown(self) -> str:
        return display_path(self.path)


@dataclass
class Problems:
    """The problems found while reading a return; raised together, so one run names them all."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, code: str, message: str, file: str, line: int | None = None) -> None:
        self.issues.append(Issue(code, message, file, line))

    def raise_any(self, what: str) -> None:
        if self.issues:
            shown = self.issues[:50]
            raise KpiError(f"{what} cannot be read" + (f" ({len(self.issues)} problems, the first 50 shown)" if len(self.issues) > 50 else ""), shown)


def read_csv(path: Path) -> Rows:
    """A CSV file as text rows: UTF-8 (with or without BOM), else Windows-1252; blank rows skipped."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise KpiError(f"{display_path(path)} is UTF-16 (Excel's 'Unicode text'): save it again as CSV UTF-8") from None
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise KpiError(f"{display_path(path)} is empty: a return's CSV file starts with its header row") from None
    columns = [c.strip().upper() for c in header]
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # blank (trailing) rows
        rows.append((line, {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns) if c}))
    return Rows(path, columns, rows)


def clean_id(value: str) -> str:
    """An id as text, trimmed; a literal trailing `.0` (a spreadsheet's float) removed, leading zeros kept."""
    value = value.strip()
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value


def parse_date(value: str, rows: Rows, line: int, column: str, problems: Problems, required: bool = False) -> date | None:
    """A `dd/mm/yyyy` date (also `yyyy-mm-dd`); blank is None; anything else a problem naming the file,
    row, field and value (a two-digit year is refused, never guessed)."""
    value = value.strip()
    if not value:
        if required:
            problems.add("return-date", f"{column} is empty, and every row needs it", rows.shown, line)
        return None
    found = _DMY.match(value)
    if found:
        day, month, year = found.groups()
        if len(year) != 4:
            problems.add("return-date", f"{column} {value!r} has a {len(year)}-digit year: write the year in full (dd/mm/yyyy)", rows.shown, line)
            return None
        parts = int(year), int(month), int(day)
    elif _ISO.match(value):
        parts = tuple(int(p) for p in _ISO.match(value).groups())
    else:
        problems.add("return-date", f"{column} {value!r} is not a date in the form dd/mm/yyyy", rows.shown, line)
        return None
    try:
        return date(*parts)
    except ValueError:
        problems.add("return-date", f"{column} {value!r} is not a real date", rows.shown, line)
        return None


def check_code(value: str, codes: frozenset[str] | set[str], rows: Rows, line: int, column: str, problems: Problems,
               required: bool = False) -> str | None:
    """The code in upper case; blank is None; a code not in `codes` is a problem naming it."""
    value = value.strip().upper()
    if not value:
        if required:
            problems.add("return-code", f"{column} is empty, and every row needs it", rows.shown, line)
        return None
    if value not in codes:
        problems.add("return-code", f"{column} {value!r} is not a code of the return (one of {', '.join(sorted(codes))})", rows.shown, line)
        return None
    return value


def march_31_ending(day: date) -> date:
    """The 31 March that ends the collection year (1 April to 31 March) holding `day`."""
    return date(day.year if day.month <= 3 else day.year + 1, 3, 31)
