"""Plan diffs: empty against itself, exactly the changes between two hand-solved plans."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.diff import CampusChange, UpgradeChange, diff_plans
from optimizer.plan import Plan
from tests.tiny import Tiny, cooling, flat_curve, site

runner = CliRunner()


def two_period(tmp_path: Path) -> Tiny:
    """Two periods (100 then 200 MW, blocks of 100 MW, no discounting, zero prices).

    a: building 1 M USD/MW, headroom 125 MW (one block at PUE 1.25), upgrade u1 (+125 MW,
    10 M USD, in service from 2027H1); b: building 2 M USD/MW, energized from 2027H1.
    Cooling liq 0.1 M USD/MW, liq2 0.2 M USD/MW, both PUE 1.25.
    Optimum: a 100 MW in 2026H2 and 200 MW in 2027H1 with liq and u1 in 2027H1:
    building 200 + cooling 20 + upgrade 10 = 230 M USD (b instead of u1 would cost 210 for
    its 100 MW)."""
    tiny = Tiny(tmp_path).periods("2026H2", "2027H1", [100.0, 200.0])
    tiny.portfolio["block_it_mw"] = 100.0
    tiny.sites = [
        site("a", max_it_mw=200.0, headroom_mw=125.0),
        site("b", max_it_mw=200.0, building_capex_musd_per_mw=2.0, earliest_period="2026H2"),
    ]
    tiny.upgrades = [
        {
            "upgrade_id": "u1",
            "site_id": "a",
            "name": "u1",
            "added_mw": 125.0,
            "capex_musd": 10.0,
            "lead_periods": 1,
        }
    ]
    tiny.cooling = [cooling("liq", capex_musd_per_mw=0.1), cooling("liq2", capex_musd_per_mw=0.2)]
    tiny.curves = flat_curve("liq", 1.25) + flat_curve("liq2", 1.25)
    return tiny


def test_diff_of_a_plan_with_itself_is_empty(tmp_path: Path) -> None:
    plan = two_period(tmp_path).solve()
    assert plan.result.objective_musd == 230.0
    diff = diff_plans(plan, plan)
    assert diff.empty
    assert diff.campuses == [] and diff.upgrades == []
    assert all(t.delta == 0 for t in diff.totals)
    assert {t.metric for t in diff.totals} >= {"npv_musd", "energy_mwh", "water_m3"}


def test_diff_lists_exactly_the_changes(tmp_path: Path) -> None:
    """Before: the optimum of :func:`two_period` (230 M USD).
    After: a may hold only 100 MW and liq2 costs 0.05 M USD/MW. Then a keeps its one block,
    switched to liq2, b opens with 100 MW in 2027H1 (liq2), u1 is not needed:
    building 100 + 200 = 300, cooling 200 x 0.05 = 10, upgrades 0: 310 M USD.
    IT MW per period and PUE are unchanged, so energy, water and carbon are the same."""
    tiny = two_period(tmp_path)
    before = tiny.solve("before")
    tiny.sites[0]["max_it_mw"] = 100.0
    tiny.cooling[1]["capex_musd_per_mw"] = 0.05
    after = tiny.solve("after")
    assert after.result.objective_musd == 310.0

    diff = diff_plans(before, after)
    assert diff.campuses == [
        CampusChange("a", "resized", 200.0, 100.0, "2026H2", "2026H2", "liq", "liq2"),
        CampusChange("a", "cooling switched", 200.0, 100.0, "2026H2", "2026H2", "liq", "liq2"),
        CampusChange("b", "added", 0.0, 100.0, "", "2027H1", "", "liq2"),
    ]
    assert diff.upgrades == [UpgradeChange("u1", "a", "dropped", "2027H1", "")]
    changed = {t.metric: (t.before, t.after) for t in diff.totals if t.changed}
    assert changed == {
        "npv_musd": (230.0, 310.0),
        "cost_building_musd": (200.0, 300.0),
        "cost_cooling_musd": (20.0, 10.0),
        "cost_upgrades_musd": (10.0, 0.0),
    }

    folder = diff.write(tmp_path / "diff")
    doc = json.loads((folder / "diff.json").read_text())
    assert not doc["empty"] and len(doc["campuses"]) == 3 and len(doc["upgrades"]) == 1
    rows = pd.read_csv(folder / "diff.csv", keep_default_na=False)
    assert list(rows.columns) == ["kind", "subject", "change", "before", "after"]
    assert rows[rows["kind"] != "total"][["kind", "subject", "change"]].values.tolist() == [
        ["campus", "a", "resized"],
        ["campus", "a", "cooling switched"],
        ["campus", "b", "added"],
        ["upgrade", "u1", "dropped"],
    ]
    assert rows[rows["change"] == "changed"]["subject"].tolist() == list(changed)


def test_diff_refuses_a_plan_without_solution(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    good = tiny.solve("good")
    tiny.sites[0]["headroom_mw"] = 10.0
    bad: Plan = tiny.solve("bad")
    assert bad.status == "infeasible"
    try:
        diff_plans(good, bad)
    except ValueError as e:
        assert "second plan has no solution" in str(e)
    else:
        raise AssertionError("a plan without solution was diffed")


def test_cli_diff_prints_and_writes(tmp_path: Path) -> None:
    """``gridsite diff`` on the two plan folders of :func:`test_diff_lists_exactly_the_changes`."""
    tiny = two_period(tmp_path)
    tiny.audit(tiny.solve("before"), "before")
    tiny.sites[0]["max_it_mw"] = 100.0
    tiny.cooling[1]["capex_musd_per_mw"] = 0.05
    tiny.audit(tiny.solve("after"), "after")
    a, b = tmp_path / "before-plan", tmp_path / "after-plan"
    result = runner.invoke(app, ["diff", str(a), str(b), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "cooling switched" in result.output and "dropped" in result.output
    assert json.loads((tmp_path / "d" / "diff.json").read_text())["upgrades"][0]["change"] == (
        "dropped"
    )
    same = runner.invoke(app, ["diff", str(a), str(a)])
    assert same.exit_code == 0 and "the plans are the same" in same.output
    missing = runner.invoke(app, ["diff", str(a), str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a readable plan folder" in missing.output
