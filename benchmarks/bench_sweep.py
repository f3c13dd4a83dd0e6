"""Benchmark: a 32-case sweep of the default scenario on 1 and on 2 local Dask workers.

    python benchmarks/bench_sweep.py [--workers 1 2] [--mip-gap 0.01]

Cases: ERCOT prices x0.9/1.0/1.1/1.2, targets x0.9/1.0, carbon price 0/50 USD/t, headroom
x1.0/0.8 (4 x 2 x 2 x 2 = 32), each solved, written, audited on a worker. Each worker count
runs the same cases into a fresh folder. Prints the sweep's wall time (cluster start
included), the speed-up, and the engine's overhead per case: wall time x workers minus the
time the workers spent in the cases, per case, against the mean time of a case (prepare,
build, solve, write, audit) and its solve alone. One run each on a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GRID = """\
axes:
  price_multiplier_by_region: [{ERCOT: 0.9}, {ERCOT: 1.0}, {ERCOT: 1.1}, {ERCOT: 1.2}]
  target_multiplier: [0.9, 1.0]
  carbon_price_usd_per_t: [0, 50]
  headroom_multiplier: [1.0, 0.8]
solver: {mip_gap_frac: %(gap)s, time_limit_s: 600}
"""


def main() -> None:
    from optimizer import load_scenario, load_sweep, sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mip-gap", type=float, default=0.01)
    args = parser.parse_args()
    scenario_path = ROOT / "data" / "default"
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    grid = work / "grid.yaml"
    grid.write_text(GRID % {"gap": args.mip_gap})
    sweep_file = load_sweep(grid, load_scenario(scenario_path))

    wall = {}
    for n in args.workers:
        start = time.perf_counter()
        result = sweep(scenario_path, sweep_file, work / f"workers-{n}", workers=n)
        wall[n] = time.perf_counter() - start
        t = result.table
        case_s, solve_s = t["wall_seconds"].mean(), t["solve_seconds"].mean()
        overhead = (wall[n] * n - t["wall_seconds"].sum()) / len(t)
        statuses = ", ".join(f"{k} {v}" for k, v in t["status"].value_counts().items())
        print(
            f"{n} worker(s): {len(t)} cases ({statuses}) in {wall[n]:.1f} s; a case "
            f"{case_s:.2f} s (solve {solve_s:.2f} s); engine overhead {overhead:.2f} s per "
            f"case = {100 * overhead / case_s:.1f} % of a case, {100 * overhead / solve_s:.1f} "
            f"% of its solve; audits ok {int((t['audit'] == 'ok').sum())}"
        )
    if 1 in wall and 2 in wall:
        print(f"speed-up 1 -> 2 workers: {wall[1] / wall[2]:.2f}x")
    print(f"folders under {work}")


if __name__ == "__main__":
    main()
