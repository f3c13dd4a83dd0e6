"""Benchmark: re-optimization warm (commitments + the previous plan as MIP start) against cold,
on the default scenario after three changes, committed through 2027H2.

    python benchmarks/bench_reoptimize.py [--mip-gap 0.005] [--region ERCOT]

The previous plan is the default scenario solved at the gap. Changes: (a) prices of one
region +20 %, (b) the upgrade of the previous plan in service last (and still within the horizon
two periods later) delayed by two periods (it
was ordered before the commitment date, so it stays bought and arrives later), (c) the 2030
targets +10 %. Each is solved three ways at the same gap, in this process, one after the
other: *warm* (``reoptimize``: commitments fixed, previous plan as MIP start), *committed,
no start* (the same model without the start: what the start is worth) and *cold* (``solve``
on the changed scenario, no commitments: the full pipeline). Times are end to end (prepare
with tsam, build, hand-off, solve), wall and CPU seconds of this process (HiGHS on one
thread: CPU seconds hold under load, wall seconds do not). One run each.

Then the three re-plans once more in one :class:`optimizer.Session` (one HiGHS model kept
alive), in the order (a), (c), (b): (c) differs from (a) only in coefficients (targets), so
its HiGHS model is updated in place; (b) moves an upgrade's first period (other columns) and
is rebuilt. Printed: whether it was updated in place, what changed, hand-off and CPU seconds
against the same re-plan without the session.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from optimizer import Session, load_scenario, options_for, reoptimize, solve
    from optimizer.periods import Period
    from optimizer.sweep_file import CaseSettings, apply_case

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mip-gap", type=float, default=0.005)
    parser.add_argument("--region", default="ERCOT")
    parser.add_argument("--through", default="2027H2")
    args = parser.parse_args()

    base = load_scenario(ROOT / "data" / "default")
    options = options_for(base, mip_gap_frac=args.mip_gap, time_limit_s=600)
    previous = solve(base, options)
    print(f"previous plan: {previous.result.objective_musd:,.1f} M USD, gap {args.mip_gap}")

    prices = apply_case(base, CaseSettings(price_multiplier_by_region={args.region: 1.2}))
    online = previous.dataset["upgrade_online_period"].to_pandas()
    last = Period.parse(base.config.horizon.last_period)
    delayed = max(
        (u for u, when in online.items() if when and Period.parse(when) + 2 <= last),
        key=lambda u: Period.parse(online[u]),
    )
    upgrades = tuple(
        u.model_copy(update={"lead_periods": u.lead_periods + 2}) if u.upgrade_id == delayed else u
        for u in base.upgrades
    )
    config = base.config.model_dump()
    targets = config["portfolio"]["target_it_mw_by_period"]
    for p in targets:
        if p.startswith("2030"):
            targets[p] *= 1.1
    target = dataclasses.replace(base, config=type(base.config).model_validate(config))
    changes = {
        f"(a) {args.region} prices +20 %": prices,
        f"(b) {delayed} ({online[delayed]}) two periods later": dataclasses.replace(
            base, upgrades=upgrades
        ),
        "(c) 2030 targets +10 %": target,
    }

    print(
        f"{'change':<52} {'variant':<22} {'seconds':>8} {'CPU s':>6} {'prep+build':>10} "
        f"{'solve':>7} {'NPV M USD':>11} {'gap %':>6} {'start M USD':>12}"
    )
    cpu_warm: dict[str, float] = {}
    for label, scenario in changes.items():
        runs = {
            "warm": lambda s=scenario: reoptimize(s, previous, args.through, options),
            "committed, no start": lambda s=scenario: reoptimize(
                s, previous, args.through, options, start=False
            ),
            "cold (fresh solve)": lambda s=scenario: solve(s, options),
        }
        seconds, cpu = {}, {}
        for variant, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            plan = run()
            seconds[variant] = time.perf_counter() - start
            cpu[variant] = time.process_time() - start_cpu
            r = plan.result
            gap = "-" if r.mip_gap_frac is None else f"{100 * r.mip_gap_frac:.2f}"
            accepted = "-" if r.start_objective_musd is None else f"{r.start_objective_musd:,.1f}"
            print(
                f"{label:<52} {variant:<22} {seconds[variant]:8.2f} {cpu[variant]:6.2f} "
                f"{plan.build_seconds:10.2f} "
                f"{r.solve_seconds:7.2f} {r.objective_musd or float('nan'):11,.1f} {gap:>6} "
                f"{accepted:>12}"
            )
        print(
            f"{'':<52} cold / warm {seconds['cold (fresh solve)'] / seconds['warm']:.2f}x "
            f"(CPU {cpu['cold (fresh solve)'] / cpu['warm']:.2f}x), no start / warm "
            f"{seconds['committed, no start'] / seconds['warm']:.2f}x "
            f"(CPU {cpu['committed, no start'] / cpu['warm']:.2f}x)"
        )
        cpu_warm[label] = cpu["warm"]

    session = Session()
    labels = list(changes)
    for label in (labels[0], labels[2], labels[1]):
        updates = session.updates
        start_cpu = time.process_time()
        plan = session.reoptimize(changes[label], previous, args.through, options)
        used = time.process_time() - start_cpu
        how = "updated in place" if session.updates > updates else "built"
        changed = ", ".join(f"{k} {v}" for k, v in session.highs.changed.items())
        print(
            f"session {label:<44} {how:<17} hand-off {plan.result.handoff_seconds:.3f} s, "
            f"CPU {used:.2f} s (alone {cpu_warm[label]:.2f} s), NPV "
            f"{plan.result.objective_musd or float('nan'):,.1f}"
            + (f" [{changed}]" if changed else "")
        )


if __name__ == "__main__":
    main()
