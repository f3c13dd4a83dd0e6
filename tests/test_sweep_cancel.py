"""Cancelling a sweep on a real Dask LocalCluster (2 worker processes): from the API (an
``Event`` the service sets) and by Ctrl-C on ``gridsite sweep``. Pending cases are cancelled,
finished ones keep their rows, a HiGHS solve running on a worker is interrupted, and a rerun
resumes without solving a finished case twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import DEFAULT_SCENARIO, load_scenario
from optimizer.cli import app
from optimizer.sweep_file import load_sweep
from optimizer.sweep_runner import sweep
from tests.test_sweep import two_sites, write_grid

runner = CliRunner()


def journal_ids(out: Path) -> list[str]:
    journal = out / "journal.jsonl"
    if not journal.exists():
        return []
    return [json.loads(line)["case_id"] for line in journal.read_text().splitlines()]


def sixteen_cases(tmp_path: Path) -> Path:
    multipliers = ", ".join(f"{1 + i / 10:g}" for i in range(16))
    return write_grid(tmp_path, f"axes:\n  target_multiplier: [{multipliers}]\n")


def test_cancel_from_the_api_keeps_finished_cases_and_a_rerun_resumes(tmp_path: Path) -> None:
    scenario = two_sites(tmp_path)
    grid = load_sweep(sixteen_cases(tmp_path), load_scenario(scenario))
    out = tmp_path / "sweep"
    cancel = threading.Event()

    def cancel_after_three() -> None:
        deadline = time.monotonic() + 120
        while len(journal_ids(out)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        cancel.set()

    threading.Thread(target=cancel_after_three, daemon=True).start()
    first = sweep(scenario, grid, out, workers=2, cancel=cancel)
    assert first.cancelled
    done = journal_ids(out)
    assert 3 <= len(done) < 16
    assert len(first.table) == len(done) == first.solved
    assert (first.table["status"] == "optimal").all()
    assert len(pd.read_parquet(out / "results.parquet")) == len(done)

    again = sweep(scenario, grid, out, workers=2)
    assert not again.cancelled and again.solved == 16 - len(done)
    ids = journal_ids(out)
    assert len(ids) == len(set(ids)) == 16  # no case solved twice
    assert len(again.table) == 16 and (again.table["status"] == "optimal").all()


def test_ctrl_c_on_gridsite_sweep_stops_it_and_the_same_command_resumes(tmp_path: Path) -> None:
    scenario = two_sites(tmp_path)
    grid = sixteen_cases(tmp_path)
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "optimizer.cli", "sweep", str(scenario)]
    command += ["--grid", str(grid), "--workers", "2", "--out", str(out)]
    run = subprocess.Popen(
        command,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(journal_ids(out)) < 3 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: the client, its scheduler and its workers
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    done = journal_ids(out)
    assert 3 <= len(done) < 16
    assert len(pd.read_parquet(out / "results.parquet")) == len(done)

    result = runner.invoke(app, command[3:])
    assert result.exit_code == 0, result.output
    ids = journal_ids(out)
    assert len(ids) == len(set(ids)) == 16
    assert "16 cases (16 optimal)" in result.output


@pytest.mark.slow
def test_cancel_interrupts_a_running_highs_solve(tmp_path: Path) -> None:
    """The default scenario to a zero gap takes HiGHS far longer than the 60 s limit given
    here; cancelled 10 s after the sweep starts (the case is in HiGHS by then), the sweep
    returns within seconds, records nothing, and a rerun would solve the case."""
    grid = write_grid(
        tmp_path,
        "cases:\n  - {name: exact, target_multiplier: 1.0}\n"
        "solver: {mip_gap_frac: 0, time_limit_s: 60}\n",
    )
    sweep_file = load_sweep(grid, load_scenario(DEFAULT_SCENARIO))
    out = tmp_path / "sweep"
    cancel = threading.Event()
    timer = threading.Timer(10.0, cancel.set)
    timer.start()
    start = time.monotonic()
    result = sweep(DEFAULT_SCENARIO, sweep_file, out, workers=1, cancel=cancel)
    after_cancel_s = time.monotonic() - start - 10.0
    assert result.cancelled and result.solved == 0 and len(result.table) == 0
    assert after_cancel_s < 20.0  # not the 50 s left of HiGHS's time limit
    assert journal_ids(out) == []
