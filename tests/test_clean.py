"""Clean-energy contracts and the hourly-matched (24/7) CFE target: hand-solved instances.

``Tiny``: one campus of 100 MW IT at PUE 1.25 and load factor 1 (125 MW every hour), half a
year, two hours of 4,380 h at 50 and 10 USD/MWh and 400 kg CO2/MWh. A wind contract in the
campus's zone has capacity factors 0.5 and 0.1 and a strike price of 60 USD/MWh, so a MW
contracted costs 4,380 x (0.5 x (60 - 50) + 0.1 x (60 - 10)) = 43,800 USD a year, 0.0219 M
USD for the half year. Grid energy is 125 x 8,760 = 1,095,000 MWh a year.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from optimizer.plan import Plan
from tests.scripts import load_script
from tests.tiny import Tiny

BASE_MUSD = 100.0 + 125 * (50 + 10) * 2190 / 1e6  # building + energy = 116.425
PER_MW_MUSD = 0.0219


def wind(tmp_path: Path, target: float) -> Tiny:
    tiny = Tiny(tmp_path)
    tiny.price = {"z1": [50.0, 10.0]}
    tiny.carbon = {"z1": [400.0, 400.0]}
    tiny.contracts = [
        {
            "contract_id": "wind",
            "zone_id": "z1",
            "technology": "onshore wind",
            "max_mw": 1000.0,
            "price_usd_per_mwh": 60.0,
            "lead_periods": 0,
        }
    ]
    tiny.capacity_factor = {"wind": [0.5, 0.1]}
    tiny.config["clean_energy"] = {"cfe_target_frac": target}
    return tiny


def contracted(plan) -> float:  # type: ignore[no-untyped-def]
    return float(plan.dataset["contracted_mw"].sel(contract="wind").isel(period=-1))


def test_half_matched_takes_the_smallest_contract_that_covers_it(tmp_path: Path) -> None:
    """50 %: 547,500 MWh a year; below 250 MW no hour is capped, so 2,628 MWh per MW and
    208.33 MW. Cost 116.425 + 208.33 x 0.0219 = 120.9875. Emissions: 219,000 t for the half
    year, less the 109,500 t matched."""
    plan = wind(tmp_path, 0.5).solve()
    assert contracted(plan) == pytest.approx(547_500 / 2628)
    assert plan.cost_npv_musd["clean_contracts"] == pytest.approx(547_500 / 2628 * PER_MW_MUSD)
    assert plan.cost_npv_musd["total"] == pytest.approx(BASE_MUSD + 4.5625)
    totals = plan.totals.iloc[0]
    assert totals["cfe_share"] == pytest.approx(0.5)
    assert totals["emissions_tco2"] == pytest.approx(109_500.0)
    assert plan.contracts["contracted_mw"].tolist() == pytest.approx([547_500 / 2628])


def test_dropping_the_target_signs_nothing(tmp_path: Path) -> None:
    plan = wind(tmp_path, 0.5).solve_without("clean.meets_target")
    assert contracted(plan) == pytest.approx(0.0)
    assert plan.cost_npv_musd["total"] == pytest.approx(BASE_MUSD)


def seeds_only(tiny: Tiny) -> tuple[Plan, int]:
    """The plan without separation: the model's first cuts alone (matched at most the
    year's load and at most the year's contract output), and how many cuts it holds."""
    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.extract import extract_plan
    from optimizer.prepare import prepare
    from optimizer.solver import solve_model
    from tests.tiny import EXACT

    data = prepare(load_scenario(tiny.write("seeds")))
    model = build_model(data)
    model.separators = []
    plan = extract_plan(model, data, solve_model(model, EXACT), 0.0)
    return plan, len(model.clean.within_hours)


def test_matching_stops_at_the_campus_load(tmp_path: Path) -> None:
    """70 %: 766,500 MWh. In hour 0 only 125 MW can be matched however much wind is
    contracted, so hour 1 must give 0.1 C = 175 - 125 = 50: C = 500 MW (10.95 M USD).
    The first cuts allow 2,628 C MWh (the output of both hours): 291.67 MW, where hour 0
    matches 145.8 MW > 125; separation adds the cut of S = {hour 1}: matched <= 4,380 x (125
    + 0.1 C), and C = 500 MW. Without separation 291.67 MW would do."""
    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel
    from tests.tiny import EXACT

    plan = wind(tmp_path, 0.7).solve()
    assert contracted(plan) == pytest.approx(500.0)
    assert plan.cost_npv_musd["clean_contracts"] == pytest.approx(10.95)
    ablated, seeds = seeds_only(wind(tmp_path, 0.7))
    assert contracted(ablated) == pytest.approx(766_500 / 2628)
    model = build_model(prepare(load_scenario(wind(tmp_path, 0.7).write("cuts"))))
    assert len(model.clean.within_hours) == seeds == 4  # S empty and S all, MWh and t
    HighsModel(model, EXACT).solve()
    assert len(model.clean.within_hours) > seeds


def test_a_contract_that_pays_is_signed_in_full_without_a_target(tmp_path: Path) -> None:
    """Strike 30 USD/MWh: 4,380 x (0.5 x -20 + 0.1 x 20) = -35,040 USD per MW-year, a gain:
    all 1,000 MW are signed, 17.52 M USD of gain for the half year."""
    tiny = wind(tmp_path, 0.0)
    tiny.contracts[0]["price_usd_per_mwh"] = 30.0
    plan = tiny.solve()
    assert contracted(plan) == pytest.approx(1000.0)
    assert plan.cost_npv_musd["clean_contracts"] == pytest.approx(-17.52)


def test_clean_energy_worked_example_builds_and_solves_at_target_zero(tmp_path: Path) -> None:
    """data/examples/clean_energy.py: six wind contracts with capacity factors from TMY3 wind
    through windpowerlib (means 0.31-0.49). At target 0 (the baseline of the README's
    comparison) the 55 USD/MWh strike does not pay, so nothing is signed; the plan passes the
    audit. (The 25 % run is a golden case, tests/test_golden.py.)"""
    from optimizer import load_scenario, options_for, solve
    from optimizer.audit import audit_plan

    example = load_script("data/examples/clean_energy.py")
    scenario = load_scenario(example.main(tmp_path / "scenario", 0.0))
    factors = scenario.profiles.frames["capacity_factor_frac"].mean()
    assert factors.between(0.3, 0.5).all()
    plan = solve(scenario, options_for(scenario))
    assert plan.status in ("optimal", "feasible")
    assert audit_plan(scenario, plan.write(tmp_path / "plan")).ok
    assert plan.contracts.empty


def test_cli_shows_the_contracts_and_the_hourly_matched_share(tmp_path: Path) -> None:
    """``gridsite solve`` on the 50 % case: the contract table and the CFE column, and the
    plan files contracts.csv and matched.csv."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    folder = wind(tmp_path, 0.5).write()
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app, ["solve", str(folder), "--out", str(out), "--mip-gap", "0"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Clean-energy contracts signed" in result.output
    assert "24/7 CFE %" in result.output
    assert (out / "contracts.csv").exists() and (out / "matched.csv").exists()


def four_hours(tmp_path: Path, target: float) -> Tiny:
    """Four hours of 2,190 h: wind 0.5, 0.5, 0 and 0.1 per MW, zero prices, 125 MW of load
    every hour. Output per MW: 2,190 x 1.1 = 2,409 MWh a year, 60 USD/MWh of strike."""
    tiny = wind(tmp_path, target)
    tiny.hour_weights = [2190.0] * 4
    tiny.price = {"z1": [0.0] * 4}
    tiny.carbon = {"z1": [400.0] * 4}
    tiny.dry_bulb = {"w1": [20.0] * 4}
    tiny.wet_bulb = {"w1": [15.0] * 4}
    tiny.capacity_factor = {"wind": [0.5, 0.5, 0.0, 0.1]}
    return tiny


def test_each_hour_matches_the_lesser_of_output_and_load(tmp_path: Path) -> None:
    """70 %: 766,500 MWh a year; hours 0 and 1 match at most 125 MW (547,500 MWh), hour 2
    has no wind, so hour 3 must give 0.1 C x 2,190 = 219,000: C = 1,000 MW, 1,000 x 2,409 x
    60 USD x half a year = 72.27 M USD. Matched per hour: 125, 125, 0, 100 MW. With the first
    cuts alone (2,409 C MWh of output) 318.18 MW would do."""
    tiny = four_hours(tmp_path, 0.7)
    plan = tiny.solve()
    assert contracted(plan) == pytest.approx(1000.0)
    assert plan.cost_npv_musd["clean_contracts"] == pytest.approx(72.27)
    matched = plan.dataset["matched_mw"].sel(zone="z1").isel(period=0).to_numpy()
    assert matched.tolist() == pytest.approx([125.0, 125.0, 0.0, 100.0])
    assert plan.totals.iloc[0]["cfe_share"] == pytest.approx(0.7)
    ablated, _ = seeds_only(four_hours(tmp_path, 0.7))
    assert contracted(ablated) == pytest.approx(766_500 / 2409)


def hourly_reference(model: Any, data: Any) -> None:
    """The hourly form the cuts stand for, on ``model``: per zone, period and hour matched_mw
    within the contracts' output and the campuses' load, the zone's matched MWh and t CO2 at
    most their weighted sums; the cuts and separation dropped."""
    import pyomo.environ as pyo

    b = model.clean
    b.within_hours.deactivate()
    model.separators = []
    hours = range(data.sizes["hour"])
    keys = [(z, p, h) for z, p in model.MATCH_ZONE_PERIODS for h in hours]
    b.hourly_mw = pyo.Var(keys, within=pyo.NonNegativeReals)
    b.hourly = pyo.ConstraintList()
    for (z, p), m in b.matching.items():
        for h in hours:
            output = sum(float(m.cf[i, h]) * v for i, v in enumerate(m.contracts))
            load = sum(float(m.pue_lf[j, h]) * v for j, v in enumerate(m.it))
            load -= sum(option[h] for option in m.onsite)
            b.hourly.add(b.hourly_mw[z, p, h] <= output)
            b.hourly.add(b.hourly_mw[z, p, h] <= load)
        for aggregate, var in (("mwh", b.matched_mwh), ("tco2", b.matched_tco2)):
            weight = m.weights[aggregate]
            b.hourly.add(var[z, p] <= sum(float(weight[h]) * b.hourly_mw[z, p, h] for h in hours))


def test_no_matching_rows_before_a_campus_of_the_zone_can_hold_it(tmp_path: Path) -> None:
    """The campus can be energized from 2027H1 only (a period of construction); the contract
    exists from 2026H2 but there is no load to match then: matching rows in 2027H1 alone.
    50 % in 2027H1 as in ``test_half_matched_takes_the_smallest_contract_that_covers_it``:
    208.33 MW."""
    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare

    tiny = wind(tmp_path, 0.5).periods("2026H2", "2027H1", [0.0, 100.0])
    tiny.sites[0]["earliest_period"] = "2026H2"  # energized one period later
    model = build_model(prepare(load_scenario(tiny.write("rows"))))
    assert list(model.MATCH_ZONE_PERIODS) == [("z1", "2027H1")]
    plan = tiny.solve()
    assert contracted(plan) == pytest.approx(547_500 / 2628)


def two_campuses(tmp_path: Path, onsite: bool) -> Tiny:
    """Two campuses of one zone with PUE following the dry bulb (1.1 + 0.01 per degree C),
    two cooling technologies, two periods, six hours of varying wind, temperature and
    carbon, a carbon price (the displaced t CO2 count) and, if ``onsite``, gas engines at
    campus a (their dispatch enters the hourly load)."""
    from tests.tiny import cooling, onsite_option, site

    tiny = wind(tmp_path, 0.6).periods("2026H2", "2027H1", [100.0, 300.0])
    tiny.sites = [site("a"), site("b")]
    tiny.cooling = [cooling("liq"), cooling("dry", capex_musd_per_mw=0.05)]
    tiny.curves = [
        {"cooling_id": k, "quantity": q, "ambient_c": t, "value": v}
        for k, base in (("liq", 1.1), ("dry", 1.05))
        for q, t, v in (
            ("pue", 0.0, base),
            ("pue", 40.0, base + 0.4),
            ("wue_l_per_kwh", 0.0, 0.0),
        )
    ]
    tiny.hour_weights = [1460.0] * 6
    tiny.price = {"z1": [40.0, 40.0, 20.0, 60.0, 30.0, 40.0]}
    tiny.carbon = {"z1": [400.0, 300.0, 500.0, 700.0, 200.0, 400.0]}
    tiny.dry_bulb = {"w1": [20.0, 20.0, 30.0, 10.0, 30.0, 20.0]}
    tiny.wet_bulb = {"w1": [15.0] * 6}
    tiny.capacity_factor = {"wind": [0.6, 0.6, 0.0, 0.2, 0.9, 0.6]}
    tiny.config["objective"] = {"carbon_price_usd_per_t": 80.0}
    if onsite:
        tiny.onsite = [onsite_option("gas", "a", capex_musd_per_mw=0.2)]
    return tiny


@pytest.mark.parametrize("onsite", [False, True], ids=["grid", "onsite"])
def test_cuts_keep_the_optimum_of_the_hourly_form(tmp_path: Path, onsite: bool) -> None:
    """The cut form (first cuts, separation in the solve) has the LP and MIP optima of the
    hourly form (two rows per zone, period and hour) on ``two_campuses``, and separation
    adds cuts beyond the first ones; the plan passes the audit."""
    import pyomo.environ as pyo

    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel
    from tests.tiny import EXACT

    tiny = two_campuses(tmp_path, onsite)
    folder = tiny.write()

    def solved(hourly: bool) -> tuple[float, float, float]:
        data = prepare(load_scenario(folder))
        model = build_model(data)
        if hourly:
            hourly_reference(model, data)
        highs = HighsModel(model, EXACT)
        relaxed = highs.relaxed_values()
        assert relaxed is not None
        result = highs.solve()
        assert result.objective_musd is not None and result.termination == "optimal"
        if not hourly:
            assert len(model.clean.within_hours) > 4 * len(model.MATCH_ZONE_PERIODS)
        mwh = sum(pyo.value(model.clean.matched_mwh_per_year[p]) for p in model.PERIODS)
        return highs.objective_of(relaxed), result.objective_musd, mwh

    cuts, hourly = solved(False), solved(True)
    assert cuts == pytest.approx(hourly, rel=1e-7)
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(hourly[1], rel=1e-7)


def test_a_cancelled_solve_stops_the_cut_loop(tmp_path: Path) -> None:
    """Cancel set before the solve: the relaxation's cut loop does not start and the MIP's
    plan, which breaks a cut (70 % on the first cuts alone), is not repaired: interrupted,
    no plan of the exact model."""
    import threading

    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import HighsModel
    from tests.tiny import EXACT

    cancel = threading.Event()
    cancel.set()
    model = build_model(prepare(load_scenario(wind(tmp_path, 0.7).write())))
    result = HighsModel(model, replace(EXACT, cancel=cancel)).solve()
    assert result.termination == "interrupted"
    assert result.solution == "none"


def test_a_live_model_is_reused_without_the_cuts_of_its_last_solve(tmp_path: Path) -> None:
    """``ReusableHighs``: the 70 % model solved (with cuts added), then the 50 % model of
    the same structure is an in-place update, its cut rows dropped first: 120.9875 M USD as
    in ``test_half_matched_takes_the_smallest_contract_that_covers_it``, not what the 70 %
    cuts would allow."""
    from formulations import build_model
    from optimizer import load_scenario
    from optimizer.prepare import prepare
    from optimizer.solver import ReusableHighs
    from tests.tiny import EXACT

    reuse = ReusableHighs()
    objectives = []
    for target in (0.7, 0.5):
        model = build_model(prepare(load_scenario(wind(tmp_path, target).write(f"t{target}"))))
        objectives.append(reuse.load(model, EXACT).solve().objective_musd)
    assert (reuse.builds, reuse.updates) == (1, 1)
    assert objectives == pytest.approx([BASE_MUSD + 10.95, BASE_MUSD + 4.5625])
