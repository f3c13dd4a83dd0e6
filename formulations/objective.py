"""Objective: NPV of every registered cost term, plus an optional weight on energy use.

minimize  sum_terms cost_musd  +  energy_weight_musd_per_mwh * sum energy_mwh
"""

from __future__ import annotations

import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Concern


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.objective = pyo.Block()
    weight = float(data.attrs["energy_weight_musd_per_mwh"])
    b.total_cost_musd = pyo.Expression(
        expr=sum(m.cost_terms_musd.values()), doc="NPV of all costs, million USD"
    )
    energy = sum(m.energy_terms_mwh.values()) if weight > 0 else 0
    b.minimize_cost = pyo.Objective(expr=b.total_cost_musd + weight * energy, sense=pyo.minimize)


CONCERN = Concern(name="objective", add_to=add_to, closes=True)
