"""Phasing: IT capacity by campus, cooling technology and period.

``new_it_mw[s,k,p]`` comes online in period p (whole blocks of ``block_it_mw`` when blocks are
set); ``it_mw[s,k,p]`` is the cumulative capacity, which never decreases. Capacity exists only
from the campus's earliest period plus construction lead time (the sparse index set).

    it_mw[s,k,p] = it_mw[s,k,p-1] + new_it_mw[s,k,p]                 (accumulates)
    sum_k it_mw[s,k,p] <= max_it_mw_s * site_open[s,p]                (within_site_max)
    sum_k it_mw[s,k,P] >= min_it_mw_s * site_open[s,P]   (P = last)  (reaches_site_min)
    sum_k it_mw[s,k,p] >= block_it_mw * site_open[s,p]   (with blocks) (open_when_energized)
    sum_{s,k} it_mw[s,k,p] >= target_it_mw_p                          (meets_ramp)
    sum_{s,k} new_it_mw[s,k,p] <= accelerator supply                  (within_supply)

Building capex (shell, electrical) is paid in the period a block comes online:
    cost = sum new_it_mw[s,k,p] * building_capex_musd_per_mw_s * DF_p
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo
import xarray as xr

from formulations.core import earlier, last_period, series


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.phasing = pyo.Block()
    max_mw = series(data, "max_it_mw")
    min_mw = series(data, "min_it_mw")
    build = series(data, "building_capex_musd_per_mw")
    df = dict(zip(m.PERIODS, data["discount_factor"].to_numpy().tolist(), strict=True))
    target = dict(zip(m.PERIODS, data["target_it_mw"].to_numpy().tolist(), strict=True))
    block = float(data.attrs["block_it_mw"])
    supply = float(data.attrs["accelerator_supply_it_mw_per_period"])
    last = last_period(m)

    by_site: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_period: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s, k, p in m.SITE_COOLING_PERIODS:
        by_site[s, p].append(k)
        by_period[p].append((s, k))

    b.it_mw = pyo.Var(
        m.SITE_COOLING_PERIODS,
        within=pyo.NonNegativeReals,
        doc="Cumulative IT capacity online, MW",
    )
    if block > 0:
        b.new_blocks = pyo.Var(
            m.SITE_COOLING_PERIODS,
            within=pyo.NonNegativeIntegers,
            bounds=lambda _, s, k, p: (0, math.floor(max_mw[s] / block + 1e-9)),
            doc="Blocks (halls) coming online in the period",
        )
        b.new_it_mw = pyo.Expression(
            m.SITE_COOLING_PERIODS,
            rule=lambda b, s, k, p: block * b.new_blocks[s, k, p],
            doc="IT capacity coming online in the period, MW",
        )
    else:
        b.new_it_mw = pyo.Var(
            m.SITE_COOLING_PERIODS,
            within=pyo.NonNegativeReals,
            doc="IT capacity coming online in the period, MW",
        )

    @b.Constraint(m.SITE_COOLING_PERIODS)
    def accumulates(b: pyo.Block, s: str, k: str, p: str) -> object:
        """it_mw[s,k,p] = it_mw[s,k,p-1] + new_it_mw[s,k,p]."""
        before = earlier(m, b.it_mw, (s, k), p)
        return b.it_mw[s, k, p] == (0 if before is None else before) + b.new_it_mw[s, k, p]

    @b.Constraint(m.SITE_PERIODS)
    def within_site_max(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] <= max_it_mw_s * site_open[s,p]."""
        return sum(b.it_mw[s, k, p] for k in by_site[s, p]) <= max_mw[s] * m.siting.site_open[s, p]

    @b.Constraint(m.SITES)
    def reaches_site_min(b: pyo.Block, s: str) -> object:
        """sum_k it_mw[s,k,last] >= min_it_mw_s * site_open[s,last]."""
        if min_mw[s] <= 0:
            return pyo.Constraint.Skip
        return sum(b.it_mw[s, k, last] for k in by_site[s, last]) >= (
            min_mw[s] * m.siting.site_open[s, last]
        )

    @b.Constraint(m.SITE_PERIODS)
    def open_when_energized(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] >= block_it_mw * site_open[s,p]: a campus opens (and pays its
        development) with its first block, not before."""
        if block <= 0:
            return pyo.Constraint.Skip
        return sum(b.it_mw[s, k, p] for k in by_site[s, p]) >= block * m.siting.site_open[s, p]

    @b.Constraint(m.PERIODS)
    def meets_ramp(b: pyo.Block, p: str) -> object:
        """sum_{s,k} it_mw[s,k,p] >= target_it_mw_p."""
        if target[p] <= 0:
            return pyo.Constraint.Skip
        if not by_period[p]:
            return pyo.Constraint.Infeasible
        return sum(b.it_mw[s, k, p] for s, k in by_period[p]) >= target[p]

    @b.Constraint(m.PERIODS)
    def within_supply(b: pyo.Block, p: str) -> object:
        """sum_{s,k} new_it_mw[s,k,p] <= accelerator_supply_it_mw_per_period."""
        if supply <= 0 or not by_period[p]:
            return pyo.Constraint.Skip
        return sum(b.new_it_mw[s, k, p] for s, k in by_period[p]) <= supply

    m.cost_terms_musd["building"] = sum(
        b.new_it_mw[s, k, p] * build[s] * df[p] for s, k, p in m.SITE_COOLING_PERIODS
    )
