"""A council's own schemas/extracts.yaml is checked like an indicator file: each fault named with its
file, line and what to do, never a traceback (kpi/extracts.py table_definitions, kpi/yamldoc.py)."""

import shutil

import pytest

from kpi.config import bundled_root

BUNDLED = bundled_root() / "schemas" / "extracts.yaml"


def own_schemas(project, edit):
    """The project with its own copy of extracts.yaml, changed by `edit` (old text → new text)."""
    schemas = project / "schemas"
    schemas.mkdir(exist_ok=True)
    text = BUNDLED.read_text(encoding="utf-8")
    for old, new in edit.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    (schemas / "extracts.yaml").write_text(text, encoding="utf-8")
    return text


def line_of(text, fragment):
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize("command", [["validate"], ["compute", "--period", "2017-09", "--format", "json"], ["test"], ["list"]])
def test_a_table_without_its_key_is_named_at_its_line(kpi, project, command):
    text = own_schemas(project, {"  ssd_person:\n    key: pers_person_id\n": "  ssd_person:\n"})
    result = kpi(*command, "--project", project)
    assert result.exit_code == 2
    assert "schemas/extracts.yaml" in result.stderr
    assert "missing required key `tables.ssd_person.key`" in result.stderr
    assert f"extracts.yaml:{line_of(text, '  ssd_person:')}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_misspelt_type_gets_the_nearest(kpi, project):
    text = own_schemas(project, {"pers_dob: date": "pers_dob: dat"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "`tables.ssd_person.columns.pers_dob` is 'dat'" in result.stderr
    assert "did you mean `date`?" in result.stderr
    assert f"extracts.yaml:{line_of(text, 'pers_dob: dat')}" in result.stderr


def test_a_misspelt_table_key_gets_the_nearest(kpi, project):
    own_schemas(project, {"    references: {cont_person_id": "    refrences: {cont_person_id"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "unknown key `tables.ssd_contacts.refrences`" in result.stderr and "did you mean `references`?" in result.stderr


def test_a_reference_to_an_undefined_column_is_named(kpi, project):
    own_schemas(project, {"{cont_person_id: ssd_person.pers_person_id}": "{cont_person_id: ssd_person.pers_id}"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "table ssd_contacts: `cont_person_id` refers to ssd_person.pers_id, which is not defined" in result.stderr


def test_a_period_over_a_text_column_is_named(kpi, project):
    own_schemas(project, {"[[earl_episode_start_date, earl_episode_end_date]]": "[[earl_episode_start_date, earl_episode_reason]]"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "the period column `earl_episode_reason` is not a date or timestamp column" in result.stderr


def test_a_duplicate_column_is_named(kpi, project):
    own_schemas(project, {"      pers_sex: text\n": "      pers_sex: text\n      pers_sex: text\n"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "key `tables.ssd_person.columns.pers_sex` is given twice" in result.stderr


def test_broken_yaml_is_named_with_its_line(kpi, project):
    own_schemas(project, {"    key: pers_person_id\n": "    key: [pers_person_id\n"})
    result = kpi("validate", "--project", project)
    assert result.exit_code == 2
    assert "extracts.yaml" in result.stderr and "not valid YAML" in result.stderr


def test_a_council_may_add_a_column_of_its_own(kpi, project):
    own_schemas(project, {"      pers_sex: text\n": "      pers_sex: text\n      pers_locality: text\n"})
    assert kpi("validate", "--project", project).exit_code == 0
