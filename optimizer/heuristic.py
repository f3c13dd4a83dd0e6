"""A constructive start: round the LP relaxation, repair with a small MIP.

The LP relaxation with the valid inequalities (``formulations.strength``) opens nearly the
campuses the optimum opens. The start keeps only the campuses it opens at all and, at each,
the cooling technology it leans to most; HiGHS then solves that much smaller MIP (the repair:
whole blocks, upgrades, timing) to a loose gap in a short time. Its plan is loaded into the
model's variables, to be handed to HiGHS as a MIP start (``HighsModel.solve(warm_start=True)``
reports in ``start_accepted`` whether HiGHS took it).

The LP relaxation's optimum is a lower bound on the model's: it goes with the start
(``HighsModel.start_bound_musd``), so a start already within the gap asked of it ends the
solve without a MIP run, which would only solve the same LP again at its root to prove it.
The LP is solved with the zonal hour rows and the serving rows ``only_from_open`` put back
only where its solution breaks them, and the serving columns held only where their reduced
cost asks for them (``HighsModel.relaxed_values(lazy=..., pruned=...)``, the same optimum).
The repair weighs only the serving pairs the LP serves from and the next best few by reduced
cost. At 1,000 sites (benchmarks/RESULTS.md) the LP takes about 12 s of CPU (19 s with the
zonal rows in but free, 33 s with every row), the repair about 7 s, and the start is 0.32 %
above the LP bound: within a 0.5 % gap; with 200 demand regions the LP 87 s (194 s with
every serving column and the lazy rows free), the repair 19 s (105 s over every pair), the
start 0.38 % above the LP bound; since priced 25 columns per row and round with Devex
pricing: the LP 109 s against 131 side by side, the repair 27 s against 13 (another LP
vertex), the start 0.32 % above the bound against 0.45 %.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from optimizer.solver import HighsModel, SolveOptions

AUTO_START_INTEGERS = 5_000
"""From this many integer columns the start is made unless the options say otherwise
(``SolveOptions.constructive_start=None``). Measured (benchmarks/RESULTS.md, CPU s, HiGHS on 1
thread, 2026-12-03): 1,000 sites (40,830 integers) to 0.5 % in 13.7 s of solve with it
against 72.3 s without; 200 sites (8,017) 1.7 s against 8.6 s; the default (1,297) 1.7 s
against 1.4 s at its 0.2 % gap and 8.3 s against 5.1 s at 0.1 %, so small models go without
it."""

OPEN_FRAC = 1e-3
"""A campus the LP opens by less than this stays closed in the start."""


LAZY_IN_LP = (("interconnection", "within_zone_limit"), ("demand", "only_from_open"))
"""Families of many rows of which the LP relaxation breaks few when they are left out: the
start's LP puts them back where it does (1,000 sites: 1,326 of 18,798 zonal rows; 200 sites
x 40 regions: 421 of 35,760 zonal and serving rows; benchmarks/RESULTS.md)."""


PRICED_IN_LP = ("demand", "serve_mw")
"""Columns (``serve_mw[r,s,p]``, 92 % of the model's columns at 1,000 sites x 200 regions)
the start's LP holds only where they pay, by reduced cost (``HighsModel.relaxed_values``:
column generation, the same optimum)."""

FIRST_PAIRS: int | None = None
"""With a number: the serving columns of a region and period in the start's first LP are
the cheapest (objective coefficient) this many, the others priced in (and those in pruned
as below). With None (the default): all of them in the first LP, then those it leaves at 0
with a positive reduced cost taken out but for the best few of each region and period
(``optimizer.solver.PRICED_PER_ROW``; ``pruned``), and priced back in if their reduced cost
turns negative (at most that many per region and period and round). Measured at 1,000
sites x 200 regions (benchmarks/RESULTS.md, start LP CPU s): 5 cheapest first, 124 (the
first LP leans on its elastic columns; 11 solves, 484 k columns at the end); 50 cheapest
first, 159 (on a loaded machine); all first then pruned, 77-87 (117 k at the end), about as
the LP with every serving column throughout (88), after which the repair found a plan 0.72 %
above the bound, against 0.38 % (one instance: a different LP vertex)."""


REPAIR_SPARE_PAIRS = 5
"""Serving columns of a region and period the repair MIP may use besides those the LP serves
from: the lowest reduced cost this many; the others stay at 0 in it."""


def _serving_groups(model: pyo.ConcreteModel, highs: HighsModel) -> list[np.ndarray]:
    """The serving columns (``PRICED_IN_LP``) of each region and period."""
    block = model.component(PRICED_IN_LP[0])
    serve = None if block is None else block.component(PRICED_IN_LP[1])
    if serve is None:
        return []
    column = {id(var): j for j, var in enumerate(highs.columns)}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (r, _, p), var in serve.items():
        j = column.get(id(var))
        if j is not None:
            groups[r, p].append(j)
    return [np.array(js, dtype=np.int64) for js in groups.values()]


def _beyond(groups: list[np.ndarray], score: np.ndarray, keep: int | list[int]) -> np.ndarray:
    """The columns of each group but its ``keep`` (one for all, or one per group) lowest by
    ``score``."""
    keeps = [keep] * len(groups) if isinstance(keep, int) else keep
    out = [
        js[np.argsort(score[js], kind="stable")[k:]] for js, k in zip(groups, keeps, strict=True)
    ]
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)


def _lazy_families(model: pyo.ConcreteModel) -> list[pyo.Constraint]:
    blocks = ((model.component(block), family) for block, family in LAZY_IN_LP)
    return [b.component(family) for b, family in blocks if b is not None and b.component(family)]


def constructive_start(
    model: pyo.ConcreteModel,
    highs: HighsModel,
    time_limit_s: float = 60.0,
    gap: float | None = None,
) -> float | None:
    """Load a start plan into ``model``'s variables; its objective, or None if none found.
    The repair MIP stops at ``gap`` (by default half the gap asked of the solve, so that the
    start can end it: the repair's gap is to its own bound, above the LP's) or after
    ``time_limit_s`` (wall clock, so generous: at 1,000 sites it needs about 5 s of CPU,
    far more wall on a loaded machine). At 1,000 sites and 0.5 % a repair to 0.5 % stopped
    0.58 % above the LP bound (a MIP run then took 46 s more), to 0.25 % 0.32 %."""
    if gap is None:
        gap = highs.options.mip_gap_frac / 2
    groups = _serving_groups(model, highs)
    serving = np.sort(np.concatenate(groups)) if groups else np.zeros(0, dtype=np.int64)
    priced, pruned = serving[:0], serving
    if FIRST_PAIRS is not None:
        priced = _beyond(groups, np.asarray(highs.highs.getLp().col_cost_), FIRST_PAIRS)
        pruned = np.setdiff1d(serving, priced, assume_unique=True)
    relaxed = highs.relaxed_values(lazy=_lazy_families(model), priced=priced, pruned=pruned)
    if relaxed is None:
        return None
    bound = highs.objective_of(relaxed)
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
    # the repair weighs only the serving pairs the LP serves from and the next best few by
    # reduced cost; if that leaves it no plan, it runs again with every pair
    out = priced[:0]
    reduced = highs.relaxed_reduced_costs
    if reduced is not None and groups:
        serves = relaxed > 0.0
        keep = [int(serves[js].sum()) + REPAIR_SPARE_PAIRS for js in groups]
        out = _beyond(groups, np.where(serves, -np.inf, reduced), keep)
    values = highs.restricted_values(fixed | dict.fromkeys(out.tolist(), 0.0), time_limit_s, gap)
    if values is None and out.size:
        values = highs.restricted_values(fixed, time_limit_s, gap)
    if values is None:
        return None
    for var, x in zip(highs.columns, values, strict=True):
        var.set_value(float(x), skip_validation=True)
    highs.start_bound_musd = bound
    return highs.objective_of(values)


def start_wanted(options: SolveOptions, highs: HighsModel) -> bool:
    """Whether to make the constructive start for this solve: as the options say, or by the
    model's size when they leave it open (``None``); never over a warm start (a previous
    plan's values are the start then)."""
    if options.constructive_start is not None:
        return options.constructive_start
    return not options.warm_start and int(highs.integer.sum()) >= AUTO_START_INTEGERS
