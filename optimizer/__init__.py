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
    from optimizer.errors import Problem, ScenarioError
    from optimizer.plan import Plan
    from optimizer.plan_files import read_plan
    from optimizer.scenario import Scenario, load_scenario
    from optimizer.solver import SolveOptions

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
}

__all__ = [
    "DEFAULT_SCENARIO",
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "load_scenario",
    "options_for",
    "read_plan",
    "solve",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
