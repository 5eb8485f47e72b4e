"""Shared views over `period` (queries/*.sql): they bind before a run, see each group's `period` rows,
work in validate, test, drill and explain, are never computed once per run; and the bundled
indicators write each cohort and rule once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from datetime import date

from kpi.config import open_project
from kpi.pipeline import load_definitions
from kpi.plan import materialisable_views, names_read, plan_scorecard
from tests.conftest import FIXTURE_EXTRACTS, REPO

# Referrals of the fixture extracts by month (tests/fixtures/extracts/ssd_cin_episodes.csv):
# R9 in April, R10 in June, R4 in August, R1, R2 and R3 in September.
REFERRALS_VIEW = """\
-- Referrals by the day their timestamp falls on, in the window of each `period` row.
CREATE OR REPLACE VIEW referrals_in_window AS
SELECT p.month, r.cine_referral_id, r.cine_person_id
FROM ssd_cin_episodes r
JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date;
"""

INDICATOR = """\
id: {id}
title: Referrals through a shared view ({collected})
tier: key
service_group: Contacts
collected: {collected}
polarity: none
unit: count
numerator: |
  SELECT * FROM referrals_in_window
tests:
  - name: the view sees this case's window
    period: 2017-09
    given:
      ssd_cin_episodes:
        - {{cine_referral_id: R1, cine_person_id: P1, cine_referral_date: '2017-09-30 23:30'}}
        - {{cine_referral_id: R2, cine_person_id: P2, cine_referral_date: '2017-04-03 09:00'}}
    expect: {{numerator: {expected}}}
"""


def add_view_and_indicators(project) -> None:
    (project / "queries").mkdir(exist_ok=True)
    (project / "queries" / "referrals.sql").write_text(REFERRALS_VIEW)
    (project / "indicators" / "tst_101.yaml").write_text(INDICATOR.format(id="TST 101", collected="monthly", expected=1))
    (project / "indicators" / "tst_102.yaml").write_text(INDICATOR.format(id="TST 102", collected="year_to_date", expected=2))


def row(scorecard, indicator_id):
    return next(i for i in scorecard["indicators"] if i["id"] == indicator_id)


def test_a_view_over_period_sees_the_rows_of_each_group_in_one_run(kpi, project, monkeypatch):
    add_view_and_indicators(project)

    def one_by_one(*args, **kwargs):
        raise AssertionError("each group should run as one UNION ALL, not fall back to one query at a time")

    monkeypatch.setattr("kpi.run.run_indicator", one_by_one)
    data = kpi.json("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09",
                    "--indicators", "TST 001,TST 101,TST 102")
    monthly, year_to_date = row(data, "TST 101"), row(data, "TST 102")
    assert monthly["error"] is None and year_to_date["error"] is None
    assert monthly["months"] == {"2017-04": 1, "2017-05": 0, "2017-06": 1, "2017-07": 0, "2017-08": 1, "2017-09": 3}
    assert year_to_date["months"] == {"2017-04": 1, "2017-05": 1, "2017-06": 2, "2017-07": 2, "2017-08": 3, "2017-09": 6}
    # TST 001 joins period itself and ran in one UNION ALL with TST 101: the same numbers
    assert row(data, "TST 001")["months"] == monthly["months"]


def test_validate_test_drill_and_explain_work_through_a_view_over_period(kpi, project):
    add_view_and_indicators(project)
    validated = kpi("validate", "--project", project)
    assert validated.exit_code == 0, validated.stdout
    assert "no-period" not in validated.stdout and "does not join the `period`" not in validated.stdout
    tested = kpi("test", "--project", project)
    assert tested.exit_code == 0, tested.stdout
    assert "pass  TST 101" in tested.stdout and "pass  TST 102" in tested.stdout
    drilled = kpi("drill", "TST 102", "--period", "2017-09", "--project", project, "--data", FIXTURE_EXTRACTS, "--format", "csv")
    assert drilled.exit_code == 0, drilled.stderr
    ids = sorted(r["cine_referral_id"] for r in csv.DictReader(io.StringIO(drilled.stdout)))
    assert ids == ["R1", "R10", "R2", "R3", "R4", "R9"]
    explained = kpi("explain", "TST 102", "--period", "2017-09", "--project", project)
    assert explained.exit_code == 0 and "SELECT * FROM referrals_in_window" in explained.stdout


def test_a_view_reading_a_missing_period_column_is_reported_at_its_file_and_line(kpi, project):
    add_view_and_indicators(project)
    broken = REFERRALS_VIEW.replace("p.start_date AND p.end_date", "p.start_date AND p.window_end")
    (project / "queries" / "referrals.sql").write_text(broken)
    result = kpi("validate", "--project", project, "--output-format", "json")
    issues = json.loads(result.stdout)
    issues = issues["issues"] if isinstance(issues, dict) else issues
    view_issues = [i for i in issues if str(i["file"]).endswith("referrals.sql")]
    assert result.exit_code == 1
    assert view_issues and view_issues[0]["line"] == 5 and "window_end" in view_issues[0]["message"]


def test_a_query_that_reads_no_period_even_through_its_views_is_still_warned(kpi, project):
    add_view_and_indicators(project)
    (project / "queries" / "referrals.sql").write_text(REFERRALS_VIEW + "\nCREATE OR REPLACE VIEW all_referrals AS SELECT * FROM ssd_cin_episodes;\n")
    path = project / "indicators" / "tst_101.yaml"
    path.write_text(path.read_text().replace("SELECT * FROM referrals_in_window", "SELECT DATE '2017-09-01' AS month FROM all_referrals"))
    result = kpi("validate", "--project", project)
    assert "tst_101.yaml" in result.stdout and "does not join the `period` relation" in result.stdout
    assert "tst_102.yaml" not in result.stdout


def bundled():
    project = open_project(REPO)
    definitions = load_definitions(project)
    return definitions, list(definitions.shared)


def test_views_over_period_are_never_computed_once_per_run():
    definitions, shared = bundled()
    plan = plan_scorecard(definitions.indicators, date(2017, 9, 1), shared, definitions.tables)
    materialised = {v.name for v in materialisable_views(plan, shared)}
    views = {d.name: d for d in shared if d.kind == "VIEW"}
    assert {"looked_after_spans", "cp_visits_due", "cla_visits_due"} <= materialised
    for name in materialised:
        assert "period" not in names_read([views[name].sql], shared), name
    # the cohort reads period; visits_due_in_window reads it beside a view that is computed once
    assert "looked_after_at_month_end" not in materialised and "visits_due_in_window" not in materialised


def test_a_query_through_a_table_macro_reads_the_tables_behind_it():
    definitions, shared = bundled()
    plan = plan_scorecard(definitions.indicators, date(2017, 9, 1), shared, definitions.tables)
    timed = next(p for p in plan.indicators if p.indicator.id == "CSC 038")
    assert timed.numerator.text.strip() == "SELECT * FROM assessments_authorised_within(45) WHERE in_time"
    assert "ssd_cin_assessments" in timed.tables
    assert "ssd_cin_assessments" not in next(p for p in plan.indicators if p.indicator.id == "CSC 013").tables


# A query that only picks rows of one shared view or table macro by its columns names the rule the
# view holds; it may appear in several indicators (the same measure over another window).
REFERENCE = re.compile(
    r"select \* from (?P<name>\w+)(\([^()]*\))?"
    r"( where (not )?\w+( = s)?( and (not )?\w+( = s)?)*)?"
)


def normalised(sql: str) -> str:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"\s+", " ", without_comments).strip().lower()


def up_to_constants(sql: str) -> str:
    """Normalised, with every number and string made alike: the same up to a threshold (45 or 25
    working days) or a code ('HEALTH' or 'DENTAL') is a copy too."""
    return re.sub(r"'[^']*'", "s", re.sub(r"\b\d+(\.\d+)?\b", "n", normalised(sql)))


def test_each_rule_is_written_once_in_the_bundled_indicators():
    definitions, shared = bundled()
    names = {d.name for d in shared}
    by_text: dict[str, list[str]] = defaultdict(list)
    for indicator in definitions.indicators:
        for part in ("numerator", "denominator"):
            sql = getattr(indicator, part)
            if sql is not None:
                by_text[up_to_constants(sql.text)].append(f"{indicator.id} {part}")
    copies = {}
    for text, users in by_text.items():
        reference = REFERENCE.fullmatch(text)
        if len(users) > 1 and not (reference and reference["name"] in names):
            copies[text] = users
    assert not copies, "write these once, as a shared view in queries/: " + "; ".join(
        f"{', '.join(users)}: {text[:80]}" for text, users in copies.items())


def test_the_rule_guard_catches_a_copy():
    copy = up_to_constants("SELECT p.month, r.x\nFROM referrals r\nJOIN period p ON r.d BETWEEN p.start_date AND p.end_date")
    assert REFERENCE.fullmatch(copy) is None
    assert REFERENCE.fullmatch(up_to_constants("SELECT * FROM visits_due_in_window WHERE plan_kind = 'CP' AND in_time"))
    assert REFERENCE.fullmatch(up_to_constants("SELECT * FROM assessments_authorised_within(45)"))
    assert REFERENCE.fullmatch(up_to_constants("SELECT * FROM referrals_in_window WHERE completion_hours <= 24")) is None
    assert up_to_constants("WHERE h.check_type = 'HEALTH' AND x <= 45") == up_to_constants("where h.check_type = 'DENTAL'\n and x <= 25")
