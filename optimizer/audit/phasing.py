"""Phasing rules: the portfolio ramp, site limits, whole blocks, construction leads,
supply, and installed IT that never falls."""

from __future__ import annotations

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _slack
from optimizer.audit.facts import _label_at


class _PhasingRules(_AuditBase):
    """The ``phasing.*`` rules."""

    def check_phasing(self, d: _Decisions) -> None:
        f, sc = self.f, self.f.scenario
        port = sc.config.portfolio
        it, total = d.it, d.site_it
        n_s, n_k, n_p = it.shape
        last = n_p - 1

        self.count("phasing.meets_ramp", n_p)
        for p in range(n_p):
            built = float(total[:, p].sum())
            if built < f.target[p] - _slack(f.target[p]):
                self.flag(
                    "phasing.meets_ramp",
                    "portfolio",
                    f.target[p] - built,
                    f"{built:,.6g} MW installed, target {f.target[p]:,.6g} MW",
                    p,
                )

        self.count("phasing.within_site_max", n_s * n_p)
        self.count("phasing.reaches_site_min", n_s)
        self.count("phasing.after_construction_lead", n_s * n_p)
        for s, site in enumerate(sc.sites):
            for p in range(n_p):
                if total[s, p] > site.max_it_mw + _slack(site.max_it_mw):
                    self.flag(
                        "phasing.within_site_max",
                        site.site_id,
                        total[s, p] - site.max_it_mw,
                        f"{total[s, p]:,.6g} MW, max_it_mw {site.max_it_mw:,.6g}",
                        p,
                    )
                if p < f.first_index[s] and total[s, p] > _slack():
                    self.flag(
                        "phasing.after_construction_lead",
                        site.site_id,
                        total[s, p],
                        f"energized before {_label_at(f, int(f.first_index[s]))} "
                        f"(earliest_period {site.earliest_period} + "
                        f"{port.construction_lead_periods} periods)",
                        p,
                    )
            is_open = total[s, last] > _slack() or d.development.get(s) is not None
            if is_open and total[s, last] < site.min_it_mw - _slack(site.min_it_mw):
                self.flag(
                    "phasing.reaches_site_min",
                    site.site_id,
                    site.min_it_mw - total[s, last],
                    f"open with {total[s, last]:,.6g} MW, min_it_mw {site.min_it_mw:,.6g}",
                    last,
                )

        new = d.new
        self.count("phasing.never_decreases", n_s * n_k * n_p)
        for s, k, p in zip(*np.nonzero(new < -1e-5), strict=True):
            self.flag(
                "phasing.never_decreases",
                f"{f.site_ids[s]}/{f.tech_ids[k]}",
                -new[s, k, p],
                f"falls from {it[s, k, p - 1]:,.6g} to {it[s, k, p]:,.6g} MW",
                int(p),
            )
        if port.block_it_mw:
            block = port.block_it_mw
            off = np.abs(new - block * np.round(new / block))
            self.count("phasing.whole_blocks", n_s * n_k * n_p)
            for s, k, p in zip(*np.nonzero(off > 1e-6 * block + 1e-5), strict=True):
                self.flag(
                    "phasing.whole_blocks",
                    f"{f.site_ids[s]}/{f.tech_ids[k]}",
                    off[s, k, p],
                    f"{new[s, k, p]:,.6g} MW new is {new[s, k, p] / block:.6g} blocks "
                    f"of {block:g} MW",
                    int(p),
                )
        supply = port.accelerator_supply_it_mw_per_period
        if supply:
            self.count("phasing.within_supply", n_p)
            entering = np.clip(new, 0.0, None).sum(axis=(0, 1))
            for p in range(n_p):
                if entering[p] > supply + _slack(supply):
                    self.flag(
                        "phasing.within_supply",
                        "portfolio",
                        entering[p] - supply,
                        f"{entering[p]:,.6g} MW new, supply {supply:,.6g} MW per period",
                        p,
                    )
