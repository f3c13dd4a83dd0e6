"""Hand-solved tiny instances: one per constraint family, each with its ablation.

Unless a test says otherwise (see ``tests/tiny.py``): one period 2026H2, no discounting, zero
energy and water prices, building capex 1 M USD/MW, flat PUE 1.25, load factor 1, continuous
capacity, no fixed costs. So the objective is the MW built plus whatever the test adds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny import Tiny, cooling, flat_curve, site


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    return Tiny(tmp_path)


def test_builds_the_target_at_the_cheapest_site(tiny: Tiny) -> None:
    """Sites a (1.0 M USD/MW) and b (0.8 M USD/MW), target 100 MW: b builds 100 MW, cost 80."""
    tiny.sites.append(site("b", building_capex_musd_per_mw=0.8))
    plan = tiny.solve()
    assert plan.status == "optimal"
    assert plan.result.objective_musd == pytest.approx(80.0)
    sites = plan.sites.set_index("site_id")
    assert sites.loc["b", "it_mw"] == pytest.approx(100.0)
    assert not sites.loc["a", "open"]


def test_fixed_development_cost_decides_by_scale(tiny: Tiny) -> None:
    """a: fixed 50, 1.0/MW; b: no fixed cost, 1.2/MW.
    Target 100 MW: a costs 150, b costs 120 -> b (120).
    Target 400 MW: a costs 450, b costs 480 -> a (450)."""
    tiny.sites = [site("a", development_capex_musd=50.0), site("b", building_capex_musd_per_mw=1.2)]
    plan = tiny.solve("small")
    assert plan.result.objective_musd == pytest.approx(120.0)
    assert plan.sites.set_index("site_id").loc["b", "open"]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 400.0}
    plan = tiny.solve("large")
    assert plan.result.objective_musd == pytest.approx(450.0)
    assert plan.sites.set_index("site_id").loc["a", "open"]


def test_upgrade_bought_only_when_headroom_is_short(tiny: Tiny) -> None:
    """Site a: headroom 100 MW, PUE 1.25, upgrade +50 MW for 10 M USD.
    Target 80 MW IT -> draw 100 MW fits: cost 80, no upgrade.
    Target 100 MW IT -> draw 125 MW > 100: upgrade needed, cost 100 + 10 = 110.
    Without within_headroom the upgrade is never bought: 100."""
    tiny.sites = [site("a", headroom_mw=100.0)]
    tiny.upgrades = [
        {
            "upgrade_id": "u1",
            "site_id": "a",
            "name": "line",
            "added_mw": 50.0,
            "capex_musd": 10.0,
            "lead_periods": 0,
        }
    ]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 80.0}
    plan = tiny.solve("fits")
    assert plan.result.objective_musd == pytest.approx(80.0)
    assert plan.sites.loc[0, "upgrades"] == ""
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 100.0}
    plan = tiny.solve("short")
    assert plan.result.objective_musd == pytest.approx(110.0)
    assert plan.sites.loc[0, "upgrades"] == "u1@2026H2"
    assert plan.sites.loc[0, "peak_facility_mw"] == pytest.approx(125.0)
    ablated = tiny.solve_without("interconnection.within_headroom")
    assert ablated.result.objective_musd == pytest.approx(100.0)


def test_upgrade_lead_time_and_headroom_period(tiny: Tiny) -> None:
    """Two periods 2026H2, 2027H1, targets 100 and 200 MW IT, PUE 1.25.
    a (1.0/MW): headroom 125 MW; its upgrade (+125 MW, 5 M USD) has lead time 1 -> 2027H1.
    b (3.0/MW): headroom 1000 MW from 2027H1 only.
    2026H2: a 100 MW (draw 125). 2027H1: a +100 MW needs the upgrade: 100 + 100 + 5 = 205.
    Without lead times the plan is the same (the upgrade is bought when needed): the lead time
    binds only if the target needs it earlier: raise 2026H2 to 200 -> a cannot reach 200 MW in
    2026H2 (no upgrade yet) and b is not available -> infeasible."""
    tiny.periods("2026H2", "2027H1", [100.0, 200.0])
    tiny.sites = [
        site("a", headroom_mw=125.0),
        site("b", building_capex_musd_per_mw=3.0, headroom_period="2027H1"),
    ]
    tiny.upgrades = [
        {
            "upgrade_id": "u1",
            "site_id": "a",
            "name": "line",
            "added_mw": 125.0,
            "capex_musd": 5.0,
            "lead_periods": 1,
        }
    ]
    plan = tiny.solve("ok")
    assert plan.result.objective_musd == pytest.approx(205.0)
    assert plan.sites.set_index("site_id").loc["a", "upgrades"] == "u1@2027H1"
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 200.0, "2027H1": 200.0}
    assert tiny.solve("early").status == "infeasible"
    tiny.upgrades[0]["lead_periods"] = 0
    assert tiny.solve("no_lead").result.objective_musd == pytest.approx(205.0)


def test_construction_lead_time_delays_a_site(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1, targets 100 and 100 MW.
    a (1.0/MW) is permitted in 2026H2: with lead time 1 it energizes from 2027H1.
    b (2.0/MW) was permitted in 2026H1 and can serve 2026H2.
    The 2026H2 target must come from b: cost 200. With lead time 0, a serves it: 100."""
    tiny.periods("2026H2", "2027H1", [100.0, 100.0])
    tiny.sites = [site("a", earliest_period="2026H2"), site("b", building_capex_musd_per_mw=2.0)]
    plan = tiny.solve("lead")
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.sites.set_index("site_id").loc["b", "open_period"] == "2026H2"
    tiny.portfolio["construction_lead_periods"] = 0
    assert tiny.solve("no_lead").result.objective_musd == pytest.approx(100.0)


def test_hot_site_cannot_use_a_technology_past_its_ambient_limit(tiny: Tiny) -> None:
    """Site at 45 C design dry-bulb. dry (0.5/MW capex, limit 40 C) is not allowed; chiller
    (1.0/MW, no limit) must serve: 100 x (1 + 1.0) = 200. Without the limit: 100 x 1.5 = 150."""
    tiny.dry_bulb = {"w1": [30.0, 45.0]}
    tiny.cooling = [
        cooling("dry", capex_musd_per_mw=0.5, max_dry_bulb_c=40.0),
        cooling("chiller", capex_musd_per_mw=1.0),
    ]
    tiny.curves = flat_curve("dry", 1.25) + flat_curve("chiller", 1.25)
    plan = tiny.solve("hot")
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.sites.loc[0, "cooling"] == "chiller"
    tiny.cooling[0]["max_dry_bulb_c"] = None
    plan = tiny.solve("no_limit")
    assert plan.result.objective_musd == pytest.approx(150.0)
    assert plan.sites.loc[0, "cooling"] == "dry"


def test_liquid_platform_excludes_air_cooling(tiny: Tiny) -> None:
    """air (0/MW capex) serves no liquid racks; liquid (0.5/MW). With the liquid platform the
    plan pays 100 x 1.5 = 150; without the requirement air wins at 100."""
    tiny.cooling = [
        cooling("air", serves_liquid_racks=False),
        cooling("liq", capex_musd_per_mw=0.5),
    ]
    tiny.curves = flat_curve("air", 1.25) + flat_curve("liq", 1.25)
    assert tiny.solve("liquid").result.objective_musd == pytest.approx(150.0)
    tiny.portfolio["requires_liquid_cooling"] = False
    assert tiny.solve("any").result.objective_musd == pytest.approx(100.0)


def test_water_limit_forces_dry_cooling(tiny: Tiny) -> None:
    """tower: WUE 1.0 L/kWh, capex 0.5/MW; dry: WUE 0, capex 1.0/MW. 100 MW at load factor 1
    on a tower uses 100 x 8760 x 1.0 = 876,000 m3/yr > 100,000 m3 limit -> dry: 200.
    Without within_water_limit the tower wins: 150."""
    tiny.sites = [site("a", water_limit_m3_per_year=100_000.0)]
    tiny.cooling = [cooling("tower", capex_musd_per_mw=0.5), cooling("dry", capex_musd_per_mw=1.0)]
    tiny.curves = flat_curve("tower", 1.25, 1.0) + flat_curve("dry", 1.25, 0.0)
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.sites.loc[0, "cooling"] == "dry"
    assert plan.build["water_m3"].sum() == pytest.approx(0.0)
    ablated = tiny.solve_without("cooling.within_water_limit")
    assert ablated.result.objective_musd == pytest.approx(150.0)
    assert ablated.build["water_m3"].sum() == pytest.approx(876_000 * 0.5)  # a half-year


def test_zonal_limit_spreads_load_across_zones(tiny: Tiny) -> None:
    """Zone z1 (limit 125 MW draw) holds a (1.0/MW); zone z2 holds b (2.0/MW). PUE 1.25,
    target 150 MW: a takes 100 MW (draw 125), b the other 50: 100 + 100 = 200.
    Without within_zone_limit, a takes all 150: 150."""
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": 125.0},
        {"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None},
    ]
    tiny.price["z2"] = [0.0, 0.0]
    tiny.carbon["z2"] = [0.0, 0.0]
    tiny.sites = [site("a"), site("b", zone_id="z2", building_capex_musd_per_mw=2.0)]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 150.0}
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(200.0)
    it = plan.sites.set_index("site_id")["it_mw"]
    assert it["a"] == pytest.approx(100.0) and it["b"] == pytest.approx(50.0)
    ablated = tiny.solve_without("interconnection.within_zone_limit")
    assert ablated.result.objective_musd == pytest.approx(150.0)


def test_zonal_limit_sees_coincident_draw_of_different_climates(tiny: Tiny) -> None:
    """Zone z1 (limit 250 MW) holds a (weather w1) and b (weather w2), cooling PUE 1.0 at
    20 C rising to 1.5 at 40 C. Hour 0: w1 40 C, w2 20 C; hour 1: w1 20 C, w2 40 C.
    Site peaks are 1.5 each, but the zone's coincident peak with a = b = x is 2.5x, so
    x <= 100 and both build 100 MW (target 200): cost 200. With the sum of site peaks (3.0x)
    only 83.3 MW each would fit, and the target could not be met."""
    tiny.dry_bulb = {"w1": [40.0, 20.0], "w2": [20.0, 40.0]}
    tiny.wet_bulb = {"w1": [20.0, 15.0], "w2": [15.0, 20.0]}
    tiny.zones[0]["import_limit_mw"] = 250.0
    tiny.sites = [site("a", max_it_mw=100.0), site("b", weather_id="w2", max_it_mw=100.0)]
    tiny.curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 20.0, "value": 1.0},
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 40.0, "value": 1.5},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 200.0}
    plan = tiny.solve()
    assert plan.status == "optimal"
    assert plan.result.objective_musd == pytest.approx(200.0)
    tiny.zones[0]["import_limit_mw"] = 249.0
    assert tiny.solve("tighter").status == "infeasible"


def test_accelerator_supply_paces_the_ramp(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1, targets 0 and 200 MW; supply 100 MW per period.
    Cheap site a (1.0/MW) is permitted only from 2026H2 (energizes 2027H1); b (2.0/MW) from
    2026H1. Supply caps 2027H1 at 100 MW new, so 100 MW must come online in 2026H2 at b:
    200 + 100 = 300. Without within_supply, a builds 200 MW in 2027H1: 200."""
    tiny.periods("2026H2", "2027H1", [0.0, 200.0])
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 100.0
    tiny.sites = [site("a", earliest_period="2026H2"), site("b", building_capex_musd_per_mw=2.0)]
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(300.0)
    ablated = tiny.solve_without("phasing.within_supply")
    assert ablated.result.objective_musd == pytest.approx(200.0)


def test_blocks_round_capacity_up_and_site_minimum(tiny: Tiny) -> None:
    """Blocks of 100 MW, target 150 MW: two blocks at a, 200 MW: cost 200.
    Continuous capacity: 150. With min_it_mw 300 at a and blocks: 300."""
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 150.0}
    tiny.portfolio["block_it_mw"] = 100.0
    plan = tiny.solve("blocks")
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.build.loc[0, "new_blocks"] == 2
    tiny.sites = [site("a", min_it_mw=300.0)]
    assert tiny.solve("minimum").result.objective_musd == pytest.approx(300.0)
    ablated = tiny.solve_without("phasing.reaches_site_min")
    assert ablated.result.objective_musd == pytest.approx(200.0)
    del tiny.portfolio["block_it_mw"]
    tiny.sites = [site("a")]
    assert tiny.solve("continuous").result.objective_musd == pytest.approx(150.0)


def test_energy_cost_discounting_and_energy_weight(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1 (half-years), base year 2026.5, discount 10 %/yr, target 100 MW
    from 2026H2, building 1.0/MW, price 50 USD/MWh, PUE 1.25, load factor 0.8.
    Energy per half-year: 100 x 0.8 x 1.25 x 4380 = 438,000 MWh, cost 21.9 M USD.
    NPV = 100 + 21.9 + 21.9 / 1.1**0.5 = 142.780...
    With an energy weight of 10 USD/MWh: + 876,000 x 10 / 1e6 = 8.76 (undiscounted)."""
    tiny.periods("2026H2", "2027H1", [100.0, 100.0])
    tiny.config["horizon"]["discount_rate_frac_per_year"] = 0.10
    tiny.portfolio["it_load_factor_frac"] = 0.8
    tiny.price = {"z1": [50.0, 50.0]}
    tiny.carbon = {"z1": [400.0, 400.0]}
    plan = tiny.solve("base")
    npv = 100 + 21.9 + 21.9 / 1.1**0.5
    assert plan.result.objective_musd == pytest.approx(npv)
    totals = plan.totals
    assert totals["energy_mwh"].tolist() == pytest.approx([438_000.0, 438_000.0])
    assert totals["emissions_tco2"].tolist() == pytest.approx([175_200.0, 175_200.0])
    assert totals["average_pue"].tolist() == pytest.approx([1.25, 1.25])
    assert plan.cost_npv_musd["energy"] == pytest.approx(21.9 + 21.9 / 1.1**0.5)
    tiny.config["objective"] = {"energy_weight_usd_per_mwh": 10.0}
    assert tiny.solve("weighted").result.objective_musd == pytest.approx(npv + 8.76)


def test_energy_weight_trades_capex_for_pue(tiny: Tiny) -> None:
    """efficient: PUE 1.10, capex 0.5/MW; plain: PUE 1.30, capex 0.2/MW. Price 0, 100 MW,
    one half-year at load factor 1: energy 481,800 vs 569,400 MWh.
    No weight: plain (120 vs 150). Weight 1,000 USD/MWh: 150 + 481.8 vs 120 + 569.4 ->
    efficient."""
    tiny.cooling = [
        cooling("efficient", capex_musd_per_mw=0.5),
        cooling("plain", capex_musd_per_mw=0.2),
    ]
    tiny.curves = flat_curve("efficient", 1.10) + flat_curve("plain", 1.30)
    assert tiny.solve("cost").sites.loc[0, "cooling"] == "plain"
    tiny.config["objective"] = {"energy_weight_usd_per_mwh": 1000.0}
    plan = tiny.solve("energy")
    assert plan.sites.loc[0, "cooling"] == "efficient"
    assert plan.result.objective_musd == pytest.approx(150 + 481.8)


def test_warm_start_from_a_previous_plan_reaches_the_same_optimum(tiny: Tiny) -> None:
    """Solve, keep the values in the model, re-solve warm: same optimum (80, site b)."""
    import dataclasses

    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import solve_model
    from tests.tiny import EXACT

    tiny.sites.append(site("b", building_capex_musd_per_mw=0.8))
    model = build_model(prepare(load_scenario(tiny.write())))
    cold = solve_model(model, EXACT)
    warm = solve_model(model, dataclasses.replace(EXACT, warm_start=True))
    assert cold.objective_musd == pytest.approx(80.0)
    assert warm.objective_musd == pytest.approx(80.0)
    assert model.phasing.it_mw["b", "liq", "2026H2"].value == pytest.approx(100.0)


def test_opex_tail_counts_operation_after_the_horizon(tiny: Tiny) -> None:
    """One period 2026H2 (base year 2026.5, discount 10 %/yr), 100 MW, PUE 1.25, load factor 1,
    price 50 USD/MWh: energy costs 100 x 1.25 x 8760 x 50 / 1e6 = 54.75 M USD a year.
    Tail of 1.5 years from 2027.0: weight 0.5 (the period) + 1.1**-0.5 + 0.5 x 1.1**-1.5.
    NPV = 100 + 54.75 x (0.5 + 1.1**-0.5 + 0.5 x 1.1**-1.5)."""
    tiny.config["horizon"].update(discount_rate_frac_per_year=0.10, opex_tail_years=1.5)
    tiny.price = {"z1": [50.0, 50.0]}
    weight = 0.5 + 1.1**-0.5 + 0.5 * 1.1**-1.5
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(100 + 54.75 * weight)
    assert plan.totals["energy_cost_musd"].tolist() == pytest.approx([54.75 * 0.5])


def test_a_campus_opens_with_its_first_block(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1, targets 0 and 100 MW, blocks of 100 MW, discount 10 %/yr.
    a: development 10 M USD. Optimum: open and build in 2027H1: 110 / 1.1**0.5.
    Force the campus open in 2026H2: with open_when_energized its block comes with it
    (10 + 100 = 110); without, the model may open early and build late
    (10 + 100 / 1.1**0.5 = 105.35), development paid before anything is energized."""
    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import solve_model
    from tests.tiny import EXACT

    tiny.periods("2026H2", "2027H1", [0.0, 100.0])
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.config["horizon"]["discount_rate_frac_per_year"] = 0.10
    tiny.sites = [site("a", development_capex_musd=10.0)]
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(110 / 1.1**0.5)
    model = build_model(prepare(load_scenario(tiny.write("early"))))
    model.siting.site_open["a", "2026H2"].fix(1)
    assert solve_model(model, EXACT).objective_musd == pytest.approx(110.0)
    model.phasing.open_when_energized.deactivate()
    assert solve_model(model, EXACT).objective_musd == pytest.approx(10 + 100 / 1.1**0.5)


def test_carbon_price_moves_load_to_the_cleaner_zone(tiny: Tiny) -> None:
    """a in z1 (400 kg/MWh, 1.0 M USD/MW), b in z2 (100 kg/MWh, 1.1 M USD/MW); no energy
    price, 100 MW, one half-year, PUE 1.25, load factor 1: 547,500 MWh.
    No carbon price: a, 100. At 100 USD/t: a pays 547,500 x 0.4 x 100 / 1e6 = 21.9 and b
    5.475, so b wins: 110 + 5.475 = 115.475 (term carbon 5.475)."""
    tiny.zones.append({"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None})
    tiny.price["z2"] = [0.0, 0.0]
    tiny.carbon = {"z1": [400.0, 400.0], "z2": [100.0, 100.0]}
    tiny.sites = [site("a"), site("b", zone_id="z2", building_capex_musd_per_mw=1.1)]
    assert tiny.solve("free").result.objective_musd == pytest.approx(100.0)
    tiny.config["objective"] = {"carbon_price_usd_per_t": 100.0}
    plan = tiny.solve("priced")
    assert plan.result.objective_musd == pytest.approx(115.475)
    assert plan.cost_npv_musd["carbon"] == pytest.approx(5.475)
    assert plan.sites.set_index("site_id").loc["b", "open"]
