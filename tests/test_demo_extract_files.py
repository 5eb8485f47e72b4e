"""Tests of writing the demo council's extract files (kpi/demo/extract_files.py): CSV and Parquet, each
file whole or not at all."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from kpi import demo


@pytest.fixture(scope="module")
def t() -> dict[str, pl.DataFrame]:
    """The demo council at scale 1 with the default seed, generated once for the module."""
    return demo.generate()


def test_write_extracts_as_csv(t, tmp_path):
    paths = demo.write_extracts(t, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(f"{name}.csv" for name in t)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{name}.csv" for name in t)
    lines = (tmp_path / "out" / "ssd_cin_episodes.csv").read_text().splitlines()
    assert lines[0].split(",") == t["ssd_cin_episodes"].columns
    first = dict(zip(lines[0].split(","), lines[1].split(",")))
    datetime.strptime(first["cine_referral_date"], "%Y-%m-%d %H:%M:%S")
    assert first["cine_outcome_assessment"] in ("true", "false", "")
    person = (tmp_path / "out" / "ssd_person.csv").read_text().splitlines()
    assert person[1].split(",")[3] == t["ssd_person"]["pers_dob"][0].isoformat()
    assert person[1].endswith(",")                                          # a null death date is empty
    back = pl.read_csv(tmp_path / "out" / "ssd_cp_plans.csv", try_parse_dates=True)
    assert back.height == t["ssd_cp_plans"].height


def test_write_extracts_as_parquet_round_trips(t, tmp_path):
    demo.write_extracts(t, tmp_path, fmt="parquet")
    for name in ("ssd_contacts", "ssd_cla_placement", "ref_benchmarks"):
        assert pl.read_parquet(tmp_path / f"{name}.parquet").equals(t[name])


def test_a_failed_write_leaves_no_partial_file(t, tmp_path, monkeypatch):
    def fail(self, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_csv", fail)
    with pytest.raises(OSError):
        demo.write_extracts(t, tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        demo.write_extracts(t, tmp_path, fmt="xlsx")
