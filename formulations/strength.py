"""Valid inequalities: rows that tighten the LP relaxation and never change the MIP optimum.

A campus holds IT of one cooling technology only (``cooling.one_per_open_site``), at most
``deliverable_it_mw[s,k,p]`` in period p (``optimizer.prepare``: its maximum, grid, zone,
water and supply limits, in whole blocks). Every plan therefore satisfies the convex hull of
that disjunction, which the model's own big-M rows (``max_it_mw`` x a binary) do not give
the LP:

    it_mw[s,k,p] <= deliverable_it_mw[s,k,p] * cooling_chosen[s,k]          (within_chosen)
    sum_k it_mw[s,k,p] / deliverable_it_mw[s,k,p] <= site_open[s,p]         (within_open)

(a pair with nothing deliverable gets ``it_mw <= 0``). The LP can then no longer open a
campus in part, or mix a water-cooled technology up to the water limit with a dry one.

The grid connection carries IT in whole halls, up to the deliverable IT. With
``q_k(x) = min(deliverable_it_mw[s,k,p], block_it_mw floor(x / (block_it_mw peak_pue[s,k])))``
(without blocks, ``min(deliverable, x / peak_pue)``) the IT that supply x MW carries, the
supply before upgrades ``B = supply_before_upgrades_mw[s,p]`` (headroom, non-firm tier,
on-site options) and the upgrades U in service by p, adding ``A_u``:

    it_mw[s,k,p] <= q_k(B) cooling_chosen[s,k] + sum_u c_u upgrade_online[u,p]   (within_connection)
    c_u = max over T in U - {u} of q_k(B + A(T) + A_u) - q_k(B + A(T))

Valid: with k chosen and the upgrades S in service, it_mw <= q_k(B + A(S)), which the
increments c_u bound by telescoping over S; with k not chosen it_mw is 0. The model's own
row (draw <= headroom x open + sum A_u upgrade_online) lets the LP buy the fraction of an
upgrade that carries the IT; this row makes it buy the halls the upgrade adds, and no more
than the campus can hold (a 1,500 MW line at a campus that can take 300 MW more is worth
300 MW). HiGHS's presolve finds the rounding where a campus has one technology, not the
bound by the deliverable IT: on the default the LP bound goes 110,890.1 -> 111,091.8 M USD
(benchmarks/RESULTS.md).

These rows hold for the model as stated, not for the diagnosis's elastic copy, whose limits
stretch (``formulations.time_rules`` marks it): there the module adds nothing. With the
decisions fixed (marginal values) the rows are dropped, so duals fall on the limits that
imply them (``HighsModel.fix_decisions`` drops every row of ``m.valid_inequalities``).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Concern, Family


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    if "site_rule_first_index" in data:  # the diagnosis's elastic copy (time rules opened)
        return
    b = m.strength = pyo.Block()
    cap_mw = data["deliverable_it_mw"].to_numpy()
    site = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cool = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
    cap = {
        (s, k, p): float(cap_mw[site[s], cool[k], m.period_index[p]])
        for s, k, p in m.SITE_COOLING_PERIODS
    }
    it = m.phasing.it_mw

    @b.Constraint(m.SITE_COOLING_PERIODS)
    def within_chosen(b: pyo.Block, s: str, k: str, p: str) -> object:
        """it_mw[s,k,p] <= deliverable_it_mw[s,k,p] * cooling_chosen[s,k]."""
        return it[s, k, p] <= cap[s, k, p] * m.cooling.cooling_chosen[s, k]

    @b.Constraint(m.SITE_PERIODS)
    def within_open(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] / deliverable_it_mw[s,k,p] <= site_open[s,p]."""
        techs = [k for k in m.techs_at[s, p] if cap[s, k, p] > 0]
        if not techs:
            return pyo.Constraint.Skip
        scale = max(cap[s, k, p] for k in techs)  # rows in MW: coefficients near 1
        return sum(scale / cap[s, k, p] * it[s, k, p] for k in techs) <= (
            scale * m.siting.site_open[s, p]
        )

    carried = connection_carries(m, data)

    @b.Constraint(list(carried))
    def within_connection(b: pyo.Block, s: str, k: str, p: str) -> object:
        """it_mw[s,k,p] <= q_k(B) cooling_chosen[s,k] + sum_u c_u upgrade_online[u,p]."""
        base, steps = carried[s, k, p]
        online = m.interconnection.upgrade_online
        return it[s, k, p] <= base * m.cooling.cooling_chosen[s, k] + sum(
            c * online[u, p] for u, c in steps
        )

    m.valid_inequalities = [b.within_chosen, b.within_open, b.within_connection]


MAX_ENUMERATED_UPGRADES = 8
"""Up to this many upgrades at a campus, c_u is the largest increment over every set of the
others; beyond, the bound ``min(deliverable - q(B), block x (floor(A_u / block draw) + 1))``."""


def connection_carries(
    m: pyo.ConcreteModel, data: xr.Dataset
) -> dict[tuple[str, str, str], tuple[float, list[tuple[str, float]]]]:
    """(site, cooling, period) -> (q_k(B), [(upgrade, c_u)]) for ``within_connection``, where
    the row says more than ``within_chosen`` (it_mw <= deliverable x cooling_chosen)."""
    block = float(data.attrs["block_it_mw"])
    sites = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cools = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
    base_mw = data["supply_before_upgrades_mw"].to_numpy()
    deliverable = data["deliverable_it_mw"].to_numpy()
    peak = data["peak_pue"].to_numpy()
    added = dict(
        zip(
            data["upgrade"].to_numpy().astype(str).tolist(),
            data["upgrade_added_mw"].to_numpy().tolist(),
            strict=True,
        )
    )
    site_of = dict(
        zip(
            data["upgrade"].to_numpy().astype(str).tolist(),
            data["upgrade_site"].to_numpy().astype(str).tolist(),
            strict=True,
        )
    )
    at_site: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u, p in m.UPGRADE_PERIODS:
        at_site[site_of[u], p].append(u)
    carried = {}
    for s, k, p in m.SITE_COOLING_PERIODS:
        i, j, t = sites[s], cools[k], m.period_index[p]
        cap, draw = float(deliverable[i, j, t]), float(peak[i, j])
        if cap <= 0 or not np.isfinite(draw) or draw <= 0:
            continue  # within_chosen holds it at 0

        def q(supply_mw: float, cap: float = cap, draw: float = draw) -> float:
            if block <= 0:
                return min(cap, supply_mw / draw)
            return min(cap, block * math.floor(supply_mw / (block * draw) + 1e-9))

        b0 = float(base_mw[i, t])
        base = q(b0)
        ups = at_site[s, p]
        steps = []
        for u in ups:
            others = [added[v] for v in ups if v != u]
            if len(others) < MAX_ENUMERATED_UPGRADES:
                c = max(
                    q(b0 + sum(t_) + added[u]) - q(b0 + sum(t_))
                    for r in range(len(others) + 1)
                    for t_ in itertools.combinations(others, r)
                )
            elif block > 0:
                c = min(cap - base, block * (math.floor(added[u] / (block * draw)) + 1))
            else:
                c = min(cap - base, added[u] / draw)
            if c > 0:
                steps.append((u, c))
        if base < cap:  # else within_chosen says as much
            carried[s, k, p] = (base, steps)
    return carried


CONCERN = Concern(
    name="strength",
    add_to=add_to,
    needs=("siting", "phasing", "cooling", "interconnection"),
    # Implied by the model's own rows: never relaxed (the diagnosis's copy has none), no
    # marginal value (dropped from the fixed LP).
    families={
        "within_chosen": Family(),
        "within_open": Family(),
        "within_connection": Family(),
    },
)
