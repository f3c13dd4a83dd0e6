"""Earliest dates and lead times as explicit constraints, for diagnosing infeasibility.

In the normal model a campus has no capacity variables before its earliest period plus
construction lead time, and an upgrade has no variables before its lead time (sparse sets):
the cheapest way to state a rule. To ask "how much earlier would it have to be?", the
diagnosis opens every period to every campus and upgrade (``site_first_index`` and
``upgrade_first_index`` set to 0) and keeps the rules' own periods in
``site_rule_first_index`` / ``upgrade_rule_first_index``; this module then states them as
constraints that the elastic relaxation can stretch:

    sum_k it_mw[s,k,p] <= 0          for p before the campus's first period  (before_earliest)
    upgrade_online[u,p] <= 0         for p before the upgrade's lead time     (before_lead_time)
"""

from __future__ import annotations

import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Concern, Family, Index, Relax, Relaxation


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.time_rules = pyo.Block()
    first = dict(
        zip(
            data["site"].to_numpy().tolist(),
            data["site_rule_first_index"].to_numpy().tolist(),
            strict=True,
        )
    )
    lead = dict(
        zip(
            data["upgrade"].to_numpy().tolist(),
            data["upgrade_rule_first_index"].to_numpy().tolist(),
            strict=True,
        )
    )
    techs = m.techs_at
    early_sites = [(s, p) for s, p in m.SITE_PERIODS if m.period_index[p] < first[s]]
    early_upgrades = [(u, p) for u, p in m.UPGRADE_PERIODS if m.period_index[p] < lead[u]]

    @b.Constraint(early_sites)
    def before_earliest(b: pyo.Block, s: str, p: str) -> object:
        """sum_k it_mw[s,k,p] <= 0 before the campus's earliest period + lead time."""
        return sum(m.phasing.it_mw[s, k, p] for k in techs[s, p]) <= 0

    @b.Constraint(early_upgrades)
    def before_lead_time(b: pyo.Block, u: str, p: str) -> object:
        """upgrade_online[u,p] <= 0 before the upgrade's lead time."""
        return m.interconnection.upgrade_online[u, p] <= 0


#: Moving a date is a smaller ask than capacity that does not exist: time rules weigh half.
TIME_RULE_WEIGHT = 0.5


def _early_site(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    s, p = index
    first = int(data["site_rule_first_index"].sel(site=s))
    periods = data["period"].to_numpy()
    when = periods[first] if first < len(periods) else "after the horizon"
    msg = (
        f"{p}: {s} would have to energize {amount:,.0f} MW before its earliest "
        f"period {when} (earliest date + construction lead time)"
    )
    return Relaxation("time_rules.before_earliest", str(s), str(p), amount, "MW", msg)


def _early_upgrade(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    u, p = index
    lead = int(data["upgrade_rule_first_index"].sel(upgrade=u))
    periods = data["period"].to_numpy()
    when = periods[lead] if lead < len(periods) else "after the horizon"
    site = str(data["upgrade_site"].sel(upgrade=u).item())
    msg = f"{p}: upgrade {u} at {site} would have to be in service before its lead time ({when})"
    return Relaxation("time_rules.before_lead_time", str(u), str(p), amount, "upgrade", msg)


def _upgrade_weight(key: Index, data: xr.Dataset) -> float:
    """An upgrade's early slack is a fraction of the upgrade: weighed by its MW."""
    return TIME_RULE_WEIGHT * float(data["upgrade_added_mw"].sel(upgrade=key[0]))


CONCERN = Concern(
    name="time_rules",
    add_to=add_to,
    needs=("phasing", "interconnection"),
    families={
        "before_earliest": Family(relax=Relax("MW", _early_site, weight=TIME_RULE_WEIGHT)),
        "before_lead_time": Family(relax=Relax("upgrade", _early_upgrade, weight=_upgrade_weight)),
    },
)
