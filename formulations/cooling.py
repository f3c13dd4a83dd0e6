"""Cooling: one technology per open campus, its capex, and its water.

Which technologies may serve a campus is decided by data (``allowed[s,k]``, the sparse set
``SITE_COOLING``): a technology whose design ambient limit (dry-bulb or wet-bulb) is exceeded by
the campus's design-day temperature is not allowed there, nor is an air technology when the
platform needs liquid cooling.

    sum_k cooling_chosen[s,k] = site_open[s,P]                        (one_per_open_site)
    it_mw[s,k,P] <= max_it_mw_s * cooling_chosen[s,k]                 (uses_chosen)
    sum_k it_mw[s,k,p] * water_hm3_per_mw_year[s,k] <= water_limit_s   (within_water_limit)

Cooling capex is paid with each block; water is an operating cost:
    cost = sum new_it_mw * capex_k * DF_p + sum it_mw * water_cost_per_mw_year * opex_weight_years_p
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo
import xarray as xr

from formulations.core import last_period, pair_table, series


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.cooling = pyo.Block()
    max_mw = series(data, "max_it_mw")
    limit = series(data, "water_limit_hm3_per_year")
    water = pair_table(data, "water_hm3_per_mw_year")
    water_cost = pair_table(data, "water_cost_musd_per_mw_year")
    capex = dict(
        zip(m.COOLING_TECHS, data["cooling_capex_musd_per_mw"].to_numpy().tolist(), strict=True)
    )
    df = dict(zip(m.PERIODS, data["discount_factor"].to_numpy().tolist(), strict=True))
    opex = dict(zip(m.PERIODS, data["opex_weight_years"].to_numpy().tolist(), strict=True))
    last = last_period(m)
    techs: dict[str, list[str]] = defaultdict(list)
    for s, k in m.SITE_COOLING:
        techs[s].append(k)

    b.cooling_chosen = pyo.Var(
        m.SITE_COOLING, within=pyo.Binary, doc="1 if the campus uses this cooling technology"
    )

    @b.Constraint(m.SITES)
    def one_per_open_site(b: pyo.Block, s: str) -> object:
        """sum_k cooling_chosen[s,k] = site_open[s,last]."""
        return sum(b.cooling_chosen[s, k] for k in techs[s]) == m.siting.site_open[s, last]

    @b.Constraint(m.SITE_COOLING)
    def uses_chosen(b: pyo.Block, s: str, k: str) -> object:
        """it_mw[s,k,last] <= max_it_mw_s * cooling_chosen[s,k]."""
        return m.phasing.it_mw[s, k, last] <= max_mw[s] * b.cooling_chosen[s, k]

    @b.Constraint(m.SITE_PERIODS)
    def within_water_limit(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] * water_hm3_per_mw_year[s,k] <= water_limit_hm3_per_year_s."""
        if not math.isfinite(limit[s]):
            return pyo.Constraint.Skip
        uses = [(k, water[s, k]) for k in techs[s] if water[s, k] > 0]
        if not uses:
            return pyo.Constraint.Skip
        return sum(m.phasing.it_mw[s, k, p] * w for k, w in uses) <= limit[s]

    m.cost_terms_musd["cooling"] = sum(
        m.phasing.new_it_mw[s, k, p] * capex[k] * df[p] for s, k, p in m.SITE_COOLING_PERIODS
    )
    years = dict(zip(m.PERIODS, data["period_years"].to_numpy().tolist(), strict=True))
    water_m3 = pair_table(data, "water_m3_per_mw_year")
    m.metrics["water_m3"] = sum(
        m.phasing.it_mw[s, k, p] * water_m3[s, k] * years[p]
        for s, k, p in m.SITE_COOLING_PERIODS
        if water_m3[s, k] > 0
    )
    m.cost_terms_musd["water"] = sum(
        m.phasing.it_mw[s, k, p] * water_cost[s, k] * opex[p]
        for s, k, p in m.SITE_COOLING_PERIODS
        if water_cost[s, k] > 0
    )
