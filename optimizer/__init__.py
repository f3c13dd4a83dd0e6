"""gridsite: where, when and how to build gigawatt-scale AI campuses.

``optimizer`` owns the outside world (scenario files, data preparation, the HiGHS solve, the
plan, the CLI); ``formulations`` owns the math. The names below are imported on first use, so
that the command line starts without loading the solver stack it may not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.api import DEFAULT_SCENARIO, options_for, solve
    from optimizer.diff import diff_plans
    from optimizer.errors import Problem, ScenarioError
    from optimizer.plan import Plan
    from optimizer.plan_files import read_plan
    from optimizer.replan import Session, reoptimize
    from optimizer.scenario import Scenario, load_scenario
    from optimizer.solver import SolveOptions
    from optimizer.sweep_file import load_sweep
    from optimizer.sweep_runner import sweep

_HOME = {
    "DEFAULT_SCENARIO": "optimizer.api",
    "options_for": "optimizer.api",
    "solve": "optimizer.api",
    "Problem": "optimizer.errors",
    "ScenarioError": "optimizer.errors",
    "Plan": "optimizer.plan",
    "read_plan": "optimizer.plan_files",
    "Scenario": "optimizer.scenario",
    "load_scenario": "optimizer.scenario",
    "SolveOptions": "optimizer.solver",
    "diff_plans": "optimizer.diff",
    "reoptimize": "optimizer.replan",
    "Session": "optimizer.replan",
    "load_sweep": "optimizer.sweep_file",
    "sweep": "optimizer.sweep_runner",
}

__all__ = [
    "DEFAULT_SCENARIO",
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Session",
    "SolveOptions",
    "diff_plans",
    "load_scenario",
    "load_sweep",
    "options_for",
    "read_plan",
    "reoptimize",
    "solve",
    "sweep",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
