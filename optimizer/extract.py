"""The solution read out of the model into the plan dataset: no Pyomo object leaves.

The plan starts from the scenario's labels and periods; each concern whose block the model
has then adds its arrays (``Concern.extract``, in build order, so a concern reads what the
ones it needs added). A concern the scenario does not use adds nothing: no all-zero arrays.
Every array carries a ``units`` attribute (empty for labels and flags).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo
import xarray as xr
from pyomo.common.numeric_types import native_numeric_types, native_types
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    DivisionExpression,
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.core.expr.numvalue import is_potentially_variable
from pyomo.repn import generate_standard_repn

from formulations import CONCERNS, Concern, ordered
from optimizer.plan import Plan
from optimizer.prepare import REDUCTION_UNITS
from optimizer.solver import SolveResult

#: Units of the scenario data copied into every plan.
BASE_UNITS = {
    "target_it_mw": "MW",
    "period_years": "years",
    "discount_factor": "",
    "opex_weight_years": "years (discounted, last period with the opex tail)",
    "hour_weight_h": "h",
    "site_name": "",
    "site_zone": "",
    "zone_region": "",
    "site_latitude_deg": "degrees_north",
    "site_longitude_deg": "degrees_east",
}


def extract_plan(
    model: pyo.ConcreteModel,
    data: xr.Dataset,
    result: SolveResult,
    build_seconds: float,
    extra: Sequence[Concern] = (),
) -> Plan:
    """The plan of ``model`` (built from ``data`` with the default concerns and ``extra``)."""
    units = {**BASE_UNITS, **REDUCTION_UNITS}  # the hours the plan was solved on
    ds = data[list(units)].copy()
    ds.attrs = dict(data.attrs)
    ds.coords["cooling"] = data["cooling"]
    for name, unit in units.items():
        ds[name].attrs = {"units": unit}
    cost: dict[str, float] = {}
    if result.solution != "none":
        for concern in ordered([*CONCERNS, *extra]):
            if concern.extract is not None and model.component(concern.name) is not None:
                concern.extract(model, data, ds)
        by_period = cost_by_period(model, [str(p) for p in data["period"].to_numpy()])
        ds["cost_musd"] = (("term", "period"), by_period.to_numpy())
        ds.coords["term"] = by_period["term"]
        ds["cost_musd"].attrs["units"] = "million USD (NPV)"
        cost = {k: float(evaluated(v)) for k, v in model.cost_terms_musd.items()}
        cost["total"] = float(evaluated(model.objective.total_cost_musd))
    return Plan(
        dataset=ds,
        result=result,
        build_seconds=build_seconds,
        cost_npv_musd=cost,
        extra_concerns=tuple(extra),
    )


def evaluated(expr: Any) -> Any:
    """``pyo.value(expr)``, node by node as Pyomo's evaluation visitor computes it (each
    expression's own operation on its arguments' values, so the same float), without the
    visitor's overhead, and with the cost terms' coefficient x variable terms read directly:
    at 1,000 sites x 200 regions the serving cost has 881 k of them, which Pyomo's visitor
    took several seconds of CPU over, twice (the term and the total; benchmarks/RESULTS.md)."""
    cls = expr.__class__
    if cls in native_types:
        return expr
    if cls is MonomialTermExpression:
        coef, var = expr.args
        if coef.__class__ in native_numeric_types and var.__class__ is VarData:
            x = var.value
            return coef * (x if x is not None else pyo.value(var))
    if not expr.is_expression_type():
        return pyo.value(expr) if expr.is_numeric_type() else expr
    return expr._apply_operation([evaluated(arg) for arg in expr.args])


def cost_by_period(model: pyo.ConcreteModel, periods: list[str]) -> xr.DataArray:
    """NPV of each registered cost term by period, M USD: every term of a cost is counted in
    the period its variable is indexed by (the opex tail after the horizon in the last
    period), a fixed variable too (a re-plan fixes the committed periods' campuses: their
    costs stay in their own periods); a constant, if any, in the first period."""
    known = set(periods)
    out: dict[str, dict[str, float]] = {}
    for term, expr in model.cost_terms_musd.items():
        row: dict[str, float] = defaultdict(float)
        terms: list[tuple[float, Any]] = []
        row[periods[0]] += float(_linear(expr, 1.0, terms))
        for coef, var in terms:
            index = var.index()
            period = periods[0]
            for i in index if isinstance(index, tuple) else (index,):
                if str(i) in known:
                    period = str(i)
                    break
            row[period] += float(coef) * float(var.value or 0.0)
        out[term] = row
    values = np.array([[out[t][p] for p in periods] for t in out]).reshape(len(out), len(periods))
    return xr.DataArray(
        values, dims=("term", "period"), coords={"term": list(out), "period": periods}
    )


def _linear(expr: Any, scale: float, terms: list[tuple[float, Any]]) -> float:
    """Append ``scale`` x ``expr``'s (coefficient, variable) terms to ``terms``, fixed
    variables among them, and return ``scale`` x its constant. The cost terms' own forms
    (sums, coefficient x variable, products and quotients by a constant, named expressions)
    are read directly: at 1,000 sites x 200 regions the serving cost has 881 k monomials,
    which Pyomo's ``generate_standard_repn`` took seconds over; anything else (a planner's
    own cost term) goes to it, where a fixed variable counts as a constant."""
    cls = expr.__class__
    if cls in native_numeric_types:
        return scale * expr
    if cls is MonomialTermExpression:
        coef, var = expr.args
        terms.append((scale * pyo.value(coef), var))
        return 0.0
    if cls is VarData or (not expr.is_expression_type() and expr.is_variable_type()):
        terms.append((scale, expr))
        return 0.0
    if not expr.is_potentially_variable():
        return scale * pyo.value(expr)
    if expr.is_named_expression_type():
        return _linear(expr.expr, scale, terms)
    if cls in (SumExpression, LinearExpression):
        constant = 0.0
        for arg in expr.args:  # mostly coefficient x variable: read here, without a call
            if arg.__class__ is MonomialTermExpression:
                coef, var = arg.args
                if coef.__class__ not in native_numeric_types:
                    coef = pyo.value(coef)
                terms.append((scale * coef, var))
            else:
                constant += _linear(arg, scale, terms)
        return constant
    if cls is NegationExpression:
        return _linear(expr.args[0], -scale, terms)
    if cls is ProductExpression:
        a, b = expr.args
        if not is_potentially_variable(a):
            return _linear(b, scale * pyo.value(a), terms)
        if not is_potentially_variable(b):
            return _linear(a, scale * pyo.value(b), terms)
    if cls is DivisionExpression and not is_potentially_variable(expr.args[1]):
        return _linear(expr.args[0], scale / pyo.value(expr.args[1]), terms)
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    pairs = zip(repn.linear_coefs, repn.linear_vars, strict=True)
    terms.extend((scale * coef, var) for coef, var in pairs)
    return scale * float(repn.constant)
