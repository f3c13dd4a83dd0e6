"""The audit checks or refuses, never waves through (issue 9, section 4): through the real
command line in a subprocess.

A plan written by gridsite is edited by hand the way a careless or hostile user would:
its status changed while MW are tampered with, serving.csv multiplied, a campus added to
sites.csv, Infinity typed into plan.json, plan.nc deleted or overwritten, a concern's file
removed. Each is a violation (exit 5) naming the file. A plan audited against another
scenario, or folders given the wrong way round, are said so in one line (exit 2).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.test_demand import facility_location
from tests.tiny import Tiny, onsite_option, site


def gridsite(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimizer.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny scenario with engines at a (headroom 50 MW; 100 MW due: the engines carry the
    rest) and a plan that passes the audit (``Tiny.solve`` audits it)."""
    tiny = Tiny(tmp_path_factory.mktemp("solved"))
    tiny.sites = [site("a", headroom_mw=50.0)]
    tiny.onsite = [onsite_option("g", "a")]
    assert tiny.solve().status == "optimal"
    return tiny.folder / "scenario", tiny.folder / "scenario-plan"


@pytest.fixture
def plan(solved: tuple[Path, Path], tmp_path: Path) -> Path:
    """A fresh copy of the solved plan, to edit."""
    return Path(shutil.copytree(solved[1], tmp_path / "plan"))


def edit_json(folder: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "plan.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def audit_fails(scenario: Path, folder: Path, *lines: str) -> str:
    """Audit through the CLI: exit 5 with every one of ``lines`` in the report."""
    result = gridsite("audit", scenario, folder)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for line in lines:
        assert line in result.stdout, f"{line!r} not in:\n{result.stdout}"
    return result.stdout


def test_the_untouched_plan_passes(solved: tuple[Path, Path]) -> None:
    result = gridsite("audit", *solved)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("audit passed: ")


@pytest.mark.parametrize("status", ["infeasible", "no_solution", "Optimal"])
def test_a_status_that_contradicts_the_files_does_not_stop_the_audit(
    solved: tuple[Path, Path], plan: Path, status: str
) -> None:
    """The status changed and a's IT multiplied by 10 (100 -> 1,000 MW) at once: the plan is
    still audited (its files hold a solution), the status is a violation, and so are the MW
    (the objective no longer recomputes)."""

    def tamper(data: dict[str, Any]) -> None:
        data["status"] = status
        entry = data["sites"][0]
        entry["it_mw_by_cooling"]["liq"]["2026H2"] *= 10
        entry["it_mw_by_period"]["2026H2"] *= 10

    edit_json(plan, tamper)
    out = audit_fails(solved[0], plan, "plan.status: plan.json: ", "objective.cost: ")
    assert f"status {status!r}" in out


def test_a_solved_status_on_a_plan_without_solution_is_a_violation(tmp_path: Path) -> None:
    """An infeasible plan (100 MW due, 100 MW of headroom, PUE 1.25) claimed optimal."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0)]
    infeasible = tiny.solve()
    assert infeasible.status == "infeasible"
    assert not tiny.audit(infeasible).audited  # writes scenario-plan: nothing to audit
    folder = tiny.folder / "scenario-plan"
    edit_json(folder, lambda data: data.update(status="optimal"))
    audit_fails(tiny.folder / "scenario", folder, "plan.status: plan.json: ", "no solution")


def test_serving_times_ten_is_caught(tmp_path: Path) -> None:
    """The facility-location instance (tests/test_demand.py), every MW of serving.csv x 10."""
    tiny = facility_location(Tiny(tmp_path))
    assert tiny.solve().has_solution
    folder = tiny.folder / "scenario-plan"
    serving = pd.read_csv(folder / "serving.csv")
    serving["serve_mw"] *= 10
    serving.to_csv(folder / "serving.csv", index=False)
    audit_fails(tiny.folder / "scenario", folder, "plan.consistent: serving.csv: ")


def test_an_extra_campus_in_sites_csv_is_caught(solved: tuple[Path, Path], plan: Path) -> None:
    with open(plan / "sites.csv", "a") as f:
        f.write("ghost,Ghost,z1,True,2026H2,liq,100,125,\n")
    audit_fails(solved[0], plan, "plan.consistent: ghost: in sites.csv, not a campus")


def test_infinity_in_plan_json_is_caught(solved: tuple[Path, Path], plan: Path) -> None:
    text = (plan / "plan.json").read_text()
    objective = json.loads(text)["objective_musd"]
    text = text.replace(f'"objective_musd": {objective}', '"objective_musd": Infinity')
    (plan / "plan.json").write_text(text)
    audit_fails(
        solved[0],
        plan,
        "plan.consistent: plan.json: objective_musd is inf",
        "objective.cost: objective: ",
    )


def test_plan_nc_deleted_or_garbage_is_caught(solved: tuple[Path, Path], plan: Path) -> None:
    (plan / "plan.nc").unlink()
    audit_fails(solved[0], plan, "plan.complete: plan.nc: missing")
    (plan / "plan.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100)
    audit_fails(solved[0], plan, "plan.complete: plan.nc: not a readable NetCDF file")


def test_plan_nc_of_another_plan_is_caught(
    solved: tuple[Path, Path], plan: Path, tmp_path: Path
) -> None:
    """plan.nc of a plan with a's IT at 0 MW (nothing due) beside this plan's files."""
    other = Tiny(tmp_path / "other")
    other.portfolio["target_it_mw_by_period"] = {"2026H2": 0.0}
    other.sites = [site("a", headroom_mw=50.0)]
    other.onsite = [onsite_option("g", "a")]
    other.solve()
    shutil.copy(other.folder / "scenario-plan" / "plan.nc", plan / "plan.nc")
    audit_fails(solved[0], plan, "plan.consistent: a 2026H2: -100: plan.nc it_mw 0, plan.json 100")


def test_a_concern_file_removed_is_caught(solved: tuple[Path, Path], plan: Path) -> None:
    """Without onsite_dispatch.csv the engines would seem idle: the file must be there."""
    (plan / "onsite_dispatch.csv").unlink()
    audit_fails(solved[0], plan, "plan.complete: onsite_dispatch.csv: missing")


def test_a_plan_audited_against_another_scenario_is_said_in_one_line(
    solved: tuple[Path, Path], tmp_path: Path
) -> None:
    other = Tiny(tmp_path)
    other.config["name"] = "other"
    result = gridsite("audit", other.write(), solved[1])
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "solved from scenario 'tiny', not from 'other'" in lines[0]


def test_folders_the_wrong_way_round_are_said_in_one_line(solved: tuple[Path, Path]) -> None:
    scenario, folder = solved
    swapped = gridsite("audit", folder, scenario)
    assert swapped.returncode == 2
    assert "a plan folder (plan.json, written by gridsite solve), not a scenario" in swapped.stderr
    for command in ("validate", "solve"):
        result = gridsite(command, folder)
        assert result.returncode == 2 and "a plan folder" in result.stderr
    result = gridsite("audit", scenario, scenario)
    assert result.returncode == 2
    assert "a scenario folder, not a plan (no plan.json)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_free_onsite_power_that_covers_the_whole_load_passes_its_own_audit(
    tmp_path: Path,
) -> None:
    """Issue 9's case: an on-site option whose costs and emissions are all zero. It runs at
    the campus's whole load every hour, so the campus buys 0 MWh: grid energy, bill and
    emissions in build.csv are differences of two figures of ~1e5 MWh, each with its own
    rounding (IT MW in plan.json, 10 digits in the CSVs, float sums): the recomputed
    difference is 1e-5 to 4e-4 MWh, not 0. The auditor compared it with a tolerance
    relative to the difference itself (~0) and failed gridsite's own plan; its tolerance now
    scales with the terms subtracted. (The model was right.)

    Hand-solved: target 100 MW, flat PUE 1.25, load factor 1, one half-year, no discounting,
    grid price 50 USD/MWh. a (building 1 M USD/MW, max 1000/13 = 76.923 MW, free engines up
    to 1,000 MW) is built to its maximum; b (2 M USD/MW, no engines) takes the other
    300/13 MW. The engines carry a's 1.25 x 1000/13 = 96.15 MW every hour. Cost: building
    1000/13 + 2 x 300/13 = 1600/13 M USD, plus b's energy 1.25 x 300/13 MW x 4,380 h x 50
    USD/MWh = 6.3173 M USD: 129.3942 M USD."""
    tiny = Tiny(tmp_path)
    tiny.sites = [
        site("a", max_it_mw=1000 / 13),
        site("b", building_capex_musd_per_mw=2.0),
    ]
    tiny.price = {"z1": [50.0, 50.0]}
    tiny.onsite = [
        onsite_option(
            "free",
            "a",
            heat_rate_mmbtu_per_mwh=0.0,
            fuel_price_usd_per_mmbtu=0.0,
            emissions_kg_per_mmbtu=0.0,
        )
    ]
    scenario, folder = tiny.write(), tmp_path / "plan"
    solved = gridsite("solve", scenario, "--out", folder)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["objective_musd"] == pytest.approx(1600 / 13 + 1.25 * 300 / 13 * 4380 * 50 / 1e6)
    build = pd.read_csv(folder / "build.csv").set_index("site_id")
    assert build.loc["a", "grid_mwh"] == 0.0
    assert build.loc["a", "onsite_mwh"] == pytest.approx(1.25 * 1000 / 13 * 4380)
    result = gridsite("audit", scenario, folder)
    assert result.returncode == 0, result.stdout + result.stderr

    build.loc["a", "grid_mwh"] = 100.0  # 100 MWh bought that the plan does not buy: caught
    build.reset_index().to_csv(folder / "build.csv", index=False)
    audit_fails(
        scenario, folder, "plan.consistent: a 2026H2: ", "build.csv grid_mwh 100, recomputed"
    )
