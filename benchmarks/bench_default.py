"""Benchmark: model size and build / hand-off / solve times of a scenario (default: bundled).

    python benchmarks/bench_default.py [SCENARIO] [--repeats N]

Each repeat runs in a fresh process so caches and memory do not carry over; the figures
printed are the median over repeats, with the spread. Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(scenario: str) -> dict[str, float | str]:
    """One full run: load, prepare (tsam), build the Pyomo model, hand off, solve."""
    from formulations import build_model
    from optimizer import load_scenario, options_for
    from optimizer.prepare import prepare
    from optimizer.solver import solve_model

    t0 = time.perf_counter()
    s = load_scenario(scenario)
    t1 = time.perf_counter()
    data = prepare(s)
    t2 = time.perf_counter()
    model = build_model(data)
    t3 = time.perf_counter()
    result = solve_model(model, options_for(s))
    return {
        "rows": result.rows,
        "columns": result.columns,
        "nonzeros": result.nonzeros,
        "integers": result.integers,
        "load_s": t1 - t0,
        "prepare_s": t2 - t1,
        "model_s": t3 - t2,
        "handoff_s": result.handoff_seconds,
        "solve_s": result.solve_seconds,
        "gap": result.mip_gap_frac or 0.0,
        "objective_musd": result.objective_musd or float("nan"),
        "termination": result.termination,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "data" / "default"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.scenario)))
        return
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, args.scenario, "--one"],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = runs[0]
    print(f"scenario   {args.scenario}")
    print(
        f"machine    {platform.machine()}, {platform.python_version()}, "
        f"{len(runs)} runs in fresh processes"
    )
    print(
        f"model      {first['rows']:,} rows, {first['columns']:,} columns "
        f"({first['integers']:,} integer), {first['nonzeros']:,} nonzeros"
    )
    for key in ("load_s", "prepare_s", "model_s", "handoff_s", "solve_s", "peak_rss_mb"):
        values = [r[key] for r in runs]
        print(
            f"{key:<10} median {statistics.median(values):8.2f}   "
            f"min {min(values):8.2f}   max {max(values):8.2f}"
        )
    build = [r["load_s"] + r["prepare_s"] + r["model_s"] for r in runs]
    total = [b + r["handoff_s"] + r["solve_s"] for b, r in zip(build, runs, strict=True)]
    share = [(b + r["handoff_s"]) / t for b, r, t in zip(build, runs, total, strict=True)]
    print(
        f"total_s    median {statistics.median(total):8.2f}   (build + hand-off share "
        f"{100 * statistics.median(share):.1f} %)"
    )
    gaps = ", ".join(f"{100 * r['gap']:.3f} %" for r in runs)
    terminations = ", ".join(str(r["termination"]) for r in runs)
    objectives = ", ".join(f"{r['objective_musd']:,.1f}" for r in runs)
    print(f"gap        {gaps}; termination {terminations}")
    print(f"objective  {objectives} M USD")


if __name__ == "__main__":
    main()
