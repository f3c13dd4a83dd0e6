"""Energy: what the campuses buy from the grid, its cost and its carbon.

IT load is flat at ``it_load_factor`` of installed MW, so per MW IT the yearly energy, cost and
carbon are data (``energy_mwh_per_mw_year[s,k]`` = LF sum_h w_h PUE_{s,k,h}, and the same
weighted by the zone's price and carbon intensity at each hour):

    energy_mwh[p] = sum_{s,k} it_mw[s,k,p] * energy_mwh_per_mw_year[s,k] * years_p
    cost          = sum it_mw[s,k,p] * energy_cost_musd_per_mw_year[s,k] * opex_weight_years_p

With a carbon price (USD/t) the emissions are an operating cost too (term ``carbon``):
    cost_carbon   = sum it_mw[s,k,p] * carbon_t_per_mw_year[s,k] * price * opex_weight_years_p

``opex_weight_years_p`` = years_p x DF_p, plus for the last period the discounted tail years
of operation after the horizon (``horizon.opex_tail_years``).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
import xarray as xr

from formulations.core import pair_table


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.energy = pyo.Block()
    mwh = pair_table(data, "energy_mwh_per_mw_year")
    cost = pair_table(data, "energy_cost_musd_per_mw_year")
    carbon = pair_table(data, "carbon_t_per_mw_year")
    years = dict(zip(m.PERIODS, data["period_years"].to_numpy().tolist(), strict=True))
    opex = dict(zip(m.PERIODS, data["opex_weight_years"].to_numpy().tolist(), strict=True))
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s, k, p in m.SITE_COOLING_PERIODS:
        pairs[p].append((s, k))
    it = m.phasing.it_mw

    b.energy_mwh = pyo.Expression(
        m.PERIODS,
        doc="Energy bought in the period, MWh",
        rule=lambda _, p: sum(it[s, k, p] * mwh[s, k] * years[p] for s, k in pairs[p]),
    )
    b.emissions_tco2 = pyo.Expression(
        m.PERIODS,
        doc="Emissions of the energy bought in the period, t CO2e",
        rule=lambda _, p: sum(it[s, k, p] * carbon[s, k] * years[p] for s, k in pairs[p]),
    )
    m.cost_terms_musd["energy"] = sum(
        it[s, k, p] * cost[s, k] * opex[p] for s, k, p in m.SITE_COOLING_PERIODS
    )
    price = float(data.attrs["carbon_price_musd_per_t"])
    m.cost_terms_musd["carbon"] = (
        sum(it[s, k, p] * carbon[s, k] * price * opex[p] for s, k, p in m.SITE_COOLING_PERIODS)
        if price > 0
        else 0.0
    )
    m.energy_terms_mwh["grid"] = sum(b.energy_mwh[p] for p in m.PERIODS)
    m.metrics["energy_mwh"] = sum(b.energy_mwh[p] for p in m.PERIODS)
    m.metrics["emissions_tco2"] = sum(b.emissions_tco2[p] for p in m.PERIODS)
