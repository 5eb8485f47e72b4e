"""The HTML scorecard fits a laptop's screen and paper: measured in headless Chromium on the demo
council's 51 indicators in March, when the table has all twelve months (its widest)."""

import json
import re

import pytest

from tests.test_reports import chromium, needs_chromium

# Written into a copy of the page: the table's edges against the viewport's, once laid out.
MEASURE = ("<script>(function(){var t=document.querySelector('table.kpi').getBoundingClientRect();"
           "document.body.setAttribute('data-measure',JSON.stringify({left:t.left,right:t.right,"
           "viewport:document.documentElement.clientWidth,columns:document.querySelectorAll('table.kpi thead th').length}));"
           "})();</script></body>")


@pytest.fixture(scope="module")
def march(tmp_path_factory):
    """The demo council's scorecard for March 2018 (twelve months), as HTML."""
    from tests.conftest import Kpi

    page = tmp_path_factory.mktemp("layout") / "scorecard.html"
    result = Kpi()("compute", "--period", "2018-03", "--output", page)
    assert result.exit_code == 0, result.stderr
    return page


def measured(page, width: int) -> dict:
    probe = page.with_name(f"measure-{width}.html")
    probe.write_text(page.read_text().replace("</body>", MEASURE, 1))
    dom = chromium("--dump-dom", f"--window-size={width},900", url=f"file://{probe}").stdout
    return json.loads(re.search(r'data-measure="([^"]+)"', dom).group(1).replace("&quot;", '"'))


@needs_chromium
@pytest.mark.parametrize("width", [1366, 1600])
def test_the_whole_table_is_on_a_laptop_screen(march, width):
    box = measured(march, width)
    assert box["columns"] == 30  # twelve months among them
    assert box["left"] >= 0 and box["right"] <= box["viewport"], f"the table ends at {box['right']} px of {box['viewport']}"


@needs_chromium
def test_it_prints_landscape_with_every_column_and_the_heading_row_and_legend_on_every_page(march):
    from pypdf import PdfReader

    pdf = march.with_name("scorecard.pdf")
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url=f"file://{march}")
    pages = PdfReader(pdf).pages
    assert len(pages) > 2  # so that the heading row has to be repeated
    for number, page in enumerate(pages, start=1):
        assert page.mediabox.width > page.mediabox.height, f"page {number} is portrait"
        text = " ".join(page.extract_text().split())  # a heading wraps within its cell
        # the last column's heading: present only when no column is cut off the page's right
        assert "Trend line" in text, f"page {number} lacks the last column"
        assert "Indicator description" in text and "c: withheld, small numbers" in text, f"page {number}"
        assert "↑ better than previously reported" in text


# The workbook, read back as Excel reads it: the XML of each sheet in the zip.
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def workbook_sheets(path) -> tuple[dict, dict, list[str], dict]:
    """Each sheet's XML root by name, the defined names (print titles), the shared strings, and the
    number format of each cell style."""
    import zipfile
    from xml.etree import ElementTree

    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        links = {r.get("Id"): r.get("Target") for r in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        names = [s.get("name") for s in book.iter(f"{MAIN}sheet")]
        sheets = {s.get("name"): ElementTree.fromstring(z.read("xl/" + links[s.get(f"{RELATIONS}id")])) for s in book.iter(f"{MAIN}sheet")}
        defined = {(names[int(d.get("localSheetId"))], d.get("name")): d.text for d in book.iter(f"{MAIN}definedName")}
        strings = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml"))]
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
        formats = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(f"{MAIN}numFmt")}
        formats |= {0: "General", 1: "0"}
        cell_formats = {n: formats.get(int(xf.get("numFmtId")), "?") for n, xf in enumerate(styles.find(f"{MAIN}cellXfs"))}
    return sheets, defined, strings, cell_formats


def cells(sheet, strings) -> dict[str, tuple[str, int]]:
    """Each cell's text (a shared string resolved) and style, by reference (`B4`)."""
    found = {}
    for c in sheet.iter(f"{MAIN}c"):
        value = c.find(f"{MAIN}v")
        text = "" if value is None else value.text
        found[c.get("r")] = (strings[int(text)] if c.get("t") == "s" else text, int(c.get("s", 0)))
    return found


@pytest.fixture(scope="module")
def march_workbook(tmp_path_factory):
    from tests.conftest import Kpi

    path = tmp_path_factory.mktemp("workbook") / "scorecard.xlsx"
    result = Kpi()("compute", "--period", "2018-03", "--output", path)
    assert result.exit_code == 0, result.stderr
    return workbook_sheets(path)


def test_the_workbook_prints_landscape_fitted_to_the_width_with_the_heading_row_on_every_page(march_workbook):
    sheets, defined, _, _ = march_workbook
    table = sheets["Scorecard"]
    setup = table.find(f"{MAIN}pageSetup")
    assert setup.get("orientation") == "landscape" and setup.get("paperSize") == "9"  # A4
    assert setup.get("fitToWidth", "1") == "1" and setup.get("fitToHeight") == "0"  # one page wide, as long as it takes
    assert table.find(f"{MAIN}sheetPr/{MAIN}pageSetUpPr").get("fitToPage") == "1"
    assert defined[("Scorecard", "_xlnm.Print_Titles")] == "Scorecard!$1:$1"


def test_the_summary_counts_are_whole_numbers(march_workbook):
    sheets, _, strings, formats = march_workbook
    summary = cells(sheets["Summary"], strings)
    counts = {summary[f"A{n}"][0]: summary[f"B{n}"] for n in range(4, 13)}
    assert counts["Total"][0] == "51"
    for label, (value, style) in counts.items():
        assert value.isdigit() and formats[style] == "0", f"{label}: {value} shown as {formats[style]}"


def test_each_row_is_tall_enough_for_its_wrapped_title(march_workbook):
    sheets, _, strings, _ = march_workbook
    table = sheets["Scorecard"]
    text = cells(table, strings)
    heights = {int(row.get("r")): float(row.get("ht", 0)) for row in table.iter(f"{MAIN}row")}
    titles = {n: text[f"B{n}"][0] for n in heights if n > 1}
    assert max(len(t) for t in titles.values()) > 120  # some titles need three lines or more
    for n, title in titles.items():
        # the column is 60 characters wide: a title of N characters takes at least N / 60 lines of 15 pt
        assert heights[n] >= 15 * -(-len(title) // 60), f"row {n}: {heights[n]} pt for {title!r}"
