"""The `kpi` command line: parses arguments, calls the pipeline, prints, and maps outcomes to exit
codes (0 ok, 1 findings, 2 usage or input error). No logic lives here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from kpi.config import open_project
from kpi.issues import Issue, KpiError
from kpi.periods import PeriodError, format_period, parse_period

app = typer.Typer(
    help="kpi: compute, test and validate children's social care KPIs from case-record extracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ProjectOption = typer.Option(None, "--project", help="Folder holding indicators/, queries/ and kpi.toml (default: the current folder if it has indicators/, else the bundled definitions).")
DataOption = typer.Option(None, "--data", help="Folder of extracts (<table>.csv, .parquet, .xlsx) or a DuckDB file. Default: kpi.toml's `data`, else the demo council.")


def _fail(error: KpiError) -> None:
    typer.echo(f"error: {error}", err=True)
    for issue in error.issues:
        typer.echo(f"  {issue}", err=True)
    raise typer.Exit(2)


def _period(text: str):
    try:
        return parse_period(text)
    except PeriodError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2)


@app.command()
def compute(
    period: str = typer.Option(..., "--period", help="The reporting month, YYYY-MM."),
    data: Optional[Path] = DataOption,
    indicators: Optional[str] = typer.Option(None, "--indicators", help="Ids to include: patterns, comma-separated, e.g. 'CSC 0*,CSC 181'."),
    service_group: Optional[str] = typer.Option(None, "--service-group", help="Only this service group."),
    lead_officer: Optional[str] = typer.Option(None, "--lead-officer", help="Only this lead officer's indicators."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | csv | json | parquet | xlsx | html (default: table on a terminal, csv otherwise, or the --output suffix)."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write to this file (atomically) instead of stdout."),
    scale: int = typer.Option(1, "--scale", help="Demo council only: multiply its population and volumes.", min=1),
    by: Optional[str] = typer.Option(None, "--by", help="Also break each indicator down by a column its queries return, e.g. team."),
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
    """
    from kpi import pipeline, render

    month = _period(period)
    try:
        proj = open_project(project)
        fmt = _choose_format(fmt, output)
        definitions = pipeline.load_definitions(proj)
        if definitions.issues and any(i.level == "error" for i in definitions.issues):
            raise KpiError("some definitions do not load: run `kpi validate`", [i for i in definitions.issues if i.level == "error"])
        chosen = pipeline.select_indicators(definitions.indicators, indicators, service_group, lead_officer)
        if not chosen:
            raise KpiError("no indicator matches the filters given: `kpi list` shows them all")
        if by is not None and not by.isidentifier():
            raise KpiError(f"--by {by!r} is not a column name")
        scorecard = pipeline.compute(proj, definitions, chosen, month, data or proj.config.data, scale, by, _progress(), _date_option("--extract-date", extract_date))
    except KpiError as error:
        _fail(error)
        return
    for warning in scorecard.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if output:
        render.write_scorecard(scorecard, fmt, output)
        typer.echo(f"wrote {output}", err=True)
    elif fmt in ("parquet", "xlsx"):
        typer.echo(f"error: {fmt} is binary: give --output FILE.{fmt}", err=True)
        raise typer.Exit(2)
    else:
        sys.stdout.write(render.render(scorecard, fmt))
    failed = [r.indicator.id for r in scorecard.results if r.error]
    if failed:
        typer.echo(f"{len(failed)} indicator(s) failed: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    if strict and scorecard.warnings:
        typer.echo(f"{len(scorecard.warnings)} warning(s) about the data, and --strict was given", err=True)
        raise typer.Exit(1)


def _date_option(name: str, text: str | None):
    """A YYYY-MM-DD option as a date (None when not given)."""
    from datetime import date as date_type

    if text is None:
        return None
    try:
        return date_type.fromisoformat(text)
    except ValueError:
        raise KpiError(f"{name} {text!r} is not a date: write it as YYYY-MM-DD") from None


def _progress():
    """On a terminal, a line per table loaded (large extracts take a while); elsewhere nothing."""
    if not sys.stderr.isatty():
        return None
    return lambda message: typer.echo(message, err=True)


def _choose_format(fmt: str | None, output: Path | None) -> str:
    from kpi.render import FORMATS

    if fmt is None:
        if output is not None and output.suffix.lstrip(".") in FORMATS:
            return output.suffix.lstrip(".")
        return "table" if sys.stdout.isatty() else "csv"
    if fmt not in FORMATS:
        raise KpiError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


@app.command()
def validate(
    paths: Optional[list[Path]] = typer.Argument(None, help="Indicator files or folders (default: all of indicators/)."),
    output_format: str = typer.Option("text", "--output-format", help="text | json | github (GitHub Actions annotations)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Also run the indicators on these extracts and flag a percentage above 100 in any month (needs --period)."),
    period: Optional[str] = typer.Option(None, "--period", help="With --data: the reporting month whose scorecard months are checked."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Check every definition: YAML, the JSON Schema, rules across files, and the SQL.

    Examples:

      kpi validate

      kpi validate indicators/csc_038.yaml --output-format github

      kpi validate --data extracts/ --period 2017-09
    """
    from kpi import pipeline
    from kpi.validate import check_data, validate as run_validation

    if output_format not in ("text", "json", "github"):
        typer.echo("error: --output-format must be text, json or github", err=True)
        raise typer.Exit(2)
    try:
        proj = open_project(project)
        definitions = pipeline.load_definitions(proj, paths or None)
    except KpiError as error:
        _fail(error)
        return
    if data is not None and period is None:
        typer.echo("error: --data needs --period: the month whose scorecard is checked", err=True)
        raise typer.Exit(2)
    issues = run_validation(definitions)
    if data is not None and not any(i.level == "error" for i in issues):
        try:
            scorecard = pipeline.compute(proj, definitions, definitions.indicators, _period(period), data)
        except KpiError as error:
            _fail(error)
            return
        issues.extend(check_data(scorecard))
    errors = [i for i in issues if i.level == "error"]
    warnings = [i for i in issues if i.level == "warning"]
    _print_issues(issues, output_format)
    summary = f"{len(definitions.indicators)} indicator(s) checked: {len(errors)} error(s), {len(warnings)} warning(s)"
    typer.echo(summary, err=True)
    raise typer.Exit(1 if errors else 0)


def _print_issues(issues: list[Issue], output_format: str) -> None:
    if output_format == "json":
        typer.echo(json.dumps([issue.__dict__ for issue in issues], indent=2))
        return
    for issue in issues:
        if output_format == "github":
            kind = "error" if issue.level == "error" else "warning"
            where = f"file={issue.file}" + (f",line={issue.line}" if issue.line else "") + (f",col={issue.column}" if issue.column else "")
            text = issue.message + (f" ({issue.hint})" if issue.hint else "")
            typer.echo(f"::{kind} {where},title=kpi {issue.code}::{text}")
        else:
            typer.echo(str(issue))


@app.command("test")
def test_command(
    ids: Optional[list[str]] = typer.Argument(None, help="Indicator ids or patterns (default: all)."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Run the indicators' fixture cases and report each: pass, or expected against actual.

    Examples:

      kpi test

      kpi test "CSC 038" "CSC 2*"
    """
    from kpi import pipeline
    from kpi.testing import run_cases

    try:
        proj = open_project(project)
        definitions = pipeline.load_definitions(proj)
        if any(i.level == "error" for i in definitions.issues):
            raise KpiError("some definitions do not load: run `kpi validate`", [i for i in definitions.issues if i.level == "error"])
        chosen = pipeline.select_indicators(definitions.indicators, ",".join(ids) if ids else None)
        results, problems = run_cases(chosen, definitions.tables, list(definitions.shared), proj.config.fy_start_month)
    except KpiError as error:
        _fail(error)
        return
    for problem in problems:
        typer.echo(str(problem), err=True)
    failed = 0
    for result in results:
        if result.passed:
            typer.echo(f"pass  {result.indicator.id}: {result.case.name}")
            continue
        failed += 1
        typer.echo(f"FAIL  {result.indicator.id}: {result.case.name} ({result.where})")
        for difference in result.differences:
            typer.echo(f"        {difference}")
        if result.error:
            typer.echo(f"        error: {result.error}")
    untested = [i.id for i in chosen if not i.tests]
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if untested:
        typer.echo(f"no cases: {', '.join(untested)}", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command("list")
def list_command(project: Optional[Path] = ProjectOption) -> None:
    """The catalogue: id, title, lead officer, unit, collected, polarity, target.

    Example:

      kpi list
    """
    from kpi import pipeline

    try:
        definitions = pipeline.load_definitions(open_project(project))
    except KpiError as error:
        _fail(error)
        return
    rows = [["id", "title", "lead_officer", "unit", "collected", "polarity", "target"]]
    for i in definitions.indicators:
        rows.append([i.id, i.title[:60], i.lead_officer or "-", i.unit, i.collected, i.polarity, "-" if i.target is None else f"{i.target:g}"])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    if definitions.issues:
        typer.echo(f"{len(definitions.issues)} file problem(s): run `kpi validate`", err=True)


@app.command()
def explain(
    indicator_id: str = typer.Argument(..., metavar="ID", help="The indicator id, e.g. 'CSC 038'."),
    period: str = typer.Option(..., "--period", help="The reporting month, YYYY-MM."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Show the SQL as run for an indicator, with the `period` rows (each month's window).

    Example:

      kpi explain "CSC 038" --period 2017-09
    """
    from kpi import pipeline
    from kpi.plan import plan_scorecard

    month = _period(period)
    try:
        proj = open_project(project)
        definitions = pipeline.load_definitions(proj)
        chosen = pipeline.select_indicators(definitions.indicators, indicator_id)
        if not chosen:
            raise KpiError(f"no indicator has the id {indicator_id!r}: `kpi list` shows them all")
    except KpiError as error:
        _fail(error)
        return
    plan = plan_scorecard(chosen[:1], month, list(definitions.shared), definitions.tables, proj.config.fy_start_month).indicators[0]
    i = plan.indicator
    typer.echo(f"-- {i.id}: {i.title}")
    typer.echo(f"-- collected {i.collected}, reported {i.reported}, unit {i.unit}, polarity {i.polarity}")
    typer.echo(f"-- reads: {', '.join(sorted(plan.tables)) or 'no extract table'}")
    typer.echo("-- period (one row per month computed):")
    for row in plan.period:
        typer.echo(f"--   {format_period(row['month'])}: {row['start_date']} to {row['end_date']} (snapshot {row['snapshot_date']})")
    for part, sql in (("numerator", plan.numerator), ("denominator", plan.denominator)):
        if sql is None:
            continue
        typer.echo(f"\n-- {part} ({sql.file}, line {sql.line})")
        typer.echo(sql.text.rstrip())


@app.command()
def drill(
    indicator_id: str = typer.Argument(..., metavar="ID", help="The indicator id, e.g. 'CSC 040'."),
    period: str = typer.Option(..., "--period", help="The month, YYYY-MM."),
    part: str = typer.Option("numerator", "--part", help="numerator | denominator | excluded (denominator rows not in the numerator)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | csv | json (default: table on a terminal, csv otherwise)."),
    data: Optional[Path] = DataOption,
    allow_suppressed: bool = typer.Option(False, "--allow-suppressed", help="Show the rows of a number withheld for small numbers."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """The rows behind a number: the children or events counted. These are case-level records.

    Examples:

      kpi drill "CSC 040" --period 2017-09 --part excluded

      kpi drill "CSC 182" --period 2017-09 --format csv > children_on_a_plan.csv
    """
    from kpi import pipeline, render

    month = _period(period)
    try:
        proj = open_project(project)
        fmt = fmt or ("table" if sys.stdout.isatty() else "csv")
        if fmt not in render.TEXT_FORMATS:
            raise KpiError(f"unknown format {fmt!r}: choose table, csv or json")
        definitions = pipeline.load_definitions(proj)
        chosen = [i for i in definitions.indicators if i.id.lower() == indicator_id.lower()]
        if not chosen:
            raise KpiError(f"no indicator has the id {indicator_id!r}: `kpi list` shows them all")
        rows = pipeline.drill_rows(proj, definitions, chosen[0], month, part, data or proj.config.data, allow_suppressed)
    except KpiError as error:
        _fail(error)
        return
    typer.echo(f"these {len(rows.rows)} rows are case-level records about children: keep them as your data protection rules require", err=True)
    sys.stdout.write(render.render_rows(rows.columns, rows.rows, fmt))


@app.command("check-data")
def check_data(
    data: Optional[Path] = DataOption,
    extract_date: Optional[str] = typer.Option(None, "--extract-date", help="The date the extract was taken, YYYY-MM-DD (default: kpi.toml's `extract_date`, else today; the demo council's own date without --data)."),
    examples: bool = typer.Option(True, "--examples/--no-examples", help="Show example rows of each finding."),
    project: Optional[Path] = ProjectOption,
) -> None:
    """Data-quality findings per table: duplicate or empty keys, ends before starts, dates after the
    extract date, references to records not in the extract. Warnings: they do not stop a run.

    Examples:

      kpi check-data --data extracts/ --extract-date 2017-10-05

      kpi check-data
    """
    from datetime import date as date_type

    from kpi import pipeline

    try:
        proj = open_project(project)
        when = None
        if extract_date is not None:
            try:
                when = date_type.fromisoformat(extract_date)
            except ValueError:
                raise KpiError(f"--extract-date {extract_date!r} is not a date: write it as YYYY-MM-DD") from None
        definitions = pipeline.load_definitions(proj)
        findings, present = pipeline.check_data(definitions, data or proj.config.data, when, config=proj.config)
    except KpiError as error:
        _fail(error)
        return
    by_table: dict[str, list] = {}
    for finding in findings:
        by_table.setdefault(finding.table, []).append(finding)
    for table in sorted(present):
        table_findings = by_table.get(table, [])
        total = sum(f.count for f in table_findings)
        typer.echo(f"{table}: {'no findings' if not total else f'{total:,} finding(s)'}")
        for finding in table_findings:
            typer.echo(f"  warning: {finding.count:,} row(s): {finding.description} [{finding.check}]")
            if examples:
                for example in finding.examples:
                    typer.echo("    " + ", ".join(f"{k}={v}" for k, v in example.items()))
    typer.echo(f"{len(present)} table(s) checked: {sum(f.count for f in findings):,} finding(s) in {len(by_table)} table(s)", err=True)


@app.command()
def demo(
    out: Path = typer.Option(..., "--out", help="Folder to write the extract files into."),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet"),
    scale: int = typer.Option(1, "--scale", help="Multiply the population and every volume by N.", min=1),
) -> None:
    """Write the demo council's extracts: exactly the files a council provides.

    Example:

      kpi demo --out /tmp/demo && kpi compute --data /tmp/demo --period 2017-09
    """
    if fmt not in ("csv", "parquet"):
        typer.echo("error: --format must be csv or parquet", err=True)
        raise typer.Exit(2)
    from kpi import demo as demo_council

    tables = demo_council.generate(scale=scale)
    demo_council.write_extracts(tables, out, fmt)
    typer.echo(f"wrote {len(tables)} tables to {out}", err=True)


@app.command()
def schema(project: Optional[Path] = ProjectOption) -> None:
    """Print the JSON Schema of an indicator file, for editors and other tools.

    Example:

      kpi schema > indicator.schema.json
    """
    try:
        proj = open_project(project)
    except KpiError as error:
        _fail(error)
        return
    sys.stdout.write((proj.schemas_dir / "indicator.schema.json").read_text(encoding="utf-8"))


def main() -> None:
    """Entry point of the `kpi` console script."""
    app()


if __name__ == "__main__":
    main()
