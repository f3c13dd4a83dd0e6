"""Load on the job service, loopback only: JOBS tiny solves from CLIENTS concurrent clients.

    python benchmarks/bench_service.py [--jobs 200] [--clients 20] [--workers 1]
                                       [--database URL]

Starts ``gridsite serve`` on a free 127.0.0.1 port (a SQLite job store in a temporary folder
unless --database), uploads the tiny scenario of tests/tiny.py, and lets each client submit
its share of solve jobs one after another, waiting for each (``Client.wait``: the job's
server-sent events, which the server refreshes every 0.2 s). Then it
audits every plan (``optimizer.audit``) and prints: jobs submitted / succeeded / audited
clean / lost, throughput, and per job, median and p95 of submit-to-done, the worker's run
(load to plan written), the queue wait (created to claimed) and the service overhead
(submit-to-done minus queue wait minus run), and the issue's cruder overhead, submit-to-done
minus HiGHS's solve seconds (it includes the queueing of CLIENTS jobs on the workers).
Timings on a shared machine vary.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from optimizer import load_scenario
from optimizer.audit import audit_plan
from optimizer.client import Client
from optimizer.service.store import Store, sqlite_url
from tests.service_fixtures import free_port, start_server, stop_server
from tests.tiny import Tiny


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _client(url: str, key: str, scenario_id: str, n: int, rows: list[dict[str, Any]]) -> None:
    with Client(url, key) as gs:
        for _ in range(n):
            submitted = time.time()
            job = gs.submit(scenario_id, "solve", {"plots": False})
            done = gs.wait(job["id"], timeout_s=600)
            rows.append({"job": done, "submitted": submitted, "done": time.time()})


def _quantiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values):.3f} s, p95 {p95:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        artifacts = folder / "data"
        artifacts.mkdir()
        url_db = args.database or sqlite_url(artifacts / "gridsite.db")
        store = Store(url_db)
        store.migrate()
        key = store.create_key("bench")
        store.close()
        scenario = Tiny(folder).write()
        port = free_port()
        options = ["--workers", str(args.workers), "--database", url_db]
        server = start_server(artifacts, port, folder / "server.log", *options)
        url = f"http://127.0.0.1:{port}"
        rows: list[dict[str, Any]] = []
        try:
            with Client(url, key) as gs:
                scenario_id = gs.upload(scenario)["id"]
            shares = [
                args.jobs // args.clients + (i < args.jobs % args.clients)
                for i in range(args.clients)
            ]
            threads = [
                threading.Thread(target=_client, args=(url, key, scenario_id, n, rows))
                for n in shares
            ]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
        finally:
            stop_server(server)
        loaded = load_scenario(scenario)
        succeeded = [r for r in rows if r["job"]["state"] == "succeeded"]
        clean = 0
        for r in succeeded:
            plan_dir = artifacts / "jobs" / r["job"]["id"] / f"attempt-{r['job']['attempts']}"
            clean += audit_plan(loaded, plan_dir).ok
        total = [r["done"] - r["submitted"] for r in succeeded]
        run = [r["job"]["result"]["run_seconds"] for r in succeeded]
        queue = [
            _seconds(r["job"]["started_at"]) - _seconds(r["job"]["created_at"]) for r in succeeded
        ]
        overhead = [t - q - w for t, q, w in zip(total, queue, run, strict=True)]
        solve = [r["job"]["result"]["solve_seconds"] for r in succeeded]
        beyond_solve = [t - s for t, s in zip(total, solve, strict=True)]
        print(
            f"jobs: {args.jobs} submitted from {args.clients} clients, {len(succeeded)} "
            f"succeeded, {clean} plans audited clean, {args.jobs - len(rows)} lost"
        )
        rate = len(succeeded) / wall
        print(f"workers: {args.workers}; wall {wall:.1f} s; throughput {rate:.2f} jobs/s")
        print(f"submit to done:   {_quantiles(total)}")
        print(f"worker run:       {_quantiles(run)}")
        print(f"queue wait:       {_quantiles(queue)}")
        print(f"service overhead: {_quantiles(overhead)} (submit to done - queue wait - run)")
        print(f"beyond the solve: {_quantiles(beyond_solve)} (submit to done - HiGHS solve)")


if __name__ == "__main__":
    main()
