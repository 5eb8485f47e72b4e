"""The worked example in docs/adding-an-indicator.md is a real indicator: it validates and its case passes."""

import re

from tests.conftest import REPO


def test_the_worked_example_validates_and_passes_its_test(kpi, tmp_path):
    text = (REPO / "docs" / "adding-an-indicator.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "csc_038.yaml").write_text(example)
    validated = kpi("validate", "--project", tmp_path)
    assert validated.exit_code == 0, validated.stdout
    tested = kpi("test", "--project", tmp_path)
    assert tested.exit_code == 0 and "1 passed, 0 failed" in tested.stdout, tested.stdout
