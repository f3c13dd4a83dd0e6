"""What a Dask worker runs: the same library calls as the CLI, on a stored scenario.

Each job kind is one entry in :data:`KINDS`: a pydantic model of its options and a function
that runs it into a folder and returns a small JSON summary. A new kind (reoptimize, sweep)
is one more entry. While a job runs, a :class:`Watch` thread pushes HiGHS's latest progress
to the job store and learns from it whether to stop (a cancel, or a lost lease).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.api import options_for, solve
from optimizer.audit import audit_plan
from optimizer.diagnose import diagnose
from optimizer.output import replace_folder
from optimizer.pareto import METRICS, NoPlanError, pareto_front
from optimizer.plots import plot_map, plot_ramp
from optimizer.scenario import Scenario, load_scenario
from optimizer.service.store import Store
from optimizer.solver import SolveOptions

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
        if store.report_progress(self.task.job_id, self.task.attempt, *latest):
            self.stop.set()

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def run_task(task: Task) -> dict[str, Any]:
    """Run one attempt of a job into ``<out_dir>/attempt-N`` (replaced in one atomic step by
    the library's writers, so a crash leaves no half result) and return its summary, with
    the folder under ``"artifact"`` and the worker's seconds (load to written) under
    ``"run_seconds"``."""
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
    return {**summary, "artifact": str(out)}


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


def _run_audit(
    scenario: Scenario, o: AuditJob, out: Path, watch: Watch, plan: Path | None
) -> dict[str, Any]:
    assert plan is not None, "an audit job needs the plan folder of its plan_job_id"
    report = audit_plan(scenario, plan)
    _write(out, "audit", {"audit.txt": str(report) + "\n"})
    return {"ok": report.ok, "status": report.status, "violations": len(report.violations)}


KINDS: dict[str, Kind] = {
    "solve": Kind(SolveJob, _run_solve),
    "diagnose": Kind(DiagnoseJob, _run_diagnose),
    "pareto": Kind(ParetoJob, _run_pareto),
    "audit": Kind(AuditJob, _run_audit),
}
JobKind = Literal["solve", "diagnose", "pareto", "audit"]
