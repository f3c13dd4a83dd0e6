"""What a Dask worker runs: the same library calls as the CLI, on a stored scenario.

Each job kind is one entry in :data:`KINDS`: a pydantic model of its options and a function
that runs it into a folder and returns a small JSON summary. While a job runs, a
:class:`Watch` thread pushes HiGHS's latest progress to the job store and learns from it
whether to stop (a cancel, or a lost lease).

A sweep job is one task like the others; on its worker it *secedes* from the worker's thread
pool and runs :func:`optimizer.sweep.sweep` against the same Dask scheduler, so its cases are
tasks of that cluster (spread over all its workers) and the seceded sweep task holds no thread
while it waits for them: no deadlock on a one-thread worker, no second engine.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from distributed import get_worker, rejoin, secede
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.exc import DBAPIError

from optimizer.api import options_for, solve
from optimizer.audit import audit_plan
from optimizer.diagnose import diagnose
from optimizer.diff import diff_plans
from optimizer.errors import ScenarioError
from optimizer.output import replace_folder
from optimizer.pareto import METRICS, NoPlanError, pareto_front
from optimizer.plan import Plan
from optimizer.plan_files import read_plan
from optimizer.plots import plot_map, plot_ramp
from optimizer.replan import reoptimize
from optimizer.scenario import Scenario, load_scenario
from optimizer.service.store import Store
from optimizer.solver import SolveOptions
from optimizer.sweep_file import SweepFile, load_sweep
from optimizer.sweep_runner import sweep

PROGRESS_EVERY_S = 0.5


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit_s: float | None = Field(default=None, gt=0, le=86_400)
    """Seconds (per solve); default: the scenario's ``solver`` section."""
    mip_gap_frac: float | None = Field(default=None, ge=0, le=1)
    """Relative gap; default: the scenario's ``solver`` section."""


class SolveJob(_Options):
    threads: int | None = Field(default=None, ge=1, le=64)
    seed: int | None = Field(default=None, ge=0, le=2_147_483_647)
    marginals: bool = False
    """Also write marginal_values.csv."""
    plots: bool = True
    """Also write map.png and ramp.png."""


class DiagnoseJob(_Options):
    pass


class ParetoJob(_Options):
    between: tuple[str, str] = ("cost", "energy")
    """Minimise the first metric with the second bounded."""
    points: int = Field(default=6, ge=2, le=50)

    @model_validator(mode="after")
    def _two_metrics(self) -> ParetoJob:
        first, second = self.between
        if first == second or first not in METRICS or second not in METRICS:
            raise ValueError(f"between takes two different metrics of {', '.join(METRICS)}")
        return self


class AuditJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plan_job_id: str = Field(min_length=1, max_length=32)
    """A succeeded solve job of the same key on the same scenario: its plan is audited."""


class ReoptimizeJob(_Options):
    plan_job_id: str = Field(min_length=1, max_length=32)
    """The previous plan: a finished job of the same key (the scenario may be new data)."""
    commit_through: str = Field(pattern=r"^\d{4}H[12]$")
    """Last committed period, e.g. 2027H2: the previous plan's decisions through it hold."""


class SweepJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grid: SweepFile
    """The sweep: what a ``gridsite sweep --grid`` file holds (axes, cases, solver)."""


def check_sweep(scenario_dir: Path, grid: dict[str, Any]) -> str | None:
    """The CLI's own sweep-file checks that need the scenario (zones and regions named,
    fixed fields, an empty product): the first problem as ``field: message``, else ``None``."""
    with tempfile.TemporaryDirectory(prefix="gridsite-sweep-") as tmp:
        file = Path(tmp) / "sweep.yaml"
        file.write_text(json.dumps(grid))  # JSON is YAML
        try:
            load_sweep(file, load_scenario(scenario_dir))
        except ScenarioError as e:
            first = e.problems[0]
            return f"{first.field or 'grid'}: {first.message}"
    return None


@dataclass(frozen=True)
class Kind:
    options: type[BaseModel]
    run: Callable[[Scenario, Any, Path, Watch, Path | None], dict[str, Any]]
    """(scenario, options, output folder, watch, input plan folder) -> summary."""


@dataclass(frozen=True)
class Task:
    """Everything a worker needs, picklable: where the scenario and the store are."""

    job_id: str
    attempt: int
    kind: str
    options: dict[str, Any]
    scenario_dir: str
    out_dir: str
    """The job's artifact folder; this attempt writes ``attempt-N`` inside it."""
    database_url: str
    plan_dir: str | None = None
    """Input plan folder (audit jobs)."""


class Watch:
    """Progress and cancellation for one running attempt (a thread on the worker)."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.stop = threading.Event()
        """Set when the job should stop: a cancel was asked or the lease was lost."""
        self._latest: tuple[float | None, float | None, float | None] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch-{task.job_id}")

    def progress(self, incumbent: float | None, bound: float | None, gap: float | None) -> None:
        """HiGHS's callback: keep only the latest values (the thread sends them)."""
        self._latest = (incumbent, bound, gap)

    def _run(self) -> None:
        store = Store(self.task.database_url)
        try:
            while not self._done.wait(PROGRESS_EVERY_S):
                self._push(store)
            self._push(store)
        finally:
            store.close()

    def _push(self, store: Store) -> None:
        latest = self._latest or (None, None, None)
        try:
            if store.report_progress(self.task.job_id, self.task.attempt, *latest):
                self.stop.set()
        except DBAPIError:
            pass  # the store is down for a while: the job goes on, the next push retries

    def cancel_asked(self) -> bool:
        """Whether the stop is a cancel (not a lost lease); ``False`` if the store is down."""
        store = Store(self.task.database_url)
        try:
            job = store.job(self.task.job_id)
            return job is not None and job.cancel_requested
        except DBAPIError:
            return False
        finally:
            store.close()

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


class WorkerLost(Exception):
    """Dask ran an attempt a second time: its first worker died and the scheduler retried
    the task by itself (its ``allowed-failures``, 3 unless the cluster sets 0). The job
    store's attempts are the only retries, so the re-run stops at once and the dispatcher
    re-queues the job as for ``KilledWorker`` (a new attempt, counted)."""


def _first_run(task: Task) -> None:
    """Mark the attempt as started on the shared artifact folder (``O_EXCL``); raise
    :class:`WorkerLost` if it was started before."""
    folder = Path(task.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        (folder / f".attempt-{task.attempt}.started").open("x").close()
    except FileExistsError:
        raise WorkerLost(f"attempt {task.attempt} ran before on a worker that died") from None


def run_task(task: Task) -> dict[str, Any]:
    """Run one attempt of a job into ``<out_dir>/attempt-N`` (replaced in one atomic step by
    the library's writers, so a crash leaves no half result) and return its summary, with
    the folder under ``"artifact"`` and the worker's seconds (load to written) under
    ``"run_seconds"``. An attempt runs at most once (:class:`WorkerLost`)."""
    _first_run(task)
    kind = KINDS[task.kind]
    options = kind.options.model_validate(task.options)
    start = time.perf_counter()
    scenario = load_scenario(task.scenario_dir)
    out = Path(task.out_dir) / f"attempt-{task.attempt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with Watch(task) as watch:
        plan_dir = Path(task.plan_dir) if task.plan_dir else None
        summary = kind.run(scenario, options, out, watch, plan_dir)
        summary["stopped"] = watch.stop.is_set()
    summary["run_seconds"] = time.perf_counter() - start
    return {"artifact": str(out), **summary}


def _write(out: Path, kind: str, files: dict[str, str]) -> None:
    def fill(folder: Path) -> None:
        for name, text in files.items():
            (folder / name).write_text(text)

    replace_folder(out, fill, kind=kind)


def _solve_options(scenario: Scenario, o: _Options, watch: Watch, **more: Any) -> SolveOptions:
    options = options_for(
        scenario, time_limit_s=o.time_limit_s, mip_gap_frac=o.mip_gap_frac, **more
    )
    return replace(options, progress=watch.progress, cancel=watch.stop)


def _run_solve(
    scenario: Scenario, o: SolveJob, out: Path, watch: Watch, _plan: Path | None
) -> dict[str, Any]:
    options = _solve_options(scenario, o, watch, threads=o.threads, random_seed=o.seed)
    plan = solve(scenario, options, marginals=o.marginals)  # an infeasible one is diagnosed

    def plots(folder: Path) -> None:
        if o.plots and plan.has_solution:
            plot_map(plan, folder / "map.png")
            plot_ramp(plan, folder / "ramp.png")

    plan.write(out, extra=plots)
    return _plan_summary(plan)


def _plan_summary(plan: Plan) -> dict[str, Any]:
    r = plan.result
    return {
        "status": plan.status,
        "termination": r.termination,
        "objective_musd": r.objective_musd,
        "best_bound_musd": r.best_bound_musd,
        "mip_gap": r.mip_gap_frac,
        "solve_seconds": r.solve_seconds,
        "warnings": plan.warnings,
    }


def _run_diagnose(
    scenario: Scenario, o: DiagnoseJob, out: Path, watch: Watch, _plan: Path | None
) -> dict[str, Any]:
    diagnosis = diagnose(scenario, _solve_options(scenario, o, watch))
    files = {
        "diagnosis.json": json.dumps(diagnosis.to_dict(), indent=2) + "\n",
        "diagnosis.txt": str(diagnosis) + "\n",
    }
    _write(out, "diagnosis", files)
    return {"feasible": diagnosis.feasible}


def _run_pareto(
    scenario: Scenario, o: ParetoJob, out: Path, watch: Watch, _plan: Path | None
) -> dict[str, Any]:
    options = _solve_options(scenario, o, watch)
    try:
        front = pareto_front(scenario, o.between[0], o.between[1], o.points, options)
    except NoPlanError as e:
        return {"status": "infeasible", "message": str(e)}
    front.write(out)
    return {"status": "ok", "points": len(front.plans), "knee": front.knee}


def _run_reoptimize(
    scenario: Scenario, o: ReoptimizeJob, out: Path, watch: Watch, plan_dir: Path | None
) -> dict[str, Any]:
    assert plan_dir is not None, "a reoptimize job needs the plan folder of its plan_job_id"
    previous = read_plan(plan_dir)
    plan = reoptimize(scenario, previous, o.commit_through, _solve_options(scenario, o, watch))
    diff = diff_plans(previous, plan) if plan.has_solution else None

    def add_diff(folder: Path) -> None:
        if diff is not None:
            diff.write(folder)

    plan.write(out, add_diff)
    return _plan_summary(plan)


def _run_audit(
    scenario: Scenario, o: AuditJob, out: Path, watch: Watch, plan: Path | None
) -> dict[str, Any]:
    assert plan is not None, "an audit job needs the plan folder of its plan_job_id"
    report = audit_plan(scenario, plan)
    _write(out, "audit", {"audit.txt": str(report) + "\n"})
    return {"ok": report.ok, "status": report.status, "violations": len(report.violations)}


def _run_sweep(
    scenario: Scenario, o: SweepJob, out: Path, watch: Watch, _plan: Path | None
) -> dict[str, Any]:
    """The library's sweep, its cases on this task's own Dask cluster. The folder is the
    job's, not the attempt's: a re-queued sweep (a killed worker) skips the cases done."""
    folder = out.parent / "sweep"
    address = get_worker().scheduler.address
    cancel = threading.Event()
    secede()  # wait for the cases without holding one of the worker's threads
    try:
        with _cancel_on_request(watch, cancel):
            result = sweep(scenario.path, o.grid, folder, scheduler=address, cancel=cancel)
    finally:
        rejoin()
    statuses: dict[str, int] = {}
    if len(result.table):  # a sweep cancelled before its first case ended has no rows
        statuses = {str(k): int(v) for k, v in result.table["status"].value_counts().items()}
    return {
        "artifact": str(folder),
        "cases": len(result.table),
        "solved_now": result.solved,
        "failed": statuses.get("failed", 0),
        "cancelled": result.cancelled,
        "by_status": statuses,
        "robust_campuses": [
            str(r["site_id"]) for r in result.robustness.to_dict("records") if r["open_share"] == 1
        ],
    }


@contextmanager
def _cancel_on_request(watch: Watch, cancel: threading.Event) -> Iterator[None]:
    """While a sweep runs: once its job is cancelled, set the sweep's ``cancel`` (its queued
    cases are dropped, its running HiGHS solves interrupted). A lost lease sets nothing: the
    new attempt shares the job's folder and the cases' keys."""
    done = threading.Event()

    def watch_for_cancel() -> None:
        while not done.wait(PROGRESS_EVERY_S):
            if watch.stop.is_set() and watch.cancel_asked():
                cancel.set()
                return

    thread = threading.Thread(target=watch_for_cancel, name=f"sweep-cancel-{watch.task.job_id}")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


KINDS: dict[str, Kind] = {
    "solve": Kind(SolveJob, _run_solve),
    "diagnose": Kind(DiagnoseJob, _run_diagnose),
    "pareto": Kind(ParetoJob, _run_pareto),
    "audit": Kind(AuditJob, _run_audit),
    "reoptimize": Kind(ReoptimizeJob, _run_reoptimize),
    "sweep": Kind(SweepJob, _run_sweep),
}
JobKind = Literal["solve", "diagnose", "pareto", "audit", "reoptimize", "sweep"]
