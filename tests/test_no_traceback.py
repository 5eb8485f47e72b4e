"""No traceback, ever: whatever a `value` expression computes and whatever options a command is given,
`kpi` ends with a message and an exit code (0, 1 or 2), never a Python exception (issue: right numbers
or a loud refusal). CliRunner runs with catch_exceptions=False, so an exception fails the test."""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, Kpi

VALUE_INDICATOR = """\
id: TST 900
title: A value expression under test
tier: key
service_group: Contacts
collected: monthly
polarity: bigger
unit: {unit}
numerator: |
  SELECT p.month, ({expression}) AS value
  FROM ssd_cin_episodes r
  JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date
{denominator}"""

DENOMINATOR = """denominator: |
  SELECT p.month, ({expression}) AS value
  FROM ssd_cin_episodes r
  JOIN period p ON CAST(r.cine_referral_date AS DATE) BETWEEN p.start_date AND p.end_date
"""

ATOMS = ["0", "1", "-1", "0.0", "1e308", "-1e308", "5e-324", "NULL", "'nan'::DOUBLE", "'inf'::DOUBLE",
         "length(r.cine_referral_id)", "9223372036854775807", "0.1", "3"]
expressions = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"sqrt({e})"),
        inner.map(lambda e: f"ln({e})"),
        inner.map(lambda e: f"CAST({e} AS DOUBLE)"),
        inner.map(lambda e: f"CAST({e} AS DECIMAL(18, 3))"),
    ),
    max_leaves=4,
)


@pytest.fixture(scope="module")
def value_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("values") / "project"
    (root / "indicators").mkdir(parents=True)
    return root


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(numerator=expressions, denominator=st.none() | expressions, unit=st.sampled_from(["count", "percent", "rate_per_10000"]))
def test_any_value_expression_gives_a_number_or_that_indicators_error(value_project, numerator, denominator, unit):
    text = VALUE_INDICATOR.format(unit=unit, expression=numerator,
                                  denominator=DENOMINATOR.format(expression=denominator) if denominator else "")
    (value_project / "indicators" / "tst_900.yaml").write_text(text, encoding="utf-8")
    result = Kpi()("compute", "--project", value_project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    if result.exit_code == 1:
        assert "TST 900" in result.stderr


OPTION_VALUES = ["", " ", "2017-13", "17-09", "2017-9", "9999-12", "0001-01", "2017-09-30", "abc", "-1", "0",
                 "CSC 999", "*", "[", "team; DROP TABLE x", "../../etc/passwd", "nonexistent/", "é£"]  # (no NUL: argv cannot hold one)
COMMANDS = {
    "compute": ["--period", "--indicators", "--service-group", "--lead-officer", "--format", "--by", "--scale", "--data"],
    "validate": ["--output-format", "--period", "--data"],
    "test": [],
    "list": [],
    "explain": ["--period"],
    "drill": ["--period", "--part", "--format"],
    "check-data": ["--extract-date", "--data"],
    "schema": [],
}


@settings(max_examples=60, deadline=None)
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data())
def test_any_options_give_a_message_and_an_exit_code(command, data):
    options = COMMANDS[command]
    chosen = data.draw(st.lists(st.sampled_from(options), unique=True, max_size=len(options))) if options else []
    args = [command]
    if command in ("explain", "drill"):
        args.append(data.draw(st.sampled_from(["TST 001", "tst 002", "TST 999", ""] + OPTION_VALUES[:4])))
    if command == "test":
        args.extend(data.draw(st.lists(st.sampled_from(["TST 001", "TST 9*", "*", "["]), max_size=2)))
    for option in chosen:
        args += [option, data.draw(st.sampled_from(OPTION_VALUES))]
    if "--data" not in chosen and command in ("compute", "drill", "check-data", "validate") and data.draw(st.booleans()):
        args += ["--data", str(FIXTURE_EXTRACTS)]
    result = Kpi()(*args, "--project", FIXTURE_PROJECT)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [["init"], ["demo", "--out"], ["compute", "--period", "2017-09", "--output"]])
def test_a_path_the_system_refuses_is_one_line_and_exit_2(kpi, tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "inside"
    args = [*command, target] if command != ["compute", "--period", "2017-09", "--output"] else [*command, target / "s.csv"]
    result = kpi(*args, "--project", FIXTURE_PROJECT) if command[0] == "compute" else kpi(*args)
    assert result.exit_code == 2, result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
