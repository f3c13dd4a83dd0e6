"""Benchmark: command-line start to first output (`gridsite validate`, `gridsite schema`).

    python benchmarks/bench_cli_start.py [--repeats N]

Each run is a fresh process (`python -m optimizer.cli ...`, as the `gridsite` script runs
it): the time from starting it to the first byte it prints, and to its exit. The figures are
the median over repeats, with the spread. Target (issue 11): first output within 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "validate": ["validate", str(ROOT / "data" / "default")],
    "schema": ["schema"],
}


def first_output_s(args: list[str]) -> tuple[float, float]:
    """Seconds to the first byte on stdout and to the exit of one fresh run."""
    start = time.perf_counter()
    run = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert run.stdout is not None
    run.stdout.read(1)
    first = time.perf_counter() - start
    run.stdout.read()
    if run.wait() != 0:
        raise SystemExit(f"gridsite {' '.join(args)} failed (exit {run.returncode})")
    return first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    for name, args in COMMANDS.items():
        runs = [first_output_s(args) for _ in range(repeats)]
        first = [r[0] for r in runs]
        total = [r[1] for r in runs]
        print(
            f"gridsite {name:<9} first output: median {statistics.median(first):.2f} s "
            f"({min(first):.2f}-{max(first):.2f}); exit: median {statistics.median(total):.2f} s"
            f" ({repeats} fresh processes)"
        )


if __name__ == "__main__":
    main()
