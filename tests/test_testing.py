"""How `kpi test` compares expected with actual numbers (kpi/testing.py)."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kpi.testing import matches


@pytest.mark.parametrize("expected, actual, result", [
    (66.67, 200 / 3, True), (66.7, 200 / 3, True), (66.6, 200 / 3, False), (67, 200 / 3, False),
    (50, 50.0, True), (1, 1.0000001, False), (None, None, True), (None, 0.0, False), (0, None, False),
])
def test_matches(expected, actual, result):
    assert matches(expected, actual) is result


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_a_value_written_to_two_decimals_matches_its_fraction(numerator, denominator):
    value = 100 * numerator / denominator
    written = round(value, 2)
    assume(not written.is_integer())  # whole numbers are compared exactly
    assert matches(written, value)
