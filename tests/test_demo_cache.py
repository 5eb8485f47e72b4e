"""Tests of the demo council's cache key (kpi/demo/cache.py): a change to any module of the generator,
or to its data, names a new cache file, so that a stale demo is never read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpi.demo import cache

PACKAGE = Path(cache.__file__).parent


def test_the_key_covers_every_module_and_data_file_of_the_demo_package():
    inputs = set(cache._inputs())
    assert set(PACKAGE.glob("*.py")) <= inputs
    assert PACKAGE / "data" / "benchmarks.csv" in inputs


@pytest.mark.parametrize("changed", sorted(p.name for p in PACKAGE.glob("*.py")) + ["data/benchmarks.csv"])
def test_changing_any_module_names_a_new_cache_file(tmp_path, monkeypatch, changed):
    copy = tmp_path / "demo"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_DEMO_DIR", copy)
    before = cache.cache_file(1)
    assert before == cache.cache_file(1) != cache.cache_file(2)
    with open(copy / changed, "a") as handle:
        handle.write("\n")
    assert cache.cache_file(1) != before
