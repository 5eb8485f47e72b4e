"""Shared fixtures: the fixture project and extracts under tests/fixtures, and the real CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_PROJECT = FIXTURES / "project"
FIXTURE_EXTRACTS = FIXTURES / "extracts"
REPO = Path(__file__).parent.parent


def scorecard_csv(text: str) -> list[dict]:
    """The rows of a CSV scorecard, without its footer (the `#` lines of provenance and warnings)."""
    import csv
    import io

    return list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))


class Kpi:
    """Runs `kpi` in-process through typer's CliRunner, keeping stdout and stderr apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str) -> dict:
        """The JSON scorecard, without its provenance record (which says when, and from what files, it was
        made: two runs of the same numbers differ there); tests/test_provenance.py reads that record."""
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        scorecard = json.loads(result.stdout)
        scorecard.pop("provenance", None)
        return scorecard


@pytest.fixture(autouse=True, scope="session")
def demo_cache_in_a_temporary_folder(tmp_path_factory):
    """Tests never write into the user's cache folder."""
    os.environ["KPI_CACHE_DIR"] = str(tmp_path_factory.mktemp("kpi-cache"))
    os.environ.pop("KPI_NO_CACHE", None)


@pytest.fixture
def kpi() -> Kpi:
    return Kpi()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project, for tests that add or break files."""
    target = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, target)
    return target


@pytest.fixture
def extracts(tmp_path: Path) -> Path:
    """A writable copy of the fixture extracts."""
    target = tmp_path / "extracts"
    shutil.copytree(FIXTURE_EXTRACTS, target)
    return target
