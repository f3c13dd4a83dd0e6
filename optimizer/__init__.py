"""gridsite: where, when and how to build gigawatt-scale AI campuses.

``optimizer`` owns the outside world (scenario files, data preparation, the HiGHS solve, the
plan, the CLI); ``formulations`` owns the math. The public Python API is the names in
``__all__`` below (README "Python API"); they are typed (the package ships ``py.typed``) and
their names are kept stable. They are imported on first use, so that the command line starts
without loading the solver stack it may not need.

    from optimizer import load_scenario, solve
    scenario = load_scenario("data/default")
    plan = solve(scenario.scale_prices(1.2, region="ERCOT"))
    plan.sites, plan.build, plan.totals, plan.dataset
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.api import (
        DEFAULT_SCENARIO,
        marginal_values,
        options_for,
        solve,
    )
    from optimizer.audit import AuditReport, audit_plan
    from optimizer.diff import PlanDiff, diff_plans
    from optimizer.errors import Problem, ScenarioError
    from optimizer.html_report import write_report
    from optimizer.pareto import Front, NoPlanError, pareto_front
    from optimizer.plan import Plan
    from optimizer.plan_files import read_plan
    from optimizer.replan import Session, reoptimize
    from optimizer.scenario import Scenario, load_scenario
    from optimizer.solver import SolveOptions, SolveResult
    from optimizer.sweep_file import SweepFile, load_sweep
    from optimizer.sweep_runner import sweep

#: Each public name and the module that defines it (imported when the name is first used).
_HOME = {
    "DEFAULT_SCENARIO": "optimizer.api",
    "marginal_values": "optimizer.api",
    "options_for": "optimizer.api",
    "solve": "optimizer.api",
    "AuditReport": "optimizer.audit",
    "audit_plan": "optimizer.audit",
    "PlanDiff": "optimizer.diff",
    "diff_plans": "optimizer.diff",
    "Problem": "optimizer.errors",
    "ScenarioError": "optimizer.errors",
    "write_report": "optimizer.html_report",
    "Front": "optimizer.pareto",
    "NoPlanError": "optimizer.pareto",
    "pareto_front": "optimizer.pareto",
    "Plan": "optimizer.plan",
    "read_plan": "optimizer.plan_files",
    "Session": "optimizer.replan",
    "reoptimize": "optimizer.replan",
    "Scenario": "optimizer.scenario",
    "load_scenario": "optimizer.scenario",
    "SolveOptions": "optimizer.solver",
    "SolveResult": "optimizer.solver",
    "SweepFile": "optimizer.sweep_file",
    "load_sweep": "optimizer.sweep_file",
    "sweep": "optimizer.sweep_runner",
}

__all__ = [
    "DEFAULT_SCENARIO",
    "AuditReport",
    "Front",
    "NoPlanError",
    "Plan",
    "PlanDiff",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Session",
    "SolveOptions",
    "SolveResult",
    "SweepFile",
    "audit_plan",
    "diff_plans",
    "load_scenario",
    "load_sweep",
    "marginal_values",
    "options_for",
    "pareto_front",
    "read_plan",
    "reoptimize",
    "solve",
    "sweep",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
