"""Benchmark (SPEC §11): the full scorecard against the raw floor, as ratios measured in one run (the
machine is shared and noisy: compare ratios, not seconds).

    .venv/bin/python benchmarks/bench.py --scales 1 20 500

For each scale the demo council is written as Parquet (and, with --csv, as CSV too) under a temporary
folder; then, best of --repeat runs each, every one a fresh process:
  raw floor = a Python process that imports DuckDB, runs DuckDB's own
              `CREATE TABLE t AS SELECT * FROM read_parquet('t.parquet')` (read_csv for CSV, its types
              sniffed) of every extract file, and one scan of each table (a count of every column)
  scorecard = `kpi compute --period 2017-09 --data <folder> --format csv`: start-up, definitions,
              typed loading with every check (types, keys, references), views, queries, rendering
and the ratio scorecard / floor (SPEC §11 asks for at most 3; issue 16 for at most 2). The scorecard
is split into stages, measured in the same process:
  start        the interpreter and imports, and whatever the stages below do not cover
  definitions  the indicators, queries/ and schemas/extracts.yaml read and checked
  load         the extract files read into typed tables, checked (types, keys, references, coverage)
  views        the calendar, the shared macros and views installed, the shared views materialised
  queries      every indicator's numerator and denominator for all its months
  render       the scorecard assessed, put through disclosure control and written as CSV
Peak RSS (resident memory) of each process is shown. Last, the end-to-end time of the README's first
command on the embedded demo council (issue 16 asks for at most 1 s), `kpi validate` (0.5 s) and
`kpi test` (3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("start", "definitions", "load", "views", "queries", "render")
PERIOD = "2017-09"

FLOOR_SCRIPT = """
import sys, glob, os
import duckdb
con = duckdb.connect(":memory:")
con.execute("SET enable_progress_bar = false")
kind = sys.argv[2]
tables = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*." + kind))):
    name = os.path.basename(path).rsplit(".", 1)[0]
    reader = "read_parquet" if kind == "parquet" else "read_csv"
    con.execute(f"CREATE TABLE \\"{name}\\" AS SELECT * FROM {reader}('{path}')")
    tables.append(name)
for name in tables:
    columns = [row[0] for row in con.execute(f'DESCRIBE "{name}"').fetchall()]
    counts = ", ".join('count("' + c + '")' for c in columns)
    con.execute(f'SELECT {counts} FROM "{name}"').fetchall()
"""


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes (of this process alone, from wait4) and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss * 1024, out.read().decode()


def best(repeat: int, command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """The fastest of `repeat` runs (wall, its peak RSS, its stdout)."""
    return min((run_measured(command, env) for _ in range(repeat)), key=lambda r: r[0])


def kpi_command() -> list[str]:
    """`kpi` as this checkout's code (the working folder first on the path), whatever is installed."""
    return [sys.executable, "-m", "kpi"]


def stages_child(data: str) -> None:
    """Run `kpi compute --data <data> --format csv` in this process, timing each stage; print them as JSON."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from kpi import database, pipeline, render
    from kpi.config import open_project
    from kpi.periods import parse_period

    spent = dict.fromkeys(STAGES[1:], 0.0)

    def timed(stage: str, function):
        def run(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - began
        return run

    for name in ("_load_source", "_load_demo", "coverage_warnings"):
        setattr(pipeline, name, timed("load", getattr(pipeline, name)))
    for name in ("create_missing_tables",):
        setattr(database, name, timed("load", getattr(database, name)))
    for name in ("install_calendar", "install_shared", "materialise"):
        setattr(database, name, timed("views", getattr(database, name)))
    pipeline.run_plan = timed("queries", pipeline.run_plan)
    imported = time.perf_counter()

    began = time.perf_counter()
    project = open_project(None)
    definitions = pipeline.load_definitions(project)
    spent["definitions"] = time.perf_counter() - began
    began = time.perf_counter()
    scorecard = pipeline.compute(project, definitions, definitions.indicators, parse_period(PERIOD), Path(data))
    computed = time.perf_counter() - began
    began = time.perf_counter()
    text = render.render(scorecard, "csv")
    sys.stdout.write("")  # the text is made, not printed: the JSON below is this process's output
    spent["render"] = time.perf_counter() - began + computed - spent["load"] - spent["views"] - spent["queries"]
    spent["imports"] = imported - started
    spent["rows_out"] = text.count("\n")
    print(json.dumps(spent))


def stage_breakdown(repeat: int, data: Path) -> tuple[float, int, dict[str, float]]:
    """The fastest of `repeat` processes that compute the scorecard with each stage timed: its wall time,
    peak RSS and stages (start being the wall time the other stages do not account for)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--stages-of", str(data)]
    wall, rss, out = best(repeat, command)
    spent = json.loads(out)
    spent["start"] = wall - sum(spent[s] for s in STAGES[1:])
    return wall, rss, spent


def write_demo(scale: int, folder: Path, formats: list[str]) -> int:
    """The demo council at `scale` written in each format under folder/<format>; its number of rows."""
    sys.path.insert(0, str(ROOT))
    from kpi import demo

    tables = demo.generate(scale=scale)
    rows = sum(frame.height for frame in tables.values())
    for fmt in formats:
        demo.write_extracts(tables, folder / fmt, fmt)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 20])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="also measure the scorecard from CSV files (and a raw floor of DuckDB's read_csv)")
    parser.add_argument("--commands", action="store_true", help="only the demo end to end, kpi validate and kpi test")
    parser.add_argument("--data", type=Path, nargs="+", default=[], help="also (or, with --scales and nothing after it, only) "
                        "these folders of extract files, e.g. written once by `kpi demo --scale 500 --format parquet`")
    parser.add_argument("--stages-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_of:
        stages_child(args.stages_of)
        return

    if not args.commands:
        formats = ["parquet", "csv"] if args.csv else ["parquet"]
        print(f"scorecard: `kpi compute --period {PERIOD} --data <folder> --format csv`, 51 indicators; best of {args.repeat}")
        print(f"{'scale':>5} {'format':>7} {'rows':>11} {'floor s':>8} {'card s':>7} {'ratio':>5}  "
              + " ".join(f"{s:>7}" for s in STAGES) + f" {'floor RSS':>9} {'card RSS':>9}")
        def measure(label: str, data: Path, fmt: str, rows: int | None) -> None:
            floor_s, floor_rss, _ = best(args.repeat, [sys.executable, "-c", FLOOR_SCRIPT, str(data), fmt])
            card_s, card_rss, spent = stage_breakdown(args.repeat, data)
            print(f"{label:>5} {fmt:>7} {rows or 0:>11,} {floor_s:>8.2f} {card_s:>7.2f} {card_s / floor_s:>5.2f}  "
                  + " ".join(f"{spent[s]:>7.2f}" for s in STAGES)
                  + f" {floor_rss / 2**20:>7.0f} M {card_rss / 2**20:>7.0f} M", flush=True)

        for scale in args.scales:
            with tempfile.TemporaryDirectory(prefix="kpi-bench-") as folder:
                rows = write_demo(scale, Path(folder), formats)
                for fmt in formats:
                    measure(str(scale), Path(folder) / fmt, fmt, rows)
        for data in args.data:
            fmt = "csv" if any(data.glob("*.csv")) else "parquet"
            measure(data.name[-5:], data, fmt, None)

    kpi = kpi_command()
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "KPI_CACHE_DIR": cache}
        run_measured(kpi + ["compute", "--period", PERIOD], environment)  # fills the cache
        warm, _, _ = best(args.repeat, kpi + ["compute", "--period", PERIOD], environment)
        cold, _, _ = best(args.repeat, kpi + ["compute", "--period", PERIOD], {**environment, "KPI_NO_CACHE": "1"})
    validate, _, _ = best(args.repeat, kpi + ["validate"])
    test, _, _ = best(args.repeat, kpi + ["test"])
    print(f"end to end, `kpi compute --period {PERIOD}` on the demo council: {warm:.2f} s "
          f"({cold:.2f} s when the demo is generated, not read from the cache)")
    print(f"`kpi validate`: {validate:.2f} s; `kpi test`: {test:.2f} s")


if __name__ == "__main__":
    main()
