"""Benchmark: what flexible connections and on-site power cost in model size and solve time,
and what they change on the default scenario (the README's worked examples).

    python benchmarks/bench_site_power.py [--mip-gap 0.002] [--out DIR]

Builds the four scenarios of ``data/examples/site_power.py`` (``default``, ``flexible``;
``faster``, ``onsite``), solves each in this process at the same gap, audits each plan and
prints one row per scenario and the NPV change of each pair with the saving proven by the
two bounds. Takes about six minutes on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "data" / "examples"))  # the worked examples

PAIRS = (("default", "flexible"), ("faster", "onsite"))


def main() -> None:
    import site_power

    from optimizer import load_scenario, options_for, solve
    from optimizer.audit import audit_plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mip-gap", type=float, default=0.002)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench-site-power")
    args = parser.parse_args()
    folders = {"default": ROOT / "data" / "default"}
    for kind in ("flexible", "faster", "onsite"):
        folders[kind] = site_power.EXAMPLES[kind](args.out / kind)

    figures: dict[str, dict[str, float]] = {}
    print(
        f"{'scenario':<10} {'rows':>8} {'columns':>8} {'nonzeros':>9} {'solve s':>8} "
        f"{'gap %':>6} {'NPV M USD':>11} {'bound':>11} {'audit':>6}"
    )
    for name, folder in folders.items():
        scenario = load_scenario(folder)
        options = options_for(scenario, mip_gap_frac=args.mip_gap, time_limit_s=900)
        start = time.perf_counter()
        plan = solve(scenario, options)
        r = plan.result
        report = audit_plan(scenario, plan.write(args.out / f"{name}-plan"))
        figures[name] = {
            "objective": r.objective_musd or float("nan"),
            "bound": r.best_bound_musd or float("nan"),
        }
        print(
            f"{name:<10} {r.rows:>8,} {r.columns:>8,} {r.nonzeros:>9,} "
            f"{time.perf_counter() - start:>8.1f} {100 * (r.mip_gap_frac or 0):>6.3f} "
            f"{figures[name]['objective']:>11,.1f} {figures[name]['bound']:>11,.1f} "
            f"{'ok' if report.ok else 'FAIL':>6}"
        )
    for base, variant in PAIRS:
        change = figures[variant]["objective"] - figures[base]["objective"]
        proven = figures[variant]["objective"] - figures[base]["bound"]
        print(
            f"{variant} vs {base}: NPV {change:+,.1f} M USD "
            f"({100 * change / figures[base]['objective']:+.2f} %), "
            f"at least {proven:+,.1f} M USD by the bounds"
        )


if __name__ == "__main__":
    main()
