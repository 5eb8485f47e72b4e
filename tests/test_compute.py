"""`kpi compute` end to end on the fixture project and extracts (tests/fixtures): the numbers of every
`collected` mode and unit, history, outturns, trend, status, suppression, formats and exit codes.

The expected numbers are worked out by hand from the rows in tests/fixtures/extracts/*.csv.
"""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, scorecard_csv


@pytest.fixture(scope="module")
def scorecard():
    from tests.conftest import Kpi

    return Kpi().json("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")


def row(scorecard, indicator_id):
    return next(i for i in scorecard["indicators"] if i["id"] == indicator_id)


def test_monthly_count_with_its_history(scorecard):
    r = row(scorecard, "TST 001")
    # R1 at 23:30 on 30 September, R2 at midnight on the 1st and R3 in the UK date form; R5 is October's
    assert (r["value"], r["numerator"], r["denominator"]) == (3, 3, None)
    assert r["months"] == {"2017-04": 1, "2017-05": 0, "2017-06": 1, "2017-07": 0, "2017-08": 1, "2017-09": 3}
    assert r["outturns"] == {"2015/16": 1, "2016/17": 1}
    assert r["same_period_last_year"] == 1
    assert r["trend"] == "worse"  # smaller is better: 3 against August's 1
    assert r["target_status"] == "no_target"
    assert r["display"] == "3.0"


def test_year_to_date_percent_with_working_days_and_target(scorecard):
    r = row(scorecard, "TST 002")
    # A1 on the 10th working day (over the August bank holiday), A3 in April and A4 count; A2 is late
    assert (r["numerator"], r["denominator"], r["value"]) == (3, 4, 75)
    assert r["months"]["2017-08"] == 100
    assert r["outturns"] == {"2015/16": None, "2016/17": None}  # no assessments: no value, not 0
    assert (r["trend"], r["target"], r["target_status"]) == ("worse", 90, "missing")
    assert r["benchmarks"] == {"england": 85.0, "region": 88.0, "statistical_neighbours": 90.0}


def test_month_end_snapshot(scorecard):
    r = row(scorecard, "TST 003")
    # C2 ends on 30 September so is closed by then; C3 starts that day so is open
    assert r["value"] == 2 and r["months"]["2017-08"] == 2 and r["trend"] == "same"
    assert r["outturns"] == {"2015/16": 1, "2016/17": 1} and r["same_period_last_year"] == 1


def test_rate_with_the_default_population_reported_quarterly(scorecard):
    r = row(scorecard, "TST 004")
    assert (r["numerator"], r["denominator"], r["value"]) == (6, 20000, 3)
    assert r["months"] == {"2017-04": None, "2017-05": None, "2017-06": 1, "2017-07": None, "2017-08": None, "2017-09": 3}
    assert r["outturns"]["2016/17"] == pytest.approx(2 * 10000 / 19000)  # financial year 2016/17 uses mid-2016
    assert r["outturns"]["2015/16"] == pytest.approx(10000 / 18000)
    assert r["same_period_last_year"] == pytest.approx(10000 / 19000)
    assert r["trend"] == "worse"  # against June, the previous quarter end


def test_rolling_twelve_months_without_polarity(scorecard):
    r = row(scorecard, "TST 005")
    assert r["value"] == 2 and r["trend"] == "not_comparable" and r["target_status"] == "no_target"


def test_quarterly_count_against_target(scorecard):
    r = row(scorecard, "TST 006")
    assert r["value"] == 4 and r["months"]["2017-06"] == 2 and r["months"]["2017-08"] is None
    assert (r["trend"], r["target_status"]) == ("worse", "missing")


def test_small_numbers_are_withheld_and_not_compared_under_the_safe_default(scorecard):
    r = row(scorecard, "TST 007")
    assert r["suppressed"] is True
    assert (r["value"], r["numerator"], r["denominator"]) == (None, None, None)
    assert r["display"] == "Suppressed due to low numbers"
    assert r["withheld"] == ["value", "numerator", "denominator", "months.2017-09"]
    assert r["months"]["2017-08"] == 0  # no data would be null too, but is not listed as withheld
    assert r["trend"] == "not_comparable"  # the true 33.3% against August's 0% would say it is above 0


def test_the_seed_policy_assesses_withheld_values_from_the_true_ones(kpi, project):
    (project / "kpi.toml").write_text('disclosure_policy = "seed"\n')
    data = kpi.json("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    r = row(data, "TST 007")
    assert r["suppressed"] is True and r["value"] is None
    assert r["trend"] == "worse"  # from the true 33.3% against August's 0%
    assert data["summary"]["trend"] == {"better": 0, "same": 1, "worse": 5, "not_comparable": 1}


def test_summary_counts(scorecard):
    assert scorecard["period"] == "2017-09"
    assert scorecard["summary"] == {
        "total": 7,
        "trend": {"better": 0, "same": 1, "worse": 4, "not_comparable": 2},  # TST 007 is withheld
        "target": {"better": 0, "achieving": 0, "missing": 2, "no_target": 5},
    }


def test_json_shape_has_every_key_of_the_spec(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "json")
    scorecard = json.loads(result.stdout)
    keys = {"id", "title", "lead_officer", "service_group", "tier", "collected", "reported", "polarity", "unit",
            "value", "display", "numerator", "denominator", "months", "outturns", "same_period_last_year",
            "benchmarks", "trend", "target", "target_status", "suppressed", "withheld", "error", "approximation"}
    # SPEC §9, and what issues 10 and 11 add at the top level: the provenance of every number, the warnings.
    assert set(scorecard) == {"period", "authority", "summary", "indicators", "provenance", "warnings"}
    assert all(set(i) == keys for i in scorecard["indicators"])


def test_filters(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--indicators", "TST 00[12]", "--format", "csv")
    assert result.exit_code == 0
    rows = scorecard_csv(result.stdout)
    assert [r["id"] for r in rows] == ["TST 001", "TST 002"]
    assert rows[0]["2017-09"] == "3" and rows[1]["numerator"] == "3"
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--service-group", "child protection", "--format", "json")
    assert [i["id"] for i in json.loads(result.stdout)["indicators"]] == ["TST 003"]


def test_suppressed_csv_cells_say_c(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--indicators", "TST 007", "--format", "csv")
    row = scorecard_csv(result.stdout)[0]
    assert (row["2017-09"], row["numerator"], row["denominator"]) == ("c", "c", "c")


def test_parquet_long_form(kpi, tmp_path):
    out = tmp_path / "scorecard.parquet"
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--output", out)
    assert result.exit_code == 0
    table = pq.read_table(out).to_pylist()
    september = [r for r in table if r["id"] == "TST 002" and str(r["month"]) == "2017-09-01"]
    assert september == [{"id": "TST 002", "month": september[0]["month"], "numerator": 3.0, "denominator": 4.0,
                          "value": 75.0, "reported": True, "suppressed": False, "approximation": None}]


def test_table_on_request(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "table")
    assert result.exit_code == 0
    assert "TST 002" in result.stdout and "missing target" in result.stdout and "7 indicators" in result.stdout


def test_an_indicator_error_does_not_stop_the_others(kpi, project, extracts):
    broken = project / "indicators" / "tst_001.yaml"
    broken.write_text(broken.read_text().replace("JOIN period p ON", "JOIN period p ON CAST(r.cine_person_id AS INTEGER) > 0 AND"))
    # It binds (so validation passes) but fails when run: person ids are not numbers.
    result = kpi("compute", "--project", project, "--data", extracts, "--period", "2017-09", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    failed = row(data, "TST 001")
    assert failed["error"] and "numerator" in failed["error"] and failed["value"] is None
    assert row(data, "TST 002")["value"] == 75
    # TST 007 shares TST 001's months and window, so their queries ran together first: it still computes
    assert row(data, "TST 007")["error"] is None and row(data, "TST 007")["withheld"][:3] == ["value", "numerator", "denominator"]
    assert "TST 001" in result.stderr


def test_output_is_not_half_written_when_the_run_fails(kpi, extracts, tmp_path):
    out = tmp_path / "scorecard.json"
    out.write_text("last month's scorecard")
    (extracts / "ssd_cin_episodes.csv").write_text("cine_referral_id,cine_person_id\nR1,P1\n")
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", extracts, "--period", "2017-09", "--output", out)
    assert result.exit_code == 2
    assert out.read_text() == "last month's scorecard"
    assert list(tmp_path.glob(".scorecard.json.*")) == []


@pytest.mark.parametrize("args, message", [
    (["--period", "2017-13"], "YYYY-MM"),
    (["--period", "2017-09", "--format", "pdf"], "unknown format"),
    (["--period", "2017-09", "--indicators", "XYZ*"], "no indicator matches"),
    (["--period", "2017-09", "--data", "/nonexistent/folder"], "does not exist"),
])
def test_usage_errors_exit_2(kpi, args, message):
    result = kpi("compute", "--project", FIXTURE_PROJECT, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_breakdown_by_a_column_the_query_returns(kpi, project):
    (project / "kpi.toml").write_text("suppress_below = 2\n")
    data = kpi.json("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--by", "team",
                    "--indicators", "TST 001,TST 002")
    referrals = row(data, "TST 001")
    groups = {g["group"]: g for g in referrals["breakdowns"]["team"]["groups"]}
    assert set(referrals["breakdowns"]) == {"team"} and set(groups) == {"Team A", "Team B"}
    assert groups["Team A"]["months"]["2017-06"] is None  # R10 alone in June: withheld too
    # a group of one is withheld like any other small number
    assert groups["Team B"]["suppressed"] is True and groups["Team B"]["value"] is None
    assert referrals["value"] == 3  # the total is unchanged
    # and Team A's 2 with it: else Team B's 1 would be the total 3 less Team A's 2 (secondary suppression)
    assert groups["Team A"]["suppressed"] is True and groups["Team A"]["value"] is None
    assert "months.2017-09" in groups["Team A"]["withheld"]
    assessments = row(data, "TST 002")
    assert assessments["breakdowns"] == {"team": {"error": "the numerator returns no column `team` and no child to find it for "
                                                  "(a column named person_id or ending in _person_id)", "groups": []}}


def test_breakdown_rows_in_csv(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--by", "team",
                 "--indicators", "TST 001", "--format", "csv")
    rows = scorecard_csv(result.stdout)
    assert [(r["dimension"], r["group"], r["2017-09"]) for r in rows] == [("", "", "3"), ("team", "Team A", "2"), ("team", "Team B", "1")]


def test_several_dimensions_at_once_in_the_order_given(kpi):
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--by", "team,sex", "--by", "team", "--indicators", "TST 001", "--format", "json")
    data = json.loads(result.stdout)
    referrals = row(data, "TST 001")
    assert list(referrals["breakdowns"]) == ["team", "sex"]  # each once, in the order given
    assert [g["group"] for g in referrals["breakdowns"]["team"]["groups"]] == ["Team A", "Team B"]
    assert data["provenance"]["selection"]["by"] == ["team", "sex"]


def test_several_dimensions_in_parquet_long_form(kpi, tmp_path):
    out = tmp_path / "s.parquet"
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                 "--by", "team", "--indicators", "TST 001", "--output", out)
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out).to_pylist()
    september = [(r["dimension"], r["group"], r["numerator"]) for r in table if str(r["month"]) == "2017-09-01"]
    assert september == [(None, None, 3), ("team", "Team A", 2), ("team", "Team B", 1)]


def test_a_runaway_query_is_stopped_with_a_message(kpi, project, extracts):
    (project / "kpi.toml").write_text("query_time_limit = 1\n")
    path = project / "indicators" / "tst_005.yaml"
    text = path.read_text()
    start, end = text.index("numerator: |"), text.index("tests:")
    path.write_text(text[:start] + "numerator: |\n"
                    "  SELECT p.month FROM period p, range(100000) a, range(100000) b WHERE a.range * b.range = -1\n"
                    + text[end:])
    result = kpi("compute", "--project", project, "--data", extracts, "--period", "2017-09", "--format", "json")
    assert result.exit_code == 1
    runaway = row(json.loads(result.stdout), "TST 005")
    assert "ran for more than 1 s and was stopped" in runaway["error"]
    assert row(json.loads(result.stdout), "TST 002")["value"] == 75
