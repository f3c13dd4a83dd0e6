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

On-site output (``formulations.onsite``) is not bought: it comes off the grid bill and the
grid's emissions at the hour's price and intensity, and its own emissions are added:

    grid_mwh[p]       = energy_mwh[p] - years_p sum_{s,h} w_h onsite_output_mw[s,p,h]
    cost             -= sum w_h price[s,h] onsite_output_mw[s,p,h] opex_weight_years_p
    emissions_tco2[p] += years_p sum w_h (e_o output_mw[o,p,h] - carbon[s,h] onsite_output_mw)

Grid energy matched hour by hour by clean contracts (``formulations.clean``) carries no
emissions: ``emissions_tco2[p] -= years_p sum_z matched_tco2[z,p]`` (per zone, the hourly
sum_h w_h carbon[z,h] min(output_h, load_h), held by the clean concern's cuts).

``energy_mwh`` is the facility's energy (grid and on-site): the energy metric of the fronts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Coefficients, Concern
from formulations.core import attribute, masked, pair_table, put, series, times, used_pairs, weigh


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.energy = pyo.Block()
    mwh = pair_table(data, "energy_mwh_per_mw_year")
    cost = pair_table(data, "energy_cost_musd_per_mw_year")
    carbon = pair_table(data, "carbon_t_per_mw_year")
    years = series(data, "period_years")
    opex = series(data, "opex_weight_years")
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s, k, p in m.SITE_COOLING_PERIODS:
        pairs[p].append((s, k))
    it = m.phasing.it_mw

    # Per period, what on-site output takes off the grid: MWh/year, million USD/year, t/year.
    displaced_mwh: dict[str, Any] = defaultdict(float)
    displaced_musd: dict[str, Any] = defaultdict(float)
    displaced_tco2: dict[str, Any] = defaultdict(float)
    onsite_tco2: dict[str, Any] = defaultdict(float)
    weight = data["hour_weight_h"].to_numpy()
    if hasattr(m, "onsite"):
        price_h = data["site_price_musd_per_mwh"].to_numpy()
        carbon_h = data["site_carbon_t_per_mwh"].to_numpy()
        row = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
        for p in m.PERIODS:
            displaced_mwh[p] = m.onsite.output_mwh_per_year[p]
        for (s, p, h), output in m.onsite.site_output_mw.items():
            displaced_musd[p] += float(weight[h] * price_h[row[s], h]) * output
            displaced_tco2[p] += float(weight[h] * carbon_h[row[s], h]) * output
        for o, p in m.ONSITE_PERIODS:
            onsite_tco2[p] += m.onsite.emissions_tco2_per_year[o, p]
    if hasattr(m, "clean"):  # hour-by-hour accounting: matched energy carries no emissions
        for (_, p), matched in m.clean.matched_tco2.items():
            displaced_tco2[p] += matched

    b.energy_mwh = pyo.Expression(
        m.PERIODS,
        doc="Facility energy in the period (grid and on-site), MWh",
        rule=lambda _, p: sum(it[s, k, p] * mwh[s, k] * years[p] for s, k in pairs[p]),
    )
    b.grid_mwh = pyo.Expression(
        m.PERIODS,
        doc="Energy bought from the grid in the period, MWh",
        rule=lambda b, p: b.energy_mwh[p] - years[p] * displaced_mwh[p],
    )
    b.emissions_tco2 = pyo.Expression(
        m.PERIODS,
        doc="Emissions of the energy bought and generated on-site in the period, t CO2e",
        rule=lambda _, p: (
            sum(it[s, k, p] * carbon[s, k] * years[p] for s, k in pairs[p])
            + years[p] * (onsite_tco2[p] - displaced_tco2[p])
        ),
    )
    m.cost_terms_musd["energy"] = sum(
        it[s, k, p] * cost[s, k] * opex[p] for s, k, p in m.SITE_COOLING_PERIODS
    ) - sum(displaced_musd[p] * opex[p] for p in m.PERIODS)
    price = float(data.attrs["carbon_price_musd_per_t"])
    m.cost_terms_musd["carbon"] = (
        sum(b.emissions_tco2[p] * price * opex[p] / years[p] for p in m.PERIODS)
        if price > 0
        else 0.0
    )
    m.energy_terms_mwh["facility"] = sum(b.energy_mwh[p] for p in m.PERIODS)
    m.metrics["energy_mwh"] = sum(b.energy_mwh[p] for p in m.PERIODS)
    m.metrics["emissions_tco2"] = sum(b.emissions_tco2[p] for p in m.PERIODS)


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """Per campus and period: facility and grid energy, the energy bill (undiscounted, less
    what on-site output saves) and emissions (with on-site output's own, less the grid's it
    displaces; energy matched by contracts is taken off per zone in the plan's totals)."""
    it = plan["it_mw_by_cooling"].to_numpy()
    years = data["period_years"].to_numpy()
    energy = weigh(it, data, "energy_mwh_per_mw_year") * years
    cost = weigh(it, data, "energy_cost_musd_per_mw_year") * years
    emissions = weigh(it, data, "carbon_t_per_mw_year") * years
    grid = energy
    if "onsite_mwh" in plan:
        grid = energy - plan["onsite_mwh"].to_numpy()
        cost = cost - plan["onsite_saved_musd"].to_numpy()
        emissions = emissions + plan["onsite_net_emissions_tco2"].to_numpy()
    dims = ("site", "period")
    put(plan, "energy_mwh", dims, energy, "MWh")
    put(plan, "grid_mwh", dims, grid, "MWh")
    put(plan, "energy_cost_musd", dims, cost, "million USD (undiscounted)")
    put(plan, "emissions_tco2", dims, emissions, "t CO2e")


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    pairs = used_pairs(data)
    return [
        Coefficients(
            "energy_cost_musd_per_mw_year",
            "profiles/price_usd_per_mwh.csv x cooling_curves.csv pue",
            "objective",
            times(
                masked(data, "energy_cost_musd_per_mw_year", pairs),
                data["opex_weight_years"].to_numpy(),
            ),
        ),
        Coefficients(
            "energy_weight_musd_per_mwh",
            "scenario.yaml objective.energy_weight_usd_per_mwh",
            "objective",
            times(
                attribute(data, "energy_weight_musd_per_mwh"),
                masked(data, "energy_mwh_per_mw_year", pairs),
                data["period_years"].to_numpy(),
            ),
        ),
    ]


CONCERN = Concern(
    name="energy",
    add_to=add_to,
    needs=("phasing", "onsite", "clean"),
    extract=extract,
    coefficients=coefficients,
)
