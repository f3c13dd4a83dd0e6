"""Benchmark: the constructive start's parts, in CPU seconds (one process, HiGHS on 1 thread).

    PYTHONPATH=. python benchmarks/bench_start.py SCENARIO [--gap 0.01] [--full-lp]

Times prepare, build, hand-off, the start's LP (``HighsModel.relaxed_values``), its repair MIP
(``HighsModel.restricted_values``) and the solve that follows (which ends without a MIP run
when the start is within the gap of its LP bound). ``--full-lp`` also solves the LP relaxation
with every row and column (HiGHS's default), to check the start's LP bound against it.
Prints one JSON line. Timings only here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any


def main() -> None:
    from optimizer.api import gc_paused

    gc_paused(run)()  # as a run (``optimizer.api.solve``) has it: the collector paused


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--full-lp", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="heuristic NAME=VALUE")
    args = parser.parse_args()

    from formulations import build_model
    from optimizer import heuristic, load_scenario, options_for
    from optimizer.heuristic import constructive_start
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel

    out: dict[str, Any] = {"scenario": args.scenario}
    for option in args.set:  # e.g. FIRST_PAIRS=None, REPAIR_SPARE_PAIRS=10
        name, text = option.split("=")
        setattr(heuristic, name, None if text == "None" else int(text))
        out[name] = text

    def timed(name: str, f: Any, *a: Any, **k: Any) -> Any:
        c0 = time.process_time()
        result = f(*a, **k)
        out[f"{name}_cpu_s"] = round(time.process_time() - c0, 2)
        return result

    s = load_scenario(args.scenario)
    data = timed("prepare", prepare, s)
    model = timed("build", build_model, data)
    options = options_for(s, time_limit_s=args.time_limit, mip_gap_frac=args.gap, threads=1)
    highs = timed("handoff", HighsModel, model, options)
    rows, cols, nnz, ints = highs.size
    out |= {"rows": rows, "columns": cols, "nonzeros": nnz, "integers": ints}
    if args.full_lp:
        import highspy

        lp = highs.highs.getLp()
        lp.integrality_ = []
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.passModel(lp)
        timed("full_lp", h.run)
        out["full_lp_bound_musd"] = h.getInfo().objective_function_value

    relaxed, restricted = HighsModel.relaxed_values, HighsModel.restricted_values

    def relaxed_timed(self: HighsModel, *a: Any, **k: Any) -> Any:
        values = timed("start_lp", relaxed, self, *a, **k)
        if values is not None:
            out["start_lp_bound_musd"] = self.objective_of(values)
        return values

    def restricted_timed(self: HighsModel, *a: Any, **k: Any) -> Any:
        return timed("repair", restricted, self, *a, **k)

    HighsModel.relaxed_values = relaxed_timed  # type: ignore[method-assign]
    HighsModel.restricted_values = restricted_timed  # type: ignore[method-assign]
    out["start_musd"] = timed("start", constructive_start, model, highs)
    result = timed("solve", highs.solve, warm_start=True)
    out |= {
        "objective_musd": result.objective_musd,
        "best_bound_musd": result.best_bound_musd,
        "gap": result.mip_gap_frac,
        "message": result.message,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
