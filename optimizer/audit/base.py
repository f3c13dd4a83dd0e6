"""The audit's state (:class:`_AuditBase`): the scenario facts, the report being filled,
the plan's decisions read onto the scenario's axes (:class:`_Decisions`), and the quantities
several rule families share (facility draw, on-site output, matching, upgrades, IT shed).
Also the tolerance helpers every check uses. Each rule family is a mixin on this class in its
own module; :class:`optimizer.audit._Audit` assembles them."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer.audit.facts import _Facts
from optimizer.audit.files import CLEAN_FILES, SITE_POWER_FILES, _OptionalFiles
from optimizer.audit.findings import KG_PER_T, REL_TOL, AuditReport, Violation


@dataclass
class _Decisions:
    """The plan's decisions on the scenario's axes."""

    it: np.ndarray  # (s, k, p) cumulative IT MW
    stated_cooling: dict[int, str]  # site index -> plan.json "cooling"
    development: dict[int, int | None]  # site index -> period index development is paid
    upgrades: dict[str, int]  # upgrade id -> in-service period index (first listing)
    onsite_mw: np.ndarray  # (o, p) on-site capacity in service (onsite.csv)
    onsite_output_mw: np.ndarray  # (o, p, h) on-site output (onsite_dispatch.csv)
    curtailed: list[tuple[int, int, int, int, float]]  # (s, k, p, h, IT MW shed) (curtailment.csv)
    contracted: np.ndarray  # (c, p) clean-energy MW contracted (contracts.csv)
    matched: np.ndarray  # (z, p, h) campus load matched by contracts (matched.csv)
    serving_musd: float | None = None  # NPV network cost of serving demand, if any regions

    @property
    def new(self) -> np.ndarray:  # (s, k, p) IT entering service, MW
        return np.diff(self.it, axis=2, prepend=0.0)

    @property
    def site_it(self) -> np.ndarray:  # (s, p)
        return self.it.sum(axis=1)


def _slack(rhs: Any = 0.0) -> Any:
    """Feasibility tolerance of a rule with right-hand side ``rhs`` (a number or an array)."""
    return REL_TOL * np.maximum(1.0, np.abs(rhs)) + 1e-5


def _close(a: float, b: float, rel: float = REL_TOL, scale: float = 0.0) -> bool:
    """``a`` and ``b`` agree within ``rel`` of the larger of them, or of ``scale`` (the size
    of the terms a difference was taken of), plus 1e-6; never when either is not finite."""
    finite = math.isfinite(a) and math.isfinite(b)
    return finite and abs(a - b) <= rel * max(abs(a), abs(b), scale) + 1e-6


def _finite(value: Any) -> float:
    """A decision read from a plan file; ValueError (malformed) if blank or not a number."""
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {value!r}")
    return x


def _over(excess: np.ndarray, slack: np.ndarray) -> Iterator[tuple[int, int, int, int]]:
    """Where ``excess`` (object, period, hour) passes ``slack`` (broadcast to it): per object
    and period, the worst hour and how many hours are over (an hourly rule is reported once
    per object and period)."""
    over = excess > slack
    for i, p in zip(*np.nonzero(over.any(axis=2)), strict=True):
        yield int(i), int(p), int(np.argmax(excess[i, p])), int(over[i, p].sum())


class _AuditBase:
    """The scenario facts, the report being filled, and what every rule family shares."""

    def __init__(self, facts: _Facts, report: AuditReport) -> None:
        self.f = facts
        self.report = report
        self.axes = {
            "option_id": {o: i for i, o in enumerate(facts.option_ids)},
            "contract_id": {c: i for i, c in enumerate(facts.contract_ids)},
            "zone_id": {z: i for i, z in enumerate(facts.zone_ids)},
            "site_id": {s: i for i, s in enumerate(facts.site_ids)},
            "cooling": {k: i for i, k in enumerate(facts.tech_ids)},
            "period": {p: i for i, p in enumerate(facts.periods)},
            "hour": {str(h): h for h in range(len(facts.weight_h))},
        }

    def locate(self, row: dict[Any, Any], columns: tuple[str, ...]) -> tuple[int, ...] | None:
        """Indices of a plan-file row on the scenario's axes (option, contract, zone, site,
        cooling, period, representative hour), or None if a key is not the scenario's."""
        keys = [self.axes[c].get(str(row[c])) for c in columns]
        return None if None in keys else tuple(k for k in keys if k is not None)

    def flag(
        self,
        rule: str,
        obj: str,
        amount: float,
        message: str,
        period: int | str | None = None,
        hour: int | None = None,
    ) -> None:
        label = self.f.periods[period] if isinstance(period, int) else period
        self.report.violations.append(Violation(rule, obj, label, hour, float(amount), message))

    def count(self, rule: str, n: int) -> None:
        self.report.checks[rule] = self.report.checks.get(rule, 0) + int(n)

    # ----------------------------------------------------------------- reading the plan

    def read_decisions(self, plan: dict[str, Any], files: _OptionalFiles) -> _Decisions:
        f = self.f
        rule = "plan.matches_scenario"
        si = {s: i for i, s in enumerate(f.site_ids)}
        ki = {k: i for i, k in enumerate(f.tech_ids)}
        pi = {p: i for i, p in enumerate(f.periods)}
        up = {u.upgrade_id: u for u in f.scenario.upgrades}
        it = np.zeros((len(si), len(ki), len(pi)))
        stated: dict[int, str] = {}
        development: dict[int, int | None] = {}
        upgrades: dict[str, int] = {}
        listings: Counter[str] = Counter()
        if list(plan.get("periods") or f.periods) != f.periods:
            self.flag(rule, "plan", math.nan, f"periods {plan.get('periods')} are not {f.periods}")
        seen = set()
        for entry in plan.get("sites", []):
            sid = str(entry.get("site_id"))
            if sid not in si:
                self.flag(rule, sid, math.nan, "site not in the scenario's sites.csv")
                continue
            s = si[sid]
            seen.add(sid)
            if entry.get("cooling"):
                stated[s] = str(entry["cooling"])
            if "development_period" in entry:  # absent in plans written before it
                when = entry["development_period"]
                development[s] = pi.get(when) if when is not None else None
                if when is not None and when not in pi:
                    self.flag(rule, sid, math.nan, f"development period {when!r} outside horizon")
            by_cooling = entry.get("it_mw_by_cooling")
            if by_cooling is None:  # plans written before it_mw_by_cooling
                by_cooling = {stated[s]: entry.get("it_mw_by_period", {})} if s in stated else {}
            for tech, series in by_cooling.items():
                if tech not in ki:
                    self.flag(rule, sid, math.nan, f"unknown cooling technology {tech!r}")
                    continue
                for label, value in series.items():
                    if label not in pi:
                        self.flag(rule, sid, math.nan, f"period {label!r} outside the horizon")
                    else:
                        it[s, ki[tech], pi[label]] = float(value or 0.0)
            for item in entry.get("upgrades", []):
                uid, _, when = str(item).partition("@")
                listings[uid] += 1
                if uid not in up:
                    self.flag(rule, sid, math.nan, f"unknown upgrade {uid!r}")
                elif when not in pi:
                    self.flag(
                        rule, uid, math.nan, f"in-service period {when!r} outside the horizon"
                    )
                elif up[uid].site_id != sid:
                    self.flag(rule, uid, math.nan, f"listed at {sid}, belongs to {up[uid].site_id}")
                if uid in up and when in pi and uid not in upgrades:
                    upgrades[uid] = pi[when]
        for sid in f.site_ids:
            if sid not in seen:
                self.flag(rule, sid, math.nan, "site missing from plan.json")
        self.count(rule, len(f.site_ids) + sum(listings.values()))
        self.count("interconnection.upgrade_at_most_once", len(listings))
        for uid, n in listings.items():
            if n > 1:
                self.flag(
                    "interconnection.upgrade_at_most_once",
                    uid,
                    n - 1,
                    f"listed {n} times, once allowed",
                )
        for s in range(len(si)):
            energized = np.flatnonzero(it[s].sum(axis=0) > 1e-5)
            if s not in development:  # older plans: development paid with the first block
                development[s] = int(energized[0]) if energized.size else None
            opened = development[s]
            self.count("siting.open_when_energized", 1)
            if energized.size and (opened is None or opened > energized[0]):
                first = int(energized[0])
                self.flag(
                    "siting.open_when_energized",
                    f.site_ids[s],
                    float(it[s, :, first].sum()),
                    f"energized in {f.periods[first]}, development paid "
                    f"{'never' if opened is None else 'in ' + f.periods[opened]}",
                    first,
                )
        capacity, output, curtailed = self.read_site_power(files)
        contracted, matched = self.read_clean(files)
        return _Decisions(
            it=it,
            stated_cooling=stated,
            development=development,
            upgrades=upgrades,
            onsite_mw=capacity,
            onsite_output_mw=output,
            curtailed=curtailed,
            contracted=contracted,
            matched=matched,
        )

    def read_site_power(
        self, files: _OptionalFiles
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int, float]]]:
        """On-site capacity (o, p) and output (o, p, h), MW, and the curtailment rows
        (s, k, p, h, IT MW shed); a row keyed off the scenario is flagged and skipped."""
        f = self.f
        capacity = np.zeros((len(f.option_ids), len(f.periods)))
        output = np.zeros((*capacity.shape, len(f.weight_h)))
        curtailed: list[tuple[int, int, int, int, float]] = []
        for name, frame in (
            ("onsite.csv", files.onsite),
            ("onsite_dispatch.csv", files.dispatch),
            ("curtailment.csv", files.curtailment),
        ):
            for row, key in self.located(name, frame, SITE_POWER_FILES[name]):
                if name == "onsite.csv":
                    capacity[key] = _finite(row["onsite_capacity_mw"])
                elif name == "onsite_dispatch.csv":
                    output[key] = _finite(row["onsite_output_mw"])
                else:
                    s, k, p, h = key
                    curtailed.append((s, k, p, h, _finite(row["curtailed_it_mw"])))
        return capacity, output, curtailed

    def located(
        self, name: str, frame: pd.DataFrame, columns: tuple[str, ...]
    ) -> Iterator[tuple[dict[Any, Any], tuple[int, ...]]]:
        """Rows of a plan CSV with their index on the scenario's axes; a row keyed off the
        scenario is flagged (``plan.matches_scenario``) and skipped."""
        rule = "plan.matches_scenario"
        self.count(rule, len(frame))
        for row in frame.to_dict("records"):
            key = self.locate(row, columns)
            if key is None:
                where = " ".join(str(row[c]) for c in columns)
                self.flag(rule, name, math.nan, f"row {where}: not in the scenario")
            else:
                yield row, key

    def read_clean(self, files: _OptionalFiles) -> tuple[np.ndarray, np.ndarray]:
        """Clean-energy MW contracted (c, p) and campus load matched (z, p, h); a row keyed
        off the scenario is flagged and skipped."""
        f = self.f
        contracted = np.zeros((len(f.contract_ids), len(f.periods)))
        matched = np.zeros((len(f.zone_ids), len(f.periods), len(f.weight_h)))
        for name, frame, target, column in (
            ("contracts.csv", files.contracts, contracted, "contracted_mw"),
            ("matched.csv", files.matched, matched, "matched_mw"),
        ):
            for row, key in self.located(name, frame, CLEAN_FILES[name]):
                target[key] = _finite(row[column])
        return contracted, matched

    # ----------------------------------------------------------------- derived quantities

    def techs_with_capacity(self, d: _Decisions, s: int) -> list[str]:
        return [self.f.tech_ids[k] for k in np.flatnonzero(d.it[s].max(axis=1) > 1e-5)]

    def techs_used(self, d: _Decisions, s: int) -> list[int]:
        """Technologies with capacity at site ``s``, plus the one plan.json states."""
        used = {self.f.tech_ids.index(k) for k in self.techs_with_capacity(d, s)}
        stated = d.stated_cooling.get(s)
        if stated in self.f.tech_ids:
            used.add(self.f.tech_ids.index(stated))
        return sorted(used)

    def site_onsite(self, d: _Decisions) -> tuple[np.ndarray, np.ndarray]:
        """On-site capacity (s, p) and output (s, p, h) of each campus's options, MW."""
        return self.f.per_site(d.onsite_mw), self.f.per_site(d.onsite_output_mw)

    def onsite_per_year(self, d: _Decisions) -> dict[str, np.ndarray]:
        """Per campus and period (s, p), a year of on-site output: MWh generated, USD of grid
        energy displaced at the hour's price, and t CO2 added (the options' own emissions less
        the grid's displaced at the hour's intensity)."""
        f = self.f
        mwh = np.einsum("oph,h->op", d.onsite_output_mw, f.weight_h)
        _, output = self.site_onsite(d)
        return {
            "onsite_mwh": f.per_site(mwh),
            "displaced_usd": np.einsum("sph,h,sh->sp", output, f.weight_h, f.price),
            "net_tco2": f.per_site(mwh * f.option_tco2_per_mwh[:, None])
            - np.einsum("sph,h,sh->sp", output, f.weight_h, f.carbon) / KG_PER_T,
        }

    def grid_mwh_per_year(self, d: _Decisions) -> np.ndarray:
        """Energy the campuses buy from the grid in a year of each period (p), MWh: facility
        energy at the average load less on-site output."""
        f = self.f
        per_mw = f.load_factor * np.einsum("skh,h->sk", f.pue, f.weight_h)
        facility = np.einsum("skp,sk->p", d.it, per_mw)
        return facility - np.einsum("oph,h->p", d.onsite_output_mw, f.weight_h)

    def matched_per_year(self, d: _Decisions) -> dict[str, np.ndarray]:
        """Per period (p), a year of matching: MWh matched and the t CO2 of grid energy it
        clears (at the zone's hourly intensity)."""
        f = self.f
        return {
            "matched_mwh": np.einsum("zph,h->p", d.matched, f.weight_h),
            "matched_tco2": np.einsum("zph,h,zh->p", d.matched, f.weight_h, f.zone_carbon)
            / KG_PER_T,
        }

    def draw(self, d: _Decisions) -> np.ndarray:
        """Facility draw (s, p, h), MW: IT MW x PUE at that hour's ambient."""
        return np.einsum("skp,skh->sph", d.it, self.f.pue)

    def upgrades_mw(self, d: _Decisions) -> np.ndarray:
        """MW added by the upgrades in service (s, p)."""
        added = np.zeros((len(self.f.site_ids), len(self.f.periods)))
        upgrades = {u.upgrade_id: u for u in self.f.scenario.upgrades}
        for uid, p in d.upgrades.items():
            added[self.f.site_ids.index(upgrades[uid].site_id), p:] += upgrades[uid].added_mw
        return added

    def shed(self, d: _Decisions) -> tuple[np.ndarray, np.ndarray]:
        """IT MW shed (s, p, h) and the facility MW it takes off the draw."""
        f = self.f
        it_mw = np.zeros((len(f.site_ids), len(f.periods), len(f.weight_h)))
        facility_mw = np.zeros_like(it_mw)
        if d.curtailed:
            rows = np.array(d.curtailed)
            s, k, p, h = rows[:, :4].T.astype(int)
            np.add.at(it_mw, (s, p, h), rows[:, 4])
            np.add.at(facility_mw, (s, p, h), rows[:, 4] * f.pue[s, k, h])
        return it_mw, facility_mw
