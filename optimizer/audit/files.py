"""Reading the plan folder: ``plan.json``, the required CSVs and the optional ones of on-site
power, flexible connections and clean-energy contracts (a missing optional file reads as no
rows)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from optimizer.audit.findings import PlanFilesError


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file() and (path.parent / "scenario.yaml").is_file():
        raise PlanFilesError(
            f"{path.parent}: a scenario folder, not a plan (no plan.json); give the folder "
            "gridsite solve wrote (--out)"
        )
    if not path.is_file():
        raise PlanFilesError(f"{path}: no plan.json here (write a plan with gridsite solve)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanFilesError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sites", []), list):
        raise PlanFilesError(f"{path}: not a gridsite plan (expected an object with sites)")
    return data


def _non_finite(value: Any, where: str = "") -> list[str]:
    """The places in a plan.json value that hold NaN or Infinity (gridsite writes null for a
    number it does not have, so these were typed in)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where or 'plan.json'} is {value}"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{where}.{k}".strip("."))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{where}[{i}]")]
    return []


def _read_netcdf(path: Path) -> xr.Dataset | str:
    """The dataset in ``plan.nc``, or why it cannot be read."""
    if not path.is_file():
        return "missing"
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except Exception as e:  # garbage may fail in the HDF5 layer, netCDF4 or xarray
        return f"not a readable NetCDF file ({type(e).__name__}: {str(e)[:80]})"


def _read_csv(path: Path, dtype: dict[str, type], required: bool = True) -> pd.DataFrame:
    """The table at ``path``; an optional one that is absent reads as no rows."""
    if not path.is_file():
        if not required:
            return pd.DataFrame()
        raise PlanFilesError(f"{path}: missing (a plan with a solution has {path.name})")
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])  # type: ignore[arg-type]
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise PlanFilesError(f"{path}: not a readable CSV table ({e})") from None


#: The optional plan files of on-site power and flexible connections, by the columns that
#: key their rows.
SITE_POWER_FILES = {
    "onsite.csv": ("option_id", "period"),
    "onsite_dispatch.csv": ("option_id", "period", "hour"),
    "curtailment.csv": ("site_id", "cooling", "period", "hour"),
}
#: The optional plan files of clean-energy contracts, by the columns that key their rows.
CLEAN_FILES = {
    "contracts.csv": ("contract_id", "period"),
    "matched.csv": ("zone_id", "period", "hour"),
}
#: The plan file of demand regions, by the columns that key its rows.
SERVING_FILE = {"serving.csv": ("region_id", "site_id", "period")}


@dataclass(frozen=True)
class _OptionalFiles:
    """The optional plan files (no rows when a file is absent)."""

    onsite: pd.DataFrame  # option x period with capacity
    dispatch: pd.DataFrame  # option x period x hour with output
    curtailment: pd.DataFrame  # site x cooling x period x stressed hour with IT shed
    contracts: pd.DataFrame  # contract x period with MW contracted
    matched: pd.DataFrame  # zone x period x hour with load matched
    serving: pd.DataFrame  # region x site x period with MW served

    @classmethod
    def read(cls, folder: Path) -> _OptionalFiles:
        frames = {}
        for name, keys in {**SITE_POWER_FILES, **CLEAN_FILES, **SERVING_FILE}.items():
            frame = _read_csv(folder / name, dict.fromkeys(keys, str), required=False)
            if set(keys) <= set(frame.columns) and frame.duplicated(list(keys)).any():
                raise PlanFilesError(f"{folder / name}: rows listed twice (same {', '.join(keys)})")
            frames[name] = frame
        return cls(
            onsite=frames["onsite.csv"],
            dispatch=frames["onsite_dispatch.csv"],
            curtailment=frames["curtailment.csv"],
            contracts=frames["contracts.csv"],
            matched=frames["matched.csv"],
            serving=frames["serving.csv"],
        )
