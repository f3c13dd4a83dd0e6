"""The auditor catches broken plans: formulations with a constraint family switched off, and
plan files edited by hand. Each amount is worked out in the test's docstring.

Unless a test says otherwise (``tests/tiny.py``): one period 2026H2, no discounting, zero
prices, building capex 1 M USD/MW, flat PUE 1.25, load factor 1, continuous capacity. Every
``tiny.solve()`` is audited already; these tests audit what ``solve()`` would not accept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import load_scenario
from optimizer.audit import AuditReport, PlanFilesError, Violation, audit_plan
from optimizer.cli import app
from tests.test_clean import wind
from tests.test_site_power import flexible, two_campuses
from tests.tiny import Tiny, cooling, flat_curve, onsite_option, site, upgrade


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    return Tiny(tmp_path)


def only(report: AuditReport) -> Violation:
    """The one violation of ``report``."""
    assert len(report.violations) == 1, str(report)
    return report.violations[0]


def rules(report: AuditReport) -> set[str]:
    return {v.rule for v in report.violations}


def edit_plan(folder: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Change ``plan.json`` in ``folder`` by hand."""
    path = folder / "plan.json"
    plan = json.loads(path.read_text())
    edit(plan)
    path.write_text(json.dumps(plan, indent=2))
    return folder


def edit_csv(folder: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    """Change the plan file ``name`` (``onsite.csv``, ...) in ``folder`` by hand."""
    path = folder / name
    edit(pd.read_csv(path)).to_csv(path, index=False)
    return folder


def site_entry(plan: dict[str, Any], site_id: str) -> dict[str, Any]:
    return next(s for s in plan["sites"] if s["site_id"] == site_id)


# --------------------------------------------------------------------------- ablations


def test_headroom_checked_at_every_hour_not_only_the_average(tiny: Tiny) -> None:
    """Site a: headroom 120 MW, no upgrade, target 100 MW. PUE rises linearly from 1.0 at
    20 °C to 1.5 at 40 °C; the hours are 24 °C (PUE 1.1) and 32 °C (PUE 1.3).
    Draw: 110 MW at hour 0 (fits), 130 MW at hour 1: 10 MW over headroom, at hour 1 only.
    Intact, the model is infeasible; without within_headroom it builds 100 MW (cost 100), and
    the audit reports exactly that: within_headroom, a, 2026H2, hour 1, 10 MW."""
    tiny.sites = [site("a", headroom_mw=120.0)]
    tiny.dry_bulb = {"w1": [24.0, 32.0]}
    tiny.curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 20.0, "value": 1.0},
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 40.0, "value": 1.5},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    assert tiny.solve().status == "infeasible"
    plan = tiny.solve_without("interconnection.within_headroom")
    assert plan.result.objective_musd == pytest.approx(100.0)
    v = only(tiny.audit(plan, "ablated"))
    assert (v.rule, v.object, v.period, v.hour) == (
        "interconnection.within_headroom",
        "a",
        "2026H2",
        1,
    )
    assert v.amount == pytest.approx(10.0)
    assert "1 of 2 hours" in v.message


def test_water_limit_ablation_is_caught(tiny: Tiny) -> None:
    """tower (WUE 1.0 L/kWh, capex 0.5/MW) vs dry (WUE 0, capex 1.0/MW), limit 100,000 m3 a
    year. Without within_water_limit the tower wins (150): 100 MW x 1.0 load x 8,760 h x
    1.0 m3/MWh = 876,000 m3 a year, 776,000 over the limit."""
    tiny.sites = [site("a", water_limit_m3_per_year=100_000.0)]
    tiny.cooling = [cooling("tower", capex_musd_per_mw=0.5), cooling("dry", capex_musd_per_mw=1.0)]
    tiny.curves = flat_curve("tower", 1.25, 1.0) + flat_curve("dry", 1.25, 0.0)
    plan = tiny.solve_without("cooling.within_water_limit")
    assert plan.result.objective_musd == pytest.approx(150.0)
    v = only(tiny.audit(plan, "ablated"))
    assert (v.rule, v.object, v.period) == ("cooling.within_water_limit", "a", "2026H2")
    assert v.amount == pytest.approx(776_000.0)


def test_zone_limit_ablation_is_caught_on_coincident_draw(tiny: Tiny) -> None:
    """Zone z1 (limit 249 MW) holds a (weather w1) and b (w2), 100 MW max each, target 200.
    PUE 1.0 at 20 °C to 1.5 at 40 °C; hour 0: w1 40 °C, w2 20 °C; hour 1 the other way.
    Intact: infeasible (2.5 x 100 = 250 > 249). Without within_zone_limit both build 100 MW
    (cost 200): the coincident draw is 150 + 100 = 250 MW at both hours, 1 MW over (not the
    sum of site peaks, 300 MW). Reported once, at the first worst hour (0)."""
    tiny.dry_bulb = {"w1": [40.0, 20.0], "w2": [20.0, 40.0]}
    tiny.wet_bulb = {"w1": [20.0, 15.0], "w2": [15.0, 20.0]}
    tiny.zones[0]["import_limit_mw"] = 249.0
    tiny.sites = [site("a", max_it_mw=100.0), site("b", weather_id="w2", max_it_mw=100.0)]
    tiny.curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 20.0, "value": 1.0},
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 40.0, "value": 1.5},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 200.0}
    assert tiny.solve().status == "infeasible"
    plan = tiny.solve_without("interconnection.within_zone_limit")
    assert plan.result.objective_musd == pytest.approx(200.0)
    v = only(tiny.audit(plan, "ablated"))
    assert (v.rule, v.object, v.period, v.hour) == (
        "interconnection.within_zone_limit",
        "z1",
        "2026H2",
        0,
    )
    assert v.amount == pytest.approx(1.0)
    assert "2 of 2 hours" in v.message


def test_supply_ablation_is_caught(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1, targets 0 and 200 MW, supply 100 MW a period. Cheap a (1.0/MW)
    energizes from 2027H1, b (2.0/MW) from 2026H2. Without within_supply a builds all 200 MW
    in 2027H1 (cost 200): 100 MW over the supply in 2027H1."""
    tiny.periods("2026H2", "2027H1", [0.0, 200.0])
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 100.0
    tiny.sites = [site("a", earliest_period="2026H2"), site("b", building_capex_musd_per_mw=2.0)]
    assert tiny.solve().result.objective_musd == pytest.approx(300.0)
    plan = tiny.solve_without("phasing.within_supply")
    assert plan.result.objective_musd == pytest.approx(200.0)
    v = only(tiny.audit(plan, "ablated"))
    assert (v.rule, v.object, v.period) == ("phasing.within_supply", "portfolio", "2027H1")
    assert v.amount == pytest.approx(100.0)


def test_site_minimum_ablation_is_caught(tiny: Tiny) -> None:
    """Blocks of 100 MW, target 150 MW, min_it_mw 300 at a. Without reaches_site_min two
    blocks suffice (cost 200): 200 MW open, 100 MW short of the minimum."""
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 150.0}
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.sites = [site("a", min_it_mw=300.0)]
    plan = tiny.solve_without("phasing.reaches_site_min")
    assert plan.result.objective_musd == pytest.approx(200.0)
    v = only(tiny.audit(plan, "ablated"))
    assert (v.rule, v.object, v.period) == ("phasing.reaches_site_min", "a", "2026H2")
    assert v.amount == pytest.approx(100.0)


def test_upgrade_lead_time_ablation_is_caught(tiny: Tiny) -> None:
    """Site a: headroom 100 MW; upgrade u1 (+100 MW, 10 M USD) with lead time 1, target
    100 MW IT (draw 125 MW) in the single period 2026H2. The upgrade has no variable before
    its lead time, so the model cannot cheat there; dropping within_headroom instead builds
    without it, and the audit sees the 25 MW over the headroom."""
    tiny.sites = [site("a", headroom_mw=100.0)]
    tiny.upgrades = [upgrade("u1", "a", lead_periods=1)]
    plan = tiny.solve_without("interconnection.within_headroom")
    v = only(tiny.audit(plan, "ablated"))
    assert v.rule == "interconnection.within_headroom"
    assert v.amount == pytest.approx(25.0)


# --------------------------------------------------------------------------- edited plans


def test_tampered_cost_is_caught(tiny: Tiny) -> None:
    """The plan builds 100 MW at a for 100 M USD; plan.json's building cost raised by hand to
    101: one mismatch, building, +1 M USD (total and objective still agree)."""
    tiny.solve()
    folder = edit_plan(
        tiny.folder / "scenario-plan",
        lambda plan: plan["cost_npv_musd"].update(building=plan["cost_npv_musd"]["building"] + 1),
    )
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    v = only(report)
    assert (v.rule, v.object) == ("objective.cost", "building")
    assert v.amount == pytest.approx(1.0)
    assert report.mismatches == [v]
    assert report.costs_musd["building"] == pytest.approx(100.0)


def test_capacity_lowered_below_the_target_is_caught(tiny: Tiny) -> None:
    """a's IT in 2026H2 lowered by hand from 100 to 90 MW (target 100): the ramp is 10 MW
    short; the stated costs (100) no longer match the plan (90: +10 on building, total and
    objective), and build.csv / sites.csv still say 100 MW."""
    tiny.solve()

    def lower(plan: dict[str, Any]) -> None:
        a = site_entry(plan, "a")
        a["it_mw_by_period"]["2026H2"] = 90.0
        a["it_mw_by_cooling"]["liq"]["2026H2"] = 90.0

    folder = edit_plan(tiny.folder / "scenario-plan", lower)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (ramp,) = report.by_rule("phasing.meets_ramp")
    assert (ramp.object, ramp.period, ramp.amount) == ("portfolio", "2026H2", pytest.approx(10.0))
    assert rules(report) == {"phasing.meets_ramp", "objective.cost", "plan.consistent"}
    mismatches = {v.object: v.amount for v in report.mismatches}
    assert mismatches == {
        "building": pytest.approx(10.0),
        "total": pytest.approx(10.0),
        "objective": pytest.approx(10.0),
    }


def test_cooling_swapped_past_its_design_limit_is_caught(tiny: Tiny) -> None:
    """Design dry-bulb 45 °C. dry (0.5/MW, limit 40 °C) is not allowed, so the plan uses
    chiller (1.0/MW): cost 200. Swapped by hand to dry: 5 °C past dry's limit, and the stated
    cooling capex (100) no longer matches (dry: 50), nor does sites.csv."""
    tiny.dry_bulb = {"w1": [30.0, 45.0]}
    tiny.cooling = [
        cooling("dry", capex_musd_per_mw=0.5, max_dry_bulb_c=40.0),
        cooling("chiller", capex_musd_per_mw=1.0),
    ]
    tiny.curves = flat_curve("dry", 1.25) + flat_curve("chiller", 1.25)
    assert tiny.solve().sites.loc[0, "cooling"] == "chiller"

    def swap(plan: dict[str, Any]) -> None:
        a = site_entry(plan, "a")
        a["cooling"] = "dry"
        a["it_mw_by_cooling"] = {"dry": a["it_mw_by_cooling"].pop("chiller")}

    folder = edit_plan(tiny.folder / "scenario-plan", swap)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (limit,) = report.by_rule("cooling.within_design_limit")
    assert (limit.object, limit.amount) == ("a", pytest.approx(5.0))
    assert "dry-bulb" in limit.message
    assert {v.object: v.amount for v in report.mismatches} == {
        "cooling": pytest.approx(50.0),
        "total": pytest.approx(50.0),
        "objective": pytest.approx(50.0),
    }
    assert rules(report) == {"cooling.within_design_limit", "objective.cost", "plan.consistent"}


def test_air_cooling_swapped_into_a_liquid_platform_is_caught(tiny: Tiny) -> None:
    """air (no liquid racks) and liq, both free, PUE 1.25; the platform is liquid-cooled so
    the plan uses liq. Swapped by hand to air: 100 MW of liquid racks on air cooling."""
    tiny.cooling = [cooling("air", serves_liquid_racks=False), cooling("liq")]
    tiny.curves = flat_curve("air", 1.25) + flat_curve("liq", 1.25)
    tiny.solve()

    def swap(plan: dict[str, Any]) -> None:
        a = site_entry(plan, "a")
        a["cooling"] = "air"
        a["it_mw_by_cooling"] = {"air": a["it_mw_by_cooling"].pop("liq")}

    folder = edit_plan(tiny.folder / "scenario-plan", swap)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (liquid,) = report.by_rule("cooling.serves_liquid_racks")
    assert (liquid.object, liquid.amount) == ("a", pytest.approx(100.0))
    assert rules(report) == {"cooling.serves_liquid_racks", "plan.consistent"}


def test_second_cooling_and_early_upgrade_are_caught(tiny: Tiny) -> None:
    """Two periods, target 100 MW in each; upgrade u1 (+100 MW, 10 M USD, lead time 1) is not
    needed and not bought. Edited: u1 listed twice and in service in 2026H2 (one period
    before its lead time allows), and 50 MW of liq2 added at a in 2027H1 beside liq.
    Caught: at most once (1 extra listing), lead time (1 period early), one technology per
    site (50 MW on the second), and the stated costs miss the upgrade (-10 M USD) and the
    50 MW of building (-50 M USD)."""
    tiny.periods("2026H2", "2027H1", [100.0, 100.0])
    tiny.cooling = [cooling("liq"), cooling("liq2")]
    tiny.curves = flat_curve("liq", 1.25) + flat_curve("liq2", 1.25)
    tiny.upgrades = [upgrade("u1", "a", lead_periods=1)]
    tiny.solve()

    def edit(plan: dict[str, Any]) -> None:
        a = site_entry(plan, "a")
        a["upgrades"] = ["u1@2026H2", "u1@2026H2"]
        a["it_mw_by_cooling"]["liq2"] = {"2026H2": 0.0, "2027H1": 50.0}

    folder = edit_plan(tiny.folder / "scenario-plan", edit)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (lead,) = report.by_rule("interconnection.upgrade_after_lead_time")
    assert (lead.object, lead.period, lead.amount) == ("u1", "2026H2", pytest.approx(1.0))
    (twice,) = report.by_rule("interconnection.upgrade_at_most_once")
    assert (twice.object, twice.amount) == ("u1", pytest.approx(1.0))
    (second,) = report.by_rule("cooling.one_per_site")
    assert (second.object, second.amount) == ("a", pytest.approx(50.0))
    mismatches = {v.object: v.amount for v in report.mismatches}
    assert mismatches["upgrades"] == pytest.approx(-10.0)  # plan says 0, recomputed 10
    assert mismatches["building"] == pytest.approx(-50.0)


def test_development_is_costed_when_the_campus_opens(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1 (base year 2026.5, 10 %/yr), targets 0 and 100 MW; a has a
    development capex of 50 M USD and opens with its first block in 2027H1, paying
    50 / 1.1**0.5 = 47.673 M USD. Edited to open (pay) in 2026H2, half a year early, the
    plan costs 50: the stated 47.673 is 2.327 short. Edited to never open, 100 MW
    stand at a campus never opened, and the stated development cost is 47.673 too high."""
    tiny.periods("2026H2", "2027H1", [0.0, 100.0])
    tiny.config["horizon"]["discount_rate_frac_per_year"] = 0.10
    tiny.sites = [site("a", development_capex_musd=50.0)]
    plan = tiny.solve()
    assert plan.cost_npv_musd["development"] == pytest.approx(50 / 1.1**0.5)
    scenario = load_scenario(tiny.folder / "scenario")
    folder = tiny.folder / "scenario-plan"

    edit_plan(folder, lambda plan: site_entry(plan, "a").update(development_period="2026H2"))
    report = audit_plan(scenario, folder)
    assert {v.object: v.amount for v in report.mismatches} == {
        "development": pytest.approx(50 / 1.1**0.5 - 50),
        "total": pytest.approx(50 / 1.1**0.5 - 50),
        "objective": pytest.approx(50 / 1.1**0.5 - 50),
    }
    assert rules(report) == {"objective.cost"}

    edit_plan(folder, lambda plan: site_entry(plan, "a").update(development_period=None))
    report = audit_plan(scenario, folder)
    (unopened,) = report.by_rule("siting.open_when_energized")
    assert (unopened.object, unopened.period, unopened.amount) == (
        "a",
        "2027H1",
        pytest.approx(100.0),
    )
    assert report.by_rule("objective.cost")[0].amount == pytest.approx(50 / 1.1**0.5)


# --------------------------------------------------------------- flexible connections, on-site
#
# ``two_campuses`` (tests/test_site_power.py): a has 100 MW of firm headroom at 1 M USD/MW, b
# is unconstrained at 3 M USD/MW, 100 MW IT at PUE 1.25; hour 0 costs 50 USD/MWh, hour 1 10
# USD/MWh, 2,190 h of each in the half-year period.


def engines_at_a(tiny: Tiny) -> Path:
    """Gas engines at a (0.2 M USD/MW, 30 USD/MWh): 25 MW bridge the 125 MW campus, running
    25 MW at both hours (test_onsite_engines_bridge_the_missing_25_mw). The plan folder."""
    tiny.onsite = [onsite_option("g", "a", capex_musd_per_mw=0.2)]
    plan = tiny.solve()
    assert plan.onsite_dispatch["onsite_output_mw"].tolist() == pytest.approx([25.0, 25.0])
    return tiny.folder / "scenario-plan"


def test_onsite_output_above_capacity_is_caught(tmp_path: Path) -> None:
    """Hour 0 output raised by hand from 25 to 30 MW (capacity 25): 5 MW over at hour 0. The
    extra 5 MW x 2,190 h burns 0.3285 M USD more fuel (30 USD/MWh) and saves 0.5475 of grid
    energy (50 USD/MWh): the stated fuel is 0.3285 short, energy 0.5475 and the total
    0.219 too high; build.csv and onsite.csv no longer add up."""
    tiny = two_campuses(tmp_path)
    folder = engines_at_a(tiny)

    def raise_hour_0(rows: pd.DataFrame) -> pd.DataFrame:
        rows.loc[rows["hour"] == 0, "onsite_output_mw"] = 30.0
        return rows

    edit_csv(folder, "onsite_dispatch.csv", raise_hour_0)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (over,) = report.by_rule("onsite.within_capacity")
    assert (over.object, over.period, over.hour) == ("g", "2026H2", 0)
    assert over.amount == pytest.approx(5.0)
    assert "1 of 2 hours" in over.message
    assert {v.object: v.amount for v in report.mismatches} == {
        "onsite_fuel": pytest.approx(-0.3285),
        "energy": pytest.approx(0.5475),
        "total": pytest.approx(0.219),
        "objective": pytest.approx(0.219),
    }
    assert rules(report) == {"onsite.within_capacity", "objective.cost", "plan.consistent"}


def test_onsite_capacity_edits_are_caught(tmp_path: Path) -> None:
    """Capacity raised by hand from 25 to 30 MW: 5 MW more capex at 0.2 M USD/MW, so the
    stated onsite_capacity (5) is 1 M USD short; build.csv's onsite_mw and onsite.csv's MW
    added still say 25. Then capacity and hour-1 output raised to 130 MW: 5 MW more than
    the campus's 125 MW load, exported past the meter."""
    tiny = two_campuses(tmp_path)
    folder = engines_at_a(tiny)
    scenario = load_scenario(tiny.folder / "scenario")

    edit_csv(folder, "onsite.csv", lambda rows: rows.assign(onsite_capacity_mw=30.0))
    report = audit_plan(scenario, folder)
    assert {v.object: v.amount for v in report.mismatches} == {
        "onsite_capacity": pytest.approx(-1.0),
        "total": pytest.approx(-1.0),
        "objective": pytest.approx(-1.0),
    }
    assert rules(report) == {"objective.cost", "plan.consistent"}

    def raise_hour_1(rows: pd.DataFrame) -> pd.DataFrame:
        rows.loc[rows["hour"] == 1, "onsite_output_mw"] = 130.0
        return rows

    edit_csv(folder, "onsite.csv", lambda rows: rows.assign(onsite_capacity_mw=130.0))
    edit_csv(folder, "onsite_dispatch.csv", raise_hour_1)
    report = audit_plan(scenario, folder)
    (export,) = report.by_rule("onsite.behind_the_meter")
    assert (export.object, export.period, export.hour) == ("a", "2026H2", 1)
    assert export.amount == pytest.approx(5.0)
    assert rules(report) == {"onsite.behind_the_meter", "objective.cost", "plan.consistent"}


def test_onsite_capacity_before_its_delivery_is_caught(tmp_path: Path) -> None:
    """Engines delivered from 2027H1 (lead_periods 1) at a, which has no grid: b carries
    2026H2, a 100 MW IT on 125 MW of engines in 2027H1 (test_onsite_capacity_waits_for_its_
    delivery). A 10 MW row for 2026H2 added by hand to onsite.csv is 10 MW in service a
    period early; free engines cost nothing, but the 2027H1 row's 125 MW added and
    build.csv's onsite_mw of a in 2026H2 no longer agree with it."""
    tiny = two_campuses(tmp_path).periods("2026H2", "2027H1", [100.0, 200.0])
    tiny.sites[0]["headroom_mw"] = 0.0
    tiny.onsite = [onsite_option("g", "a", lead_periods=1)]
    tiny.solve()
    folder = tiny.folder / "scenario-plan"
    early = {
        "option_id": "g",
        "site_id": "a",
        "technology": "reciprocating engines",
        "period": "2026H2",
        "onsite_capacity_mw": 10.0,
        "onsite_added_mw": 10.0,
        "onsite_energy_mwh": 0.0,
        "emissions_tco2": 0.0,
        "share_of_site_energy": 0.0,
    }
    edit_csv(folder, "onsite.csv", lambda rows: pd.concat([pd.DataFrame([early]), rows]))
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (v,) = report.by_rule("onsite.within_capacity")
    assert (v.object, v.period, v.amount) == ("g", "2026H2", pytest.approx(10.0))
    assert "before 2027H1" in v.message
    assert rules(report) == {"onsite.within_capacity", "plan.consistent"}


def test_missing_or_misplaced_curtailment_is_caught(tmp_path: Path) -> None:
    """Flexible tier at a (test_flexible_tier_takes_all_load_at_a_and_curtails_in_the_
    stressed_hour): 100 MW IT draw 125 MW; in the stressed hour 0 (876 h a year) a sheds 20
    MW IT to draw its 100 MW of firm headroom, at 100 USD/MWh: 0.876 M USD. The curtailment
    row deleted by hand: 25 MW over firm supply in hour 0, and the stated curtailment cost is
    0.876 too high. Moved to hour 1 instead: also shed outside the stressed hours (20 MW),
    and curtailment.csv's weight and price are hour 0's."""
    tiny = two_campuses(tmp_path)
    tiny.flexible = [flexible(100.0)]
    tiny.solve()
    scenario, folder = load_scenario(tiny.folder / "scenario"), tiny.folder / "scenario-plan"
    row = pd.read_csv(folder / "curtailment.csv")
    assert row[["hour", "curtailed_it_mw"]].to_numpy().tolist() == [[0, 20.0]]

    edit_csv(folder, "curtailment.csv", lambda rows: rows.iloc[0:0])
    report = audit_plan(scenario, folder)
    (over,) = report.by_rule("interconnection.curtailed_to_firm")
    assert (over.object, over.period, over.hour) == ("a", "2026H2", 0)
    assert over.amount == pytest.approx(25.0)
    assert {v.object: v.amount for v in report.mismatches} == {
        "curtailment": pytest.approx(0.876),
        "total": pytest.approx(0.876),
        "objective": pytest.approx(0.876),
    }
    assert rules(report) == {
        "interconnection.curtailed_to_firm",
        "objective.cost",
        "plan.consistent",  # build.csv: curtailed_it_mwh 8,760
    }

    edit_csv(folder, "curtailment.csv", lambda _: row.assign(hour=1))
    report = audit_plan(scenario, folder)
    (outside,) = report.by_rule("interconnection.sheds_installed")
    assert (outside.object, outside.hour, outside.amount) == ("a/liq", 1, pytest.approx(20.0))
    assert [v.hour for v in report.by_rule("interconnection.curtailed_to_firm")] == [0]
    stated = {v.message.split()[1] for v in report.by_rule("plan.consistent")}
    assert {"stressed_weight_h", "price_usd_per_mwh"} <= stated


def test_malformed_site_power_files_are_a_clear_error(tmp_path: Path) -> None:
    tiny = two_campuses(tmp_path)
    folder = engines_at_a(tiny)
    scenario = load_scenario(tiny.folder / "scenario")
    edit_csv(folder, "onsite.csv", lambda rows: pd.concat([rows, rows]))
    with pytest.raises(PlanFilesError, match=r"onsite\.csv: rows listed twice"):
        audit_plan(scenario, folder)
    edit_csv(folder, "onsite.csv", lambda rows: rows.iloc[:1])
    edit_csv(folder, "onsite_dispatch.csv", lambda rows: rows.assign(onsite_output_mw="lots"))
    with pytest.raises(PlanFilesError, match="malformed plan files"):
        audit_plan(scenario, folder)
    edit_csv(folder, "onsite_dispatch.csv", lambda rows: rows.assign(onsite_output_mw=None))
    with pytest.raises(PlanFilesError, match="not a finite number"):  # a blank cell
        audit_plan(scenario, folder)


# --------------------------------------------------------------- clean-energy contracts
#
# ``wind`` (tests/test_clean.py): one campus of 125 MW load every hour, two hours of 2,190 h
# each in the half-year period at 50 and 10 USD/MWh; a wind contract with capacity factors 0.5
# and 0.1 (2,628 MWh a year per MW) at a strike of 60 USD/MWh costs 0.0219 M USD per MW for
# the half year. At a 50 % target (547,500 MWh a year) 547,500 / 2,628 = 208.33 MW are
# contracted, matching 104.17 MW at hour 0 and 20.83 MW at hour 1.

HALF_MATCHED_MW = 547_500 / 2628


def half_matched(tmp_path: Path) -> tuple[Tiny, Path]:
    """The 50 % wind plan (test_half_matched_takes_the_smallest_contract_that_covers_it),
    audited clean by solve(); the scenario and the plan folder."""
    tiny = wind(tmp_path, 0.5)
    tiny.solve()
    folder = tiny.folder / "scenario-plan"
    matched = pd.read_csv(folder / "matched.csv")
    assert matched["matched_mw"].tolist() == pytest.approx(
        [0.5 * HALF_MATCHED_MW, 0.1 * HALF_MATCHED_MW]
    )
    return tiny, folder


def test_matched_hour_above_the_contracts_output_is_caught(tmp_path: Path) -> None:
    """Hour 1's matched load raised by hand from 20.83 to 30 MW: 9.17 MW more than the
    contract's output (0.1 x 208.33). No carbon price, so no cost changes; plan.json's matched
    MWh, CFE share and net emissions no longer add up. Then the contract raised to 1,000 MW
    (output 500 MW at hour 0) and hour 0 matched at 140 MW: 15 MW more than the campus's 125
    MW of load, and the contract's cost is no longer the stated one."""
    tiny, folder = half_matched(tmp_path)
    scenario = load_scenario(tiny.folder / "scenario")

    def raise_hour(hour: int, mw: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
        def edit(rows: pd.DataFrame) -> pd.DataFrame:
            rows.loc[rows["hour"] == hour, "matched_mw"] = mw
            return rows

        return edit

    edit_csv(folder, "matched.csv", raise_hour(1, 30.0))
    report = audit_plan(scenario, folder)
    (over,) = report.by_rule("clean.within_contracts")
    assert (over.object, over.period, over.hour) == ("z1", "2026H2", 1)
    assert over.amount == pytest.approx(30.0 - 0.1 * HALF_MATCHED_MW)
    assert "1 of 2 hours" in over.message
    assert rules(report) == {"clean.within_contracts", "plan.consistent"}
    stated = {v.message.split()[1] for v in report.by_rule("plan.consistent")}
    assert stated == {"matched_mwh", "cfe_share", "emissions_tco2"}

    edit_csv(folder, "contracts.csv", lambda rows: rows.assign(contracted_mw=1000.0))
    edit_csv(folder, "matched.csv", raise_hour(0, 140.0))
    report = audit_plan(scenario, folder)
    (over,) = report.by_rule("clean.within_load")
    assert (over.object, over.period, over.hour, over.amount) == (
        "z1",
        "2026H2",
        0,
        pytest.approx(15.0),
    )
    assert rules(report) == {"clean.within_load", "objective.cost", "plan.consistent"}


def test_contract_lowered_below_the_target_is_caught(tmp_path: Path) -> None:
    """The contract lowered by hand to 150 MW, its output (150 x 2,628 x 0.5 = 197,100 MWh)
    and the matched load (75 and 15 MW) with it: 4,380 x 90 = 394,200 MWh a year matched,
    153,300 short of half the 1,095,000 MWh of grid energy. The contract's cost is 58.33 MW x
    0.0219 = 1.2775 M USD lower than stated."""
    tiny, folder = half_matched(tmp_path)
    edit_csv(
        folder,
        "contracts.csv",
        lambda rows: rows.assign(contracted_mw=150.0, contract_output_mwh=197_100.0),
    )
    edit_csv(folder, "matched.csv", lambda rows: rows.assign(matched_mw=[75.0, 15.0]))
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    (short,) = report.by_rule("clean.meets_target")
    assert (short.object, short.period, short.unit) == ("portfolio", "2026H2", "MWh/year")
    assert short.amount == pytest.approx(153_300.0)
    assert {v.object: v.amount for v in report.mismatches} == {
        "clean_contracts": pytest.approx(1.2775),
        "total": pytest.approx(1.2775),
        "objective": pytest.approx(1.2775),
    }
    assert rules(report) == {"clean.meets_target", "objective.cost", "plan.consistent"}


def test_contracted_mw_that_no_longer_recomputes_the_cost_is_caught(tmp_path: Path) -> None:
    """The contract raised by hand to 300 MW with its output (300 x 1,314 = 394,200 MWh): every
    rule still holds, but it costs 300 x 0.0219 = 6.57 M USD, 2.0075 more than stated."""
    tiny, folder = half_matched(tmp_path)
    edit_csv(
        folder,
        "contracts.csv",
        lambda rows: rows.assign(contracted_mw=300.0, contract_output_mwh=394_200.0),
    )
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    assert {v.object: v.amount for v in report.mismatches} == {
        "clean_contracts": pytest.approx(-2.0075),
        "total": pytest.approx(-2.0075),
        "objective": pytest.approx(-2.0075),
    }
    assert rules(report) == {"objective.cost"}


def test_contract_before_its_delivery_or_falling_is_caught(tmp_path: Path) -> None:
    """Two half-year periods, no target, a strike of 30 USD/MWh (a gain of 0.01752 M USD per
    MW a half year) delivered from 2027H1: 1,000 MW signed in 2027H1 only. By hand 1,000 MW in
    2026H2 and 800 in 2027H1 (outputs to match), nothing matched: signed a period early and
    falling by 200 MW. The contract gains 17.52 + 14.016 = 31.536 M USD, 14.016 more than
    stated. Then a contract and a zone the scenario does not have."""
    tiny = wind(tmp_path, 0.0).periods("2026H2", "2027H1", [100.0, 100.0])
    tiny.contracts[0].update(price_usd_per_mwh=30.0, lead_periods=1)
    plan = tiny.solve()
    assert plan.contracts[["period", "contracted_mw"]].to_numpy().tolist() == [
        ["2027H1", pytest.approx(1000.0)]
    ]
    scenario, folder = load_scenario(tiny.folder / "scenario"), tiny.folder / "scenario-plan"
    signed = pd.read_csv(folder / "contracts.csv")
    early = signed.assign(period="2026H2", contracted_mw=1000.0, contract_output_mwh=1_314_000.0)
    late = signed.assign(contracted_mw=800.0, contract_output_mwh=1_051_200.0)
    edit_csv(folder, "contracts.csv", lambda _: pd.concat([early, late]))
    edit_csv(folder, "matched.csv", lambda rows: rows.iloc[0:0])
    report = audit_plan(scenario, folder)
    (before,) = report.by_rule("clean.within_contracts")
    assert (before.object, before.period, before.amount) == ("wind", "2026H2", 1000.0)
    assert "before 2027H1" in before.message
    (fall,) = report.by_rule("clean.stays_contracted")
    assert (fall.object, fall.period, fall.amount) == ("wind", "2027H1", pytest.approx(200.0))
    assert report.mismatches[0].object == "clean_contracts"
    assert report.mismatches[0].amount == pytest.approx(14.016)
    # plan.json's matched energy, if the solver matched any (free without a carbon price)
    assert rules(report) - {"plan.consistent"} == {
        "clean.within_contracts",
        "clean.stays_contracted",
        "objective.cost",
    }

    edit_csv(folder, "contracts.csv", lambda rows: rows.assign(contract_id="solar"))
    stray = {"zone_id": "z9", "period": "2027H1", "hour": 0, "matched_mw": 1.0}
    edit_csv(folder, "matched.csv", lambda _: pd.DataFrame([stray]))
    report = audit_plan(scenario, folder)
    off = {v.message for v in report.by_rule("plan.matches_scenario")}
    assert off == {
        "row solar 2026H2: not in the scenario",
        "row solar 2027H1: not in the scenario",
        "row z9 2027H1 0: not in the scenario",
    }


def test_malformed_contract_files_are_a_clear_error(tmp_path: Path) -> None:
    tiny, folder = half_matched(tmp_path)
    scenario = load_scenario(tiny.folder / "scenario")
    edit_csv(folder, "matched.csv", lambda rows: pd.concat([rows, rows]))
    with pytest.raises(PlanFilesError, match=r"matched\.csv: rows listed twice"):
        audit_plan(scenario, folder)
    edit_csv(folder, "matched.csv", lambda rows: rows.iloc[:2])
    edit_csv(folder, "contracts.csv", lambda rows: rows.assign(contracted_mw="lots"))
    with pytest.raises(PlanFilesError, match="malformed plan files"):
        audit_plan(scenario, folder)
    edit_csv(folder, "contracts.csv", lambda rows: rows.drop(columns="contracted_mw"))
    with pytest.raises(PlanFilesError, match="malformed plan files"):
        audit_plan(scenario, folder)


# --------------------------------------------------------------------------- clean plans


def test_clean_plan_with_every_cost_term_passes_and_costs_recompute(tiny: Tiny) -> None:
    """Three periods (targets 100, 200, 300 MW, blocks of 50, supply 200 a period), 8 %/yr,
    a 2.5-year opex tail, load factor 0.8, an energy weight of 5 USD/MWh, hourly prices and
    temperatures, two cooling technologies with ambient-driven PUE and WUE, a zone limit,
    a water limit and price, development capex, a site minimum and an upgrade with a lead
    time: every cost term is non-zero or exercised, and the audit (run by solve()) recomputes
    each term and the objective to 1e-6."""
    tiny.periods("2026H2", "2027H2", [100.0, 200.0, 300.0])
    tiny.config["horizon"].update(discount_rate_frac_per_year=0.08, opex_tail_years=2.5)
    tiny.config["objective"] = {"energy_weight_usd_per_mwh": 5.0}
    tiny.portfolio.update(
        block_it_mw=50.0, accelerator_supply_it_mw_per_period=200.0, it_load_factor_frac=0.8
    )
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": 250.0},
        {"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None},
    ]
    tiny.price = {"z1": [40.0, 80.0], "z2": [60.0, 30.0]}
    tiny.carbon = {"z1": [400.0, 300.0], "z2": [200.0, 500.0]}
    tiny.dry_bulb = {"w1": [20.0, 35.0], "w2": [10.0, 30.0]}
    tiny.wet_bulb = {"w1": [15.0, 24.0], "w2": [8.0, 20.0]}
    tiny.cooling = [
        cooling("liq_dry", capex_musd_per_mw=0.3),
        cooling("liq_tower", capex_musd_per_mw=0.2, pue_ambient="wet_bulb", max_wet_bulb_c=23.0),
    ]
    tiny.curves = [
        {"cooling_id": "liq_dry", "quantity": "pue", "ambient_c": 20.0, "value": 1.05},
        {"cooling_id": "liq_dry", "quantity": "pue", "ambient_c": 40.0, "value": 1.25},
        {"cooling_id": "liq_dry", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
        {"cooling_id": "liq_tower", "quantity": "pue", "ambient_c": 10.0, "value": 1.05},
        {"cooling_id": "liq_tower", "quantity": "pue", "ambient_c": 25.0, "value": 1.15},
        {"cooling_id": "liq_tower", "quantity": "wue_l_per_kwh", "ambient_c": 10.0, "value": 0.5},
        {"cooling_id": "liq_tower", "quantity": "wue_l_per_kwh", "ambient_c": 25.0, "value": 2.0},
    ]
    tiny.sites = [
        site(
            "a",
            development_capex_musd=20.0,
            headroom_mw=150.0,
            water_limit_m3_per_year=200_000.0,
            water_price_usd_per_m3=2.0,
        ),
        site(
            "b",
            zone_id="z2",
            weather_id="w2",
            development_capex_musd=30.0,
            building_capex_musd_per_mw=1.1,
            min_it_mw=100.0,
            earliest_period="2026H2",
            headroom_mw=400.0,
            water_price_usd_per_m3=1.0,
        ),
    ]
    tiny.upgrades = [upgrade("u_a", "a", added_mw=200.0, capex_musd=15.0, lead_periods=1)]
    plan = tiny.solve()
    assert plan.status == "optimal"
    report = tiny.audit(plan)
    assert report.ok and str(report).startswith("audit passed: ")
    for term, value in plan.cost_npv_musd.items():
        assert report.costs_musd[term] == pytest.approx(value, rel=1e-6, abs=1e-6), term
    assert report.costs_musd["objective"] == pytest.approx(plan.result.objective_musd, rel=1e-6)
    assert report.costs_musd["energy"] > 0 and report.costs_musd["development"] > 0
    assert report.costs_musd["objective"] > report.costs_musd["total"]  # the energy weight


def test_clean_plan_with_flexible_connection_and_onsite_power_recomputes(tiny: Tiny) -> None:
    """Three periods (100, 150, 200 MW), 8 %/yr, a 2-year tail, load factor 0.8, a carbon
    price of 40 USD/t and an energy weight, PUE 1.1 to 1.3 with the hour's temperature, a
    costly hour 0 (90 USD/MWh, 450 kg/MWh) and a cheap hour 1. a has a 40 MW non-firm tier
    (5 % budget, 300 USD/MWh of lost compute); b engines from 2027H1 with capex, fixed cost
    and a permit that binds; c is dear. Every site-power term is non-zero, and the audit
    (run by solve()) recomputes each term, the netted energy cost and emissions, and the new
    build.csv columns."""
    tiny.periods("2026H2", "2027H2", [100.0, 150.0, 200.0])
    tiny.config["horizon"].update(discount_rate_frac_per_year=0.08, opex_tail_years=2.0)
    tiny.config["objective"] = {"energy_weight_usd_per_mwh": 2.0, "carbon_price_usd_per_t": 40.0}
    tiny.portfolio["it_load_factor_frac"] = 0.8
    tiny.price = {"z1": [90.0, 30.0]}
    tiny.carbon = {"z1": [450.0, 250.0]}
    tiny.dry_bulb = {"w1": [35.0, 15.0]}
    tiny.curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 10.0, "value": 1.1},
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 40.0, "value": 1.3},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    tiny.sites = [
        site("a", headroom_mw=100.0),
        site("b", headroom_mw=60.0, building_capex_musd_per_mw=1.2),
        site("c", building_capex_musd_per_mw=3.0),
    ]
    tiny.flexible = [{**flexible(300.0), "nonfirm_mw": 40.0, "curtailment_budget_frac": 0.05}]
    tiny.onsite = [
        onsite_option(
            "g",
            "b",
            capex_musd_per_mw=0.3,
            fixed_cost_musd_per_mw_year=0.02,
            lead_periods=1,
            permit_tco2_per_year=150_000.0,
        )
    ]
    plan = tiny.solve()
    report = tiny.audit(plan)
    assert report.ok, str(report)
    for term, value in plan.cost_npv_musd.items():
        assert report.costs_musd[term] == pytest.approx(value, rel=1e-6, abs=1e-6), term
    for term in ("curtailment", "onsite_capacity", "onsite_fuel", "carbon"):
        assert report.costs_musd[term] > 0, term
    assert plan.curtailment["curtailed_it_mw"].sum() > 0
    assert plan.onsite["emissions_tco2"].max() == pytest.approx(75_000.0)  # half a year
    for rule in (
        "interconnection.curtailed_to_firm",
        "interconnection.sheds_installed",
        "interconnection.grid_delivers",
        "onsite.within_capacity",
        "onsite.behind_the_meter",
        "onsite.within_permit",
    ):
        assert report.checks[rule] > 0, rule


def test_clean_plan_with_contracts_and_a_cfe_target_recomputes(tmp_path: Path) -> None:
    """``wind`` at a 60 % target over three periods (100, 150, 200 MW), 8 %/yr, a 2-year
    tail, load factor 0.8, a carbon price of 40 USD/t. a (z1, 100 MW of headroom) gets gas
    engines from 2027H1; b is in z2, where a solar contract (0.8 and 0 of a MW, strike 40
    USD/MWh) delivers from 2027H1. The audit (run by solve()) recomputes the contracts' cost,
    the carbon net of the matched energy's, the matched MWh, CFE share and net emissions of
    every period and contracts.csv's output. Matching is free and clears carbon, so in 2027H1
    at hour 0 the wind (more than a's load) matches all of a's average load less the engines'
    output (0.8 x 1.25 x IT - engines: 100 MW at 130 MW IT and 30 MW of engines)."""
    tiny = wind(tmp_path, 0.6).periods("2026H2", "2027H2", [100.0, 150.0, 200.0])
    tiny.config["horizon"].update(discount_rate_frac_per_year=0.08, opex_tail_years=2.0)
    tiny.config["objective"] = {"carbon_price_usd_per_t": 40.0}
    tiny.portfolio["it_load_factor_frac"] = 0.8
    tiny.zones.append({"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None})
    tiny.price = {"z1": [50.0, 10.0], "z2": [30.0, 70.0]}
    tiny.carbon = {"z1": [400.0, 300.0], "z2": [600.0, 200.0]}
    tiny.sites = [
        site("a", headroom_mw=100.0),
        site("b", zone_id="z2", building_capex_musd_per_mw=1.2),
    ]
    tiny.onsite = [onsite_option("g", "a", capex_musd_per_mw=0.3, lead_periods=1)]
    tiny.contracts.append(
        {
            "contract_id": "sun",
            "zone_id": "z2",
            "technology": "solar",
            "max_mw": 300.0,
            "price_usd_per_mwh": 40.0,
            "lead_periods": 1,
        }
    )
    tiny.capacity_factor["sun"] = [0.8, 0.0]
    plan = tiny.solve()
    report = tiny.audit(plan)
    assert report.ok, str(report)
    for term, value in plan.cost_npv_musd.items():
        assert report.costs_musd[term] == pytest.approx(value, rel=1e-6, abs=1e-6), term
    for term in ("clean_contracts", "carbon", "onsite_fuel"):
        assert report.costs_musd[term] > 0, term
    signed = plan.contracts
    assert set(signed["contract_id"]) == {"wind", "sun"}
    assert "2026H2" not in set(signed.loc[signed["contract_id"] == "sun", "period"])
    totals = plan.totals
    assert (totals["cfe_share"] >= 0.6 - 1e-9).all()
    matched = plan.matched.set_index(["zone_id", "period", "hour"])["matched_mw"]
    it_a = plan.build.set_index(["site_id", "period"])["it_mw"]["a", "2027H1"]
    engines = plan.onsite_dispatch.set_index(["period", "hour"])["onsite_output_mw"]
    assert matched["z1", "2027H1", 0] == pytest.approx(0.8 * 1.25 * it_a - engines["2027H1", 0])
    for rule in (
        "clean.within_contracts",
        "clean.stays_contracted",
        "clean.within_load",
        "clean.meets_target",
    ):
        assert report.checks[rule] > 0, rule


def test_plan_folder_without_files_is_a_clear_error(tmp_path: Path, tiny: Tiny) -> None:
    scenario = load_scenario(tiny.write())
    with pytest.raises(PlanFilesError, match=r"no plan\.json"):
        audit_plan(scenario, tmp_path / "nowhere")
    tiny.solve()
    folder = edit_plan(
        tiny.folder / "scenario-plan",
        lambda plan: site_entry(plan, "a")["it_mw_by_cooling"]["liq"].update({"2026H2": "many"}),
    )
    with pytest.raises(PlanFilesError, match="malformed plan files"):
        audit_plan(scenario, folder)
    (folder / "build.csv").unlink()
    with pytest.raises(PlanFilesError, match=r"build\.csv: missing"):
        audit_plan(scenario, folder)


# --------------------------------------------------------------------------- command line

runner = CliRunner()


def test_cli_audit_exit_codes(tiny: Tiny) -> None:
    """0 clean, 5 on a violation (every one printed), 2 without plan files or with an invalid
    scenario, 0 with nothing to audit (an infeasible plan)."""
    tiny.solve()
    scenario, folder = tiny.folder / "scenario", tiny.folder / "scenario-plan"
    result = runner.invoke(app, ["audit", str(scenario), str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit passed: ")

    edit_plan(folder, lambda plan: plan.update(objective_musd=plan["objective_musd"] + 3))
    result = runner.invoke(app, ["audit", str(scenario), str(folder)])
    assert result.exit_code == 5
    assert "objective.cost: objective: 3 M USD: plan.json says 103" in result.output
    assert "audit failed: 1 violation(s)" in result.output

    result = runner.invoke(app, ["audit", str(scenario), str(tiny.folder / "empty")])
    assert result.exit_code == 2
    assert "no plan.json here" in result.output and "Traceback" not in result.output

    tiny.sites = [site("a", max_it_mw=-5)]
    result = runner.invoke(app, ["audit", str(tiny.write("bad")), str(folder)])
    assert result.exit_code == 2
    assert "sites.csv:2: max_it_mw:" in result.output

    tiny.sites = [site("a", headroom_mw=100.0)]
    infeasible = tiny.solve("infeasible")
    assert infeasible.status == "infeasible"
    assert not tiny.audit(infeasible, "infeasible").audited
    result = runner.invoke(
        app, ["audit", str(tiny.folder / "infeasible"), str(tiny.folder / "infeasible-plan")]
    )
    assert result.exit_code == 0
    assert "nothing to audit" in result.output
