"""Reading the plan folder: ``plan.json``, the required CSVs and the optional ones of on-site
power, flexible connections and clean-energy contracts (a missing optional file reads as no
rows)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.audit.findings import PlanFilesError


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PlanFilesError(f"{path}: no plan.json here (write a plan with gridsite solve)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanFilesError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sites", []), list):
        raise PlanFilesError(f"{path}: not a gridsite plan (expected an object with sites)")
    return data


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


@dataclass(frozen=True)
class _OptionalFiles:
    """The optional plan files (no rows when a file is absent)."""

    onsite: pd.DataFrame  # option x period with capacity
    dispatch: pd.DataFrame  # option x period x hour with output
    curtailment: pd.DataFrame  # site x cooling x period x stressed hour with IT shed
    contracts: pd.DataFrame  # contract x period with MW contracted
    matched: pd.DataFrame  # zone x period x hour with load matched

    @classmethod
    def read(cls, folder: Path) -> _OptionalFiles:
        frames = {}
        for name, keys in {**SITE_POWER_FILES, **CLEAN_FILES}.items():
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
        )
