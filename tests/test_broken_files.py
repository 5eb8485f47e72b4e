"""One broken or hostile indicator file per kind of fault (tests/fixtures/broken/): each must fail
`kpi validate` with the message a user needs, naming the file and line. Adding a case is adding a file
whose first line says `# expect: <the message>`; a second line `# at: <text>` says that the message must
point at the line holding that text (inside the SQL block, for SQL faults)."""

import re
import shutil
from pathlib import Path

import pytest

from kpi.definitions import file_stem_for

BROKEN = Path(__file__).parent / "fixtures" / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def expectation(path: Path) -> str:
    return re.match(r"# expect: (.*)", path.read_text().splitlines()[0]).group(1)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_each_broken_file_fails_with_the_message_a_user_needs(kpi, tmp_path, path):
    project = tmp_path / "project"
    (project / "indicators").mkdir(parents=True)
    # files keep their names only for the file-name case; the others are named after their id
    name = path.name if path.stem == "file_name_not_id" else f"{file_stem_for('TST 900')}.yaml"
    shutil.copy(path, project / "indicators" / name)
    result = kpi("validate", "--project", project)
    assert result.exit_code == 1, result.stdout
    assert expectation(path) in result.stdout, result.stdout
    assert re.search(rf"{re.escape(name)}:\d+", result.stdout), "every message names the file and line"
    lines = path.read_text().splitlines()
    at = re.match(r"# at: (.*)", lines[1])
    if at:
        line = next(n for n, text in enumerate(lines, start=1) if n > 2 and at.group(1) in text)
        assert f"{name}:{line}:" in result.stdout, result.stdout


def test_the_suite_covers_every_kind_of_fault():
    assert len(CASES) >= 30
