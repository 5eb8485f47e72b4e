"""Writing the demo council's tables as the files a council provides (<table>.csv or <table>.parquet).
Generates nothing; each file appears whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from kpi.atomic import write_atomically


def write_extracts(tables: dict[str, pl.DataFrame], out_dir: str | os.PathLike, fmt: str = "csv") -> list[Path]:
    """Write `<table>.csv` or `<table>.parquet` per table into out_dir; each file appears whole or not at all."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / f"{name}.{fmt}"
        if fmt == "csv":
            write_atomically(target, lambda p, f=frame: f.write_csv(
                p, date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S", null_value=""))
        else:
            write_atomically(target, lambda p, f=frame: f.write_parquet(p))
        written.append(target)
    return written
