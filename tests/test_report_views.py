"""The breakdown views (--by): in the HTML page, each group's own scorecard chosen with a select, and
the equality view (one indicator across sex, ethnicity and age band), both working from file:// with
no server; in the workbook, a sheet per dimension."""

import json
import re
from dataclasses import replace
from datetime import datetime

import polars as pl
import pytest

from kpi.assess import Scorecard, summarise
from kpi.disclosure import DisclosureRules, publish
from kpi.render_html import render_html
from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT
from tests.test_disclosure import MONTHS, PERIOD, make_indicator, make_result
from tests.test_reports import chromium, needs_chromium

COMMON = ["compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09"]

# Run after the page's own script: choose each option of a select in turn, as a user does (a change
# event), and write down the rows then shown and the summary's total.
CHOOSE = """<script>(function(){
  var select=document.querySelector('select[name=%(name)s]');var seen=[];
  function cells(row){return Array.prototype.map.call(row.children,function(c){return c.textContent;});}
  Array.prototype.forEach.call(select.options,function(option){
    select.value=option.value;select.dispatchEvent(new Event('change'));
    var rows=Array.prototype.filter.call(document.querySelectorAll('%(rows)s'),function(r){return r.getClientRects().length>0;});
    seen.push({choice:option.value,total:document.querySelector('[data-count=total]').textContent,
               rows:rows.map(function(r){return {id:r.getAttribute('data-id'),cells:cells(r)};})});
  });
  document.body.setAttribute('data-seen',JSON.stringify(seen));
})();</script></body>"""


def choose_each(page, name: str, rows: str) -> list[dict]:
    """What Chromium shows after choosing each option of the select `name` in turn."""
    probe = page.with_name(f"choose-{name}.html")
    probe.write_text(page.read_text().replace("</body>", CHOOSE % {"name": name, "rows": rows}, 1))
    dom = chromium("--dump-dom", "--window-size=1366,900", url=f"file://{probe}").stdout
    assert 'data-errors="' not in dom
    seen = re.search(r'data-seen="([^"]+)"', dom).group(1)
    return json.loads(seen.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@pytest.fixture(scope="module")
def by_team(tmp_path_factory):
    from tests.conftest import Kpi

    folder = tmp_path_factory.mktemp("views")
    kpi = Kpi()
    for suffix in ("html", "xlsx"):
        result = kpi(*COMMON, "--by", "team", "--output", folder / f"scorecard.{suffix}")
        assert result.exit_code == 0, result.stderr
    return folder, kpi.json(*COMMON, "--by", "team")


def test_without_a_breakdown_the_page_has_no_views(tmp_path, kpi):
    page = tmp_path / "scorecard.html"
    assert kpi(*COMMON, "--output", page).exit_code == 0
    text = page.read_text()
    assert 'name="view"' not in text and "data-view=\"team:" not in text and "equality" not in text.split("<body>")[1].split("<script>")[0]


def team_groups(data) -> dict[str, dict[str, dict]]:
    """Per team, the JSON of each indicator's group for it (indicator id → group)."""
    teams: dict[str, dict[str, dict]] = {}
    for row in data["indicators"]:
        for group in row["breakdowns"]["team"]["groups"]:
            teams.setdefault(group["group"], {})[row["id"]] = group
    return teams


def test_the_page_holds_a_scorecard_per_team_and_no_equality_view_for_teams_alone(by_team):
    folder, data = by_team
    page = (folder / "scorecard.html").read_text()
    teams = team_groups(data)
    assert {"Team A", "Team B", "(none)"} <= set(teams)
    for team, groups in teams.items():
        assert f'<option value="team:{team}">Team: {team}</option>' in page
        body = page.split(f'<tbody data-view="team:{team}" hidden>')[1].split("</tbody>")[0]
        assert len(re.findall(r"<tr ", body)) == len(data["indicators"])  # every indicator, as the whole scorecard
        not_broken_down = [r for r in data["indicators"] if r["breakdowns"]["team"]["error"]]
        assert body.count("Not broken down by team: the numerator returns no column `team`") == len(not_broken_down)
        assert body.count("None of its records are of team") == len(data["indicators"]) - len(not_broken_down) - len(groups)
    assert 'class="kpi equality"' not in page


@needs_chromium
def test_choosing_a_team_shows_its_own_scorecard_and_recounts_the_summary(by_team):
    folder, data = by_team
    seen = {s["choice"]: s for s in choose_each(folder / "scorecard.html", "view", "table.scorecard tbody tr")}
    teams = team_groups(data)
    assert set(seen) == {""} | {f"team:{team}" for team in teams}
    ids = [r["id"] for r in data["indicators"]]
    whole = seen[""]
    assert [r["id"] for r in whole["rows"]] == ids and whole["total"] == str(len(ids))
    heading = re.findall(r'<th class="[^"]*">([^<]*)</th>', (folder / "scorecard.html").read_text()).index("Sep")
    assert [r["cells"][heading] for r in whole["rows"]][:1] == [data["indicators"][0]["display"]]
    for team, groups in teams.items():
        shown = seen[f"team:{team}"]
        assert [r["id"] for r in shown["rows"]] == ids
        assert shown["total"] == str(len(groups))  # the rows with the team's figures, not the notes
        for row in shown["rows"]:
            if row["id"] in groups:
                assert row["cells"][heading] == groups[row["id"]]["display"]  # the team's own number
            else:
                assert row["cells"][-1].startswith(("Not broken down by team", "None of its records are of team"))
    first = data["indicators"][0]["id"]
    a, b = (seen[f"team:{t}"]["rows"][0]["cells"] for t in ("Team A", "Team B"))
    assert first in teams["Team A"] and a != b != whole["rows"][0]["cells"]


@needs_chromium
def test_a_team_can_be_chosen_in_the_address(by_team):
    folder, _ = by_team
    dom = chromium("--dump-dom", url=f"file://{folder / 'scorecard.html'}#view=team:Team%20B").stdout
    assert re.search(r'<tbody data-view="team:Team B">', dom) and re.search(r'<tbody data-view="" hidden="">', dom)
    assert "Showing Team: Team B only" in dom


def test_the_workbook_has_a_sheet_per_dimension_with_each_groups_numbers(by_team):
    folder, data = by_team
    sheet = pl.read_excel(folder / "scorecard.xlsx", sheet_name="By team", infer_schema_length=0)
    first = data["indicators"][0]
    rows = [r for r in sheet.iter_rows(named=True) if r["Indicator"] == first["id"]]
    assert [r["Team"] for r in rows] == [g["group"] for g in first["breakdowns"]["team"]["groups"]]
    for row, group in zip(rows, first["breakdowns"]["team"]["groups"]):
        assert float(row["Sep 2017"]) == pytest.approx(group["value"])
    other = [r for r in sheet.iter_rows(named=True) if r["Indicator"] == data["indicators"][1]["id"]]
    assert len(other) == 1 and other[0]["Lead officer"] and other[0]["Latest England av"].startswith("Not broken down by team")


def equality_scorecard():
    """Two indicators broken down by team, sex, ethnicity and age band (the second not by ethnicity);
    the 5-9 age band small (3, below 5) and so withheld, with a complement."""
    results = []
    for n in (1, 2):
        indicator = make_indicator(n, "count", "bigger", "monthly", 5, None)

        def groups(*parts):
            return tuple((name, make_result(indicator, {m: (count + n, None) for m in MONTHS})) for name, count in parts)

        breakdowns = {"team": groups(("Team A", 40), ("Team B", 20)), "sex": groups(("Female", 31), ("Male", 29)),
                      "ethnicity": groups(("White British", 45), ("Asian", 15)),
                      "age_band": groups(("0-4", 20), ("5-9", 3 - n), ("10-15", 37))}
        errors = {}
        if n == 2:
            breakdowns.pop("ethnicity")
            errors["ethnicity"] = "the numerator returns no child to join ethnicity to"
        total = make_result(indicator, {m: (60 + 2 * n, None) for m in MONTHS})
        results.append(replace(total, breakdowns=breakdowns, breakdown_errors=errors))
    card = Scorecard(PERIOD, "Testshire", "North East", tuple(results), summarise(results), ("team", "sex", "ethnicity", "age_band"))
    return publish(card, DisclosureRules())


@needs_chromium
def test_the_equality_view_shows_the_chosen_indicator_across_sex_ethnicity_and_age_band(tmp_path):
    published = equality_scorecard()
    page = tmp_path / "scorecard.html"
    page.write_text(render_html(published, generated=datetime(2017, 10, 2)))
    seen = {s["choice"]: s for s in choose_each(page, "equality", "table.equality tbody tr")}
    assert set(seen) == {"TST 001", "TST 002"}
    for choice, shown in seen.items():
        texts = [r["cells"] for r in shown["rows"]]
        assert texts[0] == [f"{choice}: Indicator {choice[-1]}"]  # the caption row: the chosen indicator
        assert texts[1][0] == "" and texts[1][1] == "All children"
        labels = [c[0] for c in texts[2:] if c[0] in ("Sex", "Ethnicity", "Age band")]
        assert labels == ["Sex", "Ethnicity", "Age band"]  # in that order, team not among them
        assert not any("Team A" in c for row in texts for c in row)
    first = [r["cells"] for r in seen["TST 001"]["rows"]]
    groups = [c[1] if c[0] in ("Sex", "Ethnicity", "Age band") else c[0] for c in first[2:]]
    assert groups == ["Female", "Male", "White British", "Asian", "0-4", "5-9", "10-15"]
    five_to_nine = next(c for c in first if "5-9" in c)
    assert "c" in five_to_nine and "3" not in five_to_nine[1:]  # withheld, and its 3 nowhere in the row
    second = [r["cells"] for r in seen["TST 002"]["rows"]]
    assert ["Ethnicity", "Not broken down by ethnicity: the numerator returns no child to join ethnicity to"] in second


def test_the_equality_view_is_there_only_with_a_characteristic_of_the_child(tmp_path):
    published = equality_scorecard()
    assert 'class="kpi equality"' in render_html(published)
    teams_only = replace(published, by=("team",))
    assert 'class="kpi equality"' not in render_html(teams_only) and 'data-view="team:Team A"' in render_html(teams_only)


@needs_chromium
def test_a_councils_own_table_block_without_views_is_still_counted(kpi, project, tmp_path):
    (project / "templates").mkdir()
    (project / "templates" / "scorecard.html.j2").write_text(
        '{% extends "bundled/scorecard.html.j2" %}\n'
        '{% block table %}<table class="kpi"><tbody>{% for row in rows %}<tr data-id="{{ row.id }}" data-trend="{{ row.trend }}"'
        ' data-status="{{ row.status }}"><td>{{ row.title }}</td></tr>{% endfor %}</tbody></table>{% endblock %}\n')
    page = tmp_path / "scorecard.html"
    assert kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--output", page).exit_code == 0
    dom = chromium("--dump-dom", url=f"file://{page}").stdout
    assert 'data-ready="yes"' in dom and '<td data-count="total">7</td>' in dom and "hidden=" not in dom.split("<tbody")[1][:20]


def test_the_groups_come_in_the_order_of_the_indicator_with_most_of_them():
    """Age bands by age, not as first seen: the first indicator has only the 10 to 15 band."""
    results = []
    for n, bands in ((1, ("10 to 15",)), (2, ("1 to 4", "5 to 9", "10 to 15", "(none)"))):
        indicator = make_indicator(n, "count", "bigger", "monthly", None, None)
        groups = tuple((band, make_result(indicator, {m: (10, None) for m in MONTHS})) for band in bands)
        total = make_result(indicator, {m: (10 * len(bands), None) for m in MONTHS})
        results.append(replace(total, breakdowns={"age_band": groups}))
    page = render_html(publish(Scorecard(PERIOD, "", "", tuple(results), summarise(results), ("age_band",)), DisclosureRules()))
    assert re.findall(r'<option value="age_band:([^"]+)">', page) == ["1 to 4", "5 to 9", "10 to 15", "(none)"]
