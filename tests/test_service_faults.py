"""Faults, for real: ``gridsite serve`` over HTTP with its local Dask worker process, killed
with SIGKILL in the middle of work. No job may be lost or stay running forever."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from optimizer import DEFAULT_SCENARIO
from optimizer.client import Client
from optimizer.service.store import Store, sqlite_url
from tests.service_fixtures import free_port, start_server, stop_server
from tests.tiny import Tiny

#: The default scenario to a 1 % gap: long enough (seconds) to be killed in the middle.
SOLVE = {"mip_gap_frac": 0.01, "time_limit_s": 300, "plots": False}


def _worker_processes(server_pid: int) -> list[psutil.Process]:
    """The Dask worker processes the server's local cluster spawned."""
    children = psutil.Process(server_pid).children(recursive=True)
    return [p for p in children if "spawn_main" in " ".join(p.cmdline())]


def _wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_killed_worker_and_killed_server_lose_no_job(tmp_path: Path) -> None:
    """1. SIGKILL the worker process while it solves: Dask restarts the worker and re-runs
    the task; the job succeeds. 2. SIGKILL the server while a solve runs and two jobs wait:
    a new server on the same job store finds the expired lease, re-queues the job (attempt
    2) and every job succeeds: 4 submitted, 4 succeeded, 0 lost."""
    artifacts = tmp_path / "data"
    artifacts.mkdir()
    store = Store(sqlite_url(artifacts / "gridsite.db"))
    store.migrate()
    key = store.create_key("faults")
    store.close()
    tiny = Tiny(tmp_path).write()
    options = ("--lease", "3")
    port = free_port()
    server = start_server(artifacts, port, tmp_path / "server.log", *options)
    try:
        with Client(f"http://127.0.0.1:{port}", key) as gs:
            default = gs.upload(DEFAULT_SCENARIO)["id"]
            first = gs.submit(default, "solve", SOLVE)["id"]
            _wait_until(lambda: gs.job(first)["progress"]["incumbent_musd"] is not None, "MIP")
            [worker] = _worker_processes(server.pid)
            worker.send_signal(signal.SIGKILL)
            done = gs.wait(first, timeout_s=300)
            assert done["state"] == "succeeded", done
            assert done["result"]["status"] in ("optimal", "feasible")
            assert [p.pid for p in _worker_processes(server.pid)] != [worker.pid]

            second = gs.submit(default, "solve", SOLVE)["id"]
            waiting = [gs.submit(gs.upload(tiny)["id"], "solve")["id"] for _ in range(2)]
            _wait_until(lambda: gs.job(second)["state"] == "running", "the second solve")
        os.kill(server.pid, signal.SIGKILL)
        stop_server(server)  # what is left of it (its worker) dies with the machine
        port = free_port()
        server = start_server(artifacts, port, tmp_path / "server.log", *options)
        with Client(f"http://127.0.0.1:{port}", key) as gs:
            jobs = [gs.wait(job_id, timeout_s=300) for job_id in [second, *waiting]]
            assert [j["state"] for j in jobs] == ["succeeded"] * 3, jobs
            assert jobs[0]["attempts"] == 2
            assert jobs[0]["error"] is None
            every = gs.jobs(limit=500)
            assert len(every) == 4 and all(j["state"] == "succeeded" for j in every)
    finally:
        stop_server(server)
