"""The Python API: load a scenario, solve it, get a plan.

from optimizer import load_scenario, solve
plan = solve(load_scenario("data/default"))
plan.sites, plan.build, plan.totals, plan.dataset
"""

from __future__ import annotations

import time
from pathlib import Path

from formulations import build_model
from optimizer.heuristic import constructive_start
from optimizer.marginal import marginal_values
from optimizer.numerics import numerics_warnings
from optimizer.plan import Plan, extract_plan
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import HighsModel, SolveOptions

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "data" / "default"


def options_for(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    mip_gap_frac: float | None = None,
    threads: int | None = None,
    random_seed: int | None = None,
    log_to_console: bool = False,
) -> SolveOptions:
    """Solver options from the scenario's ``solver`` section; a given argument overrides."""
    s = scenario.config.solver
    return SolveOptions(
        time_limit_s=s.time_limit_s if time_limit_s is None else time_limit_s,
        mip_gap_frac=s.mip_gap_frac if mip_gap_frac is None else mip_gap_frac,
        threads=s.threads if threads is None else threads,
        random_seed=s.random_seed if random_seed is None else random_seed,
        log_to_console=log_to_console,
    )


def solve(
    scenario: Scenario, options: SolveOptions | None = None, *, marginals: bool = False
) -> Plan:
    """Prepare, build and solve ``scenario``; the plan says how the solver stopped.

    ``marginals``: also compute marginal values of the binding limits (fixed-decision LP).
    Numerically dangerous input is named in ``plan.warnings``."""
    options = options or options_for(scenario)
    start = time.perf_counter()
    data = prepare(scenario)
    model = build_model(data)
    build_seconds = time.perf_counter() - start
    highs = HighsModel(model, options)
    if options.constructive_start and constructive_start(model, highs) is not None:
        result = highs.solve(warm_start=True)
    else:
        result = highs.solve()
    plan = extract_plan(model, data, result, build_seconds)
    plan.warnings = numerics_warnings(data)
    if marginals and plan.has_solution:
        plan.marginal_values = marginal_values(model, data, highs)
    return plan
