"""Interconnection: firm headroom per campus, upgrades with lead times, flexible (curtailable)
headroom, zonal import limits.

Facility draw is IT MW x PUE of the chosen cooling at that hour's temperature. IT load is flat,
so at a campus (one cooling technology) the binding hour is the design hour: ``peak_pue[s,k]``.
Zonal limits need hours, since campuses of a zone peak at different hours; only hours not
dominated by another hour are kept (``zone_binding_hour``), which is exact.

    firm_mw[s,p] = headroom_mw[s,p] + sum_{u at s} added_mw_u * upgrade_online[u,p]
    upgrade_online[u,p] >= upgrade_online[u,p-1]                                (stays_online)
    upgrade_online[u,p] <= site_open[s_u,p]                                     (needs_open_site)
    sum_k it_mw[s,k,p] * peak_pue[s,k]
        <= firm_mw[s,p] - headroom_mw[s,p] (1 - site_open[s,p])
           + nonfirm_mw[s,p] + onsite_capacity_mw[s,p]                           (within_headroom)
    sum_{s in z,k} it_mw[s,k,p] * pue[s,k,h] <= import_limit_mw_z               (within_zone_limit)

An upgrade exists from its lead time after the first period; its capex is paid when it enters
service: cost = sum capex_u * DF_p * (upgrade_online[u,p] - upgrade_online[u,p-1]).

**Flexible connection** (``flexible_connections.csv``). ``nonfirm_mw[s,p]`` (0 to the tier's
MW) is usable except in the campus's stressed hours S_s (the zone's highest-price hours within
the curtailment budget, see ``prepare``; ``sw_h`` is the part of an hour's weight that is
stressed), in which the campus sheds IT down to its firm supply:

    sum_k pue[s,k,h] (it_mw[s,k,p] - curtailed_it_mw[s,k,p,h]) - onsite_output_mw[s,p,h]
        <= firm_mw[s,p] - headroom_mw[s,p] (1 - site_open[s,p])   for h in S_s  (curtailed_to_firm)
    curtailed_it_mw[s,k,p,h] <= it_mw[s,k,p]                                    (sheds_installed)
    cost = sum lost_compute_s * sw_h * curtailed_it_mw * opex_weight_years_p    (term curtailment)

Stressed hours with the same PUE vector share these rows, their weights summed
(``stressed_groups``: exact).

Curtailment is sized on the full-load draw, as headroom is, and the lost compute is valued on
it; the grid energy it avoids is not credited (at most the budget's share of the year). As
the stressed weight equals the budget, curtailing every IT MW in every stressed hour stays
within it. On-site power spares curtailment only by what it generates in that hour; output is
one value per representative hour, so where an hour is only partly stressed the units run
through all of it (conservative).

**On-site power** (``formulations.onsite``): its capacity is firm supply at the campus (above),
and at every hour the grid delivers the rest of the average load within its connection:

    LF sum_k pue[s,k,h] it_mw[s,k,p] - onsite_output_mw[s,p,h]
        <= firm_mw[s,p] + nonfirm_mw[s,p]                                       (grid_delivers)

Zonal limits count campus load without on-site output or curtailment: conservative.
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
    SharesSlack,
    View,
)
from formulations.core import (
    buildable_sites,
    earlier,
    first_period,
    hourly_draw,
    increase,
    masked,
    pair_table,
    positions,
    put,
    series,
    solution,
    summed,
    times,
    used_pairs,
)
from formulations.units import USD_PER_MUSD


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.interconnection = pyo.Block()
    periods = list(m.PERIODS)
    df = series(data, "discount_factor")
    peak = pair_table(data, "peak_pue")
    headroom_mw = data["headroom_mw"].to_numpy()
    headroom = {
        (str(site), str(p)): float(headroom_mw[i, j])
        for i, site in enumerate(data["site"].to_numpy())
        for j, p in enumerate(periods)
    }
    sites = set(m.SITES)
    upgrades = {
        str(u): (str(s), float(mw), float(capex), int(first))
        for u, s, mw, capex, first in zip(
            data["upgrade"].to_numpy(),
            data["upgrade_site"].to_numpy(),
            data["upgrade_added_mw"].to_numpy(),
            data["upgrade_capex_musd"].to_numpy(),
            data["upgrade_first_index"].to_numpy(),
            strict=True,
        )
        if str(s) in sites and int(first) < len(periods)
    }
    m.UPGRADES = pyo.Set(initialize=list(upgrades), ordered=True, doc="Upgrade options")
    m.UPGRADE_PERIODS = pyo.Set(
        dimen=2,
        ordered=True,
        doc="(upgrade, period) from the upgrade's lead time on",
        initialize=[(u, p) for u, (_, _, _, first) in upgrades.items() for p in periods[first:]],
    )
    at_site: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u, p in m.UPGRADE_PERIODS:
        at_site[upgrades[u][0], p].append(u)
    techs = m.techs_at

    b.upgrade_online = pyo.Var(
        m.UPGRADE_PERIODS, within=pyo.Binary, doc="1 once the upgrade is in service"
    )

    @b.Constraint(m.UPGRADE_PERIODS)
    def stays_online(b: pyo.Block, u: str, p: str) -> object:
        """upgrade_online[u,p] >= upgrade_online[u,p-1]."""
        before = earlier(m, b.upgrade_online, (u,), p)
        return pyo.Constraint.Skip if before is None else b.upgrade_online[u, p] >= before

    b.firm_mw = pyo.Expression(
        m.SITE_PERIODS,
        doc="Firm grid supply: headroom plus upgrades in service, MW",
        rule=lambda b, s, p: (
            headroom[s, p] + sum(upgrades[u][1] * b.upgrade_online[u, p] for u in at_site[s, p])
        ),
    )
    nonfirm_mw = data["nonfirm_mw"].to_numpy()
    site_index = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    period_index = {p: j for j, p in enumerate(periods)}
    flexible = [(s, p) for s, p in m.SITE_PERIODS if nonfirm_mw[site_index[s], period_index[p]] > 0]
    b.nonfirm_mw = pyo.Var(
        flexible,
        within=pyo.NonNegativeReals,
        bounds=lambda _, s, p: (0.0, float(nonfirm_mw[site_index[s], period_index[p]])),
        doc="Non-firm (curtailable) headroom used, MW",
    )
    onsite = getattr(m, "onsite", None)
    onsite_mw = {} if onsite is None else onsite.site_capacity_mw
    onsite_output = {} if onsite is None else onsite.site_output_mw

    def grid_mw(s: str, p: str) -> object:  # what the grid delivers outside stressed hours
        nonfirm = b.nonfirm_mw[s, p] if (s, p) in b.nonfirm_mw else 0  # noqa: SIM401 (a Var)
        return b.firm_mw[s, p] + nonfirm

    @b.Constraint(m.SITE_PERIODS)
    def within_headroom(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] * peak_pue[s,k] <= firm + non-firm + on-site capacity, with the
        existing headroom counted only at an open campus (a closed one draws nothing, so
        this is the same rule; the LP sees it as the tight big-M of site_open)."""
        draw = sum(m.phasing.it_mw[s, k, p] * peak[s, k] for k in techs[s, p])
        supply = b.firm_mw[s, p] - headroom[s, p] * (1 - m.siting.site_open[s, p])
        nonfirm = b.nonfirm_mw[s, p] if (s, p) in b.nonfirm_mw else 0  # noqa: SIM401 (a Var)
        return draw <= supply + nonfirm + onsite_mw.get((s, p), 0)

    @b.Constraint(m.UPGRADE_PERIODS)
    def needs_open_site(b: pyo.Block, u: str, p: str) -> object:
        """upgrade_online[u,p] <= site_open[s_u,p] (0 before the campus can energize): an
        upgrade serves only an open campus. It removes only plans that pay for an upgrade
        no campus uses, or earlier than one does (discount rate >= 0), so the optimum is
        the same; the LP gains the tight big-M of site_open."""
        s = upgrades[u][0]
        if (s, p) not in m.siting.site_open:
            return b.upgrade_online[u, p] <= 0
        return b.upgrade_online[u, p] <= m.siting.site_open[s, p]

    pue = data["pue"].to_numpy()
    cool_index = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
    stressed = data["stressed_weight_h"].to_numpy()
    b.stressed_hours = stressed_groups(m, data, flexible, {s for s, _ in onsite_mw})
    m.STRESSED_SITE_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        doc="(site, period, hour) standing for a group of a flexible campus's stressed hours",
        initialize=list(b.stressed_hours),
    )
    m.CURTAILMENT_HOURS = pyo.Set(
        dimen=4,
        ordered=True,
        doc="(site, cooling, period, hour) at which a flexible campus may shed IT",
        initialize=[(s, k, p, h) for s, p, h in m.STRESSED_SITE_HOURS for k in techs[s, p]],
    )
    b.curtailed_it_mw = pyo.Var(
        m.CURTAILMENT_HOURS,
        within=pyo.NonNegativeReals,
        doc="IT MW shed in a stressed hour (in every hour of its group)",
    )

    @b.Constraint(m.CURTAILMENT_HOURS)
    def sheds_installed(b: pyo.Block, s: str, k: str, p: str, h: int) -> object:
        """curtailed_it_mw[s,k,p,h] <= it_mw[s,k,p]."""
        return b.curtailed_it_mw[s, k, p, h] <= m.phasing.it_mw[s, k, p]

    @b.Constraint(m.STRESSED_SITE_HOURS)
    def curtailed_to_firm(b: pyo.Block, s: str, p: str, h: int) -> object:
        """In a stressed hour the campus draws no more than its firm supply, with the
        existing headroom counted only at an open campus: sum_k pue[s,k,h] (it - curtailed)
        - onsite_output <= firm_mw[s,p] - headroom_mw[s,p] (1 - site_open[s,p]). A closed
        campus holds no IT and no on-site output (``onsite.behind_the_meter``), and its
        upgrades are off (``needs_open_site``), so both sides are 0 there: the same rule,
        which the LP sees as the tight big-M of site_open."""
        i = site_index[s]
        draw = sum(
            float(pue[i, cool_index[k], h])
            * (m.phasing.it_mw[s, k, p] - b.curtailed_it_mw[s, k, p, h])
            for k in techs[s, p]
        )
        supply = b.firm_mw[s, p] - headroom[s, p] * (1 - m.siting.site_open[s, p])
        return draw - onsite_output.get((s, p, h), 0) <= supply

    lost = data["lost_compute_musd_per_mwh"].to_numpy()
    opex = series(data, "opex_weight_years")
    group_weight = {
        key: float(stressed[site_index[key[0]], members].sum())
        for key, members in b.stressed_hours.items()
    }
    m.cost_terms_musd["curtailment"] = sum(
        float(lost[site_index[s]] * group_weight[s, p, h]) * opex[p] * b.curtailed_it_mw[s, k, p, h]
        for s, k, p, h in m.CURTAILMENT_HOURS
    )

    if onsite is not None:
        load = float(data.attrs["it_load_factor_frac"])
        draw = hourly_draw(m, data)

        @b.Constraint(m.ONSITE_SITE_HOURS)
        def grid_delivers(b: pyo.Block, s: str, p: str, h: int) -> object:
            """The grid delivers the average load not served on-site within its connection
            (per group of hours alike: ``onsite.dispatch_groups``)."""
            return load * draw(s, p, h) - onsite.site_output_mw[s, p, h] <= grid_mw(s, p)

    limit = dict(zip(m.ZONES, data["zone_import_limit_mw"].to_numpy().tolist(), strict=True))
    members: dict[str, list[str]] = defaultdict(list)
    for s, z in zip(data["site"].to_numpy(), data["site_zone"].to_numpy(), strict=True):
        if str(s) in sites:
            members[str(z)].append(str(s))
    binding = data["zone_binding_hour"].to_numpy()
    zone_hours = [
        (z, p, int(h))
        for zi, z in enumerate(m.ZONES)
        if math.isfinite(limit[z]) and members[z]
        for p in periods
        for h in np.flatnonzero(binding[zi])
        if any(techs[s, p] for s in members[z])
    ]
    m.ZONE_PERIOD_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=zone_hours,
        doc="(zone, period, hour) where the zonal limit can bind",
    )

    @b.Constraint(m.ZONE_PERIOD_HOURS)
    def within_zone_limit(b: pyo.Block, z: str, p: str, h: int) -> object:
        """sum_{s in z, k} it_mw[s,k,p] * pue[s,k,h] <= import_limit_mw_z."""
        return (
            summed(
                [
                    m.phasing.it_mw[s, k, p] * float(pue[site_index[s], cool_index[k], h])
                    for s in members[z]
                    for k in techs[s, p]
                ]
            )
            <= limit[z]
        )

    m.cost_terms_musd["upgrades"] = sum(
        upgrades[u][2] * df[p] * increase(m, b.upgrade_online, (u,), p)
        for u, p in m.UPGRADE_PERIODS
    )


def stressed_groups(
    m: pyo.ConcreteModel,
    data: xr.Dataset,
    flexible: list[tuple[str, str]],
    onsite_sites: set[str],
) -> dict[tuple[str, str, int], list[int]]:
    """(site, period, hour) -> the stressed hours it stands for: per flexible campus and
    period, its stressed hours grouped by their PUE vector over the campus's coolings
    (``pue[s,k,h]`` for each k), the group's first hour standing for all.

    Exact: the curtailment of an hour enters only its own rows (``curtailed_to_firm``,
    ``sheds_installed``, which read the hour only through pue[s,.,h] and the campus's
    on-site output) and the cost, lost_s opex_p sw_h sum_k curtailed[s,k,p,h]. Two hours of
    a group therefore allow the same curtailments for any rest of the plan, a convex set;
    giving both the sw-weighted mean of their curtailments keeps every row and the cost, so
    some optimum curtails both alike, which is the grouped model with the weights summed,
    and every grouped solution is an hourly one (each hour sheds its group's MW). Same LP
    and MIP optimum. At a campus with on-site options the output differs by hour: its hours
    stay single."""
    pue = data["pue"].to_numpy()
    stressed = data["stressed_weight_h"].to_numpy()
    site_index = positions(data, "site")
    cool_index = positions(data, "cooling")
    groups: dict[tuple[str, str, int], list[int]] = {}
    for s, p in flexible:
        i = site_index[s]
        coolings = [cool_index[k] for k in m.techs_at[s, p]]
        by_pue: dict[tuple[float, ...], list[int]] = defaultdict(list)
        for h in np.flatnonzero(stressed[i]):
            key = (float(h),) if s in onsite_sites else tuple(pue[i, coolings, h].tolist())
            by_pue[key].append(int(h))
        for members in by_pue.values():
            groups[s, p, members[0]] = members
    return groups


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """When each upgrade enters service; with flexible connections, the non-firm MW used per
    campus and period and the IT shed in each stressed hour (one row each)."""
    periods = [str(p) for p in data["period"].to_numpy()]
    ui, pi = positions(data, "upgrade"), positions(data, "period")
    shape = (data.sizes["upgrade"], len(periods))
    online = solution(m.interconnection.upgrade_online, shape, lambda i: (ui[i[0]], pi[i[1]]))
    plan.coords["upgrade"] = data["upgrade"]
    put(plan, "upgrade_site", ("upgrade",), data["upgrade_site"].to_numpy(), "")
    put(plan, "upgrade_online_period", ("upgrade",), first_period(online > 0.5, periods), "")
    if len(m.interconnection.nonfirm_mw) == 0:
        return
    _extract_flexible(m, data, plan, online > 0.5)


def _extract_flexible(
    m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset, online: np.ndarray
) -> None:
    si, pi = positions(data, "site"), positions(data, "period")
    years = data["period_years"].to_numpy()
    dims = ("site", "period")
    # Non-firm MW used: the design-hour draw above firm supply (headroom, upgrades, on-site).
    firm = data["headroom_mw"].to_numpy().copy()
    added = data["upgrade_added_mw"].to_numpy()
    for u, site in enumerate(data["upgrade_site"].to_numpy()):
        firm[si[str(site)]] += added[u] * online[u]
    if "onsite_mw" in plan:
        firm = firm + plan["onsite_mw"].to_numpy()
    above = plan["peak_facility_mw"].to_numpy() - firm
    nonfirm = np.minimum(np.maximum(above, 0.0), data["nonfirm_mw"].to_numpy())
    put(plan, "nonfirm_mw", dims, np.where(nonfirm < 1e-6, 0.0, nonfirm), "MW")
    groups = m.interconnection.stressed_hours
    rows = [
        (s, k, p, h, float(v.value))
        for (s, k, p, first), v in m.interconnection.curtailed_it_mw.items()
        if v.value > 1e-6
        for h in groups[s, p, first]
    ]
    stressed = data["stressed_weight_h"].to_numpy()
    lost = np.zeros((data.sizes["site"], len(years)))
    for s, _, p, h, mw in rows:
        lost[si[s], pi[p]] += stressed[si[s], h] * mw * years[pi[p]]
    put(plan, "curtailed_it_mwh", dims, lost, "MWh")
    put(plan, "curtailment_site", ("curtailment",), np.array([r[0] for r in rows], str), "")
    put(plan, "curtailment_cooling", ("curtailment",), np.array([r[1] for r in rows], str), "")
    put(plan, "curtailment_period", ("curtailment",), np.array([r[2] for r in rows], str), "")
    put(plan, "curtailment_hour", ("curtailment",), np.array([r[3] for r in rows], int), "")
    put(plan, "curtailed_it_mw", ("curtailment",), np.array([r[4] for r in rows], float), "MW")
    put(plan, "stressed_weight_h", ("site", "hour"), stressed, "h")
    price = data["site_price_musd_per_mwh"].to_numpy() * USD_PER_MUSD
    put(plan, "site_price_usd_per_mwh", ("site", "hour"), price, "USD/MWh")


def curtailment_table(ds: xr.Dataset) -> pd.DataFrame:
    """IT MW shed by flexible campuses per stressed hour, with the hours per year it stands
    for (``stressed_weight_h``) and the zone's price."""
    hours = ds["curtailment_hour"].to_numpy()
    sites = ds["curtailment_site"].to_numpy()
    index = {s: i for i, s in enumerate(ds["site"].to_numpy())}
    rows = [index[s] for s in sites]
    return pd.DataFrame(
        {
            "site_id": sites,
            "cooling": ds["curtailment_cooling"].to_numpy(),
            "period": ds["curtailment_period"].to_numpy(),
            "hour": hours,
            "stressed_weight_h": ds["stressed_weight_h"].to_numpy()[rows, hours],
            "price_usd_per_mwh": ds["site_price_usd_per_mwh"].to_numpy()[rows, hours],
            "curtailed_it_mw": ds["curtailed_it_mw"].to_numpy(),
        }
    )


def _headroom_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    s, p = index
    msg = f"{p}: headroom at {s} short by {amount:,.0f} MW of facility draw"
    return Relaxation("interconnection.within_headroom", str(s), str(p), amount, "MW", msg)


def _zone_limit_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    z, p = index
    limit = float(data["zone_import_limit_mw"].sel(zone=z))
    msg = f"{p}: zonal import limit {z} ({limit:,.0f} MW) short by {amount:,.0f} MW"
    return Relaxation("interconnection.within_zone_limit", str(z), str(p), amount, "MW", msg)


def _site_period(m: pyo.ConcreteModel, index: Index) -> Index:
    return (index[0], index[1])


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    n_periods = data.sizes["period"]
    sites = buildable_sites(data)
    si = positions(data, "site")
    upgrades = np.asarray(
        [
            sites[si[str(s)]] and first < n_periods
            for s, first in zip(
                data["upgrade_site"].to_numpy(), data["upgrade_first_index"].to_numpy(), strict=True
            )
        ],
        dtype=bool,
    )
    zone_limited = np.asarray(data["zone_binding_hour"].to_numpy().any(axis=1))
    return [
        Coefficients(
            "upgrade_capex_musd",
            "upgrades.csv capex_musd",
            "objective",
            times(masked(data, "upgrade_capex_musd", upgrades), data["discount_factor"].to_numpy()),
        ),
        Coefficients(
            "peak_pue",
            "cooling_curves.csv pue",
            "constraint matrix",
            masked(data, "peak_pue", used_pairs(data)),
        ),
        Coefficients(
            "upgrade_added_mw",
            "upgrades.csv added_mw",
            "constraint matrix",
            masked(data, "upgrade_added_mw", upgrades),
        ),
        Coefficients(
            "headroom_mw",
            "sites.csv headroom_mw",
            "right-hand side",
            masked(data, "headroom_mw", sites),
        ),
        Coefficients(
            "zone_import_limit_mw",
            "zones.csv import_limit_mw",
            "right-hand side",
            masked(data, "zone_import_limit_mw", zone_limited),
        ),
    ]


_HEADROOM = Marginal("headroom", "USD per MW", -1.0, "saves")

CONCERN = Concern(
    name="interconnection",
    add_to=add_to,
    needs=("siting", "phasing", "onsite"),
    families={
        "stays_online": Family(),
        "needs_open_site": Family(),
        "within_headroom": Family(relax=Relax("MW", _headroom_short), marginal=_HEADROOM),
        "sheds_installed": Family(),
        "curtailed_to_firm": Family(marginal=_HEADROOM),
        # More headroom is more grid supply in every row that bounds it: at on-site campuses
        # the grid's hourly share too. (Curtailment never needs it: shedding every IT MW in a
        # stressed hour always meets firm supply.)
        "grid_delivers": Family(
            relax=SharesSlack("interconnection.within_headroom", _site_period),
            marginal=_HEADROOM,
        ),
        "within_zone_limit": Family(
            relax=Relax("MW", _zone_limit_short, key=lambda i: (i[0], i[1])),
            marginal=Marginal("zone_limit", "USD per MW", -1.0, "saves"),
        ),
    },
    extract=extract,
    views=(
        View(
            "curtailment",
            curtailment_table,
            "curtailment.csv",
            "curtailment_site",
            (
                "site_id",
                "cooling",
                "period",
                "hour",
                "stressed_weight_h",
                "price_usd_per_mwh",
                "curtailed_it_mw",
            ),
        ),
    ),
    coefficients=coefficients,
)
