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

These rows hold for the model as stated, not for the diagnosis's elastic copy, whose limits
stretch (``formulations.time_rules`` marks it): there the module adds nothing. With the
decisions fixed (marginal values) the rows are dropped, so duals fall on the limits that
imply them (``HighsModel.fix_decisions`` drops every row of ``m.valid_inequalities``).
"""

from __future__ import annotations

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

    m.valid_inequalities = [b.within_chosen, b.within_open]


CONCERN = Concern(
    name="strength",
    add_to=add_to,
    needs=("siting", "phasing", "cooling"),
    # Implied by the model's own rows: never relaxed (the diagnosis's copy has none), no
    # marginal value (dropped from the fixed LP).
    families={"within_chosen": Family(), "within_open": Family()},
)
