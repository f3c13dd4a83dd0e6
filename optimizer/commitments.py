"""What a previous plan has already decided up to and including a period: the commitments of
a rolling re-plan (:mod:`optimizer.replan`).

Committed through period P:

- IT MW per campus, cooling technology and period p <= P, and whether the campus is open
  (what is energized stays; nothing more is built in the past);
- upgrades ordered by P: an upgrade in service at I with lead time L (the new scenario's) was
  ordered at I - L; if that is at or before P it is bought and stays in service from I (from
  its new earliest period if the new data delays it, possibly past the horizon). An upgrade
  not ordered by P can be in service no sooner than P + 1 + L;
- on-site capacity in service and clean-energy contracts signed in periods p <= P.

For the solve the commitments fix variables (:meth:`Commitments.fix`); for the diagnosis they
are constraints with a relaxable slack each (:meth:`Commitments.add_constraints`), so a
commitment the new data makes impossible is named (:func:`describe`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
import xarray as xr

from formulations import Concern, Family, Relax, Relaxation
from formulations.concern import Index
from optimizer.periods import Period
from optimizer.plan import Plan

#: Constraint families of the ``commitments`` block: name -> (unit, what the slack means).
FAMILIES = {
    "commitments.keeps_it": "MW",
    "commitments.builds_no_more": "MW",
    "commitments.keeps_upgrade": "upgrade",
    "commitments.not_ordered": "upgrade",
    "commitments.keeps_onsite": "MW",
    "commitments.keeps_contract": "MW",
}
MISSING = "commitments.missing"
"""The family the diagnosis names a commitment to an object the new data removed by."""


@dataclass
class Commitments:
    through: str
    """Last committed period, e.g. ``2027H2``."""
    it_mw: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """(site, cooling, period) -> IT MW energized, for every period up to ``through``."""
    site_mw: dict[tuple[str, str], float] = field(default_factory=dict)
    """(site, period) -> IT MW energized at the campus (all technologies)."""
    upgrades: dict[str, str] = field(default_factory=dict)
    """Upgrades ordered by ``through`` -> period in service in the previous plan."""
    earliest_upgrade: dict[str, str] = field(default_factory=dict)
    """Upgrades not ordered by ``through`` -> earliest period they can now be in service."""
    onsite_mw: dict[tuple[str, str], float] = field(default_factory=dict)
    contracted_mw: dict[tuple[str, str], float] = field(default_factory=dict)
    missing: list[Relaxation] = field(default_factory=list)
    """Commitments to objects the new scenario no longer has (a cancelled upgrade, ...),
    as the diagnosis names them (family ``commitments.missing``)."""
    notes: list[str] = field(default_factory=list)
    """What :meth:`fix` found worth saying that breaks nothing (an upgrade delayed past the
    horizon)."""

    def committed(self, period: str) -> bool:
        return Period.parse(period) <= Period.parse(self.through)

    def fix(self, m: pyo.ConcreteModel) -> list[Relaxation]:
        """Fix the committed variables of the re-plan's model; returns the commitments it
        cannot hold (an object the new scenario no longer has, a committed variable the new
        model does not have), as the diagnosis names them."""
        broken = list(self.missing)
        for (s, k, p), var in m.phasing.it_mw.items():
            if self.committed(p):
                var.fix(self.it_mw.get((s, k, p), 0.0))
        for (s, p), var in m.siting.site_open.items():
            if self.committed(p):
                var.fix(1 if self.site_mw.get((s, p), 0.0) > 0 else 0)
        for (s, k, p), mw in self.it_mw.items():
            if mw > 0 and (s, k, p) not in m.phasing.it_mw:
                message = f"{p}: {mw:,.0f} MW energized at {s} ({k}) cannot exist"
                broken.append(Relaxation(MISSING, s, p, mw, "MW", message))
        ordered_from = self._upgrade_periods(m)
        for (u, p), var in m.interconnection.upgrade_online.items():
            if u in ordered_from:
                var.fix(1 if Period.parse(p) >= ordered_from[u] else 0)
            elif u in self.earliest_upgrade and Period.parse(p) < Period.parse(
                self.earliest_upgrade[u]
            ):
                var.fix(0)
        self.notes = [
            f"committed upgrade {u} is now in service after the horizon"
            for u in self.upgrades
            if u not in ordered_from and not any(r.subject == u for r in self.missing)
        ]
        for name, values in (
            ("onsite", self.onsite_mw),
            ("clean", self.contracted_mw),
        ):
            block = getattr(m, name, None)
            variables = {} if block is None else dict(_capacity_var(block).items())
            for key, mw in values.items():
                if key in variables:
                    variables[key].fix(mw)
                elif mw > 0:
                    message = f"{key[1]}: {mw:,.0f} MW of {key[0]} cannot exist"
                    broken.append(Relaxation(MISSING, key[0], key[1], mw, "MW", message))
        return broken

    def _upgrade_periods(self, m: pyo.ConcreteModel) -> dict[str, Period]:
        """Committed upgrade -> first period in service in the new model (the previous one,
        or the upgrade's first period if the new data delays it)."""
        first: dict[str, Period] = {}
        for u, p in m.UPGRADE_PERIODS:
            if u in self.upgrades and u not in first:
                first[u] = max(Period.parse(p), Period.parse(self.upgrades[u]))
        return first

    def concern(self) -> Concern:
        """The commitments as a concern of their own (block ``commitments``), each family
        relaxable, for the diagnosis (:func:`optimizer.diagnose.diagnose`)."""

        def relax(family: str) -> Relax:
            def words(index: Index, amount: float, _: xr.Dataset) -> Relaxation:
                message = describe(family, index, amount)
                unit = FAMILIES[family]
                return Relaxation(family, str(index[0]), str(index[-1]), amount, unit, message)

            return Relax(FAMILIES[family], words)

        return Concern(
            name="commitments",
            add_to=lambda m, _: self.add_constraints(m),
            needs=("phasing", "interconnection"),
            families={f.split(".")[1]: Family(relax=relax(f)) for f in FAMILIES},
        )

    def add_constraints(self, m: pyo.ConcreteModel) -> None:
        """State the commitments as constraints on a ``commitments`` block."""
        b = m.commitments = pyo.Block()
        it = m.phasing.it_mw
        keep = [key for key, mw in self.it_mw.items() if mw > 0 and key in it]
        b.keeps_it = pyo.Constraint(
            keep, rule=lambda _, s, k, p: it[s, k, p] >= self.it_mw[s, k, p]
        )
        past = [(s, p) for s, p in m.SITE_PERIODS if self.committed(p)]
        b.builds_no_more = pyo.Constraint(
            past,
            rule=lambda _, s, p: (
                sum(it[s, k, p] for k in m.techs_at[s, p]) <= self.site_mw.get((s, p), 0.0)
            ),
        )
        online = m.interconnection.upgrade_online
        ordered = [
            (u, p)
            for u, p in online
            if u in self.upgrades and Period.parse(p) >= Period.parse(self.upgrades[u])
        ]
        b.keeps_upgrade = pyo.Constraint(ordered, rule=lambda _, u, p: online[u, p] >= 1)
        early = [
            (u, p)
            for u, p in online
            if u in self.earliest_upgrade
            and Period.parse(p) < Period.parse(self.earliest_upgrade[u])
        ]
        b.not_ordered = pyo.Constraint(early, rule=lambda _, u, p: online[u, p] <= 0)
        for name, values, family in (
            ("onsite", self.onsite_mw, "keeps_onsite"),
            ("clean", self.contracted_mw, "keeps_contract"),
        ):
            block = getattr(m, name, None)
            var = None if block is None else _capacity_var(block)
            keys = [] if var is None else [k for k, mw in values.items() if mw > 0 and k in var]
            b.add_component(
                family,
                pyo.Constraint(keys, rule=lambda _, o, p, v=var, x=values: v[o, p] >= x[o, p]),
            )


def _capacity_var(block: pyo.Block) -> Any:
    """The committed capacity of an on-site (``capacity_mw``) or clean (``contracted_mw``)
    block."""
    return block.capacity_mw if hasattr(block, "capacity_mw") else block.contracted_mw


def commitments_from(plan: Plan, through: str, data: xr.Dataset) -> Commitments:
    """What ``plan`` decided up to and including ``through``, read against the new
    scenario's prepared ``data`` (for lead times and which objects still exist)."""
    ds = plan.dataset
    if not plan.has_solution:
        raise ValueError(f"the previous plan has no solution ({plan.status})")
    if through not in plan.periods:
        raise ValueError(f"commit-through period {through} is not in the previous plan")
    c = Commitments(through)
    it = ds["it_mw_by_cooling"].to_numpy()
    for i, s in enumerate(ds["site"].to_numpy()):
        for j, k in enumerate(ds["cooling"].to_numpy()):
            for q, p in enumerate(plan.periods):
                if c.committed(p):
                    c.it_mw[str(s), str(k), p] = float(it[i, j, q])
                    c.site_mw[str(s), p] = c.site_mw.get((str(s), p), 0.0) + float(it[i, j, q])
    lead = dict(zip(_ids(data, "upgrade"), data["upgrade_first_index"].to_numpy(), strict=True))
    after = Period.parse(through) + 1
    first = Period.parse(str(data["period"].to_numpy()[0]))
    previous = dict(zip(_ids(ds, "upgrade"), ds["upgrade_online_period"].to_numpy(), strict=True))
    for u, lead_periods in lead.items():
        when = str(previous.get(u, ""))
        if when and _ordered_by(when, int(lead_periods), through):
            c.upgrades[u] = when
        else:
            c.earliest_upgrade[u] = max(after + int(lead_periods), first).label
    # A cancelled upgrade's lead time is unknown (the plan does not record it): committed
    # for certain if it was in service by then.
    c.missing = [
        Relaxation(
            MISSING,
            u,
            when,
            1.0,
            "upgrade",
            f"{when}: committed upgrade {u} (in service {when}) is not in the new scenario",
        )
        for u, when in previous.items()
        if when and u not in lead and _ordered_by(when, 0, through)
    ]
    for name, var, dim in (
        ("onsite", "onsite_capacity_mw", "onsite"),
        ("clean", "contracted_mw", "contract"),
    ):
        if var not in ds:  # the previous plan had no such options
            continue
        values = ds[var].to_numpy()
        target = c.onsite_mw if name == "onsite" else c.contracted_mw
        for i, o in enumerate(_ids(ds, dim)):
            for q, p in enumerate(plan.periods):
                if c.committed(p) and values[i, q] > 0:
                    target[o, p] = float(values[i, q])
    return c


def _ordered_by(in_service: str, lead_periods: int, through: str) -> bool:
    return Period.parse(in_service) + (-lead_periods) <= Period.parse(through)


def _ids(ds: xr.Dataset, dim: str) -> list[str]:
    return [str(x) for x in ds[dim].to_numpy()]


def describe(family: str, index: tuple[Any, ...], amount: float) -> str:
    """A broken commitment in the planner's words (for the diagnosis)."""
    if family == "commitments.keeps_it":
        s, k, p = index
        return f"{p}: commitment at {s}: {amount:,.0f} MW already energized ({k}) cannot be kept"
    if family == "commitments.builds_no_more":
        s, p = index
        return f"{p}: {s} would need {amount:,.0f} MW more than the committed plan energized"
    if family == "commitments.keeps_upgrade":
        u, p = index
        return f"{p}: committed upgrade {u} cannot be in service"
    if family == "commitments.not_ordered":
        u, p = index
        return f"{p}: upgrade {u} was not ordered in time to be in service"
    o, p = index
    what = "on-site capacity" if family == "commitments.keeps_onsite" else "contract"
    return f"{p}: committed {what} {o} short by {amount:,.0f} MW"
