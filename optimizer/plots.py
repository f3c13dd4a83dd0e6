"""Pictures of a plan: the campuses on a map of the states, the ramp by region, the cost
breakdown and energy, water and carbon by period.

Each ``*_figure`` function returns a matplotlib ``Figure`` (no pyplot, no screen) that the
report embeds and the ``plot_*`` functions write to a file. State outlines come from the U.S.
Census Bureau's cartographic boundaries shipped in ``data/geo/`` (see ``data/SOURCES.md``):
no tile server, no network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.text import Annotation
from matplotlib.ticker import StrMethodFormatter
from matplotlib.transforms import Bbox

from optimizer.diff import PlanDiff, diff_plans
from optimizer.plan import Plan

STATES_TOPOJSON = resources.files("optimizer") / "geo" / "us-states-10m.json"  # data/geo/
LOWER_48_BOUNDS_DEG = (-125.0, -66.5, 24.3, 49.6)  # lon min, lon max, lat min, lat max
MARKER_PT2_PER_MW = 0.6
"""Marker area of an open campus in points² per MW of final IT capacity (area ∝ MW)."""
CANDIDATE_LABEL = "candidate, not chosen"


@cache
def state_outlines() -> dict[str, list[np.ndarray]]:
    """Outer and inner rings, (n, 2) arrays of longitude and latitude, of each state and
    territory by name, decoded from the TopoJSON (delta-encoded, quantized arcs)."""
    topology = json.loads(STATES_TOPOJSON.read_text())
    scale = np.array(topology["transform"]["scale"])
    translate = np.array(topology["transform"]["translate"])
    arcs = [
        np.cumsum(np.array(a, dtype=float), axis=0) * scale + translate for a in topology["arcs"]
    ]

    def ring(indices: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])

    outlines: dict[str, list[np.ndarray]] = {}
    for state in topology["objects"]["states"]["geometries"]:
        polygons = state["arcs"] if state["type"] == "MultiPolygon" else [state["arcs"]]
        outlines[state["properties"]["name"]] = [ring(r) for poly in polygons for r in poly]
    return outlines


def draw_states(ax: Axes, bounds_deg: tuple[float, float, float, float]) -> None:
    """State outlines under the data, limits set to ``bounds_deg`` with a latitude-corrected
    aspect (a degree of longitude is cos(latitude) of a degree of latitude)."""
    for rings in state_outlines().values():
        for r in rings:
            ax.add_patch(
                Polygon(r, closed=True, facecolor="#f3f3f0", edgecolor="#a0a0a0", lw=0.5, zorder=0)
            )
    lon0, lon1, lat0, lat1 = bounds_deg
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1 / np.cos(np.radians((lat0 + lat1) / 2)))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")


def map_bounds(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float]:
    """The lower 48 states, widened to every campus with a one-degree margin."""
    lon0, lon1, lat0, lat1 = LOWER_48_BOUNDS_DEG
    if len(lon):
        lon0, lon1 = min(lon0, lon.min() - 1), max(lon1, lon.max() + 1)
        lat0, lat1 = min(lat0, lat.min() - 1), max(lat1, lat.max() + 1)
    return lon0, lon1, lat0, lat1


@dataclass(frozen=True)
class CampusMarker:
    """An open campus as drawn on the map, in image pixels from the top left (for hover)."""

    site_id: str
    it_mw: float
    x_px: float
    y_px: float
    radius_px: float
    text: str


def map_figure(plan: Plan) -> tuple[Figure, list[CampusMarker]]:
    """Open campuses on the states, area ∝ final IT MW, coloured by cooling; the other
    candidates as small grey rings. Returns the figure and where each open campus lies."""
    ds = plan.dataset
    sites = plan.sites
    lon = ds["site_longitude_deg"].to_numpy()
    lat = ds["site_latitude_deg"].to_numpy()
    fig = _figure(10, 6.2)
    ax = fig.add_subplot()
    draw_states(ax, map_bounds(lon, lat))
    chosen = sites["open"].to_numpy(dtype=bool)
    ax.scatter(lon[~chosen], lat[~chosen], s=14, facecolor="none", edgecolor="#8c8c8c", lw=0.7)
    techs = sorted(set(sites.loc[chosen, "cooling"]))
    colours = dict(zip(techs, _palette(len(techs)), strict=True))
    order = [i for i in sites["it_mw"].to_numpy().argsort()[::-1] if chosen[i]]  # small on top
    ax.scatter(
        lon[order],
        lat[order],
        s=MARKER_PT2_PER_MW * sites["it_mw"].to_numpy()[order],
        c=[colours[t] for t in sites["cooling"].to_numpy()[order]],
        alpha=0.75,
        edgecolor="black",
        lw=0.5,
        gid="campuses",
        zorder=2,
    )
    cooling_legend = ax.legend(
        handles=[_dot(colours[t], t) for t in techs]
        + [_dot("none", CANDIDATE_LABEL, edge="#8c8c8c")],
        title="cooling",
        loc="lower left",
        fontsize=8,
        title_fontsize=8,
    )
    ax.add_artist(cooling_legend)
    ax.legend(
        handles=[
            _dot("#cccccc", f"{mw:,.0f} MW", size_pt=np.sqrt(MARKER_PT2_PER_MW * mw))
            for mw in size_steps_mw(float(sites["it_mw"].max()))
        ],
        title="final IT",
        loc="lower right",
        fontsize=8,
        title_fontsize=8,
        labelspacing=1.6,
        borderpad=1.0,
    )
    open_mw = float(sites.loc[chosen, "it_mw"].sum())
    ax.set_title(
        f"{ds.attrs['scenario']}: {int(chosen.sum())} campuses, {open_mw:,.0f} MW of IT"
        f" by {plan.periods[-1]}"
    )
    fig.tight_layout()
    markers = _markers(fig, ax, plan)
    _label_campuses(fig, ax, markers)
    return fig, markers


def _figure(width_in: float, height_in: float) -> Figure:
    """A figure drawn by Agg (so layout, aspect and pixel positions are final when drawn)."""
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def size_steps_mw(largest_mw: float) -> list[float]:
    """Up to three round sizes for the marker-size legend, none above the largest campus."""
    steps = [s for s in (50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0) if s <= largest_mw]
    return steps[-3:] or [max(largest_mw, 1.0)]


def _palette(n: int) -> list[str]:
    base = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"]
    return [base[i % len(base)] for i in range(n)]


def _dot(colour: str, label: str, edge: str = "black", size_pt: float = 8.0) -> Line2D:
    """A legend marker (not drawn on the axes) of ``size_pt`` diameter."""
    return Line2D(
        [], [], ls="", marker="o", ms=size_pt, mfc=colour, mec=edge, alpha=0.8, label=label
    )


LABEL_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))
"""Where a label may sit around its marker (x, y in display units): right, left, above, below,
then the diagonals."""
LABEL_RINGS = (1.0, 2.2, 3.6)
"""Distances tried, in multiples of the marker's radius plus 2 pt; beyond the first ring a thin
leader line joins the label to its marker."""


def _label_campuses(
    fig: Figure, ax: Axes, markers: list[CampusMarker], labels: dict[str, str] | None = None
) -> None:
    """Name and MW beside each open campus (campuses at one point share a label), top of the
    map first. Each label takes the first place around its marker (right, left, above, below,
    the diagonals; then farther out with a leader line) that stays inside the axes and covers
    no marker and no earlier label; where none is free, the place covering least. ``labels``
    (site id -> text) labels only those campuses; the others still keep their space."""
    height_px = fig.get_figheight() * fig.dpi
    groups: dict[tuple[float, float], list[CampusMarker]] = {}
    for m in markers:
        if labels is None or m.site_id in labels:
            groups.setdefault((m.x_px, m.y_px), []).append(m)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    inside = ax.get_window_extent(renderer)
    taken = [  # display boxes (origin bottom left), a pixel inside each marker's edge
        Bbox.from_bounds(m.x_px - r, height_px - m.y_px - r, 2 * r, 2 * r)
        for m in markers
        for r in [max(m.radius_px - 1, 1)]
    ]
    for (x_px, y_px), members in sorted(groups.items(), key=lambda g: g[0][1]):
        text = "\n".join(
            labels[m.site_id] if labels is not None else f"{m.site_id} {m.it_mw:,.0f} MW"
            for m in members
        )
        xy = (x_px, height_px - y_px)
        radius_pt = max(m.radius_px for m in members) * 72 / fig.dpi
        best: tuple[float, Annotation] | None = None
        for ring, scale in enumerate(LABEL_RINGS):
            for dx, dy in LABEL_DIRECTIONS:
                gap = radius_pt * scale + 2  # points
                label = ax.annotate(
                    text,
                    xy,
                    xycoords="figure pixels",
                    xytext=(dx * gap, dy * gap),
                    textcoords="offset points",
                    ha={1: "left", -1: "right", 0: "center"}[dx],
                    va={1: "bottom", -1: "top", 0: "center"}[dy],
                    fontsize=6,
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#555555"} if ring else None,
                )
                box = label.get_window_extent(renderer)
                covered = sum(_area(Bbox.intersection(box, other)) for other in taken)
                covered += box.width * box.height - _area(Bbox.intersection(box, inside))
                if best is None or covered < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (covered, label)
                else:
                    label.remove()
                if covered == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        taken.append(best[1].get_window_extent(renderer))


def _area(box: Bbox | None) -> float:
    return 0.0 if box is None else float(box.width * box.height)


def _markers(fig: Figure, ax: Axes, plan: Plan) -> list[CampusMarker]:
    fig.canvas.draw()
    height_px = fig.get_figheight() * fig.dpi
    ds = plan.dataset
    sites = plan.sites
    markers = []
    for i in np.flatnonzero(sites["open"].to_numpy(dtype=bool)).tolist():
        row = sites.iloc[i]
        x, y = ax.transData.transform(
            (float(ds["site_longitude_deg"][i]), float(ds["site_latitude_deg"][i]))
        )
        radius_pt = np.sqrt(MARKER_PT2_PER_MW * float(row["it_mw"])) / 2
        upgrades = str(row["upgrades"]).replace(";", ", ") or "none"
        text = (
            f"{row['name']} ({row['site_id']})\nzone {row['zone']}, {row['cooling']} cooling\n"
            f"opens {row['open_period']}; {row['it_mw']:,.0f} MW IT,"
            f" {row['peak_facility_mw']:,.0f} MW peak draw\nupgrades: {upgrades}"
        )
        markers.append(
            CampusMarker(
                site_id=str(row["site_id"]),
                it_mw=float(row["it_mw"]),
                x_px=float(x),
                y_px=float(height_px - y),
                radius_px=float(max(radius_pt * fig.dpi / 72, 4.0)),
                text=text,
            )
        )
    return markers


def ramp_figure(plan: Plan) -> Figure:
    """IT MW online by period, stacked by grid region, against the portfolio target."""
    ds = plan.dataset
    region_of_zone = dict(zip(ds["zone"].to_numpy(), ds["zone_region"].to_numpy(), strict=True))
    regions = np.array([region_of_zone[z] for z in ds["site_zone"].to_numpy()])
    it = ds["it_mw"].to_numpy()
    periods = plan.periods
    fig = _figure(9, 4.6)
    ax = fig.add_subplot()
    bottom = np.zeros(len(periods))
    for region in sorted(set(regions)):
        mw = it[regions == region].sum(axis=0)
        if mw.any():
            ax.bar(periods, mw, bottom=bottom, label=region)
            bottom += mw
    ax.step(periods, ds["target_it_mw"].to_numpy(), where="mid", color="black", label="target")
    ax.set_xlabel("period")
    ax.set_ylabel("IT MW online")
    ax.set_title(f"{ds.attrs['scenario']}: capacity ramp by region")
    ax.legend(fontsize=7, title="region", title_fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def cost_figure(plan: Plan) -> Figure:
    """The net present cost as a waterfall: each term a step from the running total."""
    terms = {k: v for k, v in plan.cost_npv_musd.items() if k != "total" and abs(v) > 1e-9}
    fig = _figure(9, 4.2)
    ax = fig.add_subplot()
    start = 0.0
    for name, value in terms.items():
        bars = ax.bar(name, value, bottom=start, color="#4c78a8" if value >= 0 else "#54a24b")
        ax.bar_label(bars, labels=[f"{value:,.0f}"], fontsize=7)
        start += value
    ax.bar_label(ax.bar("total", start, color="#333333"), labels=[f"{start:,.0f}"], fontsize=7)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("NPV, M USD")
    ax.set_title("Net present cost by term")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


PERIOD_METRICS = {
    "energy_mwh": ("energy, GWh", 1e-3),
    "water_m3": ("water, 1000 m³", 1e-3),
    "emissions_tco2": ("emissions, kt CO2e", 1e-3),
}


def period_figure(plan: Plan) -> Figure:
    """Energy, water and carbon by period: one panel each."""
    totals = plan.totals
    fig = _figure(10, 3.6)
    axes = fig.subplots(1, len(PERIOD_METRICS))
    for ax, (column, (title, scale)) in zip(axes, PERIOD_METRICS.items(), strict=True):
        ax.bar(totals.index, totals[column] * scale, color="#4c78a8")
        ax.set_title(title, fontsize=10)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlabel("period")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_map(plan: Plan, path: Path) -> Path:
    """Write the map (see :func:`map_figure`)."""
    fig, _ = map_figure(plan)
    fig.savefig(path)
    return path


def plot_ramp(plan: Plan, path: Path) -> Path:
    """Write the ramp by region (see :func:`ramp_figure`)."""
    ramp_figure(plan).savefig(path)
    return path


def small_multiples_figure(plans: Sequence[Plan], titles: Sequence[str]) -> Figure:
    """One small map per plan side by side, on the same states and scale: open campuses with
    area ∝ final IT MW, coloured by cooling (one colour per technology across all panels,
    one shared legend), the other candidates as grey rings. For what changes along a front
    or across cases."""
    if len(plans) != len(titles) or not plans:
        raise ValueError("small_multiples_figure needs one title per plan, and a plan")
    opened = [p.sites["open"].to_numpy(dtype=bool) for p in plans]
    techs = sorted({t for p, o in zip(plans, opened, strict=True) for t in p.sites["cooling"][o]})
    colours = dict(zip(techs, _palette(len(techs)), strict=True))
    fig = _figure(4.6 * len(plans), 3.9)
    axes = fig.subplots(1, len(plans), squeeze=False)[0]
    for ax, plan, chosen, title in zip(axes, plans, opened, titles, strict=True):
        ds, sites = plan.dataset, plan.sites
        lon = ds["site_longitude_deg"].to_numpy()
        lat = ds["site_latitude_deg"].to_numpy()
        draw_states(ax, map_bounds(lon, lat))
        ax.scatter(lon[~chosen], lat[~chosen], s=6, facecolor="none", edgecolor="#8c8c8c", lw=0.5)
        order = [i for i in sites["it_mw"].to_numpy().argsort()[::-1] if chosen[i]]
        ax.scatter(
            lon[order],
            lat[order],
            s=SMALL_MARKER_PT2_PER_MW * sites["it_mw"].to_numpy()[order],
            c=[colours[t] for t in sites["cooling"].to_numpy()[order]],
            alpha=0.75,
            edgecolor="black",
            lw=0.4,
            gid="campuses",
            zorder=2,
        )
        mw = float(sites.loc[chosen, "it_mw"].sum())
        ax.set_title(f"{title}\n{int(chosen.sum())} campuses, {mw:,.0f} MW", fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
    fig.legend(
        handles=[_dot(colours[t], t) for t in techs]
        + [_dot("none", CANDIDATE_LABEL, edge="#8c8c8c")],
        title="cooling (area ∝ final IT MW)",
        loc="lower center",
        ncol=len(techs) + 1,
        fontsize=8,
        title_fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


SMALL_MARKER_PT2_PER_MW = 0.15
"""Marker area on the small multiples, points² per MW of final IT (a quarter of the map's)."""

DIFF_STYLE = {  # change -> (face colour, edge colour)
    "added": ("#2ca02c", "black"),
    "dropped": ("none", "#d62728"),
    "resized": ("#ff7f0e", "black"),
    "cooling switched": ("#9467bd", "black"),
    "rephased": ("#bcbd22", "black"),
    "unchanged": ("#c7c7c7", "#7f7f7f"),
}
"""How each kind of campus change is drawn on the diff map (dropped: an empty red ring)."""


def diff_kinds(diff: PlanDiff, after: Plan) -> dict[str, str]:
    """The one change drawn for each campus open in either plan: the first of added,
    dropped, resized, cooling switched, rephased that applies, else unchanged."""
    changes: dict[str, list[str]] = {}
    for c in diff.campuses:
        changes.setdefault(c.site_id, []).append(c.change)
    still_open = after.sites.loc[after.sites["open"], "site_id"].astype(str)
    kinds = {s: "unchanged" for s in still_open}
    for site, found in changes.items():
        kinds[site] = next(k for k in DIFF_STYLE if k in found)
    return kinds


def diff_map_figure(
    before: Plan, after: Plan, diff: PlanDiff | None = None, title: str | None = None
) -> Figure:
    """What changed from ``before`` to ``after`` on the states: one marker per campus open in
    either plan, area ∝ its final IT MW (after; before for a dropped one), coloured by its
    change (:data:`DIFF_STYLE`), each changed campus labelled with what changed. ``diff``
    defaults to :func:`optimizer.diff.diff_plans` of the two."""
    diff = diff if diff is not None else diff_plans(before, after)
    kinds = diff_kinds(diff, after)
    ds = after.dataset
    ids = ds["site"].to_numpy().astype(str).tolist()
    lon = ds["site_longitude_deg"].to_numpy()
    lat = ds["site_latitude_deg"].to_numpy()
    was, now = before.sites.set_index("site_id"), after.sites.set_index("site_id")
    fig = _figure(10, 6.2)
    ax = fig.add_subplot()
    draw_states(ax, map_bounds(lon, lat))
    handles, drawn = [], []
    for kind, (face, edge) in DIFF_STYLE.items():
        members = [s for s in ids if kinds.get(s) == kind]
        if not members:
            continue
        index = [ids.index(s) for s in members]
        mw = np.array([(was if kind == "dropped" else now).loc[s, "it_mw"] for s in members])
        ax.scatter(
            lon[index],
            lat[index],
            s=MARKER_PT2_PER_MW * mw,
            facecolor=face,
            edgecolor=edge,
            lw=1.6 if kind == "dropped" else 0.5,
            alpha=0.8,
            gid=f"diff-{kind}",
            zorder=1 if kind == "unchanged" else 2,
        )
        handles.append(_dot(face, f"{kind} ({len(members)})", edge=edge))
        drawn += list(zip(members, index, mw, strict=True))
    ax.legend(handles=handles, title="campus", loc="lower left", fontsize=8, title_fontsize=8)
    npv = next((t for t in diff.totals if t.metric == "npv_musd"), None)
    changed = sum(k != "unchanged" for k in kinds.values())
    ax.set_title(
        (title or f"{before.dataset.attrs['scenario']} → {ds.attrs['scenario']}")
        + f": {changed} campuses changed"
        + (f", NPV {npv.delta:+,.0f} M USD" if npv is not None else "")
    )
    fig.tight_layout()
    fig.canvas.draw()
    height_px = fig.get_figheight() * fig.dpi
    markers = []
    for s, i, mw_ in drawn:
        x, y = ax.transData.transform((float(lon[i]), float(lat[i])))
        radius_pt = np.sqrt(MARKER_PT2_PER_MW * float(mw_)) / 2
        markers.append(
            CampusMarker(
                s, float(mw_), float(x), float(height_px - y), radius_pt * fig.dpi / 72, ""
            )
        )
    labels = {s: _change_label(s, kinds[s], was, now) for s, *_ in drawn if kinds[s] != "unchanged"}
    _label_campuses(fig, ax, markers, labels)
    return fig


def _change_label(site: str, kind: str, was: pd.DataFrame, now: pd.DataFrame) -> str:
    """``site 500→300 MW``; ``site dry→evap``; ``site 300 MW, rephased`` (MW by period moved,
    or ``opens 2028H1→2029H1``)."""
    a, b = was.loc[site], now.loc[site]
    if kind == "cooling switched":
        return f"{site} {a['cooling']}→{b['cooling']}"
    if kind == "rephased":
        opens = a["open_period"] == b["open_period"]
        when = "rephased" if opens else f"opens {a['open_period']}→{b['open_period']}"
        return f"{site} {b['it_mw']:,.0f} MW, {when}"
    mw_a = a["it_mw"] if a["open"] else 0.0
    mw_b = b["it_mw"] if b["open"] else 0.0
    return f"{site} {mw_a:,.0f}→{mw_b:,.0f} MW"
