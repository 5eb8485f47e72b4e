"""Load definition files: indicator YAML (with line and column of every key) and queries/*.sql.

Checks what a single file can tell (YAML syntax, the JSON Schema, duplicate keys) and builds immutable
definitions. Rules across files and the SQL itself are checked in validate.py.
"""

from __future__ import annotations

import difflib
import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import jsonschema
import yaml

from kpi.config import Project, bundled_root
from kpi.definitions import Indicator, QueryFile, Sql, TestCase
from kpi.issues import Issue, display_path
from kpi.periods import PeriodError, parse_period
from kpi.sqlcheck import first_line, locate

SQL_KEYS = ("numerator", "denominator")


@lru_cache(maxsize=4)
def indicator_schema(schemas_dir: Path) -> dict:
    """The JSON Schema of an indicator file (the single source of the file format)."""
    return json.loads((schemas_dir / "indicator.schema.json").read_text(encoding="utf-8"))


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
    schema = indicator_schema(project.schemas_dir)
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
    try:
        node, data = _parse_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or str(error)
        return None, [
            Issue(
                "yaml-syntax",
                f"the file is not valid YAML: {problem}",
                shown,
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
                hint="check the indentation and quoting on this line or the one before",
            )
        ]
    if not isinstance(data, dict) or node is None:
        return None, [Issue("not-a-mapping", "an indicator file must be a mapping of keys (id:, title:, ...)", shown, 1, 1)]

    positions: dict[tuple, tuple[int, int]] = {}
    styles: dict[tuple, str | None] = {}
    issues = _walk(node, (), positions, styles, shown)
    issues.extend(_schema_issues(_plain(data), schema, positions, shown))
    if any(issue.level == "error" for issue in issues):
        return None, issues
    return _build(path, data, positions, styles, shown), issues


# libyaml's parser when PyYAML was built with it: the same results, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (with positions) and the values built from it, in one parse."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: tuple, positions: dict, styles: dict, shown: str) -> list[Issue]:
    """Record the (line, column) of every key and item; report duplicate keys, which YAML silently merges."""
    issues: list[Issue] = []
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                issues.append(
                    Issue(
                        "duplicate-key",
                        f"key `{'.'.join(map(str, path + (key,)))}` is given twice",
                        shown,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        hint="keep one of them",
                    )
                )
            seen.add(key)
            issues.extend(_walk(value_node, path + (key,), positions, styles, shown))
            positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(value_node, yaml.ScalarNode):
                styles[path + (key,)] = value_node.style
                positions[("__value__",) + path + (key,)] = (
                    value_node.start_mark.line + 1,
                    value_node.start_mark.column + 1,
                )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            issues.extend(_walk(item, path + (index,), positions, styles, shown))
    return issues


def _plain(value: Any) -> Any:
    """YAML values as JSON would have them (dates become ISO text), for the JSON Schema check."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@lru_cache(maxsize=4)
def _validator(schema_text: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text))


def _schema_issues(data: dict, schema: dict, positions: dict, shown: str) -> list[Issue]:
    validator = _validator(json.dumps(schema, sort_keys=True))
    issues = []
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        message, hint, at = _describe(error, schema, path)
        line, column = _nearest(positions, at)
        issues.append(Issue("schema", message, shown, line, column, hint=hint))
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0))


def _describe(error: jsonschema.ValidationError, schema: dict, path: tuple) -> tuple[str, str | None, tuple]:
    """A message in the user's terms for one JSON Schema error, the hint, and the key path to point at."""
    where = ".".join(str(p) for p in path)
    subschema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        known = sorted(subschema.get("properties", {}))
        extras = sorted(set(error.instance) - set(known))
        key = extras[0] if extras else "?"
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"the keys allowed here are: {', '.join(known)}"
        return f"unknown key `{'.'.join([*map(str, path), key])}`", hint, path + (key,)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key `{'.'.join([*map(str, path), missing])}`", "add it: see schemas/indicator.schema.json", path
    if error.validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        close = difflib.get_close_matches(str(error.instance), [str(o) for o in error.validator_value], n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"one of: {options}"
        return f"`{where}` is {error.instance!r}, which is not one of {options}", hint, ("__value__",) + path
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return f"`{where}` must be {_article(expected)}, not {error.instance!r}", None, ("__value__",) + path
    if error.validator == "pattern":
        example = {"id": "e.g. `CSC 038` or `CSC 004s`", "period": "e.g. `2017-09`"}.get(str(path[-1]) if path else "", "")
        return f"`{where}` is {error.instance!r}, which is not in the expected form", f"write it {example}".strip(), ("__value__",) + path
    text = error.message[0].lower() + error.message[1:]
    return f"`{where or 'the file'}`: {text}", None, ("__value__",) + path


def _article(kind: str) -> str:
    return {"number": "a number", "string": "a text", "integer": "a whole number", "array": "a list",
            "object": "a mapping", "boolean": "true or false"}.get(kind, kind)


def _nearest(positions: dict, path: tuple) -> tuple[int, int]:
    """The position of `path`, or of the nearest key above it (a value's position falls back to its key's)."""
    if path[:1] == ("__value__",):
        if path in positions:
            return positions[path]
        path = path[1:]
    while path and path not in positions:
        path = path[:-1]
    return positions.get(path, (1, 1))


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
        positions=MappingProxyType(positions),
    )


def _test_case(case: dict, index: int, positions: dict) -> TestCase:
    try:
        period = parse_period(str(case["period"]))
    except PeriodError:  # the schema's pattern has already reported it
        period = date(1900, 1, 1)
    given = {
        table: tuple(MappingProxyType(_plain(row)) for row in rows or [])
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
