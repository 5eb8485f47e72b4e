"""Write a scorecard: a terminal table (rich), CSV, JSON (SPEC §9's shape), Parquet (long form);
HTML and Excel through render_html.py and render_xlsx.py.

Formats only: every number and decision comes from the PublishedScorecard of disclosure.py, which holds
no withheld true value (a withheld cell is `c`, or null and listed in `withheld` in JSON). Files are
written atomically: to a temporary file beside the target, then renamed, so a failure never leaves a
half-written file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from kpi.atomic import write_atomically
from kpi.assess import STATUS_TEXT, TREND_SYMBOL, display
from kpi.disclosure import (APPROXIMATE_MARK, WITHHELD, WITHHELD_LEGEND, WITHHELD_MARK, WITHHELD_TEXT, PublishedIndicator,
                            PublishedMonth, PublishedScorecard)
from kpi.periods import format_period
from kpi.render_text import Screen, add_row, new_table, to_text

BENCHMARK_AREAS = ("england", "region", "statistical_neighbours")
TEXT_FORMATS = ("table", "csv", "json")
FORMATS = ("table", "csv", "json", "parquet", "xlsx", "html")


def _number(value: float | None) -> float | int | None:
    """Whole numbers as integers in machine outputs; everything else at full precision."""
    if value is None:
        return None
    if value is WITHHELD:  # a renderer is never to print the marker as a number
        raise TypeError("a withheld number reached a renderer as a number")
    return int(value) if float(value).is_integer() else value


def _published(month: PublishedMonth) -> float | int | None:
    return _number(month.shown)


def _published_scorecard(scorecard: PublishedScorecard) -> PublishedScorecard:
    """Renderers take the published scorecard only: the assessed one holds withheld true values."""
    if not isinstance(scorecard, PublishedScorecard):
        raise TypeError(f"renderers take a PublishedScorecard (disclosure.publish), not {type(scorecard).__name__}")
    return scorecard


def to_json_dict(scorecard: PublishedScorecard) -> dict[str, Any]:
    """The scorecard in the JSON shape of SPEC §9, with each indicator's `withheld` list."""
    _published_scorecard(scorecard)
    return {
        "period": format_period(scorecard.period),
        "authority": scorecard.authority or None,
        "summary": {
            "total": scorecard.summary.total,
            "trend": dict(scorecard.summary.trend),
            "target": dict(scorecard.summary.target),
        },
        "indicators": [_indicator_json(r, scorecard.by) for r in scorecard.results],
        "provenance": scorecard.provenance.to_dict() if scorecard.provenance else None,
        "warnings": list(scorecard.warnings),
    }


def _group_json(name: str, result: PublishedIndicator) -> dict[str, Any]:
    full = _indicator_json(result, None)
    keys = ("value", "display", "numerator", "denominator", "months", "trend", "target_status", "suppressed", "withheld")
    return {"group": name, **{k: full[k] for k in keys}}


def withheld_paths(result: PublishedIndicator) -> list[str]:
    """Where an indicator's JSON holds null because the number is withheld (not because there is none):
    `value`, `numerator`, `denominator`, `months.2017-08`, `outturns.2016/17`, `same_period_last_year`."""
    paths = ["value", "numerator", "denominator"] if result.current.withheld and result.current.reported else []
    paths += [f"months.{format_period(m.month)}" for m in result.months if m.withheld and m.reported]
    paths += [f"outturns.{label}" for label, m in result.outturns if m.withheld and m.reported]
    spl = result.same_period_last_year
    return paths + (["same_period_last_year"] if spl.withheld and spl.reported else [])


def _count(month: PublishedMonth, count: Any) -> float | int | None:
    return None if month.withheld or not month.reported else _number(count)


def _indicator_json(result: PublishedIndicator, by: tuple[str, ...] | None) -> dict[str, Any]:
    indicator, current = result.indicator, result.current
    return {
        "id": indicator.id,
        "title": indicator.title,
        "lead_officer": indicator.lead_officer,
        "service_group": indicator.service_group,
        "tier": indicator.tier,
        "collected": indicator.collected,
        "reported": indicator.reported,
        "polarity": indicator.polarity,
        "unit": indicator.unit,
        "value": _published(current),
        "display": cell(current),
        "numerator": _count(current, current.numerator),
        "denominator": _count(current, current.denominator),
        "months": {format_period(m.month): _published(m) for m in result.months},
        "outturns": {label: _published(m) for label, m in result.outturns},
        "same_period_last_year": _published(result.same_period_last_year),
        "benchmarks": {area: result.benchmarks.get(area) for area in BENCHMARK_AREAS},
        "trend": result.trend,
        "target": _number(indicator.target),
        "target_status": result.target_status,
        "suppressed": current.withheld,
        "withheld": withheld_paths(result),
        "error": result.error,
        "approximation": result.approximation,
    } | ({"breakdowns": {
        dimension: {
            "error": result.breakdown_errors.get(dimension),
            "groups": [_group_json(name, group) for name, group in result.breakdowns.get(dimension) or ()],
        } for dimension in by
    }} if by else {})


def cell(month: PublishedMonth, withheld_text: str = WITHHELD_TEXT) -> str:
    """A month's value as the scorecard prints it."""
    if month.withheld and month.reported:
        return withheld_text
    return display(month.shown)


def render_json(scorecard: PublishedScorecard) -> str:
    return json.dumps(to_json_dict(scorecard), indent=2, ensure_ascii=False) + "\n"


def csv_rows(scorecard: PublishedScorecard) -> list[list[Any]]:
    """The scorecard as rows of the seed's columns, numbers at full precision; `c` where withheld."""
    _published_scorecard(scorecard)
    first = scorecard.results[0] if scorecard.results else None
    outturn_labels = [label for label, _ in first.outturns] if first else []
    month_labels = [format_period(m.month) for m in first.months] if first else []
    header = (
        ["id", "title", "lead_officer", "service_group", "tier", "collected", "reported", "polarity", "unit"]
        + [f"benchmark_{a}" for a in BENCHMARK_AREAS]
        + outturn_labels + ["same_period_last_year"] + month_labels
        + ["numerator", "denominator", "trend", "target", "target_status", "error", "approximation"]
    )
    if scorecard.by:
        header = ["dimension", "group"] + header + ["breakdown_error"]
    rows: list[list[Any]] = [header]
    for r, dimension, group in _with_groups(scorecard):
        i = r.indicator

        def value(m: PublishedMonth) -> Any:
            if m.withheld and m.reported:
                return WITHHELD_MARK
            return "" if m.shown is None else _number(m.shown)

        def count(x: Any) -> Any:
            if r.current.withheld:
                return WITHHELD_MARK
            return "" if x is None or not r.current.reported else _number(x)

        rows.append(
            [i.id, i.title, i.lead_officer or "", i.service_group, i.tier, i.collected, i.reported, i.polarity, i.unit]
            + ["" if r.benchmarks.get(a) is None else r.benchmarks[a] for a in BENCHMARK_AREAS]
            + [value(m) for _, m in r.outturns] + [value(r.same_period_last_year)] + [value(m) for m in r.months]
            + [count(r.current.numerator), count(r.current.denominator), r.trend,
               "" if i.target is None else _number(i.target), r.target_status, r.error or "", r.approximation or ""]
        )
        if scorecard.by:
            errors = "; ".join(f"{d}: {e}" for d, e in r.breakdown_errors.items()) if group is None else ""
            rows[-1][:0] = [dimension or "", group or ""]
            rows[-1].append(errors)
    return rows


def _with_groups(scorecard: PublishedScorecard):
    """Each result, followed by its groups, dimension by dimension in the order asked for:
    (result, dimension or None, group name or None)."""
    for result in scorecard.results:
        yield result, None, None
        for dimension in scorecard.by:
            for name, group in result.breakdowns.get(dimension) or ():
                yield group, dimension, name


def render_csv(scorecard: PublishedScorecard) -> str:
    """The rows of csv_rows, then, after a blank line, the provenance and any warnings as `#` lines (a
    reader skips them with `comment="#"`; a spreadsheet shows them under the table)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv_rows(scorecard))
    footer = footer_lines(scorecard)
    if footer:
        buffer.write("\n" + "".join(f"# {line}\n" for line in footer))
    return buffer.getvalue()


def footer_lines(scorecard: PublishedScorecard) -> list[str]:
    """What is written under the table in CSV and xlsx: the warnings about the data, then the provenance."""
    lines = [f"warning: {warning}" for warning in scorecard.warnings]
    if scorecard.provenance is not None:
        lines += scorecard.provenance.summary_lines()
    return lines


def render_table(scorecard: PublishedScorecard, screen: Screen = Screen()) -> str:
    """A table for the terminal: the displayed values, trend arrows and status; titles wrap; `c` where
    withheld, with the legend under the table when there is one."""
    results = _published_scorecard(scorecard).results
    if not results:
        return "no indicators matched\n"
    months = [format_period(m.month)[2:] for m in results[0].months]
    numeric = months + ["num", "den", "trend", "target", "status"]
    table = new_table("id", "title", *numeric, numeric=numeric, wrapping=("title",))
    table.columns[1].min_width = 20
    any_withheld = False
    for r, dimension, group in _with_groups(scorecard):
        title = r.indicator.title if group is None else f"  {dimension} {group}"
        values = [cell(m, WITHHELD_MARK) for m in r.months]
        withheld = r.current.withheld
        any_withheld = any_withheld or withheld or WITHHELD_MARK in values
        num = WITHHELD_MARK if withheld else (display(r.current.numerator) if r.current.reported else "-")
        den = WITHHELD_MARK if withheld else (display(r.current.denominator) if r.current.reported and r.current.denominator is not None else "-")
        status = "error" if r.error else STATUS_TEXT[r.target_status].lower()
        target = "-" if r.indicator.target is None else display(r.indicator.target)
        shown_id = r.indicator.id + (f" {APPROXIMATE_MARK}" if r.approximation else "")
        add_row(table, shown_id if group is None else "", title, *values, num, den, TREND_SYMBOL[r.trend] or "", target, status)
    head = f"{scorecard.authority + ' ' if scorecard.authority else ''}scorecard, {format_period(scorecard.period)}"
    s = scorecard.summary
    summary = (
        f"{s.total} indicators; trend ↑ {s.trend['better']} better, ↔ {s.trend['same']} same, ↓ {s.trend['worse']} worse, "
        f"{s.trend['not_comparable']} not comparable; target: {s.target['better']} better, {s.target['achieving']} achieving, "
        f"{s.target['missing']} missing, {s.target['no_target']} no target"
    )
    notes = [WITHHELD_LEGEND] if any_withheld else []
    for r in results:
        if r.approximation:
            notes.append(f"{APPROXIMATE_MARK} {r.indicator.id}: approximate: {r.approximation}")
        if r.error:
            notes.append(f"{r.indicator.id}: error: {r.error}")
        for dimension, error in r.breakdown_errors.items():
            notes.append(f"{r.indicator.id}: not by {dimension}: {error}")
    return to_text(screen, head, table, "", summary, *notes)


def parquet_table(scorecard: PublishedScorecard):
    """The long form: one row per indicator and month (id, month, numerator, denominator, value,
    reported, suppressed, approximation); a withheld month has null numbers and `suppressed` true; an
    approximate number carries how it is approximate, an exact one null. With --by, first `dimension`
    and `group` too (both null on the indicator's own rows)."""
    import pyarrow as pa

    ids, months, numerators, denominators, values, suppressed, reported, groups = [], [], [], [], [], [], [], []
    dimensions, approximations = [], []
    for r, dimension, group in _with_groups(_published_scorecard(scorecard)):
        for m in r.history:
            ids.append(r.indicator.id)
            dimensions.append(dimension)
            approximations.append(r.approximation)
            groups.append(group)
            months.append(m.month)
            withheld = m.withheld
            numerators.append(None if withheld else m.numerator)
            denominators.append(None if withheld else m.denominator)
            values.append(None if withheld else m.value)
            suppressed.append(withheld)
            reported.append(m.reported)
    columns = {"dimension": pa.array(dimensions, pa.string()), "group": pa.array(groups, pa.string())} if scorecard.by else {}
    return pa.table(columns | {
        "id": pa.array(ids, pa.string()),
        "month": pa.array(months, pa.date32()),
        "numerator": pa.array(numerators, pa.float64()),
        "denominator": pa.array(denominators, pa.float64()),
        "value": pa.array(values, pa.float64()),
        "reported": pa.array(reported, pa.bool_()),
        "suppressed": pa.array(suppressed, pa.bool_()),
        "approximation": pa.array(approximations, pa.string()),  # null when exact
    })


def write_scorecard(scorecard: PublishedScorecard, fmt: str, path: Path, templates: Path | None = None) -> None:
    """Write the scorecard to `path` in `fmt`, atomically; html from the project's `templates` folder
    when it holds the page (see render_html.py)."""
    _published_scorecard(scorecard)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = parquet_table(scorecard)
        if scorecard.provenance is not None:  # key-value metadata: the same record as the JSON's
            provenance = json.dumps(scorecard.provenance.to_dict(), ensure_ascii=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"kpi.provenance": provenance.encode("utf-8")})
        write_atomically(path, lambda p: pq.write_table(table, p))
        return
    if fmt == "xlsx":
        from kpi.render_xlsx import write_xlsx

        write_atomically(path, lambda p: write_xlsx(scorecard, p))
        return
    text = render(scorecard, fmt, templates)
    write_atomically(path, lambda p: p.write_text(text, encoding="utf-8"))


def render(scorecard: PublishedScorecard, fmt: str, templates: Path | None = None, screen: Screen = Screen()) -> str:
    """The scorecard as text in one of the text formats (html included); `screen` is for the table."""
    _published_scorecard(scorecard)
    if fmt == "html":
        from kpi.render_html import render_html

        return render_html(scorecard, templates=templates)
    if fmt == "table":
        return render_table(scorecard, screen)
    return {"csv": render_csv, "json": render_json}[fmt](scorecard)


def render_reproduction(outcome) -> str:
    """What `kpi compute --reproduce` found: every number matches, or which differ and what changed."""
    if outcome.matches:
        return f"every number of {outcome.recorded} comes out the same again\n"
    lines = [f"{len(outcome.number_differences)} published value(s) of {outcome.recorded} differ now:"]
    lines += [f"  {difference}" for difference in outcome.number_differences]
    lines.append("what changed since:" if outcome.causes else "nothing recorded changed (the same definitions, data and kpi): please report this")
    lines += [f"  {cause}" for cause in outcome.causes]
    return "\n".join(lines) + "\n"
