"""Demand regions: inference served within a latency bound of its users.

Part of the fleet serves inference and must sit within a round-trip latency bound of a region's
users; training can sit anywhere. A region's demand may be split across campuses
(``serve_mw[r,s,p]``, only for pairs within the latency limit), and what a campus serves uses
its installed IT capacity:

    sum_s serve_mw[r,s,p] >= inference_demand_mw[r,p]                  (meets_demand)
    sum_r serve_mw[r,s,p] <= sum_k it_mw[s,k,p]                        (within_capacity)
    serve_mw[r,s,p] <= inference_demand_mw[r,p] * site_open[s,p]       (only_from_open)
    cost = sum serve_mw[r,s,p] * network_cost_musd_per_mw_year[r,s] * opex_weight_years_p

Two exact reductions where ``formulations.strength`` bounds a campus by what it can deliver
(``deliverable_it_mw``, largest over k: ``cap[s,p]``; its rows give
``sum_k it_mw[s,k,p] <= cap[s,p] * site_open[s,p]``): a pair is left out in a period where
``cap[s,p] = 0`` (it could serve nothing; kept if the region has no other pair then, so that
an unservable region is still reported as such), and ``only_from_open`` is left out where
``inference_demand_mw[r,p] >= cap[s,p]``, since within_capacity and strength imply it there,
in the LP as in the MIP. At 200 sites and 40 regions (``benchmarks/generate.py --regions
40``): rows 64,490 -> 61,466, columns 49,595 -> 48,285, LP bound unchanged (296,037.55).

With everything energy-related left out (no prices, capex, ramp) this is the capacitated
facility-location problem with split demand: fixed cost = development capex, capacity =
max_it_mw, assignment cost = network cost. No regions in the scenario: no components.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Coefficients, Concern, Family, Index, Relax, Relaxation, View
from formulations.core import (
    ArrayCost,
    ArrayRows,
    buildable_sites,
    cleaned,
    hold_as_arrays,
    hold_cost_as_arrays,
    masked,
    put,
    summed,
    times,
)


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    if "region" not in data.coords or data.sizes["region"] == 0:
        return
    b = m.demand = pyo.Block()
    regions = [str(r) for r in data["region"].to_numpy()]
    sites = [str(s) for s in data["site"].to_numpy()]
    periods = [str(p) for p in data["period"].to_numpy()]
    demand = data["inference_demand_mw"].to_numpy()
    cost = data["network_cost_musd_per_mw_year"].to_numpy()
    opex = data["opex_weight_years"].to_numpy()
    techs = m.techs_at
    site_index = {s: j for j, s in enumerate(sites)}
    # (site, period) of the model: m.SITES keeps the data's site order, so the nonzero
    # positions below (region, site, period, each in data order) are the model's order
    live = np.zeros((len(sites), len(periods)), dtype=bool)
    for s, p in m.SITE_PERIODS:
        live[site_index[s], m.period_index[p]] = True
    # as formulations.strength: its rows bound IT by deliverable_it_mw, except in the
    # diagnosis's elastic copy (time rules opened), where nothing is reduced
    strong = "site_rule_first_index" not in data
    cap_mw = data["deliverable_it_mw"].to_numpy().max(axis=1)  # (site, period)
    reach = (
        data["serving_allowed"].to_numpy()[:, :, None] & live[None, :, :] & (demand > 0)[:, None, :]
    )  # (region, site, period): within latency, with demand
    delivers = cap_mw[None, :, :] > 0
    can_deliver = (reach & delivers).any(axis=1)  # (region, period)
    kept = reach & (delivers | ~can_deliver[:, None, :]) if strong else reach
    ri, si, pi = np.nonzero(kept)
    implied = (demand[ri, pi] >= cap_mw[si, pi]) if strong else np.zeros(len(ri), dtype=bool)
    triples = list(
        zip(
            np.array(regions, dtype=object)[ri].tolist(),
            np.array(sites, dtype=object)[si].tolist(),
            np.array(periods, dtype=object)[pi].tolist(),
            strict=True,
        )
    )
    m.REGION_SITE_PERIODS = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=triples,
        doc="(region, site, period) within latency, with demand",
    )
    b.serve_mw = pyo.Var(
        m.REGION_SITE_PERIODS,
        within=pyo.NonNegativeReals,
        doc="Inference IT MW of the region served from the campus",
    )
    b.serve_positions = (ri, si, pi)  # for extract: (region, site, period) of each column
    serve = list(b.serve_mw.values())  # in the order of the triples
    serve_of = dict(zip(triples, serve, strict=True))
    by_region: dict[tuple[str, str], list[pyo.Var]] = defaultdict(list)
    by_site: dict[tuple[str, str], list[pyo.Var]] = defaultdict(list)
    for (r, s, p), v in serve_of.items():
        by_region[r, p].append(v)
        by_site[s, p].append(v)
    demand_rows = [
        (r, p) for i, r in enumerate(regions) for t, p in enumerate(periods) if demand[i, t] > 0
    ]
    need = {
        (r, p): float(demand[i, t]) for i, r in enumerate(regions) for t, p in enumerate(periods)
    }
    site_open = dict(m.siting.site_open.items())

    @b.Constraint(demand_rows)
    def meets_demand(b: pyo.Block, r: str, p: str) -> object:
        """sum_s serve_mw[r,s,p] >= inference_demand_mw[r,p]."""
        if not by_region[r, p]:
            return pyo.Constraint.Infeasible
        return summed(by_region[r, p]) >= need[r, p]

    @b.Constraint(sorted(by_site))
    def within_capacity(b: pyo.Block, s: str, p: str) -> object:
        """sum_r serve_mw[r,s,p] <= sum_k it_mw[s,k,p]."""
        return summed(by_site[s, p]) <= sum(m.phasing.it_mw[s, k, p] for k in techs[s, p])

    rows = [key for key, out in zip(triples, implied.tolist(), strict=True) if not out]

    @b.Constraint(rows)
    def only_from_open(b: pyo.Block, r: str, s: str, p: str) -> object:
        """serve_mw[r,s,p] <= inference_demand_mw[r,p] * site_open[s,p]: a closed campus
        serves nothing, and no region needs more than its demand from one campus. Implied
        by within_capacity for every plan that serves no more than is asked (any optimum:
        serving costs), it is the disaggregated row that makes the LP of facility location
        tight: the aggregated big-M (max_it_mw x site_open) alone opens campuses in part
        (``benchmarks/facility_location.py``). Left out where the demand is at least what
        the campus can deliver (implied, see the module docstring)."""
        return serve_of[r, s, p] <= need[r, p] * site_open[s, p]

    # the three families as arrays too, for the solver's compile (at 1,000 sites x 200
    # regions their 4 M entries were 60 % of the compile's seconds through Pyomo): serving
    # column e is in meets_demand's row of (r, p) and within_capacity's of (s, p)
    n = len(serve)
    ones = np.ones(n)
    demand_row = np.full(demand.shape, -1)
    demand_row[demand > 0] = np.arange(len(demand_rows))  # region-major, as demand_rows
    hold_as_arrays(
        m,
        ArrayRows(b.meets_demand, demand_row[ri, pi], serve, ones, demand[demand > 0], ">="),
    )
    site_rows = {key: i for i, key in enumerate(b.within_capacity)}
    it_keys = [(i, (s, k, p)) for (s, p), i in site_rows.items() for k in techs[s, p]]
    it_mw = m.phasing.it_mw
    hold_as_arrays(
        m,
        ArrayRows(
            b.within_capacity,
            np.concatenate(
                (
                    np.fromiter((site_rows[s, p] for _, s, p in triples), np.int64, n),
                    np.array([i for i, _ in it_keys], dtype=np.int64),
                )
            ),
            serve + [it_mw[key] for _, key in it_keys],
            np.concatenate((ones, -np.ones(len(it_keys)))),
            np.zeros(len(site_rows)),
        ),
    )
    held = ~implied  # (serve_mw - demand x site_open <= 0)
    hold_as_arrays(
        m,
        ArrayRows(
            b.only_from_open,
            np.tile(np.arange(len(rows)), 2),
            [v for v, keep in zip(serve, held.tolist(), strict=True) if keep]
            + [site_open[s, p] for _, s, p in rows],
            np.concatenate((ones[held], -demand[ri[held], pi[held]])),
            np.zeros(len(rows)),
        ),
    )

    # (serve_mw * cost) * opex as before: cost * opex is the same product of two floats
    weight = cost[ri, si] * opex[pi]
    b.serving_cost_musd = pyo.Expression(
        expr=summed([v * w for v, w in zip(serve, weight.tolist(), strict=True)]),
        doc="NPV of the network cost of serving inference, million USD",
    )
    m.cost_terms_musd["serving"] = b.serving_cost_musd
    if np.all(weight != 0):  # (v * 0 is no term: held only where every pair costs)
        hold_cost_as_arrays(m, ArrayCost(b.serving_cost_musd, serve, weight))
    # the rules ran (Pyomo keeps them): free what only they needed, as the model lives on
    serve_of.clear()
    by_region.clear()
    by_site.clear()


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """Inference MW served per region, campus and period, with the demand and latencies."""
    shape = (data.sizes["region"], data.sizes["site"], data.sizes["period"])
    served = np.fromiter((v.value for v in m.demand.serve_mw.values()), float)
    serve = np.zeros(shape)
    serve[m.demand.serve_positions] = served
    plan.coords["region"] = data["region"]
    put(plan, "inference_demand_mw", ("region", "period"), data["inference_demand_mw"], "MW")
    put(plan, "latency_ms", ("region", "site"), data["latency_ms"], "ms")
    put(plan, "serve_mw", ("region", "site", "period"), cleaned(serve), "MW")


def serving_table(ds: xr.Dataset) -> pd.DataFrame:
    """Region x campus x period with MW served (non-zero rows, in region, campus, period
    order) and the pair's latency."""
    serve = ds["serve_mw"].transpose("region", "site", "period").to_numpy()
    r, s, p = np.nonzero(serve > 0)
    latency = ds["latency_ms"].transpose("region", "site").to_numpy()
    return pd.DataFrame(
        {
            "region_id": ds["region"].to_numpy()[r],
            "site_id": ds["site"].to_numpy()[s],
            "period": ds["period"].to_numpy()[p],
            "serve_mw": serve[r, s, p],
            "latency_ms": latency[r, s],
        }
    )


def _demand_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    r, p = index
    msg = f"{p}: inference demand of {r} short by {amount:,.0f} MW within its latency limit"
    return Relaxation("demand.meets_demand", str(r), str(p), amount, "MW", msg)


def _out_of_reach(index: Index, data: xr.Dataset) -> str:
    r, p = index
    nearest = float(data["latency_ms"].sel(region=r).min())
    return (
        f"{p}: no campus can serve {r} within its latency limit (nearest "
        f"{nearest:,.1f} ms round trip)"
    )


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    if "region" not in data.coords or data.sizes["region"] == 0:
        return []
    pairs = data["serving_allowed"].to_numpy() & buildable_sites(data)[None, :]
    return [
        Coefficients(
            "network_cost_musd_per_mw_year",
            "demand_regions.csv / serving.csv network cost",
            "objective",
            times(
                masked(data, "network_cost_musd_per_mw_year", pairs),
                data["opex_weight_years"].to_numpy(),
            ),
        ),
        Coefficients(
            "inference_demand_mw",
            "inference_demand.csv",
            "right-hand side",
            masked(data, "inference_demand_mw"),
        ),
    ]


CONCERN = Concern(
    name="demand",
    add_to=add_to,
    needs=("siting", "phasing"),
    families={
        "meets_demand": Family(relax=Relax("MW", _demand_short), impossible=_out_of_reach),
        "within_capacity": Family(),
        "only_from_open": Family(),
    },
    extract=extract,
    views=(
        View(
            "serving",
            serving_table,
            "serving.csv",
            "serve_mw",
            ("region_id", "site_id", "period", "serve_mw", "latency_ms"),
            in_json=True,
        ),
    ),
    coefficients=coefficients,
)
