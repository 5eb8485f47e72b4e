"""Validate definitions in stages, each gating the next: files (YAML syntax and JSON Schema, done by
load.py), rules across files, then SQL (one read-only SELECT that binds against empty extract tables
and returns `month`). Every problem is an Issue with file, line and column; nothing is raised.
Definitions only: running them on a council's extracts is validate_data.py's stage.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import duckdb

from kpi import database
from kpi.definitions import Definitions, Indicator, SharedDefinition, Sql
from kpi.issues import Issue
from kpi.plan import names_read, period_rows
from kpi.run import NUMERIC_TYPES
from kpi.sqlcheck import describe_error, locate, parse_all, referenced_names, select_problem, shadowing_problem, view_body


def validate(definitions: Definitions) -> list[Issue]:
    """All problems of a project's definitions; a stage runs only on what passed the one before."""
    issues = list(definitions.issues)
    rule_issues = check_rules(definitions.indicators, definitions)
    issues.extend(rule_issues)
    broken = {i.file for i in rule_issues if i.level == "error"}
    sound = [i for i in definitions.indicators if i.numerator.file not in broken]
    issues.extend(check_sql(sound, definitions))
    return sorted(issues, key=lambda i: (i.file or "", i.line or 0, i.column or 0))


def check_rules(indicators: Iterable[Indicator], definitions: Definitions) -> list[Issue]:
    """Rules across keys and files: ids unique and matching file names, unit/denominator/target/polarity."""
    issues: list[Issue] = []
    by_id: dict[str, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        by_id[indicator.id].append(indicator)
        issues.extend(_indicator_rules(indicator))
    for indicator_id, same in by_id.items():
        for duplicate in same[1:]:
            line, column = duplicate.position("id")
            issues.append(Issue(
                "duplicate-id", f"id {indicator_id!r} is also used by {same[0].numerator.file}",
                duplicate.numerator.file, line, column, hint="give each indicator its own id",
            ))
    issues.extend(_shared_rules(definitions))
    return issues


def _indicator_rules(indicator: Indicator) -> list[Issue]:
    issues = []
    file = indicator.numerator.file

    def issue(code: str, key: str, message: str, hint: str) -> None:
        line, column = indicator.position(key)
        issues.append(Issue(code, message, file, line, column, hint=hint))

    if indicator.path.stem != indicator.file_stem:
        issue("file-name", "id", f"the file is named {indicator.path.name} but holds {indicator.id}",
              f"rename it {indicator.file_stem}.yaml")
    if indicator.unit == "percent" and indicator.denominator is None:
        issue("missing-denominator", "unit", "a percent needs a `denominator`", "add the SELECT whose rows make 100%")
    if indicator.unit == "count" and indicator.denominator is not None:
        issue("unexpected-denominator", "denominator", "a count has no `denominator`",
              "remove it, or make the unit percent or rate_per_10000")
    if indicator.polarity == "none" and indicator.target is not None:
        issue("target-without-polarity", "target", "a target needs a polarity: with polarity none nothing is better",
              "set polarity to bigger or smaller, or remove the target")
    if indicator.unit == "percent" and indicator.target is not None and not 0 <= indicator.target <= 100:
        issues.append(Issue("target-out-of-range", f"a percent target of {indicator.target:g} is outside 0-100",
                            file, *indicator.position("target"), hint="write the target as a percentage", level="warning"))
    if not indicator.tests:
        issues.append(Issue("no-tests", "no test exercises this indicator", file, *indicator.position("id"),
                            hint="add a case under `tests:` (see docs/adding-an-indicator.md)", level="warning"))
    return issues


def _shared_rules(definitions: Definitions) -> list[Issue]:
    """Views and macros: names unique, not shadowing an extract table, no view depending on itself."""
    issues = []
    seen: dict[str, Sql] = {}
    views = {d.name: d for d in definitions.shared if d.kind == "VIEW"}
    for definition in definitions.shared:
        if definition.name in seen and definition.kind == "VIEW":
            issues.append(Issue("duplicate-view", f"view {definition.name} is defined twice (also at {seen[definition.name].file}:{seen[definition.name].line})",
                                definition.sql.file, definition.sql.line, hint="keep one definition"))
        if definition.name in definitions.tables or definition.name in ("period", "ref_calendar"):
            issues.append(Issue("shadowing-view", f"{definition.kind.lower()} {definition.name} has the name of a table the engine provides",
                                definition.sql.file, definition.sql.line, hint="give it another name"))
        seen[definition.name] = definition.sql
    parse_all([view_body(v.sql.text) for v in views.values()])  # one parse for all, not one per view
    for name in views:
        cycle = _cycle(name, views)
        if cycle:
            view = views[name]
            issues.append(Issue("view-cycle", f"view {name} depends on itself: {' → '.join(cycle)}",
                                view.sql.file, view.sql.line, hint="break the cycle"))
    return issues


def _cycle(start: str, views: dict) -> list[str] | None:
    path = [start]

    def visit(name: str) -> list[str] | None:
        for ref in referenced_names(view_body(views[name].sql.text)):
            if ref == start:
                return path + [ref]
            if ref in views and ref not in path:
                path.append(ref)
                found = visit(ref)
                if found:
                    return found
                path.pop()
        return None

    return visit(start)


def check_sql(indicators: Iterable[Indicator], definitions: Definitions) -> list[Issue]:
    """Each query is one SELECT that binds against empty extracts, returns `month` and a numeric `value` if any."""
    con = database.connect()
    try:
        database.create_missing_tables(con, definitions.tables.values())
        database.lock(con)
        database.install_calendar(con, empty=True)  # bound, never run: its days do not matter
        issues = database.install_shared(con, list(definitions.shared))
        for indicator in indicators:
            database.install_period(con, period_rows(indicator.collected, []))
            for part in ("numerator", "denominator"):
                sql = getattr(indicator, part)
                if sql is None:
                    continue
                issues.extend(check_query(con, sql, part, list(definitions.shared)))
        return issues
    finally:
        con.close()


def check_query(
    con: duckdb.DuckDBPyConnection, sql: Sql, part: str, shared: Sequence[SharedDefinition] = (),
) -> list[Issue]:
    """The problems of one query, pointing at the line inside the YAML file where DuckDB found them.

    A query may join `period` itself or read a shared view or macro that does.
    """
    problem = select_problem(sql.text, part)
    if problem:
        return [Issue("not-a-select", problem, sql.file, sql.line, hint="an indicator's SQL only reads: one SELECT, no other statement")]
    problem = shadowing_problem(sql.text, part)
    if problem:
        return [Issue("shadowing-cte", problem, sql.file, sql.line, hint="give the WITH query another name")]
    try:
        columns = database.columns_of(con, sql.text)
    except duckdb.Error as error:
        message = describe_error(error, sql.text)
        line = locate(sql.text, error)
        return [Issue("sql-binding", f"the {part} does not bind: {message}", sql.file, sql.file_line(line) if line else sql.line)]
    issues = []
    if "period" not in names_read([sql], list(shared)):
        issues.append(Issue("no-period", f"the {part} does not join the `period` relation, so every month counts the same rows",
                            sql.file, sql.line, hint="join period p on the date that places a row in a month, or read a shared view that does", level="warning"))
    if "month" not in columns:
        issues.append(Issue("no-month", f"the {part} returns no column `month`", sql.file, sql.line,
                            hint="join the `period` relation and select p.month"))
    if "value" in columns and not columns["value"].upper().startswith(NUMERIC_TYPES):
        issues.append(Issue("value-not-numeric", f"the {part}'s `value` column is {columns['value']}, not a number",
                            sql.file, sql.line, hint="cast it to a number, or rename it to count rows instead"))
    return issues
