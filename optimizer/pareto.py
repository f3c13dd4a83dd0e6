"""Trade-offs: the Pareto front between two metrics by the epsilon-constraint method.

Weighted sums miss the non-convex parts of a MILP front, so one metric is minimised while the
other is bounded: ``minimise first s.t. second <= eps``. The model is built and handed to HiGHS
once; each point only moves the bound of one column (the second metric) and starts from the
plan of the next tighter bound, which meets it. Each point is a full plan.

Metrics: ``cost`` (NPV, M USD), ``energy`` (MWh bought in the horizon), ``water`` (m3 in the
horizon), ``carbon`` (t CO2e in the horizon).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from formulations import build_model
from optimizer.api import gc_paused
from optimizer.extract import extract_plan
from optimizer.heuristic import constructive_start, start_wanted
from optimizer.output import replace_folder
from optimizer.plan import Plan
from optimizer.prepare import prepare
from optimizer.scenario import Scenario
from optimizer.solver import HighsModel, SolveOptions, SolveResult
from optimizer.surgery import metric_column, replace_objective

#: metric -> (expression on the model, scale to model units, label with unit)
METRICS: dict[str, tuple[Callable[[pyo.ConcreteModel], Any], float, str]] = {
    "cost": (lambda m: m.objective.total_cost_musd, 1.0, "NPV cost, M USD"),
    "energy": (lambda m: m.metrics["energy_mwh"], 1e-6, "energy bought, MWh"),
    "water": (lambda m: m.metrics["water_m3"], 1e-6, "water, m3"),
    "carbon": (lambda m: m.metrics["emissions_tco2"], 1e-6, "emissions, t CO2e"),
}
SECOND_METRIC_GAP = 1e-6
PLAN_COLUMN = {
    "cost": "cost_musd",
    "energy": "energy_mwh",
    "water": "water_m3",
    "carbon": "emissions_tco2",
}


class NoPlanError(Exception):
    """The scenario has no plan at all, so it has no front."""


@dataclass
class Front:
    """A trade-off front: its points' metrics, their plans and the knee."""

    first: str
    second: str
    table: pd.DataFrame
    """One row per point: epsilon, the four metrics, status, gap, solve seconds."""
    plans: list[Plan]
    knee: int
    """Index of the knee point: farthest from the chord between the two ends (normalised)."""

    def write(self, out_dir: str | Path) -> Path:
        """frontier.csv, frontier.png/svg and one plan folder per point, replacing
        ``out_dir`` as a whole (:func:`optimizer.output.replace_folder`)."""

        def fill(out: Path) -> None:
            self.table.to_csv(out / "frontier.csv", index=False, float_format="%.6g")
            for i, plan in enumerate(self.plans):
                plan.write(out / f"point_{i:02d}")
            plot_front(self, out / "frontier.png")
            plot_front(self, out / "frontier.svg")

        return replace_folder(out_dir, fill, kind="pareto")


def plan_metrics(plan: Plan) -> dict[str, float]:
    totals = plan.totals
    return {
        "cost_musd": float(plan.cost_npv_musd.get("total", math.nan)),
        "energy_mwh": float(totals["energy_mwh"].sum()),
        "water_m3": float(totals["water_m3"].sum()),
        "emissions_tco2": float(totals["emissions_tco2"].sum()),
    }


@gc_paused
def pareto_front(
    scenario: Scenario, first: str, second: str, points: int, options: SolveOptions
) -> Front:
    """Trace ``points`` plans from the least-``first`` plan to the least-``second`` plan."""
    if first not in METRICS or second not in METRICS or first == second:
        raise ValueError(f"--between takes two different metrics of {', '.join(METRICS)}")
    if points < 2:
        raise ValueError("--points must be at least 2")
    start = time.perf_counter()
    data = prepare(scenario)
    # On-site output in closed form (``onsite.dispatch_groups``) is exact only for the cost
    # objective: the front minimises other metrics too, so it keeps every hour's rows.
    model = build_model(data.assign_attrs(hourly_dispatch=1))
    first_expr, first_scale, _ = METRICS[first]
    second_expr, second_scale, _ = METRICS[second]
    replace_objective(model, "pareto_objective", first_scale * first_expr(model))
    metric = metric_column(
        model,
        "pareto_metric",
        second_scale * second_expr(model),
        doc=f"{second} in model units (x{second_scale:g})",
    )
    highs = HighsModel(model, options)
    build_seconds = time.perf_counter() - start
    column = highs.column_of(metric)

    # The two ends: least `first` (second unbounded), then least `second`.
    begun = time.perf_counter()
    started = start_wanted(options, highs) and constructive_start(model, highs) is not None
    start_seconds = time.perf_counter() - begun
    loose = highs.solve(warm_start=True if started else None)
    # as in optimizer.api.solve: the start's LP and repair are part of the loose end's solve
    loose = replace(loose, solve_seconds=loose.solve_seconds + start_seconds)
    if loose.solution == "none":
        raise NoPlanError(f"no plan for this scenario ({loose.termination})")
    high = float(metric.value)
    loose_plan = extract_plan(model, data, replace(loose), build_seconds)
    # The second metric often spans well under 1 % of its value: its minimum needs a gap
    # far tighter than the points' (which are judged on the first metric).
    highs.minimise_column(column)
    highs.set_gap(SECOND_METRIC_GAP)
    tight = highs.solve(warm_start=True)
    highs.set_gap(options.mip_gap_frac)
    low = float(metric.value) if tight.solution != "none" else high
    highs.restore_objective()

    # The points from the tight end to the loose one, so that each starts from a plan that
    # meets its bound (the one before it, with less of the second metric). The loose end is
    # the least-`first` plan itself: bounding the second metric at that plan's own value
    # leaves it feasible, and its bound on the first metric still holds.
    epsilons = np.linspace(high, low, points)
    solved: dict[int, tuple[Plan, SolveResult]] = {0: (loose_plan, loose)}
    for i in range(points - 1, 0, -1):
        highs.set_column_upper(column, float(epsilons[i]) * (1 + 1e-9) + 1e-9)
        result = highs.solve(warm_start=True)
        solved[i] = (extract_plan(model, data, replace(result), build_seconds), result)

    rows: list[dict[str, Any]] = []
    plans: list[Plan] = []
    for i, eps in enumerate(epsilons):
        plan, result = solved[i]
        plans.append(plan)
        metrics = plan_metrics(plan) if plan.has_solution else {}
        rows.append(
            {
                "point": i,
                f"{second}_bound": float(eps) / second_scale,
                **metrics,
                "status": plan.status,
                "mip_gap": result.mip_gap_frac,
                "solve_seconds": result.solve_seconds,
            }
        )
    table = pd.DataFrame(rows)
    return Front(first, second, table, plans, _knee(table, first, second))


def _knee(table: pd.DataFrame, first: str, second: str) -> int:
    x = table[PLAN_COLUMN[second]].to_numpy(dtype=float)
    y = table[PLAN_COLUMN[first]].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return 0
    xs = (x - x[ok].min()) / (np.ptp(x[ok]) or 1.0)
    ys = (y - y[ok].min()) / (np.ptp(y[ok]) or 1.0)
    i0, i1 = np.flatnonzero(ok)[[0, -1]]
    dx, dy = xs[i1] - xs[i0], ys[i1] - ys[i0]
    distance = np.abs(dy * (xs - xs[i0]) - dx * (ys - ys[i0])) / (math.hypot(dx, dy) or 1.0)
    distance[~ok] = -1
    return int(np.argmax(distance))


def plot_front(front: Front, path: Path) -> None:
    """The front as a PNG, drawn on its own Agg canvas: no pyplot, so a notebook's backend
    (inline plots) is left as it was."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = front.table[PLAN_COLUMN[front.second]]
    y = front.table[PLAN_COLUMN[front.first]]
    fig = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(x, y, "o-", color="#1f5f8b", label="epsilon-constraint plans")
    ax.plot(
        x.iloc[front.knee],
        y.iloc[front.knee],
        "*",
        ms=16,
        color="#d1495b",
        label=f"knee (point {front.knee})",
    )
    ax.set_xlabel(METRICS[front.second][2])
    ax.set_ylabel(METRICS[front.first][2])
    ax.set_title(f"gridsite Pareto front: {front.first} vs {front.second}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
