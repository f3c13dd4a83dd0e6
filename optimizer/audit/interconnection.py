"""Interconnection rules: draw within headroom at every hour, zonal import limits,
upgrade timing, and for flexible campuses curtailment down to firm supply and what the grid
delivers."""

from __future__ import annotations

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _over, _slack


class _InterconnectionRules(_AuditBase):
    """The ``interconnection.*`` rules."""

    def check_interconnection(self, d: _Decisions) -> None:
        f, sc = self.f, self.f.scenario
        n_s, n_p, n_h = len(f.site_ids), len(f.periods), len(f.weight_h)
        upgrades = {u.upgrade_id: u for u in sc.upgrades}
        self.count("interconnection.upgrade_after_lead_time", len(d.upgrades))
        for uid, p in d.upgrades.items():
            u = upgrades[uid]
            if p < u.lead_periods:
                self.flag(
                    "interconnection.upgrade_after_lead_time",
                    uid,
                    u.lead_periods - p,
                    f"in service {p} period(s) after the first, lead time "
                    f"{u.lead_periods} period(s)",
                    p,
                )
        added = self.upgrades_mw(d)
        onsite_mw, output = self.site_onsite(d)
        draw = self.draw(d)
        cap = f.headroom + added + f.nonfirm + onsite_mw
        self.count("interconnection.within_headroom", n_s * n_p * n_h)
        excess = draw - cap[:, :, None]
        for s, p, h, over in _over(excess, _slack(cap)[:, :, None]):
            extra = "".join(
                f" + {name} {mw:,.6g} MW"
                for name, mw in (("non-firm", f.nonfirm[s, p]), ("on-site", onsite_mw[s, p]))
                if mw
            )
            self.flag(
                "interconnection.within_headroom",
                f.site_ids[s],
                excess[s, p, h],
                f"draw {draw[s, p, h]:,.6g} MW > headroom {f.headroom[s, p]:,.6g} MW + "
                f"upgrades {added[s, p]:,.6g} MW{extra} ({over} of {n_h} hours over)",
                p,
                h,
            )
        zone_of = np.array([s.zone_id for s in sc.sites])
        for zone in sc.zones:
            limit = zone.import_limit_mw
            members = zone_of == zone.zone_id
            if limit is None or not members.any():
                continue
            self.count("interconnection.within_zone_limit", n_p * n_h)
            zdraw = draw[members].sum(axis=0)  # (p, h)
            for q in np.flatnonzero(zdraw.max(axis=1) > limit + _slack(limit)):
                p = int(q)
                h = int(np.argmax(zdraw[p]))
                over = int(np.sum(zdraw[p] > limit + _slack(limit)))
                self.flag(
                    "interconnection.within_zone_limit",
                    zone.zone_id,
                    zdraw[p, h] - limit,
                    f"coincident draw {zdraw[p, h]:,.6g} MW > import limit {limit:,.6g} MW "
                    f"({over} of {n_h} hours over)",
                    int(p),
                    h,
                )
        if sc.flexible_connections or d.curtailed:
            self.check_curtailment(d, draw - output, firm=f.headroom + added)
        if sc.onsite_power:
            self.check_grid_delivers(draw, output, grid=f.headroom + added + f.nonfirm)

    def check_curtailment(self, d: _Decisions, draw: np.ndarray, firm: np.ndarray) -> None:
        """IT shed only at stressed hours, within installed IT; at every stressed hour the
        ``draw`` (s, p, h) less on-site output, after shedding, is within ``firm`` (s, p)
        supply: headroom and upgrades."""
        f = self.f
        rule = "interconnection.sheds_installed"
        self.count(rule, len(d.curtailed))
        for s, k, p, h, mw in d.curtailed:
            where = f"{f.site_ids[s]}/{f.tech_ids[k]}"
            installed = d.it[s, k, p]
            if f.stressed_weight_h[s, h] <= 0 and abs(mw) > _slack():
                self.flag(rule, where, abs(mw), f"{mw:,.6g} MW IT shed, not a stressed hour", p, h)
            elif mw < -_slack():
                self.flag(rule, where, -mw, f"negative: {mw:,.6g} MW IT shed", p, h)
            elif mw > installed + _slack(installed):
                self.flag(
                    rule,
                    where,
                    mw - installed,
                    f"{mw:,.6g} MW IT shed of {installed:,.6g} MW installed",
                    p,
                    h,
                )

        rule = "interconnection.curtailed_to_firm"
        stressed = f.stressed_weight_h > 0  # (s, h)
        self.count(rule, int(stressed.sum()) * len(f.periods))
        shed_it, shed_facility = self.shed(d)
        after = draw - shed_facility
        excess = np.where(stressed[:, None, :], after - firm[:, :, None], -np.inf)
        for s, p, h, over in _over(excess, _slack(firm)[:, :, None]):
            self.flag(
                rule,
                f.site_ids[s],
                excess[s, p, h],
                f"draw {after[s, p, h]:,.6g} MW after shedding {shed_it[s, p, h]:,.6g} MW IT "
                f"> firm supply {firm[s, p]:,.6g} MW (headroom, upgrades) "
                f"({over} of {int(stressed[s].sum())} stressed hours over)",
                p,
                h,
            )

    def check_grid_delivers(self, draw: np.ndarray, output: np.ndarray, grid: np.ndarray) -> None:
        """At campuses with on-site options, every hour: the average load less on-site
        ``output`` (s, p, h) within the ``grid`` (s, p) connection: headroom, upgrades,
        non-firm tier."""
        f, rule = self.f, "interconnection.grid_delivers"
        with_options = np.zeros(len(f.site_ids), dtype=bool)
        with_options[f.option_site] = True
        n_h = len(f.weight_h)
        self.count(rule, int(with_options.sum()) * len(f.periods) * n_h)
        load = f.load_factor * draw
        excess = np.where(with_options[:, None, None], load - output - grid[:, :, None], -np.inf)
        for s, p, h, over in _over(excess, _slack(grid)[:, :, None]):
            self.flag(
                rule,
                f.site_ids[s],
                excess[s, p, h],
                f"grid delivers {load[s, p, h] - output[s, p, h]:,.6g} MW (average load "
                f"{load[s, p, h]:,.6g} MW, on-site {output[s, p, h]:,.6g} MW) > connection "
                f"{grid[s, p]:,.6g} MW ({over} of {n_h} hours over)",
                p,
                h,
            )
