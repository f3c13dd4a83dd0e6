"""Valid inequalities: each raises the LP relaxation bound of a hand-solved tiny instance and
leaves its MIP optimum where it was.

The tiny defaults (``tests/tiny.py``): one half-year, no discounting, PUE 1.25, zero prices,
building capex 1 M USD/MW, cooling capex 0, a 100 MW target, sites of up to 1,000 MW.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
import xarray as xr
from typer.testing import CliRunner

from formulations import Concern, build_model
from optimizer import load_scenario, solve
from optimizer.cli import app
from optimizer.heuristic import constructive_start
from optimizer.pareto import pareto_front
from optimizer.prepare import prepare
from optimizer.replan import reoptimize
from optimizer.solver import HighsModel, absolute_gap
from tests.tiny import EXACT, Tiny, cooling, flat_curve, lp_bound_of, site, upgrade


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    return Tiny(tmp_path)


def lp_bound(tiny: Tiny, *without: str, name: str = "relaxed") -> float:
    """Optimum of the LP relaxation of the tiny model with the named families dropped."""
    model = build_model(prepare(load_scenario(tiny.write(name))))
    for dotted in without:
        block, family = dotted.split(".")
        getattr(getattr(model, block), family).deactivate()
    return lp_bound_of(model)


HULL = ("strength.within_chosen", "strength.within_open")


def test_headroom_counts_only_at_an_open_campus(tiny: Tiny) -> None:
    """Campus a: development 100, headroom 125 MW (100 MW IT at PUE 1.25). Optimum: open a
    and build 100 MW: 100 + 100 = 200. The LP relaxation of the big-M row alone
    (it <= 1,000 x open) opens a tenth of the campus: 10 + 100 = 110. Counting the headroom
    only at an open campus (100 x 1.25 <= 125 x open) makes open = 1: the LP gives 200."""
    tiny.sites = [site("a", development_capex_musd=100.0, headroom_mw=125.0)]
    assert tiny.solve().result.objective_musd == pytest.approx(200.0)
    assert lp_bound(tiny, *HULL) == pytest.approx(200.0)
    assert lp_bound(tiny, *HULL, "interconnection.within_headroom") == pytest.approx(110.0)


def test_an_upgrade_needs_an_open_campus(tiny: Tiny) -> None:
    """Campus a: development 100, no headroom, upgrade u adds 125 MW for 50. Optimum: open,
    upgrade, 100 MW: 100 + 50 + 100 = 250. Without needs_open_site the LP buys the whole
    upgrade and a tenth of the campus (it <= 1,000 x open): 10 + 50 + 100 = 160; with it,
    upgrade_online <= site_open opens the campus in full: 250. The MIP optimum is 250
    either way (an upgrade at a closed campus buys nothing)."""
    tiny.sites = [site("a", development_capex_musd=100.0, headroom_mw=0.0)]
    tiny.upgrades = [upgrade("u", "a", added_mw=125.0, capex_musd=50.0)]
    assert tiny.solve().result.objective_musd == pytest.approx(250.0)
    ablated = tiny.solve_without("interconnection.needs_open_site")
    assert ablated.result.objective_musd == pytest.approx(250.0)
    assert lp_bound(tiny, *HULL) == pytest.approx(250.0)
    assert lp_bound(tiny, *HULL, "interconnection.needs_open_site") == pytest.approx(160.0)


def test_cooling_choice_in_its_convex_hull(tiny: Tiny) -> None:
    """Campus a holds at most 100 MW; a tower (capex 0, WUE 1 L/kWh) may hold 50 MW under the
    438,000 m3/yr water limit (50 x 8,760 x 1.0); dry cooling costs 1/MW. One technology
    per campus, so the optimum is 100 MW dry: 100 + 100 = 200. The LP relaxation of the
    model's rows mixes 50 MW tower and 50 MW dry: 100 + 50 = 150. With the hull rows
    (tower/50 + dry/100 <= open <= 1, tower + dry = 100) the tower gets nothing: 200."""
    tiny.sites = [site("a", max_it_mw=100.0, water_limit_m3_per_year=438_000.0)]
    tiny.cooling = [cooling("tower"), cooling("dry", capex_musd_per_mw=1.0)]
    tiny.curves = flat_curve("tower", 1.25, 1.0) + flat_curve("dry", 1.25, 0.0)
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.sites.loc[0, "cooling"] == "dry"
    assert tiny.solve_without(*HULL).result.objective_musd == pytest.approx(200.0)
    assert lp_bound(tiny) == pytest.approx(200.0)
    assert lp_bound(tiny, *HULL) == pytest.approx(150.0)


def test_deliverable_it_in_whole_blocks(tiny: Tiny) -> None:
    """Blocks of 100 MW; campus a has 300 MW of headroom (240 MW IT at PUE 1.25, so 200 MW
    in whole blocks), campus b none; the target is 200 MW. prepare's bound is 200 MW at a
    and 0 at b, in every period."""
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 200.0}
    tiny.sites = [site("a", headroom_mw=300.0), site("b", headroom_mw=0.0)]
    data = prepare(load_scenario(tiny.write()))
    assert data["deliverable_it_mw"].sel(site="a").to_numpy().tolist() == [[200.0]]
    assert data["deliverable_it_mw"].sel(site="b").to_numpy().tolist() == [[0.0]]
    assert tiny.solve().result.objective_musd == pytest.approx(200.0)


def test_an_upgrade_buys_the_halls_it_adds_up_to_the_deliverable_it(tiny: Tiny) -> None:
    """Blocks of 100 MW at PUE 1.25 (125 MW a hall), a 200 MW target, campus a of at most
    200 MW with 150 MW of headroom (one hall); upgrade u adds 500 MW for 100. Optimum: two
    halls need u: 200 + 100 = 300. The LP of the model's rows buys the fifth of u that
    carries the second hall's 100 MW of draw: 200 + 20 = 220. within_connection counts the
    headroom as one hall and u as the one more hall the campus can hold (four by the MW,
    capped by the deliverable 200 MW): it <= 100 chosen + 100 u, so u = 1 and the LP gives
    300. Without the cap (u as four halls) it would give 225; without the row, 220."""
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 200.0}
    tiny.sites = [site("a", max_it_mw=200.0, headroom_mw=150.0)]
    tiny.upgrades = [upgrade("u", "a", added_mw=500.0, capex_musd=100.0)]
    assert tiny.solve().result.objective_musd == pytest.approx(300.0)
    ablated = tiny.solve_without("strength.within_connection")
    assert ablated.result.objective_musd == pytest.approx(300.0)
    assert lp_bound(tiny) == pytest.approx(300.0)
    assert lp_bound(tiny, "strength.within_connection") == pytest.approx(220.0)


def test_constructive_start_is_accepted_and_keeps_the_optimum(tiny: Tiny) -> None:
    """Campus a: no development, building 1/MW (100 MW: 100); campus b: development 30,
    building 0.5/MW (30 + 50 = 80). The LP opens b in full and a not at all, so the
    rounded start is the optimum, 80; HiGHS reports it feasible, and the solve from it
    ends at 80 too, through the API as well."""
    tiny.sites = [
        site("a"),
        site("b", development_capex_musd=30.0, building_capex_musd_per_mw=0.5),
    ]
    model = build_model(prepare(load_scenario(tiny.write())))
    highs = HighsModel(model, EXACT)
    assert constructive_start(model, highs) == pytest.approx(80.0)
    result = highs.solve(warm_start=True)
    assert highs.start_accepted
    assert result.objective_musd == pytest.approx(80.0)
    options = replace(EXACT, constructive_start=True)
    assert solve(load_scenario(tiny.write()), options).result.objective_musd == pytest.approx(80.0)


def test_a_start_within_the_gap_of_the_lp_bound_ends_the_solve(tiny: Tiny) -> None:
    """Blocks of 100 MW, a 150 MW target, campus a (no development, building 1/MW): the
    optimum builds two blocks, 200; the LP relaxation builds 1.5 blocks, 150. The start is
    the optimum, 200, 25 % above the LP bound: asked for a 30 % gap, the solve ends with
    the start and the LP bound, without a MIP run; asked for an exact one, HiGHS runs from
    the start and proves 200."""
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 150.0}
    tiny.sites = [site("a")]
    for gap, bound in ((0.3, 150.0), (0.0, 200.0)):
        model = build_model(prepare(load_scenario(tiny.write())))
        highs = HighsModel(model, replace(EXACT, mip_gap_frac=gap))
        assert constructive_start(model, highs) == pytest.approx(200.0)
        result = highs.solve(warm_start=True)
        assert result.termination == "optimal"
        assert result.objective_musd == pytest.approx(200.0)
        assert result.best_bound_musd == pytest.approx(bound)
        assert ("no MIP run" in result.message) == (gap > 0)
        assert highs.start_accepted or gap == 0  # (HiGHS's presolve solves this one whole)
        assert highs.start_bound_musd is None  # used by that solve only


def test_the_start_lp_puts_back_the_zonal_rows_it_breaks(tiny: Tiny) -> None:
    """Campuses a1 (building 1/MW) and a2 (1.5/MW) share zone z1, whose import limit of
    100 MW at PUE 1.25 holds 80 MW IT; b (2/MW) is in z2, unlimited; the target is 100 MW.
    Optimum, LP and MIP alike: 80 MW at a1 and 20 at b, 80 + 40 = 120. Each campus alone
    could hold 80 MW in z1, so without the zonal row the LP takes 80 at a1 and 20 at a2:
    110. The start's LP begins without the zonal rows and puts back the one it breaks: 120,
    and the start, the optimum, is within any gap of it."""
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": 100.0},
        {"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None},
    ]
    tiny.price["z2"] = [0.0, 0.0]
    tiny.carbon["z2"] = [0.0, 0.0]
    tiny.sites = [
        site("a1"),
        site("a2", building_capex_musd_per_mw=1.5),
        site("b", zone_id="z2", building_capex_musd_per_mw=2.0),
    ]
    model = build_model(prepare(load_scenario(tiny.write())))
    highs = HighsModel(model, EXACT)
    zonal = [model.interconnection.within_zone_limit]
    assert highs.objective_of(highs.relaxed_values(lazy=zonal)) == pytest.approx(120.0)
    assert lp_bound(tiny, "interconnection.within_zone_limit") == pytest.approx(110.0)
    assert constructive_start(model, highs) == pytest.approx(120.0)
    result = highs.solve(warm_start=True)
    assert result.objective_musd == pytest.approx(120.0)
    assert "no MIP run" in result.message


def test_a_region_is_served_only_from_an_open_campus(tiny: Tiny) -> None:
    """One region needs 10 MW within reach of campus a (development 100, up to 1,000 MW),
    no ramp target, no building capex or network cost. Optimum: open a, 100. The LP of the
    aggregated rows (serve <= it <= 1,000 x open) opens a hundredth of a: 1. Disaggregated
    (serve <= 10 x open) it opens all of it: 100, the MIP optimum either way."""
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 0.0}
    tiny.sites = [site("a", development_capex_musd=100.0, building_capex_musd_per_mw=0.0)]
    tiny.regions = [
        {
            "region_id": "r",
            "name": "r",
            "latitude_deg": 32.0,
            "longitude_deg": -100.0,
            "latency_limit_ms": 10.0,
            "network_cost_usd_per_mw_year_per_1000km": 0.0,
        }
    ]
    tiny.demand = [{"region_id": "r", "period": "2026H2", "inference_it_mw": 10.0}]
    assert tiny.solve().result.objective_musd == pytest.approx(100.0)
    ablated = tiny.solve_without("demand.only_from_open")
    assert ablated.result.objective_musd == pytest.approx(100.0)
    assert lp_bound(tiny) == pytest.approx(100.0)
    assert lp_bound(tiny, "demand.only_from_open") == pytest.approx(1.0)
    # the start's LP begins without only_from_open and puts back the row it breaks
    model = build_model(prepare(load_scenario(tiny.write())))
    relaxed = HighsModel(model, EXACT).relaxed_values(lazy=[model.demand.only_from_open])
    assert HighsModel(model, EXACT).objective_of(relaxed) == pytest.approx(100.0)


def test_a_cancelled_run_stops_the_start(tiny: Tiny) -> None:
    """The start's HiGHS runs (the LP, the repair MIP) see the run's cancel event: set before
    they start, no start is made (without the event the LP gives one: the test above)."""
    cancel = threading.Event()
    cancel.set()
    model = build_model(prepare(load_scenario(tiny.write())))
    highs = HighsModel(model, replace(EXACT, cancel=cancel))
    assert constructive_start(model, highs) is None


def test_absolute_gap_follows_the_relative_gap(tiny: Tiny) -> None:
    """HiGHS's absolute gap is the relative gap times 1 M USD (never below its 1e-6 default),
    so a 1 % gap means 1 % of the objective above 1 M USD and 0.01 M USD below it."""
    assert absolute_gap(0.01) == pytest.approx(0.01)
    assert absolute_gap(0.0) == pytest.approx(1e-6)
    model = build_model(prepare(load_scenario(tiny.write())))
    highs = HighsModel(model, replace(EXACT, mip_gap_frac=0.002))
    assert highs.highs.getOptionValue("mip_abs_gap")[1] == pytest.approx(0.002)
    highs.set_gap(0.05)
    assert highs.highs.getOptionValue("mip_abs_gap")[1] == pytest.approx(0.05)


def test_cli_start_flag_reaches_the_solve(tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gridsite solve --start` solves from the constructive start (HiGHS reports it taken)
    and `--no-start` without; both find the optimum, 80."""
    import optimizer.api

    tiny.sites = [site("a"), site("b", development_capex_musd=30.0, building_capex_musd_per_mw=0.5)]
    seen: list[tuple[bool, float | None]] = []
    real_solve = optimizer.api.solve

    def recording_solve(*args: Any, **kwargs: Any) -> Any:
        plan = real_solve(*args, **kwargs)
        seen.append((args[1].constructive_start, plan.result.start_objective_musd))
        return plan

    monkeypatch.setattr(optimizer.api, "solve", recording_solve)
    folder = tiny.write()
    for flag in ("--start", "--no-start"):
        out = tiny.folder / f"plan{flag}"
        args = ["solve", str(folder), "--out", str(out), "--mip-gap", "0", flag]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert json.loads((out / "plan.json").read_text())["objective_musd"] == 80.0
    assert seen == [(True, pytest.approx(80.0)), (False, None)]


def test_the_start_is_made_for_large_models_unless_the_options_say_otherwise(
    tiny: Tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``constructive_start=None`` (the default) decides by size: the tiny model (2 campuses,
    a handful of integers) solves without the start; with the threshold below its integer
    count it gets one (80, the optimum, HiGHS's log says it took it), but not over a warm
    start or when the options say no."""
    import optimizer.heuristic

    tiny.sites = [site("a"), site("b", development_capex_musd=30.0, building_capex_musd_per_mw=0.5)]
    scenario = load_scenario(tiny.write())
    assert EXACT.constructive_start is None
    plan = solve(scenario, EXACT)
    assert plan.result.objective_musd == pytest.approx(80.0)
    assert plan.result.start_objective_musd is None
    monkeypatch.setattr(optimizer.heuristic, "AUTO_START_INTEGERS", 1)
    plan = solve(scenario, EXACT)
    assert plan.result.objective_musd == pytest.approx(80.0)
    assert plan.result.start_objective_musd == pytest.approx(80.0)
    for options in (replace(EXACT, constructive_start=False), replace(EXACT, warm_start=True)):
        assert solve(scenario, options).result.start_objective_musd is None


def test_pareto_points_start_from_a_plan_that_meets_their_bound(
    tiny: Tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The front of tests/test_pareto.py (3 points: 120, 135, 150 M USD). Solved from the
    tight end, every point after the two ends starts from a plan that meets its bound, and
    HiGHS takes it; the loose end is the least-cost plan, not solved a second time: 2 + 2
    solves, each start accepted."""
    tiny.cooling = [
        cooling("efficient", capex_musd_per_mw=0.5),
        cooling("plain", capex_musd_per_mw=0.2),
    ]
    tiny.curves = flat_curve("efficient", 1.1) + flat_curve("plain", 1.3)
    tiny.sites = [site("a", max_it_mw=50.0), site("b", max_it_mw=50.0)]
    accepted: list[bool] = []
    real_solve = HighsModel.solve

    def recording_solve(self: HighsModel, warm_start: bool | None = None) -> Any:
        result = real_solve(self, warm_start)
        accepted.append(self.start_accepted)
        return result

    monkeypatch.setattr(HighsModel, "solve", recording_solve)
    front = pareto_front(load_scenario(tiny.write()), "cost", "energy", 3, EXACT)
    assert front.table["cost_musd"].tolist() == pytest.approx([120.0, 135.0, 150.0])
    assert accepted == [False, True, True, True]


def _two_coolings(tiny: Tiny, hybrid_pue: tuple[float, float], price: list[float]) -> None:
    """Campus a with ``dry`` (flat PUE 1.1, capex 1/MW) and ``hybrid`` (capex 1/MW, PUE
    ``hybrid_pue`` at the two hours' 20 and 30 C), prices ``price`` at the two 4,380-h
    hours, 100 MW to build (building 1/MW: 100, cooling 100)."""
    tiny.cooling = [
        cooling("dry", capex_musd_per_mw=1.0),
        cooling("hybrid", capex_musd_per_mw=1.0),
    ]
    tiny.curves = [
        *flat_curve("dry", 1.1),
        {"cooling_id": "hybrid", "quantity": "pue", "ambient_c": 20.0, "value": hybrid_pue[0]},
        {"cooling_id": "hybrid", "quantity": "pue", "ambient_c": 30.0, "value": hybrid_pue[1]},
        {"cooling_id": "hybrid", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    tiny.price = {"z1": price}


def _modelled(tiny: Tiny) -> list[tuple[str, str]]:
    return list(build_model(prepare(load_scenario(tiny.write("pairs")))).SITE_COOLING)


def test_a_dominated_cooling_is_left_out(tiny: Tiny) -> None:
    """Hybrid draws PUE 1.1 / 1.5 where dry draws 1.1 / 1.1, at the same capex, prices 50
    USD/MWh: dry is no worse on any datum, so hybrid is left out of the model. The optimum
    is dry's: energy 100 MW x 4,380 h x (1.1 + 1.1) x 50 USD/MWh x 0.5 year = 24.09, plus
    100 + 100 = 224.09 (hybrid's energy would be 100 x 4,380 x 2.6 x 50 x 0.5 = 28.47)."""
    _two_coolings(tiny, (1.1, 1.5), [50.0, 50.0])
    assert _modelled(tiny) == [("a", "dry")]
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(224.09)
    assert plan.sites.loc[0, "cooling"] == "dry"


def test_a_cooling_worse_at_every_hour_can_pay_at_negative_prices(tiny: Tiny) -> None:
    """Hybrid again draws more at every hour (1.5 / 1.1 against 1.1 / 1.1), but the first
    hour's price is -100 USD/MWh (the second 10): per MW-year hybrid earns 4,380 x (1.5 x 100
    - 1.1 x 10) = 608,820 USD against dry's 4,380 x (1.1 x 100 - 1.1 x 10) = 433,620. Its
    yearly energy cost is lower, so it is not dominated and the optimum takes it:
    200 - 100 x 0.60882 x 0.5 = 169.559 (dry: 200 - 21.681 = 178.319). A reduction judged
    on PUE alone would drop hybrid and miss the optimum."""
    _two_coolings(tiny, (1.5, 1.1), [-100.0, 10.0])
    assert _modelled(tiny) == [("a", "dry"), ("a", "hybrid")]
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(169.559)
    assert plan.sites.loc[0, "cooling"] == "hybrid"


def test_whole_halls_are_the_cumulative_blocks(tiny: Tiny) -> None:
    """Blocks of 100 MW, targets 150 then 250 MW over two half-years, building 1/MW, no
    discounting: whole halls make 200 then 300 MW, 300. The whole numbers are the halls
    online (``blocks_online``, cumulative); ``in_blocks`` ties the IT to them and the halls
    added (``new_blocks``) are continuous, so without ``in_blocks`` the model builds 1.5
    then 1 more hall: 250."""
    tiny.periods("2026H2", "2027H1", [150.0, 250.0])
    tiny.portfolio["block_it_mw"] = 100.0
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(300.0)
    assert plan.build["new_blocks"].tolist() == [2, 1]
    model = build_model(prepare(load_scenario(tiny.write("halls"))))
    assert model.phasing.blocks_online["a", "liq", "2027H1"].is_integer()
    assert not model.phasing.new_blocks["a", "liq", "2027H1"].is_integer()
    ablated = tiny.solve_without("phasing.in_blocks")
    assert ablated.result.objective_musd == pytest.approx(250.0)


def test_a_planners_concern_keeps_every_cooling(tiny: Tiny) -> None:
    """The dominated case above, with a planner's subsidy of 0.5 M USD per MW of hybrid IT:
    hybrid now pays (its extra energy is 0.0438 per MW), so it must stay in the model when
    ``extra`` concerns are given: 100 + 100 + 28.47 - 50 = 178.47."""
    _two_coolings(tiny, (1.1, 1.5), [50.0, 50.0])

    def subsidy(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
        m.cost_terms_musd["subsidy"] = -0.5 * sum(
            m.phasing.it_mw[s, k, p] for s, k, p in m.SITE_COOLING_PERIODS if k == "hybrid"
        )

    extra = [Concern("subsidy", subsidy, needs=("phasing",))]
    plan = solve(load_scenario(tiny.write("subsidy")), EXACT, extra=extra)
    assert plan.result.objective_musd == pytest.approx(178.47)
    assert plan.sites.loc[0, "cooling"] == "hybrid"


def test_a_replan_keeps_a_committed_dominated_cooling(tiny: Tiny) -> None:
    """The previous plan chose hybrid (capex 0.5 against dry's 1: cheaper by more than its
    extra energy); the new data raise hybrid's capex to 1.5, so hybrid is dominated, but the
    campus holds 100 MW of it through 2026H2 (committed): the re-plan keeps hybrid in the
    model and grows it (one cooling per campus), with no broken commitment."""
    tiny.periods("2026H2", "2027H1", [100.0, 200.0])
    _two_coolings(tiny, (1.1, 1.5), [50.0, 50.0])
    tiny.cooling[1]["capex_musd_per_mw"] = 0.5
    previous = tiny.solve("before")
    assert previous.sites.loc[0, "cooling"] == "hybrid"
    tiny.cooling[1]["capex_musd_per_mw"] = 1.5
    assert _modelled(tiny) == [("a", "dry")]
    plan = reoptimize(load_scenario(tiny.write("after")), previous, "2026H2", EXACT)
    assert plan.result.termination == "optimal"
    assert plan.sites.loc[0, "cooling"] == "hybrid"
    assert not [w for w in plan.warnings if "broken commitment" in w]
