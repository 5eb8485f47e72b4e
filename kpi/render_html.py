"""The scorecard as one self-contained HTML page laid out like the seed: header, summary counts, the
indicator table with every column of the seed, a small trend line per indicator, and filters (service
group, lead officer, tier, unit) that work in the browser without a server. With a breakdown (--by)
the page also holds each group's own scorecard (a team's, ...), chosen with a select, and the equality
view of one indicator across the child's characteristics. The styles fit the table to a 1366 px
screen and to a landscape A4 page (docs/reports.md).

The page is the Jinja2 template templates/scorecard.html.j2 (styles and script included inline, values
escaped); a project's own templates/ folder comes first, so a council can re-brand it. This module
only turns a published scorecard (disclosure.py: no withheld true value in it) into the template's
values; withheld cells are `c`, explained by the legend under the table.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import jinja2

from kpi.assess import STATUS_TEXT, TREND_SYMBOL, display
from kpi.disclosure import APPROXIMATE_MARK, WITHHELD_LEGEND, WITHHELD_MARK, WITHHELD_TEXT, PublishedIndicator, PublishedMonth, PublishedScorecard
from kpi.issues import KpiError, display_path
from kpi.periods import format_period

PAGE = "scorecard.html.j2"
BUNDLED_TEMPLATES = Path(__file__).resolve().parent / "templates"

UNIT_LABEL = {"percent": "%", "count": "Num", "rate_per_10000": "Per 10,000 pop"}
POLARITY_LABEL = {"bigger": "Bigger", "smaller": "Smaller", "none": "None"}
COLLECTED_LABEL = {"month_end": "Month End", "monthly": "Monthly", "year_to_date": "Year to date",
                   "quarterly": "Quarterly", "rolling_12_months": "Rolling 12 months"}
TREND_TEXT = {"better": "Better than previously reported", "same": "The same as previously reported",
              "worse": "Not as good as previously reported", "not_comparable": "Not comparable"}
FILTERS = (("service_group", "Service group"), ("lead_officer", "Lead officer"), ("tier", "Key / Manager / Team"), ("unit", "Measure of unit"))
TIER_LABEL = {"key": "Key", "key_board": "Key / Board", "operational": "Operational", "team": "Team"}

BENCHMARK_AREAS = ("england", "region", "statistical_neighbours")
# The child's characteristics: the dimensions the equality view puts side by side, in this order.
EQUALITY_DIMENSIONS = ("sex", "ethnicity", "age_band")


@dataclass(frozen=True)
class Sparkline:
    """The points of a small SVG line through the months that have a value."""

    width: int
    height: int
    points: str  # "x,y x,y ..."
    last_x: str
    last_y: str
    label: str  # the values, rounded, for screen readers


@dataclass(frozen=True)
class PageRow:
    """One row of the page's table, as text: an indicator, or one group of its breakdown (`group`)."""

    id: str
    title: str
    group: str | None
    service_group: str
    lead_officer: str
    tier: str
    unit: str
    collected_label: str
    polarity_label: str
    unit_label: str
    benchmarks: list[str]
    earlier: list[str]  # the first outturn, the same period last year, the second outturn
    months: list[str]  # the months shown before any withheld run
    numerator: str
    denominator: str
    suppressed_span: int | None  # columns of the merged "suppressed" cell, when the current month is withheld
    trend: str
    trend_symbol: str
    trend_text: str
    target: str
    status: str
    status_text: str
    error: str | None
    sparkline: Sparkline | None
    note: str | None = None  # in a group's scorecard: why the indicator has no figures for the group
    approximation: str | None = None  # how the source gives the number only approximately


def render_html(scorecard: PublishedScorecard, generated: datetime | None = None, templates: Path | None = None) -> str:
    """The whole page; from `templates`/scorecard.html.j2 when that file exists, else the bundled one."""
    if not isinstance(scorecard, PublishedScorecard):
        raise TypeError(f"render_html takes a PublishedScorecard (disclosure.publish), not {type(scorecard).__name__}")
    environment = template_environment(templates)
    try:
        return environment.get_template(PAGE).render(page_values(scorecard, generated or datetime.now()))
    except jinja2.TemplateError as error:
        raise KpiError(_template_problem(error, templates)) from None


def template_environment(templates: Path | None = None) -> jinja2.Environment:
    """Templates from the project's folder first, then the bundled ones (also as `bundled/NAME`, so a
    project's page can extend the bundled page); every value escaped, an unknown name an error."""
    bundled = jinja2.FileSystemLoader(BUNDLED_TEMPLATES)
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(templates)] if templates is not None else []
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders + [bundled, jinja2.PrefixLoader({"bundled": bundled})]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _template_problem(error: jinja2.TemplateError, templates: Path | None) -> str:
    """Where a template went wrong (its file, and line when known) and what is wrong, for the user."""
    where, line = getattr(error, "filename", None), getattr(error, "lineno", None)
    if where is None:  # an error while rendering: the template's own frame says where (Jinja2 maps it)
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith((".j2", ".css", ".js"))]
        if frames:
            where, line = frames[-1].filename, frames[-1].lineno
    if isinstance(error, jinja2.TemplateNotFound):
        folders = f"{display_path(templates)} or the bundled templates" if templates else "the bundled templates"
        problem = f"it includes {error.name}, which is not in {folders}"
    else:
        problem = error.message or str(error)
    location = (display_path(where) + (f":{line}" if line else "")) if where else PAGE
    return f"{location}: the scorecard template cannot be used: {problem}: fix the template, or remove it to use the bundled page"


def page_values(scorecard: PublishedScorecard, generated: datetime) -> dict:
    """What the template is given: the title, the period, the summary counts, the filters, the column
    headings, the rows, and with a breakdown (--by) each group's own rows (`views`) and the equality
    view (`equality`)."""
    results = scorecard.results
    first = results[0] if results else None
    month_labels = [m.month.strftime("%b") for m in first.months] if first else []
    outturn_labels = [label for label, _ in first.outturns] if first else []
    region = scorecard.region or "Region"
    last = month_labels[-1] if month_labels else ""
    headings = (
        ["Indicator", "Indicator description", "Lead officer", "Collected", "What is best", "Measure of unit",
         "Latest England av", f"Latest {region} av", "Latest stat neighbour"]
        + [outturn_labels[0] if outturn_labels else "", "Same period last year", outturn_labels[1] if len(outturn_labels) > 1 else ""]
        + month_labels + [f"{last} num", f"{last} den", "Trend", "Year-end target", "Performance against target", "Trend line"]
    )
    # a class per column, so that the styles can size each kind (the months vary in number)
    heading_classes = (["id", "title"] + ["meta"] * 4 + ["n bench"] * 3 + ["n earlier"] * 3 + ["n month"] * len(month_labels)
                       + ["n count"] * 2 + ["trend", "n target", "status", "spark"])
    figure_headings = headings[9:]  # from the outturns to the trend line: what the equality view shows
    s = scorecard.summary
    return {
        "title": f"{scorecard.authority + ': ' if scorecard.authority else ''}Children's Key Performance Indicators",
        "authority": scorecard.authority,
        "region": scorecard.region,
        "period": scorecard.period,
        "period_label": format_period(scorecard.period),
        "generated": generated,
        "summary": {
            "total": s.total,
            "trend": [{"key": k, "symbol": TREND_SYMBOL[k] or "(blank)", "text": TREND_TEXT[k], "count": s.trend[k]}
                      for k in ("better", "same", "worse", "not_comparable")],
            "target": [{"key": k, "text": STATUS_TEXT[k], "count": s.target[k]}
                       for k in ("better", "achieving", "missing", "no_target")],
        },
        "filters": [
            {"key": key, "label": label, "options": [
                {"value": v, "label": _filter_label(key, v)} for v in sorted({_attribute(r, key) for r in results} - {""})
            ]}
            for key, label in FILTERS
        ],
        "headings": headings,
        "heading_classes": heading_classes,
        "rows": [page_row(result) for result in results],
        "views": breakdown_views(scorecard),
        "equality": equality_view(scorecard),
        "equality_headings": ["Characteristic", "Group"] + figure_headings,
        "equality_heading_classes": ["meta", "title"] + heading_classes[9:],
        "suppressed_text": WITHHELD_TEXT,
        "withheld_legend": WITHHELD_LEGEND,
        "warnings": list(scorecard.warnings),
        "approximate_mark": APPROXIMATE_MARK,
        "approximations": [{"id": r.indicator.id, "text": r.approximation} for r in results if r.approximation],
        "provenance": scorecard.provenance.summary_lines() if scorecard.provenance else [],
    }


def dimension_label(dimension: str) -> str:
    """A dimension's name as a heading: `age_band` → `Age band`."""
    return dimension.replace("_", " ").capitalize()


def breakdown_views(scorecard: PublishedScorecard) -> list[dict]:
    """Per dimension of the breakdown, per group, the group's own scorecard: a row per indicator, its
    figures the group's, or a note where it has none."""
    views = []
    for dimension in scorecard.by:
        label = dimension_label(dimension)
        lists = [[name for name, _ in r.breakdowns.get(dimension) or ()] for r in scorecard.results]
        # in the order of the indicator with the most groups (the engine's order: age bands by age, the
        # group of units without one last), then any the others add
        names = dict.fromkeys(max(lists, key=len, default=[]) + [name for names in lists for name in names])
        views.append({"dimension": dimension, "label": label, "groups": [
            {"key": f"{dimension}:{name}", "name": name, "rows": [_group_row(r, dimension, label, name) for r in scorecard.results]}
            for name in names
        ]})
    return views


def _group_row(result: PublishedIndicator, dimension: str, label: str, name: str) -> PageRow:
    groups = dict(result.breakdowns.get(dimension) or ())
    if name in groups:
        return page_row(groups[name], name)
    reason = result.breakdown_errors.get(dimension)
    note = f"Not broken down by {label.lower()}: {reason}" if reason else f"None of its records are of {label.lower()} {name}"
    return _note_row(result, name, note)


def _note_row(result: PublishedIndicator, group: str, note: str) -> PageRow:
    """An indicator's row in a group's scorecard where the group has no figures: the note says why;
    it holds none of the indicator's numbers and is not counted."""
    return replace(page_row(result, group), benchmarks=[], earlier=[], months=[], numerator="", denominator="",
                   suppressed_span=None, trend="not_comparable", trend_symbol="", trend_text="", target="", status="no_target",
                   status_text="", error=None, sparkline=None, note=note)


def equality_view(scorecard: PublishedScorecard) -> list[dict]:
    """One indicator across the child's characteristics: per indicator, its whole row, then the groups
    of each characteristic dimension of the breakdown (sex, ethnicity, age band; none asked: no view)."""
    dimensions = [d for d in EQUALITY_DIMENSIONS if d in scorecard.by]
    if not dimensions:
        return []
    return [{"id": r.indicator.id, "title": r.indicator.title, "total": page_row(r, "All children"), "sections": [
        {"label": dimension_label(d), "rows": [page_row(group, name) for name, group in r.breakdowns.get(d) or ()],
         "note": None if r.breakdowns.get(d) else
         f"Not broken down by {dimension_label(d).lower()}: {r.breakdown_errors.get(d) or 'no groups'}"}
        for d in dimensions
    ]} for r in scorecard.results]


def page_row(r: PublishedIndicator, group: str | None = None) -> PageRow:
    """An indicator's row (or one breakdown group's) as the page shows it."""
    i = r.indicator
    # The seed merges the withheld cells, from the first month of the run that ends now to the denominator.
    suppressed_from = None
    if r.current.withheld:
        suppressed_from = len(r.months) - 1
        while suppressed_from > 0 and r.months[suppressed_from - 1].withheld:
            suppressed_from -= 1
    shown_months = r.months if suppressed_from is None else r.months[:suppressed_from]
    return PageRow(
        id=i.id, title=i.title, group=group,
        service_group=_attribute(r, "service_group"), lead_officer=_attribute(r, "lead_officer"),
        tier=_attribute(r, "tier"), unit=_attribute(r, "unit"),
        collected_label=COLLECTED_LABEL[i.collected], polarity_label=POLARITY_LABEL[i.polarity], unit_label=UNIT_LABEL[i.unit],
        benchmarks=[display(r.benchmarks.get(a)) for a in BENCHMARK_AREAS],
        earlier=[_value_text(m) for m in (r.outturns[0][1], r.same_period_last_year, r.outturns[1][1])],
        months=[_value_text(m) for m in shown_months],
        numerator=_count_text(r.current, r.current.numerator),
        denominator=_count_text(r.current, r.current.denominator),
        suppressed_span=None if suppressed_from is None else len(r.months) - suppressed_from + 2,
        trend=r.trend, trend_symbol=TREND_SYMBOL[r.trend], trend_text=TREND_TEXT[r.trend],
        target="-" if i.target is None else display(i.target),
        status=r.target_status, status_text=STATUS_TEXT[r.target_status], error=r.error,
        sparkline=sparkline([m.shown for m in r.months]),
        approximation=r.approximation,
    )


def _filter_label(key: str, value: str) -> str:
    if key == "unit":
        return UNIT_LABEL.get(value, value)
    if key == "tier":
        return TIER_LABEL.get(value, value)
    return value


def _attribute(result: PublishedIndicator, key: str) -> str:
    return getattr(result.indicator, key) or ""


def _value_text(month: PublishedMonth) -> str:
    if month.withheld and month.reported:
        return WITHHELD_MARK
    return display(month.shown)


def _count_text(month: PublishedMonth, count) -> str:
    if month.withheld:
        return WITHHELD_MARK
    return display(count) if month.reported and count is not None else "-"


def sparkline(values: list[float | None], width: int = 48, height: int = 18) -> Sparkline | None:
    """The line through the months that have a value (gaps where none); none for fewer than two."""
    points = [(n, v) for n, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    low, high = min(v for _, v in points), max(v for _, v in points)
    spread = (high - low) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    coords = " ".join(f"{2 + n * step:.1f},{height - 2 - (v - low) / spread * (height - 4):.1f}" for n, v in points)
    last_x, last_y = coords.split(" ")[-1].split(",")
    return Sparkline(width, height, coords, last_x, last_y, json.dumps([round(v, 1) for _, v in points]))
