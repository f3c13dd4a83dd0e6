"""Benchmark: the Pareto front of the default, and the README's worked examples, at their gaps.

    python benchmarks/bench_pareto.py pareto [--points 6] [--gap 0.001] [--between cost,energy]
                                      [--[no-]start] [--repeats 1] [--time-limit S]
    python benchmarks/bench_pareto.py examples [--[no-]start] [--repeats 1] [--time-limit S]
                                      [NAME ...]

``pareto`` times ``optimizer.pareto.pareto_front`` (HiGHS on 1 thread) in a fresh process:
CPU and wall seconds of the whole front (build and every solve) and each point's solve
seconds and gap. ``examples`` builds the worked examples with their scripts
(``data/examples``) into a temporary folder and solves each as the README does (its stated
gap, the scenario's own time limit) through ``optimizer.solve``: CPU and wall seconds, the
gap reached, the objective. Timings only here, never in tests; on a shared machine compare
CPU seconds, back to back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES: dict[str, tuple[list[str], float]] = {
    # name: (the script and its arguments before OUT_DIR, the README's gap)
    "inference": (["inference.py"], 0.002),
    "flexible": (["site_power.py", "flexible"], 0.002),
    "onsite": (["site_power.py", "onsite"], 0.002),
    "faster": (["site_power.py", "faster"], 0.002),
    "cfe-25": (["clean_energy.py"], 0.002),
}
"""``cfe-25`` also takes the target (0.25) after OUT_DIR."""


def pareto_run(
    points: int, gap: float, between: str, start: bool | None, time_limit_s: float | None
) -> dict[str, object]:
    from optimizer import load_scenario, options_for
    from optimizer.api import DEFAULT_SCENARIO
    from optimizer.pareto import pareto_front

    scenario = load_scenario(DEFAULT_SCENARIO)
    options = options_for(scenario, mip_gap_frac=gap, threads=1, time_limit_s=time_limit_s)
    options = replace(options, constructive_start=start)
    first, second = between.split(",")
    cpu, wall = time.process_time(), time.perf_counter()
    front = pareto_front(scenario, first, second, points, options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    table = front.table
    return {
        "case": f"pareto {between} x{points}",
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "solve_seconds": [round(float(x), 2) for x in table["solve_seconds"]],
        "gaps": [None if x is None else float(x) for x in table["mip_gap"]],
        "status": sorted(set(table["status"])),
    }


def example_run(name: str, start: bool | None, time_limit_s: float | None) -> dict[str, object]:
    from optimizer import load_scenario, options_for, solve

    script, gap = EXAMPLES[name]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / name
        command = [sys.executable, str(ROOT / "data" / "examples" / script[0]), *script[1:]]
        command += [str(folder)] + (["0.25"] if name == "cfe-25" else [])
        subprocess.run(command, check=True, capture_output=True)
        scenario = load_scenario(folder)
        options = options_for(scenario, mip_gap_frac=gap, time_limit_s=time_limit_s)
        options = replace(options, constructive_start=start)
        cpu, wall = time.process_time(), time.perf_counter()
        plan = solve(scenario, options)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    result = plan.result
    return {
        "case": name,
        "asked_gap": gap,
        "time_limit_s": options.time_limit_s,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "gap": result.mip_gap_frac,
        "objective_musd": result.objective_musd,
        "termination": result.termination,
        "rows": result.rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("pareto", "examples"))
    parser.add_argument("names", nargs="*", help="examples to run (default: all)")
    parser.add_argument("--points", type=int, default=6)
    parser.add_argument("--gap", type=float, default=0.001)
    parser.add_argument("--between", default="cost,energy")
    parser.add_argument(
        "--start", action=argparse.BooleanOptionalAction, help="default: by size, as gridsite"
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--time-limit", type=float, help="seconds (per point); default: the scenario's"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    start = args.start
    if args.one:
        if args.kind == "pareto":
            run = pareto_run(args.points, args.gap, args.between, start, args.time_limit)
        else:
            run = example_run(args.names[0], start, args.time_limit)
        print(json.dumps(run))
        return
    cases = [""] if args.kind == "pareto" else (args.names or list(EXAMPLES))
    for case in cases:
        for _ in range(args.repeats):
            command = [sys.executable, __file__, args.kind] + ([case] if case else []) + ["--one"]
            command += ["--points", str(args.points), "--gap", str(args.gap)]
            command += ["--between", args.between]
            command += [] if args.start is None else ["--start" if args.start else "--no-start"]
            command += ["--time-limit", str(args.time_limit)] if args.time_limit else []
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
