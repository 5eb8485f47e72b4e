"""The scorecard as an Excel workbook: a summary sheet and the indicator table, numbers stored as
numbers with the scorecard's display format, a frozen header, and status shown by colour and word.

Layout only; every number and word comes from the published scorecard (disclosure.py), which holds no
withheld true value: withheld cells are `c`, explained by the legend on the Summary sheet and a note on
each such cell.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from kpi.assess import STATUS_TEXT, TREND_SYMBOL
from kpi.disclosure import WITHHELD, WITHHELD_LEGEND, WITHHELD_MARK, WITHHELD_TEXT, PublishedScorecard
from kpi.render_html import COLLECTED_LABEL, POLARITY_LABEL, TREND_TEXT, UNIT_LABEL
from kpi.render import footer_lines

# Excel's own form of the display rule: 0 → 0; up to 10 one decimal; above that whole, with separators.
NUMBER_FORMAT = "[=0]0;[<=10]0.0;#,##0"
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
            "suppressed": workbook.add_format({"border": 1, "italic": True, "align": "center"}),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
        }
        for status, colour in STATUS_COLOURS.items():
            formats[status] = workbook.add_format({"border": 1, "bold": True, "bg_color": colour})
        _summary_sheet(workbook, scorecard, formats)
        _table_sheet(workbook, scorecard, formats)
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
        sheet.write_number(n, 1, count, f["number"])
    sheet.write(len(rows) + 4, 0, WITHHELD_LEGEND)
    for n, line in enumerate(footer_lines(scorecard), start=len(rows) + 6):  # warnings, then provenance
        sheet.write(n, 0, line)


def _table_sheet(workbook, scorecard: PublishedScorecard, f: dict) -> None:
    sheet = workbook.add_worksheet("Scorecard")
    results = scorecard.results
    if not results:
        return
    first = results[0]
    months = [m.month.strftime("%b %Y") for m in first.months]
    header = (["Indicator", "Indicator description", "Lead officer", "Service group", "Collected", "What is best", "Measure of unit",
               "Latest England av", f"Latest {scorecard.region or 'region'} av", "Latest stat neighbour",
               first.outturns[0][0], "Same period last year", first.outturns[1][0]]
              + months + ["Numerator", "Denominator", "Trend", "Year-end target", "Performance against target"])
    for c, title in enumerate(header):
        sheet.write(0, c, title, f["head"])
    sheet.set_row(0, 45)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 6, 14)
    sheet.set_column(7, len(header) - 1, 10)
    sheet.set_column(len(header) - 1, len(header) - 1, 24)
    sheet.freeze_panes(1, 2)
    approximation_column = len(header)  # how the source gives a number only approximately; blank when exact
    sheet.write(0, approximation_column, "Approximation", f["head"])
    sheet.set_column(approximation_column, approximation_column, 60)
    for n, r in enumerate(results, start=1):
        i = r.indicator
        texts = [i.id, i.title, i.lead_officer or "", i.service_group, COLLECTED_LABEL[i.collected], POLARITY_LABEL[i.polarity], UNIT_LABEL[i.unit]]
        for c, text in enumerate(texts):
            sheet.write_string(n, c, text, f["text"])
        c = len(texts)
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
        sheet.write_string(n, c + 2, "Error: " + r.error if r.error else STATUS_TEXT[r.target_status], f[r.target_status])
        sheet.write_string(n, approximation_column, r.approximation or "", f["text"])
    sheet.autofilter(0, 0, len(results), approximation_column)


def _number(sheet, row: int, col: int, value: float | None, f: dict) -> None:
    if value is WITHHELD:  # never written as a number
        raise TypeError("a withheld number reached the workbook as a number")
    if value is None:
        sheet.write_string(row, col, "-", f["centre"])
    else:
        sheet.write_number(row, col, value, f["number"])
