"""Scenario sweeps on Dask distributed: each case of a sweep file one task.

    result = sweep("data/default", load_sweep("grid.yaml", scenario), "out/grid", workers=2)

Cases run on a LocalCluster of worker processes (one thread each) or on any running Dask
cluster given its scheduler address (the workers then need the scenario and output folders
at the same paths). A worker loads the scenario, applies the case (:mod:`optimizer.sweep_file`),
solves it (diagnosed when infeasible), writes its plan folder ``cases/<case_id>/``, audits
the plan against the case's scenario, and records the case's row in ``rows/<case_id>.json``
(atomically) and a line in ``journal.jsonl``. A case that fails (an invalid combination, a
crash) is recorded with its reason; it never stops the others.

``case_id`` is a content hash of the scenario's files, the case's settings and the solver
options: a rerun skips every case with a row already, so an interrupted sweep resumes and a
finished one solves nothing. As rows arrive the client rewrites ``results.parquet`` (one row
per case: inputs, status, NPV and its terms, energy, water, carbon, campuses, gap, times);
at the end it writes ``results.nc`` (the same with a ``case`` dimension, plus IT MW and cooling
per case and campus) and ``robustness.csv`` (per campus: how often it opens, its MW, cooling).

Each worker keeps its last case's HiGHS model (:class:`optimizer.solver.ReusableHighs`): a
case whose model differs from the previous one on that worker only in coefficients (prices,
targets, limits) updates it in place instead of passing a new one.

Cancelling (``cancel`` set from any thread, e.g. the service's; or Ctrl-C in the client,
which sets it while the sweep waits, so that no ``KeyboardInterrupt`` breaks into Dask's
event loop half-way; a second Ctrl-C raises it) cancels the cases not started and
interrupts the HiGHS solves running on the workers (a ``distributed.Event`` each running case
watches); finished cases keep their rows, interrupted ones record nothing, so a rerun
resumes with them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from distributed import Client, Event, Future, LocalCluster, as_completed, get_client
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from optimizer.api import options_for, solve
from optimizer.audit import audit_plan
from optimizer.scenario import Scenario, load_scenario
from optimizer.solver import ReusableHighs, SolveOptions
from optimizer.sweep_file import CaseSettings, SweepFile, apply_case


@dataclass(frozen=True)
class Case:
    case_id: str
    """Content hash of the scenario files, the settings and the solver options."""
    name: str
    settings: CaseSettings


@dataclass
class SweepResult:
    folder: Path
    table: pd.DataFrame
    """One row per case (``results.parquet``)."""
    robustness: pd.DataFrame
    """One row per campus opened in some case (``robustness.csv``)."""
    solved: int
    """Cases solved by this run (the others were done already)."""
    cancelled: bool = False
    """The sweep was cancelled: ``table`` holds the cases finished so far; rerun to resume."""

    @property
    def failed(self) -> int:
        return int((self.table["status"] == "failed").sum())


def sweep_cases(scenario_path: Path, sweep_file: SweepFile, options: SolveOptions) -> list[Case]:
    """The sweep's cases with their content hashes."""
    scenario_digest = _folder_digest(scenario_path)
    cases = []
    for name, settings in sweep_file.expand():
        content = json.dumps(
            {
                "scenario": scenario_digest,
                "settings": settings.model_dump(mode="json", exclude_none=True),
                "solver": asdict(options),
            },
            sort_keys=True,
        )
        cases.append(Case(hashlib.sha256(content.encode()).hexdigest()[:16], name, settings))
    return cases


def sweep(
    scenario_path: str | Path,
    sweep_file: SweepFile,
    out_dir: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    console: Console | None = None,
    cancel: threading.Event | None = None,
    reuse: bool = True,
) -> SweepResult:
    """Run every case of ``sweep_file`` not done yet in ``out_dir`` on Dask; see the module
    docstring for what is written. Setting ``cancel`` (from any thread) or Ctrl-C stops the
    sweep: the result then has ``cancelled`` set and the cases finished so far.
    ``reuse=False`` rebuilds every case's HiGHS model (to measure what reuse is worth)."""
    path, out = Path(scenario_path).resolve(), Path(out_dir).resolve()
    scenario = load_scenario(path)
    s = sweep_file.solver
    options = options_for(scenario, time_limit_s=s.time_limit_s, mip_gap_frac=s.mip_gap_frac)
    cases = sweep_cases(path, sweep_file, options)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    rows = _done_rows(out, cases)
    done_before = len(rows)
    todo = [c for c in cases if c.case_id not in rows]
    cancel = cancel or threading.Event()
    if todo:
        with _client(workers, scheduler) as client, _progress(console) as progress:
            task = progress.add_task("cases", total=len(cases), completed=len(rows))
            stop = Event(f"gridsite-sweep-cancel-{uuid.uuid4().hex}", client=client)
            futures = {
                client.submit(
                    run_case,
                    str(path),
                    c,
                    options,
                    str(out),
                    stop.name,
                    reuse,
                    key=f"case-{c.case_id}",
                    pure=False,
                ): c
                for c in todo
            }
            with _ctrl_c_cancels(cancel), _cancelling(cancel, stop, client, list(futures)):
                try:
                    for future in as_completed(futures):
                        row = _result(future, futures[future], out, cancel)
                        if row is None:  # cancelled before or while it ran
                            continue
                        rows[row["case_id"]] = row
                        failed = sum(r["status"] == "failed" for r in rows.values())
                        to_go = len(cases) - len(rows)
                        progress.update(
                            task,
                            advance=1,
                            description=f"cases (failed {failed}, to go {to_go})",
                        )
                        _write_table(out, cases, rows)
                except KeyboardInterrupt:
                    cancel.set()
            if cancel.is_set():
                _settle(client, list(futures), timeout_s=60)
        # The files are the record: a case a worker finished and recorded just as the sweep
        # was cancelled has a cancelled future here but its row on disk.
        rows = _done_rows(out, cases)
    solved = len(rows) - done_before
    table = _write_table(out, cases, rows)
    robustness = _robustness(cases, rows)
    robustness.to_csv(out / "robustness.csv", index=False, float_format="%.6g")
    if len(table):  # a sweep cancelled before its first case ended has no results yet
        _dataset(table, cases, rows).to_netcdf(out / ".results.nc.tmp", engine="netcdf4")
        os.replace(out / ".results.nc.tmp", out / "results.nc")
    return SweepResult(out, table, robustness, solved=solved, cancelled=cancel.is_set())


def _result(
    future: Future, case: Case, out: Path, cancel: threading.Event
) -> dict[str, Any] | None:
    """The row a finished task returned; a task that died is recorded as failed, unless the
    sweep is being cancelled (Ctrl-C may have reached the workers too); None for a task
    cancelled before or while it ran (nothing recorded: a rerun solves it)."""
    if future.cancelled():
        return None
    try:
        row: dict[str, Any] = future.result()
    except Exception as e:  # the worker died: record it, go on
        if cancel.is_set():
            return None
        row = _row(case, status="failed", reason=f"{type(e).__name__}: {e}")
        _record(out, row)
    return None if row["status"] == "cancelled" else row


def _settle(client: Client, futures: list[Future], timeout_s: float) -> None:
    """Wait until no case of this sweep still runs on a worker (cancelled tasks stop within
    about a second: HiGHS watches the sweep's Event); a cancelled future says nothing of
    that, the scheduler's list of tasks in progress does."""
    keys = {f.key for f in futures}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = {k for tasks in client.processing().values() for k in tasks}
        if not keys & running:
            return
        time.sleep(0.1)


@contextmanager
def _cancelling(
    cancel: threading.Event, stop: Event, client: Client, futures: list[Future]
) -> Iterator[None]:
    """While the block runs, a set ``cancel`` sets ``stop`` (the workers' HiGHS solves
    watch it) and cancels the tasks not finished."""
    over = threading.Event()

    def watch() -> None:
        while not over.is_set():
            if cancel.wait(timeout=0.2):
                stop.set()
                # Tasks running (or about to) are left to stop themselves, so that their
                # futures end with what they did (a row, or nothing if interrupted).
                running = {key for keys in client.processing().values() for key in keys}
                client.cancel([f for f in futures if not f.done() and f.key not in running])
                return

    watcher = threading.Thread(target=watch, name="sweep-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        over.set()
        watcher.join()


@contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Client]:
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    with cluster, Client(cluster) as client:
        yield client


@contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """In the main thread, a first SIGINT sets ``cancel`` (the sweep then ends as if
    cancelled from another thread) and a second raises ``KeyboardInterrupt``. A
    ``KeyboardInterrupt`` raised while the client waits inside ``distributed.utils.sync``
    makes Dask log a traceback of its own (``NameError`` in its cancel callback) before the
    sweep can say it was interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Worker processes started in the block ignore SIGINT (an ignored signal stays ignored
    in a child, and Python then installs no handler): Ctrl-C in a terminal reaches the whole
    process group, and only the client should act on it (cancel, keep what is done)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress(console: Console | None) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    ) as progress:
        yield progress


# --------------------------------------------------------------------------- on a worker


@functools.lru_cache(maxsize=4)
def _scenario(path: str) -> Scenario:
    return load_scenario(path)


_LIVE = threading.local()
"""This worker thread's last HiGHS model (``_LIVE.highs``, a :class:`ReusableHighs`)."""


def _live_highs() -> ReusableHighs:
    if not hasattr(_LIVE, "highs"):
        _LIVE.highs = ReusableHighs()
    highs: ReusableHighs = _LIVE.highs
    return highs


@contextmanager
def _cancel_flag(name: str | None) -> Iterator[threading.Event]:
    """A local flag set within about half a second once the sweep's ``distributed.Event``
    ``name`` is set (a thread waits on it while the block runs): HiGHS's cancel."""
    flag = threading.Event()
    if name is None:
        yield flag
        return
    # Bound to this worker's client here, in the task's thread: an Event that finds its
    # client lazily fails in the watching thread ("not properly initialized").
    event = Event(name, client=get_client())
    over = threading.Event()

    def watch() -> None:
        while not over.is_set():
            try:
                if event.wait(timeout=0.5):
                    flag.set()
                    return
            except Exception:  # the scheduler is gone: nothing left to cancel
                return

    watcher = threading.Thread(target=watch, name="case-cancel", daemon=True)
    watcher.start()
    try:
        yield flag
    finally:
        over.set()
        watcher.join()


def run_case(
    scenario_path: str,
    case: Case,
    options: SolveOptions,
    out_dir: str,
    cancel: str | None = None,
    reuse: bool = True,
) -> dict[str, Any]:
    """Solve one case (on a worker) and record its row; never raises for a bad case.
    ``cancel`` names the sweep's ``distributed.Event``: once set, HiGHS stops and the case
    returns status ``cancelled`` and records nothing. ``reuse``: update this worker's last
    HiGHS model in place when only coefficients changed."""
    started_at, start, cpu = time.time(), time.perf_counter(), time.thread_time()
    out = Path(out_dir)
    with _cancel_flag(cancel) as stopped:
        if stopped.wait(timeout=0) or (cancel is not None and Event(cancel).is_set()):
            return _row(case, status="cancelled", reason="sweep cancelled")
        row = _solve_case(scenario_path, case, replace(options, cancel=stopped), out, reuse)
        if stopped.is_set():
            return _row(case, status="cancelled", reason="sweep cancelled")
    row["wall_seconds"] = time.perf_counter() - start
    row["cpu_seconds"] = time.thread_time() - cpu
    row["started_at"], row["ended_at"] = started_at, time.time()
    row["worker_pid"] = os.getpid()
    _record(out, row)
    return row


def _solve_case(
    scenario_path: str, case: Case, options: SolveOptions, out: Path, reuse: bool
) -> dict[str, Any]:
    try:
        scenario = apply_case(_scenario(scenario_path), case.settings)
        live = _live_highs() if reuse else None
        updates = live.updates if live else 0
        plan = solve(scenario, options, reuse=live)  # diagnosed when infeasible
        reason = ""
        if plan.diagnosis is not None:
            reason = "; ".join(plan.diagnosis["summary"])
        elif not plan.has_solution:
            reason = f"no solution within {options.time_limit_s:g} s"
        folder = plan.write(out / "cases" / case.case_id)
        audit = ""
        if plan.has_solution:
            audit = "ok" if audit_plan(scenario, folder).ok else "violations"
        row = _row(case, status=plan.status, reason=reason, audit=audit)
        row.update(_figures(plan))
        row["highs_reused"] = bool(live and live.updates > updates)
    except Exception as e:  # one case's failure is its row, not the sweep's end
        row = _row(case, status="failed", reason=f"{type(e).__name__}: {e}")
    return row


def _row(case: Case, *, status: str, reason: str, audit: str = "") -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "name": case.name,
        "settings": case.settings.model_dump(mode="json", exclude_none=True),
        "status": status,
        "reason": reason,
        "audit": audit,
        "sites": {},
    }


def _figures(plan: Any) -> dict[str, Any]:
    r = plan.result
    out: dict[str, Any] = {
        "termination": r.termination,
        "npv_musd": r.objective_musd,
        "best_bound_musd": r.best_bound_musd,
        "mip_gap": r.mip_gap_frac,
        "build_seconds": plan.build_seconds,
        "handoff_seconds": r.handoff_seconds,
        "solve_seconds": r.solve_seconds,
    }
    if not plan.has_solution:
        return out
    out.update({f"cost_{k}_musd": v for k, v in plan.cost_npv_musd.items() if k != "total"})
    totals = plan.totals
    for name in ("energy_mwh", "water_m3", "emissions_tco2"):
        out[name] = float(totals[name].sum())
    sites = plan.sites[plan.sites["open"]]
    out["campuses_opened"] = len(sites)
    out["it_mw"] = float(sites["it_mw"].sum())
    out["sites"] = {
        str(s["site_id"]): [float(s["it_mw"]), str(s["cooling"])] for s in sites.to_dict("records")
    }
    return out


def _record(out: Path, row: dict[str, Any]) -> None:
    """``rows/<case_id>.json`` written atomically, then a journal line."""
    final = out / "rows" / f"{row['case_id']}.json"
    tmp = final.with_name(f".{final.name}.{os.getpid()}")
    tmp.write_text(json.dumps(row) + "\n")
    os.replace(tmp, final)
    with open(out / "journal.jsonl", "a") as journal:
        journal.write(json.dumps({"case_id": row["case_id"], "pid": os.getpid()}) + "\n")


# --------------------------------------------------------------------------- results


def _done_rows(out: Path, cases: list[Case]) -> dict[str, dict[str, Any]]:
    rows = {}
    for c in cases:
        file = out / "rows" / f"{c.case_id}.json"
        if file.exists():
            rows[c.case_id] = json.loads(file.read_text())
    return rows


def _write_table(out: Path, cases: list[Case], rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    records = []
    for c in cases:
        if c.case_id not in rows:
            continue
        row = dict(rows[c.case_id])
        settings = row.pop("settings")
        row.pop("sites")
        for name, value in settings.items():
            if isinstance(value, dict):
                row.update({f"{name}.{k}": v for k, v in value.items()})
            else:
                row[name] = value
        records.append(row)
    table = pd.DataFrame.from_records(records)
    tmp = out / ".results.parquet.tmp"
    table.to_parquet(tmp, index=False)
    os.replace(tmp, out / "results.parquet")
    return table


def _dataset(table: pd.DataFrame, cases: list[Case], rows: dict[str, dict[str, Any]]) -> xr.Dataset:
    frame = table.set_index("case_id")
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].fillna("").astype(str)
    ds = xr.Dataset.from_dataframe(frame.rename_axis("case"))
    sites = sorted({s for r in rows.values() for s in r["sites"]})
    ids = list(frame.index)
    mw = np.zeros((len(ids), len(sites)))
    cooling = np.full((len(ids), len(sites)), "", dtype=object)
    for i, c in enumerate(ids):
        for j, s in enumerate(sites):
            if s in rows[c]["sites"]:
                mw[i, j], cooling[i, j] = rows[c]["sites"][s]
    ds.coords["site"] = sites
    ds["site_it_mw"] = (("case", "site"), mw)
    ds["site_cooling"] = (("case", "site"), cooling.astype(str))
    ds["site_it_mw"].attrs["units"] = "MW"
    return ds


def _robustness(cases: list[Case], rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Per campus over the cases with a plan: share of cases it opens in, MW when open,
    cooling technologies chosen (with counts)."""
    solved = [
        rows[c.case_id]
        for c in cases
        if c.case_id in rows and rows[c.case_id]["status"] in ("optimal", "feasible")
    ]
    records = []
    for s in sorted({s for r in solved for s in r["sites"]}):
        mw = [r["sites"][s][0] for r in solved if s in r["sites"]]
        cooling = pd.Series([r["sites"][s][1] for r in solved if s in r["sites"]]).value_counts()
        records.append(
            {
                "site_id": s,
                "open_share": len(mw) / len(solved),
                "cases_open": len(mw),
                "mean_it_mw": float(np.mean(mw)),
                "min_it_mw": float(np.min(mw)),
                "max_it_mw": float(np.max(mw)),
                "cooling": ";".join(f"{k}:{n}" for k, n in cooling.items()),
            }
        )
    columns = ["site_id", "open_share", "cases_open", "mean_it_mw", "min_it_mw", "max_it_mw"]
    frame = pd.DataFrame.from_records(records, columns=[*columns, "cooling"])
    return frame.sort_values(["open_share", "mean_it_mw"], ascending=False, ignore_index=True)


def robustness_table(frame: pd.DataFrame) -> Table:
    """The robustness summary for the terminal: robust campuses first."""
    t = Table(title="Campuses across cases", title_justify="left")
    for col in ("site", "opens in", "mean MW", "min-max MW", "cooling"):
        t.add_column(col, justify="right" if "MW" in col or col == "opens in" else "left")
    for r in frame.to_dict("records"):
        t.add_row(
            str(r["site_id"]),
            f"{100 * r['open_share']:.0f} %",
            f"{r['mean_it_mw']:,.0f}",
            f"{r['min_it_mw']:,.0f}-{r['max_it_mw']:,.0f}",
            str(r["cooling"]),
        )
    return t


def _folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(file.relative_to(folder)).encode())
        h.update(file.read_bytes())
    return h.hexdigest()
