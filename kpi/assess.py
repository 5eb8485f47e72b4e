"""Turn counts into the scorecard: values by unit, the displayed number, trend against the last
reported value, status against target and the summary counts (SPEC §7), all from the true numbers.

The deciding functions are pure and small; the rules reproduce the seed scorecard exactly (see
docs/rules.md and tests/test_assess.py). No SQL, no output formats, and no disclosure control:
disclosure.py decides what of this scorecard may be published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING, Mapping

from kpi.definitions import Indicator
from kpi.periods import is_reported, previous_reported
from kpi.plan import IndicatorPlan, Plan
from kpi.run import Counts

if TYPE_CHECKING:
    from kpi.provenance import Provenance

SCALE = {"percent": 100.0, "rate_per_10000": 10_000.0}
TREND_SYMBOL = {"better": "↑", "same": "↔", "worse": "↓", "not_comparable": ""}
STATUS_TEXT = {"better": "Better than target", "achieving": "Achieving target", "missing": "Missing target", "no_target": "No target"}


def compute_value(unit: str, numerator: float | None, denominator: float | None) -> float | None:
    """numerator for a count; 100 × n/d for a percent; 10,000 × n/d for a rate. No denominator, no value."""
    if numerator is None:
        return None
    if unit == "count":
        return numerator
    if not denominator:
        return None
    value = SCALE[unit] * numerator / denominator
    # Only counts beyond 10^300 overflow here (run.py refuses sums that are not numbers): no value then.
    return value if math.isfinite(value) else None


def rounded(value: float) -> Decimal:
    """The number as displayed: 0 stays 0; up to 10 one decimal; above 10 a whole number; half up."""
    exact = Decimal(repr(value))
    if exact == 0:
        return Decimal(0)
    places = Decimal("0.1") if abs(exact) <= 10 else Decimal("1")
    # Enough digits for any finite float (up to 309 before the point): quantize never overflows.
    with localcontext() as context:
        context.prec = 400
        return exact.quantize(places, rounding=ROUND_HALF_UP)


def display(value: float | None) -> str:
    """`0`, `0.3`, `10.0`, `11`, `2,542`; `-` when there is no value."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    shown = rounded(value)
    return f"{shown:,.1f}" if abs(Decimal(repr(value))) <= 10 else f"{shown:,.0f}"


def better(polarity: str, a: Decimal | float, b: Decimal | float) -> bool:
    """Whether a is better than b by polarity (bigger or smaller)."""
    return a > b if polarity == "bigger" else a < b


def trend(polarity: str, comparable: bool, current: float | None, previous: float | None) -> str:
    """better | same | worse | not_comparable, comparing the displayed values (SPEC §7)."""
    if polarity == "none" or not comparable or current is None or previous is None:
        return "not_comparable"
    now, before = rounded(current), rounded(previous)
    if now == before:
        return "same"
    return "better" if better(polarity, now, before) else "worse"


def target_status(polarity: str, target: float | None, value: float | None) -> str:
    """better | achieving | missing | no_target, comparing the displayed value with the target (SPEC §7):
    89.97 is shown as `90`, so it achieves a target of 90."""
    if target is None or polarity == "none" or value is None:
        return "no_target"
    shown, goal = rounded(value), Decimal(repr(float(target)))
    if shown == goal:
        return "achieving"
    return "better" if better(polarity, shown, goal) else "missing"


@dataclass(frozen=True)
class MonthResult:
    """One indicator in one month: the true numbers (disclosure.py decides what may be shown)."""

    month: date
    numerator: float | None
    denominator: float | None
    value: float | None
    reported: bool


@dataclass(frozen=True)
class IndicatorResult:
    """One row of the scorecard."""

    indicator: Indicator
    current: MonthResult
    months: tuple[MonthResult, ...]  # the financial year so far
    outturns: tuple[tuple[str, MonthResult], ...]
    same_period_last_year: MonthResult
    trend: str
    target_status: str
    benchmarks: Mapping[str, float | None]
    error: str | None = None
    history: Mapping[date, MonthResult] = field(default_factory=dict, repr=False)
    # Per dimension asked for (--by), in the order asked: its (group, result) pairs, none when the
    # indicator cannot be broken down by it; and then why, in breakdown_errors.
    breakdowns: Mapping[str, tuple[tuple[str, "IndicatorResult"], ...]] = field(default_factory=dict)
    breakdown_errors: Mapping[str, str] = field(default_factory=dict)
    approximation: str | None = None  # how the source gives this number only approximately; None when exact

    @property
    def breakdown(self) -> tuple[tuple[str, "IndicatorResult"], ...] | None:
        """The groups of the first dimension asked for (none without --by): the one-dimension view."""
        return next(iter(self.breakdowns.values()), None)

    @property
    def breakdown_error(self) -> str | None:
        """Why the indicator cannot be broken down by the first dimension asked for, if it cannot."""
        first = next(iter(self.breakdowns), None)
        return self.breakdown_errors.get(first) if first is not None else None


class Dimensions(tuple):
    """The dimensions of a breakdown, in the order asked for (`--by team --by sex`): a tuple of names,
    written as the user writes them (`team, sex`), empty when there is no breakdown."""

    def __new__(cls, names: "Dimensions | tuple[str, ...] | list[str] | str | None" = ()) -> "Dimensions":
        if names is None:
            names = ()
        elif isinstance(names, str):
            names = (names,)
        return super().__new__(cls, names)

    def __str__(self) -> str:
        return ", ".join(self)


@dataclass(frozen=True)
class Summary:
    total: int
    trend: Mapping[str, int]
    target: Mapping[str, int]


@dataclass(frozen=True)
class Scorecard:
    """The assessed scorecard for one reporting month."""

    period: date
    authority: str
    region: str
    results: tuple[IndicatorResult, ...]
    summary: Summary
    by: Dimensions = Dimensions()  # the dimensions of the breakdowns, when asked for
    provenance: "Provenance | None" = None  # what made it (provenance.py), recorded by the pipeline
    # What the reader must know about the data: values the source profile does not map, months partly
    # covered, ids that do not join.
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", Dimensions(self.by))


def month_result(indicator: Indicator, counts: Counts, month: date) -> MonthResult:
    """The numbers of one month; a month with no numerator rows counts 0."""
    if counts.error:
        return MonthResult(month, None, None, None, is_reported(indicator.reported, month))
    numerator = counts.numerator.get(month, 0.0)
    denominator = None
    if counts.denominator is not None:
        denominator = counts.denominator.get(month, 0.0)
    value = compute_value(indicator.unit, numerator, denominator)
    return MonthResult(month, numerator, denominator, value, is_reported(indicator.reported, month))


def assess(
    plan: Plan,
    counts: Mapping[str, Counts],
    benchmarks: Mapping[str, Mapping[str, float]],
    authority: str = "",
    region: str = "",
    by: "Dimensions | tuple[str, ...] | str | None" = (),
    approximations: Mapping[str, str] | None = None,
) -> Scorecard:
    """The scorecard: every indicator's row (with its breakdowns, if counted) and the summary counts;
    `approximations` says, per indicator id, how the source gives its number only approximately."""
    by = Dimensions(by)
    results = []
    for indicator_plan in plan.indicators:
        indicator_counts = counts[indicator_plan.indicator.id]
        result = assess_indicator(plan, indicator_plan, indicator_counts, benchmarks)
        approximation = (approximations or {}).get(indicator_plan.indicator.id) if not indicator_counts.error else None
        if approximation:
            result = replace(result, approximation=approximation)
        if by:
            breakdowns = {
                dimension: tuple((name, replace(assess_indicator(plan, indicator_plan, group, benchmarks), approximation=result.approximation))
                                 for name, group in (indicator_counts.breakdowns.get(dimension) or {}).items())
                for dimension in by
            }
            errors = {d: indicator_counts.breakdown_errors[d] for d in by if d in indicator_counts.breakdown_errors}
            result = replace(result, breakdowns=breakdowns, breakdown_errors=errors)
        results.append(result)
    return Scorecard(plan.current, authority, region, tuple(results), summarise(results), by)


def assess_indicator(
    plan: Plan, indicator_plan: IndicatorPlan, counts: Counts, benchmarks: Mapping[str, Mapping[str, float]],
) -> IndicatorResult:
    """One row of the scorecard from its counts: values, trend against the last reported value, status."""
    indicator = indicator_plan.indicator
    history = {m: month_result(indicator, counts, m) for m in indicator_plan.months}
    current = history[plan.current]
    previous = history.get(previous_reported(indicator.reported, plan.current))
    # From the true values; disclosure.py replaces them next to a withheld value under the `safe` policy.
    current_value = current.value if current.reported else None
    previous_value = previous.value if previous is not None and previous.reported else None
    return IndicatorResult(
        indicator=indicator,
        current=current,
        months=tuple(history[m] for m in plan.scorecard.year_months),
        outturns=tuple((label, history[m]) for label, m in plan.scorecard.outturns),
        same_period_last_year=history[plan.scorecard.same_period_last_year],
        trend=trend(indicator.polarity, indicator.trend == "comparable", current_value, previous_value),
        target_status=target_status(indicator.polarity, indicator.target, current_value),
        benchmarks=benchmarks.get(indicator.id, {}),
        error=counts.error,
        history=history,
    )


def summarise(results: list[IndicatorResult] | tuple[IndicatorResult, ...]) -> Summary:
    """Total, and counts of each trend and each target status."""
    trends = {key: 0 for key in ("better", "same", "worse", "not_comparable")}
    targets = {key: 0 for key in ("better", "achieving", "missing", "no_target")}
    for result in results:
        trends[result.trend] += 1
        targets[result.target_status] += 1
    return Summary(len(results), trends, targets)

