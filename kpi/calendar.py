"""The working-day calendar (`ref_calendar`) behind the working_days() and add_working_days() macros.

Monday to Friday, less England and Wales bank holidays (the `holidays` package) and any configured
closure days. Builds the rows only; the macros themselves live in queries/macros.sql.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from kpi.periods import CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR


def non_working_days(first_year: int, last_year: int, closure_days: tuple[date, ...] = ()) -> frozenset[date]:
    """Bank holidays of England and Wales in the years given, plus the council's closure days."""
    return bank_holidays(first_year, last_year) | frozenset(closure_days)


@lru_cache(maxsize=4)
def bank_holidays(first_year: int = CALENDAR_FIRST_YEAR, last_year: int = CALENDAR_LAST_YEAR) -> frozenset[date]:
    """England and Wales bank holidays (computed once per process: it is the slow part of a small run)."""
    import holidays  # here, not above: `kpi validate` binds SQL on an empty calendar and never needs it

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1)))


def is_working_day(day: date, closed: set[date]) -> bool:
    """A weekday that is neither a bank holiday nor a closure day."""
    return day.weekday() < 5 and day not in closed


def working_days(a: date, b: date, closed: set[date]) -> int:
    """The number of working days d with a < d <= b (negative when b is before a).

    The reference implementation the SQL macro is tested against.
    """
    if b < a:
        return -working_days(b, a, closed)
    return sum(is_working_day(a + timedelta(days=i), closed) for i in range(1, (b - a).days + 1))


def calendar_sql(first_year: int = CALENDAR_FIRST_YEAR, last_year: int = CALENDAR_LAST_YEAR) -> str:
    """SQL that creates ref_calendar from the temporary table `_non_working_days(calendar_date)`."""
    return f"""
        CREATE OR REPLACE TABLE ref_calendar AS
        SELECT calendar_date,
               is_working_day,
               CAST(sum(CAST(is_working_day AS INTEGER)) OVER (ORDER BY calendar_date) AS INTEGER)
                   AS working_day_index
        FROM (
            SELECT CAST(d AS DATE) AS calendar_date,
                   isodow(d) <= 5 AND n.calendar_date IS NULL AS is_working_day
            FROM range(DATE '{first_year}-01-01', DATE '{last_year + 1}-01-01', INTERVAL 1 DAY) r(d)
            LEFT JOIN _non_working_days n ON n.calendar_date = CAST(d AS DATE)
        )
        ORDER BY calendar_date
    """
