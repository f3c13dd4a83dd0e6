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
from optimizer.errors import ScenarioError
from optimizer.report import print_plan
from optimizer.scenario import Scenario, load_scenario
from optimizer.schema import TABLES, ScenarioConfig

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
) -> None:
    """Solve a scenario, print the plan and write it (plan.json, sites.csv, build.csv,
    plan.nc)."""
    s = _load(scenario)
    options = options_for(
        s,
        time_limit_s=time_limit,
        mip_gap_frac=mip_gap,
        threads=threads,
        random_seed=seed,
        log_to_console=log,
    )
    plan = solve(s, options)
    print_plan(plan, out)
    folder = plan.write(out_dir or Path("out") / s.config.name)
    out.print(f"plan written to {folder}")
    if plan.status == "infeasible":
        err.print("infeasible: no plan meets every constraint of this scenario.")
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_solution:
        err.print(
            f"no solution found ({plan.result.termination}) within "
            f"{options.time_limit_s:g} s; raise --time-limit."
        )
        raise typer.Exit(EXIT_NO_SOLUTION)


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
    """Print the JSON Schema of scenario.yaml and of a row of each CSV table."""
    schema = {"scenario.yaml": ScenarioConfig.model_json_schema()}
    schema.update({name: model.model_json_schema() for name, model in TABLES.items()})
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


if __name__ == "__main__":  # pragma: no cover
    app()
