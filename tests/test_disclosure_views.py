"""Disclosure control holds in the breakdown views too: the HTML's group scorecards and equality view,
and the workbook's sheet per dimension. As in tests/test_disclosure.py, changing the withheld true
values of a scorecard broken down by several dimensions (team and the child's characteristics) changes
not one byte of any output."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi import disclosure
from kpi.assess import IndicatorResult, Scorecard, compute_value, summarise
from kpi.disclosure import DisclosureRules, publish
from tests.test_disclosure import LAST_YEAR, MONTHS, OUTTURNS, PERIOD, YEAR, every_output, group_counts, make_indicator, make_result

DIMENSIONS = ("team", "sex", "ethnicity", "age_band")


def merged(indicator, groups: list[dict], assignment: list[int]) -> tuple[tuple[str, IndicatorResult], ...]:
    """Another dimension's groups from the first's: group k of the first joins group assignment[k], so
    that every dimension partitions the same total."""
    merged_counts: dict[int, dict[date, tuple]] = {}
    for counts, target in zip(groups, assignment):
        into = merged_counts.setdefault(target, {m: (0, None if counts[m][1] is None else 0) for m in MONTHS})
        for m in MONTHS:
            n, d = counts[m]
            into[m] = (into[m][0] + n, None if d is None else into[m][1] + d)
    return tuple((f"G{target}", make_result(indicator, counts)) for target, counts in sorted(merged_counts.items()))


@st.composite
def scorecards_by_dimensions(draw):
    dimensions = tuple(draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=3, unique=True)))
    results = []
    for n in range(1, draw(st.integers(1, 2)) + 1):
        unit = draw(st.sampled_from(["count", "percent"]))
        indicator = make_indicator(n, unit, draw(st.sampled_from(["bigger", "smaller"])), draw(st.sampled_from(["monthly", "quarterly"])),
                                   draw(st.one_of(st.none(), st.integers(2, 10))), draw(st.sampled_from([None, 5.0, 50.0])))
        groups = draw(st.lists(group_counts(unit), min_size=1, max_size=4))
        total = {m: (sum(g[m][0] for g in groups), None if unit == "count" else sum(g[m][1] for g in groups)) for m in MONTHS}
        breakdowns, errors = {}, {}
        for k, dimension in enumerate(dimensions):
            if k and draw(st.booleans()) and draw(st.booleans()):  # now and then one it cannot be broken down by
                errors[dimension] = f"the numerator returns no column `{dimension}` to break it down by"
                continue
            assignment = list(range(len(groups))) if k == 0 else draw(st.lists(st.integers(0, 2), min_size=len(groups), max_size=len(groups)))
            breakdowns[dimension] = merged(indicator, groups, assignment)
        results.append(replace(make_result(indicator, total), breakdowns=breakdowns, breakdown_errors=errors))
    scorecard = Scorecard(PERIOD, "Testshire", "North East", tuple(results), summarise(results), dimensions)
    rules = DisclosureRules(draw(st.one_of(st.none(), st.integers(2, 10))), draw(st.sampled_from(["safe", "seed"])),
                            draw(st.sampled_from([None, None, 5])))
    return scorecard, rules


def withheld_cells(scorecard: Scorecard, rules: DisclosureRules) -> set[tuple]:
    """(indicator id, dimension or None, group or None, month) of every withheld month."""
    cells = set()
    for result in publish(scorecard, rules).results:
        cells |= {(result.indicator.id, None, None, m.month) for m in result.history if m.withheld}
        for dimension, groups in result.breakdowns.items():
            for name, row in groups:
                cells |= {(row.indicator.id, dimension, name, m.month) for m in row.history if m.withheld}
    return cells


def perturbed(scorecard: Scorecard, rules: DisclosureRules, cells: set) -> Scorecard:
    """Every withheld true value changed as tests/test_disclosure.py's perturbed() changes it, in every
    dimension: a small numerator within 1..threshold-1, a complementary group's without passing another
    group's, every withheld denominator."""

    def change(row: IndicatorResult, key: tuple, siblings: list[IndicatorResult]) -> IndicatorResult:
        threshold = disclosure.threshold_of(row.indicator, rules)
        history = dict(row.history)
        for m, month in row.history.items():
            if (row.indicator.id, *key, m) not in cells:
                continue
            n, d = month.numerator, month.denominator
            if disclosure.is_suppressed(n, threshold):
                n = n + 1 if n + 1 < threshold else (n - 1 if n > 1 else n)
            elif key[0] is not None:
                bigger = [s.history[m].numerator for s in siblings if s.history[m].numerator > n]
                if not bigger or min(bigger) > n + 1:
                    n = n + 1
            d = None if d is None else d + 3
            history[m] = replace(month, numerator=n, denominator=d, value=compute_value(row.indicator.unit, n, d))
        return replace(row, history=history, current=history[PERIOD], months=tuple(history[m] for m in YEAR),
                       outturns=tuple((label, history[m]) for label, m in OUTTURNS), same_period_last_year=history[LAST_YEAR])

    results = []
    for result in scorecard.results:
        breakdowns = {dimension: tuple((name, change(g, (dimension, name), [s for _, s in groups])) for name, g in groups)
                      for dimension, groups in result.breakdowns.items()}
        results.append(replace(change(result, (None, None), []), breakdowns=breakdowns))
    return replace(scorecard, results=tuple(results))


def check_views_hold_nothing_withheld(scorecard: Scorecard, rules: DisclosureRules, folder, keep=assume, cells=None) -> None:
    """The property for one scorecard (`keep`: hypothesis's assume, for perturbations that would change
    what is withheld; `cells`: those that should be withheld, by default those publish() withholds)."""
    cells = withheld_cells(scorecard, rules) if cells is None else cells
    other = perturbed(scorecard, rules, cells)
    keep(withheld_cells(other, rules) == cells)
    before, after = every_output(scorecard, rules, folder), every_output(other, rules, folder)
    page, book = before["html"].decode(), before["xlsx xl/workbook.xml"].decode()
    for dimension in scorecard.by:  # the views are in the page, and a sheet per dimension in the workbook
        if any(r.breakdowns.get(dimension) for r in scorecard.results):
            assert f'data-view="{dimension}:' in page
        assert f'name="By {dimension.replace("_", " ")}"' in book
    assert ('class="kpi equality"' in page) == any(d in scorecard.by for d in ("sex", "ethnicity", "age_band"))
    for name in before:
        assert before[name] == after[name], f"{name} changes with a withheld true value"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scorecards_by_dimensions())
def test_no_view_of_a_breakdown_holds_a_withheld_value(case, tmp_path):
    check_views_hold_nothing_withheld(*case, tmp_path)


def test_the_check_fails_when_a_view_shows_a_withheld_value(tmp_path, monkeypatch):
    """Team A's 3 (below 5) withheld, Team B its complement; by sex nothing small. Were disclosure.py
    bypassed, the check would see it in the views."""
    indicator = make_indicator(1, "count", "bigger", "monthly", 5, None)
    counts = {name: {m: (n, None) for m in MONTHS} for name, n in (("A", 3), ("B", 40), ("C", 50), ("F", 43), ("M", 50))}
    total = replace(make_result(indicator, {m: (93, None) for m in MONTHS}), breakdowns={
        "team": tuple((k, make_result(indicator, counts[k])) for k in "ABC"),
        "sex": tuple((k, make_result(indicator, counts[k])) for k in "FM"),
    })
    scorecard = Scorecard(PERIOD, "", "", (total,), summarise([total]), ("team", "sex"))
    cells = withheld_cells(scorecard, DisclosureRules())
    assert ("TST 001", "team", "A", PERIOD) in cells and ("TST 001", "team", "B", PERIOD) in cells
    check_views_hold_nothing_withheld(scorecard, DisclosureRules(), tmp_path, keep=lambda same: None)
    real = disclosure._published_month
    monkeypatch.setattr(disclosure, "_published_month", lambda unit, month, withheld, round_to: real(unit, month, False, round_to))
    with pytest.raises(AssertionError, match="changes with a withheld true value"):
        check_views_hold_nothing_withheld(scorecard, DisclosureRules(), tmp_path, keep=lambda same: None, cells=cells)
