"""Reporting months, financial years and the window each `collected` mode covers (SPEC §4).

Pure date arithmetic: no I/O, no DuckDB. A month is represented by the date of its first day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

COLLECTED = ("month_end", "monthly", "year_to_date", "quarterly", "rolling_12_months")
QUARTER_END_MONTHS = (3, 6, 9, 12)
# The columns of the `period` relation every indicator query joins (SPEC §5), in order.
PERIOD_COLUMNS = (
    "month", "start_date", "end_date", "snapshot_date", "month_start", "month_end",
    "fy_start", "fy_end", "quarter_start", "quarter_end",
)

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A reporting period that cannot be read."""


# The years the working-day calendar (ref_calendar) covers, and the reporting months within them: a
# scorecard looks back three financial years from its month, and windows reach into the next year.
CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR = 1995, 2045
FIRST_YEAR, LAST_YEAR = CALENDAR_FIRST_YEAR + 3, CALENDAR_LAST_YEAR - 1


def parse_period(text: str) -> date:
    """`2017-09` → date(2017, 9, 1)."""
    match = _PERIOD.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"period {text!r} is not a month: write it as YYYY-MM, e.g. 2017-09")
    year = int(match.group(1))
    # The working-day calendar covers these years, and a scorecard looks back three years from its month.
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"period {text!r} is outside the years kpi can compute ({FIRST_YEAR} to {LAST_YEAR}): check the year")
    return date(year, int(match.group(2)), 1)


def format_period(month: date) -> str:
    """date(2017, 9, 1) → `2017-09`."""
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, n: int) -> date:
    """The first day of the month n months after (or before, when negative) `month`."""
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def last_day(month: date) -> date:
    """The last day of the month."""
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def fy_start(month: date, first_month: int = 4) -> date:
    """The first day of the financial year holding `month` (1 April by default)."""
    year = month.year if month.month >= first_month else month.year - 1
    return date(year, first_month, 1)


def fy_end(month: date, first_month: int = 4) -> date:
    """The last day of the financial year holding `month`."""
    return last_day(add_months(fy_start(month, first_month), 11))


def fy_label(month: date, first_month: int = 4) -> str:
    """`2016/17` for a month of the financial year that starts in 2016 (`2016` when it starts in January)."""
    start = fy_start(month, first_month).year
    if first_month == 1:
        return str(start)
    return f"{start}/{(start + 1) % 100:02d}"


def quarter_start(month: date) -> date:
    """The first day of the calendar quarter holding `month` (Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec)."""
    return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)


def quarter_end(month: date) -> date:
    """The last day of the calendar quarter holding `month`."""
    return last_day(add_months(quarter_start(month), 2))


def is_quarter_end(month: date) -> bool:
    """True for June, September, December and March."""
    return month.month in QUARTER_END_MONTHS


def window(collected: str, month: date, first_month: int = 4) -> tuple[date, date]:
    """The inclusive dates a month's value covers, by `collected`.

    `quarterly` covers the calendar quarter holding the month up to the month's end: the whole quarter
    at a quarter end, the quarter so far in other months.
    """
    end = last_day(month)
    if collected == "month_end":
        return end, end
    if collected == "monthly":
        return month, end
    if collected == "year_to_date":
        return fy_start(month, first_month), end
    if collected == "quarterly":
        return quarter_start(month), end
    if collected == "rolling_12_months":
        return add_months(month, -11), end
    raise ValueError(f"unknown collected mode {collected!r}")


def is_reported(reported: str, month: date) -> bool:
    """Whether a value is shown for `month`: always when reported monthly, at quarter ends when quarterly."""
    return reported != "quarterly" or is_quarter_end(month)


def previous_reported(reported: str, month: date) -> date:
    """The month whose value the trend compares with: the previous month, or the previous quarter end."""
    previous = add_months(month, -1)
    while not is_reported(reported, previous):
        previous = add_months(previous, -1)
    return previous


@dataclass(frozen=True)
class ScorecardMonths:
    """The months a scorecard for one reporting month shows (see the seed's columns)."""

    current: date
    year_months: tuple[date, ...]  # each month of the financial year up to the current one
    outturns: tuple[tuple[str, date], ...]  # (label, March of that year) for the two previous years
    same_period_last_year: date

    def all_months(self, reported: str = "monthly") -> tuple[date, ...]:
        """Every month whose value is needed, including the one the trend compares with."""
        months = {*self.year_months, self.same_period_last_year, previous_reported(reported, self.current)}
        months.update(month for _, month in self.outturns)
        return tuple(sorted(months))


def scorecard_months(current: date, first_month: int = 4) -> ScorecardMonths:
    """The history a scorecard for `current` needs: the year so far, two outturns, last year's month."""
    start = fy_start(current, first_month)
    year_months = tuple(add_months(start, i) for i in range(_months_between(start, current) + 1))
    outturns = tuple(
        (fy_label(add_months(start, -12 * back), first_month), add_months(start, -12 * (back - 1) - 1))
        for back in (2, 1)
    )
    return ScorecardMonths(current, year_months, outturns, add_months(current, -12))


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month
