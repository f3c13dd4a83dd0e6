"""Inference demand rules: each region served, only within the latency limit, never above
a campus's IT; and the NPV network cost of the serving."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _slack
from optimizer.audit.findings import USD_PER_MUSD


class _DemandRules(_AuditBase):
    """The ``demand.*`` rules."""

    def check_demand(self, d: _Decisions, plan: dict[str, Any]) -> float | None:
        """Inference demand met in every region and period, only from campuses within the
        region's round-trip latency limit (given in serving.csv, else 2 x great-circle km x
        route factor / km per ms), never more than a campus's IT. Returns the NPV network
        cost of the serving, or None when the scenario has no demand regions."""
        sc, f = self.f.scenario, self.f
        if not sc.demand_regions:
            return None
        regions = {r.region_id: r for r in sc.demand_regions}
        given = {(p.region_id, p.site_id): p for p in sc.serving}
        sites = {s.site_id: (i, s) for i, s in enumerate(sc.sites)}
        when = {p: t for t, p in enumerate(f.periods)}
        factor, speed = sc.config.latency.fiber_route_factor, sc.config.latency.fiber_km_per_ms
        served: dict[tuple[str, int], float] = defaultdict(float)
        at_site = np.zeros_like(d.site_it)
        cost = 0.0
        rows = plan.get("serving") or []
        for row in rows:
            r, s, t = str(row["region_id"]), str(row["site_id"]), when[str(row["period"])]
            mw = float(row["serve_mw"])
            region, (i, site) = regions[r], sites[s]
            if (r, s) in given:
                latency, usd = given[r, s].latency_ms, given[r, s].network_cost_usd_per_mw_year
            else:
                km = _haversine_km(
                    region.latitude_deg, region.longitude_deg, site.latitude_deg, site.longitude_deg
                )
                latency = 2.0 * km * factor / speed
                usd = km / 1000.0 * region.network_cost_usd_per_mw_year_per_1000km
            if latency > region.latency_limit_ms * (1 + 1e-9) and mw > _slack():
                self.flag(
                    "demand.within_latency",
                    f"{r}->{s}",
                    latency - region.latency_limit_ms,
                    f"{mw:,.6g} MW served at {latency:,.3f} ms, limit "
                    f"{region.latency_limit_ms:,.6g} ms",
                    t,
                )
            served[r, t] += mw
            at_site[i, t] += mw
            cost += mw * usd * float(f.opex_weight[t]) / USD_PER_MUSD
        self.count("demand.within_latency", len(rows))
        for row in sc.inference_demand:
            t = when[row.period]
            short = row.inference_it_mw - served[row.region_id, t]
            if short > _slack(row.inference_it_mw):
                self.flag(
                    "demand.meets_demand",
                    row.region_id,
                    short,
                    f"served {served[row.region_id, t]:,.6g} of {row.inference_it_mw:,.6g} MW",
                    t,
                )
        self.count("demand.meets_demand", len(sc.inference_demand))
        over = at_site - d.site_it
        for i, t in zip(*np.nonzero(over > 1e-5), strict=True):
            self.flag(
                "demand.within_capacity",
                f.site_ids[i],
                float(over[i, t]),
                f"serves {at_site[i, t]:,.6g} MW with {d.site_it[i, t]:,.6g} MW IT",
                int(t),
            )
        self.count("demand.within_capacity", int(at_site.size))
        return cost


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius 6,371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, a))))
