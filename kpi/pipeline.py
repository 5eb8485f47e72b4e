"""The pipeline, wired: load the definitions, open the data, plan, run, assess.

Each step lives in its own module; this one only puts them in order for the commands to call, and
turns problems with the data into a KpiError that lists them all.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterable, Mapping

import duckdb

from kpi import database
from kpi.assess import Scorecard, assess
from kpi.config import Config, Project
from kpi.definitions import Definitions, Indicator
from kpi.extracts import Table, find_sources, load_table, survey_tables, table_definitions
from kpi.issues import Issue, KpiError, display_path
from kpi.periods import add_months
from kpi.load import load_indicators, load_query_files
from kpi.plan import Plan, materialisable_views, plan_scorecard
from kpi.run import run_plan

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
    progress: Callable[[str], None] | None = None, config: Config | None = None,
) -> duckdb.DuckDBPyConnection:
    """A locked connection holding the extracts the plan reads (from `data`, or the demo council).

    `progress`, when given, is told about each table as it loads (the CLI shows it on a terminal);
    `config` gives how to read the files (two-digit years, encodings).
    """
    con = database.connect()
    needed = set(plan.tables) | set(REFERENCE_TABLES)
    if data is None:
        _load_demo(con, definitions.tables, scale)
    else:
        _load_files(con, definitions.tables, plan, data, needed, progress, config or Config())
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
    progress: Callable[[str], None] | None = None, config: Config = Config(),
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
    _load_reference_targets(con, tables, sources, needed, config)
    for number, name in enumerate(chosen, start=1):
        started = time.perf_counter()
        problems = load_table(con, tables[name], sources[name], True, config.two_digit_year_pivot, config.encoding.get(name))
        issues.extend(problems)
        if progress:
            rows = 0 if problems else con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            state = f"{len(problems)} problem(s)" if problems else f"{rows:,} rows"
            progress(f"[{number}/{len(chosen)}] {sources[name].shown}: {state} in {time.perf_counter() - started:.1f} s")
    if issues:
        raise KpiError(f"the extracts in {display_path(data)} cannot be used as they are", issues)


def _load_reference_targets(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], sources: Mapping, needed: set[str], config: Config) -> None:
    """The tables the needed ones refer to (schemas/extracts.yaml `references`), when given, so that ids
    that do not join are found (coverage_warnings); one that cannot be read is left out, unchecked."""
    targets = {t for name in needed if name in tables for _, t, _ in tables[name].references} - needed
    for name in sorted(t for t in targets if t in sources):
        load_table(con, tables[name], sources[name], True, config.two_digit_year_pivot, config.encoding.get(name))


def read_benchmarks(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    """Published benchmarks by indicator id and area (england, region, statistical_neighbours)."""
    rows = con.execute(
        "SELECT indicator_id, area, value FROM ref_benchmarks ORDER BY indicator_id, area, period"
    ).fetchall()
    found: dict[str, dict[str, float]] = {}
    for indicator_id, area, value in rows:
        found.setdefault(indicator_id, {})[area] = value
    return found


def compute(
    project: Project, definitions: Definitions, indicators: tuple[Indicator, ...], period: date,
    data: Path | None = None, scale: int = 1, by: str | None = None, progress: Callable[[str], None] | None = None,
    extract_date: date | None = None,
) -> Scorecard:
    """The scorecard of `indicators` for the month `period`; broken down by the column `by`, if given.

    Refuses a month the extract does not cover (one ending after `extract_date`, else kpi.toml's; without
    either, one starting after the latest date in the data); the scorecard's `warnings` say which months
    are only partly covered and which references do not join (see docs/extracts.md).
    """
    config = project.config
    given_date = extract_date or config.extract_date
    if given_date is not None:
        refuse_uncovered_month(period, given_date, "--extract-date" if extract_date else "kpi.toml's extract_date")
    plan = plan_scorecard(indicators, period, list(definitions.shared), definitions.tables, config.fy_start_month)
    con = open_database(definitions, plan, data, config.closure_days, scale, progress, config)
    try:
        warnings = coverage_warnings(con, definitions.tables, plan, given_date, config.reference_match_min)
        counts = run_plan(con, plan, by, config.query_time_limit)
        benchmarks = read_benchmarks(con)
    finally:
        con.close()
    # The demo council is a North East council, as the seed's was (its benchmarks are the seed's).
    authority = config.authority_name or (DEMO_AUTHORITY if data is None else "")
    region = config.region_name or (DEMO_REGION if data is None else "")
    scorecard = assess(plan, counts, benchmarks, authority, region, config.suppress_below, by)
    return replace(scorecard, warnings=tuple(warnings))


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def refuse_uncovered_month(period: date, extract_date: date, told_by: str) -> None:
    """A KpiError when the reporting month ends after `extract_date`: its counts would be short."""
    if month_end(period) > extract_date:
        raise KpiError(
            f"the reporting month {period:%Y-%m} ends after {told_by} ({extract_date.isoformat()}), so the extract "
            f"does not cover it: give an earlier --period, or --extract-date if the extract is newer"
        )


def coverage_warnings(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], plan: Plan, extract_date: date | None,
    reference_match_min: float,
) -> list[str]:
    """Without an extract date given, refuse a reporting month after the latest date in the data (warn
    of one it ends inside of); warn of months before the data begin and of references that do not
    join (ids that lost leading zeros or gained padding). One scan per table read."""
    survey = survey_tables(con, tables, sorted(plan.tables))
    warnings = []
    latest = max((s.latest for s in survey.values() if s.latest is not None), default=None)
    if extract_date is None and latest is not None:
        # The latest date in the data is no later than the day the extract was taken, and may be a few
        # days before it: a month it does not reach is refused, a month it ends inside of is a warning.
        if plan.current > latest:
            refuse_uncovered_month(plan.current, latest, "the latest date in the data")
        if month_end(plan.current) > latest:
            warnings.append(
                f"the latest date in the data is {latest.isoformat()}, so {plan.current:%Y-%m} may be only partly covered: "
                "give --extract-date (or extract_date in kpi.toml) to say when the extract was taken"
            )
    starts = [(s.earliest, s.table) for s in survey.values() if s.earliest is not None]
    if starts:
        start, table = max(starts)
        months = sorted({m for p in plan.indicators for m in p.months if m < start.replace(day=1)})  # months before the data begin
        if months:
            shown = ", ".join(f"{m:%Y-%m}" for m in months)
            warnings.append(
                f"the data start on {start.isoformat()} (the earliest date in {table}), so these months are only "
                f"partly covered or not at all, and their numbers are short: {shown}"
            )
    for found in survey.values():
        for reference in found.references:
            if reference.values and reference.share < reference_match_min:
                examples = ", ".join(repr(v) for v in reference.unmatched_examples)
                warnings.append(
                    f"{reference.table}.{reference.column}: only {reference.share:.1%} of its {reference.values:,} values are "
                    f"found in {reference.target} (not found: {examples}): check the ids are written alike in both "
                    f"(leading zeros, spaces, `.0`)"
                )
    return warnings


def drill_rows(
    project: Project, definitions: Definitions, indicator: Indicator, month: date, part: str,
    data: Path | None = None, allow_suppressed: bool = False,
):
    """The rows behind one indicator's number for one month (see drill.py); refuses a suppressed number."""
    from kpi.assess import month_result
    from kpi.drill import drill
    from kpi.plan import plan_indicator
    from kpi.run import run_indicator

    config = project.config
    plan = plan_indicator(indicator, [month], list(definitions.shared), definitions.tables, config.fy_start_month)
    con = open_database(definitions, plan_scorecard([indicator], month, list(definitions.shared), definitions.tables, config.fy_start_month), data, config.closure_days, config=config)
    try:
        counts = run_indicator(con, plan)
        if counts.error:
            raise KpiError(f"{indicator.id} fails: {counts.error}")
        if month_result(indicator, counts, month, config.suppress_below).suppressed and not allow_suppressed:
            raise KpiError(
                f"{indicator.id} is suppressed in {month:%Y-%m} (small numbers), so its rows are not shown: "
                "give --allow-suppressed if you are entitled to see the records"
            )
        return drill(con, plan, month, part)
    finally:
        con.close()


def check_data(definitions: Definitions, data: Path | None, extract_date: date | None = None, scale: int = 1, config: Config | None = None):
    """Data-quality findings of the extracts in `data` (or the demo council's), keys not enforced.

    `config` gives how to read the files (two-digit years, encodings) and the default extract date."""
    config = config or Config()
    extract_date = extract_date or config.extract_date
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
                issues.extend(load_table(con, definitions.tables[name], source, False, config.two_digit_year_pivot, config.encoding.get(name)))
            if issues:
                raise KpiError(f"the extracts in {display_path(data)} cannot be read", issues)
            present = set(sources)
        database.lock(con)
        return check_tables(con, definitions.tables, present, extract_date or date.today()), present
    finally:
        con.close()
