"""HiGHS through highspy, in memory: the one module that talks to the solver.

The Pyomo model is compiled to matrices by Pyomo's ``LinearStandardFormCompiler`` (mixed
form: rows keep their sense), except the large families a concern also holds as arrays
(``formulations.core.ArrayRows``), which :func:`compiled` puts in from the arrays, and passed
to HiGHS with ``passModel``; no LP file is written.
The result keeps *why the solver stopped* (``termination``) apart from *what solution exists*
(``solution``), as Pyomo's ``contrib.solver`` results do. A model whose concerns state a family
by cuts (``m.separators``, ``Concern.separate``) is solved in a cut loop
(:meth:`HighsModel.solve`): the cuts a solution breaks are added to the Pyomo model and as rows
to the model HiGHS holds, and it is solved again.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.numeric_types import native_types
from pyomo.core.base import SortComponents
from pyomo.core.base.component import ActiveComponent
from pyomo.core.expr.numeric_expr import LinearExpression, SumExpression
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import (
    LinearStandardFormCompiler,
    LinearStandardFormInfo,
    RowEntry,
)
from scipy import sparse

from formulations.core import SENSES

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
Progress = Callable[[float | None, float | None, float | None], None]
"""Incumbent (M USD), best bound (M USD), relative gap; ``None`` until known."""


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
    constructive_start: bool | None = None
    """Start HiGHS from ``optimizer.heuristic``'s plan (LP rounding repaired by a small MIP).
    ``None`` (the default) decides by the model's size: on from
    ``optimizer.heuristic.AUTO_START_INTEGERS`` integer columns, unless ``warm_start``."""
    cancel: threading.Event | None = field(default=None, compare=False)
    """Set it (from any thread) to stop a running solve within about a second; the best plan
    so far is kept (termination ``interrupted``)."""
    deadline: float | None = None
    """``time.perf_counter()`` by which the solve must end: HiGHS gets what is left of it
    when it starts, if that is less than ``time_limit_s`` (a whole run's time limit)."""

    progress: Progress | None = field(default=None, compare=False)
    """Called often during a MIP search with the incumbent and best bound (M USD) and the
    relative gap, each ``None`` until HiGHS knows it (the service's live progress)."""


OBJECTIVE_FLOOR_MUSD = 1.0
"""The relative gap is measured against an objective of at least this (1 M USD, the
model's unit): HiGHS's absolute gap is ``mip_gap_frac`` times it (:func:`absolute_gap`)."""
HIGHS_ABS_GAP_DEFAULT = 1e-6
"""HiGHS's own absolute gap (its default), kept as the least absolute gap: round-off."""


def absolute_gap(mip_gap_frac: float) -> float:
    """HiGHS's ``mip_abs_gap`` for a relative gap: ``mip_gap_frac`` x 1 M USD, never below
    HiGHS's default. HiGHS stops at whichever gap it meets first, so the relative gap rules
    for any objective above 1 M USD (every real plan) and the absolute one only near zero,
    where ``|ub - lb| / |ub|`` means nothing (a tiny test, a metric at its minimum)."""
    return max(HIGHS_ABS_GAP_DEFAULT, mip_gap_frac * OBJECTIVE_FLOOR_MUSD)


HIGHS_MIP_OPTIONS: dict[str, bool | int | float] = {"mip_heuristic_run_rens": False}
"""HiGHS options that differ from its defaults, each measured (benchmarks/RESULTS.md, issue 11):
RENS, a sub-MIP heuristic HiGHS runs at the root, took most of the default's solve and
found no better plan than its other heuristics; without it the default proves a 0.1 % gap
in 9 CPU s instead of 14.5."""

HIGHS_SEED_MAX = 2_147_483_647
"""HiGHS's ``random_seed`` range is [0, 2**31 - 1]; it refuses anything else."""


def checked_options(options: SolveOptions) -> tuple[SolveOptions, list[str]]:
    """Options HiGHS can take as they are, and what was changed: threads above this machine's
    cores are clamped to them (with a warning); a seed outside HiGHS's range or fewer than
    one thread is refused (``ValueError``)."""
    if not 0 <= options.random_seed <= HIGHS_SEED_MAX:
        raise ValueError(f"seed {options.random_seed} is outside HiGHS's [0, {HIGHS_SEED_MAX}]")
    if options.threads < 1:
        raise ValueError(f"threads {options.threads} must be at least 1")
    cores = os.cpu_count() or 1
    if options.threads <= cores:
        return options, []
    note = f"{options.threads} threads asked, this machine has {cores} cores: using {cores}"
    return replace(options, threads=cores), [note]


@dataclass
class SolveResult:
    """How the solver stopped (``termination``) apart from what solution exists
    (``solution``), with objective, best bound, gap and times."""

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
    start_objective_musd: float | None = None
    """Objective of the MIP start as HiGHS accepted it (its log's "MIP start solution is
    feasible"); None when no start was given or HiGHS rejected it."""
    first_incumbent_musd: float | None = None
    """Objective of HiGHS's first incumbent in a warm-started solve (its improving-solution
    callback): the start's objective when HiGHS took the start."""


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


@dataclass(frozen=True)
class _Outcome:
    """What one solve found: why it stopped, the column values (integers rounded), bounds."""

    termination: Termination
    solution: SolutionStatus
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    message: str

    def bounded(self, lower: float | None, live: HighsModel) -> _Outcome:
        """This plan with the best bound ``lower``: optimal if they meet the gap asked."""
        if self.objective is None or lower is None or not math.isfinite(lower):
            return self
        upper = self.objective
        gap = max(upper - lower, 0.0) / max(abs(upper), 1e-10)
        met = live._within_gap(upper, lower)
        return replace(
            self,
            termination="optimal" if met else self.termination,
            solution="optimal" if met else "feasible",
            bound=lower,
            gap=gap,
        )

    def stopped(self, termination: Termination, lower: float, live: HighsModel) -> _Outcome:
        """This plan when the loop stopped for ``termination`` with best bound ``lower``."""
        out = self.bounded(lower if math.isfinite(lower) else None, live)
        return out if out.termination == "optimal" else replace(out, termination=termination)


def _outcome(h: highspy.Highs, integer: np.ndarray, mip: bool) -> _Outcome:
    """The outcome of ``h``'s last run."""
    status = h.getModelStatus()
    info = h.getInfo()
    termination = _STATUS.get(status, "error")
    message = h.modelStatusToString(status)
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return _Outcome(termination, "none", None, None, None, None, message)
    values = np.asarray(h.getSolution().col_value)
    values = np.where(integer, np.round(values), values)
    objective = float(info.objective_function_value)
    bound: float = objective
    gap: float | None = 0.0
    if mip:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
    solution: SolutionStatus = "optimal" if termination == "optimal" else "feasible"
    return _Outcome(termination, solution, values, objective, bound, gap, message)


def solve_model(model: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """Solve ``model`` with HiGHS and load the solution, if any, into its variables."""
    return HighsModel(model, options).solve()


class HighsModel:
    """A Pyomo model compiled once and held by HiGHS, so re-solves change it in place
    (a column bound for an epsilon constraint, integers fixed for marginal values) instead
    of rebuilding it."""

    def __init__(self, model: pyo.ConcreteModel, options: SolveOptions) -> None:
        start = time.perf_counter()
        self.model = model
        self.options = options
        self.highs = highspy.Highs()
        self.infeasible_message = ""
        self.start_accepted = False
        """Whether HiGHS reported the last solve's MIP start feasible (its log says so), or
        the start was a plan of the model within the gap of ``start_bound_musd``."""
        self.start_bound_musd: float | None = None
        """A lower bound on the optimum of the model as HiGHS holds it now, set with a start
        (``optimizer.heuristic``: the LP relaxation's optimum) and used by the next
        :meth:`solve` only: if the start is a plan of the model within the gap asked of it,
        that solve ends there, without a MIP run (HiGHS would prove no more)."""
        self.relaxed_columns: np.ndarray | None = None
        """The columns (mask) the last :meth:`relaxed_values` LP held when it was optimal,
        if it priced columns in (None otherwise): the others are at 0 with a non-negative
        reduced cost."""
        self.relaxed_reduced_costs: np.ndarray | None = None
        """The reduced costs of every column at that LP's optimum (with the same condition)."""
        self.separation_runs = {"lp": 0, "mip": 0}
        """HiGHS runs in the cut loops so far (``Concern.separate``), LP and MIP, all solves
        together."""
        try:
            form = compiled(model)
        except InfeasibleConstraintException as e:  # a constraint without variables fails
            self.infeasible_message = str(e)
            self.columns: list[Any] = []
            self.integer = np.zeros(0, dtype=bool)
            self.row_of: dict[Any, int] = {}
            self.nonzeros, self.numerics = 0, {}
            self.handoff_seconds = time.perf_counter() - start
            return
        self.columns = list(form.columns)
        self.row_of = {}
        for i, row in enumerate(form.rows):
            self.row_of.setdefault(row.constraint, i)
        self.integer = np.array([v.is_integer() for v in self.columns], dtype=bool)
        lp = _highs_lp(form, self.integer)
        self.nonzeros = int(form.A.nnz)
        self.numerics = _coefficient_ranges(form.A.data, lp.col_cost_, np.asarray(form.rhs))
        h = self.highs
        self.configure(options)
        h.passModel(lp)
        self.handoff_seconds = time.perf_counter() - start

    def configure(self, options: SolveOptions) -> None:
        """HiGHS's options and callbacks for ``options``: log, limits, gaps (relative, and
        the absolute gap that goes with it), the MIP options, threads, seed, cancel, progress."""
        self._set("output_flag", options.log_to_console)
        self._set("time_limit", float(options.time_limit_s))
        self._set("mip_rel_gap", float(options.mip_gap_frac))
        self._set("mip_abs_gap", absolute_gap(options.mip_gap_frac))
        for name, value in HIGHS_MIP_OPTIONS.items():
            self._set(name, value)
        self._set("threads", int(options.threads))
        self._set("random_seed", int(options.random_seed))
        if options.cancel is not None:
            self._stop_on(options.cancel)
        if options.progress is not None:
            self._report_to(options.progress)

    def _set(self, option: str, value: bool | int | float) -> None:
        if self.highs.setOptionValue(option, value) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS refused {option} = {value}")

    def _stop_on(self, cancel: threading.Event) -> None:
        _interrupt_on(self.highs, cancel)

    def _report_to(self, progress: Progress) -> None:
        def report(event: Any) -> None:
            out = event.data_out
            values = (out.mip_primal_bound, out.mip_dual_bound, out.mip_gap)
            progress(*(float(x) if math.isfinite(x) else None for x in values))

        self.highs.cbMipImprovingSolution += report
        self.highs.cbMipInterrupt += report

    @property
    def size(self) -> tuple[int, int, int, int]:
        """Rows, columns, nonzeros, integer columns."""
        return len(self.row_of), len(self.columns), self.nonzeros, int(self.integer.sum())

    def solve(self, warm_start: bool | None = None) -> SolveResult:
        """Run HiGHS; load the solution, if any, into the Pyomo variables."""
        rows, cols, nnz, ints = self.size
        if self.infeasible_message:
            return SolveResult(
                "infeasible",
                "none",
                None,
                None,
                None,
                self.handoff_seconds,
                0.0,
                rows,
                cols,
                nnz,
                ints,
                message=self.infeasible_message,
            )
        if not self.columns:  # nothing to decide: every row was constant and held
            offset = float(self.highs.getLp().offset_)
            return SolveResult(
                "optimal",
                "optimal",
                offset,
                offset,
                0.0,
                self.handoff_seconds,
                0.0,
                rows,
                cols,
                nnz,
                ints,
                message="empty model",
            )
        log: list[str] = []
        incumbents: list[float] = []
        warm = self.options.warm_start if warm_start is None else warm_start
        start = time.perf_counter()
        limit = float(self.options.time_limit_s)
        if self.options.deadline is not None:
            limit = min(limit, max(self.options.deadline - start, 1e-3))
        deadline = start + limit
        mip = self.is_mip
        bound, self.start_bound_musd = self.start_bound_musd, None
        proven = self._proven_start(bound) if warm and mip else None
        if proven is not None:
            self.start_accepted = True
            return self._result(proven, time.perf_counter() - start, proven.objective, None)
        if self.separators and mip:  # the cuts the LP relaxation needs, before the MIP
            self.relaxed_values(deadline)
        if warm:
            _set_start(self.highs, self.columns)
            # HiGHS says in its log whether it took the start: keep the log to know, and
            # the incumbents (the first is the start's when it was taken).
            self.highs.setOptionValue("output_flag", True)
            self.highs.setOptionValue("log_to_console", self.options.log_to_console)
            self.highs.cbLogging.subscribe(lambda event: log.append(event.message))
            self.highs.cbMipImprovingSolution.subscribe(
                lambda event: incumbents.append(float(event.data_out.objective_function_value))
            )
        outcome = self._separated(deadline, mip) if self.separators else self._run(deadline, mip)
        if warm:
            self.highs.cbLogging.clear()
            self.highs.cbMipImprovingSolution.clear()
            self.highs.setOptionValue("output_flag", self.options.log_to_console)
        self.start_accepted = any("MIP start solution is feasible" in line for line in log)
        solve_seconds = time.perf_counter() - start
        started = _accepted_start(log) if warm else None
        return self._result(outcome, solve_seconds, started, incumbents[0] if incumbents else None)

    def _result(
        self, outcome: _Outcome, seconds: float, start: float | None, first: float | None
    ) -> SolveResult:
        """``outcome``'s plan loaded into the Pyomo variables, as a :class:`SolveResult`."""
        if outcome.values is not None:
            for var, x in zip(self.columns, outcome.values, strict=True):
                var.set_value(float(x), skip_validation=True)
        _zero_unused(self.model)
        rows, cols, nnz, ints = self.size
        return SolveResult(
            termination=outcome.termination,
            solution=outcome.solution,
            objective_musd=outcome.objective,
            best_bound_musd=outcome.bound,
            mip_gap_frac=outcome.gap,
            handoff_seconds=self.handoff_seconds,
            solve_seconds=seconds,
            rows=rows,
            columns=cols,
            nonzeros=nnz,
            integers=ints,
            message=outcome.message,
            numerics=self.numerics,
            start_objective_musd=start,
            first_incumbent_musd=first,
        )

    def _proven_start(self, bound: float | None) -> _Outcome | None:
        """The start the variables hold as the outcome, if it is a plan of the model (every
        column valued, integers whole, no row or bound broken beyond 1e-6 of its activity)
        within the gap asked of ``bound``, a lower bound on the optimum; else None. Not with
        cut separators (the start would have to hold cuts the model does not have yet)."""
        if bound is None or self.separators:
            return None
        if any(v.value is None for v in self.columns):
            return None
        values = np.array([float(v.value) for v in self.columns])
        lp = self.highs.getLp()
        lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
        slack = 1e-6 * np.maximum(1.0, np.abs(values))
        if np.any(values < lower - slack) or np.any(values > upper + slack):
            return None
        if np.any(np.abs(values[self.integer] - np.round(values[self.integer])) > 1e-6):
            return None
        if violated_constraints(self):
            return None
        values = np.where(self.integer, np.round(values), values)
        objective = self.objective_of(values)
        if not self._within_gap(objective, bound):
            return None
        message = "the start is within the gap of the LP relaxation's bound: no MIP run"
        out = _Outcome("optimal", "optimal", values, objective, None, None, message)
        return out.bounded(bound, self)

    @property
    def separators(self) -> list[Callable[[pyo.ConcreteModel], list[Any]]]:
        """The model's cut separators (``formulations.concern.Concern.separate``)."""
        return list(getattr(self.model, "separators", ()))

    def _run(self, deadline: float, mip: bool, highs: highspy.Highs | None = None) -> _Outcome:
        """One HiGHS run of ``highs`` (the held model by default) within ``deadline``."""
        h = self.highs if highs is None else highs
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        h.run()
        return _outcome(h, self.integer & mip, mip)

    def _separated(self, deadline: float, mip: bool) -> _Outcome:
        """Solve, add the cuts the solution breaks, solve again, until it breaks none (the
        model's separators, ``Concern.separate``). An LP is simply re-solved (warm basis). A
        MIP's plan that breaks cuts is repaired: its integers fixed, the LP cut loop finishes
        the continuous part (a plan of the exact model: an upper bound), while the MIP's
        bound on the model with fewer cuts stays a lower bound; the MIP is solved again from
        the best repaired plan, with the new cuts, until the bounds meet the gap asked."""
        best: _Outcome | None = None
        lower = -math.inf
        while True:
            out = self._run(deadline, mip)
            self.separation_runs["mip" if mip else "lp"] += 1
            if out.values is None:
                return out if best is None else best.stopped(out.termination, lower, self)
            self._load(out.values)
            cuts = self._separate()
            if not cuts:  # the solution holds every cut: a plan of the exact model
                lower = max(lower, out.bound if out.bound is not None else -math.inf)
                if best is None:
                    return out if not mip else out.bounded(lower, self)
                better = (out.objective or 0.0) <= (best.objective or 0.0)
                return (out if better else best).bounded(lower, self)
            self._add_rows(cuts)
            stopped = self._stopped(deadline)
            if not mip:
                if stopped is not None:
                    return _Outcome(stopped, "none", None, None, None, None, "cut loop stopped")
                continue
            lower = max(lower, out.bound if out.bound is not None else -math.inf)
            repaired = self._repaired(out.values, deadline)
            if repaired is not None and (
                best is None or (repaired.objective or 0.0) < (best.objective or 0.0)
            ):
                best = repaired
            if best is not None and self._within_gap(best.objective or 0.0, lower):
                return best.bounded(lower, self)
            stopped = stopped or self._stopped(deadline)
            if out.termination != "optimal" or stopped is not None:
                reason = stopped or out.termination
                if best is None:
                    held = lower if math.isfinite(lower) else None
                    return _Outcome(reason, "none", None, None, held, None, "no plan held")
                return best.stopped(reason, lower, self)
            if best is not None and best.values is not None:  # the next MIP starts from it
                every = np.arange(len(self.columns), dtype=np.int32)
                self.highs.setSolution(len(every), every, best.values)

    def _within_gap(self, upper: float, lower: float) -> bool:
        gap = self.options.mip_gap_frac
        return upper - lower <= max(gap * abs(upper), absolute_gap(gap))

    def _stopped(self, deadline: float) -> Termination | None:
        if self.options.cancel is not None and self.options.cancel.is_set():
            return "interrupted"
        return "time_limit" if time.perf_counter() >= deadline else None

    def _repaired(self, values: np.ndarray, deadline: float) -> _Outcome | None:
        """The plan with the integers of ``values`` and the best continuous part under the
        exact model (the LP cut loop at fixed integers), or None if there is none."""
        lp = self.highs.getLp()
        lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
        fixed = np.round(values[self.integer])
        lower[self.integer], upper[self.integer] = fixed, fixed
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.integrality_ = []
        found = self._cut_loop(lp, deadline)
        if found is None:
            return None
        values = np.where(self.integer, np.round(found), found)
        objective = self.objective_of(values)
        return _Outcome("optimal", "feasible", values, objective, None, None, "cut loop")

    def _cut_loop(self, lp: highspy.HighsLp, deadline: float) -> np.ndarray | None:
        """Column values of the LP ``lp`` (a copy) solved with the cuts its solutions break
        added until none is (to it and to the held model), or None if it has no optimum or
        the time is up."""
        h = self._copy(lp, max(deadline - time.perf_counter(), 1e-3), 0.0)
        if h is None:
            return None
        while True:
            out = self._run(deadline, False, h)
            self.separation_runs["lp"] += 1
            if out.values is None:
                return None
            self._load(out.values)
            cuts = self._separate()
            if not cuts:
                return out.values
            self._add_rows(cuts, h)
            if self._stopped(deadline) is not None:
                return None

    def _load(self, values: np.ndarray) -> None:
        for var, x in zip(self.columns, values, strict=True):
            var.set_value(float(x), skip_validation=True)

    def _separate(self) -> list[Any]:
        return [con for separate in self.separators for con in separate(self.model)]

    def _add_rows(self, cons: list[Any], copy: highspy.Highs | None = None) -> None:
        """The constraints ``cons`` (new, of the Pyomo model) as rows of the held model and of
        ``copy``; their variables are columns already (the model's first cuts hold them)."""
        column = {id(v): j for j, v in enumerate(self.columns)}
        for con in cons:
            repn = generate_standard_repn(con.body, compute_values=True)
            index = np.array([column[id(v)] for v in repn.linear_vars], dtype=np.int32)
            coef = np.array(repn.linear_coefs, dtype=float)
            constant = float(repn.constant)
            low = -math.inf if con.lower is None else float(pyo.value(con.lower)) - constant
            up = math.inf if con.upper is None else float(pyo.value(con.upper)) - constant
            self.row_of[con] = self.highs.getNumRow()
            for h in (self.highs, copy):
                if h is not None:
                    h.addRow(low, up, len(index), index, coef)
            self.nonzeros += len(index)

    @property
    def is_mip(self) -> bool:
        lp = self.highs.getLp()
        return any(t != highspy.HighsVarType.kContinuous for t in lp.integrality_)

    def relaxed_values(
        self,
        deadline: float = math.inf,
        lazy: Sequence[Any] = (),
        priced: np.ndarray | None = None,
        pruned: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Column values of the LP relaxation (every integer relaxed), or None if it has no
        optimum; with separators, the cuts it needs are added to the held model (the Pyomo
        variables keep their values). Without separators, the rows of the ``lazy``
        constraint families and the ``priced`` columns (indices; columns at 0 in the plan
        unless brought in: lower bound 0) start out of the LP: a row is put back where the
        solution breaks it, a column priced in where its reduced cost is negative, and the
        LP solved again from the basis, until neither is: the same LP optimum, sooner where
        few of them are needed (:func:`_restricted_lp`). ``self.relaxed_columns`` is then
        the mask of the columns the final LP held (the others are at 0 and priced out)."""
        lp = self.highs.getLp()
        lp.integrality_ = []
        self.relaxed_columns = self.relaxed_reduced_costs = None
        if not self.separators:
            rows = [self.row_of[c] for family in lazy for c in family.values() if c in self.row_of]
            out = np.zeros(0, dtype=np.int64) if priced is None else np.asarray(priced)
            prune = np.zeros(0, dtype=np.int64) if pruned is None else np.asarray(pruned)
            if rows or out.size or prune.size:
                found = _restricted_lp(self, lp, np.array(rows, dtype=np.int64), out, prune)
                if found is None:
                    return None
                values, self.relaxed_columns, self.relaxed_reduced_costs = found
                return values
            return self._solve_copy(lp, math.inf, 0.0, mip=False)
        held = [v.value for v in self.columns]
        try:
            return self._cut_loop(lp, deadline)
        finally:
            for var, x in zip(self.columns, held, strict=True):
                var.set_value(x, skip_validation=True)

    def restricted_values(
        self, fixed: dict[int, float], time_limit_s: float, gap: float
    ) -> np.ndarray | None:
        """Column values of the best plan HiGHS finds with the ``fixed`` columns at their
        values (a smaller MIP), or None if it finds none."""
        lp = self.highs.getLp()
        lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
        index = np.fromiter(fixed.keys(), dtype=np.int64, count=len(fixed))
        lower[index] = upper[index] = np.fromiter(fixed.values(), dtype=float, count=len(fixed))
        lp.col_lower_, lp.col_upper_ = lower, upper
        return self._solve_copy(lp, time_limit_s, gap, mip=True)

    def objective_of(self, values: np.ndarray) -> float:
        """The objective (M USD) of column values, as HiGHS's model prices them."""
        lp = self.highs.getLp()
        return float(np.dot(lp.col_cost_, values) + lp.offset_)

    def _solve_copy(self, lp: highspy.HighsLp, time_limit_s: float, gap: float, mip: bool) -> Any:
        h = self._copy(lp, time_limit_s, gap)
        if h is None:
            return None
        h.run()
        if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        if not mip and h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None  # an LP stopped early: no optimum (nor a bound)
        values = np.asarray(h.getSolution().col_value)
        return np.where(self.integer, np.round(values), values) if mip else values

    def _copy(self, lp: highspy.HighsLp, time_limit_s: float, gap: float) -> highspy.Highs | None:
        """A new HiGHS holding ``lp`` with this model's options, or None if cancelled."""
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(self.options.threads))
        h.setOptionValue("random_seed", int(self.options.random_seed))
        if self.options.deadline is not None:  # within the whole run's time limit
            time_limit_s = min(time_limit_s, max(self.options.deadline - time.perf_counter(), 1e-3))
        h.setOptionValue("time_limit", float(time_limit_s))
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("mip_abs_gap", absolute_gap(gap))
        for name, value in HIGHS_MIP_OPTIONS.items():
            h.setOptionValue(name, value)
        if self.options.cancel is not None:  # a cancelled run stops the copy's solve too
            if self.options.cancel.is_set():
                return None
            _interrupt_on(h, self.options.cancel)
        h.passModel(lp)
        return h

    def fix_decisions(self, keep_continuous: Callable[[Any], bool]) -> None:
        """Fix every integer column at its current value except those ``keep_continuous``
        selects, which become continuous; the model becomes an LP (for marginal values).
        Rows of valid inequalities (``model.valid_inequalities``) are dropped: with the
        decisions fixed they only repeat limits, and the duals belong to the limits."""
        for family in getattr(self.model, "valid_inequalities", ()):
            for con in family.values():
                if con in self.row_of:
                    self.highs.changeRowBounds(self.row_of[con], -math.inf, math.inf)
        for j, var in enumerate(self.columns):
            if not self.integer[j]:
                continue
            if keep_continuous(var):
                self.highs.changeColIntegrality(j, highspy.HighsVarType.kContinuous)
            else:
                x = float(round(var.value or 0.0))
                self.highs.changeColIntegrality(j, highspy.HighsVarType.kContinuous)
                self.highs.changeColBounds(j, x, x)

    def set_gap(self, mip_gap_frac: float) -> None:
        """The relative MIP gap of the next solves."""
        self.highs.setOptionValue("mip_rel_gap", float(mip_gap_frac))
        self.highs.setOptionValue("mip_abs_gap", absolute_gap(mip_gap_frac))

    def column_of(self, var: pyo.Var) -> int:
        """HiGHS's column of a Pyomo variable."""
        return next(j for j, v in enumerate(self.columns) if v is var)

    def write_model(self, path: str | Path) -> Path:
        """Write the model as HiGHS holds it, for another solver: ``.mps`` or ``.lp`` by the
        file's extension, with the Pyomo names of columns and rows."""
        out = Path(path)
        if out.suffix not in (".mps", ".lp"):
            raise ValueError(f"{out}: the model is written as .mps or .lp, not {out.suffix!r}")
        if self.infeasible_message:
            raise ValueError(f"{out}: no model to write ({self.infeasible_message})")
        names: set[str] = set()
        for j, var in enumerate(self.columns):
            self.highs.passColName(j, _unique(_file_name(var.name), names))
        for con, i in self.row_of.items():
            self.highs.passRowName(i, _unique(_file_name(con.name), names))
        status = self.highs.writeModel(str(out))
        if status == highspy.HighsStatus.kError:
            raise OSError(f"{out}: HiGHS could not write the model")
        return out

    def set_column_upper(self, j: int, upper: float) -> None:
        """Bound column ``j`` from above (an epsilon constraint on a metric column)."""
        lower = self.highs.getLp().col_lower_[j]
        self.highs.changeColBounds(j, lower, upper)

    def minimise_column(self, j: int) -> None:
        """Make column ``j`` the whole objective (until :meth:`restore_objective`)."""
        lp = self.highs.getLp()
        if not hasattr(self, "_cost"):
            self._cost = np.array(lp.col_cost_, dtype=float)
        n = lp.num_col_
        cost = np.zeros(n)
        cost[j] = 1.0
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost)

    def restore_objective(self) -> None:
        n = len(self._cost)
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), self._cost)

    def row_duals(self) -> dict[Any, float]:
        """Dual value of each constraint's row (objective change per unit of its bound)."""
        duals = self.highs.getSolution().row_dual
        return {con: float(duals[i]) for con, i in self.row_of.items()}


PRICING_TOLERANCE = 1e-7
"""A column left out of the start's LP is priced in when its reduced cost is below minus
this (HiGHS's dual feasibility tolerance), a row put back when the solution breaks it by
more than this times its activity (at least 1; HiGHS's primal feasibility tolerance)."""


PRICED_PER_ROW = 25
"""Columns priced in per round and per row they help to meet (their reduced cost most
negative), so the LP grows by what it needs (partial pricing); as many are kept per row
when the first LP's columns are pruned (:func:`_prune`). Measured at 1,000 sites x 200
regions (benchmarks/RESULTS.md, the start's LP, CPU s at load 2-4, one run each; its first
solve, the same in each, 56-78 s): 5, 27 re-solves taking 79 s; 25, 9 taking 66; 25 priced
and 5 kept, 9 taking 60; 50 priced and 5 kept, 7 taking 57; the same optimum."""

START_LP_OPTIONS: dict[str, bool | int | float] = {"simplex_dual_edge_weight_strategy": 1}
"""HiGHS options of the start's LP (:func:`_restricted_lp`): dual simplex with Devex pricing
instead of HiGHS's default (dual steepest edge, whose weights cost a solve per iteration
over 150 k rows). Measured at 1,000 sites x 200 regions (benchmarks/RESULTS.md, CPU s, one
run each, load 2-3): first solve 53.7 against 55.7-62.0, the 9 re-solves 34.5 against 60-66;
the same optimum. Its optimal vertex differs, and so does the start rounded from it: at 200
sites x 40 regions 0.87 % above the bound against 0.43 % (still within a 1 % gap)."""

PRIMAL_SIMPLEX, DUAL_SIMPLEX = 4, 1
"""HiGHS's ``simplex_strategy`` values. The start's LP re-solves by dual simplex after rows
come back (its basis stays dual feasible) and by primal simplex after columns are priced in
(it stays primal feasible); a round adds one or the other, rows first
(:func:`_restricted_lp`). Measured at 1,000 sites x 200 regions (benchmarks/RESULTS.md, the
start's LP alone, CPU s, load 1.4-3, back to back): the re-solves after the first 48-51 with
rows and columns added together by dual simplex, 44 with rows first by dual simplex, 27-34
with rows first and columns by primal simplex (the whole LP 105 -> 83-90); the same optimum.
From a poor first basis (only the 25 cheapest pairs of each region first) primal re-solves
were slow (112 s after 15,649 columns): it pays from the whole first LP's basis only."""

ELASTIC_PENALTY = 1e3
"""Cost of a unit of an elastic column of the start's first LP (:func:`_restricted_lp`), as
a multiple of the model's largest column cost."""


def _restricted_lp(
    live: HighsModel,
    lp: highspy.HighsLp,
    rows: np.ndarray,
    columns: np.ndarray,
    pruned: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The LP ``lp`` solved with the ``rows`` and ``columns`` (indices) left out at first,
    and the ``pruned`` columns taken out after the first solve where it holds them at 0 with
    a positive reduced cost (but for the few best of each row they help to meet): the column
    values of its optimum, the mask of the columns the last LP held and every column's
    reduced cost, or None if it has none. Left-out and pruned columns are at 0 (their lower
    bound must be 0).

    A left-out row is put back once a solution breaks it; a left-out column is priced in once
    its reduced cost under the solution's duals (a left-out row's dual is 0) is negative (the
    ``PRICED_PER_ROW`` most negative of each row it helps to meet, per round). A round brings
    back the broken rows if there are any, else the priced columns, and the LP is solved again
    from the basis (HiGHS keeps it across added rows and columns): by dual simplex after rows,
    by primal after columns (``PRIMAL_SIMPLEX``). When no row is broken and no reduced cost
    negative, the solution is optimal for the LP with every row and column: feasible for it (the
    left-out columns at 0) and, with the same duals, dual feasible for the LP with the left-out
    rows free, which relaxes it. Rows and columns only come in after the pruning, so the loop
    ends. So that the first LP has a solution whichever columns it holds, each row a left-out
    column could help to meet gets an elastic column at ``ELASTIC_PENALTY`` times the largest
    cost; the loop ends only with them at 0, or, if they are not, with every column in and them
    out (then it is the whole LP's verdict, as it is when a restricted LP has no solution).

    At 1,000 sites the zonal hour rows (18,798 rows, 60 % of the nonzeros) come back 1,326
    of them in 4 solves: 11.6 s of CPU against 18.8 s with them in but free, 33 s with
    every row; at 1,000 sites x 200
    regions (serving columns and their ``only_from_open`` rows 92 % of the model) 87 s
    against 150-194 s with the rows in but free (benchmarks/RESULTS.md), the same optimum."""
    n_row, n_col = int(lp.num_row_), int(lp.num_col_)
    a = _matrix(lp).tocsc()
    by_row = a.tocsr()
    cost = np.asarray(lp.col_cost_, dtype=float)
    col_lower, col_upper = np.asarray(lp.col_lower_, float), np.asarray(lp.col_upper_, float)
    row_lower, row_upper = np.asarray(lp.row_lower_, float), np.asarray(lp.row_upper_, float)
    if np.any(col_lower[columns] != 0.0) or np.any(col_lower[pruned] != 0.0):
        raise ValueError("a column left out of the LP must have lower bound 0")
    row_in = np.ones(n_row, dtype=bool)
    row_in[rows] = False
    col_in = np.ones(n_col, dtype=bool)
    col_in[columns] = False
    row_ids, col_ids = np.flatnonzero(row_in), np.flatnonzero(col_in)
    local_row = np.full(n_row, -1, dtype=np.int64)
    local_row[row_ids] = np.arange(row_ids.size)
    local_col = np.full(n_col, -1, dtype=np.int64)
    local_col[col_ids] = np.arange(col_ids.size)
    # an elastic column per row that a left-out column could help to meet (a >= row with a
    # positive coefficient, a <= row with a negative one), at a cost no plan pays: the first
    # LP has a solution whichever columns are in; priced in, the real columns replace them
    out_part = a[:, columns].tocoo()
    up = (out_part.data > 0) & np.isfinite(row_lower[out_part.row])
    down = (out_part.data < 0) & np.isfinite(row_upper[out_part.row])
    elastic_rows = [np.unique(out_part.row[up]), np.unique(out_part.row[down])]
    elastic_rows = [r[row_in[r]] for r in elastic_rows]
    cover = np.full(n_col, -1, dtype=np.int64)  # a row each priced column helps to meet
    for part, cols in ((out_part, columns), (a[:, pruned].tocoo(), pruned)):
        helps = ((part.data > 0) & np.isfinite(row_lower[part.row])) | (
            (part.data < 0) & np.isfinite(row_upper[part.row])
        )
        cover[cols[part.col[helps]]] = part.row[helps]
    n_elastic = sum(r.size for r in elastic_rows)
    elastic = np.arange(col_ids.size, col_ids.size + n_elastic)
    penalty = ELASTIC_PENALTY * max(1.0, float(np.abs(cost).max(initial=0.0)))
    sub = sparse.hstack(
        [
            a[:, col_ids][row_ids, :],
            sparse.csc_matrix(
                (
                    np.concatenate((np.ones(elastic_rows[0].size), -np.ones(elastic_rows[1].size))),
                    (local_row[np.concatenate(elastic_rows)], np.arange(n_elastic)),
                ),
                shape=(row_ids.size, n_elastic),
            ),
        ],
        format="csc",
    )
    small = highspy.HighsLp()
    small.num_col_, small.num_row_ = int(col_ids.size + n_elastic), int(row_ids.size)
    small.col_cost_ = np.concatenate((cost[col_ids], np.full(n_elastic, penalty)))
    small.col_lower_ = np.concatenate((col_lower[col_ids], np.zeros(n_elastic)))
    small.col_upper_ = np.concatenate((col_upper[col_ids], np.full(n_elastic, math.inf)))
    small.row_lower_, small.row_upper_ = row_lower[row_ids], row_upper[row_ids]
    small.offset_ = float(lp.offset_)
    small.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    small.a_matrix_.start_ = sub.indptr
    small.a_matrix_.index_ = sub.indices
    small.a_matrix_.value_ = sub.data
    h = live._copy(small, math.inf, 0.0)
    if h is not None:
        for name, value in START_LP_OPTIONS.items():
            h.setOptionValue(name, value)
    waiting = np.flatnonzero(~row_in)
    strategy = DUAL_SIMPLEX
    while h is not None:
        h.setOptionValue("simplex_strategy", strategy)
        h.run()
        status = h.getModelStatus()
        out = np.flatnonzero(local_col < 0)
        if status != highspy.HighsModelStatus.kOptimal:
            if not out.size or status not in _NO_SOLUTION:
                return None  # (an LP stopped early has no bound either)
            _add_columns(h, a, out, cost, col_lower, col_upper, local_row, local_col)
            strategy = PRIMAL_SIMPLEX
            continue
        solution = h.getSolution()
        values = np.asarray(solution.col_value)
        x = np.zeros(n_col)
        x[local_col >= 0] = values[local_col[local_col >= 0]]
        y = np.zeros(n_row)
        y[local_row >= 0] = np.asarray(solution.row_dual)[local_row[local_row >= 0]]
        activity = by_row[waiting] @ x
        slack = PRICING_TOLERANCE * np.maximum(1.0, np.abs(activity))
        broken = (activity < row_lower[waiting] - slack) | (activity > row_upper[waiting] + slack)
        if pruned.size:  # once, after the first solve: then priced like the others
            _prune(h, pruned, x, cost - a.T @ y, cover, local_col, elastic)
            pruned = pruned[:0]
            out = np.flatnonzero(local_col < 0)
        reduced = cost[out] - a[:, out].T @ y
        priced = _most_negative(out, reduced, cover)
        if not broken.any() and not priced.size:
            if not n_elastic or np.all(values[elastic] <= PRICING_TOLERANCE):
                return x, local_col >= 0, cost - a.T @ y
            # the penalty was not enough (or the LP has no solution): every column in, the
            # elastic columns out, and on
            h.changeColsBounds(
                n_elastic, elastic.astype(np.int32), np.zeros(n_elastic), np.zeros(n_elastic)
            )
            n_elastic = 0
            priced = out
        back = waiting[broken]
        waiting = waiting[~broken]
        if back.size:  # rows first: the columns are priced again under the next duals
            _add_rows(h, by_row, back, row_lower, row_upper, local_row, local_col)
            strategy = DUAL_SIMPLEX
        elif priced.size:
            _add_columns(h, a, priced, cost, col_lower, col_upper, local_row, local_col)
            strategy = PRIMAL_SIMPLEX
    return None


def _prune(
    h: highspy.Highs,
    pruned: np.ndarray,
    x: np.ndarray,
    reduced: np.ndarray,
    cover: np.ndarray,
    local_col: np.ndarray,
    elastic: np.ndarray,
) -> None:
    """The columns of ``pruned`` the LP holds at 0 with a positive reduced cost (nonbasic:
    HiGHS keeps its basis) deleted from ``h``, but for the ``PRICED_PER_ROW`` lowest of each
    row they help to meet; the held indices renumbered."""
    drop = pruned[(local_col[pruned] >= 0) & (x[pruned] == 0.0)]
    drop = drop[reduced[drop] > PRICING_TOLERANCE]
    drop = drop[(_rank(drop, reduced[drop], cover) >= PRICED_PER_ROW) | (cover[drop] < 0)]
    if not drop.size:
        return
    keep = np.ones(h.getNumCol(), dtype=bool)
    keep[local_col[drop]] = False
    h.deleteCols(drop.size, np.sort(local_col[drop]).astype(np.int32))
    renumber = np.cumsum(keep) - 1
    held = local_col >= 0
    local_col[held] = renumber[local_col[held]]
    local_col[drop] = -1
    elastic[:] = renumber[elastic]


def _most_negative(out: np.ndarray, reduced: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """The left-out columns ``out`` to price in: of those with a negative reduced cost, the
    ``PRICED_PER_ROW`` most negative of each row they help to meet (``cover``, -1 for none:
    all of those)."""
    negative = reduced < -PRICING_TOLERANCE
    out, reduced = out[negative], reduced[negative]
    keep = (_rank(out, reduced, cover) < max(PRICED_PER_ROW, 1)) | (cover[out] < 0)
    return out[keep]


def _rank(cols: np.ndarray, score: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Each column's rank by ``score`` (0 the lowest) among ``cols`` of its ``cover`` row."""
    rows = cover[cols]
    order = np.lexsort((score, rows))
    first = np.searchsorted(rows[order], rows[order], side="left")
    rank = np.empty(cols.size, dtype=np.int64)
    rank[order] = np.arange(cols.size) - first
    return rank


_NO_SOLUTION = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


def _kept(
    part: sparse.csr_matrix | sparse.csc_matrix, local: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, indices and values of ``part``'s entries whose index is held (``local`` >=
    0), renumbered to the held LP's order: rows of a CSR part, columns of a CSC part."""
    index = local[part.indices]
    keep = index >= 0
    major = np.repeat(np.arange(len(part.indptr) - 1), np.diff(part.indptr))
    counts = np.bincount(major[keep], minlength=len(part.indptr) - 1)
    starts = np.concatenate(([0], np.cumsum(counts)))
    return starts.astype(np.int32), index[keep].astype(np.int32), part.data[keep].astype(float)


def _add_rows(
    h: highspy.Highs,
    by_row: sparse.csr_matrix,
    back: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    local_row: np.ndarray,
    local_col: np.ndarray,
) -> None:
    """Rows ``back`` of the whole LP added to ``h`` (their entries in held columns)."""
    starts, index, values = _kept(by_row[back], local_col)
    h.addRows(back.size, lower[back], upper[back], index.size, starts, index, values)
    local_row[back] = h.getNumRow() - back.size + np.arange(back.size)


def _add_columns(
    h: highspy.Highs,
    a: sparse.csc_matrix,
    new: np.ndarray,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    local_row: np.ndarray,
    local_col: np.ndarray,
) -> None:
    """Columns ``new`` of the whole LP added to ``h`` (their entries in held rows)."""
    starts, index, values = _kept(a[:, new], local_row)
    h.addCols(new.size, cost[new], lower[new], upper[new], index.size, starts, index, values)
    local_col[new] = h.getNumCol() - new.size + np.arange(new.size)


def _interrupt_on(highs: highspy.Highs, cancel: threading.Event) -> None:
    """HiGHS asks its interrupt callbacks (simplex, IPM, MIP) whether to stop."""

    def interrupt(event: Any) -> None:
        if cancel.is_set():
            event.interrupt()

    highs.cbSimplexInterrupt += interrupt
    highs.cbIpmInterrupt += interrupt
    highs.cbMipInterrupt += interrupt


def _file_name(name: str) -> str:
    """A Pyomo name as LP and MPS files accept it: ``phasing.it_mw(a,liq,2026H2)``."""
    return re.sub(r"[^A-Za-z0-9_.(),]", "_", name.replace("[", "(").replace("]", ")"))


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 1
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out


def compiled(model: pyo.ConcreteModel, with_costs: bool = True) -> LinearStandardFormInfo:
    """``model`` in Pyomo's mixed standard form (``LinearStandardFormCompiler``), with the
    families a concern also holds as arrays (``model.array_rows``,
    :class:`formulations.core.ArrayRows`) compiled from those arrays: the same matrix, rows and
    columns, where the compiler puts them, without walking their expressions (at 1,000 sites x
    200 regions the demand block's three families, 4 M entries: hand-off 45.2 -> 19.4 CPU s,
    benchmarks/RESULTS.md). A fixed variable is a constant, moved to the row's bound as the
    compiler moves it (a re-plan fixes ``site_open`` in its committed periods). A family
    with a row switched off or rewritten since it was made (``ArrayRows.states_its_rows``) is
    compiled by Pyomo; with a variable in no other row or a row left without a variable, the
    whole model is (which then also raises for an infeasible constant row).

    Likewise a cost term held as arrays (``model.array_costs``,
    :class:`formulations.core.ArrayCost`) where it stands in the objective as it is: the
    compiler sees its first coefficient x variable only (so it numbers the term's columns as
    before), and the others are added from the arrays (at 1,000 sites x 200 regions the
    serving cost's 881 k terms: hand-off 18.2-18.7 -> 15.4 CPU s); a term set anew since it
    was made is compiled by Pyomo. ``with_costs=False`` compiles every cost term with Pyomo."""
    held = [f for f in getattr(model, "array_rows", ()) if f.states_its_rows()]
    objective, stand_in, costs = _costs_in_objective(model) if with_costs else (None, None, [])
    if not held and not costs:
        return _by_pyomo(model)
    # the compiler's order of rows: by component, as its default (ORDERED) sorts them
    components = model.component_objects(
        pyo.Constraint, active=True, sort=SortComponents.ORDERED_INDICES
    )
    order = {id(c): k for k, c in enumerate(components)}
    # the held families switched off as components only (the compiler then skips them
    # whole), not row by row as ``deactivate`` does: 1.4 CPU s for the 830 k rows at 1,000
    # sites x 200 regions, off and on again
    for family in held:
        ActiveComponent.deactivate(family.constraint)
    if objective is not None:
        whole, objective.expr = objective.expr, stand_in
    try:
        form = _by_pyomo(model)
    finally:
        for family in held:
            ActiveComponent.activate(family.constraint)
        if objective is not None:
            objective.expr = whole
    for cost in costs:
        with_cost = _cost_columns(form, cost)
        if with_cost is None:  # its columns are not where the compiler puts them: by Pyomo
            return compiled(model, with_costs=False)
        form = with_cost
    column = {id(v): j for j, v in enumerate(form.columns)}
    parts = []
    for family in held:
        variables, coefficients, rows = family.variables, family.coefficients, family.rows
        cols = np.fromiter((column.get(id(v), -1) for v in variables), np.int64, len(variables))
        out = np.flatnonzero(cols < 0)
        if any(not variables[e].fixed for e in out):  # in no other row: not a column
            return _by_pyomo(model)
        # a fixed variable is a constant, moved to the bound as the compiler moves it
        fixed = np.array([variables[e].value for e in out], dtype=float)
        n = len(family.bound)
        bound = family.bound - np.bincount(rows[out], coefficients[out] * fixed, minlength=n)
        keep = cols >= 0
        if np.bincount(rows[keep], minlength=n).min() == 0:  # a row without a variable
            return _by_pyomo(model)
        entries = sparse.csr_matrix(
            (coefficients[keep], (rows[keep], cols[keep])), shape=(n, len(form.columns))
        )
        parts.append((order[id(family.constraint)], family, entries, bound))
    rows_of = [order[id(row.constraint.parent_component())] for row in form.rows]
    a = form.A.tocsr()
    rhs = np.asarray(form.rhs, dtype=float)
    blocks, row_entries, rhs_parts, at = [], [], [], 0
    for k, family, entries, bound in sorted(parts, key=lambda part: part[0]):
        position = bisect.bisect_right(rows_of, k)  # after the rows of earlier components
        blocks += [a[at:position], entries]
        sense = SENSES[family.sense]
        row_entries += form.rows[at:position]
        row_entries += [RowEntry(con, sense) for con in family.constraint.values()]
        rhs_parts += [rhs[at:position], bound]
        at = position
    blocks.append(a[at:])
    row_entries += form.rows[at:]
    rhs_parts.append(rhs[at:])
    matrix = sparse.vstack(blocks, format="csc")
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return LinearStandardFormInfo(
        form.c,
        form.c_offset,
        matrix,
        np.concatenate(rhs_parts),
        row_entries,
        form.columns,
        form.objectives,
        form.eliminated_vars,
    )


def _costs_in_objective(model: pyo.ConcreteModel) -> tuple[Any, Any, list[Any]]:
    """The model's one active objective, its expression with each cost term held as arrays
    (``model.array_costs``, :class:`formulations.core.ArrayCost`) that stands in it once, as a
    direct part of its sums, replaced by its first coefficient x variable, and those terms;
    (None, None, []) if none does. The compiler meets the term's variable component where it
    met it before, so it numbers its columns as before (every index of a component at once,
    when it first meets one of them)."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    costs = getattr(model, "array_costs", ())
    if len(objectives) != 1 or not costs:
        return None, None, []
    expr, found = objectives[0].expr, []
    for cost in costs:
        first = cost.variables[0] if cost.variables else None
        if first is None or first.fixed or not cost.states_its_term():
            continue
        replaced, times = _replaced(expr, cost.expression, float(cost.coefficients[0]) * first)
        if times == 1:
            expr = replaced
            found.append(cost)
    return (objectives[0], expr, found) if found else (None, None, [])


def _replaced(expr: Any, target: Any, by: Any) -> tuple[Any, int]:
    """``expr`` with ``target`` replaced by ``by`` where it is a part of its sums and named
    expressions (not further down), and how many times."""
    if expr is target:
        return by, 1
    if expr.__class__ in native_types or isinstance(expr, LinearExpression):
        return expr, 0  # (a LinearExpression holds no named expression)
    if expr.is_named_expression_type():
        inner, times = _replaced(expr.expr, target, by)
        return (inner if times else expr), times
    if isinstance(expr, SumExpression):
        parts = [_replaced(arg, target, by) for arg in expr.args]
        times = sum(t for _, t in parts)
        return (SumExpression([p for p, _ in parts]) if times else expr), times
    return expr, 0


def _cost_columns(form: LinearStandardFormInfo, cost: Any) -> LinearStandardFormInfo | None:
    """``form``, compiled with ``cost``'s term replaced by its first coefficient x variable,
    with the term's other variables added as the columns the compiler gives them (right after
    the first, in their component's order; a fixed one is a constant, to the objective's
    offset) and their coefficients; None if the first is not a column or another one already
    is."""
    column = {id(v): j for j, v in enumerate(form.columns)}
    at = column.get(id(cost.variables[0]))
    rest = cost.variables[1:]
    if at is None or form.c.shape[0] != 1 or any(id(v) in column for v in rest):
        return None
    free = np.array([not v.fixed for v in rest], dtype=bool)
    added = [v for v, keep in zip(rest, free.tolist(), strict=True) if keep]
    coefficients = np.asarray(cost.coefficients[1:], dtype=float)
    values = np.array([v.value for v, keep in zip(rest, free, strict=True) if not keep], float)
    offset = np.asarray(form.c_offset, dtype=float) + coefficients[~free] @ values
    a = form.A.tocsc()
    start = np.concatenate(
        (a.indptr[: at + 2], np.full(len(added), a.indptr[at + 1]), a.indptr[at + 2 :])
    )
    n = a.shape[1] + len(added)
    matrix = sparse.csc_matrix((a.data, a.indices, start), shape=(a.shape[0], n))
    c = form.c.toarray()[0]
    c = np.concatenate((c[: at + 1], coefficients[free], c[at + 1 :]))
    columns = [*form.columns[: at + 1], *added, *form.columns[at + 1 :]]
    return LinearStandardFormInfo(
        form.c.__class__(c.reshape(1, n)),  # (as the compiler gave it: csr or csc)
        offset,
        matrix,
        form.rhs,
        form.rows,
        columns,
        form.objectives,
        form.eliminated_vars,
    )


def _by_pyomo(model: pyo.ConcreteModel) -> LinearStandardFormInfo:
    """``model`` compiled by Pyomo's compiler alone (mixed form: rows keep their sense)."""
    return LinearStandardFormCompiler().write(model, mixed_form=True)


def _highs_lp(form: Any, integer: np.ndarray) -> highspy.HighsLp:
    columns = form.columns
    n_col, n_row = len(columns), form.A.shape[0]
    sense = np.array([r.bound_type for r in form.rows], dtype=int)
    rhs = np.asarray(form.rhs, dtype=float)
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = form.c.toarray()[0] if n_col else np.zeros(0)
    lp.offset_ = float(form.c_offset[0]) if len(form.c_offset) else 0.0
    lower, upper = zip(*(v.bounds for v in columns), strict=True) if n_col else ((), ())
    lp.col_lower_ = np.array([-math.inf if b is None else b for b in lower], dtype=float)
    lp.col_upper_ = np.array([math.inf if b is None else b for b in upper], dtype=float)
    lp.row_lower_ = np.where(sense >= 0, np.where(sense == 0, rhs, -math.inf), rhs)
    lp.row_upper_ = np.where(sense <= 0, np.where(sense == 0, rhs, math.inf), rhs)
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
    return lp


def _set_start(highs: highspy.Highs, columns: list[pyo.Var]) -> None:
    """Pass the variables' current values as a (partial) MIP start; HiGHS completes it."""
    known = [(i, float(v.value)) for i, v in enumerate(columns) if v.value is not None]
    if known:
        index, value = zip(*known, strict=True)
        highs.setSolution(len(known), np.array(index, dtype=np.int32), np.array(value))


def _accepted_start(log: list[str]) -> float | None:
    """The start's objective from HiGHS's "MIP start solution is feasible, objective value
    is X" line, None if it did not accept the start."""
    found = re.search(r"MIP start solution is feasible, objective value is (\S+)", "".join(log))
    return float(found.group(1)) if found else None


def _zero_unused(model: pyo.ConcreteModel) -> None:
    """Variables the compiler dropped (in no row and not in the objective) are at 0."""
    for component in model.component_objects(pyo.Var, descend_into=True):
        for var in component.values():  # (faster than component_data_objects, the same vars)
            if var.value is None:
                lb = var.lb
                var.set_value(0.0 if lb is None or lb <= 0 else lb, skip_validation=True)


def _coefficient_ranges(a: np.ndarray, cost: np.ndarray, rhs: np.ndarray) -> dict[str, float]:
    def span(x: np.ndarray) -> tuple[float, float]:
        x = np.abs(x[np.isfinite(x) & (x != 0)])
        return (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)

    out = {}
    for name, x in (("matrix", a), ("cost", cost), ("rhs", rhs)):
        low, high = span(np.asarray(x, dtype=float))
        out[f"{name}_min"], out[f"{name}_max"] = low, high
    return out


class ReusableHighs:
    """HiGHS models kept alive across solves (a sweep's cases on one worker, the re-plans of
    a session), keyed by their structure: a new Pyomo model whose structure matches a live
    one is solved by updating that one in place (costs, column and row bounds, matrix values,
    objective offset), keeping what HiGHS holds (its basis); otherwise a new one is built and
    kept (the least recently used of more than ``size`` is dropped).

    *Structure* is the compiled shape: number of columns and rows, the matrix's sparsity
    pattern (column starts and row indices) and which columns are integer. With those equal,
    setting every value of the new arrays makes the model HiGHS holds exactly the one
    :class:`HighsModel` would pass for the new Pyomo model, whatever the columns' names; the
    live model's columns and rows are then mapped to the new Pyomo variables and constraints.
    The new arrays are compared with the model as HiGHS holds it now (not with a copy kept
    aside), so changes made to it since (fixed decisions for marginal values, a column
    bound) are undone by the same update. A sweep whose axes change the structure (a
    headroom multiplier that removes a block) keeps one live model per structure. Rows a cut
    loop appended to a live model (``HighsModel.solve``) are deleted first."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.models: dict[bytes, HighsModel] = {}
        """Live models by structure key, least recently used first."""
        self.live: HighsModel | None = None
        """The model of the last :meth:`load`."""
        self.builds = 0
        """HiGHS models built (passed whole)."""
        self.updates = 0
        """Solves that updated a live model in place."""
        self.changed: dict[str, int] = {}
        """What the last in-place update changed: costs, column bounds, row bounds, matrix
        values (counts); empty after a build."""

    def load(self, model: pyo.ConcreteModel, options: SolveOptions) -> HighsModel:
        """A live HiGHS model of ``model``'s structure updated to it, else a new one."""
        start = time.perf_counter()
        if not self.models:
            return self._build(model, options)
        try:
            form = compiled(model)
        except InfeasibleConstraintException:
            return self._build(model, options)
        columns = list(form.columns)
        integer = np.array([v.is_integer() for v in columns], dtype=bool)
        new = _highs_lp(form, integer)
        key = _structure_key(new)
        live = self.models.pop(key, None)
        if live is None:
            return self._build(model, options)
        held = live.highs.getLp()
        if held.num_row_ > new.num_row_:  # the cuts of its cut loops, appended: dropped (the
            # new model's data may differ; its own loop adds the cuts it needs)
            cuts = np.arange(new.num_row_, held.num_row_, dtype=np.int32)
            live.highs.deleteRows(len(cuts), cuts)
            held = live.highs.getLp()
        if not _same_structure(held, new):  # changed since it was kept: not reusable
            return self._build(model, options)
        self.models[key] = live  # most recently used last
        self.changed = _update(live.highs, held, new)
        live.model, live.columns, live.integer = model, columns, integer
        live.row_of = {}
        for i, row in enumerate(form.rows):
            live.row_of.setdefault(row.constraint, i)
        live.nonzeros = int(form.A.nnz)
        live.numerics = _coefficient_ranges(form.A.data, new.col_cost_, np.asarray(form.rhs))
        live.start_accepted = False
        _reconfigure(live, options)
        live.handoff_seconds = time.perf_counter() - start
        self.updates += 1
        self.live = live
        return live

    def _build(self, model: pyo.ConcreteModel, options: SolveOptions) -> HighsModel:
        live = HighsModel(model, options)
        self.builds += 1
        self.changed = {}
        self.live = live
        if live.columns and not live.infeasible_message:
            self.models[_structure_key(live.highs.getLp())] = live
            while len(self.models) > self.size:
                del self.models[next(iter(self.models))]
        return live


def _structure_key(lp: highspy.HighsLp) -> bytes:
    """A digest of the structure (see :class:`ReusableHighs`)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.array([lp.num_col_, lp.num_row_], dtype=np.int64).tobytes())
    h.update(np.asarray(lp.a_matrix_.start_, dtype=np.int64).tobytes())
    h.update(np.asarray(lp.a_matrix_.index_, dtype=np.int64).tobytes())
    kinds = [t != highspy.HighsVarType.kContinuous for t in lp.integrality_]
    h.update(np.array(kinds or [False] * lp.num_col_, dtype=bool).tobytes())
    return h.digest()


def _same_structure(held: highspy.HighsLp, new: highspy.HighsLp) -> bool:
    """Same columns, rows, sparsity pattern and integrality (see :class:`ReusableHighs`)."""
    if (held.num_col_, held.num_row_) != (new.num_col_, new.num_row_):
        return False
    a, b = held.a_matrix_, new.a_matrix_
    if a.format_ != highspy.MatrixFormat.kColwise:
        return False
    same = np.array_equal(np.asarray(a.start_), np.asarray(b.start_)) and np.array_equal(
        np.asarray(a.index_), np.asarray(b.index_)
    )
    held_int = [t != highspy.HighsVarType.kContinuous for t in held.integrality_]
    new_int = [t != highspy.HighsVarType.kContinuous for t in new.integrality_]
    return same and (held_int or [False] * held.num_col_) == (new_int or [False] * new.num_col_)


def _update(h: highspy.Highs, held: highspy.HighsLp, new: highspy.HighsLp) -> dict[str, int]:
    """Change in ``h`` every coefficient where ``new`` differs from ``held``; returns counts."""

    def differ(x: Any, y: Any) -> np.ndarray:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return np.flatnonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))

    cost = np.asarray(new.col_cost_, dtype=float)
    j = differ(held.col_cost_, cost)
    if j.size:
        h.changeColsCost(j.size, j.astype(np.int32), cost[j])
    lower, upper = np.asarray(new.col_lower_, float), np.asarray(new.col_upper_, float)
    jb = np.union1d(differ(held.col_lower_, lower), differ(held.col_upper_, upper))
    if jb.size:
        h.changeColsBounds(jb.size, jb.astype(np.int32), lower[jb], upper[jb])
    row_lower, row_upper = np.asarray(new.row_lower_, float), np.asarray(new.row_upper_, float)
    ib = np.union1d(differ(held.row_lower_, row_lower), differ(held.row_upper_, row_upper))
    if ib.size:
        # highspy 1.15 has changeRowsBounds, its type stubs do not
        h.changeRowsBounds(ib.size, ib.astype(np.int32), row_lower[ib], row_upper[ib])  # type: ignore[attr-defined]
    values = np.asarray(new.a_matrix_.value_, dtype=float)
    k = differ(held.a_matrix_.value_, values)
    if k.size:
        starts = np.asarray(new.a_matrix_.start_)
        col_of = np.searchsorted(starts, k, side="right") - 1
        rows = np.asarray(new.a_matrix_.index_)[k]
        for i, c, v in zip(rows.tolist(), col_of.tolist(), values[k].tolist(), strict=True):
            h.changeCoeff(int(i), int(c), float(v))
    if float(held.offset_) != float(new.offset_):
        h.changeObjectiveOffset(float(new.offset_))
    return {
        "costs": int(j.size),
        "column_bounds": int(jb.size),
        "row_bounds": int(ib.size),
        "matrix_values": int(k.size),
    }


def _reconfigure(live: HighsModel, options: SolveOptions) -> None:
    """The live model's options and callbacks set to ``options``, as a new one's would be."""
    h = live.highs
    for callback in (
        h.cbSimplexInterrupt,
        h.cbIpmInterrupt,
        h.cbMipInterrupt,
        h.cbMipImprovingSolution,
    ):
        callback.clear()
    live.options = options
    live.configure(options)


def violated_constraints(live: HighsModel, tol: float = 1e-6) -> list[Any]:
    """The constraints whose rows the Pyomo variables' current values break, in row order,
    computed on the arrays HiGHS holds (a row with a column without value is not checked;
    fixed variables are in the row bounds). A row breaks by more than ``tol`` times its
    activity (at least 1)."""
    if not live.columns:
        return []
    lp = live.highs.getLp()
    x = np.array([np.nan if v.value is None else float(v.value) for v in live.columns])
    activity = _matrix(lp) @ x
    scale = tol * np.maximum(1.0, np.abs(activity))
    with np.errstate(invalid="ignore"):
        broken = (activity < np.asarray(lp.row_lower_) - scale) | (
            activity > np.asarray(lp.row_upper_) + scale
        )
    if not broken.any():
        return []
    rows = {int(i) for i in np.flatnonzero(broken)}
    found = [(i, con) for con, i in live.row_of.items() if i in rows]
    return [con for _, con in sorted(found, key=lambda pair: pair[0])]


def _matrix(lp: highspy.HighsLp) -> sparse.csc_matrix | sparse.csr_matrix:
    """The constraint matrix of ``lp`` as scipy holds it (rows x columns)."""
    m = lp.a_matrix_
    parts = (np.asarray(m.value_, dtype=float), np.asarray(m.index_), np.asarray(m.start_))
    shape = (int(lp.num_row_), int(lp.num_col_))
    if m.format_ == highspy.MatrixFormat.kColwise:
        return sparse.csc_matrix(parts, shape=shape)
    return sparse.csr_matrix(parts, shape=shape)


def feasibility_test() -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], bool]:
    """``feasible(a_ub, b_ub, a_eq, b_eq)``: whether some x >= 0 has ``a_ub x <= b_ub`` and
    ``a_eq x = b_eq`` (dense arrays), by HiGHS's dual simplex without presolve, one HiGHS
    instance for every call. The LP of ``scipy.optimize.linprog(0, a_ub, b_ub, a_eq, b_eq,
    method="highs-ds")`` (the same rows in the same order), without scipy's input checks and
    conversions and HiGHS's presolve, which cost more than the solve for the thousands of
    small LPs of ``optimizer.prepare``'s hull test: at 1,000 sites x 200 regions (125 zones,
    2,968 LPs, the same answers) the hull test takes 6.0 s of CPU against 16.6 with
    ``linprog`` (benchmarks/RESULTS.md)."""
    h = highspy.Highs()
    for option, value in (("output_flag", False), ("solver", "simplex"), ("presolve", "off")):
        h.setOptionValue(option, value)
    h.setOptionValue("simplex_strategy", DUAL_SIMPLEX)

    def feasible(a_ub: np.ndarray, b_ub: np.ndarray, a_eq: np.ndarray, b_eq: np.ndarray) -> bool:
        a = np.vstack((a_ub, a_eq)).T  # column by column
        nonzero = a != 0
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape
        lp.col_cost_ = np.zeros(a.shape[0])
        lp.col_lower_ = np.zeros(a.shape[0])
        lp.col_upper_ = np.full(a.shape[0], math.inf)
        lp.row_lower_ = np.concatenate((np.full(len(b_ub), -math.inf), b_eq))
        lp.row_upper_ = np.concatenate((b_ub, b_eq))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(nonzero.sum(axis=1))))
        lp.a_matrix_.index_ = np.nonzero(nonzero)[1]
        lp.a_matrix_.value_ = a[nonzero]
        h.passModel(lp)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    return feasible
