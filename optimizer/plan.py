"""The deployment plan: the solution as an ``xarray.Dataset`` with pandas views and files.

Per site and period the plan reports IT MW (new and cumulative), peak facility draw, energy,
energy cost, water and carbon, all recomputed from the solution and the prepared coefficients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from optimizer.output import replace_folder
from optimizer.solver import SolveResult


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
    def sites(self) -> pd.DataFrame:
        """One row per candidate campus: open, cooling, opening period, final IT MW, upgrades."""
        ds = self.dataset
        frame = pd.DataFrame(
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
        return frame

    @property
    def build(self) -> pd.DataFrame:
        """Site x period (open sites only): new blocks, IT MW, peak draw, energy, cost, water,
        carbon."""
        ds = self.dataset
        columns = [
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
        ]
        frame = ds[columns].to_dataframe().reset_index()
        open_sites = set(ds["site"].to_numpy()[ds["site_open"].to_numpy()])
        frame = frame[frame["site"].isin(open_sites)]
        return frame.rename(columns={"site": "site_id"}).reset_index(drop=True)

    @property
    def serving(self) -> pd.DataFrame:
        """Region x campus x period with MW served (non-zero rows) and the pair's latency."""
        ds = self.dataset
        if "serve_mw" not in ds:
            return pd.DataFrame(
                columns=["region_id", "site_id", "period", "serve_mw", "latency_ms"]
            )
        frame = ds["serve_mw"].to_dataframe().reset_index()
        frame = frame[frame["serve_mw"] > 0].merge(
            ds["latency_ms"].to_dataframe().reset_index(), on=["region", "site"]
        )
        return frame.rename(columns={"region": "region_id", "site": "site_id"})[
            ["region_id", "site_id", "period", "serve_mw", "latency_ms"]
        ].reset_index(drop=True)

    @property
    def onsite(self) -> pd.DataFrame:
        """On-site option x period (options with capacity): MW in service and added, energy,
        emissions and the share of the campus's facility energy served on-site."""
        ds = self.dataset
        frame = (
            ds[["onsite_capacity_mw", "onsite_added_mw", "onsite_energy_mwh"]]
            .to_dataframe()
            .reset_index()
        )
        frame["emissions_tco2"] = ds["onsite_emissions_tco2"].to_numpy().ravel()
        frame.insert(1, "site_id", np.repeat(ds["onsite_site"].to_numpy(), len(self.periods)))
        frame.insert(
            2, "technology", np.repeat(ds["onsite_technology"].to_numpy(), len(self.periods))
        )
        site_energy = ds["energy_mwh"].to_dataframe()["energy_mwh"]
        keys = list(zip(frame["site_id"], frame["period"], strict=True))
        total = np.array([site_energy.get(k, 0.0) for k in keys])
        frame["share_of_site_energy"] = np.where(total > 0, frame["onsite_energy_mwh"] / total, 0.0)
        frame = frame[frame["onsite_capacity_mw"] > 0]
        return frame.rename(columns={"onsite": "option_id"}).reset_index(drop=True)

    @property
    def onsite_dispatch(self) -> pd.DataFrame:
        """Non-zero on-site output per option, period and representative hour, MW."""
        frame = self.dataset["onsite_output_mw"].to_dataframe().reset_index()
        frame = frame[frame["onsite_output_mw"] > 0]
        return frame.rename(columns={"onsite": "option_id"}).reset_index(drop=True)

    @property
    def curtailment(self) -> pd.DataFrame:
        """IT MW shed by flexible campuses per stressed hour, with the hours per year it
        stands for (``stressed_weight_h``) and the zone's price."""
        ds = self.dataset
        hours = ds["curtailment_hour"].to_numpy()
        sites = ds["curtailment_site"].to_numpy()
        index = {s: i for i, s in enumerate(ds["site"].to_numpy())}
        price = ds["site_price_usd_per_mwh"].to_numpy()
        return pd.DataFrame(
            {
                "site_id": sites,
                "cooling": ds["curtailment_cooling"].to_numpy(),
                "period": ds["curtailment_period"].to_numpy(),
                "hour": hours,
                "stressed_weight_h": ds["stressed_weight_h"].to_numpy()[
                    [index[s] for s in sites], hours
                ],
                "price_usd_per_mwh": [
                    price[index[s], h] for s, h in zip(sites, hours, strict=True)
                ],
                "curtailed_it_mw": ds["curtailed_it_mw"].to_numpy(),
            }
        )

    @property
    def contracts(self) -> pd.DataFrame:
        """Clean contract x period (signed ones): zone, technology, MW and output, MWh."""
        ds = self.dataset
        frame = ds[["contracted_mw", "contract_output_mwh"]].to_dataframe().reset_index()
        n_p = len(self.periods)
        frame.insert(1, "zone_id", np.repeat(ds["contract_zone"].to_numpy(), n_p))
        frame.insert(2, "technology", np.repeat(ds["contract_technology"].to_numpy(), n_p))
        frame = frame[frame["contracted_mw"] > 0]
        return frame.rename(columns={"contract": "contract_id"}).reset_index(drop=True)

    @property
    def matched(self) -> pd.DataFrame:
        """Non-zero campus load matched by clean contracts per zone, period and hour, MW."""
        frame = self.dataset["matched_mw"].to_dataframe().reset_index()
        frame = frame[frame["matched_mw"] > 0]
        return frame.rename(columns={"zone": "zone_id"}).reset_index(drop=True)

    @property
    def totals(self) -> pd.DataFrame:
        """Per period: target and installed IT MW, energy, cost, water, carbon, average PUE."""
        ds = self.dataset
        energy = ds["energy_mwh"].sum("site")
        grid = ds["grid_mwh"].sum("site")
        it_energy = (ds["it_mw"] * ds["period_years"] * ds.attrs["it_load_factor_frac"] * 8760).sum(
            "site"
        )
        frame = pd.DataFrame(
            {
                "target_it_mw": ds["target_it_mw"].to_numpy(),
                "it_mw": ds["it_mw"].sum("site").to_numpy(),
                "new_it_mw": ds["new_it_mw"].sum("site").to_numpy(),
                "peak_facility_mw": ds["peak_facility_mw"].sum("site").to_numpy(),
                "energy_mwh": energy.to_numpy(),
                "grid_mwh": ds["grid_mwh"].sum("site").to_numpy(),
                "onsite_mwh": ds["onsite_mwh"].sum("site").to_numpy(),
                "curtailed_it_mwh": ds["curtailed_it_mwh"].sum("site").to_numpy(),
                "energy_cost_musd": ds["energy_cost_musd"].sum("site").to_numpy(),
                "water_m3": ds["water_m3"].sum("site").to_numpy(),
                "emissions_tco2": (
                    ds["emissions_tco2"].sum("site") - ds["matched_tco2"].sum("zone")
                ).to_numpy(),
                "matched_mwh": ds["matched_mwh"].sum("zone").to_numpy(),
                "cfe_share": (ds["matched_mwh"].sum("zone") / grid.where(grid > 0)).to_numpy(),
                "average_pue": (energy / it_energy.where(it_energy > 0)).to_numpy(),
            },
            index=pd.Index(self.periods, name="period"),
        )
        return frame

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

    def _it_by_cooling(self, i: int) -> dict[str, dict[str, float | None]]:
        """Cumulative IT MW by cooling technology and period at site ``i``, for every
        technology with capacity (one, unless the plan breaks the one-technology rule)."""
        ds = self.dataset
        it = ds["it_mw_by_cooling"].to_numpy()[i]  # (cooling, period)
        return {
            str(k): {p: _num(v) for p, v in zip(self.periods, row, strict=True)}
            for k, row in zip(ds["cooling"].to_numpy(), it, strict=True)
            if np.any(row > 0)
        }

    def to_dict(self) -> dict[str, Any]:
        """The content of ``plan.json``."""
        r = self.result
        ds = self.dataset
        sites = []
        if self.has_solution:
            up = self._upgrades_by_site()
            for i, s in enumerate(ds["site"].to_numpy()):
                sites.append(
                    {
                        "site_id": str(s),
                        "open": bool(ds["site_open"].to_numpy()[i]),
                        "open_period": str(ds["site_open_period"].to_numpy()[i]) or None,
                        "development_period": (
                            str(ds["site_development_period"].to_numpy()[i]) or None
                        ),
                        "cooling": str(ds["site_cooling"].to_numpy()[i]) or None,
                        "upgrades": up[i],
                        "it_mw_by_period": {
                            p: _num(v)
                            for p, v in zip(self.periods, ds["it_mw"].to_numpy()[i], strict=True)
                        },
                        "it_mw_by_cooling": self._it_by_cooling(i),
                    }
                )
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
            "totals_by_period": (
                {str(p): _plain(row) for p, row in totals.to_dict("index").items()}
                if totals is not None
                else None
            ),
            "sites": sites,
            "serving": (
                [_plain(row) for row in self.serving.to_dict("records")]
                if self.has_solution
                else []
            ),
        }

    def write(self, out_dir: str | Path, extra: Callable[[Path], None] | None = None) -> Path:
        """Write the plan files (and ``extra(folder)``'s, e.g. plots) into ``out_dir`` through
        :func:`optimizer.output.replace_folder`: only a gridsite folder or an empty or new one
        is replaced, in one atomic step, so the path holds the whole old or new plan."""

        def fill(tmp: Path) -> None:
            (tmp / "plan.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
            if self.has_solution:
                self.sites.to_csv(tmp / "sites.csv", index=False, float_format="%.10g")
                self.build.to_csv(tmp / "build.csv", index=False, float_format="%.10g")
                if "serve_mw" in self.dataset:
                    self.serving.to_csv(tmp / "serving.csv", index=False, float_format="%.10g")
                if self.dataset.sizes["onsite"]:
                    self.onsite.to_csv(tmp / "onsite.csv", index=False, float_format="%.10g")
                    self.onsite_dispatch.to_csv(
                        tmp / "onsite_dispatch.csv", index=False, float_format="%.10g"
                    )
                if self.dataset.sizes["contract"]:
                    self.contracts.to_csv(tmp / "contracts.csv", index=False, float_format="%.10g")
                    self.matched.to_csv(tmp / "matched.csv", index=False, float_format="%.10g")
                if self.dataset["stressed_weight_h"].to_numpy().any():
                    self.curtailment.to_csv(
                        tmp / "curtailment.csv", index=False, float_format="%.10g"
                    )
            self.dataset.to_netcdf(tmp / "plan.nc", engine="netcdf4")
            if self.marginal_values is not None:
                self.marginal_values.to_csv(tmp / "marginal_values.csv", index=False)
            if self.diagnosis is not None:
                (tmp / "diagnosis.json").write_text(json.dumps(self.diagnosis, indent=2) + "\n")
            if extra is not None:
                extra(tmp)

        return replace_folder(out_dir, fill)


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


def extract_plan(
    model: pyo.ConcreteModel, data: xr.Dataset, result: SolveResult, build_seconds: float
) -> Plan:
    """Read the solution out of ``model`` into a plan dataset (no Pyomo object leaves)."""
    sites = [str(s) for s in data["site"].to_numpy()]
    periods = [str(p) for p in data["period"].to_numpy()]
    coolings = [str(k) for k in data["cooling"].to_numpy()]
    upgrades = [str(u) for u in data["upgrade"].to_numpy()]
    si = {s: i for i, s in enumerate(sites)}
    pi = {p: i for i, p in enumerate(periods)}
    ki = {k: i for i, k in enumerate(coolings)}
    n_s, n_p, n_k = len(sites), len(periods), len(coolings)
    it = np.zeros((n_s, n_k, n_p))
    new = np.zeros((n_s, n_k, n_p))
    open_ = np.zeros((n_s, n_p), dtype=bool)
    online = np.zeros((len(upgrades), n_p), dtype=bool)
    regions = [str(r) for r in data["region"].to_numpy()] if "region" in data.coords else []
    ri = {r: i for i, r in enumerate(regions)}
    serve = np.zeros((len(regions), n_s, n_p))
    options = [str(o) for o in data["onsite"].to_numpy()]
    oi = {o: i for i, o in enumerate(options)}
    n_h = data.sizes["hour"]
    capacity = np.zeros((len(options), n_p))
    added = np.zeros((len(options), n_p))
    output = np.zeros((len(options), n_p, n_h))
    curtailed: list[tuple[str, str, str, int, float]] = []
    contracts = [str(c) for c in data["contract"].to_numpy()]
    ci = {c: i for i, c in enumerate(contracts)}
    zones = [str(z) for z in data["zone"].to_numpy()]
    zi = {z: i for i, z in enumerate(zones)}
    contracted = np.zeros((len(contracts), n_p))
    matched = np.zeros((len(zones), n_p, n_h))
    cost: dict[str, float] = {}
    if result.solution != "none":
        for (s, k, p), var in model.phasing.it_mw.items():
            it[si[s], ki[k], pi[p]] = var.value
        for (s, k, p), expr in model.phasing.new_it_mw.items():
            new[si[s], ki[k], pi[p]] = pyo.value(expr)
        for (s, p), var in model.siting.site_open.items():
            open_[si[s], pi[p]] = var.value > 0.5
        ui = {u: i for i, u in enumerate(upgrades)}
        for (u, p), var in model.interconnection.upgrade_online.items():
            online[ui[u], pi[p]] = var.value > 0.5
        if hasattr(model, "demand"):
            for (r, s, p), var in model.demand.serve_mw.items():
                serve[ri[r], si[s], pi[p]] = var.value
        if hasattr(model, "onsite"):
            for (o, p), var in model.onsite.capacity_mw.items():
                capacity[oi[o], pi[p]] = var.value
                added[oi[o], pi[p]] = model.onsite.added_mw[o, p].value
            for (o, p, h), var in model.onsite.output_mw.items():
                output[oi[o], pi[p], h] = var.value
        for (s, k, p, h), var in model.interconnection.curtailed_it_mw.items():
            if var.value > 1e-6:
                curtailed.append((s, k, p, h, float(var.value)))
        if hasattr(model, "clean"):
            for (c, p), var in model.clean.contracted_mw.items():
                contracted[ci[c], pi[p]] = var.value
            for (z, p, h), var in model.clean.matched_mw.items():
                matched[zi[z], pi[p], h] = var.value
        cost = {k: float(pyo.value(v)) for k, v in model.cost_terms_musd.items()}
        cost["total"] = float(pyo.value(model.objective.total_cost_musd))
    it = np.where(np.abs(it) < 1e-6, 0.0, it)
    new = np.where(np.abs(new) < 1e-6, 0.0, new)
    serve = np.where(np.abs(serve) < 1e-6, 0.0, serve)
    capacity, added, output = (
        np.where(np.abs(a) < 1e-6, 0.0, a) for a in (capacity, added, output)
    )

    chosen = it.sum(axis=2).argmax(axis=1)
    has_it = it.sum(axis=(1, 2)) > 0
    site_cooling = np.where(has_it, np.array(coolings, dtype=object)[chosen], "")
    years = data["period_years"].to_numpy()
    block = float(data.attrs["block_it_mw"])

    def per_pair(name: str) -> np.ndarray:  # (site, cooling) coefficient, NaN -> 0
        return np.nan_to_num(data[name].to_numpy())

    def weigh(coef: np.ndarray) -> np.ndarray:  # sum over cooling of it x coef -> (site, period)
        return np.einsum("skp,sk->sp", it, coef)

    ds = data[["target_it_mw", "period_years", "discount_factor", "upgrade_site"]].copy()
    ds.attrs = dict(data.attrs)
    dims = ("site", "period")
    ds["site_name"] = data["site_name"]
    ds["site_zone"] = data["site_zone"]
    ds["zone_region"] = data["zone_region"]
    ds["site_latitude_deg"] = data["site_latitude_deg"]
    ds["site_longitude_deg"] = data["site_longitude_deg"]
    # The development capex is paid when the model opens the campus, which a plan within the
    # MIP gap may do before its first block; reported so the cost can be recomputed.
    first_decided = np.where(open_.any(axis=1), open_.argmax(axis=1), -1)
    ds["site_development_period"] = (
        "site",
        np.array([periods[i] if i >= 0 else "" for i in first_decided], dtype=str),
    )
    # A campus is open from the first period it has IT capacity; an opening decision without
    # capacity (possible only at zero development cost) is not reported as open.
    open_ &= it.sum(axis=1) > 0
    ds["site_open"] = ("site", open_[:, -1] if n_p else np.zeros(n_s, bool))
    first_open = np.where(open_.any(axis=1), open_.argmax(axis=1), -1)
    ds["site_open_period"] = (
        "site",
        np.array([periods[i] if i >= 0 else "" for i in first_open], dtype=str),
    )
    ds["site_cooling"] = ("site", site_cooling.astype(str))
    ds["it_mw"] = (dims, it.sum(axis=1))
    ds["new_it_mw"] = (dims, new.sum(axis=1))
    ds["new_blocks"] = (dims, np.round(new.sum(axis=1) / block) if block > 0 else new.sum(axis=1))
    ds.coords["cooling"] = coolings
    if regions:
        ds["inference_demand_mw"] = data["inference_demand_mw"]
        ds["latency_ms"] = data["latency_ms"]
        ds["serve_mw"] = (("region", "site", "period"), serve)
        ds["serve_mw"].attrs["units"] = "MW"
    ds["it_mw_by_cooling"] = (("site", "cooling", "period"), it)
    ds["peak_facility_mw"] = (dims, weigh(per_pair("peak_pue")))
    ds["energy_mwh"] = (dims, weigh(per_pair("energy_mwh_per_mw_year")) * years)
    ds["energy_cost_musd"] = (dims, weigh(per_pair("energy_cost_musd_per_mw_year")) * years)
    ds["water_m3"] = (dims, weigh(per_pair("water_m3_per_mw_year")) * years)
    ds["emissions_tco2"] = (dims, weigh(per_pair("carbon_t_per_mw_year")) * years)
    _add_site_power(ds, data, capacity, added, output, online, curtailed)
    contracted, matched = (np.where(np.abs(a) < 1e-6, 0.0, a) for a in (contracted, matched))
    _add_contracts(ds, data, contracted, matched)
    first_online = np.where(online.any(axis=1), online.argmax(axis=1), -1)
    ds["upgrade_online_period"] = (
        "upgrade",
        np.array([periods[i] if i >= 0 else "" for i in first_online], dtype=str),
    )
    units = {
        "it_mw": "MW",
        "new_it_mw": "MW",
        "peak_facility_mw": "MW",
        "energy_mwh": "MWh",
        "energy_cost_musd": "million USD (undiscounted)",
        "water_m3": "m3",
        "emissions_tco2": "t CO2e",
        "grid_mwh": "MWh",
        "onsite_mw": "MW",
        "onsite_mwh": "MWh",
        "nonfirm_mw": "MW",
        "curtailed_it_mwh": "MWh",
    }
    for name, unit in units.items():
        ds[name].attrs["units"] = unit
    ds.attrs.update(status=result.solution, termination=result.termination)
    return Plan(dataset=ds, result=result, build_seconds=build_seconds, cost_npv_musd=cost)


def _add_site_power(
    ds: xr.Dataset,
    data: xr.Dataset,
    capacity: np.ndarray,
    added: np.ndarray,
    output: np.ndarray,
    online: np.ndarray,
    curtailed: list[tuple[str, str, str, int, float]],
) -> None:
    """On-site power and flexible connections into the plan: per option and period, per
    site and period, and the curtailment of each stressed hour (one row each)."""
    years = data["period_years"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    sites = [str(s) for s in data["site"].to_numpy()]
    si = {s: i for i, s in enumerate(sites)}
    option_row = np.array([si[str(s)] for s in data["onsite_site"].to_numpy()], dtype=int)
    per_year = output @ weight  # (option, period) MWh per year
    emissions = data["onsite_emissions_t_per_mwh"].to_numpy()
    ds.coords["onsite"] = data["onsite"]
    ds.coords["hour"] = data["hour"]
    ds["hour_weight_h"] = data["hour_weight_h"]
    ds["onsite_site"] = data["onsite_site"]
    ds["onsite_technology"] = data["onsite_technology"]
    ds["onsite_capacity_mw"] = (("onsite", "period"), capacity)
    ds["onsite_added_mw"] = (("onsite", "period"), added)
    ds["onsite_output_mw"] = (("onsite", "period", "hour"), output)
    ds["onsite_energy_mwh"] = (("onsite", "period"), per_year * years)
    ds["onsite_emissions_tco2"] = (("onsite", "period"), per_year * years * emissions[:, None])

    n_s, n_p = len(sites), len(years)
    onsite_mw = np.zeros((n_s, n_p))
    onsite_mwh = np.zeros((n_s, n_p))
    saved_musd = np.zeros((n_s, n_p))
    net_tco2 = np.zeros((n_s, n_p))
    price = data["site_price_musd_per_mwh"].to_numpy()
    carbon = data["site_carbon_t_per_mwh"].to_numpy()
    for o, i in enumerate(option_row):
        onsite_mw[i] += capacity[o]
        onsite_mwh[i] += per_year[o] * years
        saved_musd[i] += (output[o] @ (weight * price[i])) * years
        net_tco2[i] += (output[o] @ (weight * (emissions[o] - carbon[i]))) * years
    dims = ("site", "period")
    ds["onsite_mw"] = (dims, onsite_mw)
    ds["onsite_mwh"] = (dims, onsite_mwh)
    ds["grid_mwh"] = ds["energy_mwh"] - ds["onsite_mwh"]
    ds["energy_cost_musd"] = ds["energy_cost_musd"] - xr.DataArray(saved_musd, dims=dims)
    ds["emissions_tco2"] = ds["emissions_tco2"] + xr.DataArray(net_tco2, dims=dims)
    # Non-firm MW used: the design-hour draw above firm supply (headroom, upgrades, on-site).
    firm = data["headroom_mw"].to_numpy().copy()
    for u, (site, mw) in enumerate(
        zip(data["upgrade_site"].to_numpy(), data["upgrade_added_mw"].to_numpy(), strict=True)
    ):
        firm[si[str(site)]] += mw * online[u]
    above = ds["peak_facility_mw"].to_numpy() - firm - onsite_mw
    nonfirm = np.minimum(np.maximum(above, 0.0), data["nonfirm_mw"].to_numpy())
    ds["nonfirm_mw"] = (dims, np.where(nonfirm < 1e-6, 0.0, nonfirm))

    pi = {str(p): j for j, p in enumerate(data["period"].to_numpy())}
    lost = np.zeros((n_s, n_p))
    stressed = data["stressed_weight_h"].to_numpy()
    for s, _, p, h, mw in curtailed:
        lost[si[s], pi[p]] += stressed[si[s], h] * mw * years[pi[p]]
    ds["curtailed_it_mwh"] = (dims, lost)
    rows = "curtailment"
    ds["curtailment_site"] = (rows, np.array([c[0] for c in curtailed], dtype=str))
    ds["curtailment_cooling"] = (rows, np.array([c[1] for c in curtailed], dtype=str))
    ds["curtailment_period"] = (rows, np.array([c[2] for c in curtailed], dtype=str))
    ds["curtailment_hour"] = (rows, np.array([c[3] for c in curtailed], dtype=int))
    ds["curtailed_it_mw"] = (rows, np.array([c[4] for c in curtailed], dtype=float))
    ds["stressed_weight_h"] = data["stressed_weight_h"]
    ds["site_price_usd_per_mwh"] = data["site_price_musd_per_mwh"] * 1e6


def _add_contracts(
    ds: xr.Dataset, data: xr.Dataset, contracted: np.ndarray, matched: np.ndarray
) -> None:
    """Clean contracts into the plan: MW contracted and output per contract and period; per
    zone, period and hour the campus load matched (MW), and per zone and period the energy
    matched and the emissions it avoids."""
    years = data["period_years"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    cf = data["capacity_factor_frac"].to_numpy()
    ds.coords["contract"] = data["contract"]
    ds["contract_zone"] = data["contract_zone"]
    ds["contract_technology"] = data["contract_technology"]
    ds["contracted_mw"] = (("contract", "period"), contracted)
    ds["contract_output_mwh"] = (
        ("contract", "period"),
        contracted * (cf @ weight)[:, None] * years,
    )
    ds["matched_mw"] = (("zone", "period", "hour"), matched)
    per_year = np.einsum("zph,h->zp", matched, weight)
    carbon = data["zone_carbon_t_per_mwh"].to_numpy()
    ds["matched_mwh"] = (("zone", "period"), np.where(per_year < 1e-6, 0.0, per_year) * years)
    ds["matched_tco2"] = (
        ("zone", "period"),
        np.einsum("zph,h,zh->zp", matched, weight, carbon) * years,
    )
    ds.attrs["cfe_target_frac"] = float(data.attrs["cfe_target_frac"])
