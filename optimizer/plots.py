"""Pictures of a plan: where the campuses are and how the capacity ramps by region.

matplotlib with the Agg backend (files, no screen). The map has no basemap (no shapefiles
ship with the project): campuses at their longitude and latitude, candidates in grey, chosen
campuses sized by final IT MW and coloured by cooling technology.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizer.plan import Plan


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_map(plan: Plan, path: Path) -> Path:
    """Chosen campuses sized by final IT MW, coloured by cooling."""
    plt = _pyplot()
    ds = plan.dataset
    lon = ds["site_longitude_deg"].to_numpy()
    lat = ds["site_latitude_deg"].to_numpy()
    it = ds["it_mw"].isel(period=-1).to_numpy()
    cooling = ds["site_cooling"].to_numpy()
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=120)
    ax.scatter(lon, lat, s=18, c="#c8c8c8", label="candidate", zorder=1)
    colours = plt.get_cmap("tab10")
    for i, tech in enumerate(sorted({str(c) for c in cooling if c})):
        chosen = cooling == tech
        ax.scatter(
            lon[chosen],
            lat[chosen],
            s=20 + it[chosen] / 5,
            alpha=0.75,
            color=colours(i),
            edgecolor="black",
            linewidth=0.5,
            label=tech,
            zorder=2,
        )
    labels: dict[tuple[float, float], list[str]] = {}
    for k in np.flatnonzero(it > 0).tolist():  # campuses of one market share a point
        labels.setdefault((lon[k], lat[k]), []).append(f"{ds['site'].values[k]} {it[k]:,.0f}")
    for (x, y), names in labels.items():
        ax.annotate(
            "\n".join(names) + " MW", (x, y), fontsize=6, xytext=(6, -4), textcoords="offset points"
        )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{ds.attrs['scenario']}: campuses by final IT MW ({plan.periods[-1]})")
    ax.legend(loc="lower left", fontsize=7, markerscale=0.5)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_ramp(plan: Plan, path: Path) -> Path:
    """IT MW online by period, stacked by grid region, against the portfolio target."""
    plt = _pyplot()
    ds = plan.dataset
    region_of_zone = dict(zip(ds["zone"].to_numpy(), ds["zone_region"].to_numpy(), strict=True))
    regions = np.array([region_of_zone[z] for z in ds["site_zone"].to_numpy()])
    it = ds["it_mw"].to_numpy()
    periods = plan.periods
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    bottom = np.zeros(len(periods))
    for region in sorted(set(regions)):
        mw = it[regions == region].sum(axis=0)
        if mw.any():
            ax.bar(periods, mw, bottom=bottom, label=region)
            bottom += mw
    ax.step(periods, ds["target_it_mw"].to_numpy(), where="mid", color="black", label="target")
    ax.set_ylabel("IT MW online")
    ax.set_title(f"{ds.attrs['scenario']}: capacity ramp by region")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
