"""Write docs/demo-vs-seed.md: each seed indicator's September 2017 value on the demo council beside the
value the seed scorecard printed (tests/fixtures/seed_q2_2017_report.csv).

    .venv/bin/python tools/demo_vs_seed.py
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seed_q2_2017_report.csv"
OUT = ROOT / "docs" / "demo-vs-seed.md"
ARROW = {"better": "↑", "same": "↔", "worse": "↓", "not_comparable": ""}


def main() -> None:
    kpi = ROOT / ".venv" / "bin" / "kpi"
    result = subprocess.run([str(kpi), "compute", "--period", "2017-09", "--format", "json", "--project", str(ROOT)],
                            check=True, capture_output=True, text=True)
    demo = {row["id"]: row for row in json.loads(result.stdout)["indicators"]}
    with SEED.open(encoding="utf-8") as f:
        seed = {row["Indicator Num"]: row for row in csv.DictReader(f)}
    lines = [
        "# The demo council beside the seed, September 2017",
        "",
        "Made by `tools/demo_vs_seed.py` from `kpi compute --period 2017-09` on the embedded demo council and the",
        "seed scorecard's printed values. The demo is synthetic: its numbers are meant to be of the seed's order,",
        "not equal to them.",
        "",
        "| id | unit | demo value | demo num / den | demo trend | seed value | seed num / den | seed trend |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for indicator_id, row in seed.items():
        ours = demo.get(indicator_id)
        if ours is None:
            print(f"{indicator_id} is not in the demo scorecard", file=sys.stderr)
            continue
        fraction = "" if ours["numerator"] is None else f"{ours['numerator']:,}" + (
            f" / {ours['denominator']:,}" if ours["denominator"] is not None else "")
        seed_fraction = row["Sept - Num"] + (f" / {row['Sept - Den']}" if row["Sept - Den"] not in ("", "-") else "")
        lines.append(
            f"| {indicator_id} | {ours['unit']} | {ours['display']} | {fraction} | {ARROW[ours['trend']]} | "
            f"{row['Sept'] or row['May']} | {seed_fraction} | {row['Trend from when last reported']} |"
        )
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
