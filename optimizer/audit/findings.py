"""What an audit reports: the rules it checks (:data:`RULES`), a broken rule
(:class:`Violation`), the report (:class:`AuditReport`), the error for an unreadable plan folder
(:class:`PlanFilesError`), and the tolerances and cost terms shared by the checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

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
    "plan.consistent": (
        "plan.json, build.csv, sites.csv, serving.csv and plan.nc agree with each other and the "
        "recomputation; plan.json holds no NaN or Infinity",
        "",
    ),
    "plan.complete": (
        "every file of a plan with a solution is there and readable (plan.nc, and the "
        "optional concerns' files when the scenario has them)",
        "",
    ),
    "plan.status": ("plan.json's status agrees with the plan's files", ""),
}
#: Statuses of a plan with a solution, of one without, and of one that may hold either.
SOLVED = ("optimal", "feasible")
UNSOLVED = ("infeasible", "no_solution")
EITHER = ("interrupted",)


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
    audited: bool = True
    """False when the plan holds no solution (nothing to check)."""
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
    def mismatches(self) -> list[Violation]:
        """Cost terms (and the objective) that disagree with the recomputation."""
        return [v for v in self.violations if v.rule == "objective.cost"]

    def by_rule(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    def __str__(self) -> str:
        if not self.audited and self.ok:
            return f"nothing to audit: the plan has no solution (status {self.status})"
        if not self.audited:
            return "\n".join([*map(str, self.violations), "audit failed: the plan's status"])
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
