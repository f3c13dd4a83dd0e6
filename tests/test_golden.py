"""Golden regression values: the default scenario and every README worked example, solved at
the gap the README quotes, against the objective, bound and plan facts stored in
``tests/golden/<case>.json`` (campuses open and when, upgrades, IT MW by region in the last
period, cost terms, model rows, the marginal values the README quotes).

The true optimum lies within [bound, objective] of both the stored and the new solve, so the
two intervals must overlap: that is the check within the gap tolerance. Plan facts must match
(HiGHS is deterministic for a given model, seed and thread count): a change that moves them,
even within the gap, is a change of results to be made on purpose with
``pytest tests/test_golden.py --update-golden`` and its reason in the commit message (every
case solves in seconds). The README's figures for
these examples are checked against the same files, so they cannot drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from optimizer import DEFAULT_SCENARIO, Plan, load_scenario, options_for, solve
from optimizer.audit import audit_plan
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
README = ROOT / "README.md"
REL_TOL = 1e-6
TIME_LIMIT_S = 3600.0


def _example(name: str) -> ModuleType:
    return load_script(f"data/examples/{name}.py")


@dataclass(frozen=True)
class Case:
    """A worked example: how to write its scenario, the gap it is solved to (None: the
    scenario's own setting), and the marginal values the README quotes (kind, subject,
    period)."""

    build: Callable[[Path], Path]
    mip_gap_frac: float | None
    marginals: tuple[tuple[str, str, str], ...] = ()


def _site_power(kind: str) -> Callable[[Path], Path]:
    return lambda out: _example("site_power").EXAMPLES[kind](out)  # type: ignore[no-any-return]


def _clean(target: float) -> Callable[[Path], Path]:
    return lambda out: _example("clean_energy").main(out, target)  # type: ignore[no-any-return]


CASES = {
    "default": Case(
        lambda out: DEFAULT_SCENARIO,
        None,
        (("zone_limit", "ercot_north", "2030H2"), ("headroom", "amarillo_tx", "2028H2")),
    ),
    "inference": Case(lambda out: _example("inference").main(out), 0.002),
    "faster": Case(_site_power("faster"), 0.002),
    "cfe-0": Case(_clean(0.0), 0.002),
    "cfe-25": Case(_clean(0.25), 0.002),
    "flexible": Case(_site_power("flexible"), 0.002),
    "onsite": Case(_site_power("onsite"), 0.002),
}


def facts(plan: Plan, case: Case) -> dict[str, Any]:
    """What the golden file keeps of a plan."""
    r = plan.result
    ds = plan.dataset
    sites = plan.sites.set_index("site_id")
    region = dict(zip(ds["site"].to_numpy(), ds["site_zone"].to_numpy(), strict=True))
    zone_region = dict(zip(ds["zone"].to_numpy(), ds["zone_region"].to_numpy(), strict=True))
    by_region: dict[str, float] = {}
    for site, mw in zip(ds["site"].to_numpy(), ds["it_mw"].to_numpy()[:, -1], strict=True):
        if mw > 0:
            key = str(zone_region[region[site]])
            by_region[key] = by_region.get(key, 0.0) + float(mw)
    marginal = {}
    if case.marginals:
        assert plan.marginal_values is not None
        values = plan.marginal_values.set_index(["kind", "subject", "period"])["value"]
        marginal = {" ".join(key): float(values.get(key, 0.0)) for key in case.marginals}
    return {
        "objective_musd": r.objective_musd,
        "best_bound_musd": r.best_bound_musd,
        "mip_gap": r.mip_gap_frac,
        "rows": r.rows,
        "cost_npv_musd": {k: round(v, 3) for k, v in plan.cost_npv_musd.items()},
        "campuses_open": {
            str(s): str(row["open_period"])
            for s, row in sites.sort_index().iterrows()
            if row["open"]
        },
        "upgrades": sorted(
            u for cell in sites["upgrades"] for u in str(cell).split(";") if u and u != "nan"
        ),
        "it_mw_by_region": dict(sorted(by_region.items())),
        "marginal_values_usd": marginal,
    }


def check(name: str, case: Case, tmp_path: Path, update: bool) -> None:
    scenario = load_scenario(case.build(tmp_path / name))
    # Stopped by the gap, never by the clock (a time-limited solve depends on the machine).
    options = options_for(scenario, mip_gap_frac=case.mip_gap_frac, time_limit_s=TIME_LIMIT_S)
    plan = solve(scenario, options, marginals=bool(case.marginals))
    assert plan.result.termination == "optimal", plan.result.termination
    report = audit_plan(scenario, plan.write(tmp_path / f"{name}-plan"))
    assert report.ok, str(report)
    new = facts(plan, case)
    path = GOLDEN / f"{name}.json"
    if update:
        gap = case.mip_gap_frac or scenario.config.solver.mip_gap_frac
        path.write_text(json.dumps({"mip_gap_setting": gap, **new}, indent=2) + "\n")
        return
    old = json.loads(path.read_text())
    tol = REL_TOL * abs(old["objective_musd"])
    assert new["objective_musd"] >= old["best_bound_musd"] - tol, (new, old)
    assert old["objective_musd"] >= new["best_bound_musd"] - tol, (new, old)
    hint = f"{name}: the plan changed; if on purpose: pytest --update-golden (reason in commit)"
    for key in ("rows", "campuses_open", "upgrades"):
        assert new[key] == old[key], (hint, key, new[key], old[key])
    for key in ("it_mw_by_region", "cost_npv_musd", "marginal_values_usd"):
        assert new[key].keys() == old[key].keys(), (hint, key)
        for k, v in old[key].items():
            assert new[key][k] == pytest.approx(v, rel=1e-4, abs=1e-3), (hint, key, k)


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, tmp_path: Path, update_golden: bool) -> None:
    check(name, CASES[name], tmp_path, update_golden)


def golden(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{name}.json").read_text())  # type: ignore[no-any-return]


def musd(name: str, term: str = "total") -> str:
    return f"{golden(name)['cost_npv_musd'][term]:,.0f}"


def marginal(key: str) -> float:
    """A marginal value of the default plan the README quotes, M USD per unit."""
    return float(golden("default")["marginal_values_usd"][key]) / 1e6


def test_readme_figures_come_from_the_golden_files() -> None:
    """The README's worked-example figures are the stored ones (rounded as the README
    rounds them): NPVs, changes and the marginal values it quotes."""
    text = re.sub(r"\s+", " ", README.read_text())
    quoted = {
        "inference NPV": (
            f"{golden('default')['objective_musd'] / 1e3:.1f} → "
            f"{golden('inference')['objective_musd'] / 1e3:.1f} bn"
        ),
        "flexible NPV": f"({musd('default')} → {musd('flexible')} M USD",
        "onsite NPV": f"({musd('faster')} → {musd('onsite')} M USD",
        "cfe NPV": f"({musd('cfe-0')} → {musd('cfe-25')} M USD",
        "zone limit value": f"about {marginal('zone_limit ercot_north 2030H2'):.1f} M USD",
        "headroom value": f"about {marginal('headroom amarillo_tx 2028H2'):.2f} M USD",
    }
    missing = {k: v for k, v in quoted.items() if v not in text}
    assert not missing, missing
