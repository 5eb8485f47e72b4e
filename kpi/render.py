"""Write a scorecard: a terminal table (rich), CSV, JSON (SPEC §9's shape), Parquet (long form);
HTML and Excel through render_html.py and render_xlsx.py.

Formats only: every number and decision comes from assess.py. Files are written atomically: to a
temporary file beside the target, then renamed, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from kpi.atomic import write_atomically
from kpi.assess import STATUS_TEXT, SUPPRESSED_TEXT, TREND_SYMBOL, IndicatorResult, MonthResult, Scorecard, display
from kpi.periods import format_period
from kpi.render_text import Screen, add_row, new_table, to_text

BENCHMARK_AREAS = ("england", "region", "statistical_neighbours")
TEXT_FORMATS = ("table", "csv", "json")
FORMATS = ("table", "csv", "json", "parquet", "xlsx", "html")
COMPACT_SUPPRESSED = "c"


def _number(value: float | None) -> float | int | None:
    """Whole numbers as integers in machine outputs; everything else at full precision."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _published(month: MonthResult) -> float | int | None:
    return _number(month.shown)


def to_json_dict(scorecard: Scorecard) -> dict[str, Any]:
    """The scorecard in the JSON shape of SPEC §9."""
    return {
        "period": format_period(scorecard.period),
        "authority": scorecard.authority or None,
        "summary": {
            "total": scorecard.summary.total,
            "trend": dict(scorecard.summary.trend),
            "target": dict(scorecard.summary.target),
        },
        "warnings": list(scorecard.warnings),
        "indicators": [_indicator_json(r, scorecard.by) for r in scorecard.results],
        "provenance": scorecard.provenance.to_dict() if scorecard.provenance else None,
        "warnings": list(scorecard.warnings),
    }


def _group_json(name: str, result: IndicatorResult) -> dict[str, Any]:
    full = _indicator_json(result, None)
    keys = ("value", "display", "numerator", "denominator", "months", "trend", "target_status", "suppressed")
    return {"group": name, **{k: full[k] for k in keys}}


def _indicator_json(result: IndicatorResult, by: str | None) -> dict[str, Any]:
    indicator, current = result.indicator, result.current
    withheld = current.suppressed
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
        "numerator": None if withheld or not current.reported else _number(current.numerator),
        "denominator": None if withheld or not current.reported else _number(current.denominator),
        "months": {format_period(m.month): _published(m) for m in result.months},
        "outturns": {label: _published(m) for label, m in result.outturns},
        "same_period_last_year": _published(result.same_period_last_year),
        "benchmarks": {area: result.benchmarks.get(area) for area in BENCHMARK_AREAS},
        "trend": result.trend,
        "target": _number(indicator.target),
        "target_status": result.target_status,
        "suppressed": withheld,
        "error": result.error,
    } | ({"breakdown": {
        "by": by,
        "error": result.breakdown_error,
        "groups": [_group_json(name, group) for name, group in result.breakdown or ()],
    }} if by else {})


def cell(month: MonthResult, suppressed_text: str = SUPPRESSED_TEXT) -> str:
    """A month's value as the scorecard prints it."""
    if month.suppressed and month.reported:
        return suppressed_text
    return display(month.shown)


def render_json(scorecard: Scorecard) -> str:
    return json.dumps(to_json_dict(scorecard), indent=2, ensure_ascii=False) + "\n"


def csv_rows(scorecard: Scorecard) -> list[list[Any]]:
    """The scorecard as rows of the seed's columns, numbers at full precision; `c` where withheld."""
    first = scorecard.results[0] if scorecard.results else None
    outturn_labels = [label for label, _ in first.outturns] if first else []
    month_labels = [format_period(m.month) for m in first.months] if first else []
    header = (
        ["id", "title", "lead_officer", "service_group", "tier", "collected", "reported", "polarity", "unit"]
        + [f"benchmark_{a}" for a in BENCHMARK_AREAS]
        + outturn_labels + ["same_period_last_year"] + month_labels
        + ["numerator", "denominator", "trend", "target", "target_status", "error"]
    )
    if scorecard.by:
        header = ["group"] + header
    rows: list[list[Any]] = [header]
    for r, group in _with_groups(scorecard):
        i = r.indicator

        def value(m: MonthResult) -> Any:
            if m.suppressed and m.reported:
                return COMPACT_SUPPRESSED
            return "" if m.shown is None else _number(m.shown)

        def count(x: float | None) -> Any:
            if r.current.suppressed:
                return COMPACT_SUPPRESSED
            return "" if x is None or not r.current.reported else _number(x)

        rows.append(
            [i.id, i.title, i.lead_officer or "", i.service_group, i.tier, i.collected, i.reported, i.polarity, i.unit]
            + ["" if r.benchmarks.get(a) is None else r.benchmarks[a] for a in BENCHMARK_AREAS]
            + [value(m) for _, m in r.outturns] + [value(r.same_period_last_year)] + [value(m) for m in r.months]
            + [count(r.current.numerator), count(r.current.denominator), r.trend,
               "" if i.target is None else _number(i.target), r.target_status, r.error or ""]
        )
        if scorecard.by:
            rows[-1].insert(0, group or "")
    return rows


def _with_groups(scorecard: Scorecard):
    """Each result, followed by its groups when there is a breakdown: (result, group name or None)."""
    for result in scorecard.results:
        yield result, None
        for name, group in result.breakdown or ():
            yield group, name


def render_csv(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv_rows(scorecard))
    return buffer.getvalue()


def render_table(scorecard: Scorecard, screen: Screen = Screen()) -> str:
    """A table for the terminal: the displayed values, trend arrows and status; titles wrap."""
    results = scorecard.results
    if not results:
        return "no indicators matched\n"
    months = [format_period(m.month)[2:] for m in results[0].months]
    numeric = months + ["num", "den", "trend", "target", "status"]
    table = new_table("id", "title", *numeric, numeric=numeric, wrapping=("title",))
    table.columns[1].min_width = 20
    for r, group in _with_groups(scorecard):
        title = r.indicator.title if group is None else f"  {scorecard.by} {group}"
        values = [cell(m, COMPACT_SUPPRESSED) for m in r.months]
        withheld = r.current.suppressed
        num = COMPACT_SUPPRESSED if withheld else (display(r.current.numerator) if r.current.reported else "-")
        den = COMPACT_SUPPRESSED if withheld else (display(r.current.denominator) if r.current.reported and r.current.denominator is not None else "-")
        status = "error" if r.error else STATUS_TEXT[r.target_status].lower()
        target = "-" if r.indicator.target is None else display(r.indicator.target)
        add_row(table, r.indicator.id if group is None else "", title, *values, num, den, TREND_SYMBOL[r.trend] or "", target, status)
    head = f"{scorecard.authority + ' ' if scorecard.authority else ''}scorecard, {format_period(scorecard.period)}"
    s = scorecard.summary
    summary = (
        f"{s.total} indicators; trend ↑ {s.trend['better']} better, ↔ {s.trend['same']} same, ↓ {s.trend['worse']} worse, "
        f"{s.trend['not_comparable']} not comparable; target: {s.target['better']} better, {s.target['achieving']} achieving, "
        f"{s.target['missing']} missing, {s.target['no_target']} no target"
    )
    notes = []
    for r in results:
        if r.error:
            notes.append(f"{r.indicator.id}: error: {r.error}")
        if r.breakdown_error:
            notes.append(f"{r.indicator.id}: no breakdown: {r.breakdown_error}")
    return to_text(screen, head, table, "", summary, *notes)


def parquet_table(scorecard: Scorecard):
    """The long form: one row per indicator and month (id, month, numerator, denominator, value, suppressed)."""
    import pyarrow as pa

    ids, months, numerators, denominators, values, suppressed, reported, groups = [], [], [], [], [], [], [], []
    for r, group in _with_groups(scorecard):
        for month in sorted(r.history):
            m = r.history[month]
            ids.append(r.indicator.id)
            groups.append(group)
            months.append(month)
            withheld = m.suppressed
            numerators.append(None if withheld else m.numerator)
            denominators.append(None if withheld else m.denominator)
            values.append(None if withheld else m.value)
            suppressed.append(withheld)
            reported.append(m.reported)
    columns = {"group": pa.array(groups, pa.string())} if scorecard.by else {}
    return pa.table(columns | {
        "id": pa.array(ids, pa.string()),
        "month": pa.array(months, pa.date32()),
        "numerator": pa.array(numerators, pa.float64()),
        "denominator": pa.array(denominators, pa.float64()),
        "value": pa.array(values, pa.float64()),
        "reported": pa.array(reported, pa.bool_()),
        "suppressed": pa.array(suppressed, pa.bool_()),
    })


def write_scorecard(scorecard: Scorecard, fmt: str, path: Path, templates: Path | None = None) -> None:
    """Write the scorecard to `path` in `fmt`, atomically; html from the project's `templates` folder
    when it holds the page (see render_html.py)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        write_atomically(path, lambda p: pq.write_table(parquet_table(scorecard), p))
        return
    if fmt == "xlsx":
        from kpi.render_xlsx import write_xlsx

        write_atomically(path, lambda p: write_xlsx(scorecard, p))
        return
    text = render(scorecard, fmt, templates)
    write_atomically(path, lambda p: p.write_text(text, encoding="utf-8"))


def render(scorecard: Scorecard, fmt: str, templates: Path | None = None, screen: Screen = Screen()) -> str:
    """The scorecard as text in one of the text formats (html included); `screen` is for the table."""
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
