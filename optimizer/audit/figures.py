"""The reported figures: build.csv, sites.csv, onsite.csv, curtailment.csv, contracts.csv and
plan.json's totals_by_period checked against the decisions and the recomputation."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from optimizer.audit.base import _AuditBase, _close, _Decisions
from optimizer.audit.files import CLEAN_FILES, SITE_POWER_FILES, _OptionalFiles
from optimizer.audit.findings import CSV_REL_TOL, KG_PER_T, USD_PER_MUSD


class _ReportRules(_AuditBase):
    """The ``plan.consistent`` rule on the reported figures."""

    def check_reports(
        self,
        d: _Decisions,
        plan: dict[str, Any],
        build: pd.DataFrame,
        sites: pd.DataFrame,
        files: _OptionalFiles,
    ) -> None:
        """plan.json's own totals, build.csv, sites.csv and the reported columns of onsite.csv,
        curtailment.csv and contracts.csv agree with the decisions."""
        f, rule = self.f, "plan.consistent"
        total = d.site_it
        last = len(f.periods) - 1
        entries = {str(e.get("site_id")): e for e in plan.get("sites", [])}
        checked = 0
        for s, sid in enumerate(f.site_ids):
            e = entries.get(sid, {})
            series = e.get("it_mw_by_period", {})
            for p, label in enumerate(f.periods):
                checked += 1
                given = float(series.get(label) or 0.0)
                if not _close(given, total[s, p]):
                    self.flag(
                        rule,
                        sid,
                        given - total[s, p],
                        f"it_mw_by_period {given:,.6g} MW, by cooling {total[s, p]:,.6g} MW",
                        p,
                    )
            used = self.techs_with_capacity(d, s)
            stated = d.stated_cooling.get(s)
            if (stated not in used) if used else (stated is not None):
                self.flag(rule, sid, math.nan, f"cooling {stated!r}, capacity on {used}")
            energized = np.flatnonzero(total[s] > 1e-5)
            opens = f.periods[energized[0]] if energized.size else None
            is_open = bool(total[s, last] > 1e-5)
            if bool(e.get("open")) != is_open or e.get("open_period") != opens:
                self.flag(
                    rule,
                    sid,
                    math.nan,
                    f"open={e.get('open')} from {e.get('open_period')}, capacity says "
                    f"open={is_open} from {opens}",
                )
        for key, values in (
            ("target_it_mw_by_period", f.target),
            ("total_it_mw_by_period", total.sum(axis=0)),
        ):
            given_series = plan.get(key) or {}
            for p, label in enumerate(f.periods):
                checked += 1
                stated = given_series.get(label)
                if stated is None or not _close(float(stated), float(values[p])):
                    self.flag(
                        rule, "portfolio", math.nan, f"{key} {stated}, expected {values[p]:g}", p
                    )
        figures, scale = self._site_figures(d)
        checked += self._check_build_csv(d, build, figures, scale)
        checked += self._check_sites_csv(d, sites, figures)
        checked += self._check_onsite_csv(d, files.onsite, figures["energy_mwh"])
        checked += self._check_curtailment_csv(files.curtailment)
        checked += self._check_totals(d, plan, figures, scale)
        checked += self._check_contracts_csv(d, files.contracts)
        self.count(rule, checked)

    def _site_figures(self, d: _Decisions) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per (site, period) figures build.csv reports, recomputed; and for the figures that
        are differences (grid energy, bill and emissions net of on-site output) the size of
        what was subtracted, the scale of their tolerance: a campus whose on-site output
        covers its whole load buys 0 MWh, the difference of two figures of ~1e5 MWh that
        each carry plan.json's rounding."""
        f, sc = self.f, self.f.scenario
        lf = f.load_factor
        block = sc.config.portfolio.block_it_mw
        new = d.new.sum(axis=1)
        per_year = {
            "energy_mwh": lf * np.einsum("skh,h->sk", f.pue, f.weight_h),
            "energy_cost_musd": lf
            * np.einsum("skh,h,sh->sk", f.pue, f.weight_h, f.price)
            / USD_PER_MUSD,
            "water_m3": lf * np.einsum("skh,h->sk", f.wue, f.weight_h),
            "emissions_tco2": lf
            * np.einsum("skh,h,sh->sk", f.pue, f.weight_h, f.carbon)
            / KG_PER_T,
        }
        out = {
            "new_blocks": new / block if block else new,
            "new_it_mw": new,
            "it_mw": d.site_it,
            "peak_facility_mw": self.draw(d).max(axis=2),
        }
        for name, coef in per_year.items():
            out[name] = np.einsum("skp,sk,p->sp", d.it, coef, f.years)
        # On-site output comes off the grid's energy, bill and emissions and adds its own.
        onsite = self.onsite_per_year(d)
        onsite_mw, _ = self.site_onsite(d)
        out["onsite_mw"] = onsite_mw
        out["onsite_mwh"] = onsite["onsite_mwh"] * f.years
        displaced_musd = onsite["displaced_usd"] * f.years / USD_PER_MUSD
        net_tco2 = onsite["net_tco2"] * f.years
        scale = {
            "grid_mwh": out["energy_mwh"] + out["onsite_mwh"],
            "energy_cost_musd": np.abs(out["energy_cost_musd"]) + np.abs(displaced_musd),
            "emissions_tco2": np.abs(out["emissions_tco2"]) + np.abs(net_tco2),
        }
        out["grid_mwh"] = out["energy_mwh"] - out["onsite_mwh"]
        out["energy_cost_musd"] -= displaced_musd
        out["emissions_tco2"] += net_tco2
        firm = f.headroom + self.upgrades_mw(d) + onsite_mw
        out["nonfirm_mw"] = np.clip(out["peak_facility_mw"] - firm, 0.0, f.nonfirm)
        shed_it, _ = self.shed(d)
        out["curtailed_it_mwh"] = np.einsum("sph,sh,p->sp", shed_it, f.stressed_weight_h, f.years)
        return out, scale

    def _check_build_csv(
        self,
        d: _Decisions,
        build: pd.DataFrame,
        figures: dict[str, np.ndarray],
        scale: dict[str, np.ndarray],
    ) -> int:
        f, rule = self.f, "plan.consistent"
        open_sites = {f.site_ids[s] for s in np.flatnonzero(d.site_it[:, -1] > 1e-5)}
        missing = [c for c in ("site_id", "period", *figures) if c not in build.columns]
        if missing:
            self.flag(rule, "build.csv", math.nan, f"missing columns {missing}")
            return 1
        listed = set(build["site_id"])
        for sid in sorted(open_sites ^ listed):
            where = "missing from" if sid in open_sites else "not an open campus, yet in"
            self.flag(rule, sid, math.nan, f"{where} build.csv")
        si = {s: i for i, s in enumerate(f.site_ids)}
        pi = {p: i for i, p in enumerate(f.periods)}
        checked = 0
        for row in build.to_dict("records"):
            s, p = si.get(str(row["site_id"])), pi.get(str(row["period"]))
            if s is None or p is None:
                self.flag(rule, "build.csv", math.nan, f"row {row['site_id']} {row['period']}")
                continue
            for column, values in figures.items():
                checked += 1
                given, value = float(row[column]), float(values[s, p])
                size = float(scale[column][s, p]) if column in scale else 0.0
                if not _close(given, value, CSV_REL_TOL, size):
                    self.flag(
                        rule,
                        f.site_ids[s],
                        given - value,
                        f"build.csv {column} {given:,.6g}, recomputed {value:,.6g}",
                        p,
                    )
        return checked

    def _check_onsite_csv(
        self, d: _Decisions, onsite: pd.DataFrame, facility_mwh: np.ndarray
    ) -> int:
        """Per option and period: the campus and technology of the option, MW added, energy,
        emissions and share of the campus's facility energy (``facility_mwh``, s x p)."""
        f, rule = self.f, "plan.consistent"
        options = f.scenario.onsite_power
        added = np.clip(np.diff(d.onsite_mw, axis=1, prepend=0.0), 0.0, None)
        energy_mwh = np.einsum("oph,h,p->op", d.onsite_output_mw, f.weight_h, f.years)
        checked = 0
        for row in onsite.to_dict("records"):
            key = self.locate(row, SITE_POWER_FILES["onsite.csv"])
            if key is None:  # flagged with the decisions
                continue
            o, p = key
            s = f.option_site[o]
            option = options[o]
            checked += 1
            for column, expected in (
                ("site_id", option.site_id),
                ("technology", option.technology),
            ):
                if str(row[column]) != expected:
                    self.flag(
                        rule, option.option_id, math.nan, f"onsite.csv {column} {row[column]!r}", p
                    )
            share = energy_mwh[o, p] / facility_mwh[s, p] if facility_mwh[s, p] > 0 else 0.0
            for column, value in (
                ("onsite_added_mw", added[o, p]),
                ("onsite_energy_mwh", energy_mwh[o, p]),
                ("emissions_tco2", energy_mwh[o, p] * f.option_tco2_per_mwh[o]),
                ("share_of_site_energy", share),
            ):
                given = float(row[column])
                if not _close(given, float(value), CSV_REL_TOL):
                    self.flag(
                        rule,
                        option.option_id,
                        given - value,
                        f"onsite.csv {column} {given:,.6g}, recomputed {value:,.6g}",
                        p,
                    )
        return checked

    def _check_totals(
        self,
        d: _Decisions,
        plan: dict[str, Any],
        figures: dict[str, np.ndarray],
        scale: dict[str, np.ndarray],
    ) -> int:
        """plan.json's ``totals_by_period``: energy matched, CFE share (matched over grid
        energy) and emissions net of the matched energy's. A figure a plan leaves out is
        flagged only when the scenario has contracts (older plans do not report them)."""
        f, rule = self.f, "plan.consistent"
        required = bool(f.scenario.clean_contracts)
        matched = {k: v * f.years for k, v in self.matched_per_year(d).items()}
        grid = figures["grid_mwh"].sum(axis=0)
        bought = grid > CSV_REL_TOL * scale["grid_mwh"].sum(axis=0) + 1e-6  # else on-site only
        expected = {
            "matched_mwh": matched["matched_mwh"],
            "cfe_share": np.divide(
                matched["matched_mwh"], grid, out=np.full_like(grid, np.nan), where=bought
            ),
            "emissions_tco2": figures["emissions_tco2"].sum(axis=0) - matched["matched_tco2"],
        }
        sizes = {"emissions_tco2": scale["emissions_tco2"].sum(axis=0) + matched["matched_tco2"]}
        totals = plan.get("totals_by_period") or {}
        checked = 0
        for p, label in enumerate(f.periods):
            entry = totals.get(label) or {}
            for column, values in expected.items():
                value = float(values[p])
                if column not in entry:
                    if required:
                        self.flag(rule, "portfolio", math.nan, f"totals_by_period {column}", p)
                    continue
                checked += 1
                given = entry[column]
                if not math.isfinite(value):  # no grid energy: no share to state
                    continue
                size = float(sizes[column][p]) if column in sizes else 0.0
                if given is None or not _close(float(given), value, CSV_REL_TOL, size):
                    amount = math.nan if given is None else float(given) - value
                    self.flag(
                        rule,
                        "portfolio",
                        amount,
                        f"totals_by_period {column} {given}, recomputed {value:,.6g}",
                        p,
                    )
        return checked

    def _check_contracts_csv(self, d: _Decisions, contracts: pd.DataFrame) -> int:
        """Per contract and period: the contract's zone and technology, and its output over
        the period (MW contracted x hours of output per MW in a year x years)."""
        f, rule = self.f, "plan.consistent"
        offered = f.scenario.clean_contracts
        per_mw = f.contract_cf @ f.weight_h  # (c) MWh a year per MW contracted
        checked = 0
        for row in contracts.to_dict("records"):
            key = self.locate(row, CLEAN_FILES["contracts.csv"])
            if key is None:  # flagged with the decisions
                continue
            c, p = key
            contract = offered[c]
            checked += 1
            for column, expected in (
                ("zone_id", contract.zone_id),
                ("technology", contract.technology),
            ):
                if str(row[column]) != expected:
                    self.flag(
                        rule,
                        contract.contract_id,
                        math.nan,
                        f"contracts.csv {column} {row[column]!r}",
                        p,
                    )
            given = float(row["contract_output_mwh"])
            value = float(d.contracted[c, p] * per_mw[c] * f.years[p])
            if not _close(given, value, CSV_REL_TOL):
                self.flag(
                    rule,
                    contract.contract_id,
                    given - value,
                    f"contracts.csv contract_output_mwh {given:,.6g}, recomputed {value:,.6g}",
                    p,
                )
        return checked

    def _check_curtailment_csv(self, curtailment: pd.DataFrame) -> int:
        """Per curtailment row: the stressed weight and price of its hour, recomputed."""
        f, rule = self.f, "plan.consistent"
        checked = 0
        for row in curtailment.to_dict("records"):
            key = self.locate(row, SITE_POWER_FILES["curtailment.csv"])
            if key is None:  # flagged with the decisions
                continue
            s, _, p, h = key
            checked += 1
            for column, value in (
                ("stressed_weight_h", f.stressed_weight_h[s, h]),
                ("price_usd_per_mwh", f.price[s, h]),
            ):
                given = float(row[column])
                if not _close(given, float(value), CSV_REL_TOL):
                    self.flag(
                        rule,
                        f.site_ids[s],
                        given - value,
                        f"curtailment.csv {column} {given:,.6g} at hour {h}, recomputed "
                        f"{value:,.6g}",
                        p,
                        h,
                    )
        return checked

    def _check_sites_csv(
        self, d: _Decisions, sites: pd.DataFrame, figures: dict[str, np.ndarray]
    ) -> int:
        f, rule = self.f, "plan.consistent"
        missing = [c for c in ("site_id", "open", "cooling", "it_mw", "upgrades") if c not in sites]
        if missing:
            self.flag(rule, "sites.csv", math.nan, f"missing columns {missing}")
            return 1
        rows = {str(r["site_id"]): r for r in sites.to_dict("records")}
        for sid in sorted(set(rows) - set(f.site_ids)):
            self.flag(rule, sid, math.nan, "in sites.csv, not a campus of the scenario")
        if len(rows) < len(sites):
            self.flag(rule, "sites.csv", len(sites) - len(rows), "campuses listed twice")
        at_site: dict[str, set[str]] = defaultdict(set)
        up_site = {u.upgrade_id: u.site_id for u in f.scenario.upgrades}
        for uid, p in d.upgrades.items():
            at_site[up_site[uid]].add(f"{uid}@{f.periods[p]}")
        checked = 0
        for s, sid in enumerate(f.site_ids):
            checked += 1
            row = rows.get(sid)
            if row is None:
                self.flag(rule, sid, math.nan, "missing from sites.csv")
                continue
            cooling = row["cooling"] if isinstance(row["cooling"], str) else None
            listed = {u for u in str(row["upgrades"]).split(";") if u and u != "nan"}
            for column, given, value in (
                ("it_mw", float(row["it_mw"]), float(d.site_it[s, -1])),
                (
                    "peak_facility_mw",
                    float(row["peak_facility_mw"]),
                    figures["peak_facility_mw"][s, -1],
                ),
            ):
                if not _close(given, value, CSV_REL_TOL):
                    self.flag(
                        rule,
                        sid,
                        given - value,
                        f"sites.csv {column} {given:,.6g}, recomputed {value:,.6g}",
                    )
            if str(row["open"]).lower() != str(bool(d.site_it[s, -1] > 1e-5)).lower():
                self.flag(rule, sid, math.nan, f"sites.csv open {row['open']}")
            if cooling != d.stated_cooling.get(s):
                self.flag(
                    rule,
                    sid,
                    math.nan,
                    f"sites.csv cooling {cooling!r}, plan.json {d.stated_cooling.get(s)!r}",
                )
            if listed != at_site[sid]:
                self.flag(
                    rule,
                    sid,
                    math.nan,
                    f"sites.csv upgrades {sorted(listed)}, plan.json {sorted(at_site[sid])}",
                )
        return checked
