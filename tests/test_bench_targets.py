"""benchmarks/bench_targets.py reads what it reports from the runs themselves: no timing is
asserted here (speed targets are the benchmark's to print), only that the figures it reads
are the run's own."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_script("benchmarks/bench_targets.py")


def test_a_generated_solve_reports_the_plans_own_figures(bench: Any) -> None:
    """A small generated instance solved by ``gridsite solve`` in its own process: the gap,
    objective and termination are those of its plan.json, the wall time covers the build,
    hand-off and solve the plan records, and the memory is the child's (at least the
    ~100 MB that Python, Pyomo and HiGHS take)."""
    r = bench._solved(
        ["--sites", "12", "--periods", "2", "--typical-days", "2", "--cooling", "2", "--seed", "1"],
        0.05,
    )
    assert r["termination"] == "optimal"
    assert 0.0 <= r["gap"] <= 0.05
    assert r["objective_musd"] > 0.0
    assert r["wall_s"] >= r["build_s"] + r["handoff_s"] + r["solve_s"]
    assert r["cpu_s"] > 0.0
    assert 0.1 <= r["peak_rss_gb"] < 24.0


def test_the_facility_location_benchmark_prints_each_run_as_json(
    bench: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``facility_location.py --json`` prints, beside its table, one JSON line per model with
    the keys bench_targets reads; a 4 x 10 instance, both models at the same optimum."""
    monkeypatch.setattr(
        sys, "argv", ["facility_location.py", "--campuses", "4", "--regions", "10", "--json"]
    )
    load_script("benchmarks/facility_location.py").main()
    runs = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [r["model"] for r in runs] == ["textbook", "gridsite"]
    for r in runs:
        assert {"objective_musd", "total_s", "termination"} <= set(r)
        assert r["termination"].lower() == "optimal"
    assert runs[0]["objective_musd"] == pytest.approx(runs[1]["objective_musd"], rel=1e-4)


def test_the_proofs_other_seeds_are_printed_with_the_median_of_every_seed(bench: Any) -> None:
    """The default's proof on HiGHS's other seeds: each run's time in seed order, and the
    median over those and the scenario's own seed's run (here 5.0 among 8.3, 9.3, 6.7:
    (6.7 + 8.3) / 2); nothing when no other seed ran (``--seeds 1``)."""
    r = {"solve_cpu_seconds": 5.0, "other_seeds_cpu_seconds": [8.3, 9.3, 6.7]}
    assert bench._other_seeds(r) == "; HiGHS seeds 1-3: 8.3 / 9.3 / 6.7 (median of the 4: 7.5)"
    assert bench._other_seeds({"solve_cpu_seconds": 5.0, "other_seeds_cpu_seconds": []}) == ""
