"""Model surgery, in one place: what is changed on a built model to ask it another question.

- elastic slacks on constraint rows (the diagnosis: :func:`add_slacks`, :func:`stretch`),
- an objective of its own (the diagnosis's stages, a Pareto front's first metric:
  :func:`replace_objective`),
- a metric as one column that HiGHS can bound (a Pareto front's epsilon: :func:`metric_column`).

Changes made inside HiGHS on a model it already holds (integers fixed for marginal values, a
column bound or cost moved, the gap changed) are methods of
:class:`~optimizer.solver.HighsModel`, the one place that talks to the solver.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pyomo.environ as pyo


def add_slacks(
    model: pyo.ConcreteModel, name: str, keys: Sequence[Hashable]
) -> dict[Hashable, pyo.Var]:
    """Non-negative slack variables ``model.<name>[i]``, one per key, by key."""
    slack = pyo.Var(range(len(keys)), within=pyo.NonNegativeReals)
    model.add_component(name, slack)
    return {k: slack[i] for i, k in enumerate(keys)}


def stretch(con: pyo.ConstraintData, slack: pyo.Var) -> None:
    """Let ``slack`` stretch the row: ``body - slack <= upper`` or ``body + slack >= lower``.
    Arrays held for the row's family (``formulations.core.ArrayRows``) no longer state it
    (the row has a new expression), so the solver compiles the family from its Pyomo rows."""
    if con.upper is not None:
        con.set_value(con.body - slack <= con.upper)
    else:
        con.set_value(con.body + slack >= con.lower)


def replace_objective(model: pyo.ConcreteModel, name: str, expr: Any) -> pyo.Objective:
    """``expr`` becomes the model's only active objective (``model.<name>``; set again if it
    exists)."""
    existing = model.component(name)
    if existing is not None:
        existing.set_value(expr)
        return existing
    for objective in model.component_data_objects(pyo.Objective, active=True):
        objective.deactivate()
    objective = pyo.Objective(expr=expr, sense=pyo.minimize)
    model.add_component(name, objective)
    return objective


def metric_column(model: pyo.ConcreteModel, name: str, expr: Any, doc: str) -> pyo.Var:
    """A variable ``model.<name>`` defined equal to ``expr``: one column to bound."""
    column = pyo.Var(doc=doc)
    model.add_component(name, column)
    model.add_component(f"{name}_defines", pyo.Constraint(expr=column == expr))
    return column
