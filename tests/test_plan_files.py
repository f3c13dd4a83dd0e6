"""Plan files read back: ``read_plan`` returns the plan that was written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from optimizer import Plan, load_scenario, read_plan, solve
from optimizer.diagnose import diagnose
from tests.tiny import EXACT, Tiny, onsite_option, site

VIEWS = (
    "sites",
    "build",
    "serving",
    "onsite",
    "onsite_dispatch",
    "curtailment",
    "contracts",
    "matched",
    "totals",
)


def assert_same_plan(read: Plan, written: Plan) -> None:
    assert read.to_dict() == written.to_dict()
    assert read.result == written.result
    assert read.build_seconds == written.build_seconds
    assert read.cost_npv_musd == written.cost_npv_musd
    assert read.warnings == written.warnings
    assert read.diagnosis == written.diagnosis
    if written.has_solution:
        for view in VIEWS:
            pd.testing.assert_frame_equal(
                getattr(read, view), getattr(written, view), check_dtype=False, obj=view
            )


def test_a_solved_plan_reads_back_the_same(tmp_path: Path) -> None:
    """a (1.0 M USD/MW) has 100 MW headroom and gas engines; b (2.0 M USD/MW) has no limit.
    Target 100 MW IT at PUE 1.25: the plan, its marginal values and its numbers at full
    precision (1/3 MW of b's capex) come back from the files."""
    tiny = Tiny(tmp_path)
    tiny.sites = [
        site("a", headroom_mw=100.0),
        site("b", building_capex_musd_per_mw=2.0 + 1 / 3),
    ]
    tiny.onsite = [onsite_option("gas", "a", max_mw=5.0)]
    written = solve(load_scenario(tiny.write()), EXACT, marginals=True)
    assert written.status == "optimal" and written.marginal_values is not None
    folder = written.write(tmp_path / "plan")

    read = read_plan(folder)
    assert_same_plan(read, written)
    assert read.marginal_values is not None
    pd.testing.assert_frame_equal(read.marginal_values, written.marginal_values, check_dtype=False)
    objective = json.loads((folder / "plan.json").read_text())["objective_musd"]
    assert objective == written.result.objective_musd  # not rounded


def test_an_infeasible_plan_reads_back_with_its_diagnosis(tmp_path: Path) -> None:
    """Headroom 100 MW carries 80 MW IT at PUE 1.25: a 100 MW target is infeasible."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0)]
    scenario = load_scenario(tiny.write())
    written = solve(scenario, EXACT)
    assert written.status == "infeasible"
    written.diagnosis = diagnose(scenario, EXACT).to_dict()
    read = read_plan(written.write(tmp_path / "plan"))
    assert_same_plan(read, written)
    assert read.status == "infeasible" and read.marginal_values is None
