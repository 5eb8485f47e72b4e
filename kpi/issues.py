"""Problems found in definitions or data, as values: where (file, line, column), what, and what to do.

Validation and loading collect these instead of raising, so that one run reports every problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Issue:
    """One problem: `level` is "error" or "warning"; `code` is a short stable name for tests and CI."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    level: str = "error"

    def location(self) -> str:
        """`file:line:col` (as much of it as is known)."""
        parts = [self.file or "<unknown>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.level}: {self.message}" if self.file else f"{self.level}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class KpiError(Exception):
    """A problem the user can fix (bad input, bad arguments); the CLI prints it and exits 2."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.issues = issues or []


def display_path(path: Path | str) -> str:
    """A path as the user should see it: relative to the working directory when it lies below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
