"""On-site power rules: output within capacity, capacity within max_mw and from the
option's delivery, output behind the meter, and emissions within the air permit."""

from __future__ import annotations

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _over, _slack
from optimizer.audit.facts import _label_at


class _OnsiteRules(_AuditBase):
    """The ``onsite.*`` rules."""

    def check_onsite(self, d: _Decisions) -> None:
        """Output within capacity, capacity within max_mw and from the option's first period,
        output behind the meter (within the campus's average load), emissions within permit."""
        f, options = self.f, self.f.scenario.onsite_power
        if not options:
            return
        capacity, output = d.onsite_mw, d.onsite_output_mw
        n_o, n_p, n_h = output.shape
        rule = "onsite.within_capacity"
        self.count(rule, n_o * n_p * (n_h + 1))
        excess = output - capacity[:, :, None]
        for o, p, h, over in _over(excess, _slack(capacity)[:, :, None]):
            self.flag(
                rule,
                f.option_ids[o],
                excess[o, p, h],
                f"output {output[o, p, h]:,.6g} MW > capacity {capacity[o, p]:,.6g} MW "
                f"({over} of {n_h} hours over)",
                p,
                h,
            )
        for o, option in enumerate(options):
            first = int(f.option_first[o])
            for p in range(n_p):
                mw, low = capacity[o, p], min(capacity[o, p], output[o, p].min())
                if mw > option.max_mw + _slack(option.max_mw):
                    self.flag(
                        rule,
                        option.option_id,
                        mw - option.max_mw,
                        f"capacity {mw:,.6g} MW, max_mw {option.max_mw:,.6g}",
                        p,
                    )
                if p < first and mw > _slack():
                    site_first = _label_at(f, int(f.first_index[f.option_site[o]]))
                    self.flag(
                        rule,
                        option.option_id,
                        mw,
                        f"{mw:,.6g} MW in service before {_label_at(f, first)} (lead_periods "
                        f"{option.lead_periods}; campus energizable from {site_first})",
                        p,
                    )
                if low < -_slack():
                    self.flag(rule, option.option_id, -low, f"negative: {low:,.6g} MW", p)

        rule = "onsite.behind_the_meter"
        load = f.load_factor * self.draw(d)
        site_output = f.per_site(output)
        self.count(rule, len(set(f.option_site.tolist())) * n_p * n_h)
        excess = site_output - load
        for s, p, h, over in _over(excess, _slack(load)):
            self.flag(
                rule,
                f.site_ids[s],
                excess[s, p, h],
                f"on-site output {site_output[s, p, h]:,.6g} MW > average load "
                f"{load[s, p, h]:,.6g} MW ({over} of {n_h} hours over)",
                p,
                h,
            )

        rule = "onsite.within_permit"
        tco2 = np.einsum("oph,h,o->op", output, f.weight_h, f.option_tco2_per_mwh)  # per year
        for o, option in enumerate(options):
            permit = option.permit_tco2_per_year
            if permit is None:
                continue
            self.count(rule, n_p)
            for q in np.flatnonzero(tco2[o] > permit + _slack(permit)):
                self.flag(
                    rule,
                    option.option_id,
                    tco2[o, q] - permit,
                    f"{tco2[o, q]:,.6g} t CO2 a year, permit {permit:,.6g}",
                    int(q),
                )
