"""The data stage of `kpi validate --data`: a scorecard computed on a council's extracts, checked for
indicators that fail on the data and percentages whose numerator exceeds the denominator in a month.

Reads a scorecard only (the pipeline computes it); knows no particular indicator.
"""

from __future__ import annotations

from kpi.assess import Scorecard
from kpi.issues import Issue
from kpi.periods import format_period


def data_issues(scorecard: Scorecard) -> list[Issue]:
    """Each indicator that failed on the data, and each percentage whose numerator exceeds its
    denominator in any month of its history."""
    issues = []
    for result in scorecard.results:
        indicator = result.indicator
        if result.error:
            issues.append(Issue("run-error", f"{indicator.id} fails on the data: {result.error}", indicator.numerator.file, indicator.numerator.line))
            continue
        if indicator.unit != "percent":
            continue
        over = [m for m in sorted(result.history) if (result.history[m].denominator or 0) < (result.history[m].numerator or 0)]
        if over:
            months = ", ".join(format_period(m) for m in over)
            first = result.history[over[0]]
            issues.append(Issue(
                "numerator-exceeds-denominator",
                f"{indicator.id}: the numerator exceeds the denominator in {months} "
                f"({first.numerator:g} > {first.denominator or 0:g} in {format_period(over[0])})",
                indicator.numerator.file, indicator.numerator.line,
                hint="the numerator should count a subset of the denominator's rows: `kpi drill` shows them",
            ))
    return issues
