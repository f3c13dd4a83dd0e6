"""gridsite's model assembled directly as sparse matrices (numpy/scipy) and passed to HiGHS.

    python benchmarks/direct_build.py [SCENARIO] [--check] [--solve] [--time-limit S]

The lower bound for build + hand-off: the same rows, columns, bounds and costs as
``formulations.build_model`` + ``LinearStandardFormCompiler`` (see each family's docstring
in ``formulations/``), built from the prepared ``xarray.Dataset`` of
``optimizer.prepare.prepare`` with array operations only, and handed to HiGHS with
``passModel``. Benchmark code, not a second product path: ``--check`` proves it equal to the
Pyomo model (every row and column matched by component name and index, coefficients,
bounds, costs and integrality compared), ``--solve`` solves both and prints both objectives.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_ZONE_LIMIT = "interconnection.within_zone_limit"
Key = tuple[str, tuple[Hashable, ...]]
"""A row or column by Pyomo component name and index, e.g. ``("siting.site_open", (s, p))``."""


@dataclass
class DirectLp:
    """A MILP in HiGHS's terms: columns with bounds, cost and integrality; rows
    ``row_lower <= a @ x <= row_upper``; ``keys`` name rows and columns as Pyomo would."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    a: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_keys: list[Key] = field(default_factory=list)
    row_keys: list[Key] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.a.shape[0]), int(self.a.shape[1])


@dataclass(frozen=True)
class Variant:
    """Exact reformulations of the zonal limit, for experiments (the product is both False).

    ``aggregate_zone_draw``: PUE depends only on a campus's weather station and cooling
    technology, so per (zone, period) the campuses sharing both are summed into one column
    ``zone_station_it_mw[z,w,k,p] = sum_{s in z, weather(s)=w} it_mw[s,k,p]`` and the zonal
    rows read those: the same feasible set with fewer nonzeros.
    ``hull_hours``: keep only the zone's hours whose PUE vector is not below a convex
    combination of the other hours' (an LP per hour); the max over hours of a linear draw
    is reached at those, so the feasible set is the same with fewer rows than the pairwise
    dominance filter of ``optimizer/prepare.py``."""

    aggregate_zone_draw: bool = False
    hull_hours: bool = False


class _Columns:
    """Blocks of columns, one per Pyomo variable, laid out over a dense index mask."""

    def __init__(self, with_keys: bool) -> None:
        self.n = 0
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.with_keys = with_keys
        self.keys: list[Key] = []

    def add(
        self,
        name: str,
        mask: np.ndarray,
        upper: np.ndarray | float,
        integer: bool,
        labels: Sequence[Sequence[Hashable]],
    ) -> np.ndarray:
        """Columns at the True cells of ``mask``; returns their indices (-1 elsewhere)."""
        index = np.full(mask.shape, -1, dtype=np.int64)
        count = int(mask.sum())
        index[mask] = np.arange(self.n, self.n + count)
        self.n += count
        self.lower.append(np.zeros(count))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), mask.shape)[mask])
        self.integer.append(np.full(count, integer))
        if self.with_keys:
            self.keys += _keys(name, mask, labels)
        return index

    def add_block(self, count: int, keys: list[Key]) -> np.ndarray:
        """``count`` continuous columns in [0, inf); returns their indices."""
        index = np.arange(self.n, self.n + count)
        self.n += count
        self.lower.append(np.zeros(count))
        self.upper.append(np.full(count, np.inf))
        self.integer.append(np.zeros(count, dtype=bool))
        self.keys += keys
        return index


class _Rows:
    """Rows added family by family as coordinate triplets."""

    def __init__(self, with_keys: bool) -> None:
        self.n = 0
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.with_keys = with_keys
        self.keys: list[Key] = []

    def add(
        self,
        name: str,
        mask: np.ndarray,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
        labels: Sequence[Sequence[Hashable]],
    ) -> np.ndarray:
        """Rows at the True cells of ``mask``; returns their indices (-1 elsewhere)."""
        index = np.full(mask.shape, -1, dtype=np.int64)
        count = int(mask.sum())
        index[mask] = np.arange(self.n, self.n + count)
        keys = _keys(name, mask, labels) if self.with_keys else []
        self.add_block(
            np.broadcast_to(np.asarray(lower, dtype=float), mask.shape)[mask],
            np.broadcast_to(np.asarray(upper, dtype=float), mask.shape)[mask],
            keys,
        )
        return index

    def add_block(self, lower: np.ndarray, upper: np.ndarray, keys: list[Key]) -> np.ndarray:
        """``len(lower)`` rows; returns their indices."""
        index = np.arange(self.n, self.n + len(lower))
        self.n += len(lower)
        self.lower.append(lower)
        self.upper.append(upper)
        self.keys += keys
        return index

    def coef(self, row: np.ndarray, col: np.ndarray, value: np.ndarray | float) -> None:
        """Entries ``a[row, col] = value`` where both exist (index >= 0)."""
        row, col = np.broadcast_arrays(row, col)
        value = np.broadcast_to(np.asarray(value, dtype=float), row.shape)
        keep = (row >= 0) & (col >= 0)
        self.entries.append((row[keep], col[keep], value[keep]))


def _keys(name: str, mask: np.ndarray, labels: Sequence[Sequence[Hashable]]) -> list[Key]:
    return [(name, tuple(labels[d][i] for d, i in enumerate(cell))) for cell in np.argwhere(mask)]


def build_direct(
    data: xr.Dataset, with_keys: bool = False, variant: Variant = Variant()
) -> DirectLp:
    """The gridsite MILP of ``data`` (see ``formulations/``) as arrays; ``variant`` states the
    zonal limit another exact way (an experiment, not the product's model)."""
    sites = [str(s) for s in data["site"].to_numpy()]
    coolings = [str(k) for k in data["cooling"].to_numpy()]
    periods = [str(p) for p in data["period"].to_numpy()]
    upgrades = [str(u) for u in data["upgrade"].to_numpy()]
    n_p = len(periods)
    last = n_p - 1
    pidx = np.arange(n_p)

    first = data["site_first_index"].to_numpy().astype(int)
    allowed = data["allowed"].to_numpy().astype(bool)
    max_mw = data["max_it_mw"].to_numpy().astype(float)
    min_mw = data["min_it_mw"].to_numpy().astype(float)
    target = data["target_it_mw"].to_numpy()
    block = float(data.attrs["block_it_mw"])
    supply = float(data.attrs["accelerator_supply_it_mw_per_period"])
    weight = float(data.attrs["energy_weight_musd_per_mwh"])

    buildable = (first < n_p) & allowed.any(axis=1)
    sp_mask = buildable[:, None] & (pidx[None, :] >= first[:, None])
    # dominated technologies are left out (optimizer.prepare._add_dominated_cooling)
    sk_mask = buildable[:, None] & allowed & ~data["cooling_dominated"].to_numpy()
    skp_mask = sk_mask[:, :, None] & sp_mask[:, None, :]
    site_of = {s: i for i, s in enumerate(sites)}
    u_site = np.array([site_of[str(s)] for s in data["upgrade_site"].to_numpy()], dtype=int)
    u_first = data["upgrade_first_index"].to_numpy().astype(int)
    u_valid = buildable[u_site] & (u_first < n_p) if len(upgrades) else np.zeros(0, bool)
    up_mask = u_valid[:, None] & (pidx[None, :] >= u_first[:, None])

    cols = _Columns(with_keys)
    site_open = cols.add("siting.site_open", sp_mask, 1.0, True, (sites, periods))
    # it_mw and continuous new_it_mw have no upper bound in formulations/phasing.py
    it = cols.add("phasing.it_mw", skp_mask, math.inf, False, (sites, coolings, periods))
    if block > 0:
        halls = np.floor(max_mw / block + 1e-9)[:, None, None]
        online_blocks = cols.add(
            "phasing.blocks_online", skp_mask, halls, True, (sites, coolings, periods)
        )
        new = cols.add("phasing.new_blocks", skp_mask, halls, False, (sites, coolings, periods))
        per_new = block  # MW per unit of the column
    else:
        new = cols.add("phasing.new_it_mw", skp_mask, math.inf, False, (sites, coolings, periods))
        per_new = 1.0
    chosen = cols.add("cooling.cooling_chosen", sk_mask, 1.0, True, (sites, coolings))
    online = cols.add("interconnection.upgrade_online", up_mask, 1.0, True, (upgrades, periods))

    rows = _Rows(with_keys)
    inf = math.inf
    # siting.stays_open: site_open[s,p] - site_open[s,p-1] >= 0
    both = np.zeros_like(sp_mask)
    both[:, 1:] = sp_mask[:, 1:] & sp_mask[:, :-1]
    r = rows.add("siting.stays_open", both, 0.0, inf, (sites, periods))
    rows.coef(r[:, 1:], site_open[:, 1:], 1.0)
    rows.coef(r[:, 1:], site_open[:, :-1], -1.0)

    # phasing.accumulates: it[s,k,p] - it[s,k,p-1] - per_new * new[s,k,p] = 0
    r = rows.add("phasing.accumulates", skp_mask, 0.0, 0.0, (sites, coolings, periods))
    rows.coef(r, it, 1.0)
    rows.coef(r[:, :, 1:], it[:, :, :-1], -1.0)
    rows.coef(r, new, -per_new)

    # phasing.in_blocks (with blocks): it[s,k,p] - block * blocks_online[s,k,p] = 0
    if block > 0:
        r = rows.add("phasing.in_blocks", skp_mask, 0.0, 0.0, (sites, coolings, periods))
        rows.coef(r, it, 1.0)
        rows.coef(r, online_blocks, -block)

    # phasing.within_site_max: sum_k it[s,k,p] - max_s * site_open[s,p] <= 0
    r = rows.add("phasing.within_site_max", sp_mask, -inf, 0.0, (sites, periods))
    rows.coef(r[:, None, :], it, 1.0)
    rows.coef(r, site_open, -max_mw[:, None])

    # phasing.reaches_site_min: sum_k it[s,k,last] - min_s * site_open[s,last] >= 0
    has_min = buildable & (min_mw > 0)
    r = rows.add("phasing.reaches_site_min", has_min, 0.0, inf, (sites,))
    rows.coef(r[:, None], it[:, :, last], 1.0)
    rows.coef(r, site_open[:, last], -min_mw)

    # phasing.open_when_energized (with blocks): sum_k it[s,k,p] - block * site_open[s,p] >= 0
    r = rows.add("phasing.open_when_energized", sp_mask & (block > 0), 0.0, inf, (sites, periods))
    rows.coef(r[:, None, :], it, 1.0)
    rows.coef(r, site_open, -block)

    # phasing.meets_ramp: sum_{s,k} it[s,k,p] >= target_p
    any_at = skp_mask.any(axis=(0, 1))
    if np.any((target > 0) & ~any_at):
        raise ValueError("a period with a target has no capacity that can exist")
    r = rows.add("phasing.meets_ramp", target > 0, target, inf, (periods,))
    rows.coef(r[None, None, :], it, 1.0)

    # phasing.within_supply: sum_{s,k} per_new * new[s,k,p] <= supply
    r = rows.add("phasing.within_supply", (supply > 0) & any_at, -inf, supply, (periods,))
    rows.coef(r[None, None, :], new, per_new)

    # cooling.one_per_open_site: sum_k cooling_chosen[s,k] - site_open[s,last] = 0
    r = rows.add("cooling.one_per_open_site", buildable, 0.0, 0.0, (sites,))
    rows.coef(r[:, None], chosen, 1.0)
    rows.coef(r, site_open[:, last], -1.0)

    # cooling.uses_chosen: it[s,k,last] - max_s * cooling_chosen[s,k] <= 0
    r = rows.add("cooling.uses_chosen", sk_mask, -inf, 0.0, (sites, coolings))
    rows.coef(r, it[:, :, last], 1.0)
    rows.coef(r, chosen, -max_mw[:, None])

    # cooling.within_water_limit: sum_k water[s,k] it[s,k,p] <= limit_s (water > 0 only)
    water = data["water_hm3_per_mw_year"].to_numpy()
    limit = data["water_limit_hm3_per_year"].to_numpy()
    uses_water = sk_mask & (water > 0)
    capped = sp_mask & (np.isfinite(limit) & uses_water.any(axis=1))[:, None]
    r = rows.add("cooling.within_water_limit", capped, -inf, limit[:, None], (sites, periods))
    rows.coef(r[:, None, :], np.where(uses_water[:, :, None], it, -1), water[:, :, None])

    # interconnection.stays_online: upgrade_online[u,p] - upgrade_online[u,p-1] >= 0
    both = np.zeros_like(up_mask)
    both[:, 1:] = up_mask[:, 1:] & up_mask[:, :-1]
    r = rows.add("interconnection.stays_online", both, 0.0, inf, (upgrades, periods))
    rows.coef(r[:, 1:], online[:, 1:], 1.0)
    rows.coef(r[:, 1:], online[:, :-1], -1.0)

    # interconnection.within_headroom:
    #   sum_k peak_pue[s,k] it[s,k,p] - sum_{u at s} added_u online[u,p] <= headroom[s,p]
    headroom = data["headroom_mw"].to_numpy()
    peak = data["peak_pue"].to_numpy()
    r = rows.add("interconnection.within_headroom", sp_mask, -inf, headroom, (sites, periods))
    rows.coef(r[:, None, :], it, peak[:, :, None])
    rows.coef(r[u_site], online, -data["upgrade_added_mw"].to_numpy()[:, None])

    # interconnection.within_zone_limit: sum_{s in z,k} pue[s,k,h] it[s,k,p] <= limit_z
    _zone_limits(data, rows, cols, it, skp_mask, buildable, periods, variant)

    a = sp.coo_array(
        (
            np.concatenate([e[2] for e in rows.entries]),
            (
                np.concatenate([e[0] for e in rows.entries]),
                np.concatenate([e[1] for e in rows.entries]),
            ),
        ),
        shape=(rows.n, cols.n),
    ).tocsc()
    a.sum_duplicates()
    a.eliminate_zeros()

    cost = np.zeros(cols.n)
    _objective(data, cost, site_open, it, new, online, sp_mask, up_mask, per_new, weight)
    return DirectLp(
        col_cost=cost,
        col_lower=np.concatenate(cols.lower),
        col_upper=np.concatenate(cols.upper),
        integer=np.concatenate(cols.integer),
        a=a,
        row_lower=np.concatenate(rows.lower),
        row_upper=np.concatenate(rows.upper),
        col_keys=cols.keys,
        row_keys=rows.keys,
    )


def _zone_limits(
    data: xr.Dataset,
    rows: _Rows,
    cols: _Columns,
    it: np.ndarray,
    skp_mask: np.ndarray,
    buildable: np.ndarray,
    periods: list[str],
    variant: Variant,
) -> None:
    """interconnection.within_zone_limit: sum_{s in z,k} pue[s,k,h] it[s,k,p] <= limit_z."""
    zones = [str(z) for z in data["zone"].to_numpy()]
    site_zone = data["site_zone"].to_numpy().astype(str)
    weather = data["site_weather"].to_numpy().astype(str)
    allowed = data["allowed"].to_numpy().astype(bool)
    limits = data["zone_import_limit_mw"].to_numpy()
    binding = data["zone_binding_hour"].to_numpy()
    pue = data["pue"].to_numpy()
    hours = data["hour"].to_numpy().tolist()
    for z, zone in enumerate(zones):
        members = np.flatnonzero((site_zone == zone) & buildable)
        if not math.isfinite(limits[z]) or members.size == 0:
            continue
        hz = np.flatnonzero(binding[z])
        if variant.hull_hours and hz.size > 1:
            vectors = np.unique(pue[members][allowed[members]][:, hz], axis=0)
            hz = hz[hull_hours(vectors)]
        if hz.size == 0:
            continue
        for p, period in enumerate(periods):
            cells = np.argwhere(skp_mask[members, :, p])  # (member, k) pairs present at p
            if cells.size == 0:
                continue
            s, k = members[cells[:, 0]], cells[:, 1]
            keys: list[Key] = []
            if rows.with_keys:
                keys = [(_ZONE_LIMIT, (zone, period, hours[h])) for h in hz]
            if variant.aggregate_zone_draw:
                groups, group_of = np.unique(
                    np.char.add(np.char.add(weather[s], "|"), k.astype(str)), return_inverse=True
                )
                first_member = np.unique(group_of, return_index=True)[1]
                column = cols.add_block(len(groups), [])
                r = rows.add_block(np.zeros(len(groups)), np.zeros(len(groups)), [])
                rows.coef(r, column, 1.0)
                rows.coef(r[group_of], it[s, k, p], -1.0)
                s, k, var = s[first_member], k[first_member], column
            else:
                var = it[s, k, p]
            row = rows.add_block(np.full(hz.size, -np.inf), np.full(hz.size, limits[z]), keys)
            rows.coef(row[None, :], var[:, None], pue[s, k][:, hz])


def hull_hours(vectors: np.ndarray) -> np.ndarray:
    """Columns (hours) of ``vectors`` (pairs x hours) that are not <= a convex combination of
    the other columns, by one feasibility LP each; the rest never bind first."""
    from scipy.optimize import linprog

    n = vectors.shape[1]
    keep = np.ones(n, dtype=bool)
    for h in range(n):
        others = np.flatnonzero(np.arange(n) != h)
        found = linprog(
            np.zeros(others.size),
            A_ub=-vectors[:, others],
            b_ub=-vectors[:, h],
            A_eq=np.ones((1, others.size)),
            b_eq=[1.0],
            bounds=(0, None),
            method="highs",
        )
        keep[h] = found.status != 0  # infeasible: h is a vertex, keep it
    return keep


def _objective(
    data: xr.Dataset,
    cost: np.ndarray,
    site_open: np.ndarray,
    it: np.ndarray,
    new: np.ndarray,
    online: np.ndarray,
    sp_mask: np.ndarray,
    up_mask: np.ndarray,
    per_new: float,
    weight: float,
) -> None:
    """NPV of development, building, cooling, water, energy and upgrades (+ energy weight)."""
    df = data["discount_factor"].to_numpy()
    opex = data["opex_weight_years"].to_numpy()
    years = data["period_years"].to_numpy()

    def add(index: np.ndarray, value: np.ndarray) -> None:
        index, value = np.broadcast_arrays(index, value)
        keep = index >= 0
        np.add.at(cost, index[keep], value[keep])

    dev = data["development_capex_musd"].to_numpy()[:, None] * df[None, :]
    add(site_open, dev)
    add(np.where(sp_mask[:, 1:], site_open[:, :-1], -1), -dev[:, 1:])
    build = data["building_capex_musd_per_mw"].to_numpy()
    add(new, per_new * build[:, None, None] * df[None, None, :])
    capex = data["cooling_capex_musd_per_mw"].to_numpy()
    add(new, per_new * capex[None, :, None] * df[None, None, :])
    water = data["water_cost_musd_per_mw_year"].to_numpy()
    add(np.where(water[:, :, None] > 0, it, -1), water[:, :, None] * opex[None, None, :])
    energy = data["energy_cost_musd_per_mw_year"].to_numpy()
    add(it, energy[:, :, None] * opex[None, None, :])
    if weight > 0:
        mwh = data["energy_mwh_per_mw_year"].to_numpy()
        add(it, weight * mwh[:, :, None] * years[None, None, :])
    up = data["upgrade_capex_musd"].to_numpy()[:, None] * df[None, :]
    add(online, up)
    add(np.where(up_mask[:, 1:], online[:, :-1], -1), -up[:, 1:])


# --------------------------------------------------------------------------- HiGHS


def pass_to_highs(
    lp: DirectLp, time_limit_s: float = 600.0, mip_gap: float = 0.01, seed: int = 0
) -> highspy.Highs:
    """A HiGHS instance holding ``lp`` (``passModel``), with gridsite's solver options."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.shape[1], lp.shape[0]
    model.col_cost_ = lp.col_cost
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = lp.a.indptr
    model.a_matrix_.index_ = lp.a.indices
    model.a_matrix_.value_ = lp.a.data
    model.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in lp.integer
    ]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", int(seed))
    highs.passModel(model)
    return highs


def solve_highs(highs: highspy.Highs) -> dict[str, Any]:
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    info = highs.getInfo()
    has = info.primal_solution_status == 2
    return {
        "status": highs.modelStatusToString(highs.getModelStatus()),
        "objective_musd": float(info.objective_function_value) if has else None,
        "best_bound_musd": float(info.mip_dual_bound),
        "gap": float(info.mip_gap) if math.isfinite(info.mip_gap) else None,
        "solve_s": seconds,
    }


# --------------------------------------------------------------------------- check


def _pyomo_key(component_data: Any) -> Key:
    index = component_data.index()
    return (
        component_data.parent_component().name,
        index if isinstance(index, tuple) else (index,),
    )


def compare_with_pyomo(data: xr.Dataset, lp: DirectLp) -> dict[str, Any]:
    """Match every row and column of ``lp`` with Pyomo's compiled model and compare."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from formulations import build_model

    form = LinearStandardFormCompiler().write(build_model(data), mixed_form=True)
    col_of = {k: i for i, k in enumerate(lp.col_keys)}
    row_of = {k: i for i, k in enumerate(lp.row_keys)}
    col_perm = np.array([col_of[_pyomo_key(v)] for v in form.columns])
    row_perm = np.array([row_of[_pyomo_key(r.constraint)] for r in form.rows])
    sense = np.array([r.bound_type for r in form.rows])
    rhs = np.asarray(form.rhs, dtype=float)
    p_lower = np.where(sense >= 0, np.where(sense == 0, rhs, -np.inf), rhs)
    p_upper = np.where(sense <= 0, np.where(sense == 0, rhs, np.inf), rhs)

    a = lp.a.tocsr()[row_perm][:, col_perm].tocsr()
    pa = sp.csr_array(form.A)
    lower, upper = lp.row_lower[row_perm], lp.row_upper[row_perm]
    # A row may be stated either way round (a >= b or b - a <= 0): align signs.
    flip = np.sign(_first_entry(a)) != np.sign(_first_entry(pa))
    a = sp.diags_array(np.where(flip, -1.0, 1.0)) @ a
    lower, upper = np.where(flip, -upper, lower), np.where(flip, -lower, upper)
    diff = abs(a - pa)
    p_lb = np.array([-np.inf if v.lb is None else v.lb for v in form.columns], dtype=float)
    p_ub = np.array([np.inf if v.ub is None else v.ub for v in form.columns], dtype=float)
    p_int = np.array([v.is_integer() for v in form.columns])
    p_cost = form.c.toarray()[0]
    cost = lp.col_cost[col_perm]
    return {
        "rows": [lp.shape[0], int(pa.shape[0])],
        "columns": [lp.shape[1], len(form.columns)],
        "nonzeros": [int(lp.a.nnz), int(form.A.nnz)],
        "max_abs_coef_diff": float(diff.max()) if diff.nnz else 0.0,
        "max_rel_cost_diff": float(np.max(np.abs(cost - p_cost) / np.maximum(1, np.abs(p_cost)))),
        "row_bounds_equal": bool(np.allclose(lower, p_lower) and np.allclose(upper, p_upper)),
        "col_bounds_equal": bool(
            np.array_equal(lp.col_lower[col_perm], p_lb)
            and np.array_equal(lp.col_upper[col_perm], p_ub)
        ),
        "integrality_equal": bool(np.array_equal(lp.integer[col_perm], p_int)),
        "objective_offset": float(form.c_offset[0]) if len(form.c_offset) else 0.0,
    }


def _first_entry(a: sp.csr_array) -> np.ndarray:
    a = a.copy()
    a.sort_indices()
    return a.data[a.indptr[:-1]]


# --------------------------------------------------------------------------- CLI


def main() -> None:
    from optimizer import load_scenario, options_for
    from optimizer.prepare import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "data" / "default"))
    parser.add_argument("--check", action="store_true", help="compare with the Pyomo model")
    parser.add_argument("--solve", action="store_true", help="solve the direct and Pyomo models")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    data = prepare(scenario)
    out: dict[str, Any] = {"scenario": args.scenario}
    start = time.perf_counter()
    lp = build_direct(data)
    out["build_s"] = time.perf_counter() - start
    start = time.perf_counter()
    options = options_for(scenario, time_limit_s=args.time_limit)
    highs = pass_to_highs(lp, options.time_limit_s, options.mip_gap_frac)
    out["handoff_s"] = time.perf_counter() - start
    out["rows"], out["columns"] = lp.shape
    out["nonzeros"], out["integers"] = int(lp.a.nnz), int(lp.integer.sum())
    if args.check:
        out["check"] = compare_with_pyomo(data, build_direct(data, with_keys=True))
    if args.solve:
        from formulations import build_model
        from optimizer.solver import solve_model

        out["direct"] = solve_highs(highs)
        result = solve_model(build_model(data), options)
        out["pyomo"] = {
            "status": result.termination,
            "objective_musd": result.objective_musd,
            "best_bound_musd": result.best_bound_musd,
            "gap": result.mip_gap_frac,
            "solve_s": result.solve_seconds,
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
