"""Run the real ``gridsite`` command line in a fresh process (signals, locks and crashes
need a process of their own)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

COMMAND = [sys.executable, "-m", "optimizer.cli"]
MANIFEST = ".gridsite"


def gridsite(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``gridsite ARGS`` in ``cwd``, to the end."""
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``gridsite ARGS`` in ``cwd``, running; stderr is a pipe to wait on."""
    return subprocess.Popen(
        [*COMMAND, *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(
    process: subprocess.Popen[str],
    text: str,
    timeout: float = 60,
    stdout: bool = False,
    matches: Callable[[str], bool] | None = None,
) -> str:
    """Read the process's stderr (or ``stdout``) until a line holds ``text`` (or ``matches``
    it); the lines read so far."""
    stream = process.stdout if stdout else process.stderr
    assert stream is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if (matches or (lambda s: text in s))(line):
            return seen
    raise AssertionError(f"{text!r} never appeared; read so far:\n{seen}")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (to show nothing changed)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_complete(folder: Path) -> dict[str, object]:
    """``folder`` is a whole gridsite folder: its manifest lists exactly its files, each with
    the size and SHA-256 it has. Returns plan.json."""
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["complete"] is True
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    assert files == set(manifest["files"])
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    return json.loads((folder / "plan.json").read_text())  # type: ignore[no-any-return]


def one_line(text: str) -> str:
    """The single line of ``text``, with no traceback."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Traceback" not in text and len(lines) == 1, text
    return lines[0]
