"""The Python API: load a scenario, solve it, get a plan.

from optimizer import load_scenario, solve
plan = solve(load_scenario("data/default"))
plan.sites, plan.build, plan.totals, plan.dataset
"""

from __future__ import annotations

import time
from pathlib import Path

from formulations import build_model
from optimizer.plan import Plan, extract_plan
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import SolveOptions, solve_model

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


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Prepare, build and solve ``scenario``; the plan says how the solver stopped."""
    options = options or options_for(scenario)
    start = time.perf_counter()
    data = prepare(scenario)
    model = build_model(data)
    build_seconds = time.perf_counter() - start
    result = solve_model(model, options)
    return extract_plan(model, data, result, build_seconds)
