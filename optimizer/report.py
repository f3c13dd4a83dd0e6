"""A plan as rich tables, for the terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table

from optimizer.plan import Plan


def _fmt(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def render(plan: Plan) -> Group:
    """Summary: solve status, sites chosen, the ramp by period, and the cost breakdown."""
    r = plan.result
    head = Table.grid(padding=(0, 2))
    head.add_row("status", f"[bold]{plan.status}[/] ({r.termination}: {r.message})")
    head.add_row("objective (NPV)", f"{_fmt(r.objective_musd, 1)} M USD")
    head.add_row("best bound", f"{_fmt(r.best_bound_musd, 1)} M USD")
    gap = "-" if r.mip_gap_frac is None else f"{100 * r.mip_gap_frac:.3f} %"
    head.add_row("gap", gap)
    head.add_row("model", f"{r.rows:,} rows, {r.columns:,} columns ({r.integers:,} integer), "
                          f"{r.nonzeros:,} nonzeros")
    head.add_row("times", f"build {plan.build_seconds:.2f} s, hand-off {r.handoff_seconds:.2f} s,"
                          f" solve {r.solve_seconds:.2f} s")
    if not plan.has_solution:
        return Group(head)

    sites = Table(title="Campuses", title_justify="left")
    for col in ("site", "zone", "cooling", "opens", "IT MW", "peak MW", "upgrades"):
        sites.add_column(col, justify="right" if "MW" in col else "left")
    frame = plan.sites[plan.sites["open"]].sort_values(["open_period", "site_id"])
    for row in frame.itertuples():
        sites.add_row(row.site_id, row.zone, row.cooling, row.open_period, _fmt(row.it_mw),
                      _fmt(row.peak_facility_mw), row.upgrades.replace(";", ", ") or "-")

    ramp = Table(title="Ramp by period", title_justify="left")
    ramp.add_column("period")
    for col in ("target MW", "IT MW", "new MW", "peak MW", "energy GWh", "energy M USD",
                "avg PUE", "water 1000 m3", "kt CO2e"):
        ramp.add_column(col, justify="right")
    for p, row in plan.totals.iterrows():
        ramp.add_row(str(p), _fmt(row.target_it_mw), _fmt(row.it_mw), _fmt(row.new_it_mw),
                     _fmt(row.peak_facility_mw), _fmt(row.energy_mwh / 1e3),
                     _fmt(row.energy_cost_musd, 1), _fmt(row.average_pue, 3),
                     _fmt(row.water_m3 / 1e3), _fmt(row.emissions_tco2 / 1e3))

    costs = Table(title="Cost breakdown (NPV, M USD)", title_justify="left")
    costs.add_column("term")
    costs.add_column("M USD", justify="right")
    for name, value in plan.cost_npv_musd.items():
        costs.add_row(name, _fmt(value, 1))
    return Group(head, sites, ramp, costs)


def print_plan(plan: Plan, console: Console | None = None) -> None:
    (console or Console()).print(render(plan))
