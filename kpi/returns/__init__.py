"""The statutory returns as sources (`--source ssda903`): each return's reader turns its files into rows
of the canonical tables, which `stage` writes as typed Parquet files for the ordinary typed loading. What
a return cannot give is absent, so the indicators needing it are refused. One module per return.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Mapping

import polars as pl

from kpi.extracts import FILE_SUFFIXES, Table
from kpi.returns import annex_a, cin_census, ssda903

RETURNS: dict[str, ModuleType] = {m.NAME: m for m in (ssda903, cin_census, annex_a)}

_POLARS = {"text": pl.String, "date": pl.Date, "timestamp": pl.Datetime("us"), "boolean": pl.Boolean,
           "double": pl.Float64, "integer": pl.Int64}


def names() -> list[str]:
    """The returns kpi reads, by source name."""
    return sorted(RETURNS)


def no_source(name: str, tables: Mapping[str, Table]) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """(per table the columns the return cannot give, the tables it cannot give or may lack)."""
    gives = RETURNS[name].GIVES
    columns = {t: tuple(c.name for c in tables[t].columns if c.name not in given) for t, given in gives.items() if t in tables}
    missing = tuple(sorted(t for t in tables if t not in gives and t != "ref_benchmarks"))  # ref_population: beside the files
    return {t: c for t, c in columns.items() if c}, missing + tuple(t for t in may_be_absent(name) if t not in missing)


def may_be_absent(name: str) -> tuple[str, ...]:
    """The tables the return gives that its files may lack (then absent, as if it gave none)."""
    return tuple(getattr(RETURNS[name], "MAY_BE_ABSENT", ()))


def frames(name: str, path: Path, tables: Mapping[str, Table]) -> dict[str, pl.DataFrame]:
    """The return's files in `path` as canonical tables (only the columns it gives), typed as
    schemas/extracts.yaml says. Raises KpiError naming every problem in the files."""
    rows = RETURNS[name].read(Path(path))
    found = {}
    for table, given in RETURNS[name].GIVES.items():
        if table not in rows or table not in tables:
            continue
        schema = {c: _POLARS[tables[table].column(c).type] for c in given}
        data = _unique(name, path, table, given[0], rows[table])
        found[table] = pl.DataFrame([{c: r.get(c) for c in schema} for r in data], schema=schema, orient="row", strict=False) \
            if data else pl.DataFrame(schema=schema)
    return found


def _unique(name: str, path: Path, table: str, key: str, rows: list[dict]) -> list[dict]:
    """The rows with a record repeated exactly kept once (a return may repeat one, e.g. a plan); two
    different records with one key are refused, naming the key."""
    kept: dict = {}
    for row in rows:
        earlier = kept.setdefault(row[key], row)
        if earlier != row:
            from kpi.issues import KpiError, display_path

            differ = ", ".join(c for c in row if row[c] != earlier[c])
            raise KpiError(f"the {name} files in {display_path(path)} hold two different records {row[key]!r} of {table} "
                           f"(they differ in {differ}): keep one")
    return list(kept.values())


def stage(name: str, path: Path, tables: Mapping[str, Table], folder: Path) -> None:
    """Write the return's canonical tables into `folder` as Parquet, with any canonical table file given
    beside the return (e.g. ref_population.csv), for the ordinary loading to read."""
    for table, frame in frames(name, path, tables).items():
        frame.write_parquet(folder / f"{table}.parquet")
    for table in tables:
        for suffix in FILE_SUFFIXES:
            given = Path(path) / f"{table}{suffix}"
            if given.is_file() and not (folder / f"{table}.parquet").exists():
                (folder / given.name).symlink_to(given.resolve())


def files_sha256(path: Path) -> str:
    """One checksum of every file of a return (a file, or a folder's files by their relative paths)."""
    import hashlib

    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
        digest.update(str(file.relative_to(path) if file != path else file.name).encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def write_demo(name: str, tables: Mapping[str, pl.DataFrame], out: Path) -> list[Path]:
    """The demo council written out as the return `name` (the years or the date its module's
    `write_demo` says), with its ref_population.csv beside, as a council would give it; returns the
    files or folders of the return."""
    from kpi.atomic import write_atomically

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = RETURNS[name].write_demo(dict(tables), out)
    write_atomically(out / "ref_population.csv", lambda p: tables["ref_population"].write_csv(p))
    return written
