"""Benchmark: formulation strength. Per case, the root LP bound, the best plan, the root gap
and the time HiGHS takes to prove the asked gap.

    python benchmarks/bench_strength.py [SCENARIO ...] [--gap 0.001] [--time-limit 120]
                                        [--no-start] [--repeats 1] [--highs NAME=VALUE]
                                        [--without CONCERN] [--log-dir DIR]

Each run is a fresh process (HiGHS on 1 thread). *LP bound* is the optimum of the model with
every integer relaxed (what the LP sees before HiGHS's presolve and cuts); *root gap* is
(best plan - LP bound) / best plan. *start* says whether the constructive start
(``optimizer.heuristic``) was given and accepted by HiGHS, and what it cost. Timings only
here, never in tests; on a shared machine they are noisy, so compare variants back to back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import _option_value

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lp_bound(highs_model: object) -> float:
    """Optimum of the LP relaxation of the model HiGHS holds."""
    import highspy

    lp = highs_model.highs.getLp()  # type: ignore[attr-defined]
    lp.integrality_ = []
    relaxed = highspy.Highs()
    relaxed.setOptionValue("output_flag", False)
    relaxed.setOptionValue("threads", 1)
    relaxed.passModel(lp)
    relaxed.run()
    return float(relaxed.getInfo().objective_function_value)


def measure(
    scenario: str,
    gap: float,
    time_limit_s: float,
    start: bool,
    highs_options: list[str],
    without: list[str],
    log: bool = False,
) -> dict[str, object]:
    """One run: build, LP bound, optional constructive start, MIP solve to ``gap``."""
    from formulations import CONCERNS, build_model
    from optimizer import load_scenario, options_for
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel

    s = load_scenario(scenario)
    data = prepare(s)
    model = build_model(data, [c for c in CONCERNS if c.name not in without])
    options = options_for(
        s, time_limit_s=time_limit_s, mip_gap_frac=gap, threads=1, log_to_console=log
    )
    highs = HighsModel(model, options)
    for option in highs_options:  # name=value, e.g. mip_heuristic_effort=0.01
        name, text = option.split("=")
        highs.highs.setOptionValue(name, _option_value(text))
    t0 = time.perf_counter()
    bound = lp_bound(highs)
    lp_seconds = time.perf_counter() - t0
    start_musd = None
    heuristic_seconds = heuristic_cpu_seconds = 0.0
    if start:
        from optimizer.heuristic import constructive_start

        t1, c1 = time.perf_counter(), time.process_time()
        start_musd = constructive_start(model, highs)
        heuristic_seconds = time.perf_counter() - t1
        heuristic_cpu_seconds = time.process_time() - c1
    cpu = time.process_time()
    result = highs.solve(warm_start=start)
    cpu = time.process_time() - cpu
    rows, cols, _, ints = highs.size
    return {
        "scenario": Path(scenario).name,
        "rows": rows,
        "columns": cols,
        "integers": ints,
        "lp_bound_musd": bound,
        "lp_seconds": lp_seconds,
        "start_musd": start_musd,
        "start_accepted": highs.start_accepted if start else None,
        "heuristic_seconds": heuristic_seconds,
        "heuristic_cpu_seconds": heuristic_cpu_seconds,
        "objective_musd": result.objective_musd,
        "best_bound_musd": result.best_bound_musd,
        "gap": result.mip_gap_frac,
        "termination": result.termination,
        "solve_seconds": result.solve_seconds,
        "solve_cpu_seconds": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[str(ROOT / "data" / "default")])
    parser.add_argument("--gap", type=float, default=0.001)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--no-start", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--highs", action="append", default=[], help="HiGHS option name=value")
    parser.add_argument("--without", action="append", default=[], help="leave out a concern")
    parser.add_argument("--log-dir", type=Path, help="keep each run's HiGHS log here")
    parser.add_argument("--log", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        start = not args.no_start
        run = measure(
            args.scenarios[0], args.gap, args.time_limit, start, args.highs, args.without, args.log
        )
        print(json.dumps(run))
        return
    print(
        f"{'case':<16} {'LP bound':>11} {'best plan':>11} {'root gap':>9} "
        f"{'start':>11} {'start s':>8} {'gap':>8} {'solve s':>8} {'CPU s':>7}  termination"
    )
    for scenario in args.scenarios:
        for repeat in range(args.repeats):
            command = [sys.executable, __file__, scenario, "--one", "--gap", str(args.gap)]
            command += ["--time-limit", str(args.time_limit)]
            command += ["--no-start"] if args.no_start else []
            command += [f"--highs={option}" for option in args.highs]
            command += [f"--without={module}" for module in args.without]
            command += ["--log"] if args.log_dir else []
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            if args.log_dir:
                args.log_dir.mkdir(parents=True, exist_ok=True)
                name = f"{Path(scenario).name}-{repeat}.log"
                (args.log_dir / name).write_text(out.stdout)
            lines = out.stdout.strip().splitlines()  # HiGHS's log may come after the figures
            r = json.loads(next(x for x in reversed(lines) if x.startswith('{"scenario"')))
            best = r["objective_musd"]
            root_gap = (best - r["lp_bound_musd"]) / best if best else float("nan")
            start_text = "-" if r["start_musd"] is None else f"{r['start_musd']:,.0f}"
            if r["start_accepted"] is False:
                start_text += "!"
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.3f}%"
            print(
                f"{r['scenario']:<16} {r['lp_bound_musd']:>11,.1f} {best or 0:>11,.1f} "
                f"{100 * root_gap:>8.2f}% {start_text:>11} {r['heuristic_seconds']:>8.1f} {gap:>8} "
                f"{r['solve_seconds']:>8.1f} {r['solve_cpu_seconds']:>7.1f}  {r['termination']}"
            )


if __name__ == "__main__":
    main()
