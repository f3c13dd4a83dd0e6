"""The service layer: the job lifecycle between the routes and the store.

A dispatcher thread claims queued jobs from the store (one per free Dask thread), submits
each to Dask as :func:`optimizer.service.worker.run_task`, heartbeats the leases of the jobs
it holds, records outcomes and re-queues jobs whose lease expired (a dead worker or server).
A new job kind needs only an entry in :data:`optimizer.service.worker.KINDS`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
from distributed import Client, Future, LocalCluster
from distributed.scheduler import KilledWorker
from pydantic import ValidationError

from optimizer.service import uploads
from optimizer.service.store import JobRecord, ScenarioRecord, Store, sqlite_url
from optimizer.service.worker import (
    KINDS,
    AuditJob,
    ReoptimizeJob,
    SweepJob,
    Task,
    WorkerLost,
    check_sweep,
    run_task,
)

log = logging.getLogger("gridsite.service")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
"""One part of a file's path in a result folder (never ``..``, never hidden)."""
MAX_DEPTH = 3
"""``cases/<case_id>/plan.json`` of a sweep is the deepest file served."""


class NotFound(Exception):
    """No such object for this key (another key's object is not found either)."""


class Invalid(Exception):
    """A request the service refuses (HTTP 422), with a clear message."""


@dataclass(frozen=True)
class Settings:
    artifacts: Path
    """Scenarios, job results and (by default) the SQLite job store live here."""
    database_url: str
    scheduler: str | None = None
    """``tcp://HOST:PORT`` of a Dask scheduler; ``None``: a local cluster."""
    workers: int = 1
    """Processes of the local cluster (one solve each)."""
    lease_s: float = 30.0
    poll_s: float = 0.2
    max_attempts: int = 3
    max_upload_bytes: int = 32 * 1024 * 1024

    @property
    def max_unpacked_bytes(self) -> int:
        """A zip may unpack to 8 times the upload limit (a zip bomb is refused)."""
        return 8 * self.max_upload_bytes

    @staticmethod
    def resolve(artifacts: Path, database_url: str | None) -> tuple[Path, str]:
        """The artifact folder (absolute) and the database URL: the one given, else
        ``GRIDSITE_DATABASE_URL``, else a SQLite file in the artifact folder."""
        artifacts = artifacts.resolve()
        url = database_url or os.environ.get("GRIDSITE_DATABASE_URL")
        if not url:
            artifacts.mkdir(parents=True, exist_ok=True)
            url = sqlite_url(artifacts / "gridsite.db")
        return artifacts, url


@dataclass
class _Running:
    job: JobRecord
    future: Future


class JobService:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url)
        self.owner = f"server-{secrets.token_hex(4)}"
        self.artifacts = settings.artifacts.resolve()
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, name="gridsite-dispatch", daemon=True),
            threading.Thread(target=self._beat, name="gridsite-heartbeat", daemon=True),
        ]
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._short_of_workers = False

    # Start and stop -------------------------------------------------------------------

    def start(self) -> None:
        self.store.migrate()
        for sub in ("scenarios", "jobs", "uploads"):
            (self.artifacts / sub).mkdir(parents=True, exist_ok=True)
        if self.settings.scheduler:
            self._client = Client(self.settings.scheduler)
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self._cluster = LocalCluster(  # a lost worker: at once the store's retry
                    n_workers=self.settings.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                )
            self._client = Client(self._cluster)
        self._client.run(importlib.import_module, "optimizer.service.worker")  # warm imports
        for thread in self._threads:
            thread.start()
        _log("service started", owner=self.owner, scheduler=self.settings.scheduler or "local")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.store.close()

    # What the routes call -------------------------------------------------------------

    def add_scenario(self, key_id: str, data: bytes) -> ScenarioRecord:
        """Unpack, validate and store a zipped scenario folder (content-addressed)."""
        if len(data) > self.settings.max_upload_bytes:
            raise uploads.UploadError(
                413, f"the upload is {len(data)} bytes (at most {self.settings.max_upload_bytes})"
            )
        staging = self.artifacts / "uploads" / secrets.token_hex(8)
        staging.mkdir(parents=True)
        try:
            root = uploads.unpack(data, staging, self.settings.max_unpacked_bytes)
            scenario = uploads.load(root)
            digest = uploads.digest(root)
            final = self.artifacts / "scenarios" / digest
            if not final.exists():
                root.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        summary = {
            "sites": len(scenario.sites),
            "zones": len(scenario.zones),
            "periods": len(scenario.config.horizon.periods),
            "profile_hours": scenario.profiles.n_hours,
        }
        return self.store.add_scenario(key_id, digest, scenario.config.name, summary)

    def scenario(self, key_id: str, digest: str) -> ScenarioRecord:
        found = self.store.scenario(key_id, digest)
        if found is None:
            raise NotFound(f"scenario {digest} not found")
        return found

    def submit(
        self,
        key_id: str,
        scenario_id: str,
        kind: str,
        options: dict[str, Any],
        idempotency_key: str | None = None,
    ) -> tuple[JobRecord, bool]:
        if kind not in KINDS:
            raise Invalid(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        try:
            checked = KINDS[kind].options.model_validate(options)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "options"
            raise Invalid(f"options.{where}: {first['msg']}") from None
        self.scenario(key_id, scenario_id)
        if isinstance(checked, SweepJob):
            problem = check_sweep(self.artifacts / "scenarios" / scenario_id, options["grid"])
            if problem is not None:
                raise Invalid(f"options.grid.{problem}")
        if isinstance(checked, AuditJob | ReoptimizeJob):
            plan_job = self.store.job(checked.plan_job_id, key_id)
            if plan_job is None or plan_job.artifact is None:
                raise Invalid(f"plan_job_id {checked.plan_job_id} is no finished job with a plan")
            if isinstance(checked, AuditJob) and plan_job.scenario_digest != scenario_id:
                raise Invalid("plan_job_id solved another scenario")
        return self.store.submit(
            key_id,
            scenario_id,
            kind,
            checked.model_dump(mode="json"),
            idempotency_key=idempotency_key,
            max_attempts=self.settings.max_attempts,
        )

    def job(self, key_id: str, job_id: str) -> JobRecord:
        found = self.store.job(job_id, key_id)
        if found is None:
            raise NotFound(f"job {job_id} not found")
        return found

    def cancel_or_delete(self, key_id: str, job_id: str) -> JobRecord | None:
        """Cancel a queued or running job (the record after); delete a finished one and
        its files (``None``)."""
        job = self.job(key_id, job_id)
        if job.state in ("queued", "running"):
            _log("cancel asked", job_id=job_id, state=job.state)
            return self.store.cancel(job_id, key_id)
        if self.store.delete(job_id, key_id):
            shutil.rmtree(self.artifacts / "jobs" / job_id, ignore_errors=True)
            _log("job deleted", job_id=job_id)
        return None

    def file(self, key_id: str, job_id: str, name: str) -> Path:
        """A file of the job's result folder by its relative path (``sites.csv``; in a
        sweep also ``cases/<case_id>/sites.csv``); no link, nothing outside the folder."""
        job = self.job(key_id, job_id)
        if job.artifact is None:
            raise NotFound(f"job {job_id} has no files (state {job.state})")
        parts = name.split("/")
        missing = NotFound(f"no file {name!r} in job {job_id}")
        if len(parts) > MAX_DEPTH or not all(FILE_NAME.match(p) for p in parts):
            raise missing
        root = Path(job.artifact)
        path = root.joinpath(*parts)
        if any(p.is_symlink() for p in [path, *path.parents][: len(parts)]):
            raise missing
        if not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
            raise missing
        return path

    def files(self, job: JobRecord) -> list[str]:
        """Relative paths of the job's result files (what :meth:`file` serves)."""
        if job.artifact is None or not Path(job.artifact).is_dir():
            return []
        root = Path(job.artifact)
        found = []
        for path in root.rglob("*"):
            parts = path.relative_to(root).parts
            if (
                len(parts) <= MAX_DEPTH
                and all(FILE_NAME.match(p) for p in parts)
                and path.is_file()
                and not path.is_symlink()
            ):
                found.append("/".join(parts))
        return sorted(found)

    # The dispatcher -------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.poll_s):
            try:
                self._tick()
            except Exception as e:  # the store may be down for a while: keep going
                _log("dispatch error", error=f"{type(e).__name__}: {e}")

    def _tick(self) -> None:
        for job in self.store.requeue_expired():
            _log("lease expired", job_id=job.job_id, state=job.state, error=job.error)
        with self._lock:
            finished = [run for run in self._running.values() if run.future.done()]
        for run in finished:
            self._record(run)
            with self._lock:
                del self._running[run.job.job_id]
        assert self._client is not None
        self._keep_local_workers()
        free = sum(self._client.nthreads().values()) - len(self._running)
        while free > 0 and (claimed := self.store.claim(self.owner, self.settings.lease_s)):
            self._dispatch(claimed)
            free -= 1

    def _keep_local_workers(self) -> None:
        """Start the local cluster's worker processes that Dask gave up on.

        A nanny restarts its worker when the process dies, but the cluster closes the nanny
        of a worker that has not come back within ``distributed.deploy.lost-worker-timeout``
        (15 s): a worker killed again while it restarts on a loaded machine. Dask never
        starts another, and a server without a worker would claim no job again."""
        if self._cluster is None:
            return
        missing = self.settings.workers - len(self._cluster.workers)
        if missing > 0:
            if not self._short_of_workers:
                _log("local worker lost for good, starting another", missing=missing)
            self._cluster.scale(self.settings.workers)  # opens the missing ones
        self._short_of_workers = missing > 0

    def _beat(self) -> None:
        """Renew the leases of the jobs this server runs, on a thread of its own so that
        slow dispatch work never lets a live lease expire."""
        while not self._stop.wait(self.settings.lease_s / 4):
            with self._lock:
                running = list(self._running.values())
            for run in running:
                job = run.job
                try:
                    held = self.store.heartbeat(
                        job.job_id, self.owner, job.attempts, self.settings.lease_s
                    )
                except Exception as e:  # the store is down: retry at the next beat
                    _log("heartbeat error", job_id=job.job_id, error=str(e)[:300])
                    continue
                if not held:  # another claim owns the job now (this server stalled)
                    run.future.cancel()
                    with self._lock:
                        self._running.pop(job.job_id, None)
                    _log("lease lost", job_id=job.job_id)

    def _dispatch(self, job: JobRecord) -> None:
        assert self._client is not None
        plan_dir = None
        if "plan_job_id" in job.options:
            plan_job = self.store.job(job.options["plan_job_id"])
            plan_dir = plan_job.artifact if plan_job else None
        task = Task(
            job_id=job.job_id,
            attempt=job.attempts,
            kind=job.kind,
            options=job.options,
            scenario_dir=str(self.artifacts / "scenarios" / job.scenario_digest),
            out_dir=str(self.artifacts / "jobs" / job.job_id),
            database_url=self.store.url,
            plan_dir=plan_dir,
        )
        key = f"{job.kind}-{job.job_id}-{job.attempts}"
        # retries=0 and run_task's WorkerLost: the store's attempts are the only retries
        future = self._client.submit(run_task, task, key=key, pure=False, retries=0)
        with self._lock:
            self._running[job.job_id] = _Running(job, future)
        _log("job started", job_id=job.job_id, kind=job.kind, attempt=job.attempts)

    def _record(self, run: _Running) -> None:
        job = run.job
        if run.future.status == "cancelled":
            return  # the lease runs out and the job is re-queued
        error = run.future.exception()
        if error is not None:
            message = f"{type(error).__name__}: {error}".splitlines()[0][:500]
            if isinstance(error, KilledWorker | WorkerLost):  # the worker died, not the job
                again = self.store.release(job.job_id, self.owner, job.attempts, message)
                if again is not None:
                    _log(f"worker lost, job {again.state}", job_id=job.job_id, error=again.error)
                return
            self.store.finish(job.job_id, self.owner, job.attempts, "failed", error=message)
            _log("job failed", job_id=job.job_id, error=message)
            return
        summary = run.future.result()
        folder = Path(summary.pop("artifact"))
        artifact = folder if folder.is_dir() else None  # e.g. a Pareto front without a plan
        current = self.store.job(job.job_id)
        state = "cancelled" if current and current.cancel_requested else "succeeded"
        if self.store.finish(
            job.job_id, self.owner, job.attempts, state, result=summary, artifact=artifact
        ):
            _log(f"job {state}", job_id=job.job_id, result=summary)
        else:  # a stale attempt: its lease went to another claim
            if folder.name.startswith("attempt-"):  # a sweep's folder is the next attempt's
                shutil.rmtree(folder, ignore_errors=True)
            _log("stale result dropped", job_id=job.job_id, attempt=job.attempts)


def _log(event: str, **fields: Any) -> None:
    log.info(event, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, event and the record's fields (job id...)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(entry, default=str)
