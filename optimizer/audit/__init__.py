"""An independent audit of a plan: every rule recomputed from the raw scenario and the plan files.

The auditor reads the validated scenario tables (:func:`optimizer.scenario.load_scenario`), the
representative hours the plan was solved on (``plan.nc``: checked against the raw profiles by
:mod:`optimizer.audit.reduction`, never recomputed) and the plan files (``plan.json``,
``build.csv``, ``sites.csv``, and where present ``onsite.csv``, ``onsite_dispatch.csv``,
``curtailment.csv``, ``contracts.csv`` and ``matched.csv``). It
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

Layout (each rule family is a mixin on :class:`~optimizer.audit.base._AuditBase`, assembled
into ``_Audit`` here; nothing imports ``optimizer.audit`` itself, so there are no cycles):

- ``findings.py``: :data:`RULES`, :class:`Violation`, :class:`AuditReport`,
  :class:`PlanFilesError`, tolerances and cost terms.
- ``files.py``: reading ``plan.json`` and the CSVs (the optional ones read as no rows).
- ``facts.py``: ``_Facts``, the scenario in arrays, recomputed from the raw tables.
- ``base.py``: ``_AuditBase`` (flag, count, the plan's decisions as ``_Decisions``, quantities
  shared by several rules) and the tolerance helpers.
- ``phasing.py``, ``cooling.py``, ``onsite.py``, ``clean.py``, ``interconnection.py``,
  ``demand.py``: the rules of each constraint family.
- ``reduction.py``: the representative hours of ``plan.nc`` and the rule that they reduce the
  raw profiles faithfully.
- ``costs.py``: the cost recomputation and ``objective.cost``.
- ``figures.py``: build.csv, sites.csv, the optional CSVs' reported columns and
  totals_by_period against the recomputation (``plan.consistent``).
- ``integrity.py``: the folder as a whole: the status against the files (``plan.status``),
  every file there and readable (``plan.complete``), no NaN or Infinity in plan.json,
  serving.csv and plan.nc against the decisions.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from optimizer.audit.clean import _CleanRules
from optimizer.audit.cooling import _CoolingRules
from optimizer.audit.costs import _CostRules
from optimizer.audit.demand import _DemandRules
from optimizer.audit.facts import _Facts
from optimizer.audit.figures import _ReportRules
from optimizer.audit.files import (
    CLEAN_FILES,
    SITE_POWER_FILES,
    _OptionalFiles,
    _read_csv,
    _read_json,
    _read_netcdf,
)
from optimizer.audit.findings import (
    CLEAN_TERMS,
    COST_TERMS,
    CSV_REL_TOL,
    KG_PER_T,
    REL_TOL,
    RULES,
    SITE_POWER_TERMS,
    USD_PER_MUSD,
    AuditReport,
    PlanFilesError,
    Violation,
)
from optimizer.audit.integrity import _IntegrityRules, holds_solution, status_violations
from optimizer.audit.interconnection import _InterconnectionRules
from optimizer.audit.onsite import _OnsiteRules
from optimizer.audit.phasing import _PhasingRules
from optimizer.audit.reduction import _Reduction, _ReductionRules
from optimizer.scenario import Scenario

#: Everything audit.py made public before the split (callers use audit_plan, AuditReport,
#: PlanFilesError and Violation).
__all__ = [
    "CLEAN_FILES",
    "CLEAN_TERMS",
    "COST_TERMS",
    "CSV_REL_TOL",
    "KG_PER_T",
    "REL_TOL",
    "RULES",
    "SITE_POWER_FILES",
    "SITE_POWER_TERMS",
    "USD_PER_MUSD",
    "AuditReport",
    "PlanFilesError",
    "Violation",
    "audit_plan",
]


class _Audit(
    _PhasingRules,
    _CoolingRules,
    _OnsiteRules,
    _CleanRules,
    _InterconnectionRules,
    _DemandRules,
    _CostRules,
    _ReportRules,
    _IntegrityRules,
    _ReductionRules,
):
    """Every rule family on one audit state (:class:`~optimizer.audit.base._AuditBase`)."""


def audit_plan(scenario: Scenario, plan_dir: str | Path) -> AuditReport:
    """Check the plan in ``plan_dir`` against every rule of ``scenario``.

    What is checked follows from the plan's files: a plan that holds a solution is audited
    whatever its status says (a status that contradicts the files is a violation). Raises
    :class:`PlanFilesError` if ``plan.json`` (or, for a plan with a solution, ``build.csv``
    / ``sites.csv``) is missing or unreadable, or if the plan was solved from another
    scenario."""
    start = time.perf_counter()
    folder = Path(plan_dir)
    plan = _read_json(folder / "plan.json")
    _check_same_scenario(folder, plan, scenario)
    status = str(plan.get("status"))
    solved = holds_solution(folder, plan)
    report = AuditReport(plan_dir=folder, status=status, audited=solved)
    report.violations += status_violations(status, solved)
    report.checks["plan.status"] = 1
    if not solved:
        return report
    build = _read_csv(folder / "build.csv", {"site_id": str, "period": str})
    sites_csv = _read_csv(folder / "sites.csv", {"site_id": str, "open_period": str})
    files = _OptionalFiles.read(folder)
    unreadable = _read_netcdf(folder / "plan.nc")
    if isinstance(unreadable, str):  # its hours are what every other rule is checked on
        report.violations.append(
            Violation("plan.complete", "plan.nc", None, None, math.nan, unreadable)
        )
        report.checks["plan.complete"] = 1
        return report
    reduction = _Reduction.read(folder)
    try:
        facts = _Facts.of(scenario, reduction.frames, reduction.weight_h)
        audit = _Audit(facts, report)
        audit.check_reduction(reduction)
        decisions = audit.read_decisions(plan, files)
        audit.check_phasing(decisions)
        audit.check_cooling(decisions)
        audit.check_onsite(decisions)
        audit.check_clean(decisions)
        audit.check_interconnection(decisions)
        decisions.serving_musd = audit.check_demand(decisions, plan)
        audit.check_costs(decisions, plan)
        audit.check_reports(decisions, plan, build, sites_csv, files)
        audit.check_integrity(folder, plan, files.serving, decisions)
    except (AttributeError, KeyError, TypeError, ValueError) as e:  # a hand-edited value
        raise PlanFilesError(f"{folder}: malformed plan files ({type(e).__name__}: {e})") from None
    report.shape = (len(facts.site_ids), len(facts.periods), len(facts.weight_h))
    report.seconds = time.perf_counter() - start
    return report


def _check_same_scenario(folder: Path, plan: dict[str, object], scenario: Scenario) -> None:
    """A plan audited against another scenario is a mistake to say, not violations to list."""
    solved_from = plan.get("scenario")
    if solved_from is not None and solved_from != scenario.config.name:
        raise PlanFilesError(
            f"{folder}: solved from scenario {solved_from!r}, not from {scenario.config.name!r} "
            f"({scenario.path}); audit a plan against the scenario it was solved from"
        )
