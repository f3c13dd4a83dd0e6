"""Solver outcomes: no solution within the time limit, and interrupted writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer import DEFAULT_SCENARIO, SolveOptions, load_scenario, solve
from optimizer.api import RunClock
from optimizer.cli import app
from tests.tiny import EXACT, Tiny, site


def test_no_solution_within_the_time_limit_exits_4(tmp_path: Path) -> None:
    """A millisecond is not enough to load the default scenario (the limit bounds the whole
    run: exit 4, nothing written), nor for HiGHS to find any plan once given the model."""
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app, ["solve", str(DEFAULT_SCENARIO), "--out", str(out), "--time-limit", "0.001"]
    )
    assert result.exit_code == 4, result.output
    assert "time limit 0.001 s used up before prepare" in result.output
    assert not out.exists()
    unbounded_run = RunClock(math.inf, stage="prepare")
    options = SolveOptions(time_limit_s=0.001)
    solve(load_scenario(DEFAULT_SCENARIO), options, clock=unbounded_run).write(out)
    plan = json.loads((out / "plan.json").read_text())
    assert plan["status"] == "no_solution" and plan["termination"] == "time_limit"
    assert not (out / "sites.csv").exists()


def test_interrupted_write_leaves_no_plan_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the plan files are written: neither the plan folder nor a temporary
    folder is left behind, and an existing plan is kept whole."""
    tiny = Tiny(tmp_path)
    tiny.sites.append(site("b", building_capex_musd_per_mw=0.8))
    plan = solve(load_scenario(tiny.write()), EXACT)
    out = tmp_path / "plans" / "p"

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("xarray.Dataset.to_netcdf", interrupt)
    with pytest.raises(KeyboardInterrupt):
        plan.write(out)
    assert list((tmp_path / "plans").iterdir()) == []
    monkeypatch.undo()
    plan.write(out)
    before = (out / "plan.json").read_text()
    monkeypatch.setattr("xarray.Dataset.to_netcdf", interrupt)
    with pytest.raises(KeyboardInterrupt):
        plan.write(out)
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["p"]
    assert (out / "plan.json").read_text() == before
