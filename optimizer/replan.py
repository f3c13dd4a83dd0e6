"""Rolling re-plans: solve a changed scenario keeping what a previous plan already committed.

    plan = reoptimize(load_scenario("data/default"), read_plan("out/q3"), commit_through="2027H2")

What the previous plan decided up to and including ``commit_through`` is fixed
(:mod:`optimizer.commitments`); everything later is re-optimized on the new data. The previous
plan's remainder is HiGHS's MIP start: all of it when it still meets every constraint of the
new model, otherwise (*repaired*) only what it built, opened and bought (its positive values),
less any campus or upgrade that breaks a constraint on its own, and HiGHS completes the rest.
``plan.result.start_objective_musd`` (HiGHS's log) and ``first_incumbent_musd`` say what HiGHS
made of the start. A re-plan that cannot hold its commitments is infeasible and diagnosed
with the commitments as relaxable families, so the diagnosis names them.

In a live Python session, :class:`Session` keeps one HiGHS model across solves and re-plans:
a re-plan whose model differs from the previous one only in coefficients (prices, targets,
limits) updates it in place (:class:`optimizer.solver.ReusableHighs`) instead of passing a new
one; a structural change (another horizon, commitment date, upgrade set) rebuilds it.

    session = Session()
    base = session.solve(scenario)
    plan = session.reoptimize(changed, base, "2027H2")   # in place if only coefficients changed
"""

from __future__ import annotations

import time
from dataclasses import replace

import pyomo.environ as pyo
import xarray as xr
from pyomo.core.expr.visitor import identify_variables

from formulations import build_model
from formulations.core import positions
from formulations.core import previous as previous_period
from optimizer.api import gc_paused, options_for, solve
from optimizer.commitments import Commitments, commitments_from
from optimizer.diagnose import diagnose
from optimizer.extract import extract_plan
from optimizer.numerics import numerics_warnings
from optimizer.periods import Period
from optimizer.plan import Plan
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import HighsModel, ReusableHighs, SolveOptions, violated_constraints


@gc_paused
def reoptimize(
    scenario: Scenario,
    previous: Plan,
    commit_through: str,
    options: SolveOptions | None = None,
    *,
    start: bool = True,
    reuse: ReusableHighs | None = None,
) -> Plan:
    """Re-plan ``scenario`` keeping what ``previous`` decided through ``commit_through``;
    ``start=False`` gives HiGHS no MIP start (to measure what the start is worth); ``reuse``
    updates its live HiGHS model in place when only coefficients changed (:class:`Session`).

    Raises ``ValueError`` when the period is not in both horizons or the previous plan has no
    solution."""
    options = options or options_for(scenario)
    begin = time.perf_counter()
    data = prepare(scenario)
    if commit_through not in [str(p) for p in data["period"].to_numpy()]:
        raise ValueError(f"commit-through period {commit_through} is not in the scenario horizon")
    commitments = commitments_from(previous, commit_through, data)
    _keep_committed_cooling(data, commitments)
    model = build_model(data)
    broken = commitments.fix(model)
    if broken:  # HiGHS then reports the model infeasible, and the diagnosis says why
        model.commitments_hold = pyo.Constraint(rule=lambda _: pyo.Constraint.Infeasible)
    build_seconds = time.perf_counter() - begin
    warm = replace(options, warm_start=start)
    highs = HighsModel(model, warm) if reuse is None else reuse.load(model, warm)
    seeding = time.perf_counter()
    repaired = _seed(model, previous, data, highs) if start else ""
    build_seconds += time.perf_counter() - seeding
    result = highs.solve()
    plan = extract_plan(model, data, result, build_seconds)
    plan.warnings = numerics_warnings(data) + [f"broken commitment: {b.message}" for b in broken]
    plan.warnings += commitments.notes
    if repaired:
        plan.warnings.append(
            "the previous plan does not meet the new data after "
            f"{commit_through} ({repaired}): the start is what it built, opened and bought"
        )
    plan.dataset.attrs["commit_through"] = commit_through
    if plan.status == "infeasible":
        diagnosis = diagnose(scenario, options, commitments=[commitments.concern()])
        if broken:  # objects the model no longer has: named first, whatever else relaxes
            diagnosis.feasible = False
            diagnosis.relaxations[:0] = broken
        plan.diagnosis = diagnosis.to_dict()
    return plan


class Session:
    """Solves and re-plans in a live Python session that share one HiGHS model, updated in
    place where only coefficients change (see the module docstring)."""

    def __init__(self) -> None:
        self.highs = ReusableHighs()

    def solve(self, scenario: Scenario, options: SolveOptions | None = None) -> Plan:
        """:func:`optimizer.solve` on the session's HiGHS model."""
        return solve(scenario, options, reuse=self.highs)

    def reoptimize(
        self,
        scenario: Scenario,
        previous: Plan,
        commit_through: str,
        options: SolveOptions | None = None,
        *,
        start: bool = True,
    ) -> Plan:
        """:func:`reoptimize` on the session's HiGHS model."""
        return reoptimize(
            scenario, previous, commit_through, options, start=start, reuse=self.highs
        )

    @property
    def updates(self) -> int:
        """Solves that updated the live HiGHS model in place (not rebuilt)."""
        return self.highs.updates

    @property
    def builds(self) -> int:
        """HiGHS models built whole."""
        return self.highs.builds


def _keep_committed_cooling(data: xr.Dataset, commitments: Commitments) -> None:
    """A technology the previous plan energized through the committed periods stays in the
    model even where it is dominated (``optimizer.prepare._add_dominated_cooling``)."""
    dominated = data["cooling_dominated"].to_numpy().copy()
    site, cooling = positions(data, "site"), positions(data, "cooling")
    for s, k, _ in (key for key, mw in commitments.it_mw.items() if mw > 0):
        if s in site and k in cooling:
            dominated[site[s], cooling[k]] = False
    data["cooling_dominated"] = (("site", "cooling"), dominated)


def _seed(model: pyo.ConcreteModel, previous: Plan, data: xr.Dataset, highs: HighsModel) -> str:
    """Load the previous plan into the free variables as a MIP start, repaired if it breaks a
    constraint of the new model (checked on the arrays ``highs`` holds). Returns the first
    broken constraint ('' if none)."""
    ds = previous.dataset
    periods = previous.periods
    sites = {str(s): i for i, s in enumerate(ds["site"].to_numpy())}
    coolings = {str(k): j for j, k in enumerate(ds["cooling"].to_numpy())}
    it = ds["it_mw_by_cooling"].to_numpy()
    block = float(data.attrs["block_it_mw"])

    def it_mw(s: str, k: str, p: str) -> float:
        if s not in sites or k not in coolings:
            return 0.0
        # After the previous horizon, the previous plan's last capacity.
        q = periods.index(p) if p in periods else len(periods) - 1
        return float(it[sites[s], coolings[k], q])

    for (s, k, p), var in model.phasing.it_mw.items():
        _start(var, it_mw(s, k, p))
    for (s, k, p), var in getattr(model.phasing, "blocks_online", {}).items():
        _start(var, round(it_mw(s, k, p) / block))
    new = getattr(model.phasing, "new_blocks", None) or model.phasing.new_it_mw
    for (s, k, p), var in new.items():
        before = previous_period(model, p)
        added = it_mw(s, k, p) - (it_mw(s, k, before) if before else 0.0)
        _start(var, round(added / block) if block > 0 else added)
    developed = dict(zip(sites, ds["site_development_period"].to_numpy(), strict=True))
    for (s, p), var in model.siting.site_open.items():
        when = str(developed.get(s, ""))
        _start(var, 1.0 if when and Period.parse(when) <= Period.parse(p) else 0.0)
    cooling = dict(zip(sites, ds["site_cooling"].to_numpy(), strict=True))
    for (s, k), var in model.cooling.cooling_chosen.items():
        _start(var, 1.0 if str(cooling.get(s, "")) == k else 0.0)
    online = dict(
        zip(map(str, ds["upgrade"].to_numpy()), ds["upgrade_online_period"].to_numpy(), strict=True)
    )
    for (u, p), var in model.interconnection.upgrade_online.items():
        when = str(online.get(u, ""))
        _start(var, 1.0 if when and Period.parse(when) <= Period.parse(p) else 0.0)
    _seed_capacity(model, ds, periods)
    violated = violated_constraints(highs)
    if violated:
        _repair(model, violated)
    return violated[0].name if violated else ""


def _repair(model: pyo.ConcreteModel, violated: list[pyo.Constraint]) -> None:
    """Keep only what the previous plan built, opened and bought (its positive values), and
    nothing of a campus or upgrade named alone in a broken constraint: HiGHS completes the
    rest of the start."""
    dropped = set()
    for con in violated:
        objects = {v.index()[0] for v in identify_variables(con.body) if not v.fixed}
        if len(objects) == 1:
            dropped |= objects
    for var in model.component_data_objects(pyo.Var, active=True):
        if var.fixed or var.value is None:
            continue
        index = var.index()
        first = index[0] if isinstance(index, tuple) else index
        if var.value <= 0 or first in dropped:
            var.set_value(None)


def _seed_capacity(model: pyo.ConcreteModel, ds: xr.Dataset, periods: list[str]) -> None:
    """On-site capacity and contracts of the previous plan, where the new model has them."""
    for name, attr, var_name, dim in (
        ("onsite", "capacity_mw", "onsite_capacity_mw", "onsite"),
        ("clean", "contracted_mw", "contracted_mw", "contract"),
    ):
        block = getattr(model, name, None)
        if block is None or var_name not in ds:
            continue
        values = ds[var_name].to_numpy()
        index = {str(o): i for i, o in enumerate(ds[dim].to_numpy())}
        for (o, p), var in getattr(block, attr).items():
            if o in index and p in periods:
                _start(var, float(values[index[o], periods.index(p)]))


def _start(var: pyo.Var, value: float) -> None:
    if not var.fixed:
        var.set_value(value, skip_validation=True)
