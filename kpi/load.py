"""Load definition files: indicator YAML (with line and column of every key) and queries/*.sql.

Checks what a single file can tell (YAML syntax, the JSON Schema, duplicate keys) and builds immutable
definitions. Rules across files and the SQL itself are checked in validate.py.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import duckdb

from kpi import yamldoc
from kpi.config import Project, bundled_root
from kpi.definitions import AllowedMutant, Indicator, QueryFile, Sql, TestCase
from kpi.issues import Issue, display_path
from kpi.periods import PeriodError, parse_period
from kpi.sqlcheck import first_line, locate

SQL_KEYS = ("numerator", "denominator")


@lru_cache(maxsize=4)
def indicator_schema() -> dict:
    """The JSON Schema of an indicator file (the single source of the file format: the engine's, in every project)."""
    return json.loads((bundled_root() / "schemas" / "indicator.schema.json").read_text(encoding="utf-8"))


def indicator_paths(project: Project, paths: list[Path] | None = None) -> list[Path]:
    """The indicator files to load: those named (files or folders), or all under indicators/."""
    targets = paths or [project.indicators_dir]
    found: list[Path] = []
    for target in targets:
        target = Path(target)
        if target.is_dir():
            found.extend(sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(target)
    return found


def load_indicators(project: Project, paths: list[Path] | None = None) -> tuple[tuple[Indicator, ...], list[Issue]]:
    """Every indicator file that loads cleanly, and the issues of those that do not."""
    indicators: list[Indicator] = []
    issues: list[Issue] = []
    schema = indicator_schema()
    for path in indicator_paths(project, paths):
        indicator, file_issues = load_indicator_file(path, schema)
        issues.extend(file_issues)
        if indicator is not None:
            indicators.append(indicator)
    return tuple(indicators), issues


def load_indicator_file(path: Path, schema: dict) -> tuple[Indicator | None, list[Issue]]:
    """One indicator file → (the indicator or None, the issues found)."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Issue("unreadable-file", f"cannot read the file: {error}", shown)]
    document, issues = yamldoc.parse(text, shown)
    if document is None:
        return None, issues
    if not isinstance(document.data, dict):
        return None, [Issue("not-a-mapping", "an indicator file must be a mapping of keys (id:, title:, ...)", shown, 1, 1)]
    issues.extend(yamldoc.schema_issues(document, schema, shown, "schemas/indicator.schema.json"))
    if any(issue.level == "error" for issue in issues):
        return None, issues
    data, positions, styles = document.data, document.positions, document.styles
    return _build(path, data, positions, styles, shown), issues


def _sql(data: dict, key: str, positions: dict, styles: dict, shown: str) -> Sql | None:
    text = data.get(key)
    if text is None:
        return None
    line, column = positions.get(("__value__", key), positions.get((key,), (1, 1)))
    if styles.get((key,)) in ("|", ">"):
        line, column = line + 1, 1  # a block scalar's text starts on the line after its indicator
    return Sql(text=text, file=shown, line=line, column=column)


def _build(path: Path, data: dict, positions: dict, styles: dict, shown: str) -> Indicator:
    tests = tuple(_test_case(case, index, positions) for index, case in enumerate(data.get("tests") or []))
    target = data.get("target")
    return Indicator(
        id=data["id"],
        title=data["title"],
        tier=data["tier"],
        service_group=data["service_group"],
        collected=data["collected"],
        polarity=data["polarity"],
        unit=data["unit"],
        numerator=_sql(data, "numerator", positions, styles, shown),
        denominator=_sql(data, "denominator", positions, styles, shown),
        path=path,
        lead_officer=data.get("lead_officer"),
        head=data.get("head"),
        reported=data.get("reported", "monthly"),
        target=float(target) if target is not None else None,
        trend=data.get("trend", "comparable"),
        suppress_below=data.get("suppress_below"),
        definition=data.get("definition"),
        tests=tests,
        allowed_mutants=tuple(
            AllowedMutant(entry["mutant"], entry["reason"], positions.get(("mutants", "allow", index), (1, 1))[0])
            for index, entry in enumerate((data.get("mutants") or {}).get("allow") or [])
        ),
        positions=MappingProxyType(positions),
    )


def _test_case(case: dict, index: int, positions: dict) -> TestCase:
    try:
        period = parse_period(str(case["period"]))
    except PeriodError:  # the schema's pattern has already reported it
        period = date(1900, 1, 1)
    given = {
        table: tuple(MappingProxyType(yamldoc.plain(row)) for row in rows or [])
        for table, rows in (case.get("given") or {}).items()
    }
    return TestCase(
        name=case.get("name") or f"case {index + 1}",
        period=period,
        given=MappingProxyType(given),
        expect=MappingProxyType(dict(case["expect"])),
        line=positions.get(("tests", index), (1, 1))[0],
    )


def load_query_files(project: Project) -> tuple[tuple[QueryFile, ...], list[Issue]]:
    """queries/*.sql split into statements, each with the line it starts on; macros.sql first."""
    files: list[QueryFile] = []
    issues: list[Issue] = []
    paths = sorted(project.queries_dir.glob("*.sql"), key=lambda p: (p.name != "macros.sql", p.name))
    if not (project.queries_dir / "macros.sql").exists():
        # working_days() and the other engine macros are there for every project, even one without them.
        paths.insert(0, bundled_root() / "queries" / "macros.sql")
    for path in paths:
        shown = display_path(path)
        text = path.read_text(encoding="utf-8")
        try:
            statements = duckdb.extract_statements(text)
        except duckdb.Error as error:
            issues.append(Issue("sql-syntax", first_line(error), shown, locate(text, error), hint="fix the SQL syntax"))
            continue
        found: list[Sql] = []
        offset = 0
        for statement in statements:
            body = statement.query.strip().rstrip(";").strip()
            start = text.find(body, offset)
            start = offset if start < 0 else start
            offset = start + len(body)
            line = text.count("\n", 0, start) + 1
            body, skipped = _strip_leading_comments(body)
            found.append(Sql(text=body, file=shown, line=line + skipped))
        files.append(QueryFile(path=path, statements=tuple(found)))
    return tuple(files), issues


def _strip_leading_comments(sql: str) -> tuple[str, int]:
    """The statement without the comment lines above it, and how many lines were removed."""
    lines = sql.split("\n")
    skipped = 0
    while skipped < len(lines) - 1 and (not lines[skipped].strip() or lines[skipped].lstrip().startswith("--")):
        skipped += 1
    return "\n".join(lines[skipped:]), skipped
