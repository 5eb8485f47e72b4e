"""The pipeline, wired: load the definitions, open the data, plan, run, assess.

Each step lives in its own module; this one only puts them in order for the commands to call, and
turns problems with the data into a KpiError that lists them all.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Mapping

import duckdb

from kpi import database
from kpi.assess import Scorecard, assess
from kpi.config import Config, Project
from kpi.definitions import Definitions, Indicator
from kpi.disclosure import DisclosureRules, PublishedScorecard, publish
from kpi.extracts import Table, find_sources, load_table, table_definitions
from kpi.issues import Issue, KpiError, display_path
from kpi.load import load_indicators, load_query_files
from kpi.plan import Plan, materialisable_views, plan_scorecard
from kpi.run import Counts, run_plan

REFERENCE_TABLES = ("ref_benchmarks",)
DEMO_AUTHORITY, DEMO_REGION = "Demo Council", "North East"


def load_definitions(project: Project, paths: list[Path] | None = None) -> Definitions:
    """Load indicators and queries/ of a project; file-level problems are kept in `issues`."""
    indicators, issues = load_indicators(project, paths)
    query_files, query_issues = load_query_files(project)
    shared, shared_issues = database.shared_definitions(query_files)
    return Definitions(
        indicators, query_files, tuple(shared), table_definitions(project.schemas_dir),
        tuple(issues + query_issues + shared_issues),
    )


def select_indicators(
    indicators: Iterable[Indicator], pattern: str | None = None, service_group: str | None = None,
    lead_officer: str | None = None,
) -> tuple[Indicator, ...]:
    """The indicators matching an id pattern (`CSC 0*`, comma-separated), a service group and a lead officer."""
    chosen = []
    patterns = [p.strip().lower() for p in pattern.split(",")] if pattern else None
    for indicator in indicators:
        if patterns and not any(fnmatch.fnmatch(indicator.id.lower(), p) or fnmatch.fnmatch(indicator.file_stem, p) for p in patterns):
            continue
        if service_group and indicator.service_group.lower() != service_group.lower():
            continue
        if lead_officer and (indicator.lead_officer or "").lower() != lead_officer.lower():
            continue
        chosen.append(indicator)
    return tuple(chosen)


def open_database(
    definitions: Definitions, plan: Plan, data: Path | None, closure_days: tuple[date, ...] = (), scale: int = 1,
    progress: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A locked connection holding the extracts the plan reads (from `data`, or the demo council).

    `progress`, when given, is told about each table as it loads (the CLI shows it on a terminal).
    """
    con = database.connect()
    needed = set(plan.tables) | set(REFERENCE_TABLES)
    if data is None:
        _load_demo(con, definitions.tables, scale)
    else:
        _load_files(con, definitions.tables, plan, data, needed, progress)
    database.create_missing_tables(con, definitions.tables.values())
    database.lock(con)
    database.install_calendar(con, closure_days)
    # A view that does not bind fails the indicators that use it (each reports the missing view).
    database.install_shared(con, list(definitions.shared))
    database.materialise(con, materialisable_views(plan, list(definitions.shared)))
    return con


def _load_demo(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], scale: int) -> None:
    """The demo council: from the cache when this version of it was generated before (demo_cache.py)."""
    from kpi import demo_cache

    cached = demo_cache.cache_file(scale)
    if cached is not None and demo_cache.load(con, cached, tables):
        return
    from kpi import demo  # imports numpy and polars: only when generating

    frames = {name: frame for name, frame in demo.generate(scale=scale).items() if name in tables}
    for name, frame in frames.items():
        con.from_arrow(frame.to_arrow()).create(name)
    if cached is not None:
        demo_cache.store(cached, frames)


def _load_files(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], plan: Plan, data: Path, needed: set[str],
    progress: Callable[[str], None] | None = None,
) -> None:
    sources, issues = find_sources(data, tables)
    for name in sorted(needed):
        if name not in sources and name not in REFERENCE_TABLES:
            users = ", ".join(plan.needing(name))
            issues.append(Issue(
                "missing-table", f"table {name} is not in {display_path(data)}, and {users} need it",
                display_path(data), hint=f"add {name}.csv, .parquet or .xlsx, or leave out those indicators",
            ))
    chosen = sorted(name for name in sources if name in needed)
    for number, name in enumerate(chosen, start=1):
        started = time.perf_counter()
        problems = load_table(con, tables[name], sources[name])
        issues.extend(problems)
        if progress:
            rows = 0 if problems else con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            state = f"{len(problems)} problem(s)" if problems else f"{rows:,} rows"
            progress(f"[{number}/{len(chosen)}] {sources[name].shown}: {state} in {time.perf_counter() - started:.1f} s")
    if issues:
        raise KpiError(f"the extracts in {display_path(data)} cannot be used as they are", issues)


def read_benchmarks(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    """Published benchmarks by indicator id and area (england, region, statistical_neighbours)."""
    rows = con.execute(
        "SELECT indicator_id, area, value FROM ref_benchmarks ORDER BY indicator_id, area, period"
    ).fetchall()
    found: dict[str, dict[str, float]] = {}
    for indicator_id, area, value in rows:
        found.setdefault(indicator_id, {})[area] = value
    return found


def definition_errors(definitions: Definitions, indicators: Iterable[Indicator]) -> dict[str, str]:
    """What `kpi validate` would refuse in the indicators about to be computed, by id (SPEC §9).

    A project whose files do not load, or where two files share an id, cannot be computed at all: that
    is a KpiError (exit 2), since which file is the real indicator is unknown. Any other fault of one
    indicator (a percent without a denominator, a statement that is not a SELECT, a CTE that hides
    `period`) is that indicator's error, shown in its row while the others compute.
    """
    from kpi.sqlcheck import select_problem, shadowing_problem
    from kpi.validate import check_rules

    errors = [i for i in definitions.issues if i.level == "error"]
    if errors:
        raise KpiError("some definitions do not load: run `kpi validate`", errors)
    rules = [i for i in check_rules(definitions.indicators, definitions) if i.level == "error"]
    duplicates = [i for i in rules if i.code in ("duplicate-id", "duplicate-view", "view-cycle", "shadowing-view")]
    if duplicates:
        raise KpiError("the definitions contradict each other: run `kpi validate`", duplicates)
    by_file: dict[str, list[Issue]] = {}
    for issue in rules:
        by_file.setdefault(issue.file or "", []).append(issue)
    found: dict[str, str] = {}
    for indicator in indicators:
        problems = [f"{i.message} ({i.location()})" for i in by_file.get(indicator.numerator.file, [])]
        for part in ("numerator", "denominator"):
            sql = getattr(indicator, part)
            problem = sql is not None and (select_problem(sql.text, part) or shadowing_problem(sql.text, part))
            if problem:
                problems.append(f"{problem} ({sql.file}:{sql.line})")
        if problems:
            found[indicator.id] = "not computed, as `kpi validate` refuses it: " + "; ".join(problems)
    return found


def disclosure_rules(config: Config) -> DisclosureRules:
    """The disclosure control kpi.toml asks for (disclosure.py applies it)."""
    return DisclosureRules(config.suppress_below, config.disclosure_policy, config.round_to)


def compute(
    project: Project, definitions: Definitions, indicators: tuple[Indicator, ...], period: date,
    data: Path | None = None, scale: int = 1, by: str | None = None, progress: Callable[[str], None] | None = None,
) -> PublishedScorecard:
    """The scorecard of `indicators` for the month `period` as it may be published (disclosure.py);
    broken down by the column `by`, if given. Every output is rendered from this."""
    assessed = compute_assessed(project, definitions, indicators, period, data, scale, by, progress)
    return publish(assessed, disclosure_rules(project.config))


def compute_assessed(
    project: Project, definitions: Definitions, indicators: tuple[Indicator, ...], period: date,
    data: Path | None = None, scale: int = 1, by: str | None = None, progress: Callable[[str], None] | None = None,
) -> Scorecard:
    """The assessed scorecard, with the true numbers: for checks, never for output.

    Indicators `kpi validate` would refuse are not run: each carries its fault as its row's error.
    """
    config = project.config
    refused = definition_errors(definitions, indicators)
    plan = plan_scorecard(indicators, period, list(definitions.shared), definitions.tables, config.fy_start_month)
    runnable = replace(plan, indicators=tuple(p for p in plan.indicators if p.indicator.id not in refused))
    con = open_database(definitions, runnable, data, config.closure_days, scale, progress)
    try:
        counts = run_plan(con, runnable, by, config.query_time_limit)
        benchmarks = read_benchmarks(con)
    finally:
        con.close()
    counts.update({indicator_id: Counts(error=message) for indicator_id, message in refused.items()})
    # The demo council is a North East council, as the seed's was (its benchmarks are the seed's).
    authority = config.authority_name or (DEMO_AUTHORITY if data is None else "")
    region = config.region_name or (DEMO_REGION if data is None else "")
    return assess(plan, counts, benchmarks, authority, region, by)


def validate_project(
    project: Project, definitions: Definitions, data: Path | None = None, period: date | None = None,
) -> list[Issue]:
    """Every problem of the definitions (validate.py); with `data`, and no error in the definitions,
    also the data stage: the scorecard of `period` computed on those extracts (validate_data.py)."""
    from kpi.validate import validate
    from kpi.validate_data import data_issues

    issues = validate(definitions)
    if data is not None and period is not None and not any(i.level == "error" for i in issues):
        issues.extend(data_issues(compute_assessed(project, definitions, definitions.indicators, period, data)))
    return issues


def drill_rows(
    project: Project, definitions: Definitions, indicator: Indicator, month: date, part: str,
    data: Path | None = None, allow_suppressed: bool = False,
):
    """The rows behind one indicator's number for one month (see drill.py); refuses a number withheld
    by disclosure control unless `allow_suppressed`, saying which rule withholds it."""
    from kpi.assess import month_result
    from kpi.disclosure import withheld_reason
    from kpi.drill import drill
    from kpi.plan import plan_indicator
    from kpi.run import run_indicator

    config = project.config
    plan = plan_indicator(indicator, [month], list(definitions.shared), definitions.tables, config.fy_start_month)
    con = open_database(definitions, plan_scorecard([indicator], month, list(definitions.shared), definitions.tables, config.fy_start_month), data, config.closure_days)
    try:
        counts = run_indicator(con, plan)
        if counts.error:
            raise KpiError(f"{indicator.id} fails: {counts.error}")
        reason = withheld_reason(indicator, month_result(indicator, counts, month), disclosure_rules(config))
        if reason and not allow_suppressed:
            raise KpiError(
                f"{indicator.id} is suppressed in {month:%Y-%m} (disclosure control, small numbers): {reason}, "
                "so its rows are not shown: "
                "give --allow-suppressed if you are entitled to see the records"
            )
        return drill(con, plan, month, part)
    finally:
        con.close()


def check_data(definitions: Definitions, data: Path | None, extract_date: date | None = None, scale: int = 1):
    """Data-quality findings of the extracts in `data` (or the demo council's), keys not enforced."""
    from kpi.quality import check_tables

    con = database.connect()
    try:
        if data is None:
            from kpi import demo

            _load_demo(con, definitions.tables, scale)
            present = set(definitions.tables)
            extract_date = extract_date or demo.EXTRACT_DATE
        else:
            sources, issues = find_sources(data, definitions.tables)
            for name, source in sorted(sources.items()):
                issues.extend(load_table(con, definitions.tables[name], source, check_keys=False))
            if issues:
                raise KpiError(f"the extracts in {display_path(data)} cannot be read", issues)
            present = set(sources)
        database.lock(con)
        return check_tables(con, definitions.tables, present, extract_date or date.today()), present
    finally:
        con.close()
