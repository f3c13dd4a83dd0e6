"""Concerns: the build order follows their needs, undeclared families are errors, and a
planner's own concern (``solve(..., extra=[...])``) constrains and costs as worked by hand."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
import xarray as xr

from formulations import (
    CONCERNS,
    Concern,
    ConcernError,
    Family,
    Marginal,
    UndeclaredFamily,
    build_model,
    ordered,
)
from optimizer import load_scenario, solve
from optimizer.api import OutOfTimeError, RunClock
from optimizer.prepare import prepare
from optimizer.solver import solve_model
from tests.tiny import EXACT, Tiny, site


def ercot_cap(limit_it_mw: float) -> Concern:
    """At most ``limit_it_mw`` of IT in the ERCOT region in every period (the README's
    example)."""

    def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
        b = m.ercot_cap = pyo.Block()
        region = dict(zip(data["zone"].values, data["zone_region"].values, strict=True))
        zone = dict(zip(data["site"].values, data["site_zone"].values, strict=True))
        sites = [s for s in m.SITES if region[zone[s]] == "ERCOT"]

        @b.Constraint(m.PERIODS)
        def within_cap(b: pyo.Block, p: str) -> object:
            it = [m.phasing.it_mw[s, k, p] for s in sites for k in m.techs_at[s, p]]
            return sum(it) <= limit_it_mw if it else pyo.Constraint.Skip

    return Concern(
        "ercot_cap",
        add_to,
        needs=("phasing",),
        families={
            "within_cap": Family(
                marginal=Marginal("ercot_cap", "USD per MW IT", -1.0, "saves", portfolio=True)
            )
        },
    )


def ercot_levy(musd_per_mw: float) -> Concern:
    """A new cost term: a levy per MW IT installed in ERCOT at the end of the horizon."""

    def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
        region = dict(zip(data["zone"].values, data["zone_region"].values, strict=True))
        zone = dict(zip(data["site"].values, data["site_zone"].values, strict=True))
        last = m.PERIODS.last()
        m.cost_terms_musd["ercot_levy"] = sum(
            musd_per_mw * m.phasing.it_mw[s, k, last]
            for s in m.SITES
            if region[zone[s]] == "ERCOT"
            for k in m.techs_at[s, last]
        )

    return Concern("ercot_levy", add_to, needs=("phasing",))


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    return Tiny(tmp_path)


@pytest.fixture
def two_regions(tmp_path: Path) -> Tiny:
    """a in z1 (ERCOT) at 1.0 M USD/MW, b in z2 (elsewhere) at 2.0 M USD/MW; target 100 MW."""
    tiny = Tiny(tmp_path)
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "ERCOT", "import_limit_mw": None},
        {"zone_id": "z2", "name": "z2", "region": "PJM", "import_limit_mw": None},
    ]
    tiny.price = tiny.carbon = {"z1": [0.0, 0.0], "z2": [0.0, 0.0]}
    tiny.sites = [site("a"), site("b", zone_id="z2", building_capex_musd_per_mw=2.0)]
    return tiny


def test_a_planners_cap_binds_as_worked_by_hand(two_regions: Tiny) -> None:
    """Without the cap all 100 MW go to a: 100 M USD. With at most 60 MW in ERCOT:
    a 60 + b 40 x 2.0 = 140 M USD. One more MW of cap moves a MW from b to a: it saves
    1.0 M USD, the cap's marginal value (1,000,000 USD per MW IT)."""
    scenario = load_scenario(two_regions.write())
    assert solve(scenario, EXACT).result.objective_musd == pytest.approx(100.0)
    plan = solve(scenario, EXACT, marginals=True, extra=[ercot_cap(60.0)])
    assert plan.result.objective_musd == pytest.approx(140.0)
    it = plan.sites.set_index("site_id")["it_mw"]
    assert (it["a"], it["b"]) == (pytest.approx(60.0), pytest.approx(40.0))
    assert plan.marginal_values is not None
    row = plan.marginal_values[plan.marginal_values["kind"] == "ercot_cap"]
    assert row["value"].tolist() == [pytest.approx(1_000_000.0)]
    assert row["effect"].tolist() == ["saves"]


def test_a_planners_cost_term_is_counted_and_shifts_the_plan(two_regions: Tiny) -> None:
    """A levy of 0.5 M USD/MW in ERCOT: a still wins (1.5 < 2.0): 100 + 50 = 150 M USD, the
    levy 50. At 1.5 M USD/MW a costs 2.5 > 2.0: all 100 MW at b, 200 M USD, no levy."""
    scenario = load_scenario(two_regions.write())
    plan = solve(scenario, EXACT, extra=[ercot_levy(0.5)])
    assert plan.result.objective_musd == pytest.approx(150.0)
    assert plan.cost_npv_musd["ercot_levy"] == pytest.approx(50.0)
    assert plan.dataset["cost_musd"].sel(term="ercot_levy").values.tolist() == [pytest.approx(50.0)]
    plan = solve(scenario, EXACT, extra=[ercot_levy(1.5)])
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.cost_npv_musd["ercot_levy"] == pytest.approx(0.0)


def test_an_infeasible_cap_is_diagnosed_by_solve(two_regions: Tiny) -> None:
    """b can take at most 30 MW and the cap leaves 50 MW in ERCOT: 80 of 100 MW. The cap is
    hard (declared without a relaxation), so the diagnosis reports the ramp short by 20 MW
    and what else would have to give: b's maximum, by 20 MW."""
    two_regions.sites[1]["max_it_mw"] = 30.0
    plan = solve(load_scenario(two_regions.write()), EXACT, extra=[ercot_cap(50.0)])
    assert plan.status == "infeasible" and plan.diagnosis is not None
    (short,) = plan.diagnosis["shortfalls"]
    assert short["short_mw"] == pytest.approx(20.0)
    (relaxation,) = plan.diagnosis["relaxations"]
    assert relaxation["family"] == "phasing.within_site_max" and relaxation["subject"] == "b"
    assert relaxation["amount"] == pytest.approx(20.0)


def test_the_garbage_collector_rests_while_the_model_lives_and_resumes_after(
    tiny: Tiny,
) -> None:
    """``solve`` pauses Python's garbage collector for its whole run (its full collections
    walk every Pyomo object): a planner's cut callback, called during the solve, sees it
    paused; it runs again once the plan is back, and after a run stopped by its time limit
    before the build."""
    seen: list[bool] = []

    def separate(m: pyo.ConcreteModel) -> list[object]:
        seen.append(gc.isenabled())
        return []

    def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
        m.watch = pyo.Block()

    scenario = load_scenario(tiny.write())
    watch = Concern("watch", add_to, separate=separate)
    assert gc.isenabled()
    assert solve(scenario, EXACT, extra=[watch]).result.objective_musd == pytest.approx(100.0)
    assert seen and not any(seen)
    assert gc.isenabled()
    with pytest.raises(OutOfTimeError):
        solve(scenario, EXACT, clock=RunClock(0.0))
    assert gc.isenabled()


def test_the_build_order_follows_needs_not_the_list(tiny: Tiny) -> None:
    """Reversed, the concerns still build in an order where each follows its needs, with the
    objective last, and the model solves to the same optimum (100 MW at 1.0 M USD/MW)."""
    names = [c.name for c in ordered(list(reversed(CONCERNS)))]
    for c in CONCERNS:
        assert all(names.index(n) < names.index(c.name) for n in c.needs), names
    assert names[-1] == "objective"
    data = prepare(load_scenario(tiny.write()))
    model = build_model(data, list(reversed(CONCERNS)))
    assert solve_model(model, EXACT).objective_musd == pytest.approx(100.0)


def test_a_missing_need_and_a_cycle_are_errors() -> None:
    without_onsite = [c for c in CONCERNS if c.name != "onsite"]
    with pytest.raises(ConcernError, match="'interconnection' needs 'onsite'"):
        ordered(without_onsite)
    a = Concern("a", lambda m, d: None, needs=("b",))
    b = Concern("b", lambda m, d: None, needs=("a",))
    with pytest.raises(ConcernError, match="cycle"):
        ordered([a, b])


def test_an_undeclared_family_is_an_error(tiny: Tiny) -> None:
    """A constraint family its concern does not declare stops the build, naming it."""

    def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
        m.mine = pyo.Block()
        m.mine.limit = pyo.Constraint(expr=m.phasing.it_mw["a", "liq", "2026H2"] <= 1e6)

    mine = Concern("mine", add_to, needs=("phasing",))
    data = prepare(load_scenario(tiny.write()))
    with pytest.raises(UndeclaredFamily, match=r"mine\.limit"):
        build_model(data, extra=[mine])


def test_the_default_plan_file_has_no_arrays_of_unused_concerns() -> None:
    """The default scenario has no regions, on-site options, contracts or flexible tiers."""
    from optimizer import DEFAULT_SCENARIO
    from optimizer.extract import extract_plan
    from optimizer.solver import SolveResult

    data = prepare(load_scenario(DEFAULT_SCENARIO))
    model = build_model(data)
    for var in model.component_data_objects(pyo.Var):
        var.set_value(0.0, skip_validation=True)
    result = SolveResult("optimal", "optimal", 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0)
    ds = extract_plan(model, data, result, 0.0).dataset
    for name in ("matched_mw", "onsite_output_mw", "serve_mw", "curtailed_it_mw", "nonfirm_mw"):
        assert name not in ds
    for name, array in ds.data_vars.items():
        assert "units" in array.attrs, name
    assert np.all(ds["it_mw"].values == 0.0)
