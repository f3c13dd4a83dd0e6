"""The representative hours a plan was solved on, as the plan records them in ``plan.nc``
(weight, source hour and every profile's value per hour), checked against the scenario's raw
profiles. The auditor never reruns the reduction: it audits the plan on the hours written with
it, and this module checks that those hours are a faithful reduction of the year.

Rule ``reduction.faithful``, per series (``profile|id``):

- every raw series is there, and no value leaves the series' observed range;
- given representative hours (no ``representative_days``): weights and values are the
  scenario's own;
- typical days: whole days (24 hours of one weight, taken from one day of the year), weights
  summing to the year; temperatures exactly as observed at their source hour (the reduction
  leaves them unscaled), and with ``keep_extreme_days`` each temperature's and price's
  full-year maximum exactly; every other series keeps its full-year mean within
  :data:`MEAN_REL_TOL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from optimizer.audit.base import _AuditBase
from optimizer.audit.findings import PlanFilesError
from optimizer.scenario import Scenario

HOURS_PER_DAY = 24
HOURS_PER_YEAR = 8760
SEP = "|"
#: Relative tolerance (of max(1, |mean|)) on a rescaled series' weighted mean.
MEAN_REL_TOL = 1e-5
#: Absolute tolerance on a value taken as observed (temperatures, given hours), and on bounds.
VALUE_TOL = 1e-9
TEMPERATURES = ("dry_bulb_c", "wet_bulb_c")
PEAK_KEPT = ("dry_bulb_c", "wet_bulb_c", "price_usd_per_mwh")
RULE = "reduction.faithful"


@dataclass(frozen=True)
class _Reduction:
    """The representative hours of ``plan.nc``: h hour, one frame per profile (h x id)."""

    path: Path
    weight_h: np.ndarray  # (h) hours per year
    source_hour: np.ndarray  # (h) hour of the year each was taken from
    frames: dict[str, pd.DataFrame]

    @classmethod
    def read(cls, folder: Path) -> _Reduction:
        path = folder / "plan.nc"
        if not path.is_file():
            raise PlanFilesError(
                f"{path}: missing (a plan with a solution records its hours there)"
            )
        try:
            with xr.open_dataset(path, engine="netcdf4") as ds:
                weight = ds["hour_weight_h"].to_numpy().astype(float)
                source = ds["hour_source"].to_numpy().astype(int)
                values = ds["representative_value"].transpose("hour", "series").to_numpy()
                series = [str(s) for s in ds["series"].to_numpy()]
        except KeyError:
            raise PlanFilesError(
                f"{path}: holds no representative hours (written before plans recorded them: "
                "solve again)"
            ) from None
        except (OSError, ValueError) as e:
            raise PlanFilesError(f"{path}: not a readable plan dataset ({e})") from None
        columns: dict[str, dict[str, np.ndarray]] = {}
        for j, name in enumerate(series):
            profile, _, column = name.partition(SEP)
            columns.setdefault(profile, {})[column] = values[:, j].astype(float)
        frames = {p: pd.DataFrame(c) for p, c in columns.items()}
        return cls(path, weight, source, frames)


class _ReductionRules(_AuditBase):
    """The ``reduction.faithful`` rule."""

    def check_reduction(self, r: _Reduction) -> None:
        sc: Scenario = self.f.scenario
        settings = sc.config.representative_days
        raw = sc.profiles
        where = r.path.name
        if settings is None:
            given = np.asarray(raw.weight_h, dtype=float)
            if r.weight_h.shape != given.shape or not np.allclose(r.weight_h, given, 0, 1e-9):
                self._flag(where, "weights", "are not the scenario's hour_weights.csv")
        else:
            self._check_days(r, where)
        extremes = settings is not None and settings.keep_extreme_days
        for profile, frame in raw.frames.items():
            for column in frame.columns:
                series = f"{profile}{SEP}{column}"
                self.count(RULE, 1)
                mine = r.frames.get(profile, pd.DataFrame()).get(str(column))
                if mine is None:
                    self._flag(where, series, "is missing")
                    continue
                x0, x1 = frame[column].to_numpy(dtype=float), np.asarray(mine)
                self._check_series(r, where, series, x0, x1, profile, settings is None, extremes)

    def _check_days(self, r: _Reduction, where: str) -> None:
        n = len(r.weight_h)
        whole = n % HOURS_PER_DAY == 0 and n > 0
        width = HOURS_PER_DAY if whole else max(n, 1)
        weight = r.weight_h.reshape(-1, width)
        source = r.source_hour.reshape(-1, width)
        if not whole or np.any(weight != weight[:, :1]) or np.any(weight <= 0):
            self._flag(where, "weights", "are not whole days of one positive weight each")
        total = float(r.weight_h.sum())
        if abs(total - HOURS_PER_YEAR) > 1e-6:
            self._flag(where, "weights", f"sum to {total:,.6g} h, not {HOURS_PER_YEAR:,} h")
        starts = source[:, :1]
        if (
            np.any(starts % HOURS_PER_DAY != 0)
            or np.any(source != starts + np.arange(width))
            or np.any((r.source_hour < 0) | (r.source_hour >= HOURS_PER_YEAR))
        ):
            self._flag(where, "source hours", "are not whole days of the year")

    def _check_series(
        self,
        r: _Reduction,
        where: str,
        series: str,
        x0: np.ndarray,
        x1: np.ndarray,
        profile: str,
        given: bool,
        extremes: bool,
    ) -> None:
        if x1.shape != r.weight_h.shape or not np.all(np.isfinite(x1)):
            self._flag(where, series, f"has {x1.size} values for {r.weight_h.size} hours")
            return
        lo, hi = x0.min(), x0.max()
        if x1.max() > hi + VALUE_TOL or x1.min() < lo - VALUE_TOL:
            self._flag(
                where,
                series,
                f"leaves the observed range [{lo:g}, {hi:g}]: {x1.min():g}..{x1.max():g}",
            )
        source = np.clip(r.source_hour, 0, len(x0) - 1)
        if (given or profile in TEMPERATURES) and np.any(np.abs(x1 - x0[source]) > VALUE_TOL):
            h = int(np.argmax(np.abs(x1 - x0[source])))
            observed = f"observed {x0[source[h]]:g} at hour {source[h]} of the data"
            self._flag(where, series, f"is {x1[h]:g}, {observed}", hour=h)
        if extremes and profile in PEAK_KEPT and abs(x1.max() - hi) > VALUE_TOL:
            self._flag(where, series, f"peak {x1.max():g} is not the year's {hi:g}")
        if given or profile in TEMPERATURES:
            return
        mean0, mean1 = float(x0.mean()), float(np.average(x1, weights=r.weight_h))
        if abs(mean1 - mean0) > MEAN_REL_TOL * max(1.0, abs(mean0)):
            self._flag(where, series, f"weighted mean {mean1:.6g}, the year's {mean0:.6g}")

    def _flag(self, where: str, what: str, message: str, hour: int | None = None) -> None:
        self.flag(RULE, f"{where} {what}", np.nan, message, hour=hour)
