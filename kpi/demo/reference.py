"""Reference data: ref_population (the 0-17 mid-year estimates) and ref_benchmarks (the seed's England,
North East and statistical-neighbour values, read from data/benchmarks.csv).
"""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import polars as pl

from kpi.demo.columns import table_schemas
from kpi.demo.context import Context


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
POPULATION_BY_YEAR = {               # mid-year estimates for ref_population; 2017 is the seed's
    2013: 22_910, 2014: 22_860, 2015: 22_800, 2016: 22_710, 2017: 22_627, 2018: 22_570,
}


def population_table(ctx: Context) -> dict:
    """ref_population: the 0-17 mid-year estimates, 2013-2018."""
    years = sorted(POPULATION_BY_YEAR)
    return {
        "year": np.array(years, dtype=np.int64),
        "age_band": ["0-17"] * len(years),
        "population": np.array([POPULATION_BY_YEAR[y] * ctx.scale for y in years], dtype=np.int64),
    }


def benchmark_table() -> pl.DataFrame:
    """ref_benchmarks: the seed's England, North East and statistical-neighbour values (package data)."""
    data = (resources.files(__package__) / "data" / "benchmarks.csv").read_bytes()
    frame = pl.read_csv(io.BytesIO(data), schema_overrides={"indicator_id": pl.String, "value": pl.Float64})
    return frame.select([pl.col(c).cast(t) for c, t in table_schemas()["ref_benchmarks"].items()])
