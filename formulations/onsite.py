"""On-site (behind-the-meter) power: engines, turbines or fuel cells at a campus.

On-site capacity is firm supply at its campus, so blocks can energize before the grid
upgrade arrives (``interconnection`` adds it to the campus's headroom). Its output is
dispatched at every representative hour, only at campuses that have options:

    capacity_mw[o,p] <= max_mw_o                 (permit, as a bound; from lead_periods on)
    added_mw[o,p] >= capacity_mw[o,p] - capacity_mw[o,p-1]                      (counts_added)
    output_mw[o,p,h] <= capacity_mw[o,p]                                        (within_capacity)
    sum_{o at s} output_mw[o,p,h] <= LF sum_k pue[s,k,h] it_mw[s,k,p]           (behind_the_meter)
    sum_h w_h e_o output_mw[o,p,h] <= permit_tco2_per_year_o                    (within_permit)

Capacity may fall once the grid has taken over (a lease ends, units move on); capex is paid on
each MW added. Costs: capex_o DF_p added + fixed_o opex_weight_p capacity (term
``onsite_capacity``) and sum_h w_h marginal_o output opex_weight_p (fuel and variable O&M, term
``onsite_fuel``). What the output saves on the grid bill and the grid's emissions is counted by
``energy``; what the grid must still deliver each hour is bounded by ``interconnection``.
Where output reaches nothing but the cost its best value is closed-form, so hours alike share
one output and rows implied there are left out (``dispatch_groups``: exact).
No options in the scenario: no components.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
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
    View,
)
from formulations.core import (
    earlier,
    hourly_draw,
    masked,
    nonzero_rows,
    positions,
    put,
    series,
    solution,
    times,
)
from formulations.units import USD_PER_MUSD


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    if data.sizes.get("onsite", 0) == 0:
        return
    b = m.onsite = pyo.Block()
    periods = list(m.PERIODS)
    hours = list(m.HOURS)
    first_site = series(data, "site_first_index")
    sites = set(m.SITES)
    option_site = {o: s for o, s in series(data, "onsite_site").items() if s in sites}
    option_first = {
        o: max(int(lead), int(first_site[option_site[o]]))
        for o, lead in series(data, "onsite_first_index").items()
        if o in option_site
    }
    max_mw = series(data, "onsite_max_mw")
    m.ONSITE_PERIODS = pyo.Set(
        dimen=2,
        ordered=True,
        doc="(option, period) from the option's delivery and the campus's first period on",
        initialize=[(o, p) for o, first in option_first.items() for p in periods[first:]],
    )
    # Per option: each hour's representative hour (the first of its group) and the kind of
    # dispatch there (``dispatch_groups``).
    group_of, kind = dispatch_groups(m, data, option_site)
    m.ONSITE_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        doc="(option, period, hour) standing for a group of hours in which output is alike",
        initialize=[(o, p, h) for o, p in m.ONSITE_PERIODS for h in sorted(kind[o])],
    )
    b.capacity_mw = pyo.Var(
        m.ONSITE_PERIODS,
        within=pyo.NonNegativeReals,
        bounds=lambda _, o, p: (0.0, float(max_mw[o])),
        doc="On-site capacity in service, MW",
    )
    b.added_mw = pyo.Var(m.ONSITE_PERIODS, within=pyo.NonNegativeReals, doc="MW added")
    b.output_mw = pyo.Var(
        m.ONSITE_HOURS, within=pyo.NonNegativeReals, doc="Output in every hour of a group, MW"
    )
    b.hourly_output_mw = {
        (o, p, h): b.output_mw[o, p, group_of[o][h]] for o, p in m.ONSITE_PERIODS for h in hours
    }
    # Per (site, period, hour) group: how its output is dispatched (``dispatch_groups``),
    # which says the rows it needs.
    b.dispatch = {(option_site[o], p, h): kind[o][h] for o, p, h in m.ONSITE_HOURS}

    @b.Constraint(m.ONSITE_PERIODS)
    def counts_added(b: pyo.Block, o: str, p: str) -> object:
        """added_mw[o,p] >= capacity_mw[o,p] - capacity_mw[o,p-1]."""
        before = earlier(m, b.capacity_mw, (o,), p)
        return b.added_mw[o, p] >= b.capacity_mw[o, p] - (0 if before is None else before)

    @b.Constraint(m.ONSITE_HOURS)
    def within_capacity(b: pyo.Block, o: str, p: str, h: int) -> object:
        """output_mw[o,p,h] <= capacity_mw[o,p]."""
        if kind[o][h] == BACKUP:
            return pyo.Constraint.Skip
        return b.output_mw[o, p, h] <= b.capacity_mw[o, p]

    # Per campus and (period, hour): total on-site output, for the grid and energy accounts.
    options_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o, p in m.ONSITE_PERIODS:
        options_at[option_site[o], p].append(o)
    b.site_output_mw = {
        (s, p, h): sum(b.hourly_output_mw[o, p, h] for o in opts)
        for (s, p), opts in options_at.items()
        for h in hours
    }
    b.site_capacity_mw = {
        (s, p): sum(b.capacity_mw[o, p] for o in opts) for (s, p), opts in options_at.items()
    }

    draw = hourly_draw(m, data)
    load = float(data.attrs["it_load_factor_frac"])
    m.ONSITE_SITE_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=list(b.dispatch),
        doc="(site, period, hour) standing for a group of hours (its one option's groups)",
    )

    @b.Constraint(m.ONSITE_SITE_HOURS)
    def behind_the_meter(b: pyo.Block, s: str, p: str, h: int) -> object:
        """On-site output serves the campus's own load (no export)."""
        if b.dispatch[s, p, h] == BACKUP:
            return pyo.Constraint.Skip
        return b.site_output_mw[s, p, h] <= load * draw(s, p, h)

    weight = data["hour_weight_h"].to_numpy()
    # Per (option, representative hour): the hours and the weight its group stands for.
    members: dict[tuple[str, int], list[int]] = defaultdict(list)
    for o, first in group_of.items():
        for h, g in enumerate(first):
            members[o, g].append(h)
    group_weight = {key: float(weight[hs].sum()) for key, hs in members.items()}
    emission = series(data, "onsite_emissions_t_per_mwh")
    permit = series(data, "onsite_permit_tco2_per_year")
    b.emissions_tco2_per_year = pyo.Expression(
        m.ONSITE_PERIODS,
        doc="On-site emissions in a year of the period, t CO2",
        rule=lambda b, o, p: sum(
            group_weight[o, h] * float(emission[o]) * b.output_mw[o, p, h] for h in kind[o]
        ),
    )

    @b.Constraint(m.ONSITE_PERIODS)
    def within_permit(b: pyo.Block, o: str, p: str) -> object:
        """Yearly emissions within the option's air permit."""
        if not math.isfinite(permit[o]) or emission[o] == 0:
            return pyo.Constraint.Skip
        return b.emissions_tco2_per_year[o, p] <= float(permit[o])

    df = series(data, "discount_factor")
    opex = series(data, "opex_weight_years")
    capex = series(data, "onsite_capex_musd_per_mw")
    fixed = series(data, "onsite_fixed_musd_per_mw_year")
    marginal = series(data, "onsite_marginal_musd_per_mwh")
    per_period: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for o, p, h in m.ONSITE_HOURS:
        per_period[p].append((o, h))
    b.output_mwh_per_year = pyo.Expression(
        m.PERIODS,
        doc="On-site generation of all campuses in a year of the period, MWh",
        rule=lambda b, p: sum(group_weight[o, h] * b.output_mw[o, p, h] for o, h in per_period[p]),
    )
    m.cost_terms_musd["onsite_capacity"] = sum(
        capex[o] * df[p] * b.added_mw[o, p] + fixed[o] * opex[p] * b.capacity_mw[o, p]
        for o, p in m.ONSITE_PERIODS
    )
    m.cost_terms_musd["onsite_fuel"] = sum(
        marginal[o] * opex[p] * group_weight[o, h] * b.output_mw[o, p, h]
        for o, p, h in m.ONSITE_HOURS
    )


HOURLY, RUNS, BACKUP = "hourly", "runs", "backup"
"""How output is dispatched in a group of hours: in a single hour, running as much as it can
in hours alike, or only to back up the grid in hours alike (the grid's row alone)."""


def dispatch_groups(
    m: pyo.ConcreteModel, data: xr.Dataset, option_site: dict[str, str]
) -> tuple[dict[str, list[int]], dict[str, dict[int, str]]]:
    """Per option: the representative hour of each hour (``first[o][h]``) and how output is
    dispatched in each representative's group (``kind[o][g]``).

    The output of option o at campus s in period p and hour h costs, per MWh and against
    buying it from the grid, c_h = marginal_o - price[s,h] + carbon_price (e_o - carbon[s,h])
    (times w_h opex_p > 0). Where that is all it touches, the best output given the rest of
    the plan is closed-form: with G = firm + non-firm grid supply (``grid_mw``), D_h = LF
    sum_k pue[s,k,h] it_mw[s,k,p] and C the capacity, output_h may be anything in
    [max(0, D_h - G), min(C, D_h)] (``grid_delivers``; ``within_capacity``,
    ``behind_the_meter``), an interval never empty: ``interconnection.within_headroom``
    gives sum_k pue[s,k,h] it <= sum_k peak_pue it <= G' + C with G' = G - headroom (1 -
    site_open), 0 <= G' <= G, so D_h <= LF (G' + C) <= G + C (LF <= 1).

    * c_h > 0 (``BACKUP``): output_h = max(0, D_h - G), which is at most C (above) and at
      most D_h (G >= 0): the capacity and behind-the-meter rows are implied and left out.
      Every solution of the model without them becomes one of the full model at no higher
      cost by lowering each such output to its closed form, so the two models have the same
      LP and MIP optimum. The plans HiGHS returns are basic solutions, where such an output
      is its closed form whatever its cost: its one row is tight or it is 0 (a plan that
      broke a left-out row would fail the audit, which every solve in the tests runs).
    * c_h < 0 (``RUNS``): output_h = min(C, D_h). Every row is kept: grid_delivers is
      implied at that optimum too, but a plan within the solver's tolerances may leave
      output below it where it saves little (0.17 USD/MWh in an hour of the on-site
      example), and only the row then keeps the grid within its connection.

    Hours whose closed form is the same function (same kind, same PUE vector over the
    campus's coolings) share one output, their weights summed (every linear term in it is
    the sum of theirs): some optimum gives them the same output, so the optimum is kept.

    The closed form needs output to reach nothing but the cost, so every hour keeps its own
    rows (``HOURLY``) where c_h = 0, at a campus with several options, for an option with an
    air permit (its emissions are capped), with clean contracts (matching reads the grid
    load net of output), in the stressed hours of a flexible campus (output spares
    curtailment there), and when ``data.attrs["hourly_dispatch"]`` is set (Pareto fronts,
    whose objective is not the cost)."""
    n_h = data.sizes["hour"]
    hours = list(range(n_h))
    first = {o: hours for o in option_site}
    kind = {o: dict.fromkeys(hours, HOURLY) for o in option_site}
    options_at: dict[str, list[str]] = defaultdict(list)
    for o, s in option_site.items():
        options_at[s].append(o)
    if data.attrs.get("hourly_dispatch") or data.sizes.get("contract", 0) > 0:
        return first, kind
    si, ki = positions(data, "site"), positions(data, "cooling")
    coolings: dict[str, list[int]] = defaultdict(list)
    for s, k in m.SITE_COOLING:
        coolings[s].append(ki[k])
    pue = data["pue"].to_numpy()
    price = data["site_price_musd_per_mwh"].to_numpy()
    carbon = data["site_carbon_t_per_mwh"].to_numpy()
    carbon_price = float(data.attrs["carbon_price_musd_per_t"])
    flexible = data["nonfirm_mw"].to_numpy().max(axis=1) > 0
    stressed = data["stressed_weight_h"].to_numpy() > 0
    marginal = series(data, "onsite_marginal_musd_per_mwh")
    emission = series(data, "onsite_emissions_t_per_mwh")
    permit = series(data, "onsite_permit_tco2_per_year")
    for o, s in option_site.items():
        if len(options_at[s]) > 1 or (math.isfinite(permit[o]) and emission[o] > 0):
            continue
        i = si[s]
        cost = marginal[o] - price[i] + carbon_price * (emission[o] - carbon[i])
        fixed = (cost == 0) | (stressed[i] & flexible[i])
        groups: dict[tuple[object, ...], int] = {}
        first[o] = []
        for h in hours:
            key: tuple[object, ...] = (
                (h,) if fixed[h] else (cost[h] < 0, *pue[i, coolings[s], h].tolist())
            )
            g = groups.setdefault(key, h)
            first[o].append(g)
            if g == h:
                kind[o][h] = HOURLY if fixed[h] else RUNS if cost[h] < 0 else BACKUP
        kind[o] = {g: kind[o][g] for g in groups.values()}
    return first, kind


#: The diagnosis weighs a t CO2/yr of air permit as 1/4,650 MW: 1 MW of gas engines running
#: all year emits about 4,650 t (8,760 h x 0.53 t/MWh).
PERMIT_WEIGHT_PER_T = 1 / 4650


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """Per option and period: MW in service and added, output per hour, energy and emissions.
    Per campus and period: on-site MW and MWh, the grid energy cost the output avoids
    (undiscounted) and its emissions net of the grid's it displaces (for ``energy``)."""
    oi, pi = positions(data, "onsite"), positions(data, "period")
    n_o, n_p, n_h = data.sizes["onsite"], data.sizes["period"], data.sizes["hour"]
    b = m.onsite
    capacity = solution(b.capacity_mw, (n_o, n_p), lambda i: (oi[i[0]], pi[i[1]]))
    added = solution(b.added_mw, (n_o, n_p), lambda i: (oi[i[0]], pi[i[1]]))
    output = solution(b.hourly_output_mw, (n_o, n_p, n_h), lambda i: (oi[i[0]], pi[i[1]], i[2]))
    years = data["period_years"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    per_year = output @ weight  # (option, period) MWh per year
    emissions = data["onsite_emissions_t_per_mwh"].to_numpy()
    plan.coords["onsite"] = data["onsite"]
    put(plan, "onsite_site", ("onsite",), data["onsite_site"].to_numpy(), "")
    put(plan, "onsite_technology", ("onsite",), data["onsite_technology"].to_numpy(), "")
    put(plan, "onsite_capacity_mw", ("onsite", "period"), capacity, "MW")
    put(plan, "onsite_added_mw", ("onsite", "period"), added, "MW")
    put(plan, "onsite_output_mw", ("onsite", "period", "hour"), output, "MW")
    put(plan, "onsite_energy_mwh", ("onsite", "period"), per_year * years, "MWh")
    put(
        plan,
        "onsite_emissions_tco2",
        ("onsite", "period"),
        per_year * years * emissions[:, None],
        "t CO2e",
    )
    si = positions(data, "site")
    site_mw = np.zeros((data.sizes["site"], n_p))
    site_mwh, saved_musd, net_tco2 = (np.zeros_like(site_mw) for _ in range(3))
    price = data["site_price_musd_per_mwh"].to_numpy()
    carbon = data["site_carbon_t_per_mwh"].to_numpy()
    for o, site in enumerate(data["onsite_site"].to_numpy()):
        i = si[str(site)]
        site_mw[i] += capacity[o]
        site_mwh[i] += per_year[o] * years
        saved_musd[i] += (output[o] @ (weight * price[i])) * years
        net_tco2[i] += (output[o] @ (weight * (emissions[o] - carbon[i]))) * years
    dims = ("site", "period")
    put(plan, "onsite_mw", dims, site_mw, "MW")
    put(plan, "onsite_mwh", dims, site_mwh, "MWh")
    put(plan, "onsite_saved_musd", dims, saved_musd, "million USD (undiscounted)")
    put(plan, "onsite_net_emissions_tco2", dims, net_tco2, "t CO2e")


def onsite_table(ds: xr.Dataset) -> pd.DataFrame:
    """On-site option x period (options with capacity): MW in service and added, energy,
    emissions and the share of the campus's facility energy served on-site."""
    names = ["onsite_capacity_mw", "onsite_added_mw", "onsite_energy_mwh"]
    frame = ds[names].to_dataframe().reset_index()
    n_p = ds.sizes["period"]
    frame["emissions_tco2"] = ds["onsite_emissions_tco2"].to_numpy().ravel()
    frame.insert(1, "site_id", np.repeat(ds["onsite_site"].to_numpy(), n_p))
    frame.insert(2, "technology", np.repeat(ds["onsite_technology"].to_numpy(), n_p))
    site_energy = ds["energy_mwh"].to_dataframe()["energy_mwh"]
    keys = list(zip(frame["site_id"], frame["period"], strict=True))
    total = np.array([site_energy.get(k, 0.0) for k in keys])
    frame["share_of_site_energy"] = np.where(total > 0, frame["onsite_energy_mwh"] / total, 0.0)
    return nonzero_rows(frame, "onsite_capacity_mw", {"onsite": "option_id"})


def dispatch_table(ds: xr.Dataset) -> pd.DataFrame:
    """Non-zero on-site output per option, period and representative hour, MW."""
    frame = ds["onsite_output_mw"].to_dataframe().reset_index()
    return nonzero_rows(frame, "onsite_output_mw", {"onsite": "option_id"})


def _permit_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    o, p = index
    site = str(data["onsite_site"].sel(onsite=o).item())
    msg = f"{p}: air permit of {o} at {site} short by {amount:,.0f} t CO2/yr"
    return Relaxation("onsite.within_permit", str(o), str(p), amount, "t CO2/yr", msg)


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    discount = data["discount_factor"].to_numpy()
    opex = data["opex_weight_years"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    permit = masked(data, "onsite_permit_tco2_per_year")
    return [
        Coefficients(
            "onsite_capex_musd_per_mw",
            "onsite_power.csv capex_musd_per_mw",
            "objective",
            times(masked(data, "onsite_capex_musd_per_mw"), discount),
        ),
        Coefficients(
            "onsite_fixed_musd_per_mw_year",
            "onsite_power.csv fixed_cost_musd_per_mw_year",
            "objective",
            times(masked(data, "onsite_fixed_musd_per_mw_year"), opex),
        ),
        Coefficients(
            "onsite_marginal_musd_per_mwh",
            "onsite_power.csv heat_rate, fuel price and variable O&M",
            "objective",
            times(masked(data, "onsite_marginal_musd_per_mwh"), opex, weight),
        ),
        Coefficients(
            "onsite_emissions_t_per_mwh",
            "onsite_power.csv heat_rate_mmbtu_per_mwh x emissions_kg_per_mmbtu",
            "constraint matrix",
            times(masked(data, "onsite_emissions_t_per_mwh", np.isfinite(permit)), weight),
        ),
        Coefficients(
            "onsite_permit_tco2_per_year",
            "onsite_power.csv permit_tco2_per_year",
            "right-hand side",
            permit,
        ),
    ]


CONCERN = Concern(
    name="onsite",
    add_to=add_to,
    needs=("phasing",),
    families={
        "counts_added": Family(),
        "within_capacity": Family(),
        "behind_the_meter": Family(),
        "within_permit": Family(
            relax=Relax("t CO2/yr", _permit_short, weight=PERMIT_WEIGHT_PER_T),
            marginal=Marginal("permit", "USD per t CO2/yr", -1.0, "saves", scale=USD_PER_MUSD),
        ),
    },
    extract=extract,
    views=(
        View(
            "onsite",
            onsite_table,
            "onsite.csv",
            "onsite_capacity_mw",
            (
                "option_id",
                "site_id",
                "technology",
                "period",
                "onsite_capacity_mw",
                "onsite_added_mw",
                "onsite_energy_mwh",
                "emissions_tco2",
                "share_of_site_energy",
            ),
        ),
        View(
            "onsite_dispatch",
            dispatch_table,
            "onsite_dispatch.csv",
            "onsite_output_mw",
            ("option_id", "period", "hour", "onsite_output_mw"),
        ),
    ),
    coefficients=coefficients,
)
