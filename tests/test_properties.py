"""Property tests: optima proven by exhaustive search, metamorphic relations, determinism.

Random tiny scenarios (``tests/random_scenarios.py``) are solved by the real path (files ->
load -> prepare -> model -> HiGHS with a zero gap) and compared with ``tests/brute_force.py``,
which enumerates every plan from the raw data without the model. The metamorphic properties
need no second optimizer: adding a candidate site, relaxing a limit or splitting an hour
relates two optima of the MILP to each other.

Hypothesis runs derandomized (a fixed sequence of examples) with no example database, so CI
sees the same cases every run; ``EXAMPLES`` says how many each property runs.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from optimizer.plan import Plan
from tests.brute_force import brute_force
from tests.random_scenarios import (
    Spec,
    only_energy_costs,
    scaled_prices,
    scenarios,
    shifted,
    site_row,
    split_hour,
    tightened,
    upgrade_rows,
    usage,
    with_site,
)
from tests.tiny import Tiny, site

EXAMPLES = {
    "milp_matches_brute_force": 120,
    "milp_matches_brute_force_at_full_size": 25,
    "adding_a_site_never_raises_the_optimum": 20,
    "scaling_prices_scales_the_plans_energy_cost": 20,
    "scaling_prices_scales_an_energy_only_optimum": 15,
    "splitting_an_hour_changes_nothing": 25,
    "relaxing_a_limit_never_raises_the_optimum": 25,
    "same_input_same_plan_files": 6,
}
"""Examples each property runs (the test name without ``test_``)."""

REL = 1e-6
TIMING_KEYS = ("build_seconds", "handoff_seconds", "solve_seconds")


def examples(name: str) -> settings:
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def scratch() -> Iterator[Path]:
    """A folder for one example's scenario and plan files (pytest's ``tmp_path`` is one
    per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="gridsite-prop-") as folder:
        yield Path(folder)


def optimum(spec: Spec, folder: Path, name: str) -> tuple[float | None, Plan]:
    """The MILP's optimum (None: infeasible) and its plan. Anything but a proven optimum or
    proven infeasibility fails: these models are tiny and solved with a zero gap."""
    plan = spec.tiny(folder).solve(name)
    assert plan.status in ("optimal", "infeasible"), (plan.status, plan.result.message)
    event(f"{name}: {plan.status}")
    return plan.result.objective_musd if plan.status == "optimal" else None, plan


def same(a: float | None, b: float | None) -> bool:
    """Both infeasible, or equal to 1e-6 relative (1e-6 absolute near zero)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=REL)


def at_most(a: float, b: float, scale: float = 0.0) -> bool:
    """a <= b up to 1e-6 relative (of ``scale`` too, when a or b is a difference of larger
    terms)."""
    return a <= b + REL * max(1.0, abs(a), abs(b), scale)


# --------------------------------------------------------------------------- exact optimum


@examples("milp_matches_brute_force")
@given(spec=scenarios())
def test_milp_matches_brute_force(spec: Spec) -> None:
    """The MILP optimum equals the exhaustive one, infeasible included."""
    best = brute_force(spec)
    with scratch() as folder:
        value, _ = optimum(spec, folder, "milp")
    expected = None if best is None else best.objective_musd
    assert same(value, expected), f"MILP {value}, brute force {best}"


@examples("milp_matches_brute_force_at_full_size")
@given(spec=scenarios(full=True))
def test_milp_matches_brute_force_at_full_size(spec: Spec) -> None:
    """The same at the brute force's largest scope: 5 sites of 3 blocks, 3 periods, 2 cooling
    technologies, 4 hours."""
    best = brute_force(spec)
    with scratch() as folder:
        value, _ = optimum(spec, folder, "milp")
    expected = None if best is None else best.objective_musd
    assert same(value, expected), f"MILP {value}, brute force {best}"


# --------------------------------------------------------------------------- metamorphic


def feasible_scenarios(max_sites: int = 5) -> st.SearchStrategy[Spec]:
    """Scenarios with a plan (by the brute force): a metamorphic relation says something
    only when the scenario it starts from is feasible."""
    return scenarios(max_sites=max_sites).filter(lambda spec: brute_force(spec) is not None)


@st.composite
def scenario_and_site(draw: st.DrawFn) -> tuple[Spec, Spec]:
    """A feasible scenario of at most 4 sites, and the same with one more (in one of its
    zones, with one of its weather stations, with its own upgrades)."""
    spec = draw(feasible_scenarios(max_sites=4))
    first = spec.config["horizon"]["first_period"]
    block = spec.portfolio["block_it_mw"]
    zones = [z["zone_id"] for z in spec.zones]
    weather = sorted(spec.dry_bulb)
    row = draw(site_row("new", zones, weather, first, block))
    if draw(st.booleans()):  # half the time a strong candidate, so the optimum often falls
        row.update(
            development_capex_musd=0.0,
            building_capex_musd_per_mw=0.1,
            earliest_period=shifted(first, -2),
            headroom_mw=6 * block,
            headroom_period=first,
            water_limit_m3_per_year=None,
        )
    return spec, with_site(spec, row, draw(upgrade_rows("new")))


@examples("adding_a_site_never_raises_the_optimum")
@given(pair=scenario_and_site())
def test_adding_a_site_never_raises_the_optimum(pair: tuple[Spec, Spec]) -> None:
    """Every plan without the new site is still a plan (the site stays closed)."""
    spec, more = pair
    with scratch() as folder:
        before, _ = optimum(spec, folder, "before")
        if before is None:
            return  # no claim
        after, _ = optimum(more, folder, "after")
    assert after is not None and at_most(after, before), (before, after)
    event("the new site lowers the optimum" if after < before - 1e-6 else "no change")


@examples("scaling_prices_scales_the_plans_energy_cost")
@given(spec=feasible_scenarios(), k=st.sampled_from([2.0, 0.5, 3.0, 10.0]))
def test_scaling_prices_scales_the_plans_energy_cost(spec: Spec, k: float) -> None:
    """Prices x k leave every plan feasible and scale every plan's energy NPV by k, the rest
    of its cost unchanged. So the optimum X of the old prices, repriced, bounds the new
    optimum Y, and Y, repriced back, bounds the old:
        cost_k(Y) <= other(X) + k energy(X)     cost(X) <= other(Y) + energy(Y) / k."""
    with scratch() as folder:
        base, x = optimum(spec, folder, "base")
        scaled, y = optimum(scaled_prices(spec, k), folder, "scaled")
    assert (base is None) == (scaled is None)
    if base is None or scaled is None:
        return
    ex, ey = x.cost_npv_musd["energy"], y.cost_npv_musd["energy"]
    scale = abs(base) + abs(scaled) + abs(ex) * k + abs(ey)
    assert at_most(scaled, base - ex + k * ex, scale)
    assert at_most(base, scaled - ey + ey / k, scale)


@examples("scaling_prices_scales_an_energy_only_optimum")
@given(spec=feasible_scenarios(), k=st.sampled_from([2.0, 0.5, 3.0, 10.0]))
def test_scaling_prices_scales_an_energy_only_optimum(spec: Spec, k: float) -> None:
    """With every other cost zero the objective is the energy NPV, linear in prices: the
    optimum and its energy cost scale by k exactly."""
    spec = only_energy_costs(spec)
    with scratch() as folder:
        base, x = optimum(spec, folder, "base")
        scaled, y = optimum(scaled_prices(spec, k), folder, "scaled")
    assert (base is None) == (scaled is None)
    if base is None or scaled is None:
        return
    assert same(scaled, k * base)
    assert same(x.cost_npv_musd["energy"], base)
    assert same(y.cost_npv_musd["energy"], k * x.cost_npv_musd["energy"])


@st.composite
def scenario_and_split(draw: st.DrawFn) -> tuple[Spec, Spec]:
    spec = draw(scenarios())
    n = len(spec.hour_weights)
    hour = draw(st.integers(0, n - 1))
    return spec, split_hour(spec, hour, draw(st.integers(0, n)))


@examples("splitting_an_hour_changes_nothing")
@given(pair=scenario_and_split())
def test_splitting_an_hour_changes_nothing(pair: tuple[Spec, Spec]) -> None:
    """Two copies of an hour at half its weight each are the same year."""
    spec, split = pair
    with scratch() as folder:
        whole, _ = optimum(spec, folder, "whole")
        halves, _ = optimum(split, folder, "halves")
    assert same(whole, halves)


@st.composite
def tight_and_loose(draw: st.DrawFn) -> tuple[Spec, Spec, str]:
    """A feasible scenario with one limit tightened below what its optimal plan (by the
    brute force) uses, and the scenario itself: relaxing goes from the first to the second.
    Tightening a limit the optimum uses makes it bind; the tight scenario may be infeasible
    (then there is no claim) or dearer, never cheaper."""
    loose = draw(scenarios())
    best = brute_force(loose)
    assume(best is not None)
    assert best is not None
    used = usage(loose, best)
    assume(used)  # a plan that builds nothing uses no limit
    kind, index = draw(st.sampled_from(sorted(used)))
    factor = draw(st.sampled_from([0.9, 0.75, 0.5]))
    tight = tightened(loose, kind, index, factor * used[kind, index])
    return tight, loose, f"{kind}[{index}] at {factor} of its use {used[kind, index]:g}"


@examples("relaxing_a_limit_never_raises_the_optimum")
@given(case=tight_and_loose())
def test_relaxing_a_limit_never_raises_the_optimum(case: tuple[Spec, Spec, str]) -> None:
    """More headroom (or from an earlier period), a higher zone or water limit, more
    accelerator supply, or none at all."""
    tight, loose, what = case
    with scratch() as folder:
        before, _ = optimum(tight, folder, "tight")
        if before is None:
            return  # no claim
        after, _ = optimum(loose, folder, "loose")
    assert after is not None and at_most(after, before), (what, before, after)
    event("relaxing lowers the optimum" if after < before - 1e-6 else "no change")


# --------------------------------------------------------------------------- determinism


def plan_files(plan: Plan, out: Path) -> tuple[dict[str, object], bytes, bytes]:
    """plan.json without its timings, sites.csv and build.csv (empty when infeasible)."""
    plan.write(out)
    content = json.loads((out / "plan.json").read_text())
    for key in TIMING_KEYS:
        del content[key]
    tables = [out / "sites.csv", out / "build.csv"]
    sites, build = (t.read_bytes() if t.exists() else b"" for t in tables)
    return content, sites, build


@examples("same_input_same_plan_files")
@given(spec=scenarios())
def test_same_input_same_plan_files(spec: Spec) -> None:
    """Two solves of the same input with the same options write the same plan files (timings
    aside), byte for byte."""
    with scratch() as folder:
        _, a = optimum(spec, folder, "first")
        _, b = optimum(spec, folder, "second")
        assert plan_files(a, folder / "plan-a") == plan_files(b, folder / "plan-b")


# --------------------------------------------------------------------------- found


def test_nothing_to_build_and_nothing_required(tmp_path: Path) -> None:
    """Found by ``test_milp_matches_brute_force``. One site permitted in 2026H2 with a
    construction lead of one period energizes in 2027H1, after the one-period horizon; the
    target is 0 MW. Building nothing is feasible and costs 0 (brute force: 0). The model
    has no variables, HiGHS answers "Empty", and the solver reports termination "error",
    status "no_solution" (CLI exit 4, "no solution found within the time limit"); fixed:
    an empty model is optimal at its constant objective."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", earliest_period="2026H2")]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 0.0}
    tiny.portfolio["block_it_mw"] = 100.0
    assert brute_force(tiny) is not None and brute_force(tiny).objective_musd == 0.0
    plan = tiny.solve()
    assert plan.status == "optimal"
    assert plan.result.objective_musd == 0.0
