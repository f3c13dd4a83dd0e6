"""Plan files read back: ``read_plan`` returns the plan that was written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import Plan, load_scenario, read_plan, solve
from optimizer.cli import app
from tests.tiny import EXACT, Tiny, onsite_option, site

runner = CliRunner()

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
    assert written.status == "infeasible" and written.diagnosis is not None
    read = read_plan(written.write(tmp_path / "plan"))
    assert_same_plan(read, written)
    assert read.status == "infeasible" and read.marginal_values is None


def test_write_model_writes_mps_and_lp_with_pyomo_names(tmp_path: Path) -> None:
    """The tiny model (one campus, 100 MW target) written for another solver: the LP file
    names the ramp row and the IT column as Pyomo does; another extension exits 2."""
    tiny = Tiny(tmp_path)
    scenario = str(tiny.write())
    for name in ("model.mps", "model.lp"):
        out = tmp_path / name
        result = runner.invoke(
            app, ["solve", scenario, "--out", str(tmp_path / "plan"), "--write-model", str(out)]
        )
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert "phasing.meets_ramp(2026H2)" in text
        assert "phasing.it_mw(a,liq,2026H2)" in text
    result = runner.invoke(app, ["solve", scenario, "--write-model", str(tmp_path / "m.txt")])
    assert result.exit_code == 2 and "give a file ending in .mps or .lp" in result.output


def test_marginal_values_say_what_their_sign_means(tmp_path: Path) -> None:
    """a (1.0 M USD/MW) has 100 MW of headroom (80 MW IT at PUE 1.25), b costs 2.0 M USD/MW:
    one more MW of headroom at a saves 0.8 x 1.0 M USD, one more MW of target costs 2.0 M USD.
    The CSV says which (``effect``), and so does the terminal table."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0), site("b", building_capex_musd_per_mw=2.0)]
    out = tmp_path / "plan"
    result = runner.invoke(
        app, ["solve", str(tiny.write()), "--out", str(out), "--marginals", "--mip-gap", "0"]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "marginal_values.csv").set_index("kind")
    assert frame.loc["headroom", "effect"] == "saves"
    assert frame.loc["headroom", "value"] == pytest.approx(800_000.0)
    assert frame.loc["ramp", "effect"] == "costs"
    assert frame.loc["ramp", "value"] == pytest.approx(2_000_000.0)
    assert "one more unit of the limit saves" in result.output


def test_the_summary_says_what_optimal_means_and_where_the_tail_is(tmp_path: Path) -> None:
    """A plan stopped at a 0.3 % gap reads "optimal within 0.30 %"; with an opex tail after
    the horizon the energy line says it includes it."""
    from rich.console import Console

    from optimizer.report import render

    tiny = Tiny(tmp_path)
    tiny.config["horizon"].update(discount_rate_frac_per_year=0.10, opex_tail_years=1.5)
    plan = solve(load_scenario(tiny.write()), EXACT)
    plan.result = dataclasses.replace(plan.result, mip_gap_frac=0.003)
    console = Console(record=True, width=200)
    console.print(render(plan))
    text = console.export_text()
    assert "optimal within 0.30 %" in text
    assert "energy (incl. opex tail after the horizon)" in text


def test_a_model_with_a_row_no_decision_can_meet_is_not_written(tmp_path: Path) -> None:
    """At 45 C no technology (rated to 40 C) is allowed: the ramp row has no variable and
    cannot hold, so there is no model to write; the plan says so and is infeasible."""
    from tests.tiny import cooling, flat_curve

    tiny = Tiny(tmp_path)
    tiny.dry_bulb = {"w1": [30.0, 45.0]}
    tiny.cooling = [cooling("dry", max_dry_bulb_c=40.0)]
    tiny.curves = flat_curve("dry", 1.25)
    out = tmp_path / "model.lp"
    plan = solve(load_scenario(tiny.write()), EXACT, write_model=out)
    assert plan.status == "infeasible" and not out.exists()
    assert any("model.lp not written" in w for w in plan.warnings)
