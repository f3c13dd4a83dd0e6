"""``gridsite`` command line.

Exit codes: 0 solved (optimal, or feasible within the limits), 2 invalid input, 3 infeasible,
4 no solution within the time limit, 5 the audit found violations, 1 anything else (a bug:
please report it).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from optimizer.output import OutputError, abandon, check_target, claim, default_target

# The heavy modules (pandas, xarray, Pyomo, HiGHS, tsam, matplotlib) are imported by the
# commands that need them, so that `gridsite validate` and `gridsite schema` start at once.
if TYPE_CHECKING:
    from optimizer.api import RunClock
    from optimizer.plan import Plan
    from optimizer.scenario import Scenario
    from optimizer.service.store import Store
    from optimizer.solver import SolveOptions

T = TypeVar("T")

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 2, 3, 4
SOLVER_STAGES = ("solve", "marginals", "diagnose", "pareto")
"""Stages in which HiGHS may be running: a signal asks it to stop instead of raising."""

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="gridsite: siting, phasing, cooling and grid upgrades for AI campuses.",
)
# Wide enough for the plan tables when the output is a file or a pipe (rich's default is 80).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario folder (default: the bundled default scenario)."),
]


def _load(path: Path | None) -> Scenario:
    from optimizer.api import DEFAULT_SCENARIO
    from optimizer.errors import ScenarioError
    from optimizer.scenario import load_scenario

    folder = path or DEFAULT_SCENARIO
    try:
        return load_scenario(folder)
    except ScenarioError as e:
        for problem in e.problems:
            where = folder / problem.file if problem.file != str(folder) else folder
            line = str(problem).replace(problem.file, str(where), 1)
            err.print(f"error: {line}", markup=False, soft_wrap=True)
        err.print(f"{len(e.problems)} problem(s) in {folder}; nothing was written.", markup=False)
        raise typer.Exit(EXIT_INVALID) from None


StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Refuse (exit 2) a scenario with plausibility warnings."),
]


def _check_plausible(s: Scenario, strict: bool, show: bool) -> None:
    """Plausibility warnings: with ``strict`` errors (exit 2, before any work), else shown
    when ``show`` (solve shows them with the plan's other warnings)."""
    from optimizer.plausibility import plausibility_warnings

    found = plausibility_warnings(s)
    for warning in found if strict or show else []:
        line = f"{s.path / warning.file}{str(warning).removeprefix(warning.file)}"
        err.print(f"{'error' if strict else 'warning'}: {line}", markup=False, soft_wrap=True)
    if strict and found:
        err.print(f"{len(found)} warning(s) in {s.path} and --strict; nothing was written.")
        raise typer.Exit(EXIT_INVALID)


class _Signals:
    """SIGINT and SIGTERM. While HiGHS runs, the first asks it to stop (``cancel``) and the
    best plan so far is kept; elsewhere it stops the run (``KeyboardInterrupt``). A second
    signal exits at once, writing nothing."""

    def __init__(self, clock: RunClock) -> None:
        self.clock = clock
        self.cancel = threading.Event()
        self.received: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            os.write(2, b"interrupted again: stopped at once, nothing more written\n")
            abandon()
            os._exit(128 + signum)
        self.received = signum
        if self.clock.stage in SOLVER_STAGES:
            self.cancel.set()
            os.write(2, b"interrupted: stopping HiGHS, keeping its best plan (again: quit now)\n")
            return
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        return 128 + (self.received or signal.SIGINT)


@contextmanager
def _signals(clock: RunClock) -> Iterator[_Signals]:
    """Route SIGINT and SIGTERM to :class:`_Signals` while the block runs; a first signal
    outside HiGHS ends the run with exit 130 (143 for SIGTERM) and no traceback."""
    handler = _Signals(clock)
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handler
    except KeyboardInterrupt:
        err.print(f"interrupted during {clock.stage}; nothing written.")
        raise typer.Exit(handler.exit_code) from None
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _checked_out(out_dir: str | None, scenario: Path | None) -> None:
    """Refuse a bad --out before loading (exit 2, one line)."""
    from optimizer.api import DEFAULT_SCENARIO

    if out_dir is not None:
        _refuse_output(lambda: check_target(out_dir, inputs=[scenario or DEFAULT_SCENARIO]))


def _out_path(out_dir: str | None, s: Scenario, suffix: str = "") -> Path:
    if out_dir is not None:
        return Path(out_dir)
    return _refuse_output(lambda: default_target(Path("out"), s.config.name + suffix))


def _refuse_output(check: Callable[[], T]) -> T:
    try:
        return check()
    except OutputError as e:
        err.print(f"error: {e}; nothing written.", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None


def _print_stage(stage: str, seconds: float) -> None:
    err.print(f"{stage}: {seconds:.2f} s", markup=False)


def _say(note: str) -> None:
    err.print(f"note: {note}", markup=False, soft_wrap=True)


OutOption = Annotated[
    str | None,
    typer.Option(
        "--out",
        help="Folder for the plan files (default: out/<scenario name>); only a new or empty "
        "folder or one gridsite wrote is replaced.",
    ),
]


START_HELP = (
    "Start HiGHS from a constructive plan (the LP relaxation rounded, repaired by a small "
    "MIP; optimizer/heuristic.py); a plan already within the gap of the LP's bound is the "
    "answer, without a MIP run. Unset: on for large models (from 5,000 integer columns, "
    "e.g. a 200-site screen), off for small ones such as the default."
)


@app.command("solve")
def solve_command(
    scenario: ScenarioArg = None,
    out_dir: OutOption = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", min=0.001, help="Seconds for the whole run."),
    ] = None,
    mip_gap: Annotated[
        float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap, e.g. 0.01.")
    ] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0)] = None,
    log: Annotated[
        bool, typer.Option("--log", help="Show the HiGHS log and each stage's seconds.")
    ] = False,
    marginals: Annotated[
        bool,
        typer.Option("--marginals", help="Also write marginal_values.csv (binding limits)."),
    ] = False,
    plots: Annotated[
        bool, typer.Option("--plots", help="Also write map.png and ramp.png.")
    ] = False,
    strict: StrictOption = False,
    write_model: Annotated[
        Path | None,
        typer.Option("--write-model", help="Also write the model as FILE.mps or FILE.lp."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write report.html (see gridsite report).")
    ] = False,
    start: Annotated[bool | None, typer.Option("--start/--no-start", help=START_HELP)] = None,
) -> None:
    """Solve a scenario, print the plan and write it (plan.json, sites.csv, build.csv,
    plan.nc). If it is infeasible, explain why (diagnosis.json) and exit 3. Ctrl-C during
    the solve writes the best plan so far (status interrupted) and exits 130."""
    from optimizer.api import OutOfTimeError, RunClock, options_for, solve
    from optimizer.solver import checked_options

    clock = RunClock(math.inf, report=_print_stage if log else None)
    _checked_out(out_dir, scenario)
    with _signals(clock) as signals:
        s = _load(scenario)
        _check_plausible(s, strict, show=False)
        folder = _out_path(out_dir, s)
        try:
            options, notes = checked_options(
                options_for(
                    s,
                    time_limit_s=time_limit,
                    mip_gap_frac=mip_gap,
                    threads=threads,
                    random_seed=seed,
                    log_to_console=log,
                )
            )
        except ValueError as e:
            err.print(f"error: {e}; nothing written.", markup=False)
            raise typer.Exit(EXIT_INVALID) from None
        for note in notes:
            err.print(f"warning: {note}", markup=False)
        if write_model is not None and write_model.suffix not in (".mps", ".lp"):
            err.print(f"error: --write-model {write_model}: give a file ending in .mps or .lp")
            raise typer.Exit(EXIT_INVALID)
        clock.limit_s = options.time_limit_s
        options = replace(options, cancel=signals.cancel, constructive_start=start)
        with ExitStack() as held:
            _refuse_output(lambda: held.enter_context(claim(folder, inputs=[s.path], say=_say)))
            try:
                clock.next("prepare")
                plan = solve(s, options, marginals=marginals, clock=clock, write_model=write_model)
            except OutOfTimeError as e:
                err.print(f"error: {e}; nothing written.", markup=False)
                raise typer.Exit(EXIT_NO_SOLUTION) from None
            _finish(plan, s, options, clock, signals, folder, plots, report)


def _finish(
    plan: Plan,
    s: Scenario,
    options: SolveOptions,
    clock: RunClock,
    signals: _Signals,
    folder: Path,
    plots: bool,
    report: bool,
) -> None:
    """Report, explain an infeasible plan, write the plan, exit with its code."""
    from optimizer.html_report import write_report
    from optimizer.plots import plot_map, plot_ramp
    from optimizer.report import marginal_table, print_plan

    for warning in plan.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    print_plan(plan, out)
    if plan.marginal_values is not None and len(plan.marginal_values):
        out.print(marginal_table(plan.marginal_values))
    if plan.diagnosis is not None:  # solve() explained why
        if signals.received is not None:
            err.print("interrupted while explaining why; nothing written.")
            raise typer.Exit(signals.exit_code)
        err.print("infeasible: no plan meets every constraint of this scenario.")
        err.print("\n".join(plan.diagnosis["summary"]), markup=False, soft_wrap=True)

    if signals.received is not None and not plan.has_solution:
        err.print("interrupted before HiGHS found a plan; nothing written.")
        raise typer.Exit(signals.exit_code)

    def draw(tmp: Path) -> None:
        if plots and plan.has_solution:
            plot_map(plan, tmp / "map.png")
            plot_ramp(plan, tmp / "ramp.png")
        if report:
            write_report(plan, tmp / "report.html", source=str(folder))

    _refuse_output(lambda: plan.write(folder, draw))
    out.print(f"plan written to {folder}")
    if signals.received is not None:
        gap = plan.result.mip_gap_frac
        err.print(
            f"interrupted: wrote the best plan so far ({plan.status}"
            + (f", gap {gap:.2%}" if gap is not None else "")
            + ")."
        )
        raise typer.Exit(signals.exit_code)
    if plan.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_solution:
        err.print(
            f"no solution found ({plan.result.termination}) within "
            f"{options.time_limit_s:g} s; raise --time-limit."
        )
        raise typer.Exit(EXIT_NO_SOLUTION)


@app.command("diagnose")
def diagnose_command(
    scenario: ScenarioArg = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds per stage.")
    ] = None,
) -> None:
    """Explain why a scenario has no plan: what can be delivered per period and the smallest
    set of limits that would have to give (exit 3 when infeasible, 0 when feasible)."""
    from optimizer.api import options_for
    from optimizer.diagnose import diagnose

    s = _load(scenario)
    diagnosis = diagnose(s, options_for(s, time_limit_s=time_limit))
    out.print(str(diagnosis), markup=False, highlight=False, soft_wrap=True)
    if not diagnosis.feasible:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command("pareto")
def pareto_command(
    scenario: ScenarioArg = None,
    between: Annotated[
        str,
        typer.Option(
            "--between",
            help="Two of cost, energy, water, carbon: FIRST,SECOND "
            "minimises FIRST with SECOND bounded.",
        ),
    ] = "cost,energy",
    points: Annotated[int, typer.Option("--points", min=2, max=50)] = 6,
    out_dir: Annotated[
        str | None,
        typer.Option("--out", help="Folder (default: out/<scenario>-pareto); as for solve."),
    ] = None,
    mip_gap: Annotated[
        float, typer.Option("--mip-gap", min=0.0, max=1.0, help="Gap per point.")
    ] = 1e-3,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds per point.")
    ] = None,
    start: Annotated[bool | None, typer.Option("--start/--no-start", help=START_HELP)] = None,
) -> None:
    """Trace the trade-off between two metrics by epsilon-constraint: a table, a plot with
    the knee point, and a plan per point."""
    from optimizer.api import RunClock, options_for
    from optimizer.pareto import METRICS, NoPlanError, pareto_front
    from optimizer.report import front_table

    clock = RunClock(math.inf)
    _checked_out(out_dir, scenario)
    with _signals(clock) as signals:
        s = _load(scenario)
        metrics = [m.strip() for m in between.split(",")]
        if len(metrics) != 2 or any(m not in METRICS for m in metrics) or metrics[0] == metrics[1]:
            err.print(f"error: --between takes two different metrics of {', '.join(METRICS)}")
            raise typer.Exit(EXIT_INVALID)
        folder = _out_path(out_dir, s, "-pareto")
        options = options_for(s, mip_gap_frac=mip_gap, time_limit_s=time_limit)
        options = replace(options, constructive_start=start)
        with ExitStack() as held:
            _refuse_output(lambda: held.enter_context(claim(folder, inputs=[s.path], say=_say)))
            clock.stage = "pareto"
            try:
                front = pareto_front(
                    s, metrics[0], metrics[1], points, replace(options, cancel=signals.cancel)
                )
            except NoPlanError as e:
                if signals.received is None:
                    err.print(f"infeasible: {e}; run gridsite diagnose", markup=False)
                    raise typer.Exit(EXIT_INFEASIBLE) from None
            clock.stage = "write"
            if signals.received is not None:
                err.print("interrupted: the front is incomplete; nothing written.")
                raise typer.Exit(signals.exit_code)
            _refuse_output(lambda: front.write(folder))
        out.print(front_table(front))
        out.print(f"front written to {folder} (frontier.csv, frontier.png, point_NN/)")


@app.command("validate")
def validate_command(scenario: ScenarioArg = None, strict: StrictOption = False) -> None:
    """Check a scenario folder and report every problem (file, row, field), and values that
    are almost surely a unit slip (warnings; errors with --strict)."""
    s = _load(scenario)
    _check_plausible(s, strict, show=True)
    out.print(
        f"ok: {s.path} - {len(s.sites)} sites, {len(s.zones)} zones, "
        f"{len(s.upgrades)} upgrades, {len(s.cooling)} cooling technologies, "
        f"{len(s.config.horizon.periods)} periods, {s.profiles.n_hours} profile hours"
    )


EXIT_VIOLATIONS = 5


@app.command("audit")
def audit_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder the plan was solved from.")],
    plan_dir: Annotated[
        Path, typer.Argument(help="Plan folder written by solve (plan.json, build.csv, sites.csv).")
    ],
) -> None:
    """Check a written plan against every rule of its scenario, recomputed from the scenario
    and the plan files alone (not the model): exit 0 if clean, 5 on any violation."""
    from optimizer.audit import PlanFilesError, audit_plan

    s = _load(scenario)
    try:
        report = audit_plan(s, plan_dir)
    except PlanFilesError as e:
        err.print(f"error: {e}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    out.print(str(report), markup=False, highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario.yaml and of a row of each CSV table (optional
    tables included)."""
    from optimizer.schema import OPTIONAL_TABLES, TABLES, ScenarioConfig
    from optimizer.sweep_file import SweepFile

    schema = {"scenario.yaml": ScenarioConfig.model_json_schema()}
    tables = {**TABLES, **OPTIONAL_TABLES}
    schema.update({name: model.model_json_schema() for name, model in tables.items()})
    schema["sweep file (gridsite sweep --grid)"] = SweepFile.model_json_schema()
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


# --------------------------------------------------------------------------- batch


def _read_plan(folder: Path) -> Plan:
    from optimizer.plan_files import read_plan

    try:
        return read_plan(folder)
    except (OSError, KeyError, ValueError) as e:
        err.print(f"error: {folder}: not a readable plan folder ({e})", markup=False)
        raise typer.Exit(EXIT_INVALID) from None


@app.command("diff")
def diff_command(
    plan_a: Annotated[Path, typer.Argument(help="Plan folder before.")],
    plan_b: Annotated[Path, typer.Argument(help="Plan folder after.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Also write diff.json and diff.csv here.")
    ] = None,
) -> None:
    """What changed from PLAN_A to PLAN_B (same scenario family): campuses added, dropped,
    resized or switching cooling, upgrades added, dropped or moved, NPV and its terms,
    energy, water and carbon."""
    from optimizer.diff import diff_plans

    try:
        diff = diff_plans(_read_plan(plan_a), _read_plan(plan_b))
    except ValueError as e:
        err.print(f"error: {e}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    out.print(diff.render())
    if out_dir is not None:
        out.print(f"diff written to {diff.write(out_dir)}")


@app.command("reoptimize")
def reoptimize_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder with the new data.")],
    from_dir: Annotated[Path, typer.Option("--from", help="Previous plan folder.")],
    commit_through: Annotated[
        str, typer.Option("--commit-through", help="Last committed period, e.g. 2027H2.")
    ],
    out_dir: Annotated[
        str | None,
        typer.Option("--out", help="Folder for the new plan (default: out/<scenario>-replan)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds.")
    ] = None,
    mip_gap: Annotated[
        float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap.")
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Show the HiGHS log.")] = False,
) -> None:
    """Re-plan SCENARIO keeping what the previous plan decided through --commit-through,
    starting HiGHS from the rest of it; write the plan with diff.json and diff.csv against
    the previous one. Exit codes as for solve."""
    from optimizer.api import options_for
    from optimizer.diff import diff_plans
    from optimizer.replan import reoptimize
    from optimizer.report import print_plan

    _checked_out(out_dir, scenario)
    s = _load(scenario)
    previous = _read_plan(from_dir)
    folder = _out_path(out_dir, s, "-replan")
    options = options_for(s, time_limit_s=time_limit, mip_gap_frac=mip_gap, log_to_console=log)
    with ExitStack() as held:
        _refuse_output(lambda: held.enter_context(claim(folder, inputs=[s.path], say=_say)))
        try:
            plan = reoptimize(s, previous, commit_through, options)
        except ValueError as e:
            err.print(f"error: --commit-through: {e}; nothing written.", markup=False)
            raise typer.Exit(EXIT_INVALID) from None
        for warning in plan.warnings:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
        print_plan(plan, out)
        if plan.diagnosis is not None:
            err.print("infeasible: the commitments and the new data cannot all hold.")
            err.print("\n".join(plan.diagnosis["summary"]), markup=False, soft_wrap=True)
        diff = diff_plans(previous, plan) if plan.has_solution else None

        def add_diff(tmp: Path) -> None:
            if diff is not None:
                diff.write(tmp)

        _refuse_output(lambda: plan.write(folder, add_diff))
    if diff is not None:
        out.print(diff.render())
    out.print(f"plan written to {folder}")
    if plan.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_solution:
        raise typer.Exit(EXIT_NO_SOLUTION)


@app.command("sweep")
def sweep_command(
    grid: Annotated[Path, typer.Option("--grid", help="Sweep file (YAML): axes and/or cases.")],
    scenario: ScenarioArg = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local worker processes (default 2).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: out/<scenario>-sweep).")
    ] = None,
) -> None:
    """Solve every case of a sweep file on Dask (a local cluster, or a scheduler's): results
    table (results.parquet, results.nc), a plan folder per case, robustness per campus.
    Cases already solved in the folder are skipped, so a rerun resumes."""
    from optimizer.errors import ScenarioError
    from optimizer.sweep_file import load_sweep
    from optimizer.sweep_runner import robustness_table, sweep

    s = _load(scenario)
    if workers is not None and scheduler is not None:
        err.print("error: give --workers or --scheduler, not both")
        raise typer.Exit(EXIT_INVALID)
    try:
        sweep_file = load_sweep(grid, s)
    except ScenarioError as e:
        for problem in e.problems:
            err.print(f"error: {problem}", markup=False, soft_wrap=True)
        err.print(f"{len(e.problems)} problem(s) in {grid}; nothing was run.", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    folder = out_dir or Path("out") / f"{s.config.name}-sweep"
    result = sweep(
        s.path, sweep_file, folder, workers=workers or 2, scheduler=scheduler, console=err
    )
    if result.cancelled:
        err.print(
            f"interrupted: {len(result.table)} cases done, kept in {result.folder}; "
            "the same command resumes."
        )
        raise typer.Exit(128 + signal.SIGINT)
    out.print(robustness_table(result.robustness))
    counts = result.table["status"].value_counts().to_dict()
    out.print(
        f"{len(result.table)} cases ({', '.join(f'{n} {k}' for k, n in counts.items())}); "
        f"{result.solved} solved now; results in {result.folder}"
    )


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Job store URL (sqlite:///FILE or postgresql+psycopg://...); default: "
        "GRIDSITE_DATABASE_URL, else a SQLite file in the artifact folder.",
    ),
]
ArtifactsOption = Annotated[
    Path, typer.Option("--artifacts", help="Folder for scenarios and job results.")
]


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    database: DatabaseOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="tcp://HOST:PORT of a Dask scheduler (default: local)."),
    ] = None,
    artifacts: ArtifactsOption = Path("gridsite-data"),
    workers: Annotated[int, typer.Option("--workers", min=1, help="Local cluster processes.")] = 1,
    lease: Annotated[float, typer.Option("--lease", min=0.5, help="Job lease, seconds.")] = 30.0,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0.001, help="Largest scenario zip.")
    ] = 32.0,
) -> None:
    """Run the HTTP job service (API under /v1, OpenAPI at /openapi.json)."""
    from optimizer.service.app import serve
    from optimizer.service.jobs import Settings

    folder, url = Settings.resolve(artifacts, database)
    settings = Settings(
        folder,
        url,
        scheduler=scheduler,
        workers=workers,
        lease_s=lease,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
    )
    serve(settings, host, port)


keys_app = typer.Typer(help="API keys of the job service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _store(artifacts: Path, database: str | None) -> Store:
    from optimizer.service.jobs import Settings
    from optimizer.service.store import Store

    store = Store(Settings.resolve(artifacts, database)[1])
    store.migrate()
    return store


@keys_app.command("create")
def keys_create_command(
    name: Annotated[str, typer.Argument(help="Who the key is for.")],
    database: DatabaseOption = None,
    artifacts: ArtifactsOption = Path("gridsite-data"),
) -> None:
    """Create an API key and print it (shown once; only its hash is stored)."""
    sys.stdout.write(_store(artifacts, database).create_key(name) + "\n")


@keys_app.command("revoke")
def keys_revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (gsk_<ID>_...).")],
    database: DatabaseOption = None,
    artifacts: ArtifactsOption = Path("gridsite-data"),
) -> None:
    """Revoke an API key: every request with it answers 401 from now on."""
    if not _store(artifacts, database).revoke_key(key_id):
        err.print(f"error: no active key {key_id}")
        raise typer.Exit(EXIT_INVALID)
    out.print(f"revoked {key_id}")


@app.command("report")
def report_command(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder written by solve.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: PLAN_DIR/report.html).")
    ] = None,
) -> None:
    """Write a plan as one self-contained HTML page (figures inlined, opens with no network):
    solver facts, map, ramp, costs, energy/water/carbon, campuses, upgrades, marginal values,
    and the diagnosis when infeasible."""
    from optimizer.html_report import write_report

    plan = _read_plan(plan_dir)
    path = write_report(plan, out_file or plan_dir / "report.html", source=str(plan_dir))
    out.print(f"report written to {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
