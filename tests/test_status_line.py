"""The status line of the terminal summary and the HTML report says the status once, and
HiGHS's words only when they say more (``optimal``, not ``optimal (optimal: Optimal)``).

Real plans of tiny scenarios give the optimal and infeasible lines; the stops HiGHS reports
for a run cut short (time limit, interrupt, "infeasible or unbounded") are the same plan with
the solve result a plan.json holds after such a run (HiGHS's own messages)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from optimizer.html_report import render_report
from optimizer.plan import Plan
from optimizer.report import print_plan, status_line
from tests.tiny import Tiny


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """One campus, 100 MW due: optimal, gap closed."""
    return Tiny(tmp_path_factory.mktemp("solved")).solve()


def terminal_status(plan: Plan) -> str:
    console = Console(record=True, width=200)
    print_plan(plan, console)
    (line,) = [x for x in console.export_text().splitlines() if x.startswith("status")]
    return line.removeprefix("status").strip()


def html_status(plan: Plan) -> str:
    page = render_report(plan)
    match = re.search(r"<tr><th>status</th><td>(.*?)</td></tr>", page)
    assert match is not None
    return match.group(1)


def test_an_optimal_plan_says_optimal_once(solved: Plan) -> None:
    assert solved.result.message == "Optimal"  # what HiGHS said, no longer repeated
    assert status_line(solved) == terminal_status(solved) == html_status(solved) == "optimal"
    within = replace(solved, result=replace(solved.result, mip_gap_frac=0.003))
    assert status_line(within) == terminal_status(within) == "optimal within 0.30 %"


def test_an_infeasible_plan_says_infeasible_once(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites[0]["max_it_mw"] = 50.0  # 100 MW due, 50 MW possible
    plan = tiny.solve()
    assert (plan.status, plan.result.message) == ("infeasible", "Infeasible")
    assert status_line(plan) == terminal_status(plan) == html_status(plan) == "infeasible"


@pytest.mark.parametrize(
    ("termination", "solution", "message", "gap", "expected"),
    [
        ("time_limit", "feasible", "Time limit reached", 0.021, "feasible within 2.10 % "),
        ("time_limit", "none", "Time limit reached", None, "no_solution "),
        ("interrupted", "feasible", "Interrupted by user", 0.05, "interrupted"),
        ("infeasible", "none", "Primal infeasible or unbounded", None, "infeasible "),
        ("iteration_limit", "feasible", "", 0.1, "feasible within 10.00 % "),
    ],
)
def test_a_stopped_run_adds_why_only_when_it_says_more(
    solved: Plan,
    termination: str,
    solution: str,
    message: str,
    gap: float | None,
    expected: str,
) -> None:
    result = replace(
        solved.result,
        termination=termination,  # type: ignore[arg-type]
        solution=solution,  # type: ignore[arg-type]
        message=message,
        mip_gap_frac=gap,
    )
    plan = replace(solved, result=result)
    said = {
        ("time_limit", "feasible"): "(Time limit reached)",
        ("time_limit", "none"): "(Time limit reached)",
        ("interrupted", "feasible"): "",  # "Interrupted by user" only repeats the status
        ("infeasible", "none"): "(Primal infeasible or unbounded)",
        ("iteration_limit", "feasible"): "(iteration limit)",  # no message: the termination
    }[termination, solution]
    assert status_line(plan) == terminal_status(plan) == (expected + said).strip()
