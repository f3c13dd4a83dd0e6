"""Benchmark: a 32-case sweep of the default scenario on local Dask workers, with and without
reuse of each worker's HiGHS model, and where the engine's time goes.

    python benchmarks/bench_sweep.py [--workers 1 2] [--reuse on off] [--mip-gap 0.01]

Cases: ERCOT prices x0.9/1.0/1.1/1.2, targets x0.9/1.0, carbon price 0/50 USD/t, headroom
x1.0/0.8 (4 x 2 x 2 x 2 = 32), each solved, written, audited on a worker. For each worker
count a LocalCluster is started once (its start-up is timed apart: it is paid once, not per
case) and every reuse setting runs the same cases on it into a fresh folder.

Printed per run: wall time, the speed-up over one worker, and per case: wall and CPU seconds
(the case's thread: prepare, build, hand-off, solve, write, audit), hand-off and solve
seconds, and how many cases updated their worker's HiGHS model in place. The engine's time
is split from the cases' own timestamps: *first start* (sweep call to a worker's first case:
hashing, client set-up, task shipping, the worker's first imports), *gaps* (a worker idle
between two of its cases: the per-case dispatch overhead), *tail* (a worker idle after its
last case while the other finishes). CPU: the client process (client and scheduler) and the
workers' processes outside their cases, per case, against a case's CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def _process_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    from distributed import Client, LocalCluster

    from optimizer import load_scenario, load_sweep, sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reuse", choices=["on", "off"], nargs="+", default=["on", "off"])
    parser.add_argument("--mip-gap", type=float, default=0.01)
    args = parser.parse_args()
    scenario_path = ROOT / "data" / "default"
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    grid = work / "grid.yaml"
    grid.write_text(GRID % {"gap": args.mip_gap})
    sweep_file = load_sweep(grid, load_scenario(scenario_path))

    wall: dict[tuple[int, str], float] = {}
    for n in args.workers:
        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
        client.run(_warm_imports)
        ready_s = time.perf_counter() - start
        print(f"{n} worker(s): cluster started and imports warmed in {ready_s:.1f} s")
        for reuse in args.reuse:
            worker_cpu = client.run(_process_cpu_s)
            client_cpu, begin = _process_cpu_s(), time.time()
            start = time.perf_counter()
            result = sweep(
                scenario_path,
                sweep_file,
                work / f"workers-{n}-reuse-{reuse}",
                scheduler=cluster.scheduler_address,
                reuse=reuse == "on",
            )
            wall[n, reuse] = time.perf_counter() - start
            end = time.time()
            client_cpu = _process_cpu_s() - client_cpu
            worker_cpu = sum(cpu - worker_cpu[w] for w, cpu in client.run(_process_cpu_s).items())
            _report(n, reuse, result.table, wall[n, reuse], begin, end, client_cpu, worker_cpu)
        client.close()
        cluster.close()
    for reuse in args.reuse:
        if (1, reuse) in wall and (2, reuse) in wall:
            print(
                f"speed-up 1 -> 2 workers (reuse {reuse}): {wall[1, reuse] / wall[2, reuse]:.2f}x"
            )
    print(f"folders under {work}")


def _warm_imports() -> None:
    """What a case needs, imported before the sweep (its first case would otherwise)."""
    import formulations
    import optimizer.api
    import optimizer.audit
    import optimizer.prepare
    import optimizer.solver

    del formulations, optimizer


def _report(
    n: int,
    reuse: str,
    t: Any,
    wall_s: float,
    begin: float,
    end: float,
    client_cpu_s: float,
    worker_cpu_s: float,
) -> None:
    cases = len(t)
    statuses = ", ".join(f"{k} {v}" for k, v in t["status"].value_counts().items())
    first = gaps = tail = 0.0
    for _, w in t.sort_values("started_at").groupby("worker_pid"):
        starts, ends = w["started_at"].to_numpy(), w["ended_at"].to_numpy()
        first += starts[0] - begin
        gaps += float((starts[1:] - ends[:-1]).sum())
        tail += end - ends[-1]
    case_cpu, solve_s = t["cpu_seconds"].mean(), t["solve_seconds"].mean()
    gap_s = gaps / max(cases - n, 1)
    ok, reused = int((t["audit"] == "ok").sum()), int(t["highs_reused"].sum())
    outside_cpu = (client_cpu_s + worker_cpu_s - t["cpu_seconds"].sum()) / cases
    print(
        f"{n} worker(s), reuse {reuse}: {cases} cases ({statuses}; audits ok "
        f"{ok}; HiGHS updated in place {reused}) in {wall_s:.1f} s wall\n"
        f"  per case: wall {t['wall_seconds'].mean():.2f} s, CPU {case_cpu:.2f} s, hand-off "
        f"{t['handoff_seconds'].mean():.3f} s, solve {solve_s:.2f} s, build "
        f"{t['build_seconds'].mean():.2f} s\n"
        f"  engine wall: first start {first / n:.2f} s per worker, gaps {gap_s:.3f} s per case "
        f"({100 * gap_s / solve_s:.1f} % of a solve), "
        f"tail {tail:.2f} s in all\n"
        f"  engine CPU outside the cases: {outside_cpu:.3f} s per case "
        f"({100 * outside_cpu / case_cpu:.1f} % of a case's CPU; client+scheduler "
        f"{client_cpu_s:.1f} s, workers {worker_cpu_s:.1f} s in all)"
    )


if __name__ == "__main__":
    main()
