"""The main job end to end: `kpi compute --period 2017-09` on the embedded demo council, the same numbers
from the demo's extracts written out as CSV and Parquet, drill-downs that add up to every number, and
the HTML scorecard holding the JSON's numbers."""

import json
import re

import pytest

from kpi import pipeline
from kpi.assess import display
from kpi.config import open_project
from kpi.drill import drill
from kpi.issues import KpiError
from kpi.periods import parse_period
from kpi.plan import plan_scorecard
from kpi.run import run_indicator
from tests.conftest import REPO, Kpi

# The bundled indicators: the seed's 51, and any a council adds to this repository.
BUNDLED = len(list((REPO / "indicators").glob("*.yaml")))


@pytest.fixture(scope="module")
def embedded():
    return Kpi().json("compute", "--period", "2017-09", "--project", REPO)


def test_the_scorecard_has_a_row_for_each_indicator_with_values_and_no_errors(embedded):
    rows = embedded["indicators"]
    assert len(rows) == BUNDLED and embedded["summary"]["total"] == BUNDLED
    assert [r["id"] for r in rows if r["error"]] == []
    # every row has a current value, except those withheld for small numbers
    assert all(r["value"] is not None or r["suppressed"] for r in rows)
    assert sum(embedded["summary"]["trend"].values()) == BUNDLED and sum(embedded["summary"]["target"].values()) == BUNDLED
    assert all(len(r["months"]) == 6 and set(r["outturns"]) == {"2015/16", "2016/17"} for r in rows)
    benchmarked = {r["id"] for r in rows if r["benchmarks"]["england"] is not None}
    assert len(benchmarked) == 16 and "CSC 038" in benchmarked


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_demo_written_out_gives_the_same_numbers(embedded, tmp_path, fmt):
    kpi = Kpi()
    assert kpi("demo", "--out", tmp_path, "--format", fmt).exit_code == 0
    assert (tmp_path / f"ssd_contacts.{fmt}").exists()
    from_files = kpi.json("compute", "--period", "2017-09", "--project", REPO, "--data", tmp_path)
    assert from_files["indicators"] == embedded["indicators"] and from_files["summary"] == embedded["summary"]
    # a council's own files are not called the demo council unless kpi.toml says so
    assert embedded["authority"] == "Demo Council" and from_files["authority"] is None


@pytest.fixture(scope="module")
def demo_run():
    project = open_project(REPO)
    definitions = pipeline.load_definitions(project)
    month = parse_period("2017-09")
    plan = plan_scorecard(definitions.indicators, month, list(definitions.shared), definitions.tables)
    con = pipeline.open_database(definitions, plan, None)
    yield con, plan, month
    con.close()


def test_drill_rows_add_up_to_every_numerator_and_denominator(demo_run):
    con, plan, month = demo_run
    for indicator_plan in plan.indicators:
        counts = run_indicator(con, indicator_plan)
        for part, measured in (("numerator", counts.numerator), ("denominator", counts.denominator)):
            if measured is None:
                continue
            rows = drill(con, indicator_plan, month, part)
            if "value" in rows.columns:
                total = sum(row[rows.columns.index("value")] or 0 for row in rows.rows)
            else:
                total = len(rows.rows)
            assert total == measured.get(month, 0), (indicator_plan.indicator.id, part)
        if indicator_plan.indicator.unit == "percent":
            try:
                excluded = drill(con, indicator_plan, month, "excluded")
            except KpiError as error:
                assert "share no column but `month`" in str(error)  # e.g. referrals over communications
                continue
            assert len(excluded.rows) == counts.denominator.get(month, 0) - counts.numerator.get(month, 0), indicator_plan.indicator.id


def test_the_html_scorecard_shows_every_row_with_the_json_numbers(embedded, tmp_path):
    out = tmp_path / "scorecard.html"
    assert Kpi()("compute", "--period", "2017-09", "--project", REPO, "--output", out).exit_code == 0
    page = out.read_text()
    rows = re.findall(r'<tr [^>]*data-id="([^"]+)"[^>]*>(.*?)</tr>', page)
    assert len(rows) == BUNDLED
    for (indicator_id, html), row in zip(rows, embedded["indicators"]):
        assert indicator_id == row["id"]
        if not row["suppressed"]:
            assert f'<td class="n">{display(row["value"])}</td>' in html, indicator_id
    for key, count in embedded["summary"]["trend"].items():
        assert f'<td data-count="trend-{key}">{count}</td>' in page
    for key, count in embedded["summary"]["target"].items():
        assert f'<td data-count="target-{key}">{count}</td>' in page


def test_the_readme_command_works_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no indicators/ here: the definitions installed with the package are used
    result = Kpi()("compute", "--period", "2017-09", "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["indicators"]) == BUNDLED


def test_the_demo_is_cached_and_the_cache_gives_the_same_numbers(embedded, tmp_path, monkeypatch):
    from kpi.demo import cache as demo_cache

    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path))
    first = Kpi().json("compute", "--period", "2017-09", "--project", REPO)
    cached = demo_cache.cache_file(1)
    assert cached.parent == tmp_path and cached.is_file()
    assert Kpi().json("compute", "--period", "2017-09", "--project", REPO) == first == embedded

    cached.write_bytes(b"not a database")  # a damaged cache is regenerated, never trusted
    assert Kpi().json("compute", "--period", "2017-09", "--project", REPO) == embedded


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    from kpi.demo import cache as demo_cache

    monkeypatch.setenv("KPI_NO_CACHE", "1")
    assert demo_cache.cache_file(1) is None
