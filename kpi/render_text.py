"""What the commands print besides the scorecard: the catalogue, validation issues, test results,
data-quality findings, the rows behind a number and the SQL as run; and the one way a rich table becomes
text (the terminal's width and styles on a terminal; elsewhere a fixed width and no escape codes).

Formats only: each function takes results already made and returns text for the cli to write; only
screen_of looks at the world (is the output a terminal, how wide).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import textwrap
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Iterable

from kpi.definitions import Indicator
from kpi.issues import Issue
from kpi.periods import format_period

if TYPE_CHECKING:  # for the annotations only: these modules import DuckDB, or rich (imported when a table is made)
    from rich.console import RenderableType
    from rich.table import Table

    from kpi.plan import IndicatorPlan
    from kpi.quality import Finding
    from kpi.testing import CaseResult

PIPE_WIDTH = 160  # the scorecard's 6+ month columns fit beside a readable title at this width


@dataclass(frozen=True)
class Screen:
    """Where text goes: its width in characters, and whether it may carry styles (escape codes)."""

    width: int = PIPE_WIDTH
    styled: bool = False


def screen_of(stream: IO[str]) -> Screen:
    """The stream's own width and styles when it is a terminal; else $COLUMNS (or 160) and no styles."""
    if stream.isatty():
        return Screen(shutil.get_terminal_size((PIPE_WIDTH, 24)).columns, styled=True)
    columns = os.environ.get("COLUMNS", "")
    return Screen(int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH)


def new_table(*columns: str, numeric: Iterable[str] = (), wrapping: Iterable[str] | None = None) -> Table:
    """A table the way every command shows one: a header underlined, two spaces between columns, the
    `numeric` columns right-aligned. Only the `wrapping` columns (default: all) wrap, between words
    where they can, when the table is wider than the screen; the others are never broken."""
    from rich import box
    from rich.table import Table

    numbers = set(numeric)
    wraps = set(columns if wrapping is None else wrapping)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in numbers else "left",
                         no_wrap=column not in wraps, overflow="fold")
    return table


def add_row(table: Table, *values: Any) -> None:
    """A row of plain text: brackets in a title are never read as rich markup."""
    from rich.text import Text

    table.add_row(*(Text("" if v is None else str(v)) for v in values))


def to_text(screen: Screen, *parts: RenderableType) -> str:
    """Tables and lines as text for `screen`, each line without trailing spaces. A table that cannot
    fit the screen even wrapped is shown whole, wider than the screen, rather than cut."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def console(width: int) -> Console:
        return Console(
            file=io.StringIO(), width=width, force_terminal=screen.styled, no_color=not screen.styled,
            color_system="standard" if screen.styled else None, highlight=False, markup=False, emoji=False,
        )

    out = console(max([screen.width] + [_narrowest(part) for part in parts if isinstance(part, Table)]))
    for part in parts:
        out.print(Text(part) if isinstance(part, str) else part)
    text = out.file.getvalue()
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _narrowest(table: Table) -> int:
    """The least width showing every cell of a table made by new_table: a column that does not wrap
    at its widest cell, one that wraps at its longest word (or its min_width)."""
    from rich.cells import cell_len

    widths = []
    for column in table.columns:
        texts = [str(column.header)] + [str(cell) for cell in column.cells]
        if column.no_wrap:
            widths.append(max(cell_len(text) for text in texts))
        else:
            words = [cell_len(word) for text in texts for word in text.split()] or [0]
            widths.append(max(words + [column.min_width or 0]))
    return sum(widths) + 2 * (len(widths) - 1)  # two spaces between columns


def catalogue(indicators: Iterable[Indicator], screen: Screen) -> str:
    """`kpi list`: id, title (whole, wrapped), lead officer, unit, collected, polarity, target, and
    where the file comes from (`project` or `bundled`)."""
    table = new_table("id", "title", "lead_officer", "unit", "collected", "polarity", "target", "from", numeric=("target",),
                      wrapping=("title", "lead_officer"))
    for i in indicators:
        add_row(table, i.id, i.title, i.lead_officer or "-", i.unit, i.collected, i.polarity,
                "-" if i.target is None else f"{i.target:g}", i.origin)
    return to_text(screen, table)


def issues_text(issues: Iterable[Issue], output_format: str) -> str:
    """`kpi validate`'s issues: text (file:line:col: level: message), json, or GitHub annotations."""
    issues = list(issues)
    if output_format == "json":
        return json.dumps([issue.__dict__ for issue in issues], indent=2) + "\n"
    lines = []
    for issue in issues:
        if output_format == "github":
            kind = "error" if issue.level == "error" else "warning"
            where = f"file={issue.file}" + (f",line={issue.line}" if issue.line else "") + (f",col={issue.column}" if issue.column else "")
            text = issue.message + (f" ({issue.hint})" if issue.hint else "")
            lines.append(f"::{kind} {where},title=kpi {issue.code}::{text}")
        else:
            lines.append(str(issue))
    return "".join(line + "\n" for line in lines)


def validation_summary(indicator_count: int, issues: Iterable[Issue]) -> str:
    """The last line of `kpi validate`: how many indicators, errors and warnings."""
    levels = [i.level for i in issues]
    return f"{indicator_count} indicator(s) checked: {levels.count('error')} error(s), {levels.count('warning')} warning(s)"


def case_report(results: Iterable[CaseResult]) -> str:
    """`kpi test`: `pass` per case, or `FAIL` with where, expected against actual and any error; then
    `N passed, N failed`."""
    lines, failed, total = [], 0, 0
    for result in results:
        total += 1
        if result.passed:
            lines.append(f"pass  {result.indicator.id}: {result.case.name}")
            continue
        failed += 1
        lines.append(f"FAIL  {result.indicator.id}: {result.case.name} ({result.where})")
        lines.extend(f"        {difference}" for difference in result.differences)
        if result.error:
            lines.append(f"        error: {result.error}")
    lines.append(f"{total - failed} passed, {failed} failed")
    return "".join(line + "\n" for line in lines)


def untested(indicators: Iterable[Indicator]) -> str | None:
    """The note naming the indicators that have no test case, if any."""
    ids = [i.id for i in indicators if not i.tests]
    return f"no cases: {', '.join(ids)}" if ids else None


def findings_text(findings: Iterable[Finding], present: Iterable[str], examples: bool, screen: Screen) -> str:
    """`kpi check-data`: per table loaded, its count of findings, each finding and (with `examples`)
    a few of its rows. A long line wraps, its continuation indented further."""
    by_table: dict[str, list] = {}
    for finding in findings:
        by_table.setdefault(finding.table, []).append(finding)
    lines: list[str] = []

    def line(indent: int, text: str) -> None:
        lines.append(textwrap.fill(text, screen.width, initial_indent=" " * indent, subsequent_indent=" " * (indent + 4),
                                   break_long_words=False, break_on_hyphens=False))

    for table in sorted(present):
        table_findings = by_table.get(table, [])
        total = sum(f.count for f in table_findings)
        line(0, f"{table}: {'no findings' if not total else f'{total:,} finding(s)'}")
        for finding in table_findings:
            line(2, f"warning: {finding.count:,} row(s): {finding.description} [{finding.check}]")
            if examples:
                for example in finding.examples:
                    line(4, ", ".join(f"{k}={v}" for k, v in example.items()))
    return "".join(text + "\n" for text in lines)


def findings_summary(findings: Iterable[Finding], present: Iterable[str]) -> str:
    """The last line of `kpi check-data`: tables checked, findings, tables with findings."""
    findings = list(findings)
    tables = {f.table for f in findings}
    return f"{len(set(present))} table(s) checked: {sum(f.count for f in findings):,} finding(s) in {len(tables)} table(s)"


def rows_text(columns: tuple[str, ...], rows: tuple[tuple, ...], fmt: str, screen: Screen) -> str:
    """Case-level rows (a drill-down) as a table, CSV or JSON."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, (_plain(v) for v in row))) for row in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in rows])
        return buffer.getvalue()
    table = new_table(*columns)
    for row in rows:
        add_row(table, *(_plain(v) for v in row))
    return to_text(screen, table, f"{len(rows)} row(s)")


def sources_text(profiles: Iterable, default: str) -> str:
    """`kpi sources`: each source profile, with what it maps, a line each."""
    lines = []
    for profile in profiles:
        lines.append(f"{profile.name}{' (default)' if profile.name == default else ''}: {profile.description}")
        lines.extend(f"  {line}" for line in profile.summary())
    return "".join(line + "\n" for line in lines)


def coverage_text(rows: Iterable, screen: Screen) -> str:
    """`kpi coverage`: per indicator, computable or not from the source, and why."""
    table = new_table("id", "computable", "why", wrapping=("why",))
    for row in rows:
        add_row(table, row.indicator_id, "yes" if row.computable else "no", row.reason)
    return to_text(screen, table)


def explain_text(plan: IndicatorPlan, breakdowns: dict[str, str | None] | None = None) -> str:
    """`kpi explain`: an indicator's settings, the tables it reads, the dimensions it breaks down by
    (`breakdowns`: None, or why not, per dimension), each month's window, and its SQL."""
    i = plan.indicator
    lines = [
        f"-- {i.id}: {i.title}",
        f"-- collected {i.collected}, reported {i.reported}, unit {i.unit}, polarity {i.polarity}",
        f"-- reads: {', '.join(sorted(plan.tables)) or 'no extract table'}",
    ]
    if breakdowns is not None:
        by = [name for name, reason in breakdowns.items() if reason is None]
        lines.append(f"-- --by: {', '.join(by) or 'no dimension'}")
        lines.extend(f"-- not by {name}: {reason}" for name, reason in breakdowns.items() if reason is not None)
    lines += [
        "-- period (one row per month computed):",
    ]
    for row in plan.period:
        lines.append(f"--   {format_period(row['month'])}: {row['start_date']} to {row['end_date']} (snapshot {row['snapshot_date']})")
    for part, sql in (("numerator", plan.numerator), ("denominator", plan.denominator)):
        if sql is not None:
            lines.append(f"\n-- {part} ({sql.file}, line {sql.line})")
            lines.append(sql.text.rstrip())
    return "".join(line + "\n" for line in lines)


def _plain(value: Any) -> Any:
    """Dates and times as ISO text; everything else as it is."""
    return value.isoformat() if hasattr(value, "isoformat") else value
