"""A plan as rich tables, for the terminal."""

from __future__ import annotations

import pandas as pd
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from optimizer.pareto import Front
from optimizer.plan import Plan
from optimizer.profiles import reduction_lines


def _fmt(x: object, digits: int = 0) -> str:
    return "-" if x is None else f"{float(x):,.{digits}f}"  # type: ignore[arg-type]


def render(plan: Plan) -> Group:
    """Summary: solve status, sites chosen, the ramp by period, and the cost breakdown."""
    head = _head(plan)
    if not plan.has_solution:
        return Group(head)
    extra = [t for t in (_site_power_table(plan), _contracts_table(plan)) if t is not None]
    return Group(head, _sites_table(plan), _ramp_table(plan), *extra, _costs_table(plan))


def _head(plan: Plan) -> Table:
    r = plan.result
    head = Table.grid(padding=(0, 2))
    more = _solver_said(plan)
    head.add_row("status", f"[bold]{_status(plan)}[/]" + (f" ({escape(more)})" if more else ""))
    head.add_row("objective (NPV)", f"{_fmt(r.objective_musd, 1)} M USD")
    head.add_row("best bound", f"{_fmt(r.best_bound_musd, 1)} M USD")
    gap = "-" if r.mip_gap_frac is None else f"{100 * r.mip_gap_frac:.3f} %"
    head.add_row("gap", gap)
    head.add_row(
        "model",
        f"{r.rows:,} rows, {r.columns:,} columns ({r.integers:,} integer), {r.nonzeros:,} nonzeros",
    )
    head.add_row(
        "times",
        f"build {plan.build_seconds:.2f} s, hand-off {r.handoff_seconds:.2f} s,"
        f" solve {r.solve_seconds:.2f} s",
    )
    for profile, line in reduction_lines(plan.dataset):
        head.add_row(profile, line)
    return head


def _sites_table(plan: Plan) -> Table:
    sites = Table(title="Campuses", title_justify="left")
    for col in ("site", "zone", "cooling", "opens", "IT MW", "peak MW", "upgrades"):
        sites.add_column(col, justify="right" if "MW" in col else "left")
    frame = plan.sites[plan.sites["open"]].sort_values(["open_period", "site_id"])
    for row in frame.to_dict("records"):
        sites.add_row(
            str(row["site_id"]),
            str(row["zone"]),
            str(row["cooling"]),
            str(row["open_period"]),
            _fmt(float(row["it_mw"])),
            _fmt(float(row["peak_facility_mw"])),
            str(row["upgrades"]).replace(";", ", ") or "-",
        )
    return sites


def _ramp_table(plan: Plan) -> Table:
    ramp = Table(title="Ramp by period", title_justify="left")
    ramp.add_column("period")
    matching = "contracted_mw" in plan.dataset
    for col in (
        "target MW",
        "IT MW",
        "new MW",
        "peak MW",
        "energy GWh",
        "energy M USD",
        "avg PUE",
        "water 1000 m3",
        "kt CO2e",
        *(["24/7 CFE %"] if matching else []),
    ):
        ramp.add_column(col, justify="right")
    for p, t in plan.totals.to_dict("index").items():
        ramp.add_row(
            str(p),
            _fmt(t["target_it_mw"]),
            _fmt(t["it_mw"]),
            _fmt(t["new_it_mw"]),
            _fmt(t["peak_facility_mw"]),
            _fmt(t["energy_mwh"] / 1e3),
            _fmt(t["energy_cost_musd"], 1),
            _fmt(t["average_pue"], 3),
            _fmt(t["water_m3"] / 1e3),
            _fmt(t["emissions_tco2"] / 1e3),
            *([_fmt(100 * t["cfe_share"], 1)] if matching else []),
        )
    return ramp


def _costs_table(plan: Plan) -> Table:
    costs = Table(title="Cost breakdown (NPV, M USD)", title_justify="left")
    costs.add_column("term")
    costs.add_column("M USD", justify="right")
    tail = _has_opex_tail(plan)
    for name, value in plan.cost_npv_musd.items():
        label = f"{name} (incl. opex tail after the horizon)" if tail and name == "energy" else name
        costs.add_row(label, _fmt(value, 1))
    if tail:
        costs.caption = (
            "Operating terms (energy, water, fuel, contracts, ...) count the years after the "
            "last period too (horizon.opex_tail_years); the ramp table's energy M USD does not."
        )
    return costs


def _status(plan: Plan) -> str:
    """``optimal within 0.30 %``: the plan costs at most that much more than the best bound
    (no plan can cost less than the bound); ``optimal`` alone when the gap is closed."""
    gap = plan.result.mip_gap_frac
    if plan.status in ("optimal", "feasible") and gap is not None and gap > 0:
        return f"{plan.status} within {100 * gap:.2f} %"
    return plan.status


def status_line(plan: Plan) -> str:
    """The plan's status once (``optimal within 0.30 %``), then what the solver said only when
    it says more: ``feasible within 2.10 % (Time limit reached)``, ``infeasible (Primal
    infeasible or unbounded)``; not ``optimal (optimal: Optimal)``."""
    more = _solver_said(plan)
    return f"{_status(plan)} ({more})" if more else _status(plan)


def _solver_said(plan: Plan) -> str:
    """HiGHS's words for why it stopped, or ``""`` when they only repeat the status: its
    message when the termination differs from the status (the time limit stopped a feasible
    plan), or when the message says more than the termination's name."""
    r = plan.result
    message = r.message.strip()
    if r.termination != plan.status:
        return message or r.termination.replace("_", " ")
    if _letters(message).startswith(_letters(r.termination)):
        return ""
    return message


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalpha())


def _has_opex_tail(plan: Plan) -> bool:
    """The last period's opex weight counts years after the horizon."""
    ds = plan.dataset
    last = ds["period_years"][-1] * ds["discount_factor"][-1]
    return bool(ds["opex_weight_years"][-1] > last * (1 + 1e-9))


def _contracts_table(plan: Plan) -> Table | None:
    """Clean-energy contracts signed: MW (largest), first period, output over the horizon."""
    contracts = plan.contracts
    if contracts.empty:
        return None
    table = Table(title="Clean-energy contracts signed", title_justify="left")
    for col in ("contract", "zone", "technology", "from", "MW", "output GWh"):
        table.add_column(col, justify="right" if col in ("MW", "output GWh") else "left")
    for contract_id, rows in contracts.groupby("contract_id", sort=True):
        table.add_row(
            str(contract_id),
            str(rows["zone_id"].iloc[0]),
            str(rows["technology"].iloc[0]),
            str(rows["period"].min()),
            _fmt(float(rows["contracted_mw"].max())),
            _fmt(float(rows["contract_output_mwh"].sum()) / 1e3, 1),
        )
    return table


def _site_power_table(plan: Plan) -> Table | None:
    """Campuses that use a non-firm tier or on-site power: how much, and until when."""
    build = plan.build
    used = build[(build["nonfirm_mw"] > 0) | (build["onsite_mw"] > 0)]
    if used.empty:
        return None
    table = Table(title="Flexible connections and on-site power", title_justify="left")
    for col in (
        "site",
        "non-firm MW (max)",
        "curtailed IT MWh",
        "on-site MW (max)",
        "on-site GWh",
        "on-site periods",
    ):
        table.add_column(col, justify="left" if col in ("site", "on-site periods") else "right")
    for site_id, rows in used.groupby("site_id", sort=True):
        onsite = rows[rows["onsite_mw"] > 0]["period"].tolist()
        table.add_row(
            str(site_id),
            _fmt(float(rows["nonfirm_mw"].max())),
            _fmt(float(rows["curtailed_it_mwh"].sum())),
            _fmt(float(rows["onsite_mw"].max())),
            _fmt(float(rows["onsite_mwh"].sum()) / 1e3, 1),
            f"{onsite[0]}-{onsite[-1]}" if onsite else "-",
        )
    return table


def marginal_table(values: pd.DataFrame) -> Table:
    """Marginal values of the binding limits, largest first, with their sign convention."""
    table = Table(
        title="Marginal values (NPV, fixed-decision LP)",
        title_justify="left",
        caption=(
            "one more unit of the limit saves (or of the requirement costs) the value; "
            "a negative value is the opposite"
        ),
    )
    for col in ("limit", "subject", "period", "one more unit", "value", "unit"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for row in values.sort_values("value", key=abs, ascending=False).to_dict("records"):
        table.add_row(
            str(row["kind"]),
            str(row["subject"]),
            str(row["period"]),
            str(row["effect"]),
            _fmt(row["value"]),
            str(row["unit"]),
        )
    return table


def front_table(front: Front) -> Table:
    """One row per Pareto point; the knee is marked."""
    table = Table(title=f"Pareto front: {front.first} vs {front.second}", title_justify="left")
    for col in ("point", "cost M USD", "energy GWh", "water 1000 m3", "kt CO2e", "status"):
        table.add_column(col, justify="left" if col in ("point", "status") else "right")
    for row in front.table.to_dict("records"):
        mark = " (knee)" if row["point"] == front.knee else ""
        table.add_row(
            f"{row['point']}{mark}",
            _fmt(row.get("cost_musd"), 1),
            _fmt(row.get("energy_mwh", 0) / 1e3),
            _fmt(row.get("water_m3", 0) / 1e3),
            _fmt(row.get("emissions_tco2", 0) / 1e3),
            str(row["status"]),
        )
    return table


def print_plan(plan: Plan, console: Console | None = None) -> None:
    (console or Console()).print(render(plan))
