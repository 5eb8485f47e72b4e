"""Turning arrays into the extract's columns and tables: codes, dates, timestamps, nulls, and each
table in schemas/extracts.yaml's column order and types. Generates no values itself.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl

from kpi.config import bundled_root
from kpi.extracts import table_definitions


_TYPES = {"text": pl.String, "date": pl.Date, "timestamp": pl.Datetime("us"), "boolean": pl.Boolean,
          "integer": pl.Int64, "double": pl.Float64}


@lru_cache(maxsize=1)
def table_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Column names and polars types of every extract table, in schemas/extracts.yaml's order."""
    tables = table_definitions(bundled_root() / "schemas")
    return {name: {c.name: _TYPES[c.type] for c in table.columns} for name, table in tables.items()}


def codes_at(values, index: np.ndarray) -> pl.Series:
    """The code at each index: a gather on a small polars Series (faster than numpy strings at scale)."""
    return pl.Series([v[0] if isinstance(v, tuple) else v for v in values], dtype=pl.String).gather(
        np.asarray(index, dtype=np.int64))


def weights_of(values) -> list[float]:
    """The weights of (code, weight) pairs."""
    return [v[1] for v in values]


def as_dates(days: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Day numbers as numpy dates; NaT (null) where not valid.

    A date not yet reached at the extract date (a due date after it, an end still to come) is passed with
    valid False: the extract holds nothing dated after its own date."""
    out = np.asarray(days, dtype=np.int64).astype("M8[D]")
    if valid is not None:
        out = np.where(valid, out, np.datetime64("NaT", "D"))
    return out


def as_timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Seconds since 1970 as microsecond timestamps; NaT (null) where not valid."""
    out = (np.asarray(seconds, dtype=np.int64) * 1_000_000).astype("M8[us]")
    if valid is not None:
        out = np.where(valid, out, np.datetime64("NaT", "us"))
    return out


def masked(series, valid: np.ndarray) -> pl.Series:
    """A series with nulls where not valid (for text, boolean and number columns)."""
    series = series if isinstance(series, pl.Series) else pl.Series(series)
    frame = pl.DataFrame({"value": series, "valid": np.asarray(valid, dtype=bool)})
    return frame.select(pl.when(pl.col("valid")).then(pl.col("value"))).to_series()


def as_frame(name: str, columns: dict) -> pl.DataFrame:
    """A table in its schema's column order and types; columns not generated are null."""
    schema = table_schemas()[name]
    unknown = set(columns) - set(schema)
    if unknown:
        raise KeyError(f"{name}: columns not in schemas/extracts.yaml: {sorted(unknown)}")
    height = len(next(iter(columns.values())))
    series = []
    for column, dtype in schema.items():
        values = columns.get(column)
        if values is None:
            series.append(pl.Series(column, [None] * height, dtype=dtype))
        else:
            s = values if isinstance(values, pl.Series) else pl.Series(values)
            series.append(s.alias(column).cast(dtype))
    return pl.DataFrame(series)
