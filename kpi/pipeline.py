"""The pipeline, wired: load the definitions, open the data, plan, run, assess.

Each step lives in its own module; this one only puts them in order for the commands to call, and
turns problems with the data into a KpiError that lists them all.
"""

from __future__ import annotations

import fnmatch
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import duckdb

from kpi import __version__, database, database_source, profiles
from kpi.assess import Dimensions, Scorecard, assess
from kpi.config import Config, Project
from kpi.definitions import Definitions, Indicator
from kpi.disclosure import DisclosureRules, PublishedScorecard, publish
from kpi.extracts import Table, find_sources, load_table, survey_tables, table_definitions
from kpi.issues import Issue, KpiError, display_path
from kpi.load import load_indicators, load_query_files
from kpi.periods import add_months, format_period
from kpi.plan import Dimension, Plan, dimensions, materialisable_views, plan_scorecard
from kpi.provenance import DataRead, Provenance, definitions_sha256, file_sha256, git_state, now
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
    progress: Callable[[str], None] | None = None, profile: profiles.Profile | None = None,
    report: profiles.LoadReport | None = None, reads: list[DataRead] | None = None, config: Config | None = None,
    optional: frozenset[str] = frozenset(),
) -> duckdb.DuckDBPyConnection:
    """A locked connection holding the extracts the plan reads (from `data`, or the demo council), and
    the `optional` ones where the data hold them (those a breakdown's dimension reads).

    `progress`, when given, is told about each table as it loads (the CLI shows it on a terminal).
    Files are read through the source `profile` (default `ssd`); `report` collects what it found;
    `reads`, when given, receives a record of each table read (for the output's provenance); `config`
    gives how to read the files (two-digit years, encodings).
    """
    con = database.connect()
    needed = set(plan.tables) | set(REFERENCE_TABLES) | set(optional)
    if data is None:
        _load_demo(con, definitions.tables, scale)
        if reads is not None:
            reads.extend(_demo_reads(con, sorted(needed), scale))
    elif database_source.is_database_url(data):
        _load_database(con, definitions.tables, plan, str(data), needed, progress, profile or profiles.CANONICAL,
                       report or profiles.LoadReport(), reads, config or Config(), optional)
    else:
        _load_source(con, definitions.tables, plan, data, needed, progress, profile or profiles.CANONICAL,
                     report or profiles.LoadReport(), reads, config or Config(), optional)
    database.create_missing_tables(con, definitions.tables.values())
    database.lock(con)
    database.install_calendar(con, closure_days)
    # A view that does not bind fails the indicators that use it (each reports the missing view).
    database.install_shared(con, list(definitions.shared))
    database.materialise(con, materialisable_views(plan, list(definitions.shared)))
    return con


def _load_demo(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], scale: int) -> None:
    """The demo council: from the cache when this version of it was generated before (kpi/demo/cache.py)."""
    from kpi.demo import cache as demo_cache

    cached = demo_cache.cache_file(scale)
    if cached is not None and demo_cache.load(con, cached, tables):
        return
    from kpi import demo  # generate() imports numpy: only when there is no cached demo

    frames = {name: frame for name, frame in demo.generate(scale=scale).items() if name in tables}
    for name, frame in frames.items():
        con.from_arrow(frame.to_arrow()).create(name)
    if cached is not None:
        demo_cache.store(cached, frames)


def _demo_reads(con: duckdb.DuckDBPyConnection, tables: list[str], scale: int) -> list[DataRead]:
    present = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return [DataRead(name, f"the demo council (scale {scale})", _rows(con, name)) for name in tables if name in present]


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]


def _load_source(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], plan: Plan, data: Path, needed: set[str],
    progress: Callable[[str], None] | None, profile: profiles.Profile, report: profiles.LoadReport,
    reads: list[DataRead] | None, config: Config, optional: frozenset[str] = frozenset(),
) -> None:
    """The extracts in `data`, through `profile`; a statutory return is first read by its reader (see
    `_readable`), and the indicators it gives only approximately or never are noted in `report`."""
    chosen = {p.indicator.id for p in plan.indicators}
    report.refused.update({i: r for i, r in profile.refused.items() if i in chosen})
    report.approximations.update({i: a for i, a in profile.approximations.items() if i in chosen})
    first = len(reads) if reads is not None else 0
    with _readable(profile, data, tables) as folder:
        _load_files(con, tables, plan, folder, needed, progress, profile, report, reads, config, optional)
    if profile.reader is not None and reads is not None:
        # the provenance names the return's own files (and their checksum), not the temporary tables
        from kpi import returns

        checksum = returns.files_sha256(Path(data))
        reads[first:] = [replace(r, origin=f"{display_path(data)} (the {profile.reader} return)", sha256=checksum)
                         if r.origin.endswith(".parquet") else  # made by the reader; else a file given beside it
                         replace(r, origin=display_path(Path(data) / Path(r.origin).name)) for r in reads[first:]]


@contextmanager
def _readable(profile: profiles.Profile, data: Path, tables: Mapping[str, Table]) -> Iterator[Path]:
    """The folder of extract files to load: `data` itself, or, for a statutory return (a profile with a
    reader), its canonical tables as written by its reader (kpi/returns/) into a temporary folder."""
    if profile.reader is None:
        yield Path(data)
        return
    import tempfile

    from kpi import returns

    with tempfile.TemporaryDirectory(prefix="kpi-return-") as folder:
        returns.stage(profile.reader, Path(data), tables, Path(folder))
        yield Path(folder)


def _load_files(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], plan: Plan, data: Path, needed: set[str],
    progress: Callable[[str], None] | None, profile: profiles.Profile, report: profiles.LoadReport,
    reads: list[DataRead] | None = None, config: Config = Config(), optional: frozenset[str] = frozenset(),
) -> None:
    sources, issues = find_sources(data, tables)
    needed = needed | profile.lookup_tables(needed)
    for name in sorted(needed):
        if name not in sources and name in optional:
            continue  # read by a dimension only: loaded empty, and the dimension says it has no data
        if name not in sources and (tables[name].extension or name in profile.no_source_tables):
            report.absent_tables.add(name)  # optional: loaded empty; the indicators reading it say so
        elif name not in sources and name not in REFERENCE_TABLES:
            users = ", ".join(plan.needing(name))
            issues.append(Issue(
                "missing-table", f"table {name} is not in {display_path(data)}, and {users} need it",
                display_path(data), hint=f"add {name}.csv, .parquet or .xlsx, or leave out those indicators",
            ))
    chosen = sorted(name for name in sources if name in needed)
    _load_reference_targets(con, tables, sources, needed, config)
    for number, name in enumerate(chosen, start=1):
        started = time.perf_counter()
        problems = load_table(con, tables[name], sources[name], adapt=profiles.adapter(profile, report),
                              two_digit_year_pivot=config.two_digit_year_pivot, encoding=config.encoding.get(name))
        issues.extend(problems)
        rows = 0 if problems else _rows(con, name)
        if reads is not None and not problems:
            source = sources[name]
            reads.append(DataRead(name, source.shown, rows, file_sha256(source.path) if source.kind != "duckdb" else None))
        if progress:
            state = f"{len(problems)} problem(s)" if problems else f"{rows:,} rows"
            progress(f"[{number}/{len(chosen)}] {sources[name].shown}: {state} in {time.perf_counter() - started:.1f} s")
    if issues:
        raise KpiError(f"the extracts in {display_path(data)} cannot be used as they are", issues)
    profiles.fill_lookups(con, profile, report, set(chosen))


def _load_database(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], plan: Plan, url: str, needed: set[str],
    progress: Callable[[str], None] | None, profile: profiles.Profile, report: profiles.LoadReport,
    reads: list[DataRead] | None, config: Config, optional_tables: frozenset[str] = frozenset(),
) -> None:
    """The needed tables read from a council's database (database_source.py), as _load_files does files."""
    needed = needed | profile.lookup_tables(needed)

    def absent_ok(name: str) -> bool:
        optional = tables[name].extension or name in profile.no_source_tables
        if optional:
            report.absent_tables.add(name)
        return optional or name in REFERENCE_TABLES or name in optional_tables

    loaded, found, issues = database_source.load_tables(
        con, tables, needed, url, profile, report, progress, config, absent_ok, lambda name: ", ".join(plan.needing(name)))
    if reads is not None:
        reads.extend(found)
    if issues:
        raise KpiError(f"the tables in {database_source.masked_url(url)} cannot be used as they are", issues)
    profiles.fill_lookups(con, profile, report, set(loaded))


def _shown_data(data: Path | str | None) -> str | None:
    """--data as recorded: a database URL with its password masked, a folder or file resolved."""
    if data is None:
        return None
    return database_source.parse_url(str(data)).shown if database_source.is_database_url(data) else str(Path(data).resolve())


def _load_reference_targets(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], sources: Mapping, needed: set[str], config: Config) -> None:
    """The tables the needed ones refer to (schemas/extracts.yaml `references`), when given, so that ids
    that do not join are found (coverage_warnings); one that cannot be read is left out, unchecked."""
    targets = {t for name in needed if name in tables for _, t, _ in tables[name].references} - needed
    for name in sorted(t for t in targets if t in sources):
        load_table(con, tables[name], sources[name], two_digit_year_pivot=config.two_digit_year_pivot,
                   encoding=config.encoding.get(name))


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
    from kpi.sqlcheck import parse_all, select_problem, shadowing_problem
    from kpi.validate import check_rules

    indicators = tuple(indicators)
    parse_all([q.text for i in indicators for q in (i.numerator, i.denominator) if q])  # one parse for all

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
    data: Path | None = None, scale: int = 1, by: "Dimensions | tuple[str, ...] | str | None" = (),
    progress: Callable[[str], None] | None = None, source: str | None = None, extract_date: date | None = None,
) -> PublishedScorecard:
    """The scorecard of `indicators` for the month `period` as it may be published (disclosure.py);
    broken down by each dimension of `by`, if given. Every output is rendered from this; see
    compute_assessed for what is refused and warned of."""
    assessed = compute_assessed(project, definitions, indicators, period, data, scale, by, progress, source, extract_date)
    return publish(assessed, disclosure_rules(project.config))


def compute_assessed(
    project: Project, definitions: Definitions, indicators: tuple[Indicator, ...], period: date,
    data: Path | None = None, scale: int = 1, by: "Dimensions | tuple[str, ...] | str | None" = (),
    progress: Callable[[str], None] | None = None, source: str | None = None, extract_date: date | None = None,
) -> Scorecard:
    """The assessed scorecard, with the true numbers: for checks, never for output.

    The files are read through the source profile `source` (default: kpi.toml's, else `ssd`).
    Indicators `kpi validate` would refuse are not run: each carries its fault as its row's error; nor
    is one that would read a column or table the extract does not have: its row's error says what it needs.
    Refuses a month the extract does not cover (one ending after `extract_date`, else kpi.toml's; without
    either, one starting after the latest date in the data); the scorecard's `warnings` say which months
    are only partly covered, which references do not join and what the profile could not map.
    """
    config = project.config
    by = Dimensions(by)
    chosen_dimensions = choose_dimensions(definitions, by)
    given_date = extract_date or config.extract_date
    if given_date is not None:
        refuse_uncovered_month(period, given_date, "--extract-date" if extract_date else "kpi.toml's extract_date")
    refused = definition_errors(definitions, indicators)
    plan = plan_scorecard(indicators, period, list(definitions.shared), definitions.tables, config.fy_start_month)
    runnable = replace(plan, indicators=tuple(p for p in plan.indicators if p.indicator.id not in refused))
    profile, report = profiles.load_profile(project, source), profiles.LoadReport()
    reads: list[DataRead] = []
    optional = frozenset().union(*(d.tables for d in chosen_dimensions)) - runnable.tables
    con = open_database(definitions, runnable, data, config.closure_days, scale, progress, profile, report, reads, config,
                        optional)
    try:
        warnings = coverage_warnings(con, definitions.tables, runnable, given_date, config.reference_match_min)
        blocked = profiles.blocked_indicators(definitions, runnable, report)
        report.approximations = {i: a for i, a in report.approximations.items() if i not in blocked}
        runnable = replace(runnable, indicators=tuple(p for p in runnable.indicators if p.indicator.id not in blocked))
        counts = run_plan(con, runnable, chosen_dimensions, config.query_time_limit,
                          unavailable_dimensions(con, chosen_dimensions)) | {
            i: Counts(error=profiles.needs_message(needs)) for i, needs in blocked.items()}
        benchmarks = read_benchmarks(con)
    finally:
        con.close()
    counts.update({indicator_id: Counts(error=message) for indicator_id, message in refused.items()})
    # The demo council is a North East council, as the seed's was (its benchmarks are the seed's).
    authority = config.authority_name or (DEMO_AUTHORITY if data is None else "")
    region = config.region_name or (DEMO_REGION if data is None else "")
    scorecard = assess(plan, counts, benchmarks, authority, region, by)
    provenance = record_provenance(project, definitions, indicators, period, data, scale, by, reads, profile, given_date)
    return replace(scorecard, warnings=tuple(warnings + profiles.warnings(report, profile)), provenance=provenance)


def choose_dimensions(definitions: Definitions, by: Iterable[str]) -> tuple[Dimension, ...]:
    """The dimensions of queries/ named by --by, in its order; a name none declares is a KpiError (exit 2)."""
    declared = dimensions(list(definitions.shared), definitions.tables)
    unknown = [name for name in by if name not in declared]
    if unknown:
        known = ", ".join(declared) or "none (queries/ declares no dimension_ macro)"
        raise KpiError(f"there is no dimension {unknown[0]!r} to break the scorecard down by: --by takes one of {known} "
                       "(see docs/breakdowns.md to declare another)")
    return tuple(declared[name] for name in by)


def breakdown_support(definitions: Definitions, indicator_plan) -> dict[str, str | None]:
    """Per dimension queries/ declares: None when the indicator's rows can be broken down by it, else
    why not (`kpi explain`). From the columns its queries return, on empty tables: whether the data
    hold a dimension's tables is known only when computing."""
    from kpi.run import NoBreakdown, QueryError, breakdown_parts

    con = database.connect()
    try:
        database.create_missing_tables(con, definitions.tables.values())
        database.lock(con)
        database.install_calendar(con)
        database.install_shared(con, list(definitions.shared))
        database.install_period(con, indicator_plan.period)
        found: dict[str, str | None] = {}
        for name, dimension in dimensions(list(definitions.shared), definitions.tables).items():
            try:
                breakdown_parts(con, indicator_plan, dimension, None)
                found[name] = None
            except NoBreakdown as reason:
                found[name] = str(reason)
            except (duckdb.Error, QueryError) as error:
                found[name] = f"its queries do not bind: {error}"
        return found
    finally:
        con.close()


def unavailable_dimensions(con: duckdb.DuckDBPyConnection, chosen: Iterable[Dimension]) -> dict[str, str]:
    """Why a dimension cannot give any child a group in these data, by name: every table it reads is
    absent or empty (a return with no ssd_involvements and no ssd_cin_episodes has no teams)."""
    found = {}
    for dimension in chosen:
        if dimension.tables and all(_rows(con, table) == 0 for table in sorted(dimension.tables)):
            tables = ", ".join(sorted(dimension.tables))
            found[dimension.name] = (f"the {dimension.name} dimension reads {tables}, which "
                                     f"{'have' if len(dimension.tables) > 1 else 'has'} no rows in these data")
    return found


def record_provenance(
    project: Project, definitions: Definitions, indicators: Iterable[Indicator], period: date, data: Path | None,
    scale: int, by: tuple[str, ...], reads: Iterable[DataRead], profile: profiles.Profile | None = None,
    extract_date: date | None = None,
) -> Provenance:
    """What made this run: the engine, the definitions and every table read (provenance.py)."""
    files = [i.path for i in definitions.indicators] + [f.path for f in definitions.query_files]
    files.append(project.schemas_dir / "extracts.yaml")
    # The profile's files, as shown to the user (its kpi.toml overrides are counted with kpi.toml below).
    files.extend(Path(f) for f in (profile.files if profile is not None else ()) if Path(f).is_file())
    if (project.root / "kpi.toml").is_file():  # suppression, the financial year, closure days
        files.append(project.root / "kpi.toml")
    commit, dirty = git_state(project.root)
    return Provenance(
        kpi_version=__version__,
        definitions_sha256=definitions_sha256(files, project.root),
        git_commit=commit,
        git_dirty=dirty,
        source="demo" if data is None else (profile.name if profile is not None else profiles.DEFAULT_SOURCE),
        data=_shown_data(data),
        extract_date=extract_date,
        generated_at=now(),
        period=format_period(period),
        selection={"indicators": [i.id for i in indicators], "by": list(by) or None,
                   "scale": scale if data is None else None},
        tables=tuple(reads),
    )


def validate_project(
    project: Project, definitions: Definitions, data: Path | None = None, period: date | None = None,
    source: str | None = None,
) -> list[Issue]:
    """Every problem of the definitions (validate.py); with `data`, and no error in the definitions,
    also the data stage: the scorecard of `period` computed on those extracts (validate_data.py)."""
    from kpi.validate import validate
    from kpi.validate_data import data_issues

    issues = validate(definitions)
    if data is not None and period is not None and not any(i.level == "error" for i in issues):
        issues.extend(data_issues(compute_assessed(project, definitions, definitions.indicators, period, data, source=source)))
    return issues



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
    data: Path | None = None, allow_suppressed: bool = False, source: str | None = None,
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
    whole = plan_scorecard([indicator], month, list(definitions.shared), definitions.tables, config.fy_start_month)
    profile, report = profiles.load_profile(project, source), profiles.LoadReport()
    con = open_database(definitions, whole, data, config.closure_days, profile=profile, report=report, config=config)
    try:
        blocked = profiles.blocked_indicators(definitions, whole, report)
        counts = Counts(error=profiles.needs_message(blocked[indicator.id])) if indicator.id in blocked else run_indicator(con, plan)
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


def check_data(definitions: Definitions, data: Path | None, extract_date: date | None = None, scale: int = 1,
               project: Project | None = None, source: str | None = None):
    """Data-quality findings of the extracts in `data` (or the demo council's), keys not enforced; with a
    source profile's findings too (values no map knows, columns it could not derive).

    The project's configuration gives how to read the files (two-digit years, encodings) and the
    default extract date."""
    config = project.config if project is not None else Config()
    extract_date = extract_date or config.extract_date
    from kpi.quality import check_tables

    if database_source.is_database_url(data):
        raise KpiError(f"check-data reads files, not a database ({database_source.masked_url(str(data))}): "
                       "`kpi compute --data` with the URL checks every value it reads")

    con = database.connect()
    profile_findings = []
    try:
        if data is None:
            from kpi import demo  # its dates only: numpy is not imported unless the demo is generated

            _load_demo(con, definitions.tables, scale)
            present = set(definitions.tables)
            extract_date = extract_date or demo.EXTRACT_DATE
        else:
            profile = profiles.load_profile(project, source) if project else profiles.CANONICAL
            report = profiles.LoadReport()
            with _readable(profile, data, definitions.tables) as folder:
                sources, issues = find_sources(folder, definitions.tables)
                for name, found in sorted(sources.items()):
                    issues.extend(load_table(con, definitions.tables[name], found, check_keys=False,
                                             adapt=profiles.adapter(profile, report),
                                             two_digit_year_pivot=config.two_digit_year_pivot, encoding=config.encoding.get(name)))
            if issues:
                raise KpiError(f"the extracts in {display_path(data)} cannot be read", issues)
            present = set(sources)
            profiles.fill_lookups(con, profile, report, present)
            profile_findings = profiles.findings(report, profile)
        database.lock(con)
        return profile_findings + check_tables(con, definitions.tables, present, extract_date or date.today()), present
    finally:
        con.close()


def coverage(
    project: Project, definitions: Definitions, data: Path | None = None, source: str | None = None,
    indicators: tuple[Indicator, ...] | None = None,
):
    """(the profile, per indicator: computable from the extract in `data` read through the source
    profile, or, without data, from an extract shaped as the profile says, and if not what it needs;
    the warnings about the data)."""
    month = date.today().replace(day=1)
    plan = plan_scorecard(indicators or definitions.indicators, month, list(definitions.shared), definitions.tables, project.config.fy_start_month)
    profile = profiles.load_profile(project, source)
    if data is None:
        report = profiles.assumed_report(profile, definitions.tables)
    else:
        report = profiles.LoadReport()
        open_database(definitions, plan, data, project.config.closure_days, profile=profile, report=report).close()
    return profile, profiles.coverage(definitions, plan, report), profiles.warnings(report, profile)
