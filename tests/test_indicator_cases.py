"""The bundled indicators' own cases (`tests:` in indicators/*.yaml) run under pytest, one item per
indicator, through the real `kpi test`: a failing case names its indicator. The list is read from the
folder, so an indicator a council adds is tested too."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import REPO

INDICATOR_FILES = sorted((REPO / "indicators").glob("*.yaml"))


def _id(path) -> str:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["id"]


@pytest.mark.parametrize("indicator_id", [_id(p) for p in INDICATOR_FILES])
def test_the_cases_of(indicator_id, kpi):
    result = kpi("test", indicator_id, "--project", REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.endswith(" passed, 0 failed") and not summary.startswith("0 passed"), summary


def test_every_indicator_file_is_collected():
    assert len(INDICATOR_FILES) == len({_id(p) for p in INDICATOR_FILES}) > 0
