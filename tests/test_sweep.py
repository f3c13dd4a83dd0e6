"""Sweeps on a real Dask LocalCluster (2 worker processes) over tiny scenarios: failing and
infeasible cases recorded without stopping the rest, reruns solve nothing, a killed sweep
resumes without solving a case twice, and bad sweep files stop before anything runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from optimizer import load_scenario
from optimizer.cli import app
from optimizer.sweep_file import load_sweep
from optimizer.sweep_runner import sweep
from tests.tiny import Tiny, site

runner = CliRunner()

GRID = """\
axes:
  target_multiplier: [1.0, 2.0]
  price_multiplier_by_region: [{r: 1.0}, {r: 3.0}]
cases:
  - name: too-much
    target_multiplier: 30
  - name: out-of-range
    headroom_multiplier: 10
solver: {mip_gap_frac: 0}
"""


def two_sites(tmp_path: Path) -> Path:
    """One period, 100 MW due; a: building 1 M USD/MW, b: 1.2, both up to 1,000 MW, zone z1
    of region r at 10 USD/MWh, no discounting, PUE 1.25 all year (10,950 MWh/yr per MW IT,
    half a year in the period: 0.05475 M USD per MW).

    target x1: a 100 MW, 100 + 5.475 = 105.475 M USD; x2: a 200 MW, 210.95; prices x3 add
    2 x 5.475 per 100 MW: 116.425 and 232.85. x30 (3,000 MW) is more than the two campuses
    hold: infeasible. Headroom x10 is 100,000 MW, beyond the 40,000 MW a campus may have:
    the case fails validation."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a"), site("b", building_capex_musd_per_mw=1.2)]
    tiny.price = {"z1": [10.0, 10.0]}
    return tiny.write()


def write_grid(tmp_path: Path, text: str) -> Path:
    grid = tmp_path / "grid.yaml"
    grid.write_text(text)
    return grid


def test_sweep_records_every_case_and_reruns_nothing(tmp_path: Path) -> None:
    scenario = two_sites(tmp_path)
    grid = load_sweep(write_grid(tmp_path, GRID), load_scenario(scenario))
    out = tmp_path / "sweep"
    result = sweep(scenario, grid, out, workers=2)
    table = pd.read_parquet(out / "results.parquet").set_index("name")
    assert len(table) == 6 and result.solved == 6
    solved = table[table["status"] == "optimal"]
    assert solved["npv_musd"].round(6).to_dict() == {
        "price_multiplier_by_region.r=1,target_multiplier=1": 105.475,
        "price_multiplier_by_region.r=3,target_multiplier=1": 116.425,
        "price_multiplier_by_region.r=1,target_multiplier=2": 210.95,
        "price_multiplier_by_region.r=3,target_multiplier=2": 232.85,
    }
    assert (solved["audit"] == "ok").all()
    assert table.loc["too-much", "status"] == "infeasible"
    assert "short" in table.loc["too-much", "reason"]
    assert (out / "cases" / table.loc["too-much", "case_id"] / "diagnosis.json").exists()
    assert table.loc["out-of-range", "status"] == "failed"
    assert "headroom_mw" in table.loc["out-of-range", "reason"]
    assert set(table["worker_pid"]) != {os.getpid()}  # solved on the workers

    with xr.open_dataset(out / "results.nc") as ds:
        assert ds.sizes["case"] == 6 and float(ds["site_it_mw"].sum()) == 600.0
    robust = pd.read_csv(out / "robustness.csv")
    assert robust.to_dict("records") == [
        {
            "site_id": "a",
            "open_share": 1.0,
            "cases_open": 4,
            "mean_it_mw": 150.0,
            "min_it_mw": 100.0,
            "max_it_mw": 200.0,
            "cooling": "liq:4",
        }
    ]

    journal = (out / "journal.jsonl").read_text().splitlines()
    again = sweep(scenario, grid, out, workers=2)
    assert again.solved == 0
    assert (out / "journal.jsonl").read_text().splitlines() == journal
    assert len(again.table) == 6


def test_killed_sweep_resumes_without_solving_a_case_twice(tmp_path: Path) -> None:
    scenario = two_sites(tmp_path)
    multipliers = ", ".join(f"{1 + i / 10:g}" for i in range(16))
    grid = write_grid(tmp_path, f"axes:\n  target_multiplier: [{multipliers}]\n")
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "optimizer.cli", "sweep", str(scenario)]
    command += ["--grid", str(grid), "--workers", "2", "--out", str(out)]
    run = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)  # the sweep, its scheduler and its workers
    run.wait()
    done_before = len(journal.read_text().splitlines())
    assert 3 <= done_before < 16

    result = runner.invoke(app, command[3:])
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["case_id"] for line in journal.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 16
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 16 and (table["status"] == "optimal").all()
    assert "16 cases (16 optimal)" in result.output


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "axes:\n  target_multiplier: [1.0]\n  hedroom_multiplier: [2]\n",
            ":3: axes.hedroom_multiplier:",
            "unknown field",
        ),
        (
            "cases:\n  - name: x\n    discount_rate_frac_per_year: 0.1\n",
            ":3: cases.0.discount_rate_frac_per_year:",
            "cannot be varied",
        ),
        ("axes:\n  target_multiplier: []\n", ":2: axes.target_multiplier:", "empty list"),
        (
            "axes:\n  price_multiplier_by_region:\n    - {r: 1.0}\n    - {r: -1}\n",
            ":4: axes.price_multiplier_by_region.1.r:",
            "greater than 0",
        ),
    ],
)
def test_bad_sweep_file_exits_2_and_runs_nothing(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    scenario = two_sites(tmp_path)
    grid = write_grid(tmp_path, text)
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", str(scenario), "--grid", str(grid), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{grid}{where}" in result.output and message in result.output
    assert "nothing was run" in result.output
    assert not out.exists()
