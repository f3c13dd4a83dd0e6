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
No options in the scenario: no components.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo
import xarray as xr

from formulations.core import earlier, hourly_draw, series


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
    m.ONSITE_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        doc="(option, period, hour) at which the option is dispatched",
        initialize=[(o, p, h) for o, p in m.ONSITE_PERIODS for h in hours],
    )
    b.capacity_mw = pyo.Var(
        m.ONSITE_PERIODS,
        within=pyo.NonNegativeReals,
        bounds=lambda _, o, p: (0.0, float(max_mw[o])),
        doc="On-site capacity in service, MW",
    )
    b.added_mw = pyo.Var(m.ONSITE_PERIODS, within=pyo.NonNegativeReals, doc="MW added")
    b.output_mw = pyo.Var(m.ONSITE_HOURS, within=pyo.NonNegativeReals, doc="Output, MW")

    @b.Constraint(m.ONSITE_PERIODS)
    def counts_added(b: pyo.Block, o: str, p: str) -> object:
        """added_mw[o,p] >= capacity_mw[o,p] - capacity_mw[o,p-1]."""
        before = earlier(m, b.capacity_mw, (o,), p)
        return b.added_mw[o, p] >= b.capacity_mw[o, p] - (0 if before is None else before)

    @b.Constraint(m.ONSITE_HOURS)
    def within_capacity(b: pyo.Block, o: str, p: str, h: int) -> object:
        """output_mw[o,p,h] <= capacity_mw[o,p]."""
        return b.output_mw[o, p, h] <= b.capacity_mw[o, p]

    # Per campus and (period, hour): total on-site output, for the grid and energy accounts.
    options_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o, p in m.ONSITE_PERIODS:
        options_at[option_site[o], p].append(o)
    b.site_output_mw = {
        (s, p, h): sum(b.output_mw[o, p, h] for o in opts)
        for (s, p), opts in options_at.items()
        for h in hours
    }
    b.site_capacity_mw = {
        (s, p): sum(b.capacity_mw[o, p] for o in opts) for (s, p), opts in options_at.items()
    }

    draw = hourly_draw(m, data)
    load = float(data.attrs["it_load_factor_frac"])
    m.ONSITE_SITE_HOURS = pyo.Set(
        dimen=3, ordered=True, initialize=list(b.site_output_mw), doc="(site, period, hour)"
    )

    @b.Constraint(m.ONSITE_SITE_HOURS)
    def behind_the_meter(b: pyo.Block, s: str, p: str, h: int) -> object:
        """On-site output serves the campus's own load (no export)."""
        return b.site_output_mw[s, p, h] <= load * draw(s, p, h)

    weight = data["hour_weight_h"].to_numpy()
    emission = series(data, "onsite_emissions_t_per_mwh")
    permit = series(data, "onsite_permit_tco2_per_year")
    b.emissions_tco2_per_year = pyo.Expression(
        m.ONSITE_PERIODS,
        doc="On-site emissions in a year of the period, t CO2",
        rule=lambda b, o, p: sum(
            float(weight[h] * emission[o]) * b.output_mw[o, p, h] for h in hours
        ),
    )

    @b.Constraint(m.ONSITE_PERIODS)
    def within_permit(b: pyo.Block, o: str, p: str) -> object:
        """Yearly emissions within the option's air permit."""
        if not math.isfinite(permit[o]) or emission[o] == 0:
            return pyo.Constraint.Skip
        return b.emissions_tco2_per_year[o, p] <= float(permit[o])

    df = dict(zip(periods, data["discount_factor"].to_numpy().tolist(), strict=True))
    opex = dict(zip(periods, data["opex_weight_years"].to_numpy().tolist(), strict=True))
    capex = series(data, "onsite_capex_musd_per_mw")
    fixed = series(data, "onsite_fixed_musd_per_mw_year")
    marginal = series(data, "onsite_marginal_musd_per_mwh")
    per_period: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for o, p, h in m.ONSITE_HOURS:
        per_period[p].append((o, h))
    b.output_mwh_per_year = pyo.Expression(
        m.PERIODS,
        doc="On-site generation of all campuses in a year of the period, MWh",
        rule=lambda b, p: sum(float(weight[h]) * b.output_mw[o, p, h] for o, h in per_period[p]),
    )
    m.cost_terms_musd["onsite_capacity"] = sum(
        capex[o] * df[p] * b.added_mw[o, p] + fixed[o] * opex[p] * b.capacity_mw[o, p]
        for o, p in m.ONSITE_PERIODS
    )
    m.cost_terms_musd["onsite_fuel"] = sum(
        marginal[o] * opex[p] * float(weight[h]) * b.output_mw[o, p, h]
        for o, p, h in m.ONSITE_HOURS
    )
