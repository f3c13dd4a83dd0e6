"""Why a scenario is infeasible, in the planner's words.

HiGHS's IIS works for LPs only, so a MILP infeasibility is explained by an elastic re-solve
(SWITCH's ``diagnose_infeasibility`` idea), in two stages on one model in which every hard
family has a non-negative slack:

1. **What can be delivered.** Only the portfolio ramp is elastic: minimise the total shortfall.
   Per period: target, most IT MW that can be energized, shortfall.
2. **What would have to give.** The ramp is hard again and every other family is elastic
   (site headroom, zonal import limits, accelerator supply, site maximum, water limits,
   earliest dates and upgrade lead times, air permits of on-site power, the CFE target):
   minimise the weighted relaxation (MW; hm3 of water weighs as 100 MW, a t CO2/yr of permit
   as 1/4,650 MW, a MWh/yr of matched energy as 1/8,760 MW; a date rule weighs half its
   MW-periods, as moving a date is a smaller ask than capacity that does not exist). The
   non-zero slacks, mapped back to campuses, zones, upgrades and periods, are the smallest
   set of relaxations that makes the plan feasible.

Sites whose climate or the liquid platform rules out every cooling technology are reported
from the data, as no relaxation can place IT there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pyomo.environ as pyo
import xarray as xr
from pyomo.core.expr.visitor import identify_variables

from formulations import MODULES, build_model, objective, time_rules
from optimizer.commitments import Commitments, describe
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import SolveOptions, solve_model

#: Relaxable families: constraint component -> (weight per unit of slack, unit, key of the
#: slack: constraints sharing a key share one slack, e.g. a zone's hours in one period).
Key = Callable[[tuple[Any, ...]], Hashable]
_ALL: Key = tuple
WATER_WEIGHT_PER_HM3 = 100.0
#: Moving a date is a smaller ask than capacity that does not exist: time rules weigh half.
TIME_RULE_WEIGHT = 0.5
#: A t CO2/yr of air permit weighs as 1/4,650 MW: 1 MW of gas engines running all year emits
#: about 4,650 t (8,760 h x 0.53 t/MWh).
PERMIT_WEIGHT_PER_T = 1 / 4650
#: A MWh/yr of hourly-matched clean energy weighs as a MW running all year: 1/8,760 MW.
MATCHED_WEIGHT_PER_MWH = 1 / 8760
#: In stage 1 a broken commitment weighs as this many MW of ramp shortfall per unit.
COMMITMENT_WEIGHT = 1000.0


@dataclass(frozen=True)
class Shortfall:
    period: str
    target_it_mw: float
    deliverable_it_mw: float
    short_mw: float


@dataclass(frozen=True)
class Relaxation:
    family: str
    """Constraint family, e.g. ``interconnection.within_zone_limit``."""
    subject: str
    """Campus, zone, upgrade or ``portfolio``."""
    period: str
    amount: float
    unit: str
    message: str


@dataclass
class Diagnosis:
    feasible: bool
    shortfalls: list[Shortfall] = field(default_factory=list)
    relaxations: list[Relaxation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    termination: str = ""

    def lines(self) -> list[str]:
        if self.feasible:
            return ["the scenario is feasible: nothing to diagnose"]
        out = [
            f"{s.period}: portfolio target {s.target_it_mw:,.0f} MW, at most "
            f"{s.deliverable_it_mw:,.0f} MW can be energized - short {s.short_mw:,.0f} MW"
            for s in self.shortfalls
        ]
        if self.relaxations:
            out.append("smallest set of relaxations that makes the scenario feasible:")
            out.extend(f"  {r.message}" for r in self.relaxations)
        out.extend(f"note: {n}" for n in self.notes)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        return {
            "feasible": self.feasible,
            "termination": self.termination,
            "shortfalls": [asdict(s) for s in self.shortfalls],
            "relaxations": [asdict(r) for r in self.relaxations],
            "notes": self.notes,
            "summary": self.lines(),
        }


def diagnose(
    scenario: Scenario, options: SolveOptions, commitments: Commitments | None = None
) -> Diagnosis:
    """Explain why ``scenario`` has no plan (see the module docstring). ``commitments`` (of a
    re-plan) are relaxable too, and come first: stage 1 relaxes them (at
    :data:`COMMITMENT_WEIGHT`) only where the ramp giving way does not suffice."""
    data = _open_time_rules(prepare(scenario))
    modules = [m for m in MODULES if m is not objective] + [time_rules]
    model = build_model(data, modules)
    impossible = _drop_impossible(model, data)
    families = _families(model, data)
    committed: dict[str, tuple[float, str, Key]] = {}
    if commitments is not None:
        impossible += commitments.missing
        added = commitments.add_constraints(model)
        committed = {name: (w, unit, _ALL) for name, (w, unit) in added.items()}
        families.update(committed)
    slacks = {name: _relax(model, name, key) for name, (_, _, key) in families.items()}
    # A campus's maximum also bounds its cooling link (it_mw <= max x cooling_chosen at the
    # last period): the same slack stretches both.
    site_max, last = slacks["phasing.within_site_max"], str(model.PERIODS.last())
    for (s, _), con in model.cooling.uses_chosen.items():
        con.set_value(con.body - site_max[(s, last)] <= con.upper)
    # More headroom at a campus is more grid supply in every row that bounds it: at on-site
    # campuses the grid's hourly share too. (Curtailment never needs it: shedding every IT MW
    # in a stressed hour always meets firm supply.)
    headroom = slacks["interconnection.within_headroom"]
    for (s, p, _), con in getattr(model.interconnection, "grid_delivers", {}).items():
        con.set_value(con.body - headroom[(s, p)] <= con.upper)
    diagnosis = Diagnosis(feasible=False, notes=_data_notes(data) + impossible)
    exact = replace(options, warm_start=False)

    # Stage 1: only the ramp (and, far more costly, a commitment) gives.
    ramp = slacks["phasing.meets_ramp"]
    for name, family in slacks.items():
        if name != "phasing.meets_ramp" and name not in committed:
            for var in family.values():
                var.fix(0)
    model.diagnosis_objective = pyo.Objective(
        expr=sum(ramp.values())
        + COMMITMENT_WEIGHT * sum(sum(slacks[name].values()) for name in committed)
    )
    result = solve_model(model, exact)
    diagnosis.termination = result.termination
    if result.solution == "none":
        diagnosis.notes.append(f"the elastic model did not solve ({result.termination})")
        return diagnosis
    target = data["target_it_mw"].to_numpy()
    delivered: dict[str, float] = defaultdict(float)
    for (_, _, p), var in model.phasing.it_mw.items():
        delivered[p] += float(var.value or 0.0)
    for i, p in enumerate(data["period"].to_numpy()):
        short = float(target[i]) - delivered[str(p)]
        if short > 1e-6:
            diagnosis.shortfalls.append(
                Shortfall(str(p), float(target[i]), delivered[str(p)], short)
            )
    broken = [
        _describe(name, index, float(var.value), unit, data)
        for name, (_, unit, _) in committed.items()
        for index, var in slacks[name].items()
        if float(var.value or 0.0) > 1e-6
    ]
    if broken:  # commitments no ramp can save: they are the answer
        diagnosis.relaxations = broken
        return diagnosis
    if not diagnosis.shortfalls:
        diagnosis.feasible = not impossible
        return diagnosis

    # Stage 2: the ramp holds, everything else gives.
    for var in ramp.values():
        var.fix(0)
    for name, family in slacks.items():
        if name != "phasing.meets_ramp":
            for var in family.values():
                var.unfix()
    model.diagnosis_objective.set_value(
        sum(
            weight * sum(slacks[name].values())
            for name, (weight, _, _) in families.items()
            if name != "phasing.meets_ramp"
        )
    )
    result = solve_model(model, exact)
    if result.solution == "none":
        diagnosis.notes.append(
            f"no relaxation of the listed families meets the ramp ({result.termination})"
        )
        return diagnosis
    for name, (_, unit, _) in families.items():
        if name == "phasing.meets_ramp":
            continue
        for index, var in slacks[name].items():
            amount = float(var.value or 0.0)
            if amount > 1e-6:
                diagnosis.relaxations.append(_describe(name, index, amount, unit, data))
    return diagnosis


# --------------------------------------------------------------------------- building


def _open_time_rules(data: xr.Dataset) -> xr.Dataset:
    """Every campus and upgrade may act from the first period; the rules move to
    ``*_rule_first_index`` for :mod:`formulations.time_rules`."""
    out = data.copy()
    out["site_rule_first_index"] = data["site_first_index"]
    out["upgrade_rule_first_index"] = data["upgrade_first_index"]
    out["site_first_index"] = xr.zeros_like(data["site_first_index"])
    out["upgrade_first_index"] = xr.zeros_like(data["upgrade_first_index"])
    return out


def _drop_impossible(model: pyo.ConcreteModel, data: xr.Dataset) -> list[str]:
    """Constraints no decision can touch (no variable left in them, e.g. inference demand with
    no campus within its latency limit) cannot be relaxed: set them aside and say why."""
    notes = []
    for con in model.component_data_objects(pyo.Constraint, active=True):
        if next(identify_variables(con.body), None) is not None:
            continue
        con.deactivate()
        family = f"{con.parent_block().local_name}.{con.parent_component().local_name}"
        index = con.index()
        if family == "demand.meets_demand":
            r, p = index
            limit = float(data["latency_ms"].sel(region=r).min())
            notes.append(
                f"{p}: no campus can serve {r} within its latency limit (nearest "
                f"{limit:,.1f} ms round trip)"
            )
        else:
            notes.append(f"{con.name}: no decision can meet it")
    return notes


def _families(model: pyo.ConcreteModel, data: xr.Dataset) -> dict[str, tuple[float, str, Key]]:
    added = dict(
        zip(
            data["upgrade"].to_numpy().tolist(),
            data["upgrade_added_mw"].to_numpy().tolist(),
            strict=True,
        )
    )
    families: dict[str, tuple[float, str, Key]] = {
        "phasing.meets_ramp": (1.0, "MW", _ALL),
        "interconnection.within_headroom": (1.0, "MW", _ALL),
        "interconnection.within_zone_limit": (1.0, "MW", lambda i: (i[0], i[1])),
        "phasing.within_supply": (1.0, "MW", _ALL),
        "phasing.within_site_max": (1.0, "MW", _ALL),
        "cooling.within_water_limit": (WATER_WEIGHT_PER_HM3, "hm3/yr", _ALL),
        "time_rules.before_earliest": (TIME_RULE_WEIGHT, "MW", _ALL),
    }
    if hasattr(model, "demand"):
        families["demand.meets_demand"] = (1.0, "MW", _ALL)
    if hasattr(model, "onsite"):
        families["onsite.within_permit"] = (PERMIT_WEIGHT_PER_T, "t CO2/yr", _ALL)
    if hasattr(model, "clean") and hasattr(model.clean, "meets_target"):
        families["clean.meets_target"] = (MATCHED_WEIGHT_PER_MWH, "MWh/yr", _ALL)
    # An upgrade's early slack is a fraction of the upgrade: weigh it by its MW.
    for u in model.UPGRADES:
        families[f"time_rules.before_lead_time@{u}"] = (
            TIME_RULE_WEIGHT * added[u],
            "upgrade",
            _ALL,
        )
    return families


def _relax(model: pyo.ConcreteModel, name: str, key: Key) -> dict[Hashable, pyo.Var]:
    """Give each constraint of family ``name`` a non-negative slack (shared by ``key``)."""
    block_name, family = name.split("@")[0].split(".")
    only = name.split("@")[1] if "@" in name else None
    component = getattr(getattr(model, block_name), family)
    items = [
        (idx if isinstance(idx, tuple) else (idx,), con)
        for idx, con in component.items()
        if only is None or idx[0] == only
    ]
    keys = sorted({key(i) for i, _ in items}, key=str)
    var_name = "slack_" + name.replace(".", "_").replace("@", "_")
    slack = pyo.Var(range(len(keys)), within=pyo.NonNegativeReals)
    setattr(model, var_name, slack)
    position = {k: n for n, k in enumerate(keys)}
    for index, con in items:
        s = slack[position[key(index)]]
        if con.upper is not None:
            con.set_value(con.body - s <= con.upper)
        else:
            con.set_value(con.body + s >= con.lower)
    return {k: slack[position[k]] for k in keys}


# --------------------------------------------------------------------------- reporting


def _describe(name: str, index: Hashable, amount: float, unit: str, data: xr.Dataset) -> Relaxation:
    family = name.split("@")[0]
    i = index if isinstance(index, tuple) else (index,)
    if family.startswith("commitments."):
        return Relaxation(family, str(i[0]), str(i[-1]), amount, unit, describe(family, i, amount))
    if family == "interconnection.within_headroom":
        s, p = i
        msg = f"{p}: headroom at {s} short by {amount:,.0f} MW of facility draw"
        return Relaxation(family, str(s), str(p), amount, unit, msg)
    if family == "clean.meets_target":
        (p,) = i
        target = float(data.attrs["cfe_target_frac"])
        msg = (
            f"{p}: hourly-matched clean energy short of the {100 * target:g} % target by "
            f"{amount:,.0f} MWh/yr (more contracts in the campuses' zones, or a lower target)"
        )
        return Relaxation(family, "portfolio", str(p), amount, unit, msg)
    if family == "onsite.within_permit":
        o, p = i
        site = str(data["onsite_site"].sel(onsite=o).item())
        msg = f"{p}: air permit of {o} at {site} short by {amount:,.0f} t CO2/yr"
        return Relaxation(family, str(o), str(p), amount, unit, msg)
    if family == "interconnection.within_zone_limit":
        z, p = i
        limit = float(data["zone_import_limit_mw"].sel(zone=z))
        msg = f"{p}: zonal import limit {z} ({limit:,.0f} MW) short by {amount:,.0f} MW"
        return Relaxation(family, str(z), str(p), amount, unit, msg)
    if family == "phasing.within_supply":
        (p,) = i
        supply = float(data.attrs["accelerator_supply_it_mw_per_period"])
        msg = f"{p}: accelerator supply ({supply:,.0f} MW/period) short by {amount:,.0f} MW"
        return Relaxation(family, "portfolio", str(p), amount, unit, msg)
    if family == "phasing.within_site_max":
        s, p = i
        cap = float(data["max_it_mw"].sel(site=s))
        msg = f"{p}: {s} would need {amount:,.0f} MW above its maximum of {cap:,.0f} MW IT"
        return Relaxation(family, str(s), str(p), amount, unit, msg)
    if family == "cooling.within_water_limit":
        s, p = i
        m3 = amount * 1e6
        msg = f"{p}: water limit at {s} short by {m3:,.0f} m3/yr"
        return Relaxation(family, str(s), str(p), m3, "m3/yr", msg)
    if family == "demand.meets_demand":
        r, p = i
        msg = f"{p}: inference demand of {r} short by {amount:,.0f} MW within its latency limit"
        return Relaxation(family, str(r), str(p), amount, unit, msg)
    if family == "time_rules.before_earliest":
        s, p = i
        first = int(data["site_rule_first_index"].sel(site=s))
        periods = data["period"].to_numpy()
        when = periods[first] if first < len(periods) else "after the horizon"
        msg = (
            f"{p}: {s} would have to energize {amount:,.0f} MW before its earliest "
            f"period {when} (earliest date + construction lead time)"
        )
        return Relaxation(family, str(s), str(p), amount, unit, msg)
    # time_rules.before_lead_time@u
    u, p = i
    lead = int(data["upgrade_rule_first_index"].sel(upgrade=u))
    periods = data["period"].to_numpy()
    when = periods[lead] if lead < len(periods) else "after the horizon"
    site = str(data["upgrade_site"].sel(upgrade=u).item())
    msg = f"{p}: upgrade {u} at {site} would have to be in service before its lead time ({when})"
    return Relaxation(family, str(u), str(p), amount, unit, msg)


def _data_notes(data: xr.Dataset) -> list[str]:
    notes = []
    allowed = data["allowed"].to_numpy()
    for i, s in enumerate(data["site"].to_numpy()):
        if not allowed[i].any():
            notes.append(
                f"{s}: no cooling technology is allowed (design dry-bulb "
                f"{float(data['design_dry_bulb_c'][i]):.1f} C, wet-bulb "
                f"{float(data['design_wet_bulb_c'][i]):.1f} C, liquid platform rules)"
            )
    return notes
