"""The value rules every return reader shares (kpi/returns/common.py): ids stay text, dates are read in
full or refused, and the collection year is the one holding a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, strategies as st

from kpi.returns.common import Problems, Rows, clean_id, march_31_ending, parse_date

ROWS = Rows(Path("episodes.csv"), ["DECOM"], [])


@given(st.from_regex(r"[0-9A-Za-z]{1,10}", fullmatch=True))
def test_an_id_is_kept_as_written(text):
    assert clean_id(f" {text} ") == text          # leading zeros and letters kept, spaces trimmed
    if text.isdigit():
        assert clean_id(f"{text}.0") == text      # a spreadsheet's float, never cast


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_written_in_full_reads_back(day):
    problems = Problems()
    assert parse_date(day.strftime("%d/%m/%Y"), ROWS, 2, "DECOM", problems) == day
    assert parse_date(day.isoformat(), ROWS, 2, "DECOM", problems) == day
    assert not problems.issues
    assert parse_date(day.strftime("%d/%m/%y"), ROWS, 2, "DECOM", problems) is None   # a two-digit year is refused
    assert "2-digit year" in problems.issues[0].message and problems.issues[0].line == 2


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2100, 12, 31)))
def test_the_collection_year_holds_its_dates(day):
    end = march_31_ending(day)
    assert (end.month, end.day) == (3, 31)
    assert date(end.year - 1, 4, 1) <= day <= end


def test_every_return_reader_has_a_bundled_profile_naming_it():
    from kpi import returns
    from kpi.config import bundled_root
    from kpi.profiles.profile import read_profile_file

    readers = {}
    for path in sorted((bundled_root() / "profiles").glob("*.yaml")):
        data = read_profile_file(path)
        if "reader" in data:
            readers[data["reader"]] = path.stem
    assert set(readers) == set(returns.names())