"""`kpi drill`: the rows behind a number, whose count is the number on the scorecard."""

import csv
import io
import json

import pytest

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT


def drill(kpi, indicator_id, *args):
    return kpi("drill", indicator_id, "--period", "2017-09", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, *args)


def test_numerator_rows_are_the_children_counted(kpi):
    result = drill(kpi, "TST 001", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["cine_referral_id"] for r in rows) == ["R1", "R2", "R3"]
    assert "case-level records" in result.stderr


def test_excluded_rows_are_the_denominator_rows_not_in_the_numerator(kpi):
    rows = json.loads(drill(kpi, "TST 002", "--part", "excluded", "--format", "json").stdout)
    assert rows == [{"month": "2017-09-01", "cina_assessment_id": "A2"}]  # the one authorised late


def test_drill_counts_equal_the_scorecard(kpi):
    scorecard = kpi.json("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    for row in scorecard["indicators"]:
        if row["suppressed"]:
            continue
        rows = json.loads(drill(kpi, row["id"], "--format", "json").stdout)
        assert len(rows) == row["numerator"], row["id"]
        if row["unit"] == "percent":
            assert len(json.loads(drill(kpi, row["id"], "--part", "denominator", "--format", "json").stdout)) == row["denominator"]


def test_a_suppressed_number_is_not_drillable_without_permission(kpi):
    result = drill(kpi, "TST 007")
    assert result.exit_code == 2 and "suppressed" in result.stderr and result.stdout == ""
    assert drill(kpi, "TST 007", "--allow-suppressed", "--format", "csv").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--part", "everything"], "--part must be one of"),
    (["--format", "pdf"], "unknown format"),
])
def test_drill_usage_errors(kpi, args, message):
    result = drill(kpi, "TST 002", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_excluded_needs_a_denominator(kpi):
    result = drill(kpi, "TST 001", "--part", "excluded")
    assert result.exit_code == 2 and "no denominator" in result.stderr
