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
