"""The bundled default scenario solves to 0.2 % and its plan keeps every rule, checked from the
scenario tables and the plan alone (residuals), not from the model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer import DEFAULT_SCENARIO, Plan, Scenario, load_scenario, options_for, solve
from optimizer.audit import audit_plan
from optimizer.periods import Period


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def plan(scenario: Scenario) -> Plan:
    return solve(scenario, options_for(scenario))


def test_default_scenario_is_real_sized(scenario: Scenario) -> None:
    assert len(scenario.sites) >= 40
    assert len({z.region for z in scenario.zones}) >= 6
    assert len(scenario.cooling) >= 4
    assert scenario.config.representative_days is not None


def test_default_solves_to_its_gap_with_every_target_met(plan: Plan) -> None:
    assert plan.status in ("optimal", "feasible")
    assert plan.result.mip_gap_frac is not None and plan.result.mip_gap_frac <= 0.002 + 1e-9
    totals = plan.totals
    assert np.all(totals["it_mw"] >= totals["target_it_mw"] - 1e-6)
    assert totals["it_mw"].iloc[-1] >= 10_000 - 1e-6
    assert plan.cost_npv_musd["total"] == pytest.approx(plan.result.objective_musd, rel=1e-6)


def test_default_plan_keeps_site_rules(scenario: Scenario, plan: Plan) -> None:
    """Per open campus: liquid cooling, IT within [min, max], nothing before earliest + lead,
    peak draw within headroom + upgrades in service, water within the limit."""
    cfg = scenario.config
    first = cfg.horizon.periods[0]
    lead = cfg.portfolio.construction_lead_periods
    cooling = {c.cooling_id: c for c in scenario.cooling}
    upgrades = {u.upgrade_id: u for u in scenario.upgrades}
    build = plan.build.set_index(["site_id", "period"])
    sites = plan.sites.set_index("site_id")
    for s in scenario.sites:
        row = sites.loc[s.site_id]
        if not row["open"]:
            continue
        assert cooling[row["cooling"]].serves_liquid_racks
        assert s.min_it_mw - 1e-6 <= row["it_mw"] <= s.max_it_mw + 1e-6
        online = {}
        for item in filter(None, str(row["upgrades"]).split(";")):
            uid, when = item.split("@")
            assert Period.parse(when) - first >= upgrades[uid].lead_periods
            online[uid] = Period.parse(when)
        for period in cfg.horizon.periods:
            b = build.loc[(s.site_id, period.label)]
            if b["it_mw"] > 0:
                assert period >= Period.parse(s.earliest_period) + lead
            headroom = s.headroom_mw if period >= Period.parse(s.headroom_period) else 0.0
            headroom += sum(upgrades[u].added_mw for u, p in online.items() if p <= period)
            assert b["peak_facility_mw"] <= headroom + 1e-6
            if s.water_limit_m3_per_year is not None and math.isfinite(s.water_limit_m3_per_year):
                assert b["water_m3"] / period.years <= s.water_limit_m3_per_year + 1e-3


def test_default_plan_passes_the_independent_audit(
    scenario: Scenario, plan: Plan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every rule at every representative hour, and every cost term, recomputed from the
    scenario and the written plan files alone (``optimizer.audit``)."""
    report = audit_plan(scenario, plan.write(tmp_path_factory.mktemp("default") / "plan"))
    assert report.ok, str(report)
    assert report.costs_musd["objective"] == pytest.approx(plan.result.objective_musd, rel=1e-6)


def test_default_model_has_tame_coefficients(plan: Plan) -> None:
    """Model units (MW, million USD, hm3 of water) keep every coefficient, cost and right-hand
    side within [1e-3, 1e5], so HiGHS sees no scaling warnings."""
    n = plan.result.numerics
    for name in ("matrix", "cost", "rhs"):
        assert n[f"{name}_min"] >= 1e-3 and n[f"{name}_max"] <= 1e5, (name, n)
