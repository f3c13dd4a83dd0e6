"""Interconnection: firm headroom per campus, upgrades with lead times, zonal import limits.

Facility draw is IT MW x PUE of the chosen cooling at that hour's temperature. IT load is flat,
so at a campus (one cooling technology) the binding hour is the design hour: ``peak_pue[s,k]``.
Zonal limits need hours, since campuses of a zone peak at different hours; only hours not
dominated by another hour are kept (``zone_binding_hour``), which is exact.

    upgrade_online[u,p] >= upgrade_online[u,p-1]                                (stays_online)
    sum_k it_mw[s,k,p] * peak_pue[s,k]
        <= headroom_mw[s,p] + sum_{u at s} added_mw_u * upgrade_online[u,p]     (within_headroom)
    sum_{s in z,k} it_mw[s,k,p] * pue[s,k,h] <= import_limit_mw_z               (within_zone_limit)

An upgrade exists from its lead time after the first period; its capex is paid when it enters
service: cost = sum capex_u * DF_p * (upgrade_online[u,p] - upgrade_online[u,p-1]).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from formulations.core import earlier, increase, pair_table


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.interconnection = pyo.Block()
    periods = list(m.PERIODS)
    df = dict(zip(periods, data["discount_factor"].to_numpy().tolist(), strict=True))
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
    techs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s, k, p in m.SITE_COOLING_PERIODS:
        techs[s, p].append(k)

    b.upgrade_online = pyo.Var(
        m.UPGRADE_PERIODS, within=pyo.Binary, doc="1 once the upgrade is in service"
    )

    @b.Constraint(m.UPGRADE_PERIODS)
    def stays_online(b: pyo.Block, u: str, p: str) -> object:
        """upgrade_online[u,p] >= upgrade_online[u,p-1]."""
        before = earlier(m, b.upgrade_online, (u,), p)
        return pyo.Constraint.Skip if before is None else b.upgrade_online[u, p] >= before

    @b.Constraint(m.SITE_PERIODS)
    def within_headroom(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] * peak_pue[s,k] <= headroom + upgrades in service."""
        draw = sum(m.phasing.it_mw[s, k, p] * peak[s, k] for k in techs[s, p])
        added = sum(upgrades[u][1] * b.upgrade_online[u, p] for u in at_site[s, p])
        return draw <= headroom[s, p] + added

    pue = data["pue"].to_numpy()
    site_index = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cool_index = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
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
            sum(
                m.phasing.it_mw[s, k, p] * float(pue[site_index[s], cool_index[k], h])
                for s in members[z]
                for k in techs[s, p]
            )
            <= limit[z]
        )

    m.cost_terms_musd["upgrades"] = sum(
        upgrades[u][2] * df[p] * increase(m, b.upgrade_online, (u,), p)
        for u, p in m.UPGRADE_PERIODS
    )
