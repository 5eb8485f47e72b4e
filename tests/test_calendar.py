"""working_days() and add_working_days(): the SQL macros against the Python reference, over many dates."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi import database
from kpi.calendar import non_working_days, working_days
from kpi.config import bundled_root

CLOSED = non_working_days(2000, 2045)
dates = st.dates(date(2001, 1, 1), date(2044, 6, 30))


@pytest.fixture(scope="module")
def con():
    con = database.connect()
    database.lock(con)
    database.install_calendar(con)
    con.execute((bundled_root() / "queries" / "macros.sql").read_text())
    yield con
    con.close()


def sql_working_days(con, a, b):
    return con.execute("SELECT working_days(?, ?)", [a, b]).fetchone()[0]


@pytest.mark.parametrize("a, b, expected", [
    (date(2017, 9, 29), date(2017, 9, 29), 0),   # same day
    (date(2017, 9, 29), date(2017, 10, 2), 1),   # Friday to Monday
    (date(2017, 8, 25), date(2017, 8, 29), 1),   # over the summer bank holiday (Monday 28 August)
    (date(2017, 12, 22), date(2018, 1, 2), 4),   # Christmas, Boxing Day and New Year's Day
    (date(2018, 3, 29), date(2018, 4, 3), 1),    # Good Friday and Easter Monday
    (date(2017, 9, 30), date(2017, 10, 1), 0),   # Saturday to Sunday
])
def test_known_working_day_counts(con, a, b, expected):
    assert sql_working_days(con, a, b) == expected
    assert working_days(a, b, CLOSED) == expected


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(0, 120))
def test_sql_macro_matches_the_reference(con, a, days):
    b = a + timedelta(days=days)
    assert sql_working_days(con, a, b) == working_days(a, b, CLOSED)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(1, 90))
def test_add_working_days_is_the_inverse(con, a, n):
    d = con.execute("SELECT add_working_days(?, ?)", [a, n]).fetchone()[0]
    assert working_days(a, d, CLOSED) == n
    assert d.weekday() < 5 and d not in CLOSED
    # and it is the first such day: the day before is n - 1 working days away at most
    assert working_days(a, d - timedelta(days=1), CLOSED) == n - 1


def test_timestamps_count_by_their_date(con):
    assert con.execute("SELECT working_days(TIMESTAMP '2017-09-29 23:59', DATE '2017-10-02')").fetchone()[0] == 1


def test_closure_days_are_not_working_days():
    con = database.connect()
    database.install_calendar(con, (date(2017, 12, 27),))
    con.execute((bundled_root() / "queries" / "macros.sql").read_text())
    assert con.execute("SELECT working_days(DATE '2017-12-22', DATE '2017-12-29')").fetchone()[0] == 2


def test_is_open_at_closes_an_episode_on_its_end_date(con):
    row = con.execute(
        "SELECT is_open_at(DATE '2017-01-01', DATE '2017-09-30', DATE '2017-09-30'),"
        " is_open_at(DATE '2017-09-30', NULL, DATE '2017-09-30'),"
        " is_open_at(DATE '2017-10-01', NULL, DATE '2017-09-30')"
    ).fetchone()
    assert row == (False, True, False)


def test_age_in_years(con):
    assert con.execute("SELECT age_in_years(DATE '2000-10-01', DATE '2017-09-30'), age_in_years(DATE '2000-09-30', DATE '2017-09-30')").fetchone() == (16, 17)
