"""The cost recomputation (every term of the objective, from the raw scenario) and its
comparison with plan.json's breakdown and objective."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optimizer.audit.base import _AuditBase, _close, _Decisions
from optimizer.audit.findings import CLEAN_TERMS, COST_TERMS, SITE_POWER_TERMS, USD_PER_MUSD


class _CostRules(_AuditBase):
    """The ``objective.cost`` rule: every cost term recomputed and compared."""

    def recompute_costs(self, d: _Decisions) -> dict[str, float]:
        f, sc = self.f, self.f.scenario
        it, new, df = d.it, d.new, f.discount
        lf = f.load_factor
        dev = 0.0
        for s, site in enumerate(sc.sites):
            opened = d.development.get(s)
            if opened is not None:
                dev += site.development_capex_musd * float(df[opened])
        building = np.array([site.building_capex_musd_per_mw for site in sc.sites])
        cooling = np.array([t.capex_musd_per_mw for t in sc.cooling])
        water_price = np.array([site.water_price_usd_per_m3 for site in sc.sites])
        water_m3 = lf * np.einsum("skh,h->sk", f.wue, f.weight_h)  # per MW-year
        energy_usd = lf * np.einsum("skh,h,sh->sk", f.pue, f.weight_h, f.price)  # per MW-year
        energy_mwh = lf * np.einsum("skh,h->sk", f.pue, f.weight_h)  # per MW-year
        carbon_t = lf * np.einsum("skh,h,sh->sk", f.pue, f.weight_h, f.carbon) / 1e3  # per MW-yr
        upgrades = {u.upgrade_id: u for u in sc.upgrades}
        onsite = self.onsite_per_year(d)
        matched_tco2 = self.matched_per_year(d)["matched_tco2"]  # (p) per year
        shed_it, _ = self.shed(d)
        lost_usd = np.zeros(len(f.site_ids))  # per MWh of IT energy shed
        for flex in sc.flexible_connections:
            lost_usd[f.site_ids.index(flex.site_id)] = flex.lost_compute_usd_per_mwh
        costs = {
            "development": dev,
            "building": float(np.einsum("skp,s,p->", new, building, df)),
            "cooling": float(np.einsum("skp,k,p->", new, cooling, df)),
            "water": float(
                np.einsum("skp,sk,s,p->", it, water_m3, water_price, f.opex_weight) / USD_PER_MUSD
            ),
            "upgrades": float(sum(upgrades[u].capex_musd * df[p] for u, p in d.upgrades.items())),
            "energy": float(
                np.einsum("skp,sk,p->", it, energy_usd, f.opex_weight)
                - np.einsum("sp,p->", onsite["displaced_usd"], f.opex_weight)
            )
            / USD_PER_MUSD,
            "carbon": float(
                np.einsum("skp,sk,p->", it, carbon_t, f.opex_weight)
                + np.einsum("sp,p->", onsite["net_tco2"], f.opex_weight)
                - matched_tco2 @ f.opex_weight
            )
            * sc.config.objective.carbon_price_usd_per_t
            / USD_PER_MUSD,
            "curtailment": float(
                np.einsum("sph,s,sh,p->", shed_it, lost_usd, f.stressed_weight_h, f.opex_weight)
            )
            / USD_PER_MUSD,
        }
        if sc.onsite_power:
            capex = np.array([o.capex_musd_per_mw for o in sc.onsite_power])
            fixed = np.array([o.fixed_cost_musd_per_mw_year for o in sc.onsite_power])
            usd_per_mwh = np.array(
                [
                    o.heat_rate_mmbtu_per_mwh * o.fuel_price_usd_per_mmbtu
                    + o.variable_om_usd_per_mwh
                    for o in sc.onsite_power
                ]
            )
            added = np.clip(np.diff(d.onsite_mw, axis=1, prepend=0.0), 0.0, None)
            costs["onsite_capacity"] = float(
                np.einsum("op,o,p->", added, capex, df)
                + np.einsum("op,o,p->", d.onsite_mw, fixed, f.opex_weight)
            )
            costs["onsite_fuel"] = float(
                np.einsum("oph,o,h,p->", d.onsite_output_mw, usd_per_mwh, f.weight_h, f.opex_weight)
                / USD_PER_MUSD
            )
        if sc.clean_contracts:
            # Contract for difference: per MWh of output the strike price less the zone's.
            strike = np.array([c.price_usd_per_mwh for c in sc.clean_contracts])
            margin = strike[:, None] - f.zone_price[f.contract_zone]  # (c, h) USD/MWh
            settle = np.einsum("ch,h,ch->c", f.contract_cf, f.weight_h, margin)  # per MW-year
            costs["clean_contracts"] = float(
                np.einsum("cp,c,p->", d.contracted, settle, f.opex_weight) / USD_PER_MUSD
            )
        if d.serving_musd is not None:
            costs["serving"] = d.serving_musd
        terms = (*COST_TERMS, *SITE_POWER_TERMS, *CLEAN_TERMS, "serving")
        costs["total"] = sum(costs[t] for t in terms if t in costs)
        weight = sc.config.objective.energy_weight_usd_per_mwh / USD_PER_MUSD
        mwh = float(np.einsum("skp,sk,p->", it, energy_mwh, f.years))
        costs["objective"] = costs["total"] + weight * mwh
        return costs

    def check_costs(self, d: _Decisions, plan: dict[str, Any]) -> None:
        costs = self.recompute_costs(d)
        stated: dict[str, float | None] = dict(plan.get("cost_npv_musd") or {})
        stated["objective"] = plan.get("objective_musd")
        self.report.costs_musd = costs
        self.report.plan_costs_musd = stated
        self.count("objective.cost", len(costs))
        for term, value in costs.items():
            given = stated.get(term)
            if given is None:
                self.flag("objective.cost", term, math.nan, "missing from plan.json")
            elif not _close(given, value):
                self.flag(
                    "objective.cost",
                    term,
                    given - value,
                    f"plan.json says {given:,.6f} M USD, recomputed {value:,.6f}",
                )
