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

Counted down from all upgrades instead (U the campus's upgrades in period p, 2 to
``MAX_ENUMERATED_UPGRADES`` of them, Q(S) = q_k(B + A(S))):

    it_mw[s,k,p] <= a_0 cooling_chosen[s,k] + sum_u a_u upgrade_online[u,p]  (within_connection_less_missing)
    a_u = Q(U) - Q(U - {u}),   a_0 = max(0, max over S in U of Q(S) - sum_{u in S} a_u)

Valid: with k chosen and the upgrades S in service, it_mw <= Q(S) <= a_0 + sum_S a_u by a_0's
definition; with k chosen and the campus not yet open in p, it_mw is 0 <= a_0; with k not
chosen, 0 <= sum a_u upgrade_online (q never decreases, so a_u >= 0). Where Q has diminishing
increments (the deliverable cap makes them so), a_0 = Q(U) - sum_u a_u and the row reads
it_mw <= Q(U) - sum_u a_u (1 - upgrade_online[u,p]). With two upgrades, it and
``within_connection`` are the two facets of the IT the campus can carry over the square of
upgrade decisions: the LP can no longer buy the cheap upgrade in full and the fraction of the
big one that tops it up, when the big one alone reaches the cap (the default's 345 kV lines:
Dallas-Fort Worth buys its 230 kV line and 0.43 of the 345 kV one for 800 MW that only the
345 kV line carries). On the default the LP bound goes 111,091.8 -> 111,261.5 M USD with 164
rows; HiGHS's presolve and cuts found as much before (benchmarks/RESULTS.md).

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

    less = connection_less_missing(m, data)

    @b.Constraint(list(less))
    def within_connection_less_missing(b: pyo.Block, s: str, k: str, p: str) -> object:
        """it_mw[s,k,p] <= a_0 cooling_chosen[s,k] + sum_u a_u upgrade_online[u,p]."""
        base, steps = less[s, k, p]
        online = m.interconnection.upgrade_online
        return it[s, k, p] <= base * m.cooling.cooling_chosen[s, k] + sum(
            a * online[u, p] for u, a in steps
        )

    m.valid_inequalities = [
        b.within_chosen,
        b.within_open,
        b.within_connection,
        b.within_connection_less_missing,
    ]


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


def _carried_it(
    m: pyo.ConcreteModel, data: xr.Dataset
) -> dict[tuple[str, str, str], tuple[list[str], dict[tuple[str, ...], float]]]:
    """(site, cooling, period) -> (its upgrades U, {S: q_k(B + A(S)) for every S of U}), where
    the campus can deliver IT with that cooling and has 2 to ``MAX_ENUMERATED_UPGRADES``
    upgrades in that period."""
    block = float(data.attrs["block_it_mw"])
    sites = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cools = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
    base_mw = data["supply_before_upgrades_mw"].to_numpy()
    deliverable = data["deliverable_it_mw"].to_numpy()
    peak = data["peak_pue"].to_numpy()
    names = data["upgrade"].to_numpy().astype(str).tolist()
    added = dict(zip(names, data["upgrade_added_mw"].to_numpy().tolist(), strict=True))
    site_of = dict(zip(names, data["upgrade_site"].to_numpy().astype(str).tolist(), strict=True))
    at_site: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u, p in m.UPGRADE_PERIODS:
        at_site[site_of[u], p].append(u)
    out = {}
    for s, k, p in m.SITE_COOLING_PERIODS:
        i, j, t = sites[s], cools[k], m.period_index[p]
        cap, draw = float(deliverable[i, j, t]), float(peak[i, j])
        ups = at_site[s, p]
        if cap <= 0 or not np.isfinite(draw) or draw <= 0:
            continue
        if not 2 <= len(ups) <= MAX_ENUMERATED_UPGRADES:
            continue
        b0 = float(base_mw[i, t])

        def q(supply_mw: float, cap: float = cap, draw: float = draw) -> float:
            if block <= 0:
                return min(cap, supply_mw / draw)
            return min(cap, block * math.floor(supply_mw / (block * draw) + 1e-9))

        out[s, k, p] = (
            ups,
            {
                t_: q(b0 + sum(added[u] for u in t_))
                for r in range(len(ups) + 1)
                for t_ in itertools.combinations(ups, r)
            },
        )
    return out


def connection_less_missing(
    m: pyo.ConcreteModel, data: xr.Dataset
) -> dict[tuple[str, str, str], tuple[float, list[tuple[str, float]]]]:
    """(site, cooling, period) -> (a_0, [(upgrade, a_u)]) for
    ``within_connection_less_missing``, where it says more than ``within_connection``."""
    carried = connection_carries(m, data)
    out = {}
    for key, (ups, q) in _carried_it(m, data).items():
        if key not in carried:
            continue  # within_chosen says as much
        full = q[tuple(ups)]
        a = {u: full - q[tuple(v for v in ups if v != u)] for u in ups}
        a0 = max(0.0, max(value - sum(a[u] for u in t_) for t_, value in q.items()))
        base, steps = carried[key]
        c = dict(steps)
        if a0 >= base and all(a[u] >= c.get(u, 0.0) for u in ups):
            continue  # within_connection says as much
        out[key] = (a0, [(u, a_u) for u, a_u in a.items() if a_u > 0])
    return out


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
        "within_connection_less_missing": Family(),
    },
)
