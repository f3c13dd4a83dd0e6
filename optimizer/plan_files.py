"""Reading a written plan folder back into the :class:`~optimizer.plan.Plan` it came from.

``plan.nc`` holds the dataset (and, as attributes and ``marginal_*`` arrays, everything
``plan.json`` holds: :meth:`Plan.netcdf_dataset`), ``plan.json`` the solve result, cost
breakdown and warnings, ``diagnosis.json`` the diagnosis when infeasible and
``marginal_values.csv`` the marginal values when computed. Re-optimization and reports start
from here instead of re-solving.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from optimizer.plan import MARGINAL_COLUMNS, SOLVE_ATTRS, Plan
from optimizer.solver import SolveResult


def read_plan(folder: str | Path) -> Plan:
    """The plan written into ``folder`` by :meth:`Plan.write`, as the same ``Plan`` (a
    planner's own concerns are not stored: their tables are not views of the plan read)."""
    root = Path(folder)
    doc = json.loads((root / "plan.json").read_text())
    with xr.open_dataset(root / "plan.nc", engine="netcdf4") as ds:
        dataset = _plan_dataset(ds.load())
    marginal = root / "marginal_values.csv"
    diagnosis = root / "diagnosis.json"
    return Plan(
        dataset=dataset,
        result=_result(doc),
        build_seconds=float(doc["build_seconds"]),
        cost_npv_musd={k: float(v) for k, v in doc["cost_npv_musd"].items()},
        marginal_values=_marginal_values(marginal) if marginal.exists() else None,
        diagnosis=json.loads(diagnosis.read_text()) if diagnosis.exists() else None,
        warnings=list(doc["warnings"]),
    )


def _plan_dataset(ds: xr.Dataset) -> xr.Dataset:
    """``plan.nc`` without what :meth:`Plan.netcdf_dataset` added to the plan's dataset."""
    added = {*SOLVE_ATTRS, "warnings", "cost_npv_musd", "diagnosis"}
    out = ds.drop_vars([f"marginal_{c}" for c in MARGINAL_COLUMNS], errors="ignore")
    out.attrs = {
        k: v
        for k, v in ds.attrs.items()
        if k not in added and not k.startswith(("model_", "numerics_"))
    }
    return out


def _result(doc: dict[str, Any]) -> SolveResult:
    status = doc["status"]
    size = doc["model_size"]
    return SolveResult(
        termination=doc["termination"],
        solution=(
            "feasible"
            if status == "interrupted"
            else status
            if status in ("optimal", "feasible")
            else "none"
        ),
        objective_musd=doc["objective_musd"],
        best_bound_musd=doc["best_bound_musd"],
        mip_gap_frac=doc["mip_gap"],
        handoff_seconds=float(doc["handoff_seconds"]),
        solve_seconds=float(doc["solve_seconds"]),
        rows=int(size["rows"]),
        columns=int(size["columns"]),
        nonzeros=int(size["nonzeros"]),
        integers=int(size["integers"]),
        message=doc["message"],
        numerics={k: float(v) for k, v in doc["numerics"].items()},
    )


def _marginal_values(path: Path) -> pd.DataFrame:
    text = {c: str for c in MARGINAL_COLUMNS if c != "value"}
    frame = pd.read_csv(path, dtype=text, keep_default_na=False)  # type: ignore[arg-type]
    frame["value"] = frame["value"].astype(float)
    return frame[MARGINAL_COLUMNS]
