"""Load definition files: indicator YAML (with line and column of every key) and queries/*.sql, in two
layers: the bundled definitions, then the project's, whose indicators (by id) and views and macros (by
name) replace the bundled ones. SQL written in T-SQL is translated here (dialect.py).

Checks what a single file can tell (YAML syntax, the JSON Schema, duplicate keys) and builds immutable
definitions. Rules across files and the SQL itself are checked in validate.py.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Sequence

import duckdb

from kpi import yamldoc
from kpi.config import Project, bundled_root
from kpi.definitions import AllowedMutant, Indicator, QueryFile, Sql, TestCase
from kpi.dialect import DIALECT_NAMES, DialectError, transpile
from kpi.issues import Issue, KpiError, display_path
from kpi.periods import PeriodError, parse_period
from kpi.sqlcheck import first_line, locate, query_file_statement

SQL_KEYS = ("numerator", "denominator")


@lru_cache(maxsize=4)
def indicator_schema() -> dict:
    """The JSON Schema of an indicator file (the single source of the file format: the engine's, in every project)."""
    return json.loads((bundled_root() / "schemas" / "indicator.schema.json").read_text(encoding="utf-8"))


def indicator_paths(project: Project, paths: list[Path] | None = None) -> list[Path]:
    """The indicator files to load: those named (files or folders), or all under indicators/."""
    if not paths and not project.indicators_dir.is_dir():
        return []  # a project with only a kpi.toml: no indicators of its own yet
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
    """Every indicator file that loads cleanly, and the issues of those that do not.

    Without `paths`: the project's indicators/, then (when kpi.toml's `include_bundled_indicators` asks
    for them) the bundled ones whose id or file name the project does not already use.
    """
    schema = indicator_schema()
    own_origin = "bundled" if project.is_bundled else "project"
    indicators, issues = _load_layer(indicator_paths(project, paths), schema, project.config.sql_dialect, own_origin)
    if paths is None and project.bundled_indicators_dir is not None:
        taken_ids = {i.id for i in indicators}
        taken_stems = {p.stem for p in indicator_paths(project)}
        bundled_paths = [p for p in indicator_paths(project, [project.bundled_indicators_dir]) if p.stem not in taken_stems]
        bundled, bundled_issues = _load_layer(bundled_paths, schema, "duckdb", "bundled")
        indicators.extend(i for i in bundled if i.id not in taken_ids)
        issues.extend(bundled_issues)
    return tuple(indicators), issues


def _load_layer(paths: list[Path], schema: dict, dialect: str, origin: str) -> tuple[list[Indicator], list[Issue]]:
    indicators: list[Indicator] = []
    issues: list[Issue] = []
    for path in paths:
        indicator, file_issues = load_indicator_file(path, schema, dialect, origin)
        issues.extend(file_issues)
        if indicator is not None:
            indicators.append(indicator)
    return indicators, issues


def load_indicator_file(
    path: Path, schema: dict, default_dialect: str = "duckdb", origin: str = "project",
) -> tuple[Indicator | None, list[Issue]]:
    """One indicator file → (the indicator or None, the issues found).

    Its SQL is in `default_dialect` (kpi.toml's `sql_dialect`) unless the file says `dialect:`.
    """
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
    dialect = data.get("dialect", default_dialect)
    queries = {}
    for key in SQL_KEYS:
        sql, problem = _sql(data, key, positions, styles, shown, dialect)
        queries[key] = sql
        if problem is not None:
            issues.append(problem)
    if any(issue.level == "error" for issue in issues):
        return None, issues
    return _build(path, data, positions, queries, origin), issues


def nearest_ids(requested: str, indicators: Iterable[Indicator]) -> list[str]:
    """The ids most like `requested` (a typo's likely meaning), best first."""
    ids = {i.id.lower(): i.id for i in indicators}
    return [ids[found] for found in difflib.get_close_matches(requested.lower(), list(ids), n=3, cutoff=0.6)]


def require_known(requested: Iterable[str], indicators: Sequence[Indicator]) -> None:
    """Refuse (KpiError) an id or pattern that matches no indicator, naming the nearest ids."""
    for wanted in requested:
        for pattern in (p.strip() for p in wanted.split(",") if p.strip()):
            lowered = pattern.lower()
            if not any(fnmatch.fnmatch(i.id.lower(), lowered) or fnmatch.fnmatch(i.file_stem, lowered) for i in indicators):
                raise unknown_id(pattern, indicators)


def unknown_id(requested: str, indicators: Iterable[Indicator]) -> KpiError:
    """The error for an id no indicator has, naming the nearest ids."""
    nearest = nearest_ids(requested, indicators)
    suggestion = f": did you mean {' or '.join(repr(n) for n in nearest)}?" if nearest else ""
    return KpiError(f"no indicator has the id {requested!r}{suggestion} (`kpi list` shows them all)")


def _sql(data: dict, key: str, positions: dict, styles: dict, shown: str, dialect: str) -> tuple[Sql | None, Issue | None]:
    """The query under `key`, translated to DuckDB when written in another dialect; or the issue why not."""
    text = data.get(key)
    if text is None:
        return None, None
    line, column = positions.get(("__value__", key), positions.get((key,), (1, 1)))
    if styles.get((key,)) in ("|", ">"):
        line, column = line + 1, 1  # a block scalar's text starts on the line after its indicator
    if dialect == "duckdb":
        return Sql(text=text, file=shown, line=line, column=column), None
    try:
        translated = transpile(text, dialect)
    except DialectError as error:
        where = line + error.line - 1 if error.line else line
        return None, Issue("sql-dialect", f"the {key} cannot be read as {DIALECT_NAMES.get(dialect, dialect)}: {error}", shown, where,
                           hint="fix the SQL, or write it in DuckDB's SQL and remove `dialect:`")
    return Sql(text=translated, file=shown, line=line, column=column, written=text, dialect=dialect), None


def _build(path: Path, data: dict, positions: dict, queries: dict, origin: str) -> Indicator:
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
        numerator=queries["numerator"],
        denominator=queries["denominator"],
        path=path,
        lead_officer=data.get("lead_officer"),
        head=data.get("head"),
        reported=data.get("reported", "monthly"),
        target=float(target) if target is not None else None,
        trend=data.get("trend", "comparable"),
        suppress_below=data.get("suppress_below"),
        definition=data.get("definition"),
        tests=tests,
        origin=origin,
        allowed_mutants=tuple(
            AllowedMutant(entry["mutant"], entry["reason"], positions.get(("mutants", "allow", index), (1, 1))[0])
            for index, entry in enumerate((data.get("mutants") or {}).get("allow") or [])
        ),
        breakdown_child=(data.get("breakdown") or {}).get("child"),
        breakdown_date=(data.get("breakdown") or {}).get("date"),
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
    """queries/*.sql split into statements, each with the line it starts on; macros.sql first.

    The bundled queries/ come first; a view or macro the project's queries/ defines replaces the
    bundled one of the same name, which is dropped.
    """
    layers = [d for d in (project.bundled_queries_dir, project.queries_dir) if d is not None]
    loaded: list[tuple[int, QueryFile]] = []
    issues: list[Issue] = []
    for layer, folder in enumerate(layers):
        for path in sorted(folder.glob("*.sql")):
            query_file, file_issues = _load_query_file(path)
            issues.extend(file_issues)
            if query_file is not None:
                loaded.append((layer, query_file))
    own = {_statement_name(s) for layer, f in loaded if layer == len(layers) - 1 for s in f.statements} - {None}
    files = []
    for layer, query_file in sorted(loaded, key=lambda lf: (lf[1].path.name != "macros.sql", lf[0], lf[1].path.name)):
        if layer < len(layers) - 1:
            kept = tuple(s for s in query_file.statements if _statement_name(s) not in own)
            query_file = QueryFile(path=query_file.path, statements=kept)
        files.append(query_file)
    return tuple(files), issues


def _statement_name(statement: Sql) -> str | None:
    found = query_file_statement(statement.text)
    return found[1] if found else None


def _load_query_file(path: Path) -> tuple[QueryFile | None, list[Issue]]:
    shown = display_path(path)
    text = path.read_text(encoding="utf-8")
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as error:
        return None, [Issue("sql-syntax", first_line(error), shown, locate(text, error), hint="fix the SQL syntax")]
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
    return QueryFile(path=path, statements=tuple(found)), []


def _strip_leading_comments(sql: str) -> tuple[str, int]:
    """The statement without the comment lines above it, and how many lines were removed."""
    lines = sql.split("\n")
    skipped = 0
    while skipped < len(lines) - 1 and (not lines[skipped].strip() or lines[skipped].lstrip().startswith("--")):
        skipped += 1
    return "\n".join(lines[skipped:]), skipped
