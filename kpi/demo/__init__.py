"""The embedded demo council: a deterministic, synthetic extract of every table in schemas/extracts.yaml.

Case histories run from April 2014 to 31 March 2018, sized and timed so that September 2017 resembles the
seed scorecard. Every child is invented; nothing here computes an indicator or reads real data. Importing
this package is cheap: numpy (the `demo` extra) and the generator load only when `generate` is called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from kpi.demo.timeline import DEFAULT_SEED, EXTRACT_DATE, HISTORY_START
from kpi.issues import KpiError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["DEFAULT_SEED", "EXTRACT_DATE", "HISTORY_START", "generate", "table_schemas", "write_extracts"]

NEEDS_NUMPY = ("the demo council needs numpy, which is not installed: pip install 'kpi[demo]' "
               "(or give --data with your own extracts)")


def generate(scale: int = 1, seed: int = DEFAULT_SEED) -> dict[str, pl.DataFrame]:
    """Every table of schemas/extracts.yaml for the demo council, `scale` times its size; same seed, same data.

    Raises KpiError when numpy is not installed, ValueError when scale is not a whole number of at least 1.
    """
    try:
        import numpy  # noqa: F401  (the generator's one dependency beyond the core's)
    except ImportError:
        raise KpiError(NEEDS_NUMPY) from None
    from kpi.demo.council import generate as generate_council

    return generate_council(scale, seed)


def table_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Column names and polars types of every extract table, in schemas/extracts.yaml's order."""
    from kpi.demo.columns import table_schemas as schemas

    return schemas()


def write_extracts(tables: dict[str, pl.DataFrame], out_dir: str | os.PathLike, fmt: str = "csv") -> list[Path]:
    """Write `<table>.csv` or `<table>.parquet` per table into out_dir; each file appears whole or not at all."""
    from kpi.demo.extract_files import write_extracts as write

    return write(tables, out_dir, fmt)
