"""The core without numpy (the `demo` extra): validating, testing and computing on a council's own extracts
work, a cached demo council loads, and the demo without a cache says how to install numpy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_EXTRACTS, FIXTURE_PROJECT, REPO, Kpi

# Runs the real CLI in a Python where `import numpy` fails, then records which kpi.demo modules were loaded.
WITHOUT_NUMPY = """
import json, os, sys
sys.modules["numpy"] = None
sys.argv = ["kpi", *sys.argv[1:]]
from kpi.cli import main
try:
    main()
finally:
    with open(os.environ["KPI_MODULES_FILE"], "w") as out:
        json.dump(sorted(m for m in sys.modules if m == "kpi.demo" or m.startswith("kpi.demo.")), out)
"""


def kpi_without_numpy(tmp_path: Path, *args) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`kpi *args` in a subprocess without numpy; the result and the kpi.demo modules it imported."""
    modules = tmp_path / "modules.json"
    # The demo cache is tmp_path/cache: empty unless the test filled it.
    env = {**os.environ, "KPI_MODULES_FILE": str(modules), "KPI_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", WITHOUT_NUMPY, *map(str, args)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    return result, json.loads(modules.read_text())


def published(text):
    """The scorecard's numbers, without the provenance record (when and from what it was made)."""
    scorecard = json.loads(text)
    scorecard.pop("provenance", None)
    return scorecard


def test_validate_and_test_need_no_numpy_nor_the_demo(tmp_path):
    for command in ("validate", "test"):
        result, modules = kpi_without_numpy(tmp_path, command)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert modules == []


def test_compute_on_a_councils_extracts_needs_no_numpy_nor_the_demo(tmp_path):
    result, modules = kpi_without_numpy(tmp_path, "compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS,
                                        "--period", "2017-09", "--format", "json")
    assert result.returncode == 0, result.stderr
    with_numpy = Kpi().json("compute", "--project", FIXTURE_PROJECT, "--data", FIXTURE_EXTRACTS, "--period", "2017-09")
    assert published(result.stdout) == with_numpy
    assert modules == []


def test_the_demo_without_numpy_and_no_cache_says_how_to_install_it(tmp_path):
    result, _ = kpi_without_numpy(tmp_path, "compute", "--period", "2017-09")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == lines[0].lower()
    assert "numpy" in lines[0] and "pip install 'kpi[demo]'" in lines[0]
    assert not any(tmp_path.glob("cache/*.duckdb"))


def test_writing_the_demo_without_numpy_says_how_to_install_it(tmp_path):
    result, _ = kpi_without_numpy(tmp_path, "demo", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()] and "pip install 'kpi[demo]'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_cached_demo_loads_without_numpy(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    with_numpy = Kpi().json("compute", "--period", "2017-09", "--project", REPO)  # generates and caches the demo
    result, modules = kpi_without_numpy(tmp_path, "compute", "--period", "2017-09", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert published(result.stdout) == with_numpy
    assert "kpi.demo.council" not in modules        # read from the cache, not generated
