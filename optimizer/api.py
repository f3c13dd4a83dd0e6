"""The Python API: load a scenario, solve it, get a plan.

    from optimizer import load_scenario, solve
    plan = solve(load_scenario("data/default"))
    plan.sites, plan.build, plan.totals, plan.dataset
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from formulations import build_model
from optimizer.plan import Plan, extract_plan
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import SolveOptions, solve_model

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "data" / "default"


def options_for(scenario: Scenario, **overrides: object) -> SolveOptions:
    """Solver options from the scenario's ``solver`` section, with ``overrides`` (None = keep)."""
    s = scenario.config.solver
    base = SolveOptions(time_limit_s=s.time_limit_s, mip_gap_frac=s.mip_gap_frac,
                        threads=s.threads, random_seed=s.random_seed)
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Prepare, build and solve ``scenario``; the plan says how the solver stopped."""
    options = options or options_for(scenario)
    start = time.perf_counter()
    data = prepare(scenario)
    model = build_model(data)
    build_seconds = time.perf_counter() - start
    result = solve_model(model, options)
    return extract_plan(model, data, result, build_seconds)
