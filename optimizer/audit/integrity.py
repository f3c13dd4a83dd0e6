"""The plan folder as a whole: a status that agrees with the files (``plan.status``), every
file a plan with a solution has (``plan.complete``), and plan.json's numbers, serving.csv and
plan.nc agreeing with the decisions audited (``plan.consistent``).

What is audited is derived from the files, not from the status plan.json states: a plan
whose files hold a solution is audited whatever its status says, and a status that
contradicts the files is itself a violation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.audit.base import _AuditBase, _close, _Decisions
from optimizer.audit.files import _non_finite, _read_netcdf
from optimizer.audit.findings import CSV_REL_TOL, EITHER, SOLVED, UNSOLVED, Violation

#: Files only a plan with a solution has (plan.nc is written for every plan).
SOLUTION_FILES = ("build.csv", "sites.csv")


def holds_solution(folder: Path, plan: dict[str, Any]) -> bool:
    """Whether the plan's files hold a solution (decisions or their tables), whatever the
    status says."""
    return (
        bool(plan.get("sites"))
        or plan.get("objective_musd") is not None
        or any((folder / name).exists() for name in SOLUTION_FILES)
    )


def status_violations(status: str, solved: bool) -> list[Violation]:
    """A status that is not gridsite's or that contradicts the files."""
    known = (*SOLVED, *UNSOLVED, *EITHER)
    if status not in known:
        message = f"status {status!r} is not one of {', '.join(known)}"
    elif solved and status in UNSOLVED:
        message = f"status {status!r}, but the plan files hold a solution (audited as one)"
    elif not solved and status in SOLVED:
        message = (
            f"status {status!r}, but the plan holds no solution (no {', '.join(SOLUTION_FILES)})"
        )
    else:
        return []
    return [Violation("plan.status", "plan.json", None, None, math.nan, message)]


class _IntegrityRules(_AuditBase):
    """``plan.complete`` and the whole-folder parts of ``plan.consistent``."""

    def check_integrity(
        self, folder: Path, plan: dict[str, Any], serving: pd.DataFrame, d: _Decisions
    ) -> None:
        for place in _non_finite(plan):
            self.flag("plan.consistent", "plan.json", math.nan, f"{place}; expected a number")
        self.count("plan.consistent", 1)
        self._check_expected_files(folder)
        self._check_netcdf(folder, plan, d)
        self._check_serving_csv(plan, serving)

    def _check_expected_files(self, folder: Path) -> None:
        """The optional concerns' files, written whenever the scenario has the concern."""
        sc = self.f.scenario
        expected = {
            "serving.csv": bool(sc.demand_regions),
            "onsite.csv": bool(sc.onsite_power),
            "onsite_dispatch.csv": bool(sc.onsite_power),
            "curtailment.csv": bool(sc.flexible_connections),
            "contracts.csv": bool(sc.clean_contracts),
            "matched.csv": bool(sc.clean_contracts),
        }
        for name in (n for n, needed in expected.items() if needed):
            self.count("plan.complete", 1)
            if not (folder / name).is_file():
                self.flag("plan.complete", name, math.nan, "missing (the scenario has its concern)")

    def _check_netcdf(self, folder: Path, plan: dict[str, Any], d: _Decisions) -> None:
        """plan.nc is there, readable, and holds the plan's status and IT MW."""
        self.count("plan.complete", 1)
        ds = _read_netcdf(folder / "plan.nc")
        if isinstance(ds, str):
            self.flag("plan.complete", "plan.nc", math.nan, ds)
            return
        rule = "plan.consistent"
        self.count(rule, 2)
        if ds.attrs.get("status") != plan.get("status"):
            message = f"status {ds.attrs.get('status')!r}, plan.json {plan.get('status')!r}"
            self.flag(rule, "plan.nc", math.nan, message)
        if "it_mw" not in ds or set(ds["it_mw"].dims) != {"site", "period"}:
            self.flag(rule, "plan.nc", math.nan, "no it_mw by site and period")
            return
        it = ds["it_mw"].transpose("site", "period")
        sites = [str(s) for s in it["site"].to_numpy()]
        periods = [str(p) for p in it["period"].to_numpy()]
        if sites != self.f.site_ids or periods != self.f.periods:
            self.flag(rule, "plan.nc", math.nan, "sites or periods are not the scenario's")
            return
        stated = it.to_numpy()
        differs = ~np.isclose(stated, d.site_it, rtol=CSV_REL_TOL, atol=1e-5)
        for s, p in zip(*np.nonzero(differs), strict=True):
            self.flag(
                rule,
                self.f.site_ids[s],
                float(stated[s, p] - d.site_it[s, p]),
                f"plan.nc it_mw {stated[s, p]:,.6g}, plan.json {d.site_it[s, p]:,.6g}",
                int(p),
            )

    def _check_serving_csv(self, plan: dict[str, Any], serving: pd.DataFrame) -> None:
        """serving.csv lists the same MW served as plan.json's ``serving``."""
        rule = "plan.consistent"
        stated = {
            (str(r["region_id"]), str(r["site_id"]), str(r["period"])): float(r["serve_mw"])
            for r in plan.get("serving") or []
        }
        listed: dict[tuple[str, str, str], float] = {}
        for row in serving.to_dict("records"):
            key = (str(row["region_id"]), str(row["site_id"]), str(row["period"]))
            listed[key] = float(row["serve_mw"])
        self.count(rule, len(stated | listed))
        for key in sorted(stated.keys() | listed.keys()):
            given, json_mw = listed.get(key, 0.0), stated.get(key, 0.0)
            if not _close(given, json_mw, CSV_REL_TOL):
                self.flag(
                    rule,
                    "serving.csv",
                    given - json_mw,
                    f"{' '.join(key)}: serve_mw {given:,.6g}, plan.json {json_mw:,.6g}",
                )
