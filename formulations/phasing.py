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
    it_mw[s,k,p] = block_it_mw * blocks_online[s,k,p]   (with blocks) (in_blocks)

With blocks, the whole numbers are the cumulative halls ``blocks_online`` (integer), and the
halls added ``new_blocks`` (continuous) are whole as their differences. The LP is the same as
with integer ``new_blocks``; HiGHS branches on "at least n halls by period p" instead of "n
halls in period p", which proves the default's gap faster (benchmarks/RESULTS.md, issue 11).

Building capex (shell, electrical) is paid in the period a block comes online:
    cost = sum new_it_mw[s,k,p] * building_capex_musd_per_mw_s * DF_p
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
)
from formulations.core import (
    attribute,
    buildable_sites,
    earlier,
    first_period,
    last_period,
    masked,
    positions,
    put,
    series,
    solution,
    times,
    weigh,
)
from formulations.units import USD_PER_MUSD


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.phasing = pyo.Block()
    max_mw = series(data, "max_it_mw")
    min_mw = series(data, "min_it_mw")
    build = series(data, "building_capex_musd_per_mw")
    df = series(data, "discount_factor")
    target = series(data, "target_it_mw")
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
        halls = {s: math.floor(max_mw[s] / block + 1e-9) for s in m.SITES}
        b.blocks_online = pyo.Var(
            m.SITE_COOLING_PERIODS,
            within=pyo.NonNegativeIntegers,
            bounds=lambda _, s, k, p: (0, halls[s]),
            doc="Blocks (halls) online, cumulative: the model's whole numbers",
        )
        b.new_blocks = pyo.Var(
            m.SITE_COOLING_PERIODS,
            within=pyo.NonNegativeReals,
            bounds=lambda _, s, k, p: (0, halls[s]),
            doc="Blocks (halls) coming online in the period (whole: differences of whole ones)",
        )

        @b.Constraint(m.SITE_COOLING_PERIODS)
        def in_blocks(b: pyo.Block, s: str, k: str, p: str) -> object:
            """it_mw[s,k,p] = block_it_mw * blocks_online[s,k,p]."""
            return b.it_mw[s, k, p] == block * b.blocks_online[s, k, p]

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


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """IT MW by campus, cooling and period (cumulative and new), the campus's cooling and
    peak facility draw, and when it opens: from the first period with IT capacity (an opening
    decision without capacity, possible only at zero development cost, is not reported)."""
    periods = [str(p) for p in data["period"].to_numpy()]
    coolings = [str(k) for k in data["cooling"].to_numpy()]
    si, ki, pi = positions(data, "site"), positions(data, "cooling"), positions(data, "period")
    shape = (data.sizes["site"], len(coolings), len(periods))

    def where(i: Index) -> tuple[int, int, int]:
        return si[i[0]], ki[i[1]], pi[i[2]]

    it = solution(m.phasing.it_mw, shape, where)
    new = solution(m.phasing.new_it_mw, shape, where).sum(axis=1)
    block = float(data.attrs["block_it_mw"])
    has_it = it.sum(axis=(1, 2)) > 0
    chosen = np.array(coolings, dtype=object)[it.sum(axis=2).argmax(axis=1)]
    open_ = plan["site_open_decided"].to_numpy() & (it.sum(axis=1) > 0)
    dims = ("site", "period")
    put(plan, "site_open", ("site",), open_[:, -1], "")
    put(plan, "site_open_period", ("site",), first_period(open_, periods), "")
    put(plan, "site_cooling", ("site",), np.where(has_it, chosen, "").astype(str), "")
    put(plan, "it_mw", dims, it.sum(axis=1), "MW")
    put(plan, "new_it_mw", dims, new, "MW")
    put(plan, "new_blocks", dims, np.round(new / block) if block > 0 else new, "blocks")
    put(plan, "it_mw_by_cooling", ("site", "cooling", "period"), it, "MW")
    put(plan, "peak_facility_mw", dims, weigh(it, data, "peak_pue"), "MW")


def _site_max_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    s, p = index
    cap = float(data["max_it_mw"].sel(site=s))
    msg = f"{p}: {s} would need {amount:,.0f} MW above its maximum of {cap:,.0f} MW IT"
    return Relaxation("phasing.within_site_max", str(s), str(p), amount, "MW", msg)


def _supply_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    (p,) = index
    supply = float(data.attrs["accelerator_supply_it_mw_per_period"])
    msg = f"{p}: accelerator supply ({supply:,.0f} MW/period) short by {amount:,.0f} MW"
    return Relaxation("phasing.within_supply", "portfolio", str(p), amount, "MW", msg)


def _ramp_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    (p,) = index
    msg = f"{p}: portfolio target short by {amount:,.0f} MW IT"
    return Relaxation("phasing.meets_ramp", "portfolio", str(p), amount, "MW", msg)


def _target(index: Index, data: xr.Dataset) -> float:
    return float(data["target_it_mw"].sel(period=index[0]))


def _per_block(data: xr.Dataset) -> float:
    return USD_PER_MUSD * (float(data.attrs["block_it_mw"]) or 1.0)


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    sites = buildable_sites(data)
    # Capex per MW multiplies new_it_mw, which is block_it_mw x new_blocks when blocks are set.
    per_new_mw = np.array([float(data.attrs.get("block_it_mw", 0.0)) or 1.0])
    build = masked(data, "building_capex_musd_per_mw", sites)
    return [
        Coefficients(
            "building_capex_musd_per_mw",
            "sites.csv building_capex_musd_per_mw",
            "objective",
            times(build, data["discount_factor"].to_numpy(), per_new_mw),
        ),
        Coefficients(
            "max_it_mw",
            "sites.csv max_it_mw",
            "constraint matrix",
            masked(data, "max_it_mw", sites),
        ),
        Coefficients(
            "min_it_mw",
            "sites.csv min_it_mw",
            "constraint matrix",
            masked(data, "min_it_mw", sites),
        ),
        Coefficients(
            "block_it_mw",
            "scenario.yaml portfolio.block_it_mw",
            "constraint matrix",
            attribute(data, "block_it_mw"),
        ),
        Coefficients(
            "target_it_mw",
            "scenario.yaml portfolio.target_it_mw_by_period",
            "right-hand side",
            masked(data, "target_it_mw"),
        ),
        Coefficients(
            "accelerator_supply_it_mw_per_period",
            "scenario.yaml portfolio.accelerator_supply_it_mw_per_period",
            "right-hand side",
            attribute(data, "accelerator_supply_it_mw_per_period"),
        ),
    ]


CONCERN = Concern(
    name="phasing",
    add_to=add_to,
    needs=("siting",),
    families={
        "accumulates": Family(),
        "in_blocks": Family(),
        "within_site_max": Family(relax=Relax("MW", _site_max_short)),
        "reaches_site_min": Family(),
        "open_when_energized": Family(),
        "meets_ramp": Family(
            relax=Relax("MW", _ramp_short, target=_target),
            marginal=Marginal("ramp", "USD per MW IT", 1.0, "costs", portfolio=True),
        ),
        "within_supply": Family(
            relax=Relax("MW", _supply_short),
            marginal=Marginal(
                "supply", "USD per block", -1.0, "saves", scale=_per_block, portfolio=True
            ),
        ),
    },
    extract=extract,
    coefficients=coefficients,
)
