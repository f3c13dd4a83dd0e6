"""Representative hours: 8,760-hour profiles reduced to typical days by tsam.

All profiles (zone prices and carbon, station dry-bulb and wet-bulb, the capacity factors of
clean-energy contracts) are clustered together so a representative day keeps the joint weather
and price of a real day. With ``keep_extreme_days`` the day holding each temperature's and
each price's maximum hour is kept as a day of its own, so the hottest dry-bulb and wet-bulb
hour of every station survives exactly: peak facility draw is sized on the design day. Prices,
carbon intensities and capacity factors are then rescaled to their full-year means (medoid days
alone missed a zone's mean price by up to 25 %), which keeps their hour order but not their
peak values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import tsam

from optimizer.scenario import HOURS_PER_YEAR, Profiles
from optimizer.schema import PROFILE_BOUNDS, RepresentativeDays

HOURS_PER_DAY = 24
NO_EXTREME_DAY = frozenset({"carbon_kg_per_mwh", "capacity_factor_frac"})
#: Series whose annual mean drives cost or matching: their representative hours are rescaled
#: to the full year's mean (temperatures are not: their design-day peaks must stay exact).
KEEP_MEAN = frozenset({"price_usd_per_mwh", "carbon_kg_per_mwh", "capacity_factor_frac"})
_SEP = "|"


@dataclass(frozen=True)
class RepresentativeHours:
    """Profiles on representative hours with their weights (hours per year each stands for)."""

    frames: dict[str, pd.DataFrame]
    weight_h: np.ndarray
    error: pd.DataFrame
    """Per series: weighted annual mean and peak, original and reduced, and their errors."""

    @property
    def n_hours(self) -> int:
        return len(self.weight_h)


def reduce_profiles(profiles: Profiles, settings: RepresentativeDays | None) -> RepresentativeHours:
    """Reduce full-year profiles to representative days, or take given representative hours."""
    if settings is None:
        assert profiles.hour_weights is not None
        weights = profiles.hour_weights.to_numpy(dtype=float)
        frames = {k: v.reset_index(drop=True) for k, v in profiles.frames.items()}
        return RepresentativeHours(frames, weights, _error(profiles.frames, frames, weights))

    wide = pd.concat(
        [frame.add_prefix(f"{name}{_SEP}") for name, frame in profiles.frames.items()], axis=1
    )
    wide.index = pd.date_range("2025-01-01", periods=HOURS_PER_YEAR, freq="h")
    varying = [c for c in wide.columns if wide[c].max() > wide[c].min()]
    extremes = None
    if settings.keep_extreme_days:
        # Peaks that size the plan: prices and temperatures (not carbon, nor wind and sun).
        peaks = [c for c in varying if c.split(_SEP)[0] not in NO_EXTREME_DAY]
        extremes = tsam.ExtremeConfig(method="append", max_value=peaks)
    result = tsam.aggregate(
        wide[varying],
        n_clusters=settings.typical_days,
        period_duration=HOURS_PER_DAY,
        cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
        extremes=extremes,
        preserve_column_means=False,
        numerical_tolerance=1e-6,
    )
    typical = result.cluster_representatives
    counts = result.cluster_counts
    days = list(typical.index.get_level_values(0).unique())
    weights = np.repeat([float(counts[d]) for d in days], HOURS_PER_DAY)
    reduced = pd.DataFrame(
        {
            column: typical[column].to_numpy(dtype=float)
            if column in typical.columns
            else np.full(len(weights), wide[column].iloc[0])
            for column in wide.columns
        }
    )
    frames = {}
    for name, frame in profiles.frames.items():
        columns = [f"{name}{_SEP}{c}" for c in frame.columns]
        part = reduced[columns].copy()
        part.columns = list(frame.columns)
        frames[name] = (
            _keep_mean(part, frame, weights).clip(*PROFILE_BOUNDS[name])
            if name in KEEP_MEAN
            else part
        )
    return RepresentativeHours(frames, weights, _error(profiles.frames, frames, weights))


def _keep_mean(reduced: pd.DataFrame, original: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Rescale each reduced series so its weighted mean is the full year's.

    Medoid days are real days, not cluster means: on the default scenario the mean price of
    a zone came out 3 to 25 % off, and the energy bill with it. A series whose two means share
    a sign is scaled (its zeros, signs and hour order stay); otherwise it is shifted. The
    caller clips to the profile's bounds (capacity factors to 1: a small error, reported)."""
    target = original.mean()
    actual = (reduced * weights[:, None]).sum() / weights.sum()
    out = reduced.copy()
    for column in reduced.columns:
        t, a = float(target[column]), float(actual[column])
        if a != 0.0 and t * a > 0.0:
            out[column] = reduced[column] * (t / a)
        else:
            out[column] = reduced[column] + (t - a)
    return out


def _error(
    original: dict[str, pd.DataFrame], reduced: dict[str, pd.DataFrame], weights: np.ndarray
) -> pd.DataFrame:
    rows = []
    for name, frame in original.items():
        w0 = (
            np.full(len(frame), HOURS_PER_YEAR / len(frame))
            if len(frame) == HOURS_PER_YEAR
            else weights
        )
        for column in frame.columns:
            x0 = frame[column].to_numpy(dtype=float)
            x1 = reduced[name][column].to_numpy(dtype=float)
            mean0, mean1 = np.average(x0, weights=w0), np.average(x1, weights=weights)
            rows.append(
                {
                    "profile": name,
                    "series": column,
                    "mean_original": mean0,
                    "mean_reduced": mean1,
                    "peak_original": x0.max(),
                    "peak_reduced": x1.max(),
                }
            )
    error = pd.DataFrame(rows)
    scale = error["mean_original"].abs().where(error["mean_original"].abs() > 1.0, 1.0)
    error["mean_error_frac"] = (error["mean_reduced"] - error["mean_original"]) / scale
    error["peak_error"] = error["peak_reduced"] - error["peak_original"]
    return error
