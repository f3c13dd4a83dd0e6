"""The Python API: load a scenario, solve it, get a plan.

from optimizer import load_scenario, solve
plan = solve(load_scenario("data/default"))
plan.sites, plan.build, plan.totals, plan.dataset

A planner's own concerns (a custom limit, a new cost term) go in ``extra``
(:class:`formulations.Concern`; README "Your own constraints").
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

# Imported where used: the command line reads DEFAULT_SCENARIO without the solver stack.
if TYPE_CHECKING:
    import pandas as pd

    from formulations import Concern
    from optimizer.plan import Plan
    from optimizer.scenario import Scenario
    from optimizer.solver import ReusableHighs, SolveOptions

DEFAULT_SCENARIO = (Path(__file__).resolve().parent / "default").resolve()
"""The bundled default scenario: ``data/default`` in a checkout (``optimizer/default`` links
to it), the copy inside the package where gridsite is installed from a wheel."""


F = TypeVar("F", bound=Callable[..., Any])


def gc_paused(run: F) -> F:
    """``run`` with Python's garbage collector paused: a run that builds, solves and reads a
    model. A full collection walks every Pyomo object, millions at 1,000 sites x 200 regions;
    there the pause saves about 7 CPU s (hand-off 21.8 -> 17.4, build 13.8 -> 11.4: the
    build's own pause only put its collection off) for 0.3 GB more peak memory
    (benchmarks/RESULTS.md). The cycles made meanwhile are collected once it resumes, also
    after an error."""

    @functools.wraps(run)
    def paused(*args: Any, **kwargs: Any) -> Any:
        from pyomo.common.gc_manager import PauseGC

        with PauseGC():
            return run(*args, **kwargs)

    return paused  # type: ignore[return-value]


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
    from optimizer.solver import SolveOptions

    s = scenario.config.solver
    return SolveOptions(
        time_limit_s=s.time_limit_s if time_limit_s is None else time_limit_s,
        mip_gap_frac=s.mip_gap_frac if mip_gap_frac is None else mip_gap_frac,
        threads=s.threads if threads is None else threads,
        random_seed=s.random_seed if random_seed is None else random_seed,
        log_to_console=log_to_console,
    )


class OutOfTimeError(Exception):
    """The run's time limit passed before the solve could start; says where the time went."""


@dataclass
class RunClock:
    """A whole run's time limit, checked between its stages (load, prepare, build, hand-off):
    the solve gets what is left. ``stage`` names the stage running now (``plan`` once the
    solve is over)."""

    limit_s: float
    start: float = field(default_factory=time.perf_counter)
    stage: str = "load"
    seconds: dict[str, float] = field(default_factory=dict)
    report: Callable[[str, float], None] | None = None
    """Told each stage and its seconds as it ends (``gridsite solve --log`` prints them)."""

    def next(self, stage: str) -> None:
        """End the current stage and start ``stage``, or stop if the time is up."""
        now = time.perf_counter()
        ended = self.stage
        self.seconds[ended] = now - self.start - sum(self.seconds.values())
        if now - self.start >= self.limit_s:
            spent = ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())
            raise OutOfTimeError(
                f"time limit {self.limit_s:g} s used up before {stage} ({spent}); "
                "raise --time-limit"
            )
        self.stage = stage
        if self.report is not None:
            self.report(ended, self.seconds[ended])

    @property
    def deadline(self) -> float:
        return self.start + self.limit_s


@gc_paused
def solve(
    scenario: Scenario,
    options: SolveOptions | None = None,
    *,
    marginals: bool = False,
    extra: Sequence[Concern] = (),
    write_model: str | Path | None = None,
    clock: RunClock | None = None,
    reuse: ReusableHighs | None = None,
) -> Plan:
    """Prepare, build and solve ``scenario``; the plan says how the solver stopped.

    Threads above the machine's cores are lowered to them (said in ``plan.warnings``); a
    seed outside HiGHS's range is refused (``ValueError``).
    ``options.time_limit_s`` bounds the whole run (``clock``, if given, was started before
    loading): :class:`OutOfTimeError` if it passes before the solve starts. Setting
    ``options.cancel`` stops the solve and keeps its best plan (status ``interrupted``).
    ``marginals``: also compute marginal values of the binding limits (fixed-decision LP).
    ``extra``: a planner's own concerns, built with the model's (after those they need).
    ``write_model``: also write the model as ``.mps`` or ``.lp`` for another solver.
    ``reuse``: update its live HiGHS model in place when only coefficients changed
    (:class:`optimizer.solver.ReusableHighs`; a sweep worker's, a :class:`Session`'s).
    Implausible values (:mod:`optimizer.plausibility`) and numerically dangerous input are
    named in ``plan.warnings``; an infeasible scenario comes with ``plan.diagnosis``
    (:func:`optimizer.diagnose.diagnose`)."""
    from formulations import build_model
    from optimizer.diagnose import diagnose
    from optimizer.extract import extract_plan
    from optimizer.heuristic import constructive_start, start_wanted
    from optimizer.marginal import marginal_values
    from optimizer.numerics import numerics_warnings
    from optimizer.plausibility import plausibility_warnings
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel, checked_options

    options, notes = checked_options(options or options_for(scenario))
    clock = clock or RunClock(options.time_limit_s, stage="prepare")
    start = time.perf_counter()
    data = prepare(scenario)
    clock.next("build")
    model = build_model(data, extra=extra)
    build_seconds = time.perf_counter() - start
    clock.next("hand-off")
    timed = replace(options, deadline=clock.deadline)
    highs = HighsModel(model, timed) if reuse is None else reuse.load(model, timed)
    unwritten = []
    if write_model is not None and highs.infeasible_message:
        unwritten.append(f"{write_model} not written: {highs.infeasible_message}")
    elif write_model is not None:
        highs.write_model(write_model)
    clock.next("solve")
    begun = time.perf_counter()
    started = start_wanted(options, highs) and constructive_start(model, highs) is not None
    start_seconds = time.perf_counter() - begun
    result = highs.solve(warm_start=True if started else None)
    # the start's LP and repair are part of the solve (at 1,000 sites nearly all of it)
    result = replace(result, solve_seconds=result.solve_seconds + start_seconds)
    clock.stage = "plan"
    plan = extract_plan(model, data, result, build_seconds, extra)
    plan.warnings = (
        notes
        + [str(w) for w in plausibility_warnings(scenario)]
        + numerics_warnings(data, extra)
        + unwritten
    )
    interrupted = options.cancel is not None and options.cancel.is_set()
    if marginals and plan.has_solution and not interrupted:
        plan.marginal_values = marginal_values(model, data, highs, extra)
    if plan.status == "infeasible" and not interrupted:
        clock.stage = "diagnose"
        plan.diagnosis = diagnose(scenario, options, extra).to_dict()
        clock.stage = "plan"
    return plan


# --------------------------------------------------------------------------- trade-offs


def marginal_values(
    scenario: Scenario,
    options: SolveOptions | None = None,
    *,
    kind: str | None = None,
    extra: Sequence[Concern] = (),
) -> pd.DataFrame:
    """Solve ``scenario`` and return its plan's marginal values, highest value first: one
    row per binding limit with ``kind`` (``headroom``, ``zone_limit``, ``ramp``, ``water``,
    ``supply``, ``permit``, or a planner's own), ``subject`` (campus, zone or ``portfolio``),
    ``period``, ``value``, ``unit`` and ``effect`` (sign convention in
    :mod:`optimizer.marginal`). The same table as ``solve(..., marginals=True)`` puts in
    ``plan.marginal_values``; ``kind`` keeps one kind only. Raises ``ValueError`` for a kind
    no concern reports and :class:`~optimizer.pareto.NoPlanError` when there is no plan."""
    from formulations import CONCERNS
    from optimizer.errors import closest
    from optimizer.pareto import NoPlanError

    kinds = sorted(
        {
            f.marginal.kind
            for c in (*CONCERNS, *extra)
            for f in c.families.values()
            if f.marginal is not None
        }
    )
    if kind is not None and kind not in kinds:
        raise ValueError(
            f"no marginal values of kind {kind!r}{closest(kind, kinds)}; "
            f"expected one of {', '.join(kinds)}"
        )
    plan = solve(scenario, options, marginals=True, extra=extra)
    if plan.marginal_values is None:
        raise NoPlanError(f"no plan for this scenario ({plan.status}), so no marginal values")
    values = plan.marginal_values
    if kind is not None:
        values = values[values["kind"] == kind]
    return values.sort_values("value", ascending=False, ignore_index=True)
