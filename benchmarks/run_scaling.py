"""How gridsite scales to a national screen: the default scenario, 200, 500 and 1,000 sites.

    python benchmarks/run_scaling.py [--sizes default,200,500,1000] [--repeats 3]
        [--large-repeats 1] [--time-limit 600] [--work DIR] [--out benchmarks/RESULTS.md]

The product code measured is a snapshot of one commit (``--commit``, default HEAD) unpacked by
``git archive`` into ``--work`` with these benchmark scripts copied in, so work in progress in
the tree (and commits landing during a long run) never mix into one table. Synthetic
instances come from ``generate.py`` (10 half-year periods, 4 cooling technologies,
``--typical-days`` typical days plus tsam's extreme days, seed 0) and are kept in ``--work``.
Every measurement is its own process (``measure.py``), one after the other, never two at once:

* ``pyomo`` (``--repeats``; ``--large-repeats`` from 1,000 sites): the product path, load,
  prepare, build, hand-off, solve to the gap within the time limit; medians are reported;
* ``build`` with and without the garbage collector paused during the build;
* ``direct`` (``--repeats``): ``direct_build.py``'s array build + passModel;
* ``check`` (default and 200 sites): the direct model equals the Pyomo model, both solved;
* ``contrib``, ``appsi``, ``lpfile`` (``--alternatives-at``): Pyomo's other hand-offs;
* ``profile``, ``split``, ``zonerows`` (``--alternatives-at``): cProfile per formulation
  module and of the hand-off, the hand-off step by step, the zonal rows built two ways;
* ``variant`` (``--variants-at``): the direct model with the zonal limit restated exactly
  (aggregated by weather station and cooling, hours on the convex hull, both), solved.

Raw results go to ``benchmarks/results.json`` as they come (a rerun with ``--report-only``
rewrites the report from it); ``--out`` gets the tables (``scaling_report.py``). A section
starting ``## Analysis`` in an existing report is kept.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import SPEC_FILE, Spec  # noqa: E402
from scaling_report import Run, report  # noqa: E402

PERIODS, COOLING, SEED = 10, 4, 0


@dataclass(frozen=True)
class Case:
    label: str
    scenario: Path
    sites: int
    spec: Spec | None
    repeats: int


# --------------------------------------------------------------------------- running


def _snapshot(commit: str, work: Path) -> tuple[Path, str]:
    """The tree of ``commit`` unpacked under ``work``, with these benchmark scripts in it."""
    sha = subprocess.run(
        ["git", "rev-parse", commit], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    root = work / f"snapshot-{sha[:10]}"
    if not root.exists():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha], capture_output=True, cwd=ROOT, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
    (root / "benchmarks").mkdir(exist_ok=True)
    for script in HERE.glob("*.py"):
        shutil.copy2(script, root / "benchmarks" / script.name)
    return root, sha


def _cases(args: argparse.Namespace, root: Path) -> list[Case]:
    cases = []
    for size in args.sizes.split(","):
        if size == "default":
            cases.append(Case("default", root / "data" / "default", 45, None, args.repeats))
            continue
        n = int(size)
        spec = Spec(
            sites=n,
            periods=PERIODS,
            typical_days=args.typical_days,
            cooling=COOLING,
            seed=SEED,
        )
        folder = args.work / f"sites{n}-p{PERIODS}-d{args.typical_days}-k{COOLING}-seed{SEED}"
        if not (folder / SPEC_FILE).exists():
            command = [
                *(sys.executable, str(root / "benchmarks" / "generate.py"), str(folder)),
                *("--sites", str(n), "--periods", str(PERIODS), "--cooling", str(COOLING)),
                *("--typical-days", str(args.typical_days), "--seed", str(SEED)),
            ]
            subprocess.run(command, check=True, cwd=root)
        repeats = args.large_repeats if n >= 1000 else args.repeats
        cases.append(Case(f"{n} sites", folder, n, spec, repeats))
    return cases


def _run(root: Path, kind: str, scenario: Path, *extra: str) -> Run:
    """One measurement in a fresh process; its last line of output is the JSON result."""
    command = [sys.executable, str(root / "benchmarks" / "measure.py"), kind, str(scenario)]
    print(f"  {kind:8s} {scenario.name} {' '.join(extra)}", flush=True)
    done = subprocess.run([*command, *extra], capture_output=True, text=True, cwd=root)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"kind": kind, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    result: Run = json.loads(lines[-1])
    return result


def _machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import highspy

    h = highspy.Highs()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "pyomo": version("pyomo"),
        "highspy": version("highspy"),
        "highs": f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}",
        "numpy": version("numpy"),
        "scipy": version("scipy"),
        "tsam": version("tsam"),
        "xarray": version("xarray"),
    }


def _save(raw: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(raw, indent=1) + "\n")


def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    root, sha = _snapshot(args.commit, args.work)
    raw: dict[str, Any] = {
        "machine": {**_machine(), "commit": sha},
        "time_limit_s": args.time_limit,
        "cases": {},
    }
    alternatives_at = set(args.alternatives_at.split(",")) if args.alternatives_at else set()
    limit = ["--time-limit", str(args.time_limit)]
    for case in _cases(args, root):
        print(f"{case.label}: {case.scenario}", flush=True)
        runs: dict[str, Any] = {"scenario": str(case.scenario), "sites": case.sites}
        if case.spec is not None:
            runs["spec"] = case.spec.__dict__
        raw["cases"][case.label] = runs
        key = "default" if case.spec is None else str(case.sites)
        runs["pyomo"] = [_run(root, "pyomo", case.scenario, *limit) for _ in range(case.repeats)]
        _save(raw, args.raw)
        runs["direct"] = [_run(root, "direct", case.scenario) for _ in range(case.repeats)]
        runs["build"] = _run(root, "build", case.scenario)
        runs["build_pause_gc"] = _run(root, "build", case.scenario, "--pause-gc")
        _save(raw, args.raw)
        if key in ("default", "200"):
            gap = ["--gap", str(args.check_gap)] if key == "default" else []
            runs["check"] = _run(root, "check", case.scenario, *limit, *gap)
            _save(raw, args.raw)
        if key in alternatives_at:
            for kind in ("contrib", "appsi", "lpfile", "profile", "split", "zonerows"):
                runs[kind] = _run(root, kind, case.scenario)
                _save(raw, args.raw)
    return raw


VARIANTS: dict[str, list[str]] = {
    "as built": [],
    "aggregated": ["--aggregate"],
    "hull hours": ["--hull"],
    "both": ["--aggregate", "--hull"],
}


def measure_variants(args: argparse.Namespace, raw: dict[str, Any]) -> None:
    """Formulation experiments on the direct model (``direct_build.Variant``), one run per
    HiGHS random seed (MIP solve times vary with the seed as much as with the model)."""
    root, _ = _snapshot(raw["machine"]["commit"], args.work)
    wanted = set(args.variants_at.split(",")) if args.variants_at else set()
    seeds = [int(x) for x in args.variant_seeds.split(",")]
    limit = ["--time-limit", str(args.time_limit)]
    for case in _cases(args, root):
        if str(case.sites) not in wanted or case.spec is None:
            continue
        print(f"{case.label}: variants", flush=True)
        runs = raw["cases"].setdefault(case.label, {"sites": case.sites})
        variants = runs.setdefault("variants", {})
        for seed in seeds:
            for name, flags in VARIANTS.items():
                done = variants.setdefault(name, [])
                if isinstance(done, dict):  # a single run from an earlier layout
                    done = variants[name] = [done]
                if any(r.get("seed", 0) == seed for r in done):
                    continue
                log = []
                if args.log_dir:
                    args.log_dir.mkdir(parents=True, exist_ok=True)
                    slug = f"{case.sites}-{name.replace(' ', '-')}-seed{seed}"
                    log = ["--log-file", str(args.log_dir / f"highs-{slug}.log")]
                extra = [*limit, *flags, "--seed", str(seed), *log]
                done.append(_run(root, "variant", case.scenario, *extra))
                _save(raw, args.raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,200,500,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large-repeats", type=int, default=1, help="runs from 1,000 sites")
    parser.add_argument("--typical-days", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--alternatives-at", default="200,1000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gridsite-scaling"))
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--raw", type=Path, default=HERE / "results.json")
    parser.add_argument("--commit", default="HEAD", help="commit of the product code measured")
    parser.add_argument(
        "--check-gap", type=float, default=1e-4, help="gap of the default scenario's check"
    )
    parser.add_argument("--variants-at", default="200,1000")
    parser.add_argument("--variant-seeds", default="0,1,2", help="HiGHS seeds of the variants")
    parser.add_argument("--log-dir", type=Path, default=None, help="HiGHS logs of variants")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--variants-only", action="store_true", help="add the variants to --raw's results"
    )
    args = parser.parse_args()
    if args.report_only or args.variants_only:
        raw = json.loads(args.raw.read_text())
    else:
        raw = measure_all(args)
    if not args.report_only:
        measure_variants(args, raw)
    report(raw, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
