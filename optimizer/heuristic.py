"""A constructive start: round the LP relaxation, repair with a small MIP.

The LP relaxation with the valid inequalities (``formulations.strength``) opens nearly the
campuses the optimum opens. The start keeps only the campuses it opens at all and, at each,
the cooling technology it leans to most; HiGHS then solves that much smaller MIP (the repair:
whole blocks, upgrades, timing) to a loose gap in a short time. Its plan is loaded into the
model's variables, to be handed to HiGHS as a MIP start (``HighsModel.solve(warm_start=True)``
reports in ``start_accepted`` whether HiGHS took it).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.solver import HighsModel

OPEN_FRAC = 1e-3
"""A campus the LP opens by less than this stays closed in the start."""


def constructive_start(
    model: pyo.ConcreteModel, highs: HighsModel, time_limit_s: float = 10.0, gap: float = 0.005
) -> float | None:
    """Load a start plan into ``model``'s variables; its objective, or None if none found."""
    relaxed = highs.relaxed_values()
    if relaxed is None:
        return None
    column = {id(var): j for j, var in enumerate(highs.columns)}

    def value(var: pyo.Var) -> float:
        j = column.get(id(var))
        return 0.0 if j is None else float(relaxed[j])

    fixed: dict[int, float] = {}

    def fix(var: pyo.Var, x: float) -> None:
        if id(var) in column:
            fixed[column[id(var)]] = x

    last = str(model.PERIODS.last())
    chosen = model.cooling.cooling_chosen
    techs: dict[str, list[str]] = defaultdict(list)
    for s, k in model.SITE_COOLING:
        techs[s].append(k)
    opened: dict[str, list[pyo.Var]] = defaultdict(list)
    for (s, _), var in model.siting.site_open.items():
        opened[s].append(var)
    for s in model.SITES:
        if value(model.siting.site_open[s, last]) < OPEN_FRAC:
            for var in opened[s]:
                fix(var, 0.0)
            for k in techs[s]:
                fix(chosen[s, k], 0.0)
            continue
        lean = max(techs[s], key=lambda k: value(chosen[s, k]))
        for k in techs[s]:
            if k != lean:
                fix(chosen[s, k], 0.0)
    values = highs.restricted_values(fixed, time_limit_s, gap)
    if values is None:
        return None
    for var, x in zip(highs.columns, values, strict=True):
        var.set_value(float(x), skip_validation=True)
    return highs.objective_of(values)
