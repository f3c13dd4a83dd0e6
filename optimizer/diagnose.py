"""Why a scenario is infeasible, in the planner's words.

HiGHS's IIS works for LPs only, so a MILP infeasibility is explained by an elastic re-solve
(SWITCH's ``diagnose_infeasibility`` idea), in two stages on one model in which every hard
family has a non-negative slack:

1. **What can be delivered.** Only the portfolio ramp is elastic: minimise the total shortfall.
   Per period: target, most IT MW that can be energized, shortfall.
2. **What would have to give.** The ramp is hard again and every other relaxable family is
   elastic (site headroom, zonal import limits, accelerator supply, site maximum, water
   limits, earliest dates and upgrade lead times, air permits of on-site power, the CFE
   target, inference demand): minimise the weighted relaxation (MW; hm3 of water weighs as
   100 MW, a t CO2/yr of permit as 1/4,650 MW, a MWh/yr of matched energy as 1/8,760 MW; a
   date rule weighs half its MW-periods, as moving a date is a smaller ask than capacity that
   does not exist). The non-zero slacks, mapped back to campuses, zones, upgrades and
   periods, are the smallest set of relaxations that makes the plan feasible.

Where stage 1 has no solution (no shortfall of the ramp helps: a demand region that the
campuses within its reach cannot serve, say), every relaxable family gives at once, the ramp
too, at the weights of stage 2, and the diagnosis notes it.

Which families are relaxable, with which weight and words, is declared by each concern
(``Family.relax``; :mod:`formulations.concern`); a family no concern declares is an error.

Sites whose climate or the liquid platform rules out every cooling technology are reported
from the data, as no relaxation can place IT there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pyomo.environ as pyo
import xarray as xr
from pyomo.core.expr.visitor import identify_variables

from formulations import CONCERNS, TIME_RULES, Concern, Relax, Relaxation, SharesSlack, build_model
from formulations.concern import Index, by_name, family_of
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import SolveOptions, solve_model
from optimizer.surgery import add_slacks, replace_objective, stretch

__all__ = ["Diagnosis", "Relaxation", "Shortfall", "diagnose"]

#: In stage 1 a unit of a broken commitment weighs as this many MW of ramp shortfall.
COMMITMENT_WEIGHT = 1000.0


@dataclass(frozen=True)
class Shortfall:
    period: str
    target_it_mw: float
    deliverable_it_mw: float
    short_mw: float


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


@dataclass
class _Elastic:
    """The slacks of one relaxable family, by key."""

    relax: Relax
    slacks: dict[Index, pyo.Var]


def diagnose(
    scenario: Scenario,
    options: SolveOptions,
    extra: Sequence[Concern] = (),
    commitments: Sequence[Concern] = (),
) -> Diagnosis:
    """Explain why ``scenario`` (with a planner's ``extra`` concerns) has no plan (see the
    module docstring). The families of ``commitments`` (a re-plan's, :mod:`optimizer.replan`)
    give already in stage 1, at :data:`COMMITMENT_WEIGHT`: a commitment that cannot hold even
    with the ramp giving way is the answer."""
    data = _open_time_rules(prepare(scenario))
    concerns = [*(c for c in CONCERNS if not c.closes), TIME_RULES, *extra, *commitments]
    declared = by_name(concerns)
    model = build_model(data, concerns)
    impossible, unreachable = _drop_impossible(model, data, declared)
    families = _elastic(model, declared)
    diagnosis = Diagnosis(feasible=False, notes=_data_notes(data) + impossible)
    exact = replace(options, warm_start=False)

    # Stage 1: only the ramp gives (and, far more costly, a commitment).
    _hold(families, shortfall=False)
    kept = {c.name for c in commitments}
    committed = [f for name, f in families.items() if name.split(".")[0] in kept]
    for var in (v for f in committed for v in f.slacks.values()):
        var.unfix()
    replace_objective(
        model,
        "diagnosis_objective",
        sum(_all_slacks(families, shortfall=True))
        + COMMITMENT_WEIGHT * sum(v for f in committed for v in f.slacks.values()),
    )
    result = solve_model(model, exact)
    diagnosis.termination = result.termination
    if result.solution == "none":
        # less IT does not help: a rule fails whatever is energized (a demand region that
        # the campuses within its reach cannot serve, say)
        return _everything_gives(model, families, committed, data, diagnosis, exact)
    diagnosis.relaxations = _relaxations(committed, data)
    if diagnosis.relaxations:
        return diagnosis
    diagnosis.shortfalls = _shortfalls(families, unreachable, data)
    if not diagnosis.shortfalls:
        diagnosis.feasible = not impossible
        return diagnosis

    # Stage 2: the ramp holds, everything else gives.
    _hold(families, shortfall=True)
    others = [f for f in families.values() if not f.relax.shortfall]
    replace_objective(model, "diagnosis_objective", _weighted(others, data))
    result = solve_model(model, exact)
    if result.solution == "none":
        diagnosis.notes.append(
            f"no relaxation of the listed families meets the ramp ({result.termination})"
        )
        return diagnosis
    diagnosis.relaxations = _relaxations(others, data)
    return diagnosis


def _everything_gives(
    model: pyo.ConcreteModel,
    families: dict[str, _Elastic],
    committed: list[_Elastic],
    data: xr.Dataset,
    diagnosis: Diagnosis,
    exact: SolveOptions,
) -> Diagnosis:
    """Stage 1 has no solution: every relaxable family gives at once, the ramp too, at the
    weights of stage 2 (a commitment at :data:`COMMITMENT_WEIGHT` times its own); the
    non-zero slacks are the relaxations."""
    for var in _all_slacks(families, shortfall=True) + _all_slacks(families, shortfall=False):
        var.unfix()
    replace_objective(
        model, "diagnosis_objective", _weighted(families.values(), data, heavier=committed)
    )
    result = solve_model(model, exact)
    if result.solution == "none":
        diagnosis.notes.append(f"the elastic model did not solve ({result.termination})")
        return diagnosis
    diagnosis.notes.append(
        "the portfolio ramp giving way alone cannot make the scenario feasible: every "
        "relaxable rule was let give"
    )
    diagnosis.relaxations = _relaxations(families.values(), data)
    return diagnosis


def _weighted(
    families: Iterable[_Elastic], data: xr.Dataset, heavier: Sequence[_Elastic] = ()
) -> Any:
    """The weighted relaxation of ``families``' slacks, those of ``heavier`` (a re-plan's
    commitments) at :data:`COMMITMENT_WEIGHT` times their weight."""
    ids = {id(f) for f in heavier}
    return sum(
        (COMMITMENT_WEIGHT if id(f) in ids else 1.0) * f.relax.weight_of(key, data) * var
        for f in families
        for key, var in f.slacks.items()
    )


def _relaxations(families: Iterable[_Elastic], data: xr.Dataset) -> list[Relaxation]:
    """The non-zero slacks of ``families``, in the planner's words."""
    return [
        f.relax.describe(key, float(var.value), data)
        for f in families
        for key, var in f.slacks.items()
        if float(var.value or 0.0) > 1e-6
    ]


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


def _drop_impossible(
    model: pyo.ConcreteModel, data: xr.Dataset, concerns: dict[str, Concern]
) -> tuple[list[str], list[tuple[Relax, Index]]]:
    """Constraints no decision can touch (no variable left in them, e.g. inference demand with
    no campus within its latency limit) cannot be relaxed: set them aside and say why. Rows
    of a shortfall family (a period no campus can serve) are returned: wholly short."""
    notes = []
    unreachable = []
    for con in model.component_data_objects(pyo.Constraint, active=True):
        if next(identify_variables(con.body), None) is not None:
            continue
        con.deactivate()
        _, family, index = family_of(con, concerns)
        if family.impossible is not None:
            notes.append(family.impossible(index, data))
        else:
            notes.append(f"{con.name}: no decision can meet it")
        if isinstance(family.relax, Relax) and family.relax.shortfall:
            unreachable.append((family.relax, family.relax.key(index)))
    return notes, unreachable


def _elastic(model: pyo.ConcreteModel, concerns: dict[str, Concern]) -> dict[str, _Elastic]:
    """Give every row of a relaxable family a non-negative slack (rows sharing a key share
    one); rows that share another family's slack are stretched by it."""
    rows: dict[str, list[tuple[Index, pyo.ConstraintData]]] = defaultdict(list)
    relax: dict[str, Relax] = {}
    shared: list[tuple[SharesSlack, Index, pyo.ConstraintData]] = []
    for con in model.component_data_objects(pyo.Constraint, active=True):
        name, family, index = family_of(con, concerns)
        if isinstance(family.relax, Relax):
            rows[name].append((family.relax.key(index), con))
            relax[name] = family.relax
        elif isinstance(family.relax, SharesSlack):
            shared.append((family.relax, index, con))
    out: dict[str, _Elastic] = {}
    for name, items in rows.items():
        keys = sorted({k for k, _ in items}, key=str)
        slacks = add_slacks(model, "slack_" + name.replace(".", "_"), keys)
        for key, con in items:
            stretch(con, slacks[key])
        out[name] = _Elastic(relax[name], slacks)  # type: ignore[arg-type]
    for share, index, con in shared:
        key = share.key(model, index)
        if share.family not in out or key not in out[share.family].slacks:
            raise ValueError(f"{con.name} shares the slack of {share.family}{list(key)}: none")
        stretch(con, out[share.family].slacks[key])
    return out


def _hold(families: dict[str, _Elastic], *, shortfall: bool) -> None:
    """Fix the slacks of the shortfall families (or of the others) at 0; free the rest."""
    for f in families.values():
        for var in f.slacks.values():
            if f.relax.shortfall == shortfall:
                var.fix(0)
            else:
                var.unfix()


def _all_slacks(families: dict[str, _Elastic], *, shortfall: bool) -> list[pyo.Var]:
    return [
        v for f in families.values() if f.relax.shortfall == shortfall for v in f.slacks.values()
    ]


def _shortfalls(
    families: dict[str, _Elastic], unreachable: list[tuple[Relax, Index]], data: xr.Dataset
) -> list[Shortfall]:
    """Per period short of a shortfall family's target: the target, what can be delivered
    (the target less the slack; nothing where no decision reaches the row) and the gap."""
    short: dict[str, tuple[float, float]] = {}
    for f in families.values():
        for key, var in f.slacks.items():
            if f.relax.target is not None and float(var.value or 0.0) > 1e-6:
                short[str(key[-1])] = (f.relax.target(key, data), float(var.value))
    for relax, key in unreachable:
        assert relax.target is not None
        target = relax.target(key, data)
        short[str(key[-1])] = (target, target)
    return [
        Shortfall(str(p), short[str(p)][0], short[str(p)][0] - short[str(p)][1], short[str(p)][1])
        for p in data["period"].to_numpy()
        if str(p) in short
    ]


# --------------------------------------------------------------------------- reporting


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
