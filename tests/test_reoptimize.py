"""Rolling re-plans: commitments change the optimum, broken commitments are diagnosed, and
HiGHS accepts the previous plan as its MIP start (its own log and first incumbent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer import load_scenario
from optimizer.audit import audit_plan
from optimizer.cli import app
from optimizer.replan import reoptimize
from tests.test_diff import two_period
from tests.tiny import EXACT, Tiny, site

runner = CliRunner()


def three_periods(tmp_path: Path) -> Tiny:
    """100, 200, 300 MW IT in 2026H2, 2027H1, 2027H2; blocks of 100 MW, at most one block a
    period (accelerator supply); no discounting, zero prices.

    a: building 1 M USD/MW, up to 200 MW, from 2026H2; b: 1.5 M USD/MW, from 2027H2;
    c: 1.2 M USD/MW plus 50 M USD development, from 2027H1.
    Optimum: a in 2026H2 and 2027H1 (100 each), b in 2027H2 (150; c would cost 170):
    350 M USD."""
    tiny = Tiny(tmp_path).periods("2026H2", "2027H2", [100.0, 200.0, 300.0])
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 100.0
    tiny.sites = [
        site("a", max_it_mw=200.0),
        site("b", building_capex_musd_per_mw=1.5, earliest_period="2027H1"),
        site(
            "c",
            building_capex_musd_per_mw=1.2,
            development_capex_musd=50.0,
            earliest_period="2026H2",
        ),
    ]
    return tiny


def it_by_site(plan: object) -> dict[str, list[float]]:
    frame = plan.dataset["it_mw"].to_pandas()  # type: ignore[attr-defined]
    return {str(s): [float(x) for x in row] for s, row in frame.iterrows()}


def test_commitment_changes_the_optimum(tmp_path: Path) -> None:
    """New data: building at a costs 3 M USD/MW.

    Afresh: a's block in 2026H2 is forced (only a is available; 300), then c twice
    (50 + 120 + 120 = 290; a would cost 300, b 150 only in 2027H2 against c's 120): 590.
    Committed through 2026H2 the same (a's first block was forced anyway): 590, and the
    start (the previous plan: a twice, b) costs 300 + 300 + 150 = 750, which HiGHS reports
    as the start it accepted and as its first incumbent.
    Committed through 2027H1, a's second block stays (600) and b is cheapest for the third
    (150): 750: the commitment changes the optimum."""
    tiny = three_periods(tmp_path)
    previous = tiny.solve("before")
    assert previous.result.objective_musd == 350.0
    assert it_by_site(previous) == {
        "a": [100.0, 200.0, 200.0],
        "b": [0.0, 0.0, 100.0],
        "c": [0.0, 0.0, 0.0],
    }
    tiny.sites[0]["building_capex_musd_per_mw"] = 3.0
    fresh = tiny.solve("after")
    assert fresh.result.objective_musd == 590.0
    scenario = load_scenario(tmp_path / "after")

    early = reoptimize(scenario, previous, "2026H2", EXACT)
    assert early.result.objective_musd == 590.0
    assert early.result.start_objective_musd == 750.0
    assert early.result.first_incumbent_musd == 750.0
    assert it_by_site(early) == it_by_site(fresh)
    assert tiny.audit(early, "after").ok

    late = reoptimize(scenario, previous, "2027H1", EXACT)
    assert late.result.objective_musd == 750.0
    assert it_by_site(late) == it_by_site(previous)
    assert tiny.audit(late, "after").ok


def test_start_repaired_when_the_new_data_breaks_it(tmp_path: Path) -> None:
    """New data: b's headroom is cut to 100 MW, too little for a block (125 MW at PUE 1.25).
    The previous plan's b breaks the headroom rule, so the start keeps a (both blocks) and
    drops b; HiGHS completes it (a sub-MIP over the values left out) with c in 2027H2 (170):
    100 + 100 + 170 = 370 M USD, the optimum (c twice from 2027H1: 100 + 170 + 120 = 390)."""
    tiny = three_periods(tmp_path)
    previous = tiny.solve("before")
    tiny.sites[1]["headroom_mw"] = 100.0
    tiny.write("after")
    plan = reoptimize(load_scenario(tmp_path / "after"), previous, "2026H2", EXACT)
    assert plan.result.objective_musd == 370.0
    assert any("interconnection.within_headroom[b,2027H2]" in w for w in plan.warnings)
    # Presolve solves this tiny model outright, so HiGHS's log gives no start objective;
    # its first incumbent is the completed start.
    assert plan.result.first_incumbent_musd == 370.0


def test_broken_commitment_is_diagnosed(tmp_path: Path) -> None:
    """New data: a's headroom is cut to 100 MW, below the 125 MW its committed first block
    draws at PUE 1.25. The re-plan is infeasible and the diagnosis names the commitment at a
    in 2026H2 (whole blocks: all 100 MW)."""
    tiny = three_periods(tmp_path)
    previous = tiny.solve("before")
    tiny.sites[0]["headroom_mw"] = 100.0
    tiny.write("after")
    plan = reoptimize(load_scenario(tmp_path / "after"), previous, "2026H2", EXACT)
    assert plan.status == "infeasible"
    assert plan.diagnosis is not None and not plan.diagnosis["feasible"]
    named = [
        (r["family"], r["subject"], r["period"], r["amount"]) for r in plan.diagnosis["relaxations"]
    ]
    assert named == [("commitments.keeps_it", "a", "2026H2", 100.0)]
    assert any(
        "commitment at a: 100 MW already energized (liq) cannot be kept" in line
        for line in plan.diagnosis["summary"]
    )


def test_cli_reoptimize_writes_plan_and_diff(tmp_path: Path) -> None:
    """The first case of :func:`test_commitment_changes_the_optimum` through the CLI: the
    re-plan (590 M USD) drops a's second block and b for c, written with its diff."""
    tiny = three_periods(tmp_path)
    tiny.audit(tiny.solve("before"), "before")
    tiny.sites[0]["building_capex_musd_per_mw"] = 3.0
    scenario = tiny.write("after")
    out = tmp_path / "replan"
    args = ["reoptimize", str(scenario), "--from", str(tmp_path / "before-plan")]
    result = runner.invoke(app, [*args, "--commit-through", "2026H2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "plan.json").read_text())["objective_musd"] == 590.0
    diff = json.loads((out / "diff.json").read_text())
    assert [(c["site_id"], c["change"]) for c in diff["campuses"]] == [
        ("a", "resized"),
        ("b", "dropped"),
        ("c", "added"),
    ]
    assert audit_plan(load_scenario(scenario), out).ok
    bad = runner.invoke(app, [*args, "--commit-through", "2031H1", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "2031H1" in bad.output
    assert not (tmp_path / "x").exists()


def test_cancelled_upgrade_is_diagnosed(tmp_path: Path) -> None:
    """tests/test_diff.py's two periods: a holds one block on its 125 MW headroom, u1 (+125 MW,
    in service 2027H1) lets it hold the second; the optimum (230 M USD) builds a to 200 MW
    with u1. The new data cancels u1. Committed through 2027H1, u1 was in service, so bought:
    the re-plan cannot keep it, is infeasible, and the diagnosis names u1 first, then a's
    second block (100 MW), which cannot be kept on 125 MW of headroom."""
    tiny = two_period(tmp_path)
    previous = tiny.solve("before")
    assert previous.dataset["upgrade_online_period"].to_pandas().to_dict() == {"u1": "2027H1"}
    tiny.upgrades = []
    plan = reoptimize(load_scenario(tiny.write("after")), previous, "2027H1", EXACT)
    assert plan.status == "infeasible"
    assert plan.diagnosis is not None and not plan.diagnosis["feasible"]
    named = [
        (r["family"], r["subject"], r["period"], r["amount"]) for r in plan.diagnosis["relaxations"]
    ]
    assert named == [
        ("commitments.missing", "u1", "2027H1", 1.0),
        ("commitments.keeps_it", "a", "2027H1", 100.0),
    ]
    assert any(
        "committed upgrade u1 (in service 2027H1) is not in the new scenario" in line
        for line in plan.diagnosis["summary"]
    )
    assert "broken commitment: 2027H1: committed upgrade u1" in " ".join(plan.warnings)


def test_committed_costs_stay_in_their_periods(tmp_path: Path) -> None:
    """The plan's costs by period do not move when a re-plan fixes the committed periods'
    campuses (their variables are fixed, Pyomo's linear form would count them as a constant).
    At 10 USD/MWh: 100 MW x PUE 1.25 x 8,760 h x 0.5 years x 10 USD/MWh = 5.475 M USD of
    energy in 2026H2, 10.95 in 2027H1, committed or not."""
    tiny = three_periods(tmp_path)
    tiny.price = {"z1": [10.0, 10.0]}
    previous = tiny.solve("before")
    late = reoptimize(load_scenario(tiny.write("after")), previous, "2027H1", EXACT)
    assert late.result.objective_musd == pytest.approx(previous.result.objective_musd)
    energy = late.dataset["cost_musd"].sel(term="energy").to_numpy()
    assert energy[:2] == pytest.approx([5.475, 10.95])
    assert energy == pytest.approx(previous.dataset["cost_musd"].sel(term="energy").to_numpy())
