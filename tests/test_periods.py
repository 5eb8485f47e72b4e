"""Windows, financial years and scorecard months (kpi/periods.py), over many months with hypothesis."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.periods import (
    PeriodError, add_months, fy_label, fy_start, is_reported, last_day, parse_period, previous_reported,
    scorecard_months, window,
)

months = st.builds(lambda y, m: date(y, m, 1), st.integers(1990, 2060), st.integers(1, 12))
first_months = st.integers(1, 12)


def test_parse_period_reads_a_month():
    assert parse_period("2017-09") == date(2017, 9, 1)


@pytest.mark.parametrize("text", ["2017-9", "2017-13", "09-2017", "2017/09", "", "2017-00"])
def test_parse_period_rejects_what_is_not_a_month(text):
    with pytest.raises(PeriodError, match="YYYY-MM"):
        parse_period(text)


def test_windows_of_september_2017():
    m = date(2017, 9, 1)
    assert window("month_end", m) == (date(2017, 9, 30), date(2017, 9, 30))
    assert window("monthly", m) == (date(2017, 9, 1), date(2017, 9, 30))
    assert window("year_to_date", m) == (date(2017, 4, 1), date(2017, 9, 30))
    assert window("quarterly", m) == (date(2017, 7, 1), date(2017, 9, 30))
    assert window("rolling_12_months", m) == (date(2016, 10, 1), date(2017, 9, 30))


def test_year_to_date_in_march_runs_from_the_previous_april():
    assert window("year_to_date", date(2018, 3, 1)) == (date(2017, 4, 1), date(2018, 3, 31))


def test_a_january_financial_year():
    assert window("year_to_date", date(2018, 3, 1), first_month=1) == (date(2018, 1, 1), date(2018, 3, 31))
    assert fy_label(date(2018, 3, 1), first_month=1) == "2018"


@given(months, first_months)
def test_every_window_ends_on_the_last_day_of_its_month(month, first):
    for collected in ("month_end", "monthly", "year_to_date", "quarterly", "rolling_12_months"):
        start, end = window(collected, month, first)
        assert end == last_day(month)
        assert start <= end
        assert (end + timedelta(days=1)).day == 1


@given(months, first_months)
def test_year_to_date_starts_on_the_first_of_the_financial_year(month, first):
    start, _ = window("year_to_date", month, first)
    assert start.month == first and start.day == 1
    assert 0 <= (month.year - start.year) * 12 + month.month - start.month <= 11


@given(months)
def test_rolling_12_months_covers_a_year_of_days(month):
    start, end = window("rolling_12_months", month)
    assert add_months(start, 12) == add_months(month, 1)
    assert 365 <= (end - start).days + 1 <= 366


@given(months)
def test_quarters_are_calendar_quarters(month):
    start, end = window("quarterly", month)
    assert start.month in (1, 4, 7, 10)
    assert start <= month


@given(months, st.integers(-600, 600))
def test_add_months_round_trips(month, n):
    assert add_months(add_months(month, n), -n) == month


@given(months)
def test_quarterly_reporting_compares_with_the_previous_quarter_end(month):
    previous = previous_reported("quarterly", month)
    assert previous.month in (3, 6, 9, 12)
    assert 1 <= (month.year - previous.year) * 12 + month.month - previous.month <= 3
    assert previous_reported("monthly", month) == add_months(month, -1)


def test_quarterly_reported_months():
    assert [m for m in range(1, 13) if is_reported("quarterly", date(2017, m, 1))] == [3, 6, 9, 12]


def test_scorecard_months_of_september_2017():
    s = scorecard_months(date(2017, 9, 1))
    assert s.year_months == tuple(date(2017, m, 1) for m in range(4, 10))
    assert s.outturns == (("2015/16", date(2016, 3, 1)), ("2016/17", date(2017, 3, 1)))
    assert s.same_period_last_year == date(2016, 9, 1)


def test_an_april_scorecard_compares_with_march():
    s = scorecard_months(date(2017, 4, 1))
    assert s.year_months == (date(2017, 4, 1),)
    assert date(2017, 3, 1) in s.all_months("monthly")


@given(months, first_months)
def test_scorecard_months_hold_everything_the_columns_and_trend_need(month, first):
    s = scorecard_months(month, first)
    needed = s.all_months("quarterly")
    assert month in needed and s.same_period_last_year in needed
    assert all(m in needed for _, m in s.outturns)
    assert s.year_months[0] == fy_start(month, first)
    assert all(m.month == (first - 2) % 12 + 1 for _, m in s.outturns)
