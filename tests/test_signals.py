"""Signals and limits through the real command line: Ctrl-C or SIGTERM during the solve
stops HiGHS at once and writes its best plan (status interrupted, exit 130 or 143); a
second signal quits at once writing nothing; a signal while loading ends cleanly; the time
limit bounds the whole run; thread and seed options are checked."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from optimizer import load_scenario
from optimizer.api import DEFAULT_SCENARIO, RunClock, solve
from optimizer.solver import SolveOptions
from tests.cli_process import assert_complete, gridsite, one_line, start, wait_for_line
from tests.tiny import Tiny

#: The default scenario proved optimal (gap 0) runs far longer than these tests wait.
LONG_SOLVE = ["solve", str(DEFAULT_SCENARIO), "--mip-gap", "0", "--time-limit", "300"]


def _incumbent(line: str) -> bool:
    """A HiGHS branch-and-bound log row with a plan found (a gap in %, not inf)."""
    return line.count("%") >= 2


def _solving_with_a_plan(tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    run = start(*LONG_SOLVE, "--out", "plan", "--log", cwd=tmp_path, env=env)
    wait_for_line(run, "incumbent", timeout=120, stdout=True, matches=_incumbent)
    return run


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_solve_writes_the_best_plan_so_far(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    run = _solving_with_a_plan(tmp_path)
    run.send_signal(sig)
    signalled = time.monotonic()
    _, err = run.communicate(timeout=60)
    stopped_s = time.monotonic() - signalled
    assert run.returncode == code, err
    assert stopped_s < 30, "stopped by the signal, long before the 300 s limit"
    assert "Traceback" not in err
    plan = assert_complete(tmp_path / "plan")
    assert plan["status"] == "interrupted" and plan["termination"] == "interrupted"
    assert isinstance(plan["mip_gap"], float) and plan["mip_gap"] > 0
    assert "interrupted: wrote the best plan so far (interrupted, gap" in err


def test_second_signal_quits_at_once_writing_nothing(tmp_path: Path) -> None:
    """The first Ctrl-C stops HiGHS; the plan is being written (held just before it takes
    its place) when a second signal arrives: the process ends at once, no plan appears and
    no lock is left; the next run clears the half-written folder and says so."""
    run = _solving_with_a_plan(tmp_path, env={"GRIDSITE_PAUSE_AT": "before_swap:60"})
    run.send_signal(signal.SIGINT)
    wait_for_line(run, "paused before_swap")
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 143
    assert "interrupted again: stopped at once, nothing more written" in err
    assert not (tmp_path / "plan").exists() and not (tmp_path / ".plan.lock").exists()
    (stray,) = [p.name for p in tmp_path.iterdir() if p.name.startswith(".plan.tmp-")]
    tiny = Tiny(tmp_path).write()
    result = gridsite("solve", tiny, "--out", "plan", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"removed {tmp_path / stray}, left by an interrupted run" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".plan")] == []


def test_signal_while_preparing_ends_cleanly(tmp_path: Path) -> None:
    """Ctrl-C just after loading (``--log`` prints each stage as it ends): the run is
    preparing or building the model; it ends at once, no traceback, nothing written."""
    run = start(*LONG_SOLVE, "--out", "plan", "--log", cwd=tmp_path)
    wait_for_line(run, "load: ")
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert re.search(r"^interrupted during (prepare|build|hand-off); nothing written\.$", err, re.M)
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_time_limit_bounds_the_whole_run(tmp_path: Path) -> None:
    """Half a second does not get the default scenario through loading and preparing: exit
    4, saying where the time went, nothing written."""
    result = gridsite("solve", "--out", "plan", "--time-limit", "0.5", cwd=tmp_path)
    assert result.returncode == 4
    line = one_line(result.stderr)
    assert re.fullmatch(
        r"error: time limit 0\.5 s used up before (prepare|build|hand-off|solve) "
        r"\(load \d+\.\d\d s(, prepare \d+\.\d\d s)?(, build \d+\.\d\d s)?"
        r"(, hand-off \d+\.\d\d s)?\); raise --time-limit; nothing written\.",
        line,
    ), line
    assert list(tmp_path.iterdir()) == []


def test_threads_beyond_the_cores_are_clamped_and_a_bad_seed_refused(tmp_path: Path) -> None:
    folder = Tiny(tmp_path).write()
    cores = os.cpu_count()
    result = gridsite("solve", folder, "--out", "a", "--threads", "10000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: 10000 threads asked, this machine has {cores} cores: using {cores}"
        in result.stderr
    )
    result = gridsite("solve", folder, "--out", "b", "--seed", str(2**31), cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"error: seed {2**31} is outside HiGHS's [0, 2147483647]; nothing written."
    )
    assert not (tmp_path / "b").exists()


def test_library_solve_stops_when_its_cancel_event_is_set() -> None:
    """What a service does: set ``SolveOptions.cancel`` from another thread once HiGHS runs;
    the solve returns at once, termination interrupted, with its best plan if it had one."""
    cancel = threading.Event()
    clock = RunClock(300, stage="prepare")

    def cancel_once_solving() -> None:
        while clock.stage != "solve":
            time.sleep(0.01)
        cancel.set()

    watcher = threading.Thread(target=cancel_once_solving)
    watcher.start()
    options = SolveOptions(time_limit_s=300, mip_gap_frac=0.0, cancel=cancel)
    plan = solve(load_scenario(DEFAULT_SCENARIO), options, clock=clock)
    watcher.join()
    assert plan.result.termination == "interrupted"
    assert plan.status == ("interrupted" if plan.has_solution else "no_solution")
    assert json.loads(json.dumps(plan.to_dict()))["termination"] == "interrupted"
