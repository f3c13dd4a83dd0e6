"""gridsite: where, when and how to build gigawatt-scale AI campuses.

``optimizer`` owns the outside world (scenario files, data preparation, the HiGHS solve, the
plan, the CLI); ``formulations`` owns the math.
"""

from optimizer.api import DEFAULT_SCENARIO, options_for, solve
from optimizer.diff import diff_plans
from optimizer.errors import Problem, ScenarioError
from optimizer.plan import Plan
from optimizer.plan_files import read_plan
from optimizer.reoptimize import reoptimize
from optimizer.scenario import Scenario, load_scenario
from optimizer.solver import SolveOptions
from optimizer.sweep import sweep
from optimizer.sweep_file import load_sweep

__all__ = [
    "DEFAULT_SCENARIO",
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
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
