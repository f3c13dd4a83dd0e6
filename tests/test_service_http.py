"""The service over real HTTP: ``gridsite serve`` in a subprocess (uvicorn on 127.0.0.1, a
free port, a SQLite job store, a local Dask cluster with one worker process), driven by
``optimizer.client.Client`` and plain httpx; the last test kills its worker and the server.

The tiny scenario (tests/tiny.py defaults): one campus, 100 MW due in 2026H2, building at
1 M USD/MW, free energy and cooling, no discounting: the optimum builds exactly 100 MW for
100 M USD."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
import schemathesis
import xarray as xr
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from typer.testing import CliRunner

from optimizer import DEFAULT_SCENARIO
from optimizer.cli import app
from optimizer.client import Client, ServiceError, zip_folder
from optimizer.service.store import Store, sqlite_url
from tests.service_fixtures import (
    DASK_RETRIES,
    NANNY_DROPPED_AT_ONCE,
    Server,
    free_port,
    served,
    start_server,
    stop_server,
)
from tests.test_sweep import two_sites

MAX_UPLOAD_MB = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    options = ("--lease", "3", "--max-upload-mb", str(MAX_UPLOAD_MB))
    env = {**DASK_RETRIES, **NANNY_DROPPED_AT_ONCE}  # every lost worker's nanny is closed
    with served(tmp_path_factory.mktemp("service"), *options, env=env) as running:
        yield running


def test_a_solve_runs_end_to_end_and_its_plan_passes_the_audit(
    server: Server, tmp_path: Path
) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)
        assert gs.upload(server.scenario)["id"] == scenario["id"]  # content-addressed
        job = gs.submit(scenario["id"], "solve", {"mip_gap_frac": 0.0}, idempotency_key="t-1")
        assert job["state"] in ("queued", "running")
        assert gs.submit(scenario["id"], "solve", {}, idempotency_key="t-1")["id"] == job["id"]
        done = gs.wait(job["id"], timeout_s=120)
        assert done["state"] == "succeeded", done
        assert done["attempts"] == 1
        assert done["result"]["status"] == "optimal"
        assert done["result"]["objective_musd"] == pytest.approx(100.0)
        assert done["progress"]["incumbent_musd"] == pytest.approx(100.0)
        assert done["progress"]["gap_frac"] == pytest.approx(0.0)
        plan = gs.plan(job["id"])
        assert plan["objective_musd"] == pytest.approx(100.0)
        assert plan["total_it_mw_by_period"] == {"2026H2": pytest.approx(100.0)}
        assert {"plan.json", "sites.csv", "build.csv", "plan.nc", "map.png"} <= set(done["files"])
        for name in done["files"]:
            gs.download(job["id"], name, tmp_path / name)
        audited = gs.wait(gs.submit(scenario["id"], "audit", {"plan_job_id": job["id"]})["id"])
        assert audited["state"] == "succeeded" and audited["result"]["ok"] is True
        replan = {"plan_job_id": job["id"], "commit_through": "2026H2", "mip_gap_frac": 0.0}
        replanned = gs.wait(gs.submit(scenario["id"], "reoptimize", replan)["id"])
        assert replanned["state"] == "succeeded", replanned
        assert replanned["result"]["objective_musd"] == pytest.approx(100.0)  # same plan
        assert "diff.json" in replanned["files"]
    cli = CliRunner().invoke(app, ["audit", str(server.scenario), str(tmp_path)])
    assert cli.exit_code == 0, cli.output


def test_job_listing_events_and_deletion(server: Server) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)
        job = gs.submit(scenario["id"], "diagnose")
        with httpx.stream(
            "GET",
            f"{server.url}/v1/jobs/{job['id']}/events",
            headers={"Authorization": f"Bearer {server.key}"},
            timeout=120,
        ) as stream:
            states = [
                json.loads(line.removeprefix("data: "))["state"]
                for line in stream.iter_lines()
                if line.startswith("data: ")
            ]
        assert states[-1] == "succeeded" and set(states) <= {"queued", "running", "succeeded"}
        done = gs.job(job["id"])
        assert done["result"]["feasible"] is True and done["result"]["stopped"] is False
        assert "diagnosis.json" in done["files"]
        listed = gs.jobs(state="succeeded", limit=500)
        assert job["id"] in [j["id"] for j in listed]
        assert all(j["state"] == "succeeded" for j in listed)
        assert len(gs.jobs(limit=1)) == 1
        folder = server.artifacts / "jobs" / job["id"]
        assert folder.is_dir()
        assert gs.cancel(job["id"]) is None  # a finished job is deleted, files too
        assert not folder.exists()
        with pytest.raises(ServiceError) as gone:
            gs.job(job["id"])
        assert gone.value.status == 404


def test_an_expired_lease_is_requeued_and_the_job_runs_again(server: Server) -> None:
    """A worker that died holding a job: the job is claimed by a fake owner whose lease
    (0.5 s) is never renewed. The running server finds the expired lease, re-queues the job
    and runs it: attempt 2 succeeds."""
    with server.client() as gs:
        scenario = gs.upload(server.scenario)
    store = server.store()
    key_id = server.key.split("_")[1]
    job, _ = store.submit(key_id, scenario["id"], "diagnose", {}, max_attempts=3)
    claimed = None
    while claimed is None or claimed.job_id != job.job_id:  # the server may claim others
        claimed = store.claim("dead-worker", lease_s=0.5)
        assert claimed is None or claimed.job_id == job.job_id
    store.close()
    with server.client() as gs:
        done = gs.wait(job.job_id, timeout_s=120)
    assert done["state"] == "succeeded" and done["attempts"] == 2


def test_cancel_interrupts_a_running_solve_and_keeps_its_best_plan(server: Server) -> None:
    """The default scenario solved to a zero gap runs long; once HiGHS has an incumbent
    (live progress), DELETE stops it through HiGHS's interrupt callback."""
    with server.client() as gs:
        scenario = gs.upload(DEFAULT_SCENARIO)
        options = {"mip_gap_frac": 0.0, "time_limit_s": 600, "plots": False}
        job = gs.submit(scenario["id"], "solve", options)
        deadline = time.monotonic() + 180
        while gs.job(job["id"])["progress"]["incumbent_musd"] is None:
            assert time.monotonic() < deadline, "no incumbent reported"
            time.sleep(0.2)
        asked = gs.cancel(job["id"])
        assert asked is not None and asked["cancel_requested"]
        done = gs.wait(job["id"], timeout_s=60)
        assert done["state"] == "cancelled", done
        assert done["result"]["termination"] == "interrupted" and done["result"]["stopped"]
        plan = gs.plan(job["id"])
        assert plan["status"] == "interrupted" and plan["termination"] == "interrupted"
        assert plan["mip_gap"] > 0 and any(site["open"] for site in plan["sites"])
        assert {"sites.csv", "build.csv"} <= set(done["files"])


def test_a_sweep_job_runs_its_cases_on_the_cluster_and_serves_every_file(
    server: Server, tmp_path: Path
) -> None:
    """tests.test_sweep.two_sites: target x1 costs 105.475 M USD, x2 210.95; x30 is more
    than the two campuses hold (infeasible, recorded, the others go on)."""
    grid = {
        "axes": {"target_multiplier": [1.0, 2.0]},
        "cases": [{"name": "too-much", "target_multiplier": 30}],
        "solver": {"mip_gap_frac": 0},
    }
    with server.client() as gs:
        scenario = gs.upload(two_sites(tmp_path))["id"]
        done = gs.wait(gs.submit(scenario, "sweep", {"grid": grid})["id"], timeout_s=180)
        assert done["state"] == "succeeded", done
        result = done["result"]
        assert (result["cases"], result["failed"], result["cancelled"]) == (3, 0, False)
        assert result["by_status"] == {"optimal": 2, "infeasible": 1}
        assert result["robust_campuses"] == ["a"]
        assert {"results.parquet", "results.nc", "robustness.csv"} <= set(done["files"])
        table = pd.read_parquet(gs.download(done["id"], "results.parquet", tmp_path / "r.pq"))
        npv = table.set_index("target_multiplier")["npv_musd"].round(6).to_dict()
        assert npv[1.0] == 105.475 and npv[2.0] == 210.95
        gs.download(done["id"], "results.nc", tmp_path / "r.nc")
        with xr.open_dataset(tmp_path / "r.nc") as ds:
            assert ds.sizes["case"] == 3
        optimal = table[table["status"] == "optimal"]
        assert (optimal["audit"] == "ok").all()  # the sweep audits each case's plan
        for case_id in optimal["case_id"]:
            assert f"cases/{case_id}/plan.json" in done["files"]
        [base] = table[table["target_multiplier"] == 1.0]["case_id"]  # the scenario as is
        plan = tmp_path / "base"
        plan.mkdir()
        for name in done["files"]:
            if name.startswith(f"cases/{base}/"):
                gs.download(done["id"], name, plan / name.rsplit("/", 1)[1])
        audited = CliRunner().invoke(app, ["audit", str(two_sites(tmp_path)), str(plan)])
        assert audited.exit_code == 0, audited.output
        for name in ("cases/../../gridsite.db", "cases/..%2F..%2Fgridsite.db", "rows/.x"):
            answer = gs.http.get(f"/v1/jobs/{done['id']}/files/{name}")
            assert answer.status_code == 404, (name, answer.text)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"axes": {"hedroom_multiplier": [2]}}, "options.grid.axes.hedroom_multiplier"),
        ({"axes": {"target_multiplier": []}}, "options.grid.axes.target_multiplier"),
        ({"axes": {"target_multiplier": [-1]}}, "options.grid.axes.target_multiplier.0"),
        (
            {"cases": [{"name": "x", "price_multiplier_by_region": {"nowhere": 2}}]},
            "options.grid.cases.0.price_multiplier_by_region.nowhere: no region 'nowhere'",
        ),
        ({"cases": [], "solver": {"mip_gap_frac": 0}}, "options.grid.grid: no cases"),
    ],
)
def test_a_bad_sweep_is_refused_with_its_field(
    server: Server, grid: dict[str, object], message: str
) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)["id"]
        before = len(gs.jobs(limit=500))
        with pytest.raises(ServiceError) as refused:
            gs.submit(scenario, "sweep", {"grid": grid})
        assert refused.value.status == 422 and message in str(refused.value.detail)
        assert len(gs.jobs(limit=500)) == before


def test_cancel_stops_a_sweep_after_the_cases_running(server: Server, tmp_path: Path) -> None:
    """60 tiny cases on one worker take tens of seconds; DELETE once the first rows are in:
    the job ends cancelled with the cases finished so far, the others not solved."""
    multipliers = [1 + i / 100 for i in range(60)]
    grid = {"axes": {"target_multiplier": multipliers}, "solver": {"mip_gap_frac": 0}}
    with server.client() as gs:
        scenario = gs.upload(two_sites(tmp_path))["id"]
        job = gs.submit(scenario, "sweep", {"grid": grid})["id"]
        rows = server.artifacts / "jobs" / job / "sweep" / "rows"
        _wait_until(lambda: rows.is_dir() and len(list(rows.iterdir())) >= 2, "two cases")
        asked = gs.cancel(job)
        assert asked is not None and asked["cancel_requested"]
        done = gs.wait(job, timeout_s=120)
        assert done["state"] == "cancelled", done
        result = done["result"]
        assert result["cancelled"] and result["stopped"]
        assert 2 <= result["cases"] < 60 and result["by_status"] == {"optimal": result["cases"]}
        assert "results.parquet" in done["files"]


def _zip(entries: dict[str, bytes], link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _post_zip(server: Server, data: bytes, key: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/scenarios",
        files={"file": ("s.zip", data, "application/zip")},
        headers={"Authorization": f"Bearer {key or server.key}"},
        timeout=60,
    )


def _leftovers(server: Server) -> list[str]:
    return sorted(os.listdir(server.artifacts / "uploads"))


def test_bad_uploads_are_refused_clearly_and_leave_nothing(server: Server) -> None:
    scenarios_before = sorted(os.listdir(server.artifacts / "scenarios"))
    good = zip_folder(server.scenario)
    cases = {
        "not a zip": (b"PK\x03\x04 certainly not", 400, "not a zip file"),
        "traversal": (_zip({"../../evil.txt": b"x"}), 400, "escapes the scenario folder"),
        "absolute": (_zip({"/tmp/evil.txt": b"x"}), 400, "escapes the scenario folder"),
        "link": (_zip({"scenario.yaml": b"name: x\n"}, link="sites.csv"), 400, "is a link"),
        "oversize": (b"\0" * int(MAX_UPLOAD_MB * 1024 * 1024 + 10), 413, "at most"),
        "bomb": (
            _zip({"scenario.yaml": b"\0" * 9 * int(MAX_UPLOAD_MB * 1024 * 1024)}),
            413,
            "unpacks to more",
        ),
        "no scenario": (_zip({"readme.txt": b"hello"}), 422, "no scenario.yaml"),
    }
    for name, (data, status, message) in cases.items():
        answer = _post_zip(server, data)
        assert answer.status_code == status, (name, answer.text)
        assert message in answer.json()["detail"], (name, answer.text)
    invalid = zipfile.ZipFile(io.BytesIO(good))
    entries = {i.filename: invalid.read(i) for i in invalid.infolist()}
    entries["sites.csv"] = entries["sites.csv"].replace(b",1000.0,", b",lots,", 1)
    answer = _post_zip(server, _zip(entries))
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert (problem["file"], problem["row"], problem["field"]) == ("sites.csv", 2, "max_it_mw")
    assert "sites.csv:2: max_it_mw:" in answer.json()["detail"]
    assert _leftovers(server) == []
    assert sorted(os.listdir(server.artifacts / "scenarios")) == scenarios_before


def test_keys_and_ownership(server: Server) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)
        job = gs.submit(scenario["id"], "diagnose")
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # no key needed
    for headers in ({}, {"Authorization": "Bearer gsk_nope_nope"}):
        answer = httpx.get(f"{server.url}/v1/jobs", headers=headers)
        assert answer.status_code == 401 and "API key" in answer.json()["detail"]
    with server.client(server.other_key) as theirs:
        for call in (
            lambda: theirs.job(job["id"]),
            lambda: theirs.plan(job["id"]),
            lambda: theirs.cancel(job["id"]),
            lambda: theirs.submit(scenario["id"], "solve"),
            lambda: theirs.job("0123456789abcdef"),
        ):
            with pytest.raises(ServiceError) as refused:
                call()
            assert refused.value.status == 404 and "not found" in str(refused.value.detail)
        assert theirs.jobs() == []
    with server.client() as gs:
        for kind, options, message in (
            ("solve", {"mip_gap_frac": 2}, "options.mip_gap_frac"),
            ("solve", {"gap": 0.1}, "options.gap"),
            ("pareto", {"between": ["cost", "cost"]}, "two different metrics"),
            ("audit", {"plan_job_id": "0123456789abcdef"}, "no finished job"),
        ):
            with pytest.raises(ServiceError) as refused:
                gs.submit(scenario["id"], kind, options)
            assert refused.value.status == 422 and message in str(refused.value.detail)
        gs.wait(job["id"])
    revoked = CliRunner().invoke(
        app,
        ["keys", "revoke", server.other_key.split("_")[1], "--artifacts", str(server.artifacts)],
    )
    assert revoked.exit_code == 0, revoked.output
    assert (
        httpx.get(
            f"{server.url}/v1/jobs", headers={"Authorization": f"Bearer {server.other_key}"}
        ).status_code
        == 401
    )
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/scenarios", "/v1/jobs", "/v1/jobs/{job_id}/events"} <= set(schema["paths"])


def test_a_database_error_that_is_no_outage_is_a_500_that_leaks_nothing(server: Server) -> None:
    """With the job_progress table renamed away (SQLite's "no such table" is an
    OperationalError, like a refused connection), reading a job's progress is a fault, not
    an outage: 500 (no Retry-After), a generic message, the reason in the server's log."""
    with server.client() as gs:
        job = gs.wait(gs.submit(gs.upload(server.scenario)["id"], "diagnose")["id"])
    store = server.store()
    try:
        with store.engine.begin() as c:
            c.exec_driver_sql("ALTER TABLE job_progress RENAME TO job_progress_away")
        answer = httpx.get(
            f"{server.url}/v1/jobs/{job['id']}/progress",
            headers={"Authorization": f"Bearer {server.key}"},
        )
    finally:
        with store.engine.begin() as c:
            c.exec_driver_sql("ALTER TABLE job_progress_away RENAME TO job_progress")
        store.close()
    assert answer.status_code == 500 and "retry-after" not in answer.headers
    assert answer.json() == {"detail": "internal error in the job store (logged)"}
    log = (server.artifacts.parent / "server.log").read_text()
    assert "no such table: job_progress" in log and "job store error" in log


def test_every_operation_keeps_its_openapi_contract(server: Server) -> None:
    """schemathesis against the real server's /openapi.json with a valid key: 25 examples per
    operation, no 5xx, and every answer's status code, content type and body are the ones
    the schema declares. (One loop over the operations: schemathesis's pytest fixture loader
    does not run on this pytest.)"""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures = {}
    operations = 0
    for found in schema.get_all_operations():
        assert isinstance(found, Ok), found  # an operation the schema describes wrongly
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_contract(case: Case) -> None:
            headers = {"Authorization": f"Bearer {server.key}"}
            case.call_and_validate(base_url=server.url, headers=headers, checks=checks)

        try:
            keeps_contract()
        except (Exception, BaseExceptionGroup) as e:
            failures[operation.label] = str(e)[:3000]
    assert operations >= 9
    assert failures == {}


#: The default scenario to a 1 % gap, at most 20 s: long enough to be killed in the middle.
SOLVE = {"mip_gap_frac": 0.01, "time_limit_s": 20, "plots": False}


def _worker_processes(server_pid: int) -> list[psutil.Process]:
    """The Dask worker processes the server's local cluster spawned."""
    found = []
    for child in psutil.Process(server_pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # gone, or a zombie not reaped yet
            pass
    return found


def _wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _kill_the_worker_running(parent: int, gs: Client, job_id: str, attempt: int) -> None:
    """SIGKILL the worker process (a child of the process ``parent``) once it runs
    ``attempt`` of the job (its progress thread reported), then wait until the nanny has
    started a new one."""

    def running() -> bool:
        job = gs.job(job_id)
        updated = job["progress"]["updated_at"]
        return (
            job["state"] == "running"
            and job["attempts"] == attempt
            and updated is not None
            and updated > job["started_at"]
        )

    _wait_until(running, f"attempt {attempt} on the worker")
    [worker] = _worker_processes(parent)
    worker.send_signal(signal.SIGKILL)
    _wait_until(
        lambda: [p.pid for p in _worker_processes(parent)] not in ([], [worker.pid]),
        "a new worker",
    )


def test_a_job_whose_worker_dies_every_time_fails_with_the_reason(server: Server) -> None:
    """Each SIGKILL of the worker is Dask's KilledWorker (the server's local cluster allows
    Dask no retry of its own, though the environment asks for 3); the job store re-queues
    the job (attempts 2, 3), and after the third lost worker (max_attempts 3) the job fails
    saying why: never lost, never left running. Dask closes each dead worker's nanny (this
    module's server: ``NANNY_DROPPED_AT_ONCE``) and the server starts another worker each
    time: the next test's jobs run."""
    with server.client() as gs:
        default = gs.upload(DEFAULT_SCENARIO)["id"]
        job = gs.submit(default, "solve", SOLVE)["id"]
        for attempt in (1, 2, 3):
            _kill_the_worker_running(server.process.pid, gs, job, attempt)
        done = gs.wait(job, timeout_s=120)
        assert done["state"] == "failed" and done["attempts"] == 3, done
        assert done["error"].startswith("gave up after 3 attempts; attempt 3: KilledWorker")
        assert gs.jobs(state="running") == [] and gs.jobs(state="queued") == []
    log = (server.artifacts.parent / "server.log").read_text()
    assert log.count("local worker lost for good, starting another") == 3


def test_on_an_external_cluster_that_retries_by_itself_the_store_counts_every_run(
    tmp_path: Path,
) -> None:
    """A Dask cluster of its own (``dask scheduler`` keeping Dask's default of 3 re-runs of a
    task whose worker died, ``dask worker`` with a nanny) behind a second server. SIGKILL the
    worker mid-solve: the scheduler re-runs the task by itself, the re-run sees its attempt
    already started (WorkerLost) and stops, and the job store re-queues the job: attempt 2
    succeeds. Dask's retries never multiply the store's attempts."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    retrying = {**os.environ, **DASK_RETRIES}
    cluster = [
        subprocess.Popen(
            [dask, *command, "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=retrying,
        )
        for command in (
            ["scheduler", "--host", "127.0.0.1", "--port", str(port)],
            ["worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1"],
        )
    ]
    log, api = tmp_path / "server.log", free_port()
    other = None
    try:
        other = start_server(tmp_path / "data", api, log, "--scheduler", address, "--lease", "3")
        store = Store(sqlite_url(tmp_path / "data" / "gridsite.db"))
        key = store.create_key("external")
        store.close()
        with Client(f"http://127.0.0.1:{api}", key) as gs:
            default = gs.upload(DEFAULT_SCENARIO)["id"]
            job = gs.submit(default, "solve", SOLVE)["id"]
            _kill_the_worker_running(cluster[1].pid, gs, job, attempt=1)
            done = gs.wait(job, timeout_s=300)
        assert done["state"] == "succeeded" and done["attempts"] == 2, done
        assert "WorkerLost: attempt 1 ran before on a worker that died" in log.read_text()
    finally:
        if other is not None:
            stop_server(other)
        for process in cluster:
            stop_server(process)


def test_zz_killed_worker_and_killed_server_lose_no_job(server: Server) -> None:
    """Faults, for real (last in this module: it kills the module's server).

    1. SIGKILL the worker process while it solves: Dask reports KilledWorker, the job store
    re-queues the job and its second attempt succeeds. 2. SIGKILL the server while a solve
    runs and two jobs wait: a new server on the same job store finds the expired lease,
    re-queues the job (attempt 2) and every job succeeds. No job is lost or left running."""
    with server.client() as gs:
        default = gs.upload(DEFAULT_SCENARIO)["id"]
        first = gs.submit(default, "solve", SOLVE)["id"]
        # the module's one worker may still be busy with jobs earlier tests left queued
        _wait_until(lambda: gs.job(first)["state"] == "running", "the first solve", 600)
        _wait_until(lambda: gs.job(first)["progress"]["incumbent_musd"] is not None, "the MIP")
        _kill_the_worker_running(server.process.pid, gs, first, attempt=1)
        done = gs.wait(first, timeout_s=300)
        assert done["state"] == "succeeded" and done["attempts"] == 2, done
        assert done["result"]["status"] in ("optimal", "feasible"), done

        second = gs.submit(default, "solve", SOLVE)["id"]
        tiny = gs.upload(server.scenario)["id"]
        waiting = [gs.submit(tiny, "solve")["id"] for _ in range(2)]
        _wait_until(lambda: gs.job(second)["state"] == "running", "the second solve")
    server.process.send_signal(signal.SIGKILL)
    stop_server(server.process)  # what is left of it (its worker) dies with the machine
    port = free_port()
    log = server.artifacts.parent / "server.log"
    restarted = start_server(server.artifacts, port, log, "--lease", "3")
    try:
        with Client(f"http://127.0.0.1:{port}", server.key) as gs:
            jobs = [gs.wait(job_id, timeout_s=300) for job_id in [second, *waiting]]
            assert [j["state"] for j in jobs] == ["succeeded"] * 3, jobs
            assert jobs[0]["attempts"] == 2 and jobs[0]["error"] is None
            assert gs.jobs(state="running") == [] and gs.jobs(state="queued") == []
    finally:
        stop_server(restarted)
