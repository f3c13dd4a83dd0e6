"""The deployment plan: the solution as an ``xarray.Dataset`` with pandas views and files.

Per site and period the plan reports IT MW (new and cumulative), peak facility draw, energy,
energy cost, water and carbon, all recomputed from the solution and the prepared coefficients
(:mod:`optimizer.extract`). The concerns' own tables (``plan.serving``, ``plan.onsite``, ...)
are their declared views (``Concern.views``); a concern the scenario does not use has no
arrays and its tables have no rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from formulations import CONCERNS, Concern, View
from optimizer.output import replace_folder
from optimizer.profiles import reduction_errors
from optimizer.solver import SolveResult

#: Per-site columns of ``build.csv``; a concern's column it did not add (no on-site power,
#: no flexible connection) reads as 0.
BUILD_COLUMNS = (
    "new_blocks",
    "new_it_mw",
    "it_mw",
    "peak_facility_mw",
    "energy_mwh",
    "grid_mwh",
    "onsite_mw",
    "onsite_mwh",
    "nonfirm_mw",
    "curtailed_it_mwh",
    "energy_cost_musd",
    "water_m3",
    "emissions_tco2",
)
SOLVE_ATTRS = (
    "status",
    "termination",
    "message",
    "objective_musd",
    "best_bound_musd",
    "mip_gap",
    "build_seconds",
    "handoff_seconds",
    "solve_seconds",
)
"""``plan.json`` figures kept as attributes of ``plan.nc`` (a missing one is left out)."""
MARGINAL_COLUMNS = ["kind", "subject", "period", "value", "unit", "effect"]
"""Columns of ``marginal_values.csv`` (see :mod:`optimizer.marginal` for the sign)."""


@dataclass
class Plan:
    """A solved (or unsolved) scenario: ``dataset`` holds everything, the rest are views."""

    dataset: xr.Dataset
    result: SolveResult
    build_seconds: float
    cost_npv_musd: dict[str, float]
    marginal_values: pd.DataFrame | None = None
    """Value of one more unit of each binding limit (see :mod:`optimizer.marginal`)."""
    diagnosis: dict[str, Any] | None = None
    """Why there is no plan (see :mod:`optimizer.diagnose`), when infeasible."""
    warnings: list[str] = field(default_factory=list)
    extra_concerns: tuple[Concern, ...] = ()
    """A planner's own concerns the plan was solved with (their views are the plan's too)."""

    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (stopped with an incumbent), ``interrupted`` (stopped on
        request with an incumbent), ``infeasible`` or ``no_solution``."""
        if self.result.solution == "feasible" and self.result.termination == "interrupted":
            return "interrupted"
        if self.result.solution != "none":
            return self.result.solution
        return "infeasible" if self.result.termination == "infeasible" else "no_solution"

    @property
    def has_solution(self) -> bool:
        return self.result.solution != "none"

    @property
    def periods(self) -> list[str]:
        return [str(p) for p in self.dataset["period"].to_numpy()]

    @property
    def views(self) -> dict[str, View]:
        """The concerns' tables by name."""
        return {v.name: v for c in (*CONCERNS, *self.extra_concerns) for v in c.views}

    def view(self, name: str) -> pd.DataFrame:
        """The concern table ``name`` (no rows when the plan has none of its arrays)."""
        v = self.views[name]
        if v.array not in self.dataset:
            return pd.DataFrame(columns=list(v.columns))
        return v.table(self.dataset)

    def __getattr__(self, name: str) -> pd.DataFrame:
        """``plan.serving``, ``plan.onsite``, ...: the concerns' tables."""
        if name.startswith("_") or name not in self.views:
            raise AttributeError(name)
        return self.view(name)

    @property
    def sites(self) -> pd.DataFrame:
        """One row per candidate campus: open, cooling, opening period, final IT MW, upgrades."""
        ds = self.dataset
        return pd.DataFrame(
            {
                "site_id": ds["site"].to_numpy(),
                "name": ds["site_name"].to_numpy(),
                "zone": ds["site_zone"].to_numpy(),
                "open": ds["site_open"].to_numpy(),
                "open_period": ds["site_open_period"].to_numpy(),
                "cooling": ds["site_cooling"].to_numpy(),
                "it_mw": ds["it_mw"].isel(period=-1).to_numpy(),
                "peak_facility_mw": ds["peak_facility_mw"].isel(period=-1).to_numpy(),
                "upgrades": [";".join(u) for u in self._upgrades_by_site()],
            }
        )

    def site_array(self, name: str) -> xr.DataArray:
        """A (site, period) array of the plan; 0 where no concern added it."""
        if name in self.dataset:
            return self.dataset[name]
        return xr.zeros_like(self.dataset["it_mw"])

    @property
    def build(self) -> pd.DataFrame:
        """Site x period (open sites only): new blocks, IT MW, peak draw, energy, cost, water,
        carbon."""
        ds = self.dataset
        frame = xr.Dataset({c: self.site_array(c) for c in BUILD_COLUMNS}).to_dataframe()
        frame = frame[list(BUILD_COLUMNS)].reset_index()
        open_sites = set(ds["site"].to_numpy()[ds["site_open"].to_numpy()])
        frame = frame[frame["site"].isin(open_sites)]
        return frame.rename(columns={"site": "site_id"}).reset_index(drop=True)

    @property
    def totals(self) -> pd.DataFrame:
        """Per period: target and installed IT MW, energy, cost, water, carbon, average PUE."""
        ds = self.dataset
        energy = ds["energy_mwh"].sum("site")
        grid = ds["grid_mwh"].sum("site")
        it_energy = (ds["it_mw"] * ds["period_years"] * ds.attrs["it_load_factor_frac"] * 8760).sum(
            "site"
        )
        zeros = xr.zeros_like(ds["target_it_mw"])
        matched_mwh = ds["matched_mwh"].sum("zone") if "matched_mwh" in ds else zeros
        matched_tco2 = ds["matched_tco2"].sum("zone") if "matched_tco2" in ds else zeros

        def total(name: str) -> np.ndarray:
            return self.site_array(name).sum("site").to_numpy()

        return pd.DataFrame(
            {
                "target_it_mw": ds["target_it_mw"].to_numpy(),
                "it_mw": total("it_mw"),
                "new_it_mw": total("new_it_mw"),
                "peak_facility_mw": total("peak_facility_mw"),
                "energy_mwh": energy.to_numpy(),
                "grid_mwh": grid.to_numpy(),
                "onsite_mwh": total("onsite_mwh"),
                "curtailed_it_mwh": total("curtailed_it_mwh"),
                "energy_cost_musd": total("energy_cost_musd"),
                "water_m3": total("water_m3"),
                "emissions_tco2": (ds["emissions_tco2"].sum("site") - matched_tco2).to_numpy(),
                "matched_mwh": matched_mwh.to_numpy(),
                "cfe_share": (matched_mwh / grid.where(grid > 0)).to_numpy(),
                "average_pue": (energy / it_energy.where(it_energy > 0)).to_numpy(),
            },
            index=pd.Index(self.periods, name="period"),
        )

    def _upgrades_by_site(self) -> list[list[str]]:
        ds = self.dataset
        out: list[list[str]] = [[] for _ in range(ds.sizes["site"])]
        index = {s: i for i, s in enumerate(ds["site"].to_numpy())}
        for u, s, when in zip(
            ds["upgrade"].to_numpy(),
            ds["upgrade_site"].to_numpy(),
            ds["upgrade_online_period"].to_numpy(),
            strict=True,
        ):
            if when:
                out[index[s]].append(f"{u}@{when}")
        return out

    def _site_records(self) -> list[dict[str, Any]]:
        """``plan.json``'s sites: decisions per candidate campus (none without a solution)."""
        if not self.has_solution:
            return []
        ds = self.dataset
        up = self._upgrades_by_site()
        it = ds["it_mw"].to_numpy()
        is_open, open_period = ds["site_open"].to_numpy(), ds["site_open_period"].to_numpy()
        development, cooling = (
            ds["site_development_period"].to_numpy(),
            ds["site_cooling"].to_numpy(),
        )
        by_cooling, coolings = ds["it_mw_by_cooling"].to_numpy(), ds["cooling"].to_numpy()
        periods = self.periods  # (the arrays read once, not per campus)
        return [
            {
                "site_id": str(s),
                "open": bool(is_open[i]),
                "open_period": str(open_period[i]) or None,
                "development_period": str(development[i]) or None,
                "cooling": str(cooling[i]) or None,
                "upgrades": up[i],
                "it_mw_by_period": dict(zip(periods, map(_num, it[i]), strict=True)),
                "it_mw_by_cooling": _by_cooling(by_cooling[i], coolings, periods),
            }
            for i, s in enumerate(ds["site"].to_numpy())
        ]

    def to_dict(self) -> dict[str, Any]:
        """The content of ``plan.json``."""
        r = self.result
        ds = self.dataset
        totals = self.totals if self.has_solution else None
        return {
            "scenario": ds.attrs["scenario"],
            "status": self.status,
            "termination": r.termination,
            "message": r.message,
            "warnings": self.warnings,
            "objective_musd": _num(r.objective_musd),
            "best_bound_musd": _num(r.best_bound_musd),
            "mip_gap": _num(r.mip_gap_frac),
            "build_seconds": self.build_seconds,
            "handoff_seconds": r.handoff_seconds,
            "solve_seconds": r.solve_seconds,
            "numerics": r.numerics,
            "model_size": {
                "rows": r.rows,
                "columns": r.columns,
                "nonzeros": r.nonzeros,
                "integers": r.integers,
            },
            "periods": self.periods,
            "target_it_mw_by_period": dict(
                zip(self.periods, map(_num, ds["target_it_mw"].to_numpy()), strict=True)
            ),
            "total_it_mw_by_period": (
                dict(zip(self.periods, map(_num, totals["it_mw"]), strict=True))
                if totals is not None
                else None
            ),
            "cost_npv_musd": {k: _num(v) for k, v in self.cost_npv_musd.items()},
            "cost_by_period_musd": (
                {
                    str(t): dict(zip(self.periods, map(_num, row), strict=True))
                    for t, row in zip(
                        ds["term"].to_numpy(), ds["cost_musd"].to_numpy(), strict=True
                    )
                }
                if "cost_musd" in ds
                else None
            ),
            "totals_by_period": (
                {str(p): _plain(row) for p, row in totals.to_dict("index").items()}
                if totals is not None
                else None
            ),
            "representative_hours": reduction_errors(ds),
            "sites": self._site_records(),
            **{
                v.name: (
                    [_plain(row) for row in self.view(v.name).to_dict("records")]
                    if self.has_solution
                    else []
                )
                for v in self.views.values()
                if v.in_json
            },
        }

    def _write_files(self, folder: Path, doc: dict[str, Any] | None = None) -> None:
        """The tables (those of the concerns the plan holds), the dataset with the solve's
        figures (``plan.nc``; ``doc``: :meth:`to_dict`'s, if made already), marginal values
        and diagnosis, when there are."""
        if self.has_solution:
            tables = {"sites.csv": self.sites, "build.csv": self.build}
            tables.update(
                {
                    v.file: v.table(self.dataset)
                    for v in self.views.values()
                    if v.array in self.dataset
                }
            )
            for name, table in tables.items():
                table.to_csv(folder / name, index=False, float_format="%.10g")
        self.netcdf_dataset(doc).to_netcdf(folder / "plan.nc", engine="netcdf4")
        if self.marginal_values is not None:
            self.marginal_values.to_csv(folder / "marginal_values.csv", index=False)
        if self.diagnosis is not None:
            (folder / "diagnosis.json").write_text(json.dumps(self.diagnosis, indent=2) + "\n")

    def netcdf_dataset(self, doc: dict[str, Any] | None = None) -> xr.Dataset:
        """The dataset with everything ``plan.json`` holds besides: the solve's figures as
        attributes, the marginal values as ``marginal_*`` arrays, the diagnosis as JSON
        (``doc``: :meth:`to_dict`'s, if made already)."""
        ds = self.dataset.copy()
        doc = self.to_dict() if doc is None else doc
        for key in SOLVE_ATTRS:
            if doc[key] is not None:
                ds.attrs[key] = doc[key]
        ds.attrs.update({f"model_{k}": v for k, v in doc["model_size"].items()})
        ds.attrs.update({f"numerics_{k}": v for k, v in doc["numerics"].items()})
        ds.attrs["warnings"] = json.dumps(self.warnings)
        ds.attrs["cost_npv_musd"] = json.dumps(doc["cost_npv_musd"])
        if self.diagnosis is not None:
            ds.attrs["diagnosis"] = json.dumps(self.diagnosis)
        if self.marginal_values is not None:
            for column in MARGINAL_COLUMNS:
                values = self.marginal_values[column].to_numpy()
                ds[f"marginal_{column}"] = (
                    "marginal",
                    values.astype(float if column == "value" else str),
                )
            ds["marginal_value"].attrs["units"] = "see marginal_unit"
        return ds

    def write(self, out_dir: str | Path, extra: Callable[[Path], None] | None = None) -> Path:
        """Write the plan files (and ``extra(folder)``'s, e.g. plots) into ``out_dir`` through
        :func:`optimizer.output.replace_folder`: only a gridsite folder or an empty or new one
        is replaced, in one atomic step, so the path holds the whole old or new plan."""

        def fill(tmp: Path) -> None:
            doc = self.to_dict()
            (tmp / "plan.json").write_text(json.dumps(doc, indent=2) + "\n")
            self._write_files(tmp, doc)
            if extra is not None:
                extra(tmp)

        return replace_folder(out_dir, fill)


def _by_cooling(
    it: np.ndarray, coolings: np.ndarray, periods: list[str]
) -> dict[str, dict[str, float | None]]:
    """Cumulative IT MW of a campus (``it``: cooling x period) by cooling technology and
    period, for every technology with capacity (one, unless the plan breaks the
    one-technology rule)."""
    return {
        str(k): {p: _num(v) for p, v in zip(periods, row, strict=True)}
        for k, row in zip(coolings, it, strict=True)
        if np.any(row > 0)
    }


def _num(x: Any) -> float | None:
    """A number for JSON at full precision; None for a missing or non-finite one."""
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else x


def _plain(row: Mapping[Hashable, Any]) -> dict[str, Any]:
    """A table row for JSON: numbers as full-precision floats (NaN -> None), the rest as str."""
    return {str(k): _plain_value(v) for k, v in row.items()}


def _plain_value(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _num(v)
    return str(v)
