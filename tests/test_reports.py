"""The reports a manager reads: the HTML scorecard (checked in headless Chromium) and the Excel
workbook, both holding the JSON output's numbers."""

import os
import re
import shutil
import subprocess

import polars as pl
import pytest

from kpi.assess import display
from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# In CI the browser is installed by .ci/run: a missing browser there is a failure, not a skip.
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from tests.conftest import Kpi

    folder = tmp_path_factory.mktemp("reports")
    kpi = Kpi()
    common = ["compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09"]
    for suffix in ("html", "xlsx"):
        assert kpi(*common, "--output", folder / f"scorecard.{suffix}").exit_code == 0
    return folder, kpi.json(*common)


def chromium(*args, url):
    assert CHROMIUM, "chromium is needed for this test: apt-get install chromium"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={url.split('#')[0].replace('file://', '')}.profile", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_html_is_self_contained(reports):
    folder, _ = reports
    page = (folder / "scorecard.html").read_text()
    assert not re.search(r"(src|href)=\"https?://", page)
    assert "<script>" in page and "<style>" in page


def test_html_shows_every_row_with_the_json_numbers(reports):
    folder, data = reports
    page = (folder / "scorecard.html").read_text()
    for row in data["indicators"]:
        tr = re.search(rf'<tr [^>]*data-id="{re.escape(row["id"])}"[^>]*>(.*?)</tr>', page).group(1)
        assert row["title"] in tr.replace("&#x27;", "'")
        if row["suppressed"]:
            assert "Suppressed due to low numbers" in tr
            assert 'data-trend="not_comparable"' in page.split(tr)[0].rsplit("<tr ", 1)[1]  # the safe default
        else:
            assert f'<td class="n">{display(row["value"])}</td>' in tr
    assert '<td data-count="total">7</td>' in page
    assert '<p class="legend">c: withheld, small numbers.' in page


@needs_chromium
def test_html_loads_in_chromium_without_errors_and_filters_change_rows_and_counts(reports):
    folder, data = reports
    url = f"file://{folder / 'scorecard.html'}"
    everything = chromium("--dump-dom", url=url).stdout
    assert 'data-ready="yes"' in everything and 'data-errors="' not in everything
    assert 'class="hidden"' not in everything

    filtered = chromium("--dump-dom", url=url + "#service_group=Contacts&tier=team").stdout
    assert 'data-errors="' not in filtered
    contacts_team = [r for r in data["indicators"] if r["service_group"] == "Contacts" and r["tier"] == "team"]
    assert re.search(r'data-count="total">(\d+)<', filtered).group(1) == str(len(contacts_team))
    worse = sum(r["trend"] == "worse" for r in contacts_team)
    assert re.search(r'data-count="trend-worse">(\d+)<', filtered).group(1) == str(worse)
    assert len(filtered.split('class="hidden"')) - 1 == len(data["indicators"]) - len(contacts_team)


@needs_chromium
def test_html_screenshot(reports):
    folder, _ = reports
    shot = folder / "scorecard.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1600,900", url=f"file://{folder / 'scorecard.html'}")
    assert shot.exists() and shot.stat().st_size > 10_000, result.stderr


def test_xlsx_holds_the_numbers_as_numbers(reports):
    folder, data = reports
    sheet = pl.read_excel(folder / "scorecard.xlsx", sheet_name="Scorecard", infer_schema_length=0)
    by_id = {row["Indicator"]: row for row in sheet.iter_rows(named=True)}
    assert set(by_id) == {r["id"] for r in data["indicators"]}
    for row in data["indicators"]:
        cell = by_id[row["id"]]["Sep 2017"]
        if row["suppressed"]:
            assert cell == "c"
        else:
            assert float(cell) == pytest.approx(row["value"])
    summary = pl.read_excel(folder / "scorecard.xlsx", sheet_name="Summary", has_header=False)
    counts = dict(zip(summary[:, 0].to_list(), summary[:, 1].to_list()))
    assert counts["Total"] == 7 and counts["Missing target"] == 2
    assert "c: withheld, small numbers" in counts


def test_xlsx_uses_the_display_rule_as_its_number_format():
    from kpi.render_xlsx import NUMBER_FORMAT

    assert NUMBER_FORMAT == "[=0]0;[<=10]0.0;#,##0"


def compute_html(kpi, project, out):
    return kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--output", out)


def test_a_projects_own_template_replaces_the_bundled_page(kpi, project, tmp_path):
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.html.j2").write_text(
        '{% extends "bundled/scorecard.html.j2" %}\n'
        "{% block style %}{{ super() }}\ntable.kpi th{background:#005eb8}\n{% endblock %}\n"
        '{% block header %}<p class="brand">Northtown Council</p>{{ super() }}{% endblock %}\n')
    out = tmp_path / "scorecard.html"
    assert compute_html(kpi, project, out).exit_code == 0
    page = out.read_text()
    assert '<p class="brand">Northtown Council</p><h1>' in page and "table.kpi th{background:#005eb8}" in page
    assert "tr.hidden{display:none}" in page  # the bundled styles, kept by super()
    assert len(re.findall(r'<tr [^>]*data-id="', page)) == 7 and '<td data-count="total">7</td>' in page


def test_a_projects_own_styles_replace_the_bundled_ones(kpi, project, tmp_path):
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.css").write_text("body{font-family:Georgia,serif}\n")
    out = tmp_path / "scorecard.html"
    assert compute_html(kpi, project, out).exit_code == 0
    page = out.read_text()
    assert "body{font-family:Georgia,serif}" in page and "tr.hidden{display:none}" not in page
    assert "data-ready" in page  # the bundled script is still there


def test_a_title_holding_script_is_escaped(kpi, project, tmp_path):
    path = project / "indicators" / "tst_001.yaml"
    path.write_text(path.read_text().replace("title: Referrals received in the month",
                                             "title: '<script>alert(\"x\")</script> & <b>more</b>'"))
    (project / "kpi.toml").write_text('authority_name = "<script>document.title=1</script>"\n')
    out = tmp_path / "scorecard.html"
    assert compute_html(kpi, project, out).exit_code == 0
    page = out.read_text()
    assert page.count("<script>") == 1  # the page's own script only
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;more&lt;/b&gt;" in page
    assert "<h1>&lt;script&gt;document.title=1&lt;/script&gt;: Children&#39;s Key Performance Indicators</h1>" in page


def test_a_broken_project_template_is_named_and_nothing_is_written(kpi, project, tmp_path):
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.html.j2").write_text("<h1>{{ title }}</h1>\n{% if %}\n")
    out = tmp_path / "scorecard.html"
    result = compute_html(kpi, project, out)
    assert result.exit_code == 2
    assert "scorecard.html.j2:2: the scorecard template cannot be used" in result.stderr
    assert not out.exists()


def test_a_template_naming_an_unknown_value_is_an_error(kpi, project, tmp_path):
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.html.j2").write_text("<h1>{{ council_logo }}</h1>\n")
    result = compute_html(kpi, project, tmp_path / "scorecard.html")
    assert result.exit_code == 2 and "scorecard.html.j2:1: the scorecard template cannot be used: 'council_logo' is undefined" in result.stderr


def test_the_re_branding_example_in_the_docs_works(kpi, project, tmp_path):
    text = (REPO / "docs" / "cli.md").read_text()
    example = re.search(r"```jinja\n(.*?)```", text, re.S).group(1)
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.html.j2").write_text(example)
    out = tmp_path / "scorecard.html"
    assert compute_html(kpi, project, out).exit_code == 0
    page = out.read_text()
    assert "Northtown Council: Children's Services</p><h1>" in page
    assert "performance@northtown.gov.uk" in page and "table.kpi th{background:#005eb8}" in page


def test_the_docs_name_every_block_of_the_bundled_page():
    template = (REPO / "kpi" / "templates" / "scorecard.html.j2").read_text()
    blocks = re.findall(r"{% block (\w+) %}", template)
    listed = re.search(r"replaces only the\s+blocks it names \(([^)]*)\)", (REPO / "docs" / "cli.md").read_text()).group(1)
    assert sorted(re.findall(r"`(\w+)`", listed)) == sorted(blocks)
