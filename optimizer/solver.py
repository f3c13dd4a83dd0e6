"""HiGHS through highspy, in memory: the one module that talks to the solver.

The Pyomo model is compiled to matrices by Pyomo's ``LinearStandardFormCompiler`` (mixed
form: rows keep their sense) and passed to HiGHS with ``passModel``; no LP file is written.
The result keeps *why the solver stopped* (``termination``) apart from *what solution exists*
(``solution``), as Pyomo's ``contrib.solver`` results do.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

Termination = Literal[
    "optimal",
    "time_limit",
    "solution_limit",
    "iteration_limit",
    "infeasible",
    "unbounded",
    "interrupted",
    "error",
]
SolutionStatus = Literal["optimal", "feasible", "none"]


@dataclass(frozen=True)
class SolveOptions:
    """Solver options, one typed object."""

    time_limit_s: float = 600.0
    mip_gap_frac: float = 0.01
    threads: int = 1
    random_seed: int = 0
    log_to_console: bool = False
    warm_start: bool = False
    """Start HiGHS from the values the model's variables hold (e.g. a previous plan)."""


@dataclass
class SolveResult:
    termination: Termination
    solution: SolutionStatus
    objective_musd: float | None
    best_bound_musd: float | None
    mip_gap_frac: float | None
    handoff_seconds: float
    solve_seconds: float
    rows: int
    columns: int
    nonzeros: int
    integers: int
    message: str = ""
    numerics: dict[str, float] = field(default_factory=dict)


_STATUS: dict[highspy.HighsModelStatus, Termination] = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
}


def solve_model(model: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """Solve ``model`` with HiGHS and load the solution, if any, into its variables."""
    start = time.perf_counter()
    try:
        form = LinearStandardFormCompiler().write(model, mixed_form=True)
    except InfeasibleConstraintException as e:  # a constraint with no variables that fails
        return SolveResult(
            "infeasible",
            "none",
            None,
            None,
            None,
            time.perf_counter() - start,
            0.0,
            0,
            0,
            0,
            0,
            message=str(e),
        )
    columns = form.columns
    n_col, n_row = len(columns), form.A.shape[0]
    lower = np.array([-math.inf if v.lb is None else v.lb for v in columns], dtype=float)
    upper = np.array([math.inf if v.ub is None else v.ub for v in columns], dtype=float)
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    sense = np.array([r.bound_type for r in form.rows], dtype=int)
    rhs = np.asarray(form.rhs, dtype=float)
    row_lower = np.where(sense >= 0, np.where(sense == 0, rhs, -math.inf), rhs)
    row_upper = np.where(sense <= 0, np.where(sense == 0, rhs, math.inf), rhs)

    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = form.c.toarray()[0] if n_col else np.zeros(0)
    lp.offset_ = float(form.c_offset[0]) if len(form.c_offset) else 0.0
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    a = form.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in integer
        ]

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", options.log_to_console)
    highs.setOptionValue("time_limit", float(options.time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(options.mip_gap_frac))
    highs.setOptionValue("threads", int(options.threads))
    highs.setOptionValue("random_seed", int(options.random_seed))
    highs.passModel(lp)
    if options.warm_start:
        _set_start(highs, columns)
    handoff = time.perf_counter() - start

    start = time.perf_counter()
    highs.run()
    solve_seconds = time.perf_counter() - start

    status = highs.getModelStatus()
    info = highs.getInfo()
    termination = _STATUS.get(status, "error")
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    solution: SolutionStatus = "none"
    objective = bound = gap = None
    if has_solution:
        solution = "optimal" if termination == "optimal" else "feasible"
        values = np.asarray(highs.getSolution().col_value)
        values = np.where(integer, np.round(values), values)
        for var, x in zip(columns, values, strict=True):
            var.set_value(float(x), skip_validation=True)
        objective = float(info.objective_function_value)
        if integer.any():
            bound = float(info.mip_dual_bound)
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
        else:
            bound, gap = objective, 0.0
    _zero_unused(model)
    return SolveResult(
        termination=termination,
        solution=solution,
        objective_musd=objective,
        best_bound_musd=bound,
        mip_gap_frac=gap,
        handoff_seconds=handoff,
        solve_seconds=solve_seconds,
        rows=n_row,
        columns=n_col,
        nonzeros=int(form.A.nnz),
        integers=int(integer.sum()),
        message=highs.modelStatusToString(status),
        numerics=_coefficient_ranges(form.A.data, lp.col_cost_, rhs),
    )


def _set_start(highs: highspy.Highs, columns: list[pyo.Var]) -> None:
    """Pass the variables' current values as a (partial) MIP start; HiGHS completes it."""
    known = [(i, float(v.value)) for i, v in enumerate(columns) if v.value is not None]
    if known:
        index, value = zip(*known, strict=True)
        highs.setSolution(len(known), np.array(index, dtype=np.int32), np.array(value))


def _zero_unused(model: pyo.ConcreteModel) -> None:
    """Variables the compiler dropped (in no row and not in the objective) are at 0."""
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.value is None:
            var.set_value(0.0 if var.lb is None or var.lb <= 0 else var.lb, skip_validation=True)


def _coefficient_ranges(a: np.ndarray, cost: np.ndarray, rhs: np.ndarray) -> dict[str, float]:
    def span(x: np.ndarray) -> tuple[float, float]:
        x = np.abs(x[np.isfinite(x) & (x != 0)])
        return (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)

    out = {}
    for name, x in (("matrix", a), ("cost", cost), ("rhs", rhs)):
        low, high = span(np.asarray(x, dtype=float))
        out[f"{name}_min"], out[f"{name}_max"] = low, high
    return out
