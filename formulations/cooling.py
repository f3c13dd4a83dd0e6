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

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from formulations.concern import (
    Coefficients,
    Concern,
    Family,
    Index,
    Marginal,
    Relax,
    Relaxation,
    SharesSlack,
)
from formulations.core import (
    buildable_sites,
    last_period,
    masked,
    pair_table,
    put,
    series,
    times,
    used_pairs,
    weigh,
)
from formulations.units import M3_PER_HM3


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.cooling = pyo.Block()
    max_mw = series(data, "max_it_mw")
    limit = series(data, "water_limit_hm3_per_year")
    water = pair_table(data, "water_hm3_per_mw_year")
    water_cost = pair_table(data, "water_cost_musd_per_mw_year")
    capex = dict(
        zip(m.COOLING_TECHS, data["cooling_capex_musd_per_mw"].to_numpy().tolist(), strict=True)
    )
    df = series(data, "discount_factor")
    opex = series(data, "opex_weight_years")
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
    years = series(data, "period_years")
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


#: The diagnosis weighs a hm3/yr of water as 100 MW of capacity.
WATER_WEIGHT_PER_HM3 = 100.0


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """Water drawn per campus and period, m3."""
    it = plan["it_mw_by_cooling"].to_numpy()
    years = data["period_years"].to_numpy()
    put(plan, "water_m3", ("site", "period"), weigh(it, data, "water_m3_per_mw_year") * years, "m3")


def _water_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    s, p = index
    m3 = amount * M3_PER_HM3
    msg = f"{p}: water limit at {s} short by {m3:,.0f} m3/yr"
    return Relaxation("cooling.within_water_limit", str(s), str(p), m3, "m3/yr", msg)


def _site_max_key(m: pyo.ConcreteModel, index: Index) -> Index:
    return (index[0], last_period(m))


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    pairs = used_pairs(data)
    opex = data["opex_weight_years"].to_numpy()
    per_new_mw = np.array([float(data.attrs.get("block_it_mw", 0.0)) or 1.0])
    water_limited = np.isfinite(data["water_limit_hm3_per_year"].to_numpy())
    capex = masked(data, "cooling_capex_musd_per_mw", np.asarray(pairs.any(axis=0)))
    return [
        Coefficients(
            "cooling_capex_musd_per_mw",
            "cooling_technologies.csv capex_musd_per_mw",
            "objective",
            times(capex, data["discount_factor"].to_numpy(), per_new_mw),
        ),
        Coefficients(
            "water_cost_musd_per_mw_year",
            "sites.csv water_price_usd_per_m3 x cooling_curves.csv wue_l_per_kwh",
            "objective",
            times(masked(data, "water_cost_musd_per_mw_year", pairs), opex),
        ),
        Coefficients(
            "water_hm3_per_mw_year",
            "cooling_curves.csv wue_l_per_kwh",
            "constraint matrix",
            masked(data, "water_hm3_per_mw_year", pairs & water_limited[:, None]),
        ),
        Coefficients(
            "water_limit_hm3_per_year",
            "sites.csv water_limit_m3_per_year",
            "right-hand side",
            masked(data, "water_limit_hm3_per_year", buildable_sites(data) & water_limited),
        ),
    ]


CONCERN = Concern(
    name="cooling",
    add_to=add_to,
    needs=("siting", "phasing"),
    families={
        "one_per_open_site": Family(),
        "uses_chosen": Family(relax=SharesSlack("phasing.within_site_max", _site_max_key)),
        "within_water_limit": Family(
            relax=Relax("hm3/yr", _water_short, weight=WATER_WEIGHT_PER_HM3),
            # water rows are in hm3 and costs in M USD: M USD per hm3 = USD per m3
            marginal=Marginal("water", "USD per m3/yr", -1.0, "saves", scale=1.0),
        ),
    },
    extract=extract,
    coefficients=coefficients,
)
