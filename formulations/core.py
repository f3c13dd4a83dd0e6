"""What every formulation module shares: the index sets and the cost and energy registers.

Index letters: s site, z zone, p period, h hour, k cooling technology, u upgrade.
Sets are sparse: a (site, cooling, period) triple exists only if the cooling technology is
allowed at the site and the site can be energized in that period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr
from pyomo.core.expr.numeric_expr import LinearExpression

SENSES = {"<=": 1, ">=": -1, "==": 0}
"""An :class:`ArrayRows` family's sense, as Pyomo's standard-form compiler marks a row's
(``RowEntry.bound_type``)."""


@dataclass(frozen=True)
class ArrayRows:
    """A large constraint family also held as arrays, so that the solver compiles it without
    walking its Pyomo expressions (``optimizer.solver.compiled``). Entry e puts
    ``coefficients[e] x variables[e]`` in row ``rows[e]`` (rows numbered in the component's
    order), and row i reads

        sum_{e: rows[e] = i} coefficients[e] * variables[e]  (sense)  bound[i]

    The Pyomo rows stay in the model, as every other family's, for whatever reads them (names,
    duals, the diagnosis); the arrays must state the same rows, which
    ``tests/test_demand.py`` checks against Pyomo's own compile. A concern registers one with
    :func:`hold_as_arrays`. The arrays state the rows as they were made: ``stated`` keeps each
    row's expression, and a row rewritten since (``ConstraintData.set_value``: the
    diagnosis's slacks, a planner's own change) has another one, so the solver compiles that
    family from its Pyomo rows (:meth:`states_its_rows`)."""

    constraint: pyo.Constraint
    rows: np.ndarray
    variables: list[Any]
    coefficients: np.ndarray
    bound: np.ndarray
    sense: str = "<="
    stated: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stated", tuple(c.expr for c in self.constraint.values()))

    def states_its_rows(self) -> bool:
        """Whether the arrays still state the family: the component and every row switched
        on, the same rows, each with the expression it was made with."""
        con = self.constraint
        return (
            con.active
            and 0 < len(con) == len(self.stated)
            and all(
                c.active and c.expr is e for c, e in zip(con.values(), self.stated, strict=True)
            )
        )


def hold_as_arrays(m: pyo.ConcreteModel, rows: ArrayRows) -> None:
    """Register ``rows`` with the model (``m.array_rows``, read by the solver's compile)."""
    n, name = len(rows.constraint), rows.constraint.name
    entries = len(rows.variables)
    if rows.bound.shape != (n,) or {rows.rows.shape, rows.coefficients.shape} != {(entries,)}:
        raise ValueError(f"{name}: arrays of other lengths than its {n} rows and {entries} entries")
    if entries and not (rows.rows.min() >= 0 and rows.rows.max() < n):
        raise ValueError(f"{name}: an entry in a row it does not have")
    if rows.sense not in SENSES:
        raise ValueError(f"{name}: sense {rows.sense!r}, not one of {', '.join(SENSES)}")
    if not hasattr(m, "array_rows"):
        m.array_rows = []
    m.array_rows.append(rows)


@dataclass(frozen=True)
class ArrayCost:
    """A cost term of many coefficient x variable terms, a named ``pyo.Expression`` in
    ``m.cost_terms_musd``, also held as arrays, so that the solver compiles the objective
    without walking it (``optimizer.solver.compiled``): the term reads

        sum_e coefficients[e] * variables[e]

    with the variables in their component's order and every coefficient non-zero. Where the
    term stands in the model's objective as it is, the compile reads these arrays instead of
    the expression, which stays for whatever else reads it (the plan's costs, a constraint on
    the cost); ``tests/test_demand.py`` checks the compile against Pyomo's own. A concern
    registers one with :func:`hold_cost_as_arrays`. ``stated`` keeps the term's expression as
    it was made: set anew since (``Expression.set_value``), the compile reads the term from
    Pyomo (:meth:`states_its_term`)."""

    expression: Any
    variables: list[Any]
    coefficients: np.ndarray
    stated: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stated", getattr(self.expression, "expr", None))

    def states_its_term(self) -> bool:
        """Whether the arrays still state the term: its expression the one it was made with."""
        return self.expression.expr is self.stated


def hold_cost_as_arrays(m: pyo.ConcreteModel, cost: ArrayCost) -> None:
    """Register ``cost`` with the model (``m.array_costs``, read by the solver's compile)."""
    name = cost.expression.name
    if cost.coefficients.shape != (len(cost.variables),):
        raise ValueError(f"{name}: {len(cost.variables)} variables, other coefficients")
    if not cost.expression.is_named_expression_type():
        raise ValueError(f"{name}: not a named Expression")
    if not hasattr(m, "array_costs"):
        m.array_costs = []
    m.array_costs.append(cost)


def add_sets(m: pyo.ConcreteModel, data: xr.Dataset, drop_dominated: bool = True) -> None:
    """Index sets on the model, named by their dimensions; ``drop_dominated=False`` keeps
    every allowed cooling technology (a planner's own concern may value one that the data
    call dominated)."""
    sites = [str(s) for s in data["site"].to_numpy()]
    periods = [str(p) for p in data["period"].to_numpy()]
    coolings = [str(k) for k in data["cooling"].to_numpy()]
    first = dict(zip(sites, data["site_first_index"].to_numpy().tolist(), strict=True))
    allowed = data["allowed"].to_numpy()
    n_periods = len(periods)

    buildable = [s for s in sites if first[s] < n_periods and allowed[sites.index(s)].any()]
    m.SITES = pyo.Set(
        initialize=buildable, ordered=True, doc="Candidate campuses that can be built"
    )
    m.PERIODS = pyo.Set(initialize=periods, ordered=True, doc="Planning periods")
    m.COOLING_TECHS = pyo.Set(initialize=coolings, ordered=True, doc="Cooling technologies")
    m.ZONES = pyo.Set(initialize=[str(z) for z in data["zone"].to_numpy()], ordered=True)
    m.HOURS = pyo.Set(initialize=data["hour"].to_numpy().tolist(), ordered=True)
    # An allowed technology another one at the campus beats on every datum is left out:
    # the optimum never needs it (``optimizer.prepare._add_dominated_cooling``).
    modelled = allowed & ~(data["cooling_dominated"].to_numpy() & drop_dominated)
    m.SITE_COOLING = pyo.Set(
        dimen=2,
        ordered=True,
        doc="Allowed (site, cooling) pairs, less the dominated ones",
        initialize=[
            (s, k) for s in buildable for j, k in enumerate(coolings) if modelled[sites.index(s), j]
        ],
    )
    m.SITE_PERIODS = pyo.Set(
        dimen=2,
        ordered=True,
        doc="(site, period) from the site's first energizable period",
        initialize=[(s, p) for s in buildable for i, p in enumerate(periods) if i >= first[s]],
    )
    m.SITE_COOLING_PERIODS = pyo.Set(
        dimen=3,
        ordered=True,
        doc="(site, cooling, period) where IT capacity can exist",
        initialize=[(s, k, p) for (s, k) in m.SITE_COOLING for p in periods[first[s] :]],
    )
    m.period_index = {p: i for i, p in enumerate(periods)}
    # Cooling technologies that can hold IT at a (site, period): the terms of a campus's draw.
    m.techs_at = defaultdict(list)
    for s, k, p in m.SITE_COOLING_PERIODS:
        m.techs_at[s, p].append(k)
    m.cost_terms_musd = {}
    m.energy_terms_mwh = {}
    # Horizon totals that plans are compared on (Pareto fronts): name -> expression.
    m.metrics = {}


def hourly_draw(m: pyo.ConcreteModel, data: xr.Dataset) -> Callable[[str, str, int], Any]:
    """``draw(s, p, h)``: a campus's facility draw at representative hour h with all its
    installed IT running, sum_k pue[s,k,h] it_mw[s,k,p] (times LF for the average load)."""
    pue = data["pue"].to_numpy()
    site_index = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cool_index = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}

    def draw(s: str, p: str, h: int) -> Any:
        i = site_index[s]
        return sum(
            float(pue[i, cool_index[k], h]) * m.phasing.it_mw[s, k, p] for k in m.techs_at[s, p]
        )

    return draw


def previous(m: pyo.ConcreteModel, p: str) -> str | None:
    """The period before ``p``, or None for the first."""
    i = m.period_index[p]
    return None if i == 0 else m.PERIODS.at(i)  # Pyomo sets are 1-based


def earlier(m: pyo.ConcreteModel, var: pyo.Var, key: tuple[str, ...], p: str) -> Any:
    """``var[*key, p-1]``, or None where it does not exist (first period, or before the
    object's first period): the term to compare or difference against."""
    q = previous(m, p)
    index = (*key, q)
    return var[index] if q is not None and index in var else None


def increase(m: pyo.ConcreteModel, var: pyo.Var, key: tuple[str, ...], p: str) -> Any:
    """``var[*key, p] - var[*key, p-1]`` (0 before the first), e.g. a campus opening."""
    before = earlier(m, var, key, p)
    return var[(*key, p)] - (0 if before is None else before)


def last_period(m: pyo.ConcreteModel) -> str:
    return str(m.PERIODS.last())


def series(data: xr.Dataset, name: str) -> dict[str, Any]:
    """A one-dimensional variable of the data (per site, period, on-site option, ...) as a plain
    dict keyed by the ids of its dimension."""
    (dim,) = data[name].dims
    ids = [str(i) for i in data[dim].to_numpy()]
    return dict(zip(ids, data[name].to_numpy().tolist(), strict=True))


def pair_table(data: xr.Dataset, name: str) -> dict[tuple[str, str], float]:
    """A (site, cooling) variable of the data as a plain dict."""
    values = data[name].to_numpy()
    sites = data["site"].to_numpy().tolist()
    coolings = data["cooling"].to_numpy().tolist()
    return {
        (s, k): float(values[i, j])
        for i, s in enumerate(sites)
        for j, k in enumerate(coolings)
        if np.isfinite(values[i, j])
    }


# --------------------------------------------------------------------------- plan arrays


def put(ds: xr.Dataset, name: str, dims: tuple[str, ...], values: Any, units: str) -> None:
    """A plan array with its unit."""
    ds[name] = (dims, np.asarray(values))
    ds[name].attrs["units"] = units


def cleaned(values: np.ndarray) -> np.ndarray:
    """Solver values with noise below 1e-6 in magnitude set to 0."""
    return np.where(np.abs(values) < 1e-6, 0.0, values)


def solution(
    var: Any, shape: tuple[int, ...], where: Callable[[tuple[Any, ...]], Any]
) -> np.ndarray:
    """The values of an indexed variable (or expression) in an array of ``shape``: the entry of
    index ``i`` goes to position ``where(i)``; entries the model lacks stay 0."""
    out = np.zeros(shape)
    for index, v in var.items():
        out[where(index)] = pyo.value(v)
    return cleaned(out)


def positions(data: xr.Dataset, dim: str) -> dict[str, int]:
    """Id -> position along ``dim`` of the data."""
    return {str(x): i for i, x in enumerate(data[dim].to_numpy())}


def first_period(flags: np.ndarray, periods: list[str]) -> np.ndarray:
    """Per row of a (row, period) boolean array: the first period that is set, or ""."""
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), -1)
    return np.array([periods[i] if i >= 0 else "" for i in first], dtype=str)


def weigh(it: np.ndarray, data: xr.Dataset, name: str) -> np.ndarray:
    """sum_k it_mw[s,k,p] x the (site, cooling) coefficient ``name`` -> (site, period)."""
    return np.einsum("skp,sk->sp", it, np.nan_to_num(data[name].to_numpy()))


# --------------------------------------------------------------------------- numerics


def buildable_sites(data: xr.Dataset) -> np.ndarray:
    """Sites the model builds: energizable within the horizon with an allowed cooling."""
    allowed = data["allowed"].to_numpy()
    return np.asarray((data["site_first_index"].to_numpy() < data.sizes["period"]) & allowed.any(1))


def used_pairs(data: xr.Dataset) -> np.ndarray:
    """(site, cooling) pairs the model uses."""
    modelled = data["allowed"].to_numpy() & ~data["cooling_dominated"].to_numpy()
    return np.asarray(modelled & buildable_sites(data)[:, None])


def summed(terms: list[Any]) -> Any:
    """``sum(terms)`` of Pyomo terms (variables, coefficient x variable, constants) as the one
    ``LinearExpression`` Python's ``sum`` ends with, made at once: ``sum`` adds them one by
    one, each step a dispatch and a check in Pyomo (at 1,000 sites x 200 regions the demand
    block's sums over 881 k serving columns took several seconds of the build)."""
    if len(terms) < 2:
        return sum(terms)  # 0 or the one term itself, as sum gives them
    return LinearExpression(terms)


def times(values: np.ndarray, *weights: np.ndarray) -> np.ndarray:
    """Every product of a value with one weight of each weight vector."""
    out = values.ravel()
    for w in weights:
        out = np.multiply.outer(out, w.ravel()).ravel()
    return out


def masked(data: xr.Dataset, name: str, mask: np.ndarray | None = None) -> np.ndarray:
    """A data variable's values (where ``mask``), as floats."""
    values = data[name].to_numpy().astype(float)
    return values[mask] if mask is not None else values.ravel()


def attribute(data: xr.Dataset, name: str) -> np.ndarray:
    return np.array([float(data.attrs.get(name, 0.0))])


def nonzero_rows(frame: pd.DataFrame, column: str, ids: dict[str, str]) -> pd.DataFrame:
    """A plan table's rows where ``column`` is above zero, its index columns renamed to ids
    (``{"onsite": "option_id"}``) and renumbered."""
    return frame[frame[column] > 0].rename(columns=ids).reset_index(drop=True)
