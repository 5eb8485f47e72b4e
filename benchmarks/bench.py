"""Benchmark (SPEC §11): the full scorecard against the floor of loading the extracts and scanning each
table once, as ratios measured in one run (the machine is shared and noisy: compare ratios, not seconds).

    .venv/bin/python benchmarks/bench.py --scales 1 50

For each scale: the demo council is written as Parquet; then, best of --repeat runs each,
  floor     = load every extract file into DuckDB (the engine's typed loading) + one scan of each table
  scorecard = `kpi compute --period 2017-09` from those files (loading included), all indicators
and the ratio scorecard / floor (the spec asks for at most 3). Also the end-to-end time of the
README's first command on the embedded demo council (the spec asks for under 2 s), with the demo read
from its cache and generated afresh.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpi import database, demo, pipeline  # noqa: E402
from kpi.config import open_project  # noqa: E402
from kpi.extracts import find_sources, load_table, quote  # noqa: E402
from kpi.periods import parse_period  # noqa: E402


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(definitions, data: Path) -> None:
    """Load every table the engine reads, then scan each once (every column touched)."""
    con = database.connect()
    sources, _ = find_sources(data, definitions.tables)
    for name, source in sources.items():
        problems = load_table(con, definitions.tables[name], source)
        assert not problems, problems
    for name in sources:
        columns = [c.name for c in definitions.tables[name].columns]
        con.execute(f"SELECT {', '.join(f'count({quote(c)})' for c in columns)} FROM {quote(name)}").fetchall()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    project = open_project(ROOT)
    definitions = pipeline.load_definitions(project)
    period = parse_period("2017-09")
    print(f"{len(definitions.indicators)} indicators, period 2017-09")
    print(f"{'scale':>6} {'rows':>12} {'floor s':>9} {'scorecard s':>12} {'ratio':>6}")
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder)
            tables = demo.generate(scale=scale)
            rows = sum(frame.height for frame in tables.values())
            demo.write_extracts(tables, data, "parquet")
            del tables
            floor_s = best_of(args.repeat, lambda: floor(definitions, data))
            card_s = best_of(args.repeat, lambda: pipeline.compute(project, definitions, definitions.indicators, period, data))
            print(f"{scale:>6} {rows:>12,} {floor_s:>9.2f} {card_s:>12.2f} {card_s / floor_s:>6.2f}")

    kpi = ROOT / ".venv" / "bin" / "kpi"
    command = [str(kpi) if kpi.exists() else "kpi", "compute", "--period", "2017-09", "--format", "json"]
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "KPI_CACHE_DIR": cache}
        run = lambda env: subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)  # noqa: E731
        cold = best_of(args.repeat, lambda: run({**environment, "KPI_NO_CACHE": "1"}))
        run(environment)  # fills the cache
        warm = best_of(args.repeat, lambda: run(environment))
    print(f"end to end, `kpi compute --period 2017-09` on the demo council: {warm:.2f} s "
          f"({cold:.2f} s when the demo is generated, not read from the cache)")


if __name__ == "__main__":
    main()
