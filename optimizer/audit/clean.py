"""Clean-energy contract rules: MW contracted within bounds and never falling, load matched
within the contracts' output and the zone's load, and the CFE target met."""

from __future__ import annotations

import numpy as np

from optimizer.audit.base import _AuditBase, _Decisions, _over, _slack
from optimizer.audit.facts import _label_at


class _CleanRules(_AuditBase):
    """The ``clean.*`` rules."""

    def check_clean(self, d: _Decisions) -> None:
        """MW contracted within 0..max_mw from the contract's delivery on, never falling; load
        matched in each zone and hour within the contracts' output there and within the zone's
        campus load less on-site output; the CFE target met in every period."""
        f, contracts = self.f, self.f.scenario.clean_contracts
        contracted, matched = d.contracted, d.matched
        target = f.scenario.config.clean_energy.cfe_target_frac
        if not contracts and not matched.any() and target == 0:
            return
        n_c, n_p = contracted.shape
        n_z, _, n_h = matched.shape

        rule = "clean.within_contracts"
        self.count(rule, n_c * n_p)
        for c, contract in enumerate(contracts):
            first = contract.lead_periods
            for p in range(n_p):
                mw = contracted[c, p]
                if mw > contract.max_mw + _slack(contract.max_mw):
                    self.flag(
                        rule,
                        contract.contract_id,
                        mw - contract.max_mw,
                        f"contracted {mw:,.6g} MW, max_mw {contract.max_mw:,.6g}",
                        p,
                    )
                if p < first and mw > _slack():
                    self.flag(
                        rule,
                        contract.contract_id,
                        mw,
                        f"{mw:,.6g} MW contracted before {_label_at(f, first)} (lead_periods "
                        f"{first})",
                        p,
                    )
                if mw < -_slack():
                    self.flag(rule, contract.contract_id, -mw, f"negative: {mw:,.6g} MW", p)
        rule = "clean.stays_contracted"
        self.count(rule, n_c * max(n_p - 1, 0))
        fall = contracted[:, :-1] - contracted[:, 1:]
        for c, q in zip(*np.nonzero(fall > _slack(contracted[:, :-1])), strict=True):
            self.flag(
                rule,
                f.contract_ids[c],
                fall[c, q],
                f"falls from {contracted[c, q]:,.6g} to {contracted[c, q + 1]:,.6g} MW",
                int(q) + 1,
            )

        active = np.zeros(n_z, dtype=bool)  # zones with a contract on offer or matched load
        active[f.contract_zone] = True
        active |= (matched != 0).any(axis=(1, 2))
        hourly = int(active.sum()) * n_p * n_h
        rule = "clean.within_contracts"
        self.count(rule, hourly)
        output = f.contract_output(contracted)
        excess = matched - output
        for z, p, h, over in _over(excess, _slack(output)):
            self.flag(
                rule,
                f.zone_ids[z],
                excess[z, p, h],
                f"matched {matched[z, p, h]:,.6g} MW > contracts' output {output[z, p, h]:,.6g} "
                f"MW ({over} of {n_h} hours over)",
                p,
                h,
            )
        for z, p, h, over in _over(-matched, np.full(matched.shape, _slack())):
            self.flag(
                rule,
                f.zone_ids[z],
                -matched[z, p, h],
                f"negative: {matched[z, p, h]:,.6g} MW matched ({over} of {n_h} hours)",
                p,
                h,
            )

        rule = "clean.within_load"
        self.count(rule, hourly)
        average = f.per_zone(f.load_factor * self.draw(d))
        _, onsite = self.site_onsite(d)
        onsite = f.per_zone(onsite)
        load = average - onsite
        excess = matched - load
        for z, p, h, over in _over(excess, _slack(load)):
            self.flag(
                rule,
                f.zone_ids[z],
                excess[z, p, h],
                f"matched {matched[z, p, h]:,.6g} MW > campus load {load[z, p, h]:,.6g} MW "
                f"(average {average[z, p, h]:,.6g} MW less on-site {onsite[z, p, h]:,.6g} MW) "
                f"({over} of {n_h} hours over)",
                p,
                h,
            )

        if target > 0:  # with or without contracts on offer
            rule = "clean.meets_target"
            self.count(rule, n_p)
            have = self.matched_per_year(d)["matched_mwh"]
            grid = self.grid_mwh_per_year(d)
            need = target * grid
            for q in np.flatnonzero(have < need - _slack(need)):
                self.flag(
                    rule,
                    "portfolio",
                    need[q] - have[q],
                    f"{have[q]:,.6g} MWh a year matched, target {target:g} x {grid[q]:,.6g} "
                    f"MWh of grid energy = {need[q]:,.6g}",
                    int(q),
                )
