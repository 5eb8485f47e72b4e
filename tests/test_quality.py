"""`kpi check-data`: data-quality findings are counted per table with example rows, and are warnings."""

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT


def check(kpi, data, *args):
    return kpi("check-data", "--project", FIXTURE_PROJECT, "--data", data, "--extract-date", "2017-10-05", *args)


def test_clean_fixture_extracts_have_no_findings(kpi):
    result = check(kpi, FIXTURE_EXTRACTS)
    assert result.exit_code == 0
    assert "ssd_cin_assessments: no findings" in result.stdout
    assert "6 table(s) checked: 0 finding(s)" in result.stderr


def test_each_kind_of_finding_is_counted_with_examples(kpi, extracts):
    path = extracts / "ssd_cin_assessments.csv"
    path.write_text(path.read_text()
                    .replace("A3,P9,R9,2017-04-10,2017-04-12", "A3,P9,R99,2017-04-10,2017-04-02")  # orphan; end before start
                    + "A4,P2,R2,2017-09-25,2017-11-30,Y,N\n")  # a duplicate key, authorised after the extract date
    result = check(kpi, extracts)
    assert result.exit_code == 0
    out = result.stdout
    assert "ssd_cin_assessments: 5 finding(s)" in out
    assert "warning: 1 row(s): cina_assessment_auth_date is before cina_assessment_start_date [end-before-start]" in out
    assert "cina_assessment_id=A3, cina_assessment_start_date=2017-04-10, cina_assessment_auth_date=2017-04-02" in out
    assert "warning: 1 row(s): cina_referral_id refers to a ssd_cin_episodes record not in the extract [orphan-reference]" in out
    assert "warning: 2 row(s): the key `cina_assessment_id` is used by more than one row [duplicate-key]" in out
    assert "cina_assessment_auth_date is after the extract date 2017-10-05 [after-extract-date]" in out


def test_findings_do_not_stop_a_run_but_duplicate_keys_do(kpi, extracts):
    path = extracts / "ssd_cin_assessments.csv"
    path.write_text(path.read_text().replace("2017-04-10,2017-04-12", "2017-04-10,2017-04-02"))
    result = kpi("compute", "--project", FIXTURE_PROJECT, "--data", extracts, "--period", "2017-09", "--format", "csv")
    assert result.exit_code == 0


def test_a_bad_extract_date_is_a_usage_error(kpi):
    result = kpi("check-data", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--extract-date", "05/10/2017")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_examples_can_be_left_out(kpi, extracts):
    path = extracts / "ssd_cp_plans.csv"
    path.write_text(path.read_text().replace("C4,P4,,2016-02-01,2016-10-15", "C4,P4,,2016-02-01,2015-10-15"))
    result = check(kpi, extracts, "--no-examples")
    assert "[end-before-start]" in result.stdout and "cppl_cp_plan_id=C4" not in result.stdout
