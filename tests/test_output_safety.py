"""Output folders: gridsite replaces only its own folders (or empty or new ones), refuses
everything else before any work, replaces crash-safely and one run at a time. Every case
runs the real command line in a fresh process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from optimizer import load_scenario, solve
from optimizer.output import OutputBusyError, OutputError, claim, default_target, replace_folder
from optimizer.solver import SolveOptions
from optimizer.writer import derive_scenario
from tests.cli_process import (
    MANIFEST,
    assert_complete,
    gridsite,
    one_line,
    start,
    tree,
    wait_for_line,
)
from tests.tiny import Tiny, site

EXACT = SolveOptions(mip_gap_frac=0.0)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working folder holding a tiny scenario, a folder of the user's, a file of the user's
    and a plan gridsite wrote, to which the user added a note."""
    root = tmp_path / "project"
    root.mkdir()
    tiny = Tiny(root)
    tiny.sites.append(site("b", building_capex_musd_per_mw=0.8))
    tiny.write("scenario")
    (root / "docs").mkdir()
    (root / "docs" / "thesis.txt").write_text("three years of work\n")
    (root / "notes.txt").write_text("a file\n")
    solve(load_scenario(root / "scenario"), EXACT).write(root / "annotated")
    (root / "annotated" / "my-notes.txt").write_text("mine\n")
    return root


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only for this process: immutable for root (who ignores modes),
    mode 555 otherwise."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a read-only folder")
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable folders")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


REFUSED = {
    "docs": "docs is not a gridsite folder (thesis.txt would be lost)",
    "notes.txt": "notes.txt is a file, not a folder",
    ".": ". is the current folder or holds it",
    "": "the output folder is empty",
    "..": ".. is the current folder or holds it",
    "scenario": "scenario is or holds the scenario folder",
    "scenario/plan": "scenario/plan is inside the scenario folder",
    "notes.txt/plan": "notes.txt is not a folder: cannot make notes.txt/plan there",
    "annotated": "annotated holds files (my-notes.txt would be lost)",
}


@pytest.mark.parametrize("out", list(REFUSED))
def test_out_that_is_not_gridsite_s_to_replace_is_refused_and_nothing_changes(
    project: Path, out: str
) -> None:
    before = tree(project.parent)
    result = gridsite("solve", "scenario", "--out", out, cwd=project)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"error: {REFUSED[out]}") and line.endswith("; nothing written.")
    assert tree(project.parent) == before


def test_out_is_refused_before_the_scenario_is_read(project: Path) -> None:
    """The output check comes first: a broken scenario is not even loaded."""
    (project / "scenario" / "sites.csv").write_text("garbage\n")
    result = gridsite("solve", "scenario", "--out", "docs", cwd=project)
    assert result.returncode == 2
    assert "docs is not a gridsite folder" in one_line(result.stderr)


def test_read_only_out_is_refused(project: Path) -> None:
    with read_only(project / "locked"):
        result = gridsite("solve", "scenario", "--out", "locked/plan", cwd=project)
        assert result.returncode == 2
        assert "locked is read-only: cannot write locked/plan there" in one_line(result.stderr)
        result = gridsite("solve", "scenario", "--out", "locked", cwd=project)
        assert result.returncode == 2
        assert "locked is read-only" in one_line(result.stderr)


def test_pareto_refuses_a_user_folder_too(project: Path) -> None:
    before = tree(project)
    args = ["pareto", "scenario", "--between", "cost,water", "--points", "2", "--out", "docs"]
    result = gridsite(*args, cwd=project)
    assert result.returncode == 2 and "docs is not a gridsite folder" in result.stderr
    assert tree(project) == before


@pytest.mark.parametrize("name", ["../victim", ".", "..", "/tmp/victim", "a/../../victim"])
def test_a_scenario_name_never_becomes_a_path(project: Path, name: str) -> None:
    """With no --out the plan goes to out/<name>; a name that is a path is refused (by the
    scenario's validation or, failing that, by the output guard) and nothing outside out/
    is touched."""
    (project / "victim").mkdir()
    (project / "victim" / "keep.txt").write_text("keep\n")
    config = yaml.safe_load((project / "scenario" / "scenario.yaml").read_text())
    config["name"] = name
    (project / "scenario" / "scenario.yaml").write_text(yaml.safe_dump(config))
    before = tree(project)
    result = gridsite("solve", "scenario", cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "name" in result.stderr
    assert tree(project) == before
    with pytest.raises(OutputError, match="cannot be a folder name"):
        default_target(project / "out", name)


def test_own_plan_folder_and_empty_folder_are_replaced(project: Path) -> None:
    (project / "empty").mkdir()
    for out in ("empty", "new/deeper/plan"):
        result = gridsite("solve", "scenario", "--out", out, "--mip-gap", "0", cwd=project)
        assert result.returncode == 0, result.stderr
        assert assert_complete(project / out)["objective_musd"] == 80.0
    assert sorted(p.name for p in (project / "new" / "deeper").iterdir()) == ["plan"]
    result = gridsite("solve", "scenario", cwd=project)
    assert result.returncode == 0 and assert_complete(project / "out" / "tiny")


def _old_and_new_plans(project: Path) -> tuple[Path, bytes]:
    """A plan at project/plan with a first objective; the scenario then changes (site b
    becomes dearer) so the next solve writes a different plan. Returns the folder and the
    first plan.json."""
    folder = project / "plan"
    result = gridsite("solve", "scenario", "--out", "plan", "--mip-gap", "0", cwd=project)
    assert result.returncode == 0, result.stderr
    tiny = Tiny(project)
    tiny.sites.append(site("b", building_capex_musd_per_mw=0.9))
    tiny.write("scenario")
    return folder, (folder / "plan.json").read_bytes()


def _leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if p.name.startswith(".plan"))


def test_sigkill_before_the_swap_leaves_the_whole_old_plan(project: Path) -> None:
    """Killed with the new plan written beside the old one: the old plan is whole at the
    path; the next run removes the leftover, says so, and writes the new plan."""
    folder, old = _old_and_new_plans(project)
    args = ["solve", "scenario", "--out", "plan", "--mip-gap", "0"]
    run = start(*args, cwd=project, env={"GRIDSITE_PAUSE_AT": "before_swap:60"})
    wait_for_line(run, "paused before_swap")
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert (folder / "plan.json").read_bytes() == old
    assert_complete(folder)
    stray = [name for name in _leftovers(project) if name.startswith(".plan.tmp-")]
    assert len(stray) == 1
    result = gridsite(*args, cwd=project)
    assert result.returncode == 0, result.stderr
    assert f"note: removed {project / stray[0]}, left by an interrupted run" in result.stderr
    assert assert_complete(folder)["objective_musd"] == 90.0
    assert _leftovers(project) == []


def test_sigkill_after_the_swap_leaves_the_whole_new_plan(project: Path) -> None:
    folder, old = _old_and_new_plans(project)
    args = ["solve", "scenario", "--out", "plan", "--mip-gap", "0"]
    run = start(*args, cwd=project, env={"GRIDSITE_PAUSE_AT": "after_swap:60"})
    wait_for_line(run, "paused after_swap")
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert assert_complete(folder)["objective_musd"] == 90.0
    (stray,) = [name for name in _leftovers(project) if name.startswith(".plan.tmp-")]
    assert (project / stray / "plan.json").read_bytes() == old
    result = gridsite(*args, cwd=project)
    assert result.returncode == 0 and "left by an interrupted run" in result.stderr
    assert _leftovers(project) == []


def test_two_runs_to_one_folder_one_wins_the_other_is_refused(project: Path) -> None:
    """The first run holds the lock (paused just before its swap); a second run to the same
    folder is refused at once, in one line, and leaves nothing; the first then finishes."""
    folder, _ = _old_and_new_plans(project)
    args = ["solve", "scenario", "--out", "plan", "--mip-gap", "0"]
    first = start(*args, cwd=project, env={"GRIDSITE_PAUSE_AT": "before_swap:120"})
    wait_for_line(first, "paused before_swap")
    second = gridsite(*args, cwd=project)
    assert second.returncode == 2
    line = one_line(second.stderr)
    assert f"plan is being written by another gridsite run (pid {first.pid})" in line
    first.send_signal(signal.SIGUSR1)  # resume the first run
    _, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert assert_complete(folder)["objective_musd"] == 90.0
    assert _leftovers(project) == []


def test_two_runs_started_together_end_with_one_whole_plan(project: Path) -> None:
    """No pause: whichever order the lock gives, each run either writes a whole plan or is
    refused in one line, and nothing is left beside the folder."""
    args = ["solve", "scenario", "--out", "plan", "--mip-gap", "0"]
    runs = [start(*args, cwd=project) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0 or (
            run.returncode == 2 and "being written by another gridsite run" in one_line(err)
        ), err
    assert any(run.returncode == 0 for run in runs)
    assert assert_complete(project / "plan")["objective_musd"] == 80.0
    assert _leftovers(project) == []


def test_symlink_fallback_swaps_whole_plans(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2 is missing the folder becomes a link to a versioned folder, swapped
    atomically; a run killed in the one step that moves a real folder aside is recovered."""
    monkeypatch.setattr("optimizer.output._renameat2", lambda: None)
    plan = solve(load_scenario(project / "scenario"), EXACT)
    out = project / "plan"
    plan.write(out)  # new: a real folder
    plan.write(out)  # real folder -> link to a version
    assert out.is_symlink() and assert_complete(out)
    first = os.readlink(out)
    plan.write(out)  # link -> link
    assert os.readlink(out) != first and assert_complete(out)
    assert _leftovers(project) == [os.readlink(out)]
    # A kill between moving the folder aside and linking the new one: no folder at the path.
    real = project / "real"
    plan.write(real)
    os.rename(real, real.with_name(".real.old-1"))
    notes: list[str] = []
    replace_folder(real, lambda tmp: (tmp / "x.txt").write_text("x"), say=notes.append)
    assert notes[0].startswith(f"recovered {real} from .real.old-1")
    assert (real / "x.txt").exists()


def test_derive_scenario_replaces_only_what_it_derived(project: Path) -> None:
    base = project / "scenario"
    derived = derive_scenario(base, project / "variant", name="variant", tables={})
    assert (derived / MANIFEST).exists()
    derive_scenario(base, derived, name="variant-2", tables={})
    assert load_scenario(derived).config.name == "variant-2"
    before = tree(project)
    for target in (project / "docs", base, project / "notes.txt"):
        with pytest.raises(OutputError):
            derive_scenario(base, target, name="x", tables={})
    assert tree(project) == before


def test_a_second_thread_is_refused_like_a_second_process(tmp_path: Path) -> None:
    """A service writing from several threads: only the thread holding the claim writes."""
    out = tmp_path / "plan"
    refused: list[BaseException] = []

    def write_from_another_thread() -> None:
        try:
            replace_folder(out, lambda tmp: (tmp / "x.txt").write_text("x"))
        except OutputBusyError as e:
            refused.append(e)

    with claim(out):
        other = threading.Thread(target=write_from_another_thread)
        other.start()
        other.join()
        replace_folder(out, lambda tmp: (tmp / "mine.txt").write_text("mine"))
    assert len(refused) == 1 and "being written by another gridsite run" in str(refused[0])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "mine.txt"]
