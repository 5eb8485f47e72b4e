"""What of an assessed scorecard may be published (SPEC §7, disclosure control): the one place that
decides. Small numbers are withheld; in a breakdown, other groups are withheld with them so that no
withheld number follows from the total; counts are rounded if asked; trend and status next to a
withheld value follow the configured policy. Renderers read only the PublishedScorecard made here.

The policy follows the statistical disclosure control of official statistics: the DfE's children's
social care releases (small counts, typically 1 to 5, and figures derived from them shown `c`, with
secondary suppression so that they cannot be worked out from totals; some tables rounded) and
the ONS's disclosure control guidance for tables (primary suppression of small cells, complementary
suppression of at least one further cell in each dimension, rounding). See docs/rules.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from kpi.assess import (Dimensions, IndicatorResult, MonthResult, Scorecard, Summary, compute_value, summarise, target_status,
                         trend)
from kpi.definitions import Indicator
from kpi.periods import previous_reported

POLICIES = ("safe", "seed")
WITHHELD_TEXT = "Suppressed due to low numbers"  # the seed's words, where a row has room for them
WITHHELD_MARK = "c"  # as in DfE and ONS tables
WITHHELD_LEGEND = "c: withheld, small numbers"
APPROXIMATE_MARK = "≈"  # beside an indicator whose source gives its number only approximately; a note says how


class Withheld:
    """The marker a published number holds in place of a true value it may not show."""

    _instance: "Withheld | None" = None

    def __new__(cls) -> "Withheld":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "WITHHELD"

    def __bool__(self) -> bool:
        return False


WITHHELD = Withheld()
Published = float | None | Withheld


if TYPE_CHECKING:
    from kpi.provenance import Provenance


@dataclass(frozen=True)
class DisclosureRules:
    """The council's settings: the default threshold, the policy for trend and status, rounding."""

    suppress_below: int | None = None  # an indicator's own suppress_below comes first
    policy: str = "safe"
    round_to: int | None = None
    breakdown_suppress_below: int | None = 5  # the groups' threshold when neither suppress_below is set


@dataclass(frozen=True)
class PublishedMonth:
    """One indicator (or group) in one month as it may be published: numbers, or WITHHELD."""

    month: date
    reported: bool
    numerator: Published
    denominator: Published
    value: Published

    @property
    def withheld(self) -> bool:
        return self.value is WITHHELD

    @property
    def shown(self) -> float | None:
        """The value a scorecard prints: none when the month is not reported or is withheld."""
        return None if not self.reported or self.value is WITHHELD else self.value


@dataclass(frozen=True)
class PublishedIndicator:
    """One row of the published scorecard (or one group of its breakdown)."""

    indicator: Indicator
    current: PublishedMonth
    months: tuple[PublishedMonth, ...]  # the financial year so far
    outturns: tuple[tuple[str, PublishedMonth], ...]
    same_period_last_year: PublishedMonth
    history: tuple[PublishedMonth, ...]  # every month computed, in order (the Parquet long form)
    trend: str
    target_status: str
    benchmarks: Mapping[str, float | None]
    error: str | None = None
    # As IndicatorResult's: per dimension in the order asked, its groups; why one cannot be had.
    breakdowns: Mapping[str, tuple[tuple[str, "PublishedIndicator"], ...]] = field(default_factory=dict)
    breakdown_errors: Mapping[str, str] = field(default_factory=dict)
    approximation: str | None = None  # how the source gives this number only approximately; None when exact

    @property
    def breakdown(self) -> tuple[tuple[str, "PublishedIndicator"], ...] | None:
        """The groups of the first dimension asked for (none without --by): the one-dimension view."""
        return next(iter(self.breakdowns.values()), None)

    @property
    def breakdown_error(self) -> str | None:
        """Why the indicator cannot be broken down by the first dimension asked for, if it cannot."""
        first = next(iter(self.breakdowns), None)
        return self.breakdown_errors.get(first) if first is not None else None


@dataclass(frozen=True)
class PublishedScorecard:
    """The scorecard as it may be published: what every renderer receives."""

    period: date
    authority: str
    region: str
    results: tuple[PublishedIndicator, ...]
    summary: Summary
    by: Dimensions = Dimensions()  # the dimensions of the breakdowns, in the order asked for
    policy: str = "safe"
    round_to: int | None = None
    warnings: tuple[str, ...] = ()  # about the data, as the pipeline found them (no numbers of children)
    provenance: "Provenance | None" = None  # what made it: definitions, the files read, when

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", Dimensions(self.by))


def is_suppressed(numerator: float | None, threshold: int | None) -> bool:
    """Primary suppression: withhold a number whose numerator is above 0 and below the threshold."""
    return threshold is not None and numerator is not None and 0 < numerator < threshold


def threshold_of(indicator: Indicator, rules: DisclosureRules) -> int | None:
    """The indicator's own suppress_below, else the configured default."""
    return indicator.suppress_below if indicator.suppress_below is not None else rules.suppress_below


def group_threshold_of(indicator: Indicator, rules: DisclosureRules) -> int | None:
    """The threshold of a breakdown's groups: the indicator's or kpi.toml's suppress_below, else
    breakdown_suppress_below (groups are small far more often than totals)."""
    threshold = threshold_of(indicator, rules)
    return threshold if threshold is not None else (rules.breakdown_suppress_below or None)


def withheld_reason(indicator: Indicator, month: MonthResult, rules: DisclosureRules) -> str | None:
    """Why a month's number is withheld (for `kpi drill`'s refusal), or none when it may be shown."""
    threshold = threshold_of(indicator, rules)
    if not is_suppressed(month.numerator, threshold):
        return None
    source = "the indicator's suppress_below" if indicator.suppress_below is not None else "suppress_below in kpi.toml"
    return f"its numerator is above 0 and below {threshold} ({source})"


def round_count(count: float | None, base: int | None) -> float | None:
    """A count rounded half up to the nearest multiple of `base` (none: as it is)."""
    if count is None or not base:
        return count
    steps = (Decimal(repr(float(count))) / base).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(steps * base)


def publish(scorecard: Scorecard, rules: DisclosureRules) -> PublishedScorecard:
    """The scorecard as it may be published under `rules`, with the summary counts of what is shown."""
    if rules.policy not in POLICIES:
        raise ValueError(f"unknown disclosure policy {rules.policy!r}")
    results = tuple(_publish_result(scorecard.period, result, rules) for result in scorecard.results)
    return PublishedScorecard(scorecard.period, scorecard.authority, scorecard.region, results, summarise(results),
                              scorecard.by, rules.policy, rules.round_to, scorecard.warnings, scorecard.provenance)


def _publish_result(period: date, result: IndicatorResult, rules: DisclosureRules) -> PublishedIndicator:
    """One row as it may be published. The groups of each dimension partition the total, so each
    dimension gets its own secondary suppression. A total withheld (small, or for one dimension's sake)
    is withheld in every dimension: there every group with a count is withheld too, or the groups of
    another dimension, all shown, would add up to it."""
    threshold = threshold_of(result.indicator, rules)
    withheld = {m for m, month in result.history.items() if is_suppressed(month.numerator, threshold)}
    group_threshold = group_threshold_of(result.indicator, rules)
    group_withheld = {
        dimension: {name: {m for m, month in group.history.items() if is_suppressed(month.numerator, group_threshold)}
                    for name, group in groups}
        for dimension, groups in result.breakdowns.items()
    }
    for dimension, groups in result.breakdowns.items():
        for month in result.history:
            if groups and month not in withheld:
                _complementary(month, result, groups, group_withheld[dimension], withheld, group_threshold,
                               total_may_be_withheld=threshold is not None)
    for dimension, groups in result.breakdowns.items():
        for name, group in groups:
            group_withheld[dimension][name] |= {m for m in withheld if m in group.history and (group.history[m].numerator or 0) > 0}
    published = _published_row(period, result, withheld, rules)
    if not result.breakdowns:
        return published
    return replace(published, breakdowns={
        dimension: tuple((name, _published_row(period, group, group_withheld[dimension][name], rules)) for name, group in groups)
        for dimension, groups in result.breakdowns.items()
    }, breakdown_errors=dict(result.breakdown_errors))


def _complementary(
    month: date, total: IndicatorResult, groups: tuple[tuple[str, IndicatorResult], ...],
    group_withheld: dict[str, set[date]], total_withheld: set[date], threshold: int | None,
    total_may_be_withheld: bool = True,
) -> None:
    """Secondary suppression for one month whose total is shown: when a group is withheld, so that the
    total minus the groups shown gives no single withheld group's numbers, also withhold the smallest
    group that is not itself small (its numerator is at least the threshold, so the withheld groups
    together are not a small number). When every group with a count is small, and the total with the
    groups shown would fix one of them (e.g. two groups of 4 below a threshold of 5 in a total of 8),
    the total is withheld too; or, when the total is not the groups' to withhold (no suppress_below
    applies to it, only breakdown_suppress_below to the groups), every group of the month is, zeros
    included, so that the breakdown leaves the scorecard's own numbers as they are."""
    primary = [name for name, _ in groups if month in group_withheld[name]]
    if not primary:
        return
    others = [(group.history[month], name) for name, group in groups
              if name not in primary and month in group.history and (group.history[month].numerator or 0) > 0]
    if others:
        smallest = min(others, key=lambda o: (o[0].numerator, o[0].denominator or 0, o[1]))
        group_withheld[smallest[1]].add(month)
        return
    # Every counted group is small: the attacker knows each lies in 1..threshold-1 and they sum to the total.
    count, small = total.history[month].numerator or 0, len(primary)
    top = (threshold or 1) - 1
    lowest, highest = max(1, count - (small - 1) * top), min(top, count - (small - 1))
    if lowest >= highest:
        if total_may_be_withheld:
            total_withheld.add(month)
        else:
            for name, group in groups:
                if month in group.history:
                    group_withheld[name].add(month)


def _published_row(period: date, result: IndicatorResult, withheld: set[date], rules: DisclosureRules) -> PublishedIndicator:
    indicator = result.indicator
    history = {m: _published_month(indicator.unit, month, m in withheld, rules.round_to) for m, month in result.history.items()}
    current = history[period]
    trend_now, status_now = result.trend, result.target_status
    if rules.policy == "safe":
        # Trend and status from the published values only: they then reveal nothing the table does not.
        previous = history.get(previous_reported(indicator.reported, period))
        now_shown = current.shown
        before_shown = previous.shown if previous is not None else None
        if current.withheld or (previous is not None and previous.withheld) or rules.round_to:
            trend_now = trend(indicator.polarity, indicator.trend == "comparable", now_shown, before_shown)
        if current.withheld or rules.round_to:
            status_now = target_status(indicator.polarity, indicator.target, now_shown)
    return PublishedIndicator(
        indicator=indicator,
        current=current,
        months=tuple(history[m.month] for m in result.months),
        outturns=tuple((label, history[m.month]) for label, m in result.outturns),
        same_period_last_year=history[result.same_period_last_year.month],
        history=tuple(history[m] for m in sorted(history)),
        trend=trend_now,
        target_status=status_now,
        benchmarks=result.benchmarks,
        error=result.error,
        approximation=result.approximation,
    )


def _published_month(unit: str, month: MonthResult, withheld: bool, round_to: int | None) -> PublishedMonth:
    if withheld:
        return PublishedMonth(month.month, month.reported, WITHHELD, WITHHELD, WITHHELD)
    if not round_to or month.numerator is None:
        return PublishedMonth(month.month, month.reported, month.numerator, month.denominator, month.value)
    # Rounded counts first, then the value from them, as published tables derive their rates.
    numerator, denominator = round_count(month.numerator, round_to), round_count(month.denominator, round_to)
    return PublishedMonth(month.month, month.reported, numerator, denominator, compute_value(unit, numerator, denominator))
