"""Demand regions and latency: the classic capacitated facility-location problem inside."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog

from formulations import build_model
from optimizer import load_scenario
from optimizer.prepare import great_circle_km, prepare
from tests.scripts import load_script
from tests.tiny import Tiny, site

FIXED = {"A": 50.0, "B": 40.0, "C": 35.0}  # M USD
CAPACITY = {"A": 100.0, "B": 100.0, "C": 50.0}  # MW
DEMAND = {"r1": 40.0, "r2": 40.0, "r3": 30.0}  # MW
COST = {  # M USD per MW served
    "r1": {"A": 1.0, "B": 3.0, "C": 2.0},
    "r2": {"A": 3.0, "B": 1.0, "C": 2.0},
    "r3": {"A": 2.0, "B": 2.0, "C": 1.0},
}


def facility_location(tiny: Tiny, demand: dict[str, float] = DEMAND) -> Tiny:
    """Everything energy-related left out: no ramp target, no building or cooling capex, no
    prices; one half-year at a 0 % discount rate, so a MW-year of network cost counts 0.5:
    serving.csv gives 2 x COST per MW-year. Development capex is the fixed cost."""
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 0.0}
    tiny.sites = [
        site(
            s,
            development_capex_musd=FIXED[s],
            max_it_mw=CAPACITY[s],
            building_capex_musd_per_mw=0.0,
        )
        for s in FIXED
    ]
    tiny.regions = [
        {
            "region_id": r,
            "name": r,
            "latitude_deg": 32.0,
            "longitude_deg": -100.0,
            "latency_limit_ms": 10.0,
            "network_cost_usd_per_mw_year_per_1000km": 0.0,
        }
        for r in DEMAND
    ]
    tiny.demand = [
        {"region_id": r, "period": "2026H2", "inference_it_mw": d} for r, d in demand.items()
    ]
    tiny.serving = [
        {
            "region_id": r,
            "site_id": s,
            "latency_ms": 0.0,
            "network_cost_usd_per_mw_year": 2e6 * COST[r][s],
        }
        for r in DEMAND
        for s in FIXED
    ]
    return tiny


def brute_force(demand: dict[str, float] = DEMAND) -> float:
    """Every set of open sites, each with its transportation LP (scipy, not Pyomo)."""
    best = np.inf
    regions, sites = list(demand), list(FIXED)
    for n in range(1, len(sites) + 1):
        for open_ in itertools.combinations(sites, n):
            c = [COST[r][s] for r in regions for s in open_]
            a_eq = [[1.0 if rr == r else 0.0 for rr in regions for _ in open_] for r in regions]
            a_ub = [[1.0 if ss == s else 0.0 for _ in regions for ss in open_] for s in open_]
            lp = linprog(
                c,
                A_ub=a_ub,
                b_ub=[CAPACITY[s] for s in open_],
                A_eq=a_eq,
                b_eq=[demand[r] for r in regions],
            )
            if lp.status == 0:
                best = min(best, lp.fun + sum(FIXED[s] for s in open_))
    return float(best)


def test_capacitated_facility_location_by_hand_and_by_enumeration(tmp_path: Path) -> None:
    """Open A and B (fixed 90): r1 from A (40), r2 from B (40), r3 from A or B (60): 230.
    A+B+C: 125 + 110 = 235; B+C: 75 + 170 = 245; A+C: 85 + 170 = 255; one site cannot hold
    110 MW. The enumeration over open sets with an LP each agrees."""
    plan = facility_location(Tiny(tmp_path)).solve()
    assert plan.result.objective_musd == pytest.approx(230.0)
    assert brute_force() == pytest.approx(230.0)
    open_sites = set(plan.sites.loc[plan.sites["open"], "site_id"])
    assert open_sites == {"A", "B"}
    serving = plan.serving.groupby("region_id")["serve_mw"].sum()
    assert serving.to_dict() == pytest.approx(DEMAND)
    assert plan.cost_npv_musd["serving"] == pytest.approx(140.0)


def textbook_lp(demand: dict[str, float]) -> float:
    """LP relaxation of the textbook model with every disaggregated row (scipy): y in [0, 1],
    sum_j x_ij = d_i, sum_i x_ij <= u_j y_j, x_ij <= d_i y_j."""
    regions, sites = list(demand), list(FIXED)
    n_x = len(regions) * len(sites)
    col = {(r, s): i * len(sites) + j for i, r in enumerate(regions) for j, s in enumerate(sites)}
    c = [COST[r][s] for r in regions for s in sites] + [FIXED[s] for s in sites]
    a_eq = np.zeros((len(regions), n_x + len(sites)))
    for (r, _s), k in col.items():
        a_eq[regions.index(r), k] = 1.0
    a_ub = np.zeros((len(sites) + n_x, n_x + len(sites)))
    for (r, s), k in col.items():
        j = sites.index(s)
        a_ub[j, k] = 1.0
        a_ub[len(sites) + k, k], a_ub[len(sites) + k, n_x + j] = 1.0, -demand[r]
    for j, s in enumerate(sites):
        a_ub[j, n_x + j] = -CAPACITY[s]
    bounds = [(0, None)] * n_x + [(0, 1)] * len(sites)
    lp = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(len(a_ub)), A_eq=a_eq, b_eq=list(demand.values()), bounds=bounds
    )
    assert lp.status == 0
    return float(lp.fun)


def test_only_from_open_left_out_where_demand_exceeds_the_campus_keeps_the_lp(
    tmp_path: Path,
) -> None:
    """r1 needs 60 MW, more than C can deliver (50): serve[r1,C] <= 60 x open[C] is implied
    by serve[r1,C] <= it[C] <= 50 x open[C] (within_capacity, strength.within_open), so the
    row is not built; the LP bound equals the textbook LP with every disaggregated row
    (scipy), which the kept rows are needed for (without them it falls), and the MIP optimum
    the enumeration: open A and B (90), r1 60 from A, r2 40
    from B, r3 from A or B: 60 + 40 + 60 = 160 -> 250."""
    from tests.test_strength import lp_bound

    demand = {**DEMAND, "r1": 60.0}
    tiny = facility_location(Tiny(tmp_path), demand)
    model = build_model(prepare(load_scenario(tiny.write("rows"))))
    rows = set(model.demand.only_from_open)
    assert ("r1", "C", "2026H2") not in rows
    assert {("r1", "A", "2026H2"), ("r2", "C", "2026H2"), ("r3", "C", "2026H2")} <= rows
    assert lp_bound(tiny) == pytest.approx(textbook_lp(demand), rel=1e-9)
    assert lp_bound(tiny, "demand.only_from_open") < textbook_lp(demand) - 1.0  # rows pay
    assert tiny.solve().result.objective_musd == pytest.approx(brute_force(demand))
    assert brute_force(demand) == pytest.approx(250.0)


def test_latency_limit_keeps_inference_near_its_users(tmp_path: Path) -> None:
    """Region at (0, 0), round-trip limit 2 ms, route factor 1.5, 200 km/ms:
    near at (0, 0.5): 55.6 km -> 0.834 ms; far at (0, 2): 222.4 km -> 3.336 ms.
    far builds at 1.0 M USD/MW, near at 2.0; 100 MW of inference (and of target) must be
    served from near: 200. Without the demand constraint, far: 100."""
    tiny = Tiny(tmp_path)
    tiny.sites = [
        site("near", latitude_deg=0.0, longitude_deg=0.5, building_capex_musd_per_mw=2.0),
        site("far", latitude_deg=0.0, longitude_deg=2.0),
    ]
    tiny.regions = [
        {
            "region_id": "users",
            "name": "users",
            "latitude_deg": 0.0,
            "longitude_deg": 0.0,
            "latency_limit_ms": 2.0,
            "network_cost_usd_per_mw_year_per_1000km": 0.0,
        }
    ]
    tiny.demand = [{"region_id": "users", "period": "2026H2", "inference_it_mw": 100.0}]
    km = great_circle_km(
        np.array([0.0]), np.array([0.0]), np.array([0.0, 0.0]), np.array([0.5, 2.0])
    )
    assert km == pytest.approx([55.597, 222.39], rel=1e-4)
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(200.0)
    assert plan.serving[["site_id", "serve_mw"]].values.tolist() == [["near", 100.0]]
    assert plan.serving["latency_ms"].iloc[0] == pytest.approx(2 * 55.597 * 1.5 / 200, rel=1e-4)
    ablated = tiny.solve_without("demand.meets_demand")
    assert ablated.result.objective_musd == pytest.approx(100.0)
    report = tiny.audit(ablated, "ablated")
    assert [v.rule for v in report.violations] == ["demand.meets_demand"]
    assert report.violations[0].amount == pytest.approx(100.0)


def test_no_demand_tables_no_demand_components(tmp_path: Path) -> None:
    """A scenario without demand_regions.csv builds no demand block and plans as before."""
    plan = Tiny(tmp_path).solve()
    assert plan.result.objective_musd == pytest.approx(100.0)
    assert plan.serving.empty and "serving" not in plan.cost_npv_musd


def test_worked_example_on_the_default_scenario(tmp_path: Path) -> None:
    """data/examples/inference.py: the default plus the ten largest metros, 30 % of the target
    as inference within 25 ms. Los Angeles is more than 25 ms from every campus east of the
    Texas Panhandle, so a western campus must serve it from the first period; the plan
    passes the audit and every region is served each period."""
    from optimizer import load_scenario, options_for, solve
    from optimizer.audit import audit_plan

    example = load_script("data/examples/inference.py")
    scenario = load_scenario(example.main(tmp_path / "scenario"))
    plan = solve(scenario, options_for(scenario))
    assert plan.status in ("optimal", "feasible")
    report = audit_plan(scenario, plan.write(tmp_path / "plan"))
    assert report.ok, str(report)
    served = plan.serving.groupby(["region_id", "period"])["serve_mw"].sum()
    for row in scenario.inference_demand:
        assert served[row.region_id, row.period] >= row.inference_it_mw - 1e-6
    longitude = plan.sites.set_index("site_id")
    la = plan.serving[plan.serving["region_id"] == "la"]
    lon = {s.site_id: s.longitude_deg for s in scenario.sites}
    assert la["period"].min() == "2026H2"
    assert all(lon[s] < -100.0 for s in la["site_id"])
    assert longitude.loc["quincy_wa", "open"]


def test_generated_regions_are_in_reach_and_need_their_share_of_the_target(
    tmp_path: Path,
) -> None:
    """benchmarks/generate.py --regions: every region is within its 25 ms round trip of a
    campus (it sits within 2 degrees of one: at most about 310 km, 2 x 310 x 1.5 / 200 =
    4.65 ms), and each period
    the regions need 30 % of the target between them (up to rounding to 0.1 MW each); the
    rest of the instance is the one generated without regions."""
    gen = load_script("benchmarks/generate.py")
    with_regions = load_scenario(
        gen.generate(gen.Spec(sites=12, periods=2, regions=6), tmp_path / "r")
    )
    without = load_scenario(gen.generate(gen.Spec(sites=12, periods=2), tmp_path / "n"))
    assert with_regions.sites == without.sites
    assert len(with_regions.demand_regions) == 6
    data = prepare(with_regions)
    assert data["serving_allowed"].to_numpy().any(axis=1).all()
    assert float(data["latency_ms"].min("site").max()) < 4.7
    targets = with_regions.config.portfolio.target_it_mw_by_period
    need = data["inference_demand_mw"].sum("region").to_numpy()
    share = np.array([gen.INFERENCE_SHARE_FRAC * targets[p] for p in data["period"].to_numpy()])
    assert need == pytest.approx(share, abs=6 * 0.05 + 1e-9)


def test_the_start_lp_prices_serving_columns_in_by_reduced_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """r1 alone (40 MW; per MW served A 1, B 3, C 2; fixed A 50, B 40, C 35). Per MW with
    only_from_open (serve <= 40 x open): A 1 + 50/40 = 2.25, B 3 + 1 = 4, C 2 + 35/40 =
    2.875, so the LP opens A: 90, the MIP optimum too. The start's LP leaves out the
    columns serve[r1,A] and serve[r1,B] at first: over C alone it is 40 x 2.875 = 115, with
    the demand row's dual 2.875. Priced under it, serve[r1,A] costs 1 - 2.875 < 0 and comes
    in (the LP falls to 90, A's row put back); serve[r1,B], 3 - 2.25 > 0 at the end, stays
    out. The result is the whole LP's optimum; without pricing the LP would stop at 115."""
    from optimizer.heuristic import constructive_start
    from optimizer.solver import HighsModel
    from tests.tiny import EXACT, lp_bound_of

    tiny = facility_location(Tiny(tmp_path), {"r1": 40.0})
    model = build_model(prepare(load_scenario(tiny.write("priced"))))
    highs = HighsModel(model, EXACT)
    column = {s: highs.column_of(model.demand.serve_mw["r1", s, "2026H2"]) for s in FIXED}
    lazy = [model.demand.only_from_open]
    relaxed = highs.relaxed_values(lazy=lazy, priced=np.array([column["A"], column["B"]]))
    assert relaxed is not None and highs.relaxed_columns is not None
    assert highs.objective_of(relaxed) == pytest.approx(90.0)
    assert lp_bound_of(model) == pytest.approx(90.0)
    assert highs.relaxed_columns[column["A"]] and relaxed[column["A"]] == pytest.approx(40.0)
    assert not highs.relaxed_columns[column["B"]] and relaxed[column["B"]] == 0.0
    assert highs.relaxed_columns[column["C"]]
    # every column but C held at 0 (no pricing): C's LP, 115
    without = highs.highs.getLp()
    without.integrality_ = []
    lower, upper = np.array(without.col_lower_), np.array(without.col_upper_)
    upper[[column["A"], column["B"]]] = 0.0
    without.col_lower_, without.col_upper_ = lower, upper
    assert highs.objective_of(highs._solve_copy(without, 60.0, 0.0, mip=False)) == (
        pytest.approx(115.0)
    )
    # every column in the first LP (without only_from_open: A at 1 + 50/100 per MW, 60),
    # then B and C pruned but for the best one (C); B's reduced cost stays positive
    # (3 - 2.25 at the end): out for good, the LP's optimum the same
    monkeypatch.setattr("optimizer.solver.PRICED_PER_ROW", 1)
    relaxed = highs.relaxed_values(lazy=lazy, pruned=np.array(sorted(column.values())))
    assert relaxed is not None and highs.relaxed_columns is not None
    assert highs.objective_of(relaxed) == pytest.approx(90.0)
    assert not highs.relaxed_columns[column["B"]] and highs.relaxed_columns[column["C"]]
    assert highs.relaxed_reduced_costs is not None
    assert highs.relaxed_reduced_costs[column["B"]] == pytest.approx(0.75)
    # the start with one pair per region at first (r1's cheapest, A: nothing to price)
    # and on the three-region instance, where its bound must be the whole LP's
    monkeypatch.setattr("optimizer.heuristic.FIRST_PAIRS", 1)
    assert constructive_start(model, highs) == pytest.approx(90.0)
    assert highs.start_bound_musd == pytest.approx(90.0)
    tiny = facility_location(Tiny(tmp_path / "three"))
    model = build_model(prepare(load_scenario(tiny.write("three"))))
    highs = HighsModel(model, EXACT)
    assert constructive_start(model, highs) == pytest.approx(brute_force())
    assert highs.start_bound_musd == pytest.approx(lp_bound_of(model), rel=1e-9)
    assert highs.relaxed_columns is not None and not highs.relaxed_columns.all()


def test_serving_table_is_the_nonzero_cells_with_their_latency() -> None:
    """The table from the array's nonzero cells equals the one a DataFrame of every cell,
    filtered and merged with the latencies, gives (rows, order, values and dtypes)."""
    import pandas as pd
    import xarray as xr

    from formulations.demand import serving_table

    rng = np.random.default_rng(1)
    serve = np.where(rng.random((3, 4, 2)) < 0.4, rng.random((3, 4, 2)) * 100, 0.0)
    ds = xr.Dataset(
        {
            "serve_mw": (("region", "site", "period"), serve),
            "latency_ms": (("region", "site"), rng.random((3, 4)) * 25),
        },
        coords={"region": ["r1", "r2", "r3"], "site": list("abcd"), "period": ["p1", "p2"]},
    )
    frame = ds["serve_mw"].to_dataframe().reset_index()
    frame = frame[frame["serve_mw"] > 0].merge(
        ds["latency_ms"].to_dataframe().reset_index(), on=["region", "site"]
    )
    expected = frame.rename(columns={"region": "region_id", "site": "site_id"})[
        ["region_id", "site_id", "period", "serve_mw", "latency_ms"]
    ].reset_index(drop=True)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(serving_table(ds), expected)


def test_cost_terms_evaluate_as_pyomo_evaluates_them(tmp_path: Path) -> None:
    """``optimizer.extract.evaluated`` gives the very float ``pyo.value`` gives for every cost
    term and the objective of a model with demand regions, at arbitrary variable values."""
    import random

    import pyomo.environ as pyo

    from optimizer.extract import evaluated

    m = build_model(prepare(load_scenario(facility_location(Tiny(tmp_path)).write())))
    draw = random.Random(0)
    for v in m.component_data_objects(pyo.Var):
        v.set_value(draw.randint(0, 1) if v.is_integer() else draw.random() * 100)
    assert "serving" in m.cost_terms_musd
    for expr in [*m.cost_terms_musd.values(), m.objective.total_cost_musd]:
        assert evaluated(expr) == pyo.value(expr)


def _inference_model(tmp_path: Path) -> Any:
    example = load_script("data/examples/inference.py")
    return build_model(prepare(load_scenario(example.main(tmp_path / "scenario"))))


def _same_form(fast: Any, plain: Any) -> None:
    """Two compiles state the same model: matrix (entries in the same order), right-hand
    sides, rows (constraint and sense, in order), columns and objective."""
    a, b = fast.A.tocsc(), plain.A.tocsc()
    assert a.shape == b.shape
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(np.asarray(fast.rhs), np.asarray(plain.rhs))
    assert [(r.constraint, r.bound_type) for r in fast.rows] == [
        (r.constraint, r.bound_type) for r in plain.rows
    ]
    assert list(fast.columns) == list(plain.columns)
    np.testing.assert_array_equal(fast.c.toarray(), plain.c.toarray())
    np.testing.assert_array_equal(np.asarray(fast.c_offset), np.asarray(plain.c_offset))


def test_serving_rows_compiled_from_their_arrays_are_the_compilers_own(tmp_path: Path) -> None:
    """The worked inference example: the solver compiles the demand block's three families
    from the arrays it holds (``solver.compiled``), not by walking their Pyomo rows; the
    result is Pyomo's own compile entry for entry, the rows where the compiler puts them
    (after the concerns before demand, before those after it); with a site_open fixed open
    and another closed (a re-plan's commitments) and an it_mw fixed too. With a row switched
    off its family goes to the compiler and still agrees."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from optimizer.solver import compiled

    def plain() -> Any:
        return LinearStandardFormCompiler().write(model, mixed_form=True)

    model = _inference_model(tmp_path)
    block = model.demand
    held = {f.constraint.local_name: f for f in model.array_rows}
    assert list(held) == ["meets_demand", "within_capacity", "only_from_open"]
    rows = block.only_from_open
    fast = compiled(model)
    assert fast.A.shape[0] > len(rows) > 0
    first = next(i for i, r in enumerate(fast.rows) if r.constraint.parent_block() is block)
    assert 0 < first < fast.A.shape[0] - len(block.meets_demand) - len(block.within_capacity)
    _same_form(fast, plain())
    # a changed coefficient, row or bound shows: the arrays are what is compared
    for change in ("coefficients", "rows", "bound"):
        for family in held.values():
            array = getattr(family, change)
            was = array[0]
            array[0] = was + 1 if change != "rows" else (was + 1) % len(family.bound)
            with pytest.raises(AssertionError):
                _same_form(compiled(model), plain())
            array[0] = was
    _same_form(compiled(model), plain())
    next(iter(rows.values())).deactivate()
    _same_form(compiled(model), plain())
    next(iter(rows.values())).activate()
    # a re-plan fixes site_open and it_mw in its committed periods: constants, to the bounds
    family = held["only_from_open"]
    opens = [v for v in family.variables if v.parent_component() is model.siting.site_open]
    opens[0].fix(1)
    opens[-1].fix(0)
    capacity = held["within_capacity"]
    it_mw = [v for v in capacity.variables if v.parent_component() is model.phasing.it_mw]
    it_mw[0].fix(300.0)
    fixed = plain()
    assert fixed.A.shape[1] == fast.A.shape[1] - 3
    _same_form(compiled(model), fixed)
    family.coefficients[0] += 1  # still from the arrays: a change shows
    with pytest.raises(AssertionError):
        _same_form(compiled(model), fixed)


def test_the_serving_cost_compiled_from_its_arrays_is_the_compilers_own(tmp_path: Path) -> None:
    """The objective's serving term (881 k terms at 1,000 sites x 200 regions) is compiled from
    the arrays the demand block holds (``formulations.core.ArrayCost``): the objective, the
    columns in the compiler's order and the rest equal Pyomo's own compile; a changed
    coefficient shows; a fixed serving column goes to the objective's offset as the compiler
    moves it. Where the term is not in the objective as it is (the Pareto front puts the cost
    in a constraint), Pyomo compiles it, and still agrees."""
    import pyomo.environ as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from optimizer.solver import _costs_in_objective, compiled

    def plain() -> Any:
        return LinearStandardFormCompiler().write(model, mixed_form=True)

    model = _inference_model(tmp_path)
    (cost,) = model.array_costs
    assert cost.expression is model.demand.serving_cost_musd
    assert _costs_in_objective(model)[2] == [cost]
    _same_form(compiled(model), plain())
    for e in (0, len(cost.variables) // 2, len(cost.variables) - 1):
        was = float(cost.coefficients[e])
        cost.coefficients[e] = was * 2
        with pytest.raises(AssertionError):
            _same_form(compiled(model), plain())
        cost.coefficients[e] = was
    cost.variables[7].fix(3.0)
    fixed = plain()
    assert float(fixed.c_offset[0]) > 0
    _same_form(compiled(model), fixed)
    cost.variables[7].unfix()
    # the cost as a constraint, another objective (as the Pareto front has it)
    model.objective.minimize_cost.deactivate()
    model.cap = pyo.Constraint(expr=model.objective.total_cost_musd <= 1e6)
    model.other = pyo.Objective(expr=sum(model.demand.serve_mw.values()))
    assert _costs_in_objective(model)[2] == []
    _same_form(compiled(model), plain())


def test_arrays_that_do_not_fit_their_family_are_refused() -> None:
    """hold_as_arrays checks the arrays against the family: one bound per row, an entry per
    variable, every entry in a row the family has, a sense the compiler knows."""
    import pyomo.environ as pyo

    from formulations.core import ArrayRows, hold_as_arrays

    m = pyo.ConcreteModel()
    m.x = pyo.Var([0, 1])
    m.c = pyo.Constraint([0, 1], rule=lambda m, i: m.x[i] <= 1)
    xs = [m.x[0], m.x[1]]
    fits = ArrayRows(m.c, np.array([0, 1]), xs, np.ones(2), np.ones(2))
    hold_as_arrays(m, fits)
    assert m.array_rows == [fits]
    for bad, words in (
        (ArrayRows(m.c, np.array([0, 1]), xs, np.ones(2), np.ones(3)), "other lengths"),
        (ArrayRows(m.c, np.array([0, 1]), xs, np.ones(1), np.ones(2)), "other lengths"),
        (ArrayRows(m.c, np.array([0, 2]), xs, np.ones(2), np.ones(2)), "a row it does not"),
        (ArrayRows(m.c, np.array([0, 1]), xs, np.ones(2), np.ones(2), "<"), "sense '<'"),
    ):
        with pytest.raises(ValueError, match=words):
            hold_as_arrays(m, bad)
    assert m.array_rows == [fits]


def test_a_row_stretched_by_the_diagnosis_drops_its_familys_arrays(tmp_path: Path) -> None:
    """The diagnosis gives meets_demand a slack (``surgery.stretch``): the arrays no longer
    state that family (its row has a new expression), so it is compiled from its Pyomo rows,
    slack included; the other two stay held. (Kept, the slack's column would be missing.)"""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from optimizer.solver import compiled
    from optimizer.surgery import add_slacks, stretch

    model = _inference_model(tmp_path)
    slack = add_slacks(model, "slack_demand", ["short"])["short"]
    stretch(next(iter(model.demand.meets_demand.values())), slack)
    held = [f.constraint.local_name for f in model.array_rows if f.states_its_rows()]
    assert held == ["within_capacity", "only_from_open"]
    fast = compiled(model)
    assert any(v is slack for v in fast.columns)
    _same_form(fast, LinearStandardFormCompiler().write(model, mixed_form=True))


def test_a_row_or_the_cost_rewritten_in_place_is_compiled_from_pyomo(tmp_path: Path) -> None:
    """A change made in place on the built model without a word to the arrays (a planner's
    own, say): one ``only_from_open`` row set anew as serve <= need/2 x site_open, and the
    serving cost set anew at twice its weights. That family and that term are then compiled
    from the Pyomo model, with the change (by hand: the row's site_open coefficient goes
    from -need to -need/2; each serving column's cost doubles); the other families stay
    held. Read from the arrays, the change would be lost."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from optimizer.solver import _costs_in_objective, compiled

    def plain() -> Any:
        return LinearStandardFormCompiler().write(model, mixed_form=True)

    model = _inference_model(tmp_path)
    block = model.demand
    before = compiled(model)
    row = next(iter(block.only_from_open.values()))
    r, s, p = row.index()
    serve, opened = block.serve_mw[r, s, p], model.siting.site_open[s, p]
    at = next(i for i, e in enumerate(before.rows) if e.constraint is row)
    col = {id(v): j for j, v in enumerate(before.columns)}
    need = -before.A.tocsr()[at, col[id(opened)]]
    assert need > 0
    row.set_value(serve <= need / 2 * opened)
    held = [f.constraint.local_name for f in model.array_rows if f.states_its_rows()]
    assert held == ["meets_demand", "within_capacity"]
    after = compiled(model)
    _same_form(after, plain())
    assert after.A.tocsr()[at, col[id(opened)]] == pytest.approx(-need / 2)

    term = block.serving_cost_musd
    term.set_value(2 * term.expr)
    assert _costs_in_objective(model)[2] == []
    doubled = compiled(model)
    _same_form(doubled, plain())
    j = col[id(serve)]
    assert doubled.c.toarray()[0, j] == pytest.approx(2 * before.c.toarray()[0, j])
