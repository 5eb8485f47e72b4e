"""kpi.toml (kpi/config.py): the keys that say how to read a council's extracts, and their checks."""

from datetime import date

import pytest

from kpi.config import Config, read_config
from kpi.issues import KpiError


def test_the_reading_keys_default_to_refusing_and_finding(tmp_path):
    config = read_config(tmp_path / "kpi.toml")  # no file: the defaults
    assert config.two_digit_year_pivot is None and config.extract_date is None
    assert config.reference_match_min == 0.99 and dict(config.encoding) == {}


def test_the_reading_keys_are_read(tmp_path):
    path = tmp_path / "kpi.toml"
    path.write_text(
        "extract_date = 2018-03-31\ntwo_digit_year_pivot = 50\nreference_match_min = 0.95\n"
        "[encoding]\nssd_contacts = \"cp1252\"\n",
        encoding="utf-8",
    )
    config = read_config(path)
    assert config == Config(extract_date=date(2018, 3, 31), two_digit_year_pivot=50, reference_match_min=0.95,
                            encoding={"ssd_contacts": "cp1252"})


@pytest.mark.parametrize("content, message", [
    ("two_digit_year_pivot = 120\n", "`two_digit_year_pivot` must be a whole number from 0 to 100"),
    ("two_digit_year_pivot = \"50\"\n", "`two_digit_year_pivot` must be"),
    ("reference_match_min = 1.5\n", "`reference_match_min` must be a share from 0 to 1"),
    ("extract_date = \"2018-03-31\"\n", "`extract_date` must be a date, unquoted"),
    ("extract_date = 2018-03-31T10:00:00\n", "`extract_date` must be a date"),
    ("[encoding]\nssd_contacts = \"klingon\"\n", "`encoding.ssd_contacts` is 'klingon', which is not an encoding"),
])
def test_a_wrong_value_is_named_with_what_to_write(tmp_path, content, message):
    path = tmp_path / "kpi.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KpiError) as raised:
        read_config(path)
    assert message in str(raised.value) and "kpi.toml" in str(raised.value)


def test_the_extract_date_of_kpi_toml_refuses_a_month_after_it(kpi, tmp_path):
    import shutil

    from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT

    project = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, project)
    (project / "kpi.toml").write_text("extract_date = 2017-08-31\n", encoding="utf-8")
    result = kpi("compute", "--project", project, "--data", FIXTURE_EXTRACTS, "--period", "2017-09", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "the reporting month 2017-09 ends after kpi.toml's extract_date (2017-08-31)" in result.stderr
