"""Disclosure control (kpi/disclosure.py) holds in every output: no format (table, csv, json, parquet,
xlsx, html) holds a withheld true value or lets one be worked out as the total less the groups shown.

The property test builds Scorecards directly (kpi/assess.py's dataclasses) from random counts,
thresholds, policies, rounding and breakdowns, publishes and renders them to every format, and checks
(1) non-interference: changing the withheld true values changes not one byte of any output, which
covers every rendering of a number (`12`, `12.0`, `1.2`, an aria-label, a script, Parquet metadata);
(2) the arithmetic: in a breakdown, in each of its dimensions (one or two), never exactly one group
withheld beside a shown total, the withheld groups together (the total less the groups shown) never a
small number, and beside a withheld total never every group with a count shown.
"""

from __future__ import annotations

import ast
import json
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi import disclosure
from kpi.assess import IndicatorResult, MonthResult, Scorecard, compute_value, summarise, target_status, trend
from kpi.definitions import Indicator, Sql
from kpi.disclosure import DisclosureRules, publish
from kpi.periods import is_reported, previous_reported
from kpi.render import parquet_table, render
from kpi.render_html import render_html
from kpi.render_xlsx import write_xlsx
from tests.conftest import FIXTURE_EXTRACTS, REPO

PERIOD = date(2017, 9, 1)
YEAR = tuple(date(2017, m, 1) for m in range(4, 10))
OUTTURNS = (("2015/16", date(2016, 3, 1)), ("2016/17", date(2017, 3, 1)))
LAST_YEAR = date(2016, 9, 1)
MONTHS = tuple(sorted({*YEAR, *(m for _, m in OUTTURNS), LAST_YEAR}))
GENERATED = datetime(2017, 10, 2, 9, 0, 0)


def make_indicator(n: int, unit: str, polarity: str, reported: str, threshold: int | None, target: float | None) -> Indicator:
    sql = Sql("SELECT 1 AS month", f"tst_{n:03}.yaml", 1)
    return Indicator(
        id=f"TST {n:03}", title=f"Indicator {n}", tier="team", service_group="Contacts", collected="monthly",
        polarity=polarity, unit=unit, numerator=sql, path=Path(sql.file), denominator=sql if unit == "percent" else None,
        reported=reported, target=None if polarity == "none" else target, suppress_below=threshold,
    )


def make_result(indicator: Indicator, counts: dict[date, tuple[float, float | None]],
                breakdown: tuple[tuple[str, IndicatorResult], ...] | None = None) -> IndicatorResult:
    """An indicator's row as assess.py makes it: true numbers, trend and status from the true values."""
    history = {m: MonthResult(m, n, d, compute_value(indicator.unit, n, d), is_reported(indicator.reported, m))
               for m, (n, d) in counts.items()}
    current, previous = history[PERIOD], history[previous_reported(indicator.reported, PERIOD)]
    now = current.value if current.reported else None
    before = previous.value if previous.reported else None
    return IndicatorResult(
        indicator=indicator, current=current, months=tuple(history[m] for m in YEAR),
        outturns=tuple((label, history[m]) for label, m in OUTTURNS), same_period_last_year=history[LAST_YEAR],
        trend=trend(indicator.polarity, indicator.trend == "comparable", now, before),
        target_status=target_status(indicator.polarity, indicator.target, now),
        benchmarks={"england": 50.5}, history=history, breakdowns={} if breakdown is None else {"team": breakdown},
    )


def group_counts(unit: str):
    """One group's numerator (small numbers often) and denominator, per month."""
    numerator = st.one_of(st.integers(0, 6), st.integers(0, 60))
    month = st.tuples(numerator, st.integers(0, 40)).map(lambda nd: (nd[0], nd[0] + nd[1]) if unit == "percent" else (nd[0], None))
    return st.tuples(*[month] * len(MONTHS)).map(lambda values: dict(zip(MONTHS, values)))


@st.composite
def scorecards(draw):
    results = []
    breakdown = draw(st.booleans())
    second = breakdown and draw(st.booleans())
    for n in range(1, draw(st.integers(1, 3)) + 1):
        unit = draw(st.sampled_from(["count", "percent"]))
        indicator = make_indicator(
            n, unit, draw(st.sampled_from(["bigger", "smaller", "none"])), draw(st.sampled_from(["monthly", "quarterly"])),
            draw(st.one_of(st.none(), st.integers(2, 10))), draw(st.one_of(st.none(), st.sampled_from([1.0, 5.0, 50.0]))),
        )
        groups = draw(st.lists(group_counts(unit), min_size=1, max_size=4)) if breakdown else []
        if groups:  # the groups partition the total, as a breakdown's rows do
            total = {m: (sum(g[m][0] for g in groups), None if unit == "count" else sum(g[m][1] for g in groups)) for m in MONTHS}
            parts = tuple((f"Team {chr(65 + k)}", make_result(indicator, g)) for k, g in enumerate(groups))
            result = make_result(indicator, total, parts)
            if second:  # a second dimension dividing the same total in two
                female, male = {}, {}
                for m in MONTHS:
                    n, d = total[m]
                    a = draw(st.integers(0, n))
                    extra = draw(st.integers(0, d - n)) if d is not None else None
                    female[m] = (a, None if d is None else a + extra)
                    male[m] = (n - a, None if d is None else d - a - extra)
                result = replace(result, breakdowns={**result.breakdowns, "sex": (
                    ("F", make_result(indicator, female)), ("M", make_result(indicator, male)))})
            results.append(result)
        else:
            results.append(make_result(indicator, draw(group_counts(unit))))
    scorecard = Scorecard(PERIOD, "Testshire", "North East", tuple(results), summarise(results),
                          ("team", "sex") if second else ("team",) if breakdown else ())
    rules = DisclosureRules(draw(st.one_of(st.none(), st.integers(2, 10))), draw(st.sampled_from(["safe", "seed"])),
                            draw(st.sampled_from([None, None, 5])))
    return scorecard, rules


def every_output(scorecard: Scorecard, rules: DisclosureRules, folder: Path) -> dict[str, bytes]:
    """The published scorecard in every format, as bytes (the xlsx unzipped, the Parquet file whole)."""
    published = publish(scorecard, rules)
    outputs = {fmt: render(published, fmt).encode() for fmt in ("table", "csv", "json")}
    outputs["html"] = render_html(published, generated=GENERATED).encode()
    parquet = folder / "s.parquet"
    pq.write_table(parquet_table(published), parquet)
    outputs["parquet"] = parquet.read_bytes()
    outputs["parquet metadata"] = str(pq.read_metadata(parquet).to_dict()).encode() + str(pq.read_schema(parquet).metadata).encode()
    workbook = folder / "s.xlsx"
    write_xlsx(published, workbook)
    with zipfile.ZipFile(workbook) as z:  # docProps/core.xml holds the time it was written
        for name in sorted(z.namelist()):
            if name != "docProps/core.xml":
                outputs[f"xlsx {name}"] = z.read(name)
    return outputs


def withheld_cells(scorecard: Scorecard, rules: DisclosureRules) -> set[tuple[str, str | None, date]]:
    """(indicator id, group or None, month) of every withheld month, from the published scorecard."""
    cells = set()
    for result in publish(scorecard, rules).results:
        rows = [(None, result)] + [((dimension, name), group) for dimension, groups in result.breakdowns.items() for name, group in groups]
        for name, row in rows:
            cells |= {(row.indicator.id, name, m.month) for m in row.history if m.withheld}
    return cells


def perturbed(scorecard: Scorecard, rules: DisclosureRules, cells: set) -> Scorecard:
    """The same scorecard with every withheld true value changed, where that leaves what is withheld the
    same: a small numerator moved within 1..threshold-1, a complementary group's numerator moved without
    passing another group's, every withheld denominator changed. Trend and status from assess.py stay as
    they were (under `seed` they are the true values' own, which that policy publishes)."""

    def change(row: IndicatorResult, name: str | None, siblings: list[IndicatorResult]) -> IndicatorResult:
        threshold = disclosure.threshold_of(row.indicator, rules)
        history = dict(row.history)
        for m, month in row.history.items():
            if (row.indicator.id, name, m) not in cells:
                continue
            n, d = month.numerator, month.denominator
            if disclosure.is_suppressed(n, threshold):
                n = n + 1 if n + 1 < threshold else (n - 1 if n > 1 else n)
            elif name is not None:  # a complementary group: stay the smallest of those not small
                bigger = [s.history[m].numerator for s in siblings if s.history[m].numerator > n]
                if not bigger or min(bigger) > n + 1:
                    n = n + 1
            d = None if d is None else d + 3
            history[m] = replace(month, numerator=n, denominator=d, value=compute_value(row.indicator.unit, n, d))
        return replace(row, history=history, current=history[PERIOD], months=tuple(history[m] for m in YEAR),
                       outturns=tuple((label, history[m]) for label, m in OUTTURNS), same_period_last_year=history[LAST_YEAR])

    results = []
    for result in scorecard.results:
        breakdowns = {dimension: tuple(((k, change(g, (dimension, k), [s for _, s in groups])) for k, g in groups))
                      for dimension, groups in result.breakdowns.items()}
        results.append(replace(change(result, None, []), breakdowns=breakdowns))
    return replace(scorecard, results=tuple(results))


def check_nothing_withheld_can_be_read(scorecard: Scorecard, rules: DisclosureRules, folder: Path, keep=assume,
                                       cells: set | None = None) -> None:
    """The two properties of the module docstring, for one scorecard (`keep`: hypothesis's assume;
    `cells`: the cells that should be withheld, by default those publish() withholds)."""
    cells = withheld_cells(scorecard, rules) if cells is None else cells
    other = perturbed(scorecard, rules, cells)
    keep(withheld_cells(other, rules) == withheld_cells(scorecard, rules))
    before, after = every_output(scorecard, rules, folder), every_output(other, rules, folder)
    for name in before:
        assert before[name] == after[name], f"{name} changes with a withheld true value"
    published = {r.indicator.id: r for r in publish(scorecard, rules).results}
    for result in scorecard.results:
        threshold = disclosure.threshold_of(result.indicator, rules)
        for dimension, true_groups in result.breakdowns.items():
            groups = dict(published[result.indicator.id].breakdowns[dimension])
            for m in MONTHS:
                if not groups:
                    continue
                withheld = [name for name, g in groups.items() if g.history[MONTHS.index(m)].withheld]
                if published[result.indicator.id].history[MONTHS.index(m)].withheld:
                    # a withheld total: no dimension's groups, all shown, may add up to it
                    counted = [name for name, g in true_groups if g.history[m].numerator]
                    assert not counted or set(counted) & set(withheld), f"{result.indicator.id} {m}: {dimension} adds up to the total"
                    continue
                if len(withheld) == 1 and threshold is None and sum(m in g.history for _, g in true_groups) == 1:
                    continue  # the month's only group: its number is the total, which kpi.toml lets be shown
                assert len(withheld) != 1, f"{result.indicator.id} {m}: {withheld[0]} is the total less the groups shown"
                every_group = set(withheld) >= {name for name, g in true_groups if m in g.history}
                if withheld and not (threshold is None and every_group):  # (all withheld: they hold the total, shown)
                    # from the true counts of the groups shown: rounding is no protection counted on here
                    rest = result.history[m].numerator - sum(g.history[m].numerator for name, g in true_groups if name not in withheld)
                    assert rest >= disclosure.group_threshold_of(result.indicator, rules), f"{result.indicator.id} {m}: the withheld groups together hold {rest}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scorecards())
def test_no_output_holds_or_gives_away_a_withheld_value(case, tmp_path):
    check_nothing_withheld_can_be_read(*case, tmp_path)


def small_case() -> tuple[Scorecard, DisclosureRules]:
    """TST 001 withheld in September (3 of 98,765, below 5), Team B withheld in it; Team A its complement."""
    indicator = make_indicator(1, "percent", "bigger", "monthly", 5, 50.0)
    a = {m: (40, 80) for m in MONTHS}
    b = {m: (20, 40) for m in MONTHS} | {PERIOD: (3, 98_765)}
    total = {m: (a[m][0] + b[m][0], a[m][1] + b[m][1]) for m in MONTHS}
    second = make_indicator(2, "count", "smaller", "monthly", 5, None)
    alone = make_result(second, {m: (30, None) for m in MONTHS} | {PERIOD: (4, None)})
    results = (make_result(indicator, total, (("Team A", make_result(indicator, a)), ("Team B", make_result(indicator, b)))), alone)
    return Scorecard(PERIOD, "Testshire", "North East", results, summarise(results), "team"), DisclosureRules(policy="safe")


def test_a_withheld_denominator_is_in_no_format(tmp_path):
    scorecard, rules = small_case()
    outputs = every_output(scorecard, rules, tmp_path)
    # Team B's September: 3 of 98,765 (0.003%); Team A's: 40 of 80, its complement
    for name, data in outputs.items():
        for text in ("98765", "98,765", "0.0030375", "3.0375"):
            assert text.encode() not in data, f"{text} in {name}"
    withheld = {(g["group"], tuple(g["withheld"])) for g in json.loads(outputs["json"])["indicators"][0]["breakdowns"]["team"]["groups"]}
    assert withheld == {("Team A", ("value", "numerator", "denominator", "months.2017-09")),
                        ("Team B", ("value", "numerator", "denominator", "months.2017-09"))}


def test_the_checks_fail_when_a_number_leaks(tmp_path, monkeypatch):
    """The property's checks would catch a leak: a withheld value passed through, or no secondary suppression."""
    scorecard, rules = small_case()

    cells = withheld_cells(scorecard, rules)

    def check():
        check_nothing_withheld_can_be_read(scorecard, rules, tmp_path, keep=lambda same: None, cells=cells)

    check()
    real = disclosure._published_month
    # the true numbers of a withheld month reaching the renderers, as if disclosure.py were bypassed
    monkeypatch.setattr(disclosure, "_published_month", lambda unit, month, withheld, round_to: real(unit, month, False, round_to))
    with pytest.raises(AssertionError, match="changes with a withheld true value"):
        check()
    monkeypatch.undo()
    monkeypatch.setattr(disclosure, "_complementary", lambda *args, **kwargs: None)  # no secondary suppression
    with pytest.raises(AssertionError, match="Team B is the total less the groups shown"):
        check_nothing_withheld_can_be_read(scorecard, rules, tmp_path, keep=lambda same: None)


def test_trend_and_status_next_to_a_withheld_value_follow_the_policy():
    scorecard, _ = small_case()
    safe = {r.indicator.id: r for r in publish(scorecard, DisclosureRules(policy="safe")).results}
    seed = {r.indicator.id: r for r in publish(scorecard, DisclosureRules(policy="seed")).results}
    # TST 002: 4 (withheld) against August's 30, smaller is better: the seed's policy says ↑ better
    assert (safe["TST 002"].trend, seed["TST 002"].trend) == ("not_comparable", "better")
    # TST 001's total is shown (63 of 218 against 60 of 120): both policies compare it
    assert safe["TST 001"].trend == seed["TST 001"].trend == "worse"
    groups = dict(safe["TST 001"].breakdown)
    assert groups["Team B"].trend == groups["Team A"].trend == "not_comparable"
    assert groups["Team B"].target_status == "no_target" and dict(seed["TST 001"].breakdown)["Team B"].target_status == "missing"
    assert publish(scorecard, DisclosureRules(policy="safe")).summary.trend["not_comparable"] == 1


def test_every_counted_group_small_fixes_them_so_the_total_is_withheld():
    indicator = make_indicator(1, "count", "bigger", "monthly", 5, None)
    a, b = {m: (4, None) for m in MONTHS}, {m: (4, None) for m in MONTHS}
    total = make_result(indicator, {m: (8, None) for m in MONTHS}, (("A", make_result(indicator, a)), ("B", make_result(indicator, b))))
    card = Scorecard(PERIOD, "", "", (total,), summarise([total]), "team")
    published = publish(card, DisclosureRules()).results[0]
    assert published.current.withheld  # 8 shown would say both are 4
    wider = make_result(indicator, {m: (7, None) for m in MONTHS},
                        (("A", make_result(indicator, {m: (3, None) for m in MONTHS})), ("B", make_result(indicator, a))))
    assert not publish(replace(card, results=(wider,)), DisclosureRules()).results[0].current.withheld  # 3+4 or 4+3


def test_round_to_rounds_counts_before_the_value_is_worked_out():
    indicator = make_indicator(1, "percent", "bigger", "monthly", None, None)
    result = make_result(indicator, {m: (12, 23) for m in MONTHS})
    card = Scorecard(PERIOD, "", "", (result,), summarise([result]))
    current = publish(card, DisclosureRules(round_to=5)).results[0].current
    assert (current.numerator, current.denominator, current.value) == (10, 25, 40)
    assert disclosure.round_count(7.5, 5) == 10 and disclosure.round_count(2, 5) == 0


def test_renderers_take_only_the_published_scorecard():
    scorecard, _ = small_case()
    with pytest.raises(TypeError, match="PublishedScorecard"):
        render(scorecard, "json")
    # and they import nothing from assess.py that carries the true numbers
    allowed = {"STATUS_TEXT", "TREND_SYMBOL", "display"}
    for module in ("render", "render_html", "render_xlsx", "render_text"):
        tree = ast.parse((REPO / "kpi" / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("kpi.assess", "kpi.run", "kpi.pipeline"):
                names = {alias.name for alias in node.names}
                assert node.module == "kpi.assess" and names <= allowed, f"kpi/{module}.py imports {names} from {node.module}"


def test_drill_refuses_a_withheld_number_and_names_the_rule(kpi):
    result = kpi("drill", "TST 007", "--project", REPO / "tests" / "fixtures" / "project", "--data", FIXTURE_EXTRACTS,
                 "--period", "2017-09")
    assert result.exit_code == 2 and result.stdout == ""
    assert "(disclosure control, small numbers): its numerator is above 0 and below 5 (the indicator's suppress_below)" in result.stderr
    assert "--allow-suppressed" in result.stderr


@pytest.mark.parametrize("text, message", [
    ('disclosure_policy = "open"\n', "`disclosure_policy` must be \"safe\" or \"seed\""),
    ("round_to = 0\n", "`round_to` must be a whole number above 0"),
])
def test_bad_disclosure_settings_are_named(kpi, project, text, message):
    (project / "kpi.toml").write_text(text)
    result = kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "json")
    assert result.exit_code == 2 and message in result.stderr


def test_withheld_cells_are_marked_in_csv_table_parquet_and_html(kpi, tmp_path):
    common = ["compute", "--project", REPO / "tests" / "fixtures" / "project", "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
              "--indicators", "TST 007"]
    assert "c: withheld, small numbers" in kpi(*common, "--format", "table").stdout
    page = tmp_path / "s.html"
    assert kpi(*common, "--output", page).exit_code == 0
    assert "c: withheld, small numbers" in page.read_text()
    table = tmp_path / "s.parquet"
    assert kpi(*common, "--output", table).exit_code == 0
    september = [r for r in pq.read_table(table).to_pylist() if r["month"] == PERIOD]
    assert september[0]["suppressed"] is True and september[0]["value"] is None and september[0]["numerator"] is None
    workbook = tmp_path / "s.xlsx"
    assert kpi(*common, "--output", workbook).exit_code == 0
    with zipfile.ZipFile(workbook) as z:
        text = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert "c: withheld, small numbers" in text


def test_round_to_in_kpi_toml_rounds_the_published_counts(kpi, project):
    (project / "kpi.toml").write_text("round_to = 5\n")
    data = kpi.json("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--indicators", "TST 002")
    r = data["indicators"][0]
    assert (r["numerator"], r["denominator"], r["value"]) == (5, 5, 100)  # 3 of 4 (75%), rounded first
    assert r["target_status"] == "better"  # the published 100 against 90, under the safe policy


def test_a_total_withheld_for_one_dimension_is_withheld_in_every_other():
    """Team: two groups of 4 (threshold 5) fix each other once the total 8 is shown, so the total is
    withheld; then sex, 7 and 1, must not give the total back: every sex group with a count is withheld."""
    indicator = make_indicator(1, "count", "bigger", "monthly", 5, None)
    four, seven, one = ({m: (n, None) for m in MONTHS} for n in (4, 7, 1))
    total = replace(make_result(indicator, {m: (8, None) for m in MONTHS}), breakdowns={
        "team": (("A", make_result(indicator, four)), ("B", make_result(indicator, four))),
        "sex": (("F", make_result(indicator, seven)), ("M", make_result(indicator, one))),
    })
    card = Scorecard(PERIOD, "", "", (total,), summarise([total]), ("team", "sex"))
    published = publish(card, DisclosureRules()).results[0]
    assert published.current.withheld
    assert all(g.current.withheld for _, g in published.breakdowns["sex"])
    assert published.breakdown is published.breakdowns["team"]  # the first dimension, as before


def test_each_dimension_has_its_own_complementary_suppression():
    indicator = make_indicator(1, "count", "bigger", "monthly", 5, None)
    counts = {name: {m: (n, None) for m in MONTHS} for name, n in (("A", 2), ("B", 30), ("C", 40), ("F", 36), ("M", 36))}
    total = replace(make_result(indicator, {m: (72, None) for m in MONTHS}), breakdowns={
        "team": tuple((k, make_result(indicator, counts[k])) for k in "ABC"),
        "sex": tuple((k, make_result(indicator, counts[k])) for k in "FM"),
    })
    published = publish(Scorecard(PERIOD, "", "", (total,), summarise([total]), ("team", "sex")), DisclosureRules()).results[0]
    team = {k: g.current.withheld for k, g in published.breakdowns["team"]}
    assert team == {"A": True, "B": True, "C": False}  # A small, B its complement
    assert not any(g.current.withheld for _, g in published.breakdowns["sex"]) and not published.current.withheld
