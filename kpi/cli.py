"""The `kpi` command line: parses arguments, calls the pipeline, writes what the render modules make
of the outcome, and maps it to an exit code (0 ok, 1 findings, 2 usage or input error). No logic lives
here: a KpiError raised anywhere below becomes its message and exit code 2, in one place (`command`).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable, List, Optional

import typer

from kpi.config import Project, open_project
from kpi.issues import KpiError, display_path
from kpi.periods import PeriodError, parse_period

app = typer.Typer(
    help="kpi: compute, test and validate children's social care KPIs from case-record extracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ProjectOption = typer.Option(None, "--project", help="Folder holding indicators/, queries/ and kpi.toml (default: the current folder if it has indicators/, else the bundled definitions).")
def _data_location(value: str | None):
    """--data as given: a database URL stays text, anything else is a path (None when not given)."""
    if value is None:
        return None
    from kpi.database_source import data_location

    return data_location(value)


DataOption = typer.Option(None, "--data", help="Folder of extracts (<table>.csv, .parquet, .xlsx), a DuckDB file, or a database URL (postgresql://user@host/db?schema=ssd_development, mssql://...; docs/database.md). Default: kpi.toml's `data`, else the demo council.")
SourceOption = typer.Option(None, "--source", help="The source profile the files are read with, e.g. ssd-systemc (default: kpi.toml's `source`, else ssd; `kpi sources` lists them).")


def command(name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a command whose KpiError (or unreadable --period) is printed, with the issues it
    lists, as `error: ...` on stderr, and exits 2; so is a path the system refuses (an OSError)."""

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (KpiError, PeriodError) as error:
                typer.echo(f"error: {error}", err=True)
                for issue in getattr(error, "issues", ()):
                    typer.echo(f"  {issue}", err=True)
                raise typer.Exit(2) from None
            except OSError as error:  # a folder that cannot be made or a file that cannot be written
                where = f" {display_path(error.filename)}" if error.filename else ""
                typer.echo(f"error: cannot use{where}: {(error.strerror or str(error)).lower()}: "
                           "check the path exists and you may write there", err=True)
                raise typer.Exit(2) from None

        app.command(name)(run)
        return function

    return register


def _write(text: str, err: bool = False) -> None:
    """Text made by a render function, as it is (it ends with its own newline), before any message after it."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text)
    stream.flush()


def _screen():
    from kpi.render_text import screen_of

    return screen_of(sys.stdout)


def _loaded_definitions(project: Project):
    """The project's definitions, refused when some do not load (the commands that run them need all)."""
    from kpi import pipeline

    definitions = pipeline.load_definitions(project)
    errors = [i for i in definitions.issues if i.level == "error"]
    if errors:
        raise KpiError("some definitions do not load: run `kpi validate`", errors)
    return definitions


@command()
def compute(
    period: Optional[str] = typer.Option(None, "--period", help="The reporting month, YYYY-MM (required, unless --reproduce)."),
    data: Optional[str] = DataOption,
    indicators: Optional[str] = typer.Option(None, "--indicators", help="Ids to include: patterns, comma-separated, e.g. 'CSC 0*,CSC 181'."),
    service_group: Optional[str] = typer.Option(None, "--service-group", help="Only this service group."),
    lead_officer: Optional[str] = typer.Option(None, "--lead-officer", help="Only this lead officer's indicators."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | csv | json | parquet | xlsx | html (default: table on a terminal, csv otherwise, or the --output suffix)."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write to this file (atomically) instead of stdout."),
    scale: int = typer.Option(1, "--scale", help="Demo council only: multiply its population and volumes.", min=1),
    by: Optional[List[str]] = typer.Option(None, "--by", help="Also break each indicator down by a dimension, e.g. team; repeat it or separate with commas for several (--by team,sex)."),
    reproduce: Optional[Path] = typer.Option(None, "--reproduce", help="Run again what this JSON scorecard's provenance records, and say whether every number matches."),
    source: Optional[str] = SourceOption,
    extract_date: Optional[str] = typer.Option(None, "--extract-date", help="The date the extract was taken, YYYY-MM-DD (default: kpi.toml's `extract_date`). A month ending after it is refused; without it, one beginning after the latest date in the data."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when there are warnings about the data (months partly covered, ids that do not join)."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Compute the scorecard for a month, with history, trend and status against target.

    Examples:

      kpi compute --period 2017-09

      kpi compute --period 2017-09 --data extracts/ --format json --output scorecard.json

      kpi compute --period 2017-09 --service-group "Child Protection"

      kpi compute --period 2017-09 --by team --format csv

      kpi compute --reproduce scorecard.json
    """
    from kpi import pipeline, render

    if reproduce is not None:
        _reproduce(reproduce, project)
        return
    if period is None:
        raise KpiError("--period is missing: give the reporting month, e.g. --period 2017-09")
    month = parse_period(period)
    proj = open_project(project)
    fmt = _choose_format(fmt, output)
    definitions = _loaded_definitions(proj)
    chosen = pipeline.select_indicators(definitions.indicators, indicators, service_group, lead_officer)
    if not chosen:
        raise KpiError("no indicator matches the filters given: `kpi list` shows them all")
    by = _dimensions(by)
    scorecard = pipeline.compute(proj, definitions, chosen, month, _data_location(data) or proj.config.data, scale, by, _progress(), source,
                                 _date_option("--extract-date", extract_date))
    for warning in scorecard.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for dimension in scorecard.by:  # said here too, not only in the rows: a breakdown that is not there
        missing = [r.indicator.id for r in scorecard.results if dimension in r.breakdown_errors]
        if missing:
            typer.echo(f"{len(missing)} indicator(s) not broken down by {dimension} (each row says why): {', '.join(missing)}", err=True)
    if output:
        render.write_scorecard(scorecard, fmt, output, proj.templates_dir)
        typer.echo(f"wrote {output}", err=True)
    else:
        _write(render.render(scorecard, fmt, proj.templates_dir, _screen()))
    failed = [r.indicator.id for r in scorecard.results if r.error]
    if failed:
        typer.echo(f"{len(failed)} indicator(s) failed: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    if strict and scorecard.warnings:
        typer.echo(f"{len(scorecard.warnings)} warning(s) about the data, and --strict was given", err=True)
        raise typer.Exit(1)


def _dimensions(given: list[str] | None) -> tuple[str, ...]:
    """The dimensions of --by, in the order given (`--by team --by sex` or `--by team,sex`), each once."""
    names: list[str] = []
    for text in given or ():
        for name in (part.strip() for part in text.split(",")):
            if not name.isidentifier():
                raise KpiError(f"--by {text!r} is not a dimension name: give names such as team or sex, separated by commas")
            if name not in names:
                names.append(name)
    return tuple(names)


def _date_option(name: str, text: str | None):
    """A YYYY-MM-DD option as a date (None when not given)."""
    from datetime import date as date_type

    if text is None:
        return None
    try:
        return date_type.fromisoformat(text)
    except ValueError:
        raise KpiError(f"{name} {text!r} is not a date: write it as YYYY-MM-DD") from None


def _reproduce(recorded: Path, project: Path | None) -> None:
    """Exit 0 when every number of the recorded scorecard comes out the same again, else 1."""
    from kpi import pipeline, render
    from kpi.reproduce import reproduce

    proj = open_project(project)
    definitions = _loaded_definitions(proj)

    def compute_again(month, data, ids, by, scale, source, extract_date):
        chosen = tuple(i for i in definitions.indicators if i.id in set(ids))
        scorecard = pipeline.compute(proj, definitions, chosen, month, data, scale, by, _progress(), source, extract_date)
        return render.to_json_dict(scorecard)

    outcome = reproduce(proj, recorded, compute_again)
    _write(render.render_reproduction(outcome))
    raise typer.Exit(0 if outcome.matches else 1)


def _progress():
    """On a terminal, a line per table loaded (large extracts take a while); elsewhere nothing."""
    if not sys.stderr.isatty():
        return None
    return lambda message: typer.echo(message, err=True)


def _choose_format(fmt: str | None, output: Path | None) -> str:
    from kpi.render import FORMATS, TEXT_FORMATS

    if fmt is None:
        if output is not None and output.suffix.lstrip(".") in FORMATS:
            return output.suffix.lstrip(".")
        return "table" if sys.stdout.isatty() else "csv"
    if fmt not in FORMATS:
        raise KpiError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if output is None and fmt not in TEXT_FORMATS + ("html",):
        raise KpiError(f"{fmt} is binary: give --output FILE.{fmt}")
    return fmt


@command()
def validate(
    paths: Optional[list[Path]] = typer.Argument(None, help="Indicator files or folders (default: all of indicators/)."),
    output_format: str = typer.Option("text", "--output-format", help="text | json | github (GitHub Actions annotations)."),
    data: Optional[str] = typer.Option(None, "--data", help="Also run the indicators on these extracts (a folder, file or database URL) and flag a percentage above 100 in any month (needs --period)."),
    period: Optional[str] = typer.Option(None, "--period", help="With --data: the reporting month whose scorecard months are checked."),
    source: Optional[str] = SourceOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """Check every definition: YAML, the JSON Schema, rules across files, and the SQL.

    Examples:

      kpi validate

      kpi validate indicators/csc_038.yaml --output-format github

      kpi validate --data extracts/ --period 2017-09
    """
    from kpi import pipeline, render_text

    if output_format not in ("text", "json", "github"):
        raise KpiError("--output-format must be text, json or github")
    if data is not None and period is None:
        raise KpiError("--data needs --period: the month whose scorecard is checked")
    month = parse_period(period) if data is not None else None
    proj = open_project(project)
    definitions = pipeline.load_definitions(proj, paths or None)
    issues = pipeline.validate_project(proj, definitions, _data_location(data), month, source)
    _write(render_text.issues_text(issues, output_format))
    typer.echo(render_text.validation_summary(len(definitions.indicators), issues), err=True)
    raise typer.Exit(1 if any(i.level == "error" for i in issues) else 0)


@command("test")
def test_command(
    ids: Optional[list[str]] = typer.Argument(None, help="Indicator ids or patterns (default: all)."),
    project: Optional[Path] = ProjectOption,
    mutants: bool = typer.Option(False, "--mutants", help="Also check that the cases can fail: run them on small wrong versions of each indicator's SQL and of the views and macros it reads, and list every such mutant no case kills."),
) -> None:
    """Run the indicators' fixture cases and report each: pass, or expected against actual.

    Examples:

      kpi test

      kpi test "CSC 038" "CSC 2*"

      kpi test --mutants "CSC 098"
    """
    from kpi import pipeline, render_text
    from kpi.load import require_known
    from kpi.testing import run_cases

    proj = open_project(project)
    definitions = _loaded_definitions(proj)
    require_known(ids or [], definitions.indicators)
    chosen = pipeline.select_indicators(definitions.indicators, ",".join(ids) if ids else None)
    if mutants:
        from kpi.mutants import report_text, run_all

        outcomes = run_all(chosen, definitions.tables, list(definitions.shared), proj.config.fy_start_month, proj.root)
        _write(report_text(outcomes))
        raise typer.Exit(0 if all(o.passed for o in outcomes) else 1)
    results, problems = run_cases(chosen, definitions.tables, list(definitions.shared), proj.config.fy_start_month)
    _write(render_text.issues_text(problems, "text"), err=True)
    _write(render_text.case_report(results))
    note = render_text.untested(chosen)
    if note:
        typer.echo(note, err=True)
    raise typer.Exit(0 if all(r.passed for r in results) else 1)


@command("list")
def list_command(project: Optional[Path] = ProjectOption) -> None:
    """The catalogue: id, title, lead officer, unit, collected, polarity, target.

    Example:

      kpi list
    """
    from kpi import pipeline, render_text

    definitions = pipeline.load_definitions(open_project(project))
    _write(render_text.catalogue(definitions.indicators, _screen()))
    if definitions.issues:
        typer.echo(f"{len(definitions.issues)} file problem(s): run `kpi validate`", err=True)


@command()
def explain(
    indicator_id: str = typer.Argument(..., metavar="ID", help="The indicator id, e.g. 'CSC 038'."),
    period: str = typer.Option(..., "--period", help="The reporting month, YYYY-MM."),
    source: Optional[str] = SourceOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """Show the SQL as run for an indicator, with the `period` rows (each month's window).

    Example:

      kpi explain "CSC 038" --period 2017-09
    """
    from kpi import pipeline, render_text
    from kpi.dialect import written_text
    from kpi.load import require_known
    from kpi.plan import plan_scorecard

    month = parse_period(period)
    proj = open_project(project)
    definitions = pipeline.load_definitions(proj)
    require_known([indicator_id], definitions.indicators)
    chosen = pipeline.select_indicators(definitions.indicators, indicator_id)
    plan = plan_scorecard(chosen[:1], month, list(definitions.shared), definitions.tables, proj.config.fy_start_month)
    profile, rows, _ = pipeline.coverage(proj, definitions, None, source, chosen[:1])
    _write(render_text.explain_text(plan.indicators[0], pipeline.breakdown_support(definitions, plan.indicators[0])))
    typer.echo(f"-- source {profile.name}: " + ("computable" if rows[0].computable else f"not computable: {rows[0].reason}"))
    _write(written_text("numerator", chosen[0].numerator) + written_text("denominator", chosen[0].denominator))


@command()
def drill(
    indicator_id: str = typer.Argument(..., metavar="ID", help="The indicator id, e.g. 'CSC 040'."),
    period: str = typer.Option(..., "--period", help="The month, YYYY-MM."),
    part: str = typer.Option("numerator", "--part", help="numerator | denominator | excluded (denominator rows not in the numerator)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | csv | json (default: table on a terminal, csv otherwise)."),
    data: Optional[str] = DataOption,
    allow_suppressed: bool = typer.Option(False, "--allow-suppressed", help="Show the rows of a number withheld for small numbers."),
    source: Optional[str] = SourceOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """The rows behind a number: the children or events counted. These are case-level records.

    Examples:

      kpi drill "CSC 040" --period 2017-09 --part excluded

      kpi drill "CSC 182" --period 2017-09 --format csv > children_on_a_plan.csv
    """
    from kpi import pipeline, render_text
    from kpi.load import unknown_id
    from kpi.render import TEXT_FORMATS

    month = parse_period(period)
    proj = open_project(project)
    fmt = fmt or ("table" if sys.stdout.isatty() else "csv")
    if fmt not in TEXT_FORMATS:
        raise KpiError(f"unknown format {fmt!r}: choose table, csv or json")
    definitions = pipeline.load_definitions(proj)
    chosen = [i for i in definitions.indicators if i.id.lower() == indicator_id.lower()]
    if not chosen:
        raise unknown_id(indicator_id, definitions.indicators)
    rows = pipeline.drill_rows(proj, definitions, chosen[0], month, part, _data_location(data) or proj.config.data, allow_suppressed, source)
    typer.echo(f"these {len(rows.rows)} rows are case-level records about children: keep them as your data protection rules require", err=True)
    _write(render_text.rows_text(rows.columns, rows.rows, fmt, _screen()))


@command("check-data")
def check_data(
    data: Optional[str] = DataOption,
    extract_date: Optional[str] = typer.Option(None, "--extract-date", help="The date the extract was taken, YYYY-MM-DD (default: kpi.toml's `extract_date`, else today; the demo council's own date without --data)."),
    examples: bool = typer.Option(True, "--examples/--no-examples", help="Show example rows of each finding."),
    source: Optional[str] = SourceOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """Data-quality findings per table: duplicate or empty keys, ends before starts, dates after the
    extract date, references to records not in the extract. Warnings: they do not stop a run.

    Examples:

      kpi check-data --data extracts/ --extract-date 2017-10-05

      kpi check-data
    """
    from datetime import date as date_type

    from kpi import pipeline, render_text

    proj = open_project(project)
    when = None
    if extract_date is not None:
        try:
            when = date_type.fromisoformat(extract_date)
        except ValueError:
            raise KpiError(f"--extract-date {extract_date!r} is not a date: write it as YYYY-MM-DD") from None
    definitions = pipeline.load_definitions(proj)
    findings, present = pipeline.check_data(definitions, _data_location(data) or proj.config.data, when, project=proj, source=source)
    _write(render_text.findings_text(findings, present, examples, _screen()))
    typer.echo(render_text.findings_summary(findings, present), err=True)


@command()
def sources(project: Optional[Path] = ProjectOption) -> None:
    """The source profiles: how each kind of extract becomes the canonical tables, and what each maps.

    Example:

      kpi sources
    """
    from kpi import profiles, render_text

    proj = open_project(project)
    chosen = [profiles.load_profile(proj, name) for name in profiles.available(proj)]
    _write(render_text.sources_text(chosen, proj.config.source or profiles.DEFAULT_SOURCE))


@command()
def coverage(
    data: Optional[str] = typer.Option(None, "--data", help="Folder of extracts, or a database URL, to check (default: kpi.toml's `data`, else the profile alone)."),
    source: Optional[str] = SourceOption,
    project: Optional[Path] = ProjectOption,
) -> None:
    """Per indicator: computable from this extract or not, and why (without data, from the profile alone).

    Examples:

      kpi coverage --source ssd-systemc

      kpi coverage --source ssd-mosaic --data extracts/
    """
    from kpi import pipeline, render_text

    proj = open_project(project)
    definitions = pipeline.load_definitions(proj)
    profile, rows, warnings = pipeline.coverage(proj, definitions, _data_location(data) or proj.config.data, source)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    _write(render_text.coverage_text(rows, _screen()))
    computable = sum(r.computable for r in rows)
    typer.echo(f"{computable} of {len(rows)} indicator(s) computable from source {profile.name}", err=True)


@command()
def demo(
    out: Path = typer.Option(..., "--out", help="Folder to write the extract files into."),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet, or a statutory return: ssda903 | cin-census | annex-a (docs/returns.md)"),
    scale: int = typer.Option(1, "--scale", help="Multiply the population and every volume by N.", min=1),
) -> None:
    """Write the demo council's extracts: exactly the files a council provides (or its statutory return).

    Examples:

      kpi demo --out /tmp/demo && kpi compute --data /tmp/demo --period 2017-09

      kpi demo --out /tmp/903 --format ssda903 && kpi compute --data /tmp/903 --source ssda903 --period 2017-09
    """
    from kpi import returns

    if fmt not in ("csv", "parquet", *returns.names()):
        raise KpiError(f"--format must be csv, parquet or {', '.join(returns.names())}")
    from kpi import demo as demo_council

    tables = demo_council.generate(scale=scale)  # a KpiError when numpy, the `demo` extra, is missing
    if fmt in returns.names():
        written = returns.write_demo(fmt, tables, out)
        typer.echo(f"wrote the demo council as {fmt} ({', '.join(p.name for p in written)}) to {out}", err=True)
        return
    demo_council.write_extracts(tables, out, fmt)
    typer.echo(f"wrote {len(tables)} tables to {out}", err=True)


@command()
def init(
    folder: Path = typer.Argument(Path("."), metavar="[DIR]", help="The new project's folder (default: the current one)."),
    name: Optional[str] = typer.Option(None, "--name", help="The council's name, the scorecard's heading, e.g. 'Northtown'."),
    region: Optional[str] = typer.Option(None, "--region", help="The council's region, the label of the region benchmark, e.g. 'North East'."),
    fy_start_month: Optional[int] = typer.Option(None, "--fy-start-month", help="The first month of the financial year (default 4: April)."),
    copy_indicators: bool = typer.Option(False, "--copy-indicators/--no-copy-indicators", help="Copy the 51 bundled indicators into indicators/ to adapt (default: use them as they are, and add your own)."),
    engine: Optional[str] = typer.Option(None, "--engine", help="What CI installs the engine from, e.g. 'kpi @ git+https://github.com/ORG/kpi@v0.1.0' (default: where this one came from, when pip recorded it)."),
) -> None:
    """Make a council's own project: kpi.toml, indicators/, queries/, extracts/, a CI workflow and a
    pre-commit configuration running `kpi validate` and `kpi test`, and a README. Never overwrites a file.

    On a terminal it asks for what the options do not give.

    Examples:

      kpi init northtown-kpi --name Northtown --region "North East"

      kpi init . --copy-indicators
    """
    from kpi.init import Settings, create_project, next_steps

    if sys.stdin.isatty():
        name = name or typer.prompt("The council's name (the scorecard's heading)", default="", show_default=False) or None
        region = region or typer.prompt("Its region (the label of the region benchmark)", default="", show_default=False) or None
        fy_start_month = fy_start_month or typer.prompt("The first month of the financial year (4 = April)", default=4, type=int)
    settings = Settings(name=name, region=region, fy_start_month=fy_start_month or 4, copy_indicators=copy_indicators, engine=engine)
    written = create_project(folder, settings)
    _write(next_steps(folder, written, settings), err=True)


@command()
def schema(project: Optional[Path] = ProjectOption) -> None:
    """Print the JSON Schema of an indicator file, for editors and other tools.

    Example:

      kpi schema > indicator.schema.json
    """
    proj = open_project(project)
    sys.stdout.write((proj.schemas_dir / "indicator.schema.json").read_text(encoding="utf-8"))


def main() -> None:
    """Entry point of the `kpi` console script."""
    app()


if __name__ == "__main__":
    main()
