"""Benchmark: the clean-energy (24/7 CFE) worked example, model size and solve.

    python benchmarks/bench_clean.py [--target 0.25] [--gap 0.005] [--time-limit 120]
                                     [--lp-only] [--out DIR]

Writes ``data/examples/clean_energy.py``'s scenario (the default's 1,344 representative
hours) into a new temporary folder (or ``--out``), builds the model and prints its
rows as built (first cuts of the hourly matching, ``formulations.clean``), the LP
relaxation's bound with the cuts it needs (the separation loop on the LP) and its CPU seconds
and rounds, and (unless ``--lp-only``) the MIP solve (the whole cut loop): best plan, bound,
gap, termination, rows at the end, loop rounds, wall and CPU seconds (HiGHS on 1 thread; the
time limit is wall time). One fresh process per run; on a shared machine compare CPU seconds
and bounds, not wall seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "data" / "examples"))  # the worked examples


def main() -> None:
    import clean_energy

    from formulations import build_model
    from optimizer import load_scenario, options_for
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.25)
    parser.add_argument("--gap", type=float, default=0.005)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--lp-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-clean-")) / "scenario"
    folder = clean_energy.main(out, args.target)
    scenario = load_scenario(folder)
    data = prepare(scenario)
    cpu = time.process_time()
    model = build_model(data)
    build_cpu = time.process_time() - cpu
    options = options_for(scenario, time_limit_s=args.time_limit, mip_gap_frac=args.gap, threads=1)
    highs = HighsModel(model, options)
    rows, cols, nonzeros, _ = highs.size
    cpu = time.process_time()
    relaxed = highs.relaxed_values()
    lp_cpu = time.process_time() - cpu
    bound = None if relaxed is None else highs.objective_of(relaxed)
    figures: dict[str, object] = {
        "hours": data.sizes["hour"],
        "rows": rows,
        "columns": cols,
        "nonzeros": nonzeros,
        "build_cpu_s": round(build_cpu, 1),
        "lp_bound_musd": bound,
        "lp_cpu_s": round(lp_cpu, 1),
        "lp_rows": highs.size[0],
        "lp_runs": highs.separation_runs["lp"],  # HiGHS runs of the LP cut loop
    }
    if not args.lp_only:
        before = dict(highs.separation_runs)
        cpu = time.process_time()
        result = highs.solve()
        figures.update(
            objective_musd=result.objective_musd,
            best_bound_musd=result.best_bound_musd,
            gap=result.mip_gap_frac,
            termination=result.termination,
            rows_at_end=result.rows,
            lp_runs_in_solve=highs.separation_runs["lp"] - before["lp"],
            mip_runs=highs.separation_runs["mip"] - before["mip"],
            solve_wall_s=round(result.solve_seconds, 1),
            solve_cpu_s=round(time.process_time() - cpu, 1),
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
