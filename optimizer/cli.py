"""``gridsite`` command line.

Exit codes: 0 solved (optimal, or feasible within the limits), 2 invalid input, 3 infeasible,
4 no solution within the time limit, 5 the audit found violations, 1 anything else (a bug:
please report it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimizer.api import DEFAULT_SCENARIO, options_for, solve
from optimizer.audit import PlanFilesError, audit_plan
from optimizer.diagnose import diagnose
from optimizer.errors import ScenarioError
from optimizer.html_report import write_report
from optimizer.pareto import METRICS, NoPlanError, pareto_front
from optimizer.plan_files import read_plan
from optimizer.plots import plot_map, plot_ramp
from optimizer.report import front_table, marginal_table, print_plan
from optimizer.scenario import Scenario, load_scenario
from optimizer.schema import OPTIONAL_TABLES, TABLES, ScenarioConfig

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 2, 3, 4

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


@app.command("solve")
def solve_command(
    scenario: ScenarioArg = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the plan files (default: out/<scenario name>)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds.")
    ] = None,
    mip_gap: Annotated[
        float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap, e.g. 0.01.")
    ] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0)] = None,
    log: Annotated[bool, typer.Option("--log", help="Show the HiGHS log.")] = False,
    marginals: Annotated[
        bool,
        typer.Option("--marginals", help="Also write marginal_values.csv (binding limits)."),
    ] = False,
    plots: Annotated[
        bool, typer.Option("--plots", help="Also write map.png and ramp.png.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Also write report.html (see gridsite report).")
    ] = False,
) -> None:
    """Solve a scenario, print the plan and write it (plan.json, sites.csv, build.csv,
    plan.nc). If it is infeasible, explain why (diagnosis.json) and exit 3."""
    s = _load(scenario)
    options = options_for(
        s,
        time_limit_s=time_limit,
        mip_gap_frac=mip_gap,
        threads=threads,
        random_seed=seed,
        log_to_console=log,
    )
    plan = solve(s, options, marginals=marginals)
    for warning in plan.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    print_plan(plan, out)
    if plan.marginal_values is not None and len(plan.marginal_values):
        out.print(marginal_table(plan.marginal_values))
    if plan.status == "infeasible":
        diagnosis = diagnose(s, options)
        plan.diagnosis = diagnosis.to_dict()
        err.print("infeasible: no plan meets every constraint of this scenario.")
        err.print(str(diagnosis), markup=False, soft_wrap=True)
    folder = plan.write(out_dir or Path("out") / s.config.name)
    if plots and plan.has_solution:
        plot_map(plan, folder / "map.png")
        plot_ramp(plan, folder / "ramp.png")
    if report:
        write_report(plan, folder / "report.html", source=str(folder))
    out.print(f"plan written to {folder}")
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
        Path | None, typer.Option("--out", help="Folder (default: out/<scenario>-pareto).")
    ] = None,
    mip_gap: Annotated[
        float, typer.Option("--mip-gap", min=0.0, max=1.0, help="Gap per point.")
    ] = 1e-3,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds per point.")
    ] = None,
) -> None:
    """Trace the trade-off between two metrics by epsilon-constraint: a table, a plot with
    the knee point, and a plan per point."""
    s = _load(scenario)
    metrics = [m.strip() for m in between.split(",")]
    if len(metrics) != 2 or any(m not in METRICS for m in metrics) or metrics[0] == metrics[1]:
        err.print(f"error: --between takes two different metrics of {', '.join(METRICS)}")
        raise typer.Exit(EXIT_INVALID)
    options = options_for(s, mip_gap_frac=mip_gap, time_limit_s=time_limit)
    try:
        front = pareto_front(s, metrics[0], metrics[1], points, options)
    except NoPlanError as e:
        err.print(f"infeasible: {e}; run gridsite diagnose", markup=False)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    folder = front.write(out_dir or Path("out") / f"{s.config.name}-pareto")
    out.print(front_table(front))
    out.print(f"front written to {folder} (frontier.csv, frontier.png, point_NN/)")


@app.command("validate")
def validate_command(scenario: ScenarioArg = None) -> None:
    """Check a scenario folder and report every problem (file, row, field)."""
    s = _load(scenario)
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
    schema = {"scenario.yaml": ScenarioConfig.model_json_schema()}
    tables = {**TABLES, **OPTIONAL_TABLES}
    schema.update({name: model.model_json_schema() for name, model in tables.items()})
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


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
    try:
        plan = read_plan(plan_dir)
    except (OSError, ValueError, KeyError) as e:
        err.print(f"error: {plan_dir}: not a readable plan folder ({e})", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    path = write_report(plan, out_file or plan_dir / "report.html", source=str(plan_dir))
    out.print(f"report written to {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
