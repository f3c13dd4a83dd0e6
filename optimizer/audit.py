"""An independent audit of a plan: every rule recomputed from the raw scenario and the plan files.

The auditor reads the validated scenario tables (:func:`optimizer.scenario.load_scenario`), the
representative hours (:func:`optimizer.profiles.reduce_profiles`: data, not math) and the plan
files (``plan.json``, ``build.csv``, ``sites.csv``, and where present ``onsite.csv``,
``onsite_dispatch.csv``, ``curtailment.csv``, ``contracts.csv`` and ``matched.csv``). It
shares no arithmetic with ``optimizer/prepare.py`` or ``formulations/``: PUE and WUE
interpolation, design temperatures, discount factors, opex weights, the stressed hours of
flexible connections and the settlement of clean-energy contracts are recomputed here, so a
bug there shows up as a violation or a cost mismatch.

Decisions come from ``plan.json`` (IT MW by site, cooling and period, upgrades as ``id@period``),
``onsite.csv`` (on-site capacity by option and period), ``onsite_dispatch.csv`` (on-site output
by option, period and representative hour) and ``curtailment.csv`` (IT MW shed by site, cooling,
period and stressed hour), ``contracts.csv`` (clean-energy MW contracted by contract and
period) and ``matched.csv`` (campus load matched by contracts by zone, period and
representative hour); a missing optional file means none. ``build.csv``, ``sites.csv``,
plan.json's ``totals_by_period`` and the reported columns of ``onsite.csv`` /
``curtailment.csv`` / ``contracts.csv`` are checked against them and against the
recomputation. Rules
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
from collections.abc import Iterator
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
#: Terms of scenarios with flexible connections (``curtailment``, present in every plan) or
#: on-site power options (``onsite_capacity``, ``onsite_fuel``).
SITE_POWER_TERMS = ("curtailment", "onsite_capacity", "onsite_fuel")
#: The term of scenarios with clean-energy contracts (present in every such plan).
CLEAN_TERMS = ("clean_contracts",)
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
        "facility draw at every hour within headroom + upgrades in service + non-firm tier + "
        "on-site capacity",
        "MW",
    ),
    "interconnection.curtailed_to_firm": (
        "in a stressed hour a flexible campus sheds its draw down to firm supply (headroom + "
        "upgrades + on-site capacity)",
        "MW",
    ),
    "interconnection.sheds_installed": (
        "IT shed only at a flexible campus's stressed hours, between 0 and its installed IT",
        "MW",
    ),
    "interconnection.grid_delivers": (
        "average load not served on-site within headroom + upgrades + non-firm tier, every hour",
        "MW",
    ),
    "onsite.within_capacity": (
        "on-site output within capacity, capacity within max_mw and not before the option's "
        "delivery (lead_periods) and the campus's first period",
        "MW",
    ),
    "onsite.behind_the_meter": ("on-site output within the campus's average load", "MW"),
    "onsite.within_permit": ("an option's yearly emissions within its air permit", "t CO2/year"),
    "interconnection.upgrade_after_lead_time": (
        "upgrade in service after its lead time",
        "period(s) early",
    ),
    "interconnection.upgrade_at_most_once": ("each upgrade built at most once", "extra"),
    "interconnection.within_zone_limit": (
        "zonal coincident draw at every hour within the import limit",
        "MW",
    ),
    "clean.within_contracts": (
        "contracted MW within 0..max_mw and none before the contract's delivery (lead_periods); "
        "load matched in a zone at every hour between 0 and its contracts' output",
        "MW",
    ),
    "clean.stays_contracted": ("contracted MW never falls", "MW"),
    "clean.within_load": (
        "load matched in a zone at every hour within its campuses' average load less on-site "
        "output",
        "MW",
    ),
    "clean.meets_target": (
        "energy matched in a year of each period at least the CFE target x grid energy",
        "MWh/year",
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
    files = _OptionalFiles.read(folder)
    facts = _Facts.of(scenario)
    audit = _Audit(facts, report)
    try:
        decisions = audit.read_decisions(plan, files)
        audit.check_phasing(decisions)
        audit.check_cooling(decisions)
        audit.check_onsite(decisions)
        audit.check_clean(decisions)
        audit.check_interconnection(decisions)
        decisions.serving_musd = audit.check_demand(decisions, plan)
        audit.check_costs(decisions, plan)
        audit.check_reports(decisions, plan, build, sites_csv, files)
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


def _read_csv(path: Path, dtype: dict[str, type], required: bool = True) -> pd.DataFrame:
    """The table at ``path``; an optional one that is absent reads as no rows."""
    if not path.is_file():
        if not required:
            return pd.DataFrame()
        raise PlanFilesError(f"{path}: missing (a plan with a solution has {path.name})")
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])  # type: ignore[arg-type]
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise PlanFilesError(f"{path}: not a readable CSV table ({e})") from None


#: The optional plan files of on-site power and flexible connections, by the columns that
#: key their rows.
SITE_POWER_FILES = {
    "onsite.csv": ("option_id", "period"),
    "onsite_dispatch.csv": ("option_id", "period", "hour"),
    "curtailment.csv": ("site_id", "cooling", "period", "hour"),
}
#: The optional plan files of clean-energy contracts, by the columns that key their rows.
CLEAN_FILES = {
    "contracts.csv": ("contract_id", "period"),
    "matched.csv": ("zone_id", "period", "hour"),
}


@dataclass(frozen=True)
class _OptionalFiles:
    """The optional plan files (no rows when a file is absent)."""

    onsite: pd.DataFrame  # option x period with capacity
    dispatch: pd.DataFrame  # option x period x hour with output
    curtailment: pd.DataFrame  # site x cooling x period x stressed hour with IT shed
    contracts: pd.DataFrame  # contract x period with MW contracted
    matched: pd.DataFrame  # zone x period x hour with load matched

    @classmethod
    def read(cls, folder: Path) -> _OptionalFiles:
        frames = {}
        for name, keys in {**SITE_POWER_FILES, **CLEAN_FILES}.items():
            frame = _read_csv(folder / name, dict.fromkeys(keys, str), required=False)
            if set(keys) <= set(frame.columns) and frame.duplicated(list(keys)).any():
                raise PlanFilesError(f"{folder / name}: rows listed twice (same {', '.join(keys)})")
            frames[name] = frame
        return cls(
            onsite=frames["onsite.csv"],
            dispatch=frames["onsite_dispatch.csv"],
            curtailment=frames["curtailment.csv"],
            contracts=frames["contracts.csv"],
            matched=frames["matched.csv"],
        )


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
    nonfirm: np.ndarray  # (s, p) non-firm tier MW of a flexible campus, from headroom_period on
    stressed_weight_h: np.ndarray  # (s, h) hours per year of each hour in the stressed set
    option_ids: list[str]  # on-site power options, o
    option_site: np.ndarray  # (o) site index of each option
    option_first: np.ndarray  # (o) first period index the option may have capacity
    option_tco2_per_mwh: np.ndarray  # (o) heat rate x fuel emissions
    zone_ids: list[str]  # z
    site_zone: np.ndarray  # (s) zone index of each site
    zone_price: np.ndarray  # (z, h) USD/MWh
    zone_carbon: np.ndarray  # (z, h) kg/MWh
    contract_ids: list[str]  # clean-energy contracts, c
    contract_zone: np.ndarray  # (c) zone index of each contract
    contract_cf: np.ndarray  # (c, h) output per MW contracted

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
        connected = index[None, :] >= headroom_from[:, None]  # (s, p)
        headroom_mw = np.array([s.headroom_mw for s in scenario.sites])
        headroom = np.where(connected, headroom_mw[:, None], 0.0)

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
        site_ids = [s.site_id for s in scenario.sites]
        zone_ids = [z.zone_id for z in scenario.zones]
        contract_ids = [c.contract_id for c in scenario.clean_contracts]
        factors = reduced.frames.get("capacity_factor_frac")
        price = reduced.frames["price_usd_per_mwh"][zones].to_numpy(dtype=float).T
        weight_h = np.asarray(reduced.weight_h, dtype=float)
        tier_mw = np.zeros(len(site_ids))
        stressed = np.zeros((len(site_ids), len(weight_h)))
        for flex in scenario.flexible_connections:
            i = site_ids.index(flex.site_id)
            tier_mw[i] = flex.nonfirm_mw
            stressed[i] = _stressed_weights(price[i], weight_h, flex.curtailment_budget_frac)
        options = scenario.onsite_power
        option_site = np.array([site_ids.index(o.site_id) for o in options], dtype=int)
        return cls(
            scenario=scenario,
            site_ids=site_ids,
            tech_ids=[t.cooling_id for t in scenario.cooling],
            periods=periods,
            years=years,
            discount=discount,
            opex_weight=opex,
            target=np.array([cfg.portfolio.target_it_mw_by_period[p] for p in periods], float),
            first_index=first_index,
            headroom=headroom,
            weight_h=weight_h,
            pue=pue,
            wue=wue,
            price=price,
            carbon=reduced.frames["carbon_kg_per_mwh"][zones].to_numpy(dtype=float).T,
            design_dry=ambient["dry_bulb"].max(axis=1),
            design_wet=ambient["wet_bulb"].max(axis=1),
            nonfirm=np.where(connected, tier_mw[:, None], 0.0),
            stressed_weight_h=stressed,
            option_ids=[o.option_id for o in options],
            option_site=option_site,
            option_first=np.array(
                [
                    max(o.lead_periods, first_index[s])
                    for o, s in zip(options, option_site, strict=True)
                ],
                dtype=int,
            ),
            option_tco2_per_mwh=np.array(
                [o.heat_rate_mmbtu_per_mwh * o.emissions_kg_per_mmbtu / KG_PER_T for o in options]
            ),
            zone_ids=zone_ids,
            site_zone=np.array([zone_ids.index(z) for z in zones], dtype=int),
            zone_price=reduced.frames["price_usd_per_mwh"][zone_ids].to_numpy(dtype=float).T,
            zone_carbon=reduced.frames["carbon_kg_per_mwh"][zone_ids].to_numpy(dtype=float).T,
            contract_ids=contract_ids,
            contract_zone=np.array(
                [zone_ids.index(c.zone_id) for c in scenario.clean_contracts], dtype=int
            ),
            contract_cf=(
                factors[contract_ids].to_numpy(dtype=float).T
                if factors is not None and contract_ids
                else np.zeros((len(contract_ids), len(weight_h)))
            ),
        )

    @property
    def load_factor(self) -> float:
        return self.scenario.config.portfolio.it_load_factor_frac

    def per_site(self, by_option: np.ndarray) -> np.ndarray:
        """Sum an on-site array (o, ...) over each site's options: (s, ...)."""
        out = np.zeros((len(self.site_ids), *by_option.shape[1:]))
        np.add.at(out, self.option_site, by_option)
        return out

    def per_zone(self, by_site: np.ndarray) -> np.ndarray:
        """Sum a site array (s, ...) over each zone's campuses: (z, ...)."""
        out = np.zeros((len(self.zone_ids), *by_site.shape[1:]))
        np.add.at(out, self.site_zone, by_site)
        return out

    def contract_output(self, contracted: np.ndarray) -> np.ndarray:
        """Output (z, p, h), MW, of the MW ``contracted`` (c, p) in each zone."""
        out = np.zeros((len(self.zone_ids), contracted.shape[1], len(self.weight_h)))
        np.add.at(out, self.contract_zone, contracted[:, :, None] * self.contract_cf[:, None, :])
        return out


def _stressed_weights(price: np.ndarray, weight_h: np.ndarray, budget_frac: float) -> np.ndarray:
    """Stressed hours per year of each representative hour at a flexible campus: the zone's
    hours by decreasing price (ties: lower hour first) until their weights fill
    ``budget_frac`` of the year; of the last one only the part that fits."""
    budget_h = budget_frac * float(weight_h.sum())
    stressed = np.zeros_like(weight_h)
    before_h = 0.0
    for h in sorted(range(len(weight_h)), key=lambda h: (-price[h], h)):
        stressed[h] = min(weight_h[h], max(0.0, budget_h - before_h))
        before_h += weight_h[h]
    return stressed


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


def _close(a: float, b: float, rel: float = REL_TOL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-6


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


# --------------------------------------------------------------------------- the audit


class _Audit:
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
        f, rule = self.f, "plan.matches_scenario"
        capacity = np.zeros((len(f.option_ids), len(f.periods)))
        output = np.zeros((*capacity.shape, len(f.weight_h)))
        curtailed: list[tuple[int, int, int, int, float]] = []
        for name, frame in (
            ("onsite.csv", files.onsite),
            ("onsite_dispatch.csv", files.dispatch),
            ("curtailment.csv", files.curtailment),
        ):
            columns = SITE_POWER_FILES[name]
            self.count(rule, len(frame))
            for row in frame.to_dict("records"):
                key = self.locate(row, columns)
                if key is None:
                    where = " ".join(str(row[c]) for c in columns)
                    self.flag(rule, name, math.nan, f"row {where}: not in the scenario")
                elif name == "onsite.csv":
                    capacity[key] = _finite(row["onsite_capacity_mw"])
                elif name == "onsite_dispatch.csv":
                    output[key] = _finite(row["onsite_output_mw"])
                else:
                    s, k, p, h = key
                    curtailed.append((s, k, p, h, _finite(row["curtailed_it_mw"])))
        return capacity, output, curtailed

    def read_clean(self, files: _OptionalFiles) -> tuple[np.ndarray, np.ndarray]:
        """Clean-energy MW contracted (c, p) and campus load matched (z, p, h); a row keyed
        off the scenario is flagged and skipped."""
        f, rule = self.f, "plan.matches_scenario"
        contracted = np.zeros((len(f.contract_ids), len(f.periods)))
        matched = np.zeros((len(f.zone_ids), len(f.periods), len(f.weight_h)))
        for name, frame, target, column in (
            ("contracts.csv", files.contracts, contracted, "contracted_mw"),
            ("matched.csv", files.matched, matched, "matched_mw"),
        ):
            columns = CLEAN_FILES[name]
            self.count(rule, len(frame))
            for row in frame.to_dict("records"):
                key = self.locate(row, columns)
                if key is None:
                    where = " ".join(str(row[c]) for c in columns)
                    self.flag(rule, name, math.nan, f"row {where}: not in the scenario")
                else:
                    target[key] = _finite(row[column])
        return contracted, matched

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

    # ----------------------------------------------------------------- on-site power

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

    # ----------------------------------------------------------------- clean energy

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

    # ----------------------------------------------------------------- interconnection

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

    # ----------------------------------------------------------------- reported figures

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
        figures = self._site_figures(d)
        checked += self._check_build_csv(d, build, figures)
        checked += self._check_sites_csv(d, sites, figures)
        checked += self._check_onsite_csv(d, files.onsite, figures["energy_mwh"])
        checked += self._check_curtailment_csv(files.curtailment)
        checked += self._check_totals(d, plan, figures)
        checked += self._check_contracts_csv(d, files.contracts)
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
        # On-site output comes off the grid's energy, bill and emissions and adds its own.
        onsite = self.onsite_per_year(d)
        onsite_mw, _ = self.site_onsite(d)
        out["onsite_mw"] = onsite_mw
        out["onsite_mwh"] = onsite["onsite_mwh"] * f.years
        out["grid_mwh"] = out["energy_mwh"] - out["onsite_mwh"]
        out["energy_cost_musd"] -= onsite["displaced_usd"] * f.years / USD_PER_MUSD
        out["emissions_tco2"] += onsite["net_tco2"] * f.years
        firm = f.headroom + self.upgrades_mw(d) + onsite_mw
        out["nonfirm_mw"] = np.clip(out["peak_facility_mw"] - firm, 0.0, f.nonfirm)
        shed_it, _ = self.shed(d)
        out["curtailed_it_mwh"] = np.einsum("sph,sh,p->sp", shed_it, f.stressed_weight_h, f.years)
        return out

    def _check_build_csv(
        self, d: _Decisions, build: pd.DataFrame, figures: dict[str, np.ndarray]
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
                if not _close(given, value, CSV_REL_TOL):
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
        self, d: _Decisions, plan: dict[str, Any], figures: dict[str, np.ndarray]
    ) -> int:
        """plan.json's ``totals_by_period``: energy matched, CFE share (matched over grid
        energy) and emissions net of the matched energy's. A figure a plan leaves out is
        flagged only when the scenario has contracts (older plans do not report them)."""
        f, rule = self.f, "plan.consistent"
        required = bool(f.scenario.clean_contracts)
        matched = {k: v * f.years for k, v in self.matched_per_year(d).items()}
        grid = figures["grid_mwh"].sum(axis=0)
        expected = {
            "matched_mwh": matched["matched_mwh"],
            "cfe_share": np.divide(
                matched["matched_mwh"], grid, out=np.full_like(grid, np.nan), where=grid > 1e-6
            ),
            "emissions_tco2": figures["emissions_tco2"].sum(axis=0) - matched["matched_tco2"],
        }
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
                if given is None or not _close(float(given), value, CSV_REL_TOL):
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
