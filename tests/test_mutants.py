"""`kpi test --mutants` (kpi/mutants.py): wrong versions of an indicator's SQL and of the views it
reads are run on its cases; those no case kills are reported with their line, unless allowed."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from kpi import pipeline
from kpi.config import open_project
from kpi.definitions import TestCase as Case
from kpi.mutants import generate
from kpi.testing import expected_numbers

VIEW = """\
-- Referrals completed in the window, with the hours they took.
CREATE OR REPLACE VIEW timed_referrals AS
SELECT p.month, r.cine_referral_id,
       (epoch(r.cine_referral_completed_datetime) - epoch(r.cine_referral_date)) / 3600 AS hours
FROM ssd_cin_episodes r
JOIN period p ON CAST(r.cine_referral_completed_datetime AS DATE) BETWEEN p.start_date AND p.end_date;
"""

INDICATOR = """\
id: TST 101
title: Referrals completed within 24 hours
tier: key
service_group: Contacts
collected: monthly
polarity: bigger
unit: percent
numerator: |
  SELECT * FROM timed_referrals WHERE hours <= 24
denominator: |
  SELECT * FROM timed_referrals
tests:
  - name: one in time, one late
    period: '2017-09'
    given:
      ssd_cin_episodes:
        - {cine_referral_id: R1, cine_referral_date: '2017-09-04 09:00', cine_referral_completed_datetime: '2017-09-05 09:00'}
        - {cine_referral_id: R2, cine_referral_date: '2017-09-04 09:00', cine_referral_completed_datetime: '2017-09-05 10:00'}
    expect: {numerator: 1, denominator: 2}
"""

# Two in time and one late: negating `hours <= 24` gives 1 of 3, no longer the same as 2 of 3.
STRONGER = """\
  - name: two in time, one late, one completed in October
    period: '2017-09'
    given:
      ssd_cin_episodes:
        - {cine_referral_id: R1, cine_referral_date: '2017-09-04 09:00', cine_referral_completed_datetime: '2017-09-05 09:00'}
        - {cine_referral_id: R2, cine_referral_date: '2017-09-04 09:00', cine_referral_completed_datetime: '2017-09-05 10:00'}
        - {cine_referral_id: R3, cine_referral_date: '2017-09-29 09:00', cine_referral_completed_datetime: '2017-09-30 08:00'}
        - {cine_referral_id: R4, cine_referral_date: '2017-09-30 09:00', cine_referral_completed_datetime: '2017-10-01 08:00'}
    expect: {numerator: 2, denominator: 3}
"""

NEGATED = "numerator: `WHERE … hours <= 24` → `NOT (hours <= 24)`"


def _project(tmp_path: Path, indicator: str = INDICATOR) -> Path:
    (tmp_path / "indicators").mkdir()
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "referrals.sql").write_text(VIEW, encoding="utf-8")
    (tmp_path / "indicators" / "tst_101.yaml").write_text(indicator, encoding="utf-8")
    return tmp_path


def _mutant_names(root: Path) -> list[str]:
    definitions = pipeline.load_definitions(open_project(root))
    mutants, _, _ = generate(definitions.indicators[0], list(definitions.shared))
    return [m.name for m in mutants]


def test_a_survivor_is_reported_with_its_line_and_the_case_that_would_kill_it(tmp_path, kpi):
    result = kpi("test", "--mutants", "--project", _project(tmp_path))
    assert result.exit_code == 1
    assert f"survived: {NEGATED}" in result.stdout
    assert "at indicators/tst_101.yaml:9; a case that kills it: a row that meets `hours <= 24` beside one that does not" \
        in result.stdout.replace(str(tmp_path) + "/", "")
    # a survivor in the view points into the .sql file
    assert "queries/referrals.sql:6" in result.stdout


def test_a_case_that_tells_the_mutant_apart_kills_it(tmp_path, kpi):
    result = kpi("test", "--mutants", "--project", _project(tmp_path, INDICATOR + STRONGER))
    assert NEGATED not in result.stdout
    assert "kpi test" not in result.stdout  # both cases pass on the real SQL


def test_an_equivalent_mutant_listed_with_its_reason_does_not_fail(tmp_path, kpi):
    root = _project(tmp_path, INDICATOR + STRONGER)
    survivors = [line.split("survived: ", 1)[1] for line in kpi("test", "--mutants", "--project", root).stdout.splitlines()
                 if "survived: " in line]
    assert survivors  # this small case leaves some (the window's edges, for one)
    allow = "mutants:\n  allow:\n" + "".join(f"    - mutant: {m!r}\n      reason: not yet\n".replace("'", '"') if "'" not in m
                                              else f"    - mutant: {m!r}\n      reason: not yet\n" for m in survivors)
    (root / "indicators" / "tst_101.yaml").write_text(INDICATOR + STRONGER + allow, encoding="utf-8")
    result = kpi("test", "--mutants", "--project", root)
    assert result.exit_code == 0, result.stdout
    assert f"{len(survivors)} allowed as equivalent, 0 survived" in result.stdout


def test_an_allowance_for_a_mutant_that_no_longer_survives_fails(tmp_path, kpi):
    allow = "mutants:\n  allow:\n    - mutant: 'numerator: `24` → `99`'\n      reason: there is no such mutant\n"
    root = _project(tmp_path, INDICATOR + allow)
    result = kpi("test", "--mutants", "--project", root)
    assert result.exit_code == 1
    assert "allowed but no such mutant survives (tst_101.yaml:22): numerator: `24` → `99`" in result.stdout


def test_an_allowance_needs_a_reason(tmp_path, kpi):
    root = _project(tmp_path, INDICATOR + "mutants:\n  allow:\n    - mutant: 'numerator: `24` → `25`'\n")
    result = kpi("validate", "--project", root)
    assert result.exit_code == 1
    assert "reason" in result.stdout


def test_the_operators(tmp_path):
    names = _mutant_names(_project(tmp_path))
    for expected in [
        "numerator: `hours <= 24` → `hours < 24`",  # the boundary moved
        "numerator: `hours <= 24` → `hours > 24`",  # negated
        "numerator: `24` → `25`", "numerator: `24` → `23`",  # a number moved by one
        NEGATED, "numerator: `WHERE … hours <= 24` → `(dropped)`",  # a conjunct negated, dropped
        "view timed_referrals: `p.start_date` → `p.quarter_start`",  # the window's bounds moved
        "view timed_referrals: `p.end_date` → `p.fy_end`",
        "view timed_referrals: `3600` → `3601`",
    ]:
        assert expected in names
    # monthly: start_date is month_start in every month, so that swap is the same query and not made
    assert "view timed_referrals: `p.start_date` → `p.month_start`" not in names


def test_and_or_distinct_and_intervals(tmp_path):
    root = _project(tmp_path, INDICATOR.replace(
        "SELECT * FROM timed_referrals WHERE hours <= 24",
        "SELECT DISTINCT month, cine_referral_id FROM timed_referrals WHERE hours <= 24 AND hours >= 0\n"
        "    AND month >= DATE '2017-01-01' - INTERVAL 1 MONTH"))
    names = _mutant_names(root)
    assert "numerator: `SELECT DISTINCT` → `SELECT`" in names
    assert any(n.startswith("numerator: `hours <= 24 AND hours >= 0") and "→ `… OR …`" in n for n in names)
    assert "numerator: `CAST('2017-01-01' AS DATE) - INTERVAL '1' MONTH` → " \
           "`(CAST('2017-01-01' AS DATE) - INTERVAL '1' MONTH) + 1 day`" in names


def test_a_column_no_query_reads_is_not_mutated(tmp_path):
    root = _project(tmp_path)
    (root / "queries" / "referrals.sql").write_text(VIEW.replace(
        "r.cine_referral_id,", "r.cine_referral_id, r.cine_referral_date + INTERVAL 3 DAY AS unused,"), encoding="utf-8")
    assert not [n for n in _mutant_names(root) if "INTERVAL" in n]


def test_a_case_with_numerator_and_denominator_pins_the_value():
    definitions = pipeline.load_definitions(open_project(Path(__file__).parent.parent))
    indicator = next(i for i in definitions.indicators if i.unit == "percent")
    case = Case("c", indicator.tests[0].period, MappingProxyType({}), MappingProxyType({"numerator": 1, "denominator": 3}), 1)
    assert expected_numbers(indicator, case)["value"] == pytest.approx(100 / 3)
