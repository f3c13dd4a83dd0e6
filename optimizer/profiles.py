"""Representative hours: 8,760-hour profiles reduced to typical days by tsam.

All profiles (zone prices and carbon, station dry-bulb and wet-bulb, the capacity factors of
clean-energy contracts) are clustered together so a representative day keeps the joint weather
and price of a real day (hierarchical clustering, medoid days). With ``keep_extreme_days`` the
day holding each temperature's and each price's maximum hour is kept as a day of its own.

tsam then rescales the typical days of every price, carbon and capacity-factor series so its
weighted mean is the full year's (``preserve_column_means``). It rescales in its min-max
normalised space and clips there to [0, 1], so no representative value leaves the observed
range of its series, and it leaves the extreme days alone, so each kept peak is exact.
Temperatures are excluded from the rescaling: every representative temperature is the one
observed on the day it was taken from (taken from the data, not from tsam's denormalised copy,
which differs by round-off), and the design-day peaks stay exact.

:attr:`RepresentativeHours.error` says per series how far the reduction is from the year: the
error of the weighted mean, of the peak and of the minimum, and the RMSE between the two
duration curves (values sorted by decreasing size, each representative hour as long as its
weight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import tsam
import xarray as xr

from optimizer.scenario import HOURS_PER_YEAR, Profiles
from optimizer.schema import RepresentativeDays

HOURS_PER_DAY = 24
NO_EXTREME_DAY = frozenset({"carbon_kg_per_mwh", "capacity_factor_frac"})
#: Series kept as observed on their source day (not rescaled): design-day peaks stay exact.
TEMPERATURES = frozenset({"dry_bulb_c", "wet_bulb_c"})
SEP = "|"
#: Per-series errors of the reduction, kept in the plan dataset as ``reduction_<name>``.
ERRORS = ("mean_error_frac", "peak_error", "min_error", "duration_rmse")
"""Joins a profile name and a column id into one series name (``price_usd_per_mwh|ercot_west``)."""


@dataclass(frozen=True)
class RepresentativeHours:
    """Profiles on representative hours with their weights (hours per year each stands for)."""

    frames: dict[str, pd.DataFrame]
    weight_h: np.ndarray
    source_hour: np.ndarray
    """Hour of the year (0-based) each representative hour was taken from."""
    error: pd.DataFrame
    """Per series (``profile``, ``series``): weighted mean, peak and minimum, original and
    reduced; ``mean_error_frac``, ``peak_error``, ``min_error`` and ``duration_rmse``."""

    @property
    def n_hours(self) -> int:
        return len(self.weight_h)


def reduce_profiles(profiles: Profiles, settings: RepresentativeDays | None) -> RepresentativeHours:
    """Reduce full-year profiles to representative days, or take given representative hours."""
    if settings is None:
        assert profiles.weight_h is not None
        weights = np.array(profiles.weight_h, dtype=float)
        frames = {k: v.reset_index(drop=True) for k, v in profiles.frames.items()}
        source = np.arange(len(weights))
        return RepresentativeHours(frames, weights, source, _error(profiles, frames, weights))

    result = _aggregate(profiles, settings)
    typical = result.cluster_representatives
    counts = result.cluster_counts
    days = list(typical.index.get_level_values(0).unique())
    weights = np.repeat([float(counts[d]) for d in days], HOURS_PER_DAY)
    centers = result.clustering.cluster_centers
    assert centers is not None  # medoid days are real days
    source = np.repeat([int(centers[d]) for d in days], HOURS_PER_DAY) * HOURS_PER_DAY + np.tile(
        np.arange(HOURS_PER_DAY), len(days)
    )
    # Extreme days are not rescaled, nor are temperatures: take those values from the data
    # (tsam's denormalised copies differ by round-off), so kept peaks are exact.
    extreme = set(result.clustering.extreme_cluster_indices or ())
    on_extreme_day = np.repeat([d in extreme for d in days], HOURS_PER_DAY)
    frames = {}
    for name, frame in profiles.frames.items():
        observed = frame.to_numpy(dtype=float)[source]
        clustered = np.column_stack(
            [
                typical[f"{name}{SEP}{column}"].to_numpy(dtype=float)
                if f"{name}{SEP}{column}" in typical.columns
                else observed[:, j]
                for j, column in enumerate(frame.columns)
            ]
        )
        keep = on_extreme_day | (name in TEMPERATURES)
        values = np.where(keep[:, None], observed, clustered)
        frames[name] = pd.DataFrame(values, columns=frame.columns)
    return RepresentativeHours(frames, weights, source, _error(profiles, frames, weights))


def _aggregate(profiles: Profiles, settings: RepresentativeDays) -> tsam.AggregationResult:
    """tsam on all profiles at once (constant series left out): medoid days, the extreme days
    of prices and temperatures appended, every other series rescaled to its mean."""
    wide = pd.concat(
        [frame.add_prefix(f"{name}{SEP}") for name, frame in profiles.frames.items()], axis=1
    )
    wide.index = pd.date_range("2025-01-01", periods=HOURS_PER_YEAR, freq="h")
    varying = [c for c in wide.columns if wide[c].max() > wide[c].min()]
    extremes = None
    if settings.keep_extreme_days:
        # Peaks that size the plan: prices and temperatures (not carbon, nor wind and sun).
        peaks = [c for c in varying if c.split(SEP)[0] not in NO_EXTREME_DAY]
        extremes = tsam.ExtremeConfig(method="append", max_value=peaks)
    return tsam.aggregate(
        wide[varying],
        n_clusters=settings.typical_days,
        period_duration=HOURS_PER_DAY,
        cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
        extremes=extremes,
        preserve_column_means=True,
        rescale_exclude_columns=[c for c in varying if c.split(SEP)[0] in TEMPERATURES],
        numerical_tolerance=1e-6,
    )


def duration_curve(values: np.ndarray, weights: np.ndarray, points: int) -> np.ndarray:
    """The duration curve of ``values`` (each lasting its weight) at ``points`` evenly spaced
    fractions of the total weight, largest first."""
    order = np.argsort(-values, kind="stable")
    cumulative = np.cumsum(weights[order])
    at = (np.arange(points) + 0.5) / points * cumulative[-1]
    return values[order][np.minimum(np.searchsorted(cumulative, at), len(values) - 1)]


def _error(
    profiles: Profiles, reduced: dict[str, pd.DataFrame], weights: np.ndarray
) -> pd.DataFrame:
    given = profiles.weight_h
    w0 = np.ones(HOURS_PER_YEAR) if given is None or len(given) == 0 else given
    rows = []
    for name, frame in profiles.frames.items():
        for column in frame.columns:
            x0 = frame[column].to_numpy(dtype=float)
            x1 = reduced[name][column].to_numpy(dtype=float)
            curve0 = duration_curve(x0, w0, len(x0))
            curve1 = duration_curve(x1, weights, len(x0))
            rows.append(
                {
                    "profile": name,
                    "series": str(column),
                    "mean_original": np.average(x0, weights=w0),
                    "mean_reduced": np.average(x1, weights=weights),
                    "peak_original": x0.max(),
                    "peak_reduced": x1.max(),
                    "min_original": x0.min(),
                    "min_reduced": x1.min(),
                    "duration_rmse": float(np.sqrt(np.mean((curve1 - curve0) ** 2))),
                }
            )
    error = pd.DataFrame(rows)
    scale = error["mean_original"].abs().where(error["mean_original"].abs() > 1.0, 1.0)
    error["mean_error_frac"] = (error["mean_reduced"] - error["mean_original"]) / scale
    error["peak_error"] = error["peak_reduced"] - error["peak_original"]
    error["min_error"] = error["min_reduced"] - error["min_original"]
    return error


def reduction_errors(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Per series of a prepared (or plan) dataset, the reduction's errors (``plan.json``)."""
    columns = {name: ds[f"reduction_{name}"].to_numpy() for name in ERRORS}
    return {
        str(series): {name: float(values[i]) for name, values in columns.items()}
        for i, series in enumerate(ds["series"].to_numpy())
    }


def reduction_lines(ds: xr.Dataset) -> list[tuple[str, str]]:
    """Per profile, the worst series' errors in one line (the terminal summary)."""
    profile = np.array([str(s).split(SEP)[0] for s in ds["series"].to_numpy()])
    lines = []
    for name in dict.fromkeys(profile):
        mine = profile == name
        worst = {}
        for e in ERRORS:  # the error of largest size, with its sign
            values = ds[f"reduction_{e}"].to_numpy()[mine]
            worst[e] = float(values[np.argmax(np.abs(values))])
        lines.append(
            (
                name,
                f"{mine.sum()} series, worst: mean {100 * worst['mean_error_frac']:+.2g} %, "
                f"peak {worst['peak_error']:+.3g}, min {worst['min_error']:+.3g}, "
                f"duration RMSE {worst['duration_rmse']:.3g}",
            )
        )
    return lines
