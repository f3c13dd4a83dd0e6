"""An independent audit of a plan: every rule recomputed from the raw scenario and the plan files.

The auditor reads the validated scenario tables (:func:`optimizer.scenario.load_scenario`), the
representative hours (:func:`optimizer.profiles.reduce_profiles`: data, not math) and the plan
files (``plan.json``, ``build.csv``, ``sites.csv``). It shares no arithmetic with
``optimizer/prepare.py`` or ``formulations/``: PUE and WUE interpolation, design temperatures,
discount factors and opex weights are recomputed here, so a bug there shows up as a violation
or a cost mismatch.

Decisions come from ``plan.json`` (IT MW by site, cooling and period, upgrades as ``id@period``);
``build.csv`` and ``sites.csv`` are checked against them and against the recomputation. Rules
are named after the constraint family that should enforce them (``phasing.meets_ramp``), so an
ablated formulation reads straight off the report. Hourly rules are checked at every
representative hour (not only the hours the model keeps) and reported once per object and
period, at the worst hour.

Tolerances: a rule holds within 1e-6 of its right-hand side (relative, at least 1e-5 MW or m3)
since plan.json rounds to 6 decimals and HiGHS has feasibility tolerances; costs agree within
1e-6 relative (plus 1e-6 M USD, plan.json's rounding); CSV values within 1e-5 relative (they are
written with 6 significant digits).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.profiles import reduce_profiles
from optimizer.scenario import Scenario

USD_PER_MUSD = 1e6
KG_PER_T = 1e3
COST_TERMS = ("development", "building", "cooling", "water", "upgrades", "energy", "carbon")
REL_TOL = 1e-6
CSV_REL_TOL = 1e-5

#: Every rule the auditor checks: what it asserts and the unit of a violation's amount.
RULES: dict[str, tuple[str, str]] = {
    "siting.open_when_energized": ("capacity only at a campus already opened", "MW"),
    "phasing.meets_ramp": ("installed IT meets the portfolio target", "MW"),
    "phasing.within_site_max": ("IT within the site's max_it_mw", "MW"),
    "phasing.reaches_site_min": ("an open site reaches min_it_mw by the last period", "MW"),
    "phasing.whole_blocks": ("new IT comes in whole blocks of block_it_mw", "MW"),
    "phasing.after_construction_lead": (
        "nothing energized before earliest_period + construction_lead_periods",
        "MW",
    ),
    "phasing.never_decreases": ("installed IT never falls", "MW"),
    "phasing.within_supply": ("new IT per period within accelerator supply", "MW"),
    "cooling.one_per_site": ("one cooling technology per campus", "MW"),
    "cooling.serves_liquid_racks": ("liquid cooling when the platform requires it", "MW"),
    "cooling.within_design_limit": ("design dry-/wet-bulb within the technology's limit", "°C"),
    "cooling.within_water_limit": ("annual water within the site's limit", "m3/year"),
    "interconnection.within_headroom": (
        "facility draw at every hour within headroom + upgrades in service",
        "MW",
    ),
    "interconnection.upgrade_after_lead_time": (
        "upgrade in service after its lead time",
        "period(s) early",
    ),
    "interconnection.upgrade_at_most_once": ("each upgrade built at most once", "extra"),
    "interconnection.within_zone_limit": (
        "zonal coincident draw at every hour within the import limit",
        "MW",
    ),
    "demand.meets_demand": ("each region's inference demand served in each period", "MW"),
    "demand.within_latency": ("served only from campuses within the latency limit", "ms"),
    "demand.within_capacity": ("a campus serves no more than its installed IT", "MW"),
    "objective.cost": ("cost breakdown and objective match the recomputation", "M USD"),
    "plan.matches_scenario": ("the plan names the scenario's sites, periods and options", ""),
    "plan.consistent": ("plan.json, build.csv and sites.csv agree with the recomputation", ""),
}


class PlanFilesError(Exception):
    """The plan folder cannot be audited (missing or unreadable files); one line."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``amount`` by how much, in the rule's unit (:data:`RULES`)."""

    rule: str
    object: str
    period: str | None
    hour: int | None
    amount: float
    message: str

    @property
    def unit(self) -> str:
        return RULES[self.rule][1]

    def __str__(self) -> str:
        where = " ".join(
            x
            for x in (
                self.object,
                self.period or "",
                f"hour {self.hour}" if self.hour is not None else "",
            )
            if x
        )
        amount = f"{self.amount:,.6g} {self.unit}".strip() if math.isfinite(self.amount) else ""
        amount = f"{amount}: " if amount else ""
        return f"{self.rule}: {where}: {amount}{self.message}"


@dataclass
class AuditReport:
    """What the audit found: violations (empty when the plan keeps every rule), the costs
    recomputed and as the plan states them, and how many rule instances were checked."""

    plan_dir: Path
    status: str
    violations: list[Violation] = field(default_factory=list)
    costs_musd: dict[str, float] = field(default_factory=dict)
    """Recomputed: each term of :data:`COST_TERMS`, ``total`` and ``objective``."""
    plan_costs_musd: dict[str, float | None] = field(default_factory=dict)
    """As plan.json states them (``cost_npv_musd`` and ``objective_musd``)."""
    checks: dict[str, int] = field(default_factory=dict)
    """Rule -> instances checked (e.g. site x period x hour for the headroom)."""
    shape: tuple[int, int, int] = (0, 0, 0)
    """Sites, periods, representative hours."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def audited(self) -> bool:
        """False when the plan has no solution (nothing to check)."""
        return self.status in ("optimal", "feasible")

    @property
    def mismatches(self) -> list[Violation]:
        """Cost terms (and the objective) that disagree with the recomputation."""
        return [v for v in self.violations if v.rule == "objective.cost"]

    def by_rule(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    def __str__(self) -> str:
        if not self.audited:
            return f"nothing to audit: the plan has no solution (status {self.status})"
        s, p, h = self.shape
        scope = (
            f"{len(self.checks)} rules checked ({sum(self.checks.values()):,} instances) "
            f"on {s} sites x {p} periods x {h} representative hours"
        )
        if self.ok:
            total = self.costs_musd.get("objective", float("nan"))
            return (
                f"audit passed: {scope}; costs match within {REL_TOL:g} "
                f"(objective {total:,.3f} M USD) [{self.seconds:.2f} s]"
            )
        lines = [str(v) for v in self.violations]
        lines.append(f"audit failed: {len(self.violations)} violation(s); {scope}")
        return "\n".join(lines)


def audit_plan(scenario: Scenario, plan_dir: str | Path) -> AuditReport:
    """Check the plan in ``plan_dir`` against every rule of ``scenario``.

    Raises :class:`PlanFilesError` if ``plan.json`` (or, for a plan with a solution,
    ``build.csv`` / ``sites.csv``) is missing or unreadable."""
    start = time.perf_counter()
    folder = Path(plan_dir)
    plan = _read_json(folder / "plan.json")
    report = AuditReport(plan_dir=folder, status=str(plan.get("status")))
    if not report.audited:
        return report
    build = _read_csv(folder / "build.csv", {"site_id": str, "period": str})
    sites_csv = _read_csv(folder / "sites.csv", {"site_id": str, "open_period": str})
    facts = _Facts.of(scenario)
    audit = _Audit(facts, report)
    try:
        decisions = audit.read_decisions(plan)
        audit.check_phasing(decisions)
        audit.check_cooling(decisions)
        audit.check_interconnection(decisions)
        decisions.serving_musd = audit.check_demand(decisions, plan)
        audit.check_costs(decisions, plan)
        audit.check_reports(decisions, plan, build, sites_csv)
    except (AttributeError, KeyError, TypeError, ValueError) as e:  # a hand-edited value
        raise PlanFilesError(f"{folder}: malformed plan files ({type(e).__name__}: {e})") from None
    report.shape = (len(facts.site_ids), len(facts.periods), len(facts.weight_h))
    report.seconds = time.perf_counter() - start
    return report


# --------------------------------------------------------------------------- plan files


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PlanFilesError(f"{path}: no plan.json here (write a plan with gridsite solve)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanFilesError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sites", []), list):
        raise PlanFilesError(f"{path}: not a gridsite plan (expected an object with sites)")
    return data


def _read_csv(path: Path, dtype: dict[str, type]) -> pd.DataFrame:
    if not path.is_file():
        raise PlanFilesError(f"{path}: missing (a plan with a solution has {path.name})")
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])  # type: ignore[arg-type]
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise PlanFilesError(f"{path}: not a readable CSV table ({e})") from None


# --------------------------------------------------------------------------- periods

_PERIOD = re.compile(r"^(\d{4})([HQ])(\d)$")
_PER_YEAR = {"H": 2, "Q": 4}


def _ordinal(label: str) -> tuple[int, str]:
    """Periods since year 0 and the kind letter; ValueError if not a period label."""
    match = _PERIOD.match(str(label))
    if match is None or not 1 <= int(match[3]) <= _PER_YEAR[match[2]]:
        raise ValueError(label)
    return int(match[1]) * _PER_YEAR[match[2]] + int(match[3]) - 1, match[2]


# --------------------------------------------------------------------------- scenario facts


@dataclass(frozen=True)
class _Facts:
    """The scenario in arrays: s site, k cooling, p period, h representative hour."""

    scenario: Scenario
    site_ids: list[str]
    tech_ids: list[str]
    periods: list[str]
    years: np.ndarray  # (p) length of each period, years
    discount: np.ndarray  # (p) capex discount factor at the period start
    opex_weight: np.ndarray  # (p) discounted years of operation (tail in the last)
    target: np.ndarray  # (p) MW
    first_index: np.ndarray  # (s) first energizable period index (may be < 0 or >= P)
    headroom: np.ndarray  # (s, p) existing headroom MW
    weight_h: np.ndarray  # (h) hours per year
    pue: np.ndarray  # (s, k, h)
    wue: np.ndarray  # (s, k, h) L/kWh = m3/MWh of IT energy
    price: np.ndarray  # (s, h) USD/MWh of the site's zone
    carbon: np.ndarray  # (s, h) kg/MWh
    design_dry: np.ndarray  # (s) °C
    design_wet: np.ndarray  # (s) °C

    @classmethod
    def of(cls, scenario: Scenario) -> _Facts:
        cfg = scenario.config
        h = cfg.horizon
        first, letter = _ordinal(h.first_period)
        last, _ = _ordinal(h.last_period)
        n = _PER_YEAR[letter]
        ordinals = np.arange(first, last + 1)
        periods = [f"{o // n}{letter}{o % n + 1}" for o in ordinals]
        start = ordinals / n
        years = np.full(len(ordinals), 1.0 / n)
        rate = 1.0 + h.discount_rate_frac_per_year
        discount = rate ** -(start - h.base_year)
        opex = years * discount
        tail = np.arange(math.ceil(h.opex_tail_years))
        tail_length = np.minimum(1.0, h.opex_tail_years - tail)
        end = start[-1] + years[-1]
        opex[-1] += float(np.sum(tail_length * rate ** -(end + tail - h.base_year)))

        lead = cfg.portfolio.construction_lead_periods
        first_index = np.array(
            [_ordinal(s.earliest_period)[0] - first + lead for s in scenario.sites]
        )
        headroom_from = np.array([_ordinal(s.headroom_period)[0] - first for s in scenario.sites])
        index = np.arange(len(periods))
        headroom = np.where(
            index[None, :] >= headroom_from[:, None],
            np.array([s.headroom_mw for s in scenario.sites])[:, None],
            0.0,
        )

        reduced = reduce_profiles(scenario.profiles, cfg.representative_days)
        weather = [s.weather_id for s in scenario.sites]
        ambient = {
            "dry_bulb": reduced.frames["dry_bulb_c"][weather].to_numpy(dtype=float).T,
            "wet_bulb": reduced.frames["wet_bulb_c"][weather].to_numpy(dtype=float).T,
        }  # (s, h)
        curves: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for row in scenario.cooling_curves:
            curves[row.cooling_id, row.quantity].append((row.ambient_c, row.value))

        def curve(tech: str, quantity: str, temps: np.ndarray) -> np.ndarray:
            x, y = np.array(sorted(curves[tech, quantity])).T
            return np.interp(temps, x, y)  # linear between breakpoints, flat beyond the ends

        pue = np.stack(
            [curve(t.cooling_id, "pue", ambient[t.pue_ambient]) for t in scenario.cooling], 1
        )
        wue = np.stack(
            [
                curve(t.cooling_id, "wue_l_per_kwh", ambient[t.wue_ambient])
                for t in scenario.cooling
            ],
            1,
        )
        zones = [s.zone_id for s in scenario.sites]
        return cls(
            scenario=scenario,
            site_ids=[s.site_id for s in scenario.sites],
            tech_ids=[t.cooling_id for t in scenario.cooling],
            periods=periods,
            years=years,
            discount=discount,
            opex_weight=opex,
            target=np.array([cfg.portfolio.target_it_mw_by_period[p] for p in periods], float),
            first_index=first_index,
            headroom=headroom,
            weight_h=np.asarray(reduced.weight_h, dtype=float),
            pue=pue,
            wue=wue,
            price=reduced.frames["price_usd_per_mwh"][zones].to_numpy(dtype=float).T,
            carbon=reduced.frames["carbon_kg_per_mwh"][zones].to_numpy(dtype=float).T,
            design_dry=ambient["dry_bulb"].max(axis=1),
            design_wet=ambient["wet_bulb"].max(axis=1),
        )

    @property
    def load_factor(self) -> float:
        return self.scenario.config.portfolio.it_load_factor_frac


@dataclass
class _Decisions:
    """The plan's decisions on the scenario's axes."""

    it: np.ndarray  # (s, k, p) cumulative IT MW
    stated_cooling: dict[int, str]  # site index -> plan.json "cooling"
    development: dict[int, int | None]  # site index -> period index development is paid
    upgrades: dict[str, int]  # upgrade id -> in-service period index (first listing)
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


def _close(a: float, b: float, rel: float = REL_TOL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-6


# --------------------------------------------------------------------------- the audit


class _Audit:
    def __init__(self, facts: _Facts, report: AuditReport) -> None:
        self.f = facts
        self.report = report

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

    def read_decisions(self, plan: dict[str, Any]) -> _Decisions:
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
        return _Decisions(it=it, stated_cooling=stated, development=development, upgrades=upgrades)

    # ----------------------------------------------------------------- phasing

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

    # ----------------------------------------------------------------- cooling

    def techs_with_capacity(self, d: _Decisions, s: int) -> list[str]:
        return [self.f.tech_ids[k] for k in np.flatnonzero(d.it[s].max(axis=1) > 1e-5)]

    def techs_used(self, d: _Decisions, s: int) -> list[int]:
        """Technologies with capacity at site ``s``, plus the one plan.json states."""
        used = {self.f.tech_ids.index(k) for k in self.techs_with_capacity(d, s)}
        stated = d.stated_cooling.get(s)
        if stated in self.f.tech_ids:
            used.add(self.f.tech_ids.index(stated))
        return sorted(used)

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

    # ----------------------------------------------------------------- interconnection

    def draw(self, d: _Decisions) -> np.ndarray:
        """Facility draw (s, p, h), MW: IT MW x PUE at that hour's ambient."""
        return np.einsum("skp,skh->sph", d.it, self.f.pue)

    def check_interconnection(self, d: _Decisions) -> None:
        f, sc = self.f, self.f.scenario
        n_s, n_p, n_h = len(f.site_ids), len(f.periods), len(f.weight_h)
        upgrades = {u.upgrade_id: u for u in sc.upgrades}
        self.count("interconnection.upgrade_after_lead_time", len(d.upgrades))
        added = np.zeros((n_s, n_p))
        for uid, p in d.upgrades.items():
            u = upgrades[uid]
            added[f.site_ids.index(u.site_id), p:] += u.added_mw
            if p < u.lead_periods:
                self.flag(
                    "interconnection.upgrade_after_lead_time",
                    uid,
                    u.lead_periods - p,
                    f"in service {p} period(s) after the first, lead time "
                    f"{u.lead_periods} period(s)",
                    p,
                )
        draw = self.draw(d)
        cap = f.headroom + added
        self.count("interconnection.within_headroom", n_s * n_p * n_h)
        excess = draw - cap[:, :, None]
        for s, p in zip(*np.nonzero(excess.max(axis=2) > _slack(cap)), strict=True):
            h = int(np.argmax(excess[s, p]))
            over = int(np.sum(excess[s, p] > _slack(cap[s, p])))
            self.flag(
                "interconnection.within_headroom",
                f.site_ids[s],
                excess[s, p, h],
                f"draw {draw[s, p, h]:,.6g} MW > headroom {f.headroom[s, p]:,.6g} MW + "
                f"upgrades {added[s, p]:,.6g} MW ({over} of {n_h} hours over)",
                int(p),
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

    # ----------------------------------------------------------------- costs

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
        costs = {
            "development": dev,
            "building": float(np.einsum("skp,s,p->", new, building, df)),
            "cooling": float(np.einsum("skp,k,p->", new, cooling, df)),
            "water": float(
                np.einsum("skp,sk,s,p->", it, water_m3, water_price, f.opex_weight) / USD_PER_MUSD
            ),
            "upgrades": float(sum(upgrades[u].capex_musd * df[p] for u, p in d.upgrades.items())),
            "energy": float(np.einsum("skp,sk,p->", it, energy_usd, f.opex_weight) / USD_PER_MUSD),
            "carbon": float(
                np.einsum("skp,sk,p->", it, carbon_t, f.opex_weight)
                * sc.config.objective.carbon_price_usd_per_t
                / USD_PER_MUSD
            ),
        }
        if d.serving_musd is not None:
            costs["serving"] = d.serving_musd
        costs["total"] = sum(costs[t] for t in (*COST_TERMS, "serving") if t in costs)
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

    # ----------------------------------------------------------------- reported figures

    def check_reports(
        self, d: _Decisions, plan: dict[str, Any], build: pd.DataFrame, sites: pd.DataFrame
    ) -> None:
        """plan.json's own totals, build.csv and sites.csv agree with the decisions."""
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
        checked += self._check_build_csv(d, build)
        checked += self._check_sites_csv(d, sites)
        self.count(rule, checked)

    def _site_figures(self, d: _Decisions) -> dict[str, np.ndarray]:
        """Per (site, period) figures build.csv reports, recomputed."""
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
        return out

    def _check_build_csv(self, d: _Decisions, build: pd.DataFrame) -> int:
        f, rule = self.f, "plan.consistent"
        figures = self._site_figures(d)
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
                if not _close(given, value, CSV_REL_TOL):
                    self.flag(
                        rule,
                        f.site_ids[s],
                        given - value,
                        f"build.csv {column} {given:,.6g}, recomputed {value:,.6g}",
                        p,
                    )
        return checked

    def _check_sites_csv(self, d: _Decisions, sites: pd.DataFrame) -> int:
        f, rule = self.f, "plan.consistent"
        figures = self._site_figures(d)
        missing = [c for c in ("site_id", "open", "cooling", "it_mw", "upgrades") if c not in sites]
        if missing:
            self.flag(rule, "sites.csv", math.nan, f"missing columns {missing}")
            return 1
        rows = {str(r["site_id"]): r for r in sites.to_dict("records")}
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


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius 6,371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def _label_at(f: _Facts, index: int) -> str:
    """Label of the period ``index`` periods after the first (may lie outside the horizon)."""
    first, letter = _ordinal(f.periods[0])
    n = _PER_YEAR[letter]
    o = first + index
    return f"{o // n}{letter}{o % n + 1}"
