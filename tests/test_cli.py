"""The command line: exit codes, files written, and clean errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from tests.tiny import Tiny, site

runner = CliRunner()


def test_solve_writes_plan_files_and_exits_0(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites.append(site("b", building_capex_musd_per_mw=0.8))
    out = tmp_path / "plan"
    result = runner.invoke(app, ["solve", str(tiny.write()), "--out", str(out), "--mip-gap", "0"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".gridsite",
        "build.csv",
        "plan.json",
        "plan.nc",
        "sites.csv",
    ]
    plan = json.loads((out / "plan.json").read_text())
    assert plan["status"] == "optimal"
    assert plan["objective_musd"] == 80.0
    for key in (
        "termination",
        "best_bound_musd",
        "mip_gap",
        "build_seconds",
        "solve_seconds",
        "periods",
        "target_it_mw_by_period",
        "total_it_mw_by_period",
        "sites",
    ):
        assert key in plan
    b = next(s for s in plan["sites"] if s["site_id"] == "b")
    assert b["open"] and b["cooling"] == "liq" and b["it_mw_by_period"] == {"2026H2": 100.0}
    assert "Campuses" in result.output


def test_infeasible_exits_3(tmp_path: Path) -> None:
    """Headroom 100 MW and no upgrade cannot carry 100 MW IT at PUE 1.25."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0)]
    result = runner.invoke(app, ["solve", str(tiny.write()), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    plan = json.loads((tmp_path / "o" / "plan.json").read_text())
    assert plan["status"] == "infeasible" and plan["sites"] == []


def test_invalid_input_exits_2_naming_file_row_field_and_writes_nothing(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", max_it_mw=-5), site("b", zone_id="nowhere")]
    folder = tiny.write()
    out = tmp_path / "never"
    result = runner.invoke(app, ["solve", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{folder}/sites.csv:2: max_it_mw:" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_validate_reports_unknown_reference(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", zone_id="nowhere")]
    result = runner.invoke(app, ["validate", str(tiny.write())])
    assert result.exit_code == 2
    assert "sites.csv:2: zone_id: unknown zone 'nowhere'" in result.output


def test_schema_prints_every_table() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema) == {
        "scenario.yaml",
        "sites.csv",
        "zones.csv",
        "upgrades.csv",
        "cooling_technologies.csv",
        "cooling_curves.csv",
        "demand_regions.csv",
        "inference_demand.csv",
        "serving.csv",
        "flexible_connections.csv",
        "onsite_power.csv",
        "clean_contracts.csv",
        "sweep file (gridsite sweep --grid)",
    }
    assert "max_it_mw" in schema["sites.csv"]["properties"]
    assert "curtailment_budget_frac" in schema["flexible_connections.csv"]["properties"]


#: Modules `gridsite validate` and `gridsite schema` must not load, so that they answer at once
#: (issue 11): pandas (with pyarrow, most of a second on its own) and the solver stack.
HEAVY = ("pandas", "pyarrow", "xarray", "scipy", "pyomo", "highspy", "tsam", "matplotlib")
#: Runs the command line in this process, then reports which of HEAVY it imported.
PROBE = f"""
import sys
from optimizer.cli import app
try:
    app(sys.argv[1:])
finally:
    loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
    sys.stderr.write("heavy modules: " + ",".join(loaded) + "\\n")
"""


@pytest.mark.parametrize("command", ["validate", "validate-invalid", "schema"])
def test_validate_and_schema_import_no_heavy_module(command: str, tmp_path: Path) -> None:
    """A fact, not a timing: the commands that only read and check never import pandas."""
    tiny = Tiny(tmp_path)
    if command == "validate-invalid":
        tiny.sites = [site("a", zone_id="nowhere")]
    args = ["schema"] if command == "schema" else ["validate", str(tiny.write())]
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == (2 if command == "validate-invalid" else 0), run.stderr
    assert run.stderr.splitlines()[-1] == "heavy modules: ", run.stderr


def test_infeasible_solve_explains_why_and_writes_diagnosis(tmp_path: Path) -> None:
    """Headroom 100 MW carries 80 MW IT at PUE 1.25: 20 MW short, 25 MW of headroom missing."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0)]
    out = tmp_path / "o"
    result = runner.invoke(app, ["solve", str(tiny.write()), "--out", str(out)])
    assert result.exit_code == 3
    assert "at most 80 MW can be energized - short 20 MW" in result.output
    assert "headroom at a short by 25 MW" in result.output
    diagnosis = json.loads((out / "diagnosis.json").read_text())
    assert diagnosis["relaxations"][0]["family"] == "interconnection.within_headroom"
    result = runner.invoke(app, ["diagnose", str(tiny.write())])
    assert result.exit_code == 3 and "short 20 MW" in result.output


def test_marginals_and_plots_are_written_on_request(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0), site("b", building_capex_musd_per_mw=2.0)]
    out = tmp_path / "o"
    result = runner.invoke(
        app, ["solve", str(tiny.write()), "--out", str(out), "--marginals", "--plots"]
    )
    assert result.exit_code == 0, result.output
    assert "Marginal values" in result.output
    assert "headroom,a,2026H2,800000" in (out / "marginal_values.csv").read_text()
    assert (out / "map.png").stat().st_size > 0 and (out / "ramp.png").stat().st_size > 0


def test_pareto_command_writes_front(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    out = tmp_path / "front"
    result = runner.invoke(
        app,
        [
            "pareto",
            str(tiny.write()),
            "--between",
            "cost,water",
            "--points",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "frontier.csv").exists() and (out / "frontier.svg").exists()
    bad = runner.invoke(app, ["pareto", str(tiny.write()), "--between", "cost,cost"])
    assert bad.exit_code == 2 and "two different metrics" in bad.output
