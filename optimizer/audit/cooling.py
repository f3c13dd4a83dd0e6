"""Cooling rules: one technology per campus, liquid cooling when the platform needs it,
design temperatures within the technology's limits, and water within the site's limit."""

from __future__ import annotations

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _slack


class _CoolingRules(_AuditBase):
    """The ``cooling.*`` rules."""

    def check_cooling(self, d: _Decisions) -> None:
        f, sc = self.f, self.f.scenario
        liquid = sc.config.portfolio.requires_liquid_cooling
        self.count("cooling.one_per_site", len(f.site_ids))
        self.count("cooling.serves_liquid_racks", len(f.site_ids))
        self.count("cooling.within_design_limit", 2 * len(f.site_ids))
        for s, site in enumerate(sc.sites):
            used = self.techs_used(d, s)
            peak = d.it[s].max(axis=1)  # (k) largest capacity on each technology
            if len(used) > 1:
                main = max(used, key=lambda k: peak[k])
                self.flag(
                    "cooling.one_per_site",
                    site.site_id,
                    float(sum(peak[k] for k in used if k != main)),
                    f"on {', '.join(f.tech_ids[k] for k in used if k != main)} "
                    f"as well as {f.tech_ids[main]}",
                )
            for k in used:
                tech = sc.cooling[k]
                if liquid and not tech.serves_liquid_racks:
                    self.flag(
                        "cooling.serves_liquid_racks",
                        site.site_id,
                        peak[k],
                        f"{tech.cooling_id} serves no liquid racks; the platform requires them",
                    )
                for name, design, limit in (
                    ("dry-bulb", f.design_dry[s], tech.max_dry_bulb_c),
                    ("wet-bulb", f.design_wet[s], tech.max_wet_bulb_c),
                ):
                    if limit is not None and design > limit:
                        self.flag(
                            "cooling.within_design_limit",
                            site.site_id,
                            design - limit,
                            f"design {name} {design:.6g} °C exceeds {tech.cooling_id}'s "
                            f"limit {limit:g} °C",
                        )
        # Annual water use at each period's capacity.
        per_mw = f.load_factor * np.einsum("skh,h->sk", f.wue, f.weight_h)  # m3/year per MW
        water = np.einsum("skp,sk->sp", d.it, per_mw)
        for s, site in enumerate(sc.sites):
            limit = site.water_limit_m3_per_year
            if limit is None:
                continue
            self.count("cooling.within_water_limit", len(f.periods))
            for p in np.flatnonzero(water[s] > limit + _slack(limit)):
                self.flag(
                    "cooling.within_water_limit",
                    site.site_id,
                    water[s, p] - limit,
                    f"{water[s, p]:,.6g} m3/year, limit {limit:,.6g}",
                    int(p),
                )
