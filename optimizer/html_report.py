"""A plan as one self-contained HTML page (``gridsite report PLAN_DIR``).

The page opens with no network: figures are PNG inlined as base64 data URIs, the style sheet
is in the page, there is no script and nothing is fetched. Hovering a campus on the map shows
its figures (an HTML image map, one ``<area title=...>`` per open campus). The page is
rendered by jinja2 from ``templates/report.html.j2`` with every value escaped.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.figure import Figure

from optimizer.plan import Plan
from optimizer.plots import cost_figure, map_figure, period_figure, ramp_figure
from optimizer.report import status_line

TEMPLATES = Path(__file__).resolve().parent / "templates"
PERIOD_COLUMNS = [  # (header, totals column, digits); values are scaled in _period_rows
    ("target IT MW", "target_it_mw", 0),
    ("IT MW", "it_mw", 0),
    ("peak MW", "peak_facility_mw", 0),
    ("energy GWh", "energy_gwh", 0),
    ("energy M USD", "energy_cost_musd", 1),
    ("avg PUE", "average_pue", 3),
    ("water 1000 m³", "water_1000m3", 0),
    ("kt CO2e", "emissions_ktco2", 1),
]


def render_report(plan: Plan, source: str = "") -> str:
    """The HTML page of ``plan``; ``source`` names where the plan files came from."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    return env.get_template("report.html.j2").render(**_context(plan), source=source)


def write_report(plan: Plan, path: str | Path, source: str = "") -> Path:
    """Write the page of ``plan`` to ``path`` (replaced whole: written beside, then renamed)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_report(plan, source), encoding="utf-8")
    tmp.replace(out)
    return out


def _context(plan: Plan) -> dict[str, Any]:
    r = plan.result
    context: dict[str, Any] = {
        "scenario": plan.dataset.attrs["scenario"],
        "summary": _summary(plan),
        "status": plan.status,
        "facts": [
            ("status", status_line(plan)),
            ("objective (NPV)", _musd(r.objective_musd)),
            ("best bound", _musd(r.best_bound_musd)),
            ("gap", "-" if r.mip_gap_frac is None else f"{100 * r.mip_gap_frac:.3f} %"),
            (
                "times",
                f"build {plan.build_seconds:.2f} s, hand-off {r.handoff_seconds:.2f} s,"
                f" solve {r.solve_seconds:.2f} s",
            ),
            (
                "model size",
                f"{r.rows:,} rows, {r.columns:,} columns ({r.integers:,} integer),"
                f" {r.nonzeros:,} nonzeros",
            ),
        ],
        "warnings": plan.warnings,
        "diagnosis": plan.diagnosis,
        "figures": None,
        "marginals": None,
    }
    if plan.marginal_values is not None and len(plan.marginal_values):
        values = plan.marginal_values
        context["marginals"] = values.sort_values("value", key=abs, ascending=False).to_dict(
            "records"
        )
    if plan.has_solution:
        context.update(_solution_context(plan))
    return context


def _solution_context(plan: Plan) -> dict[str, Any]:
    map_fig, markers = map_figure(plan)
    ds = plan.dataset
    sites = plan.sites
    campuses = sites[sites["open"]].sort_values(["open_period", "site_id"])
    upgrades = [
        {"upgrade": str(u), "site_id": str(s), "period": str(p)}
        for u, s, p in zip(
            ds["upgrade"].to_numpy(),
            ds["upgrade_site"].to_numpy(),
            ds["upgrade_online_period"].to_numpy(),
            strict=True,
        )
        if p
    ]
    return {
        "figures": {
            "map": _png(map_fig),
            "ramp": _png(ramp_figure(plan)),
            "cost": _png(cost_figure(plan)),
            "periods": _png(period_figure(plan)),
        },
        "map_size": (
            round(map_fig.get_figwidth() * map_fig.dpi),
            round(map_fig.get_figheight() * map_fig.dpi),
        ),
        "markers": markers,
        "costs": list(plan.cost_npv_musd.items()),
        "period_columns": PERIOD_COLUMNS,
        "periods": _period_rows(plan),
        "campuses": campuses.to_dict("records"),
        "upgrades": sorted(upgrades, key=lambda u: (u["period"], u["upgrade"])),
    }


def _summary(plan: Plan) -> str:
    ds = plan.dataset
    periods = plan.periods
    targets = ds["target_it_mw"].to_numpy()
    zones = ds["zone"].to_numpy()
    regions = set(ds["zone_region"].to_numpy().tolist())
    ramp = (
        f"a ramp from {targets[0]:,.0f} MW of IT in {periods[0]} to {targets[-1]:,.0f} MW in"
        f" {periods[-1]}"
        if len(periods) > 1
        else f"{targets[0]:,.0f} MW of IT due in {periods[0]}"
    )
    scope = (
        f"{_count(ds.sizes['site'], 'candidate campus', 'es')} in"
        f" {_count(len(zones), 'grid zone')} of {_count(len(regions), 'region')}; {ramp}."
    )
    if not plan.has_solution:
        return f"{scope} No plan: {plan.status}."
    sites = plan.sites
    chosen = sites[sites["open"]]
    return (
        f"{scope} The plan opens {len(chosen)} campuses with {chosen['it_mw'].sum():,.0f} MW of"
        f" IT by {periods[-1]} at a net present cost of"
        f" {_num(plan.result.objective_musd, 0)} M USD."
    )


def _period_rows(plan: Plan) -> list[tuple[str, dict[Any, Any]]]:
    totals = plan.totals
    totals["energy_gwh"] = totals["energy_mwh"] / 1e3
    totals["water_1000m3"] = totals["water_m3"] / 1e3
    totals["emissions_ktco2"] = totals["emissions_tco2"] / 1e3
    return [(str(p), row) for p, row in totals.to_dict("index").items()]


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _count(n: int, noun: str, plural: str = "s") -> str:
    return f"{n:,} {noun}{'' if n == 1 else plural}"


def _musd(x: float | None) -> str:
    return "-" if x is None else f"{_num(x, 1)} M USD"


def _num(x: object, digits: int = 0) -> str:
    """``1,234.5``-style; ``-`` for a missing or non-finite value."""
    if x is None:
        return "-"
    value = float(x)  # type: ignore[arg-type]
    return f"{value:,.{digits}f}" if np.isfinite(value) else "-"
