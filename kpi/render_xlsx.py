"""The scorecard as an Excel workbook: a summary sheet, the indicator table and, with a breakdown
(--by), a sheet per dimension; numbers stored as numbers with the scorecard's display format, a
frozen header, status shown by colour and word; each table sheet prints landscape, one page wide,
with its heading row on every page.

Layout only; every number and word comes from the published scorecard (disclosure.py), which holds no
withheld true value: withheld cells are `c`, explained by the legend on the Summary sheet and a note on
each such cell.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import xlsxwriter

from kpi.assess import STATUS_TEXT, TREND_SYMBOL
from kpi.disclosure import WITHHELD, WITHHELD_LEGEND, WITHHELD_MARK, WITHHELD_TEXT, PublishedScorecard
from kpi.render_html import COLLECTED_LABEL, POLARITY_LABEL, TREND_TEXT, UNIT_LABEL, dimension_label
from kpi.render import footer_lines

# Excel's own form of the display rule: 0 → 0; up to 10 one decimal; above that whole, with separators.
NUMBER_FORMAT = "[=0]0;[<=10]0.0;#,##0"
WHOLE_NUMBER_FORMAT = "0"  # the summary's counts of indicators
LINE_HEIGHT = 15  # points: one line of the default 11 pt font
A4 = 9  # Excel's paper size code
APPROXIMATION_WIDTH = 40  # characters: the column saying how a number is approximate, when one is
STATUS_COLOURS = {"better": "#D8F0D8", "achieving": "#DBE9F8", "missing": "#F9DADA", "no_target": "#FFFFFF"}


def write_xlsx(scorecard: PublishedScorecard, path: Path) -> None:
    """Write the workbook to `path` (the caller makes the write atomic)."""
    if not isinstance(scorecard, PublishedScorecard):
        raise TypeError(f"write_xlsx takes a PublishedScorecard (disclosure.publish), not {type(scorecard).__name__}")
    workbook = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    try:
        formats = {
            "head": workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1D3557", "text_wrap": True, "valign": "top", "border": 1}),
            "number": workbook.add_format({"num_format": NUMBER_FORMAT, "border": 1}),
            "text": workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
            "centre": workbook.add_format({"border": 1, "align": "center"}),
            "suppressed": workbook.add_format({"border": 1, "italic": True, "align": "center", "valign": "vcenter", "text_wrap": True}),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "count": workbook.add_format({"num_format": WHOLE_NUMBER_FORMAT, "border": 1}),
            "note": workbook.add_format({"border": 1, "italic": True, "text_wrap": True, "valign": "top", "font_color": "#555555"}),
        }
        for status, colour in STATUS_COLOURS.items():
            formats[status] = workbook.add_format({"border": 1, "bold": True, "bg_color": colour, "text_wrap": True, "valign": "top"})
        _summary_sheet(workbook, scorecard, formats)
        _table_sheet(workbook, scorecard, formats)
        for dimension in scorecard.by:  # a sheet per dimension of the breakdown (--by)
            _table_sheet(workbook, scorecard, formats, dimension)
    finally:
        workbook.close()


def _summary_sheet(workbook, scorecard: PublishedScorecard, f: dict) -> None:
    sheet = workbook.add_worksheet("Summary")
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 1, 10)
    sheet.write(0, 0, f"{scorecard.authority + ': ' if scorecard.authority else ''}Children's Key Performance Indicators", f["title"])
    sheet.write(1, 0, f"Data to the end of {scorecard.period:%B %Y}")
    s = scorecard.summary
    rows = [("Total", s.total)]
    rows += [(f"{TREND_SYMBOL[k] or '(blank)'} {TREND_TEXT[k]}", s.trend[k]) for k in ("better", "same", "worse", "not_comparable")]
    rows += [(STATUS_TEXT[k], s.target[k]) for k in ("better", "achieving", "missing", "no_target")]
    for n, (label, count) in enumerate(rows, start=3):
        sheet.write(n, 0, label, f["text"])
        sheet.write_number(n, 1, int(count), f["count"])
    sheet.write(len(rows) + 4, 0, WITHHELD_LEGEND)
    for n, line in enumerate(footer_lines(scorecard), start=len(rows) + 6):  # warnings, then provenance
        sheet.write(n, 0, line)


def _table_sheet(workbook, scorecard: PublishedScorecard, f: dict, dimension: str | None = None) -> None:
    """The indicator table: the Scorecard sheet, or with `dimension` its sheet ("By team"): each
    indicator's groups in a row each, after a column naming the group."""
    label = dimension_label(dimension) if dimension else None
    sheet = workbook.add_worksheet(f"By {label.lower()}"[:31] if label else "Scorecard")
    results = scorecard.results
    if not results:
        return
    first = results[0]
    months = [m.month.strftime("%b %Y") for m in first.months]
    identity = ["Indicator", "Indicator description"] + ([label] if label else [])
    header = (identity + ["Lead officer", "Service group", "Collected", "What is best", "Measure of unit",
                          "Latest England av", f"Latest {scorecard.region or 'region'} av", "Latest stat neighbour",
                          first.outturns[0][0], "Same period last year", first.outturns[1][0]]
              + months + ["Numerator", "Denominator", "Trend", "Year-end target", "Performance against target"])
    widths = [10, 60] + ([18] if label else []) + [14] * 5 + [10] * (len(header) - len(identity) - 6) + [24]
    for c, (title, width) in enumerate(zip(header, widths)):
        sheet.write(0, c, title, f["head"])
        sheet.set_column(c, c, width)
    # how the source gives a number only approximately: a column only when some number is approximate
    approximation_column = len(header) if any(r.approximation for r in results) else None
    if approximation_column is not None:
        sheet.write(0, approximation_column, "Approximation", f["head"])
        sheet.set_column(approximation_column, approximation_column, APPROXIMATION_WIDTH)
    sheet.set_row(0, LINE_HEIGHT * max(3, *(wrapped_lines(title, width) for title, width in zip(header, widths))))
    sheet.freeze_panes(1, len(identity))
    _print_setup(sheet)
    rows = [(r, None, None) for r in results] if dimension is None else list(_group_rows(results, dimension, label))
    for n, (r, group, note) in enumerate(rows, start=1):
        i = r.indicator
        texts = [i.id, i.title] + ([group or ""] if label else []) + [
            i.lead_officer or "", i.service_group, COLLECTED_LABEL[i.collected], POLARITY_LABEL[i.polarity], UNIT_LABEL[i.unit]]
        for c, text in enumerate(texts):
            sheet.write_string(n, c, text, f["text"])
        lines = [wrapped_lines(text, width) for text, width in zip(texts, widths)]
        c = len(texts)
        if note is not None:  # no figures for this indicator in this breakdown: the note says why
            sheet.merge_range(n, c, n, len(header) - 1, note, f["note"])
            lines.append(wrapped_lines(note, sum(widths[c:])))
            sheet.set_row(n, LINE_HEIGHT * max(lines))
            continue
        status = "Error: " + r.error if r.error else STATUS_TEXT[r.target_status]
        lines.append(wrapped_lines(status, widths[-1]))
        if r.current.withheld:
            lines.append(wrapped_lines(WITHHELD_TEXT, 2 * widths[-2]))
        if approximation_column is not None and r.approximation:
            sheet.write_string(n, approximation_column, r.approximation, f["text"])
            lines.append(wrapped_lines(r.approximation, APPROXIMATION_WIDTH))
        # Excel does not grow a row for wrapped text it did not type itself: each row is made tall enough
        sheet.set_row(n, LINE_HEIGHT * max(lines))
        for area in ("england", "region", "statistical_neighbours"):
            _number(sheet, n, c, r.benchmarks.get(area), f)
            c += 1
        for month in [r.outturns[0][1], r.same_period_last_year, r.outturns[1][1], *r.months]:
            if month.withheld and month.reported:
                sheet.write_string(n, c, WITHHELD_MARK, f["suppressed"])
                sheet.write_comment(n, c, WITHHELD_LEGEND)
            else:
                _number(sheet, n, c, month.shown, f)
            c += 1
        if r.current.withheld:
            sheet.merge_range(n, c, n, c + 1, WITHHELD_TEXT, f["suppressed"])
        else:
            _number(sheet, n, c, r.current.numerator if r.current.reported else None, f)
            _number(sheet, n, c + 1, r.current.denominator if r.current.reported else None, f)
        c += 2
        sheet.write_string(n, c, TREND_SYMBOL[r.trend], f["centre"])
        _number(sheet, n, c + 1, i.target, f)
        sheet.write_string(n, c + 2, status, f[r.target_status])
    sheet.autofilter(0, 0, len(rows), len(header) - 1 if approximation_column is None else approximation_column)


def _group_rows(results, dimension: str, label: str):
    """(the group's published row, its name, none) per group of each indicator; (the indicator, none,
    why) for one not broken down by `dimension` (its own figures are not written there)."""
    for r in results:
        groups = r.breakdowns.get(dimension) or ()
        if groups:
            yield from ((group, name, None) for name, group in groups)
        else:
            yield r, None, f"Not broken down by {label.lower()}: {r.breakdown_errors.get(dimension) or 'no groups'}"


def wrapped_lines(text: str, width: float) -> int:
    """The lines `text` takes wrapped at word boundaries in a column `width` characters wide (Excel's
    unit: the width of a `0`, wider than most letters, so capitals are given a little room too)."""
    return max(1, len(textwrap.wrap(text, max(1, int(width * 0.9)))))


def _print_setup(sheet) -> None:
    """Landscape on A4, every column on one page's width (as many pages down as it takes), the heading
    row on every page, the sheet's name and page number in the footer."""
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer("&L&A&RPage &P of &N")


def _number(sheet, row: int, col: int, value: float | None, f: dict) -> None:
    if value is WITHHELD:  # never written as a number
        raise TypeError("a withheld number reached the workbook as a number")
    if value is None:
        sheet.write_string(row, col, "-", f["centre"])
    else:
        sheet.write_number(row, col, value, f["number"])
