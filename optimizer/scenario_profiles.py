"""Reading the hourly profiles (``profiles/<name>.csv``) and their hour weights.

Every row is read with the csv module first, so a problem is reported at its true line
(blank lines counted) and a row with a cell more than the header (a trailing comma) is
said to be one, not mistaken by pandas for an index column.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import Problem
from optimizer.scenario_csv import cell_count, csv_rows, read_text
from optimizer.schema import OPTIONAL_PROFILES, PROFILE_BOUNDS, PROFILES, ScenarioConfig

HOURS_PER_YEAR = 8760


@dataclass(frozen=True)
class Profiles:
    """Hourly profiles: one DataFrame per name in :data:`~optimizer.schema.PROFILES`,
    indexed by hour, columns are zone or weather ids. ``hour_weights`` (hours per year each
    hour stands for) is set when the profiles are already representative hours."""

    frames: dict[str, pd.DataFrame]
    hour_weights: pd.Series | None

    @property
    def n_hours(self) -> int:
        return len(next(iter(self.frames.values())))


def load_profiles(
    root: Path, config: ScenarioConfig | None, problems: list[Problem]
) -> Profiles | None:
    frames: dict[str, pd.DataFrame] = {}
    optional = [n for n in OPTIONAL_PROFILES if (root / "profiles" / f"{n}.csv").exists()]
    for name in [*PROFILES, *optional]:
        frame = _load_profile(root, f"profiles/{name}.csv", PROFILE_BOUNDS[name], problems)
        if frame is not None:
            frames[name] = frame
    weights = None
    reduce = config is not None and config.representative_days is not None
    if config is not None and not reduce:
        weights = _load_hour_weights(root, problems)
    if len(frames) != len(PROFILES) + len(optional) or config is None:
        return None
    expected = HOURS_PER_YEAR if reduce else (len(weights) if weights is not None else None)
    for name, frame in frames.items():
        if expected is not None and len(frame) != expected:
            what = (
                "8760 hours (representative_days is set)"
                if reduce
                else f"{expected} hours, as profiles/hour_weights.csv"
            )
            problems.append(
                Problem(
                    f"profiles/{name}.csv",
                    f"has {len(frame)} hours, expected {what}",
                    field="hour",
                )
            )
    if problems:
        return None
    return Profiles(frames=frames, hour_weights=weights)


def _load_profile(
    root: Path, name: str, bounds: tuple[float, float], problems: list[Problem]
) -> pd.DataFrame | None:
    text = read_text(root, name, problems)
    if text is None:
        return None
    before = len(problems)
    parsed = _parse(name, text, problems)
    if parsed is None:
        return None
    header, lines, cells, numeric = parsed
    if "hour" not in header:
        problems.append(Problem(name, "missing column", row=1, field="hour"))
        return None
    if len(header) < 2:
        problems.append(Problem(name, "has no id columns besides hour", row=1))
        return None
    for column in header:
        values = numeric[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        low, high = bounds if column != "hour" else (0, HOURS_PER_YEAR - 1)
        out = ~bad & ((values < low) | (values > high))
        for index in np.flatnonzero(bad)[:3]:
            message = _not_a_number(cells[column].iloc[index])
            problems.append(Problem(name, message, row=int(lines[index]), field=column))
        for index in np.flatnonzero(out)[:3]:
            problems.append(
                Problem(
                    name,
                    f"{values[index]:g} outside [{low:g}, {high:g}]",
                    row=int(lines[index]),
                    field=column,
                )
            )
    if len(problems) > before:
        return None
    hours = numeric["hour"].to_numpy()
    if not np.array_equal(hours, np.arange(len(hours))):
        first = int(np.flatnonzero(hours != np.arange(len(hours)))[0])
        problems.append(
            Problem(
                name,
                f"hours must run 0, 1, 2, ... in order (got {hours[first]:g} at position {first})",
                row=int(lines[first]),
                field="hour",
            )
        )
        return None
    return numeric.set_index("hour").astype(float)


def _parse(
    name: str, text: str, problems: list[Problem]
) -> tuple[list[str], np.ndarray, pd.DataFrame, pd.DataFrame] | None:
    """Header, the line of each row, the cells and the cells as numbers (NaN where not
    one); ``None`` with a problem per row whose cell count differs from the header's."""
    before = len(problems)
    if '"' in text:  # quoted cells: the csv module's reading, cell by cell
        rows = list(csv_rows(name, text, problems))
        if len(problems) > before or not rows:
            return None
        (_, header), body = rows[0], rows[1:]
        lines = np.array([line for line, _ in body], dtype=int)
        cells = pd.DataFrame([values for _, values in body], columns=header, dtype=str)
        numeric = cells.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
        return header, lines, cells, numeric
    # Plain numbers (the 8,760-hour case): count cells per line, then pandas's C parser.
    first, _, rest = text.partition("\n")
    top = next(csv_rows(name, first, problems), None)
    if top is None:
        return None
    header = top[1]
    kept = [
        (i + 2, line.removesuffix("\r")) for i, line in enumerate(rest.split("\n")) if line.strip()
    ]
    for number, line in kept:
        if line.count(",") + 1 != len(header):
            problems.append(Problem(name, cell_count(line.count(",") + 1, len(header)), row=number))
            if len(problems) - before >= 3:
                break
    if len(problems) > before:
        return None
    table = "\n".join([",".join(header), *(line for _, line in kept)])
    try:
        cells = numeric = pd.read_csv(
            io.StringIO(table), dtype=float, keep_default_na=False, na_values=[""]
        )
    except ValueError:  # a cell that is not a number: read as text to name it
        cells = pd.read_csv(io.StringIO(table), dtype=str, keep_default_na=False)
        numeric = cells.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    return header, np.array([number for number, _ in kept], dtype=int), cells, numeric


def _not_a_number(cell: object) -> str:
    """Why a profile cell (text, or a number from the fast path) is not a finite number."""
    if isinstance(cell, float):  # the fast path read it: an empty cell or infinity
        return (
            "empty: expected a number"
            if math.isnan(cell)
            else f"not a finite number (got {cell:g})"
        )
    text = str(cell).strip()
    if not text:
        return "empty: expected a number"
    if "_" in text:
        return f"a number with '_' in it (got {cell!r}); write the digits only, e.g. 300"
    if not text.isascii() or not text.isprintable():
        return f"not a plain number (got {cell!r}: a non-ASCII or control character)"
    return f"not a finite number (got {cell!r})"


def _load_hour_weights(root: Path, problems: list[Problem]) -> pd.Series | None:
    name = "profiles/hour_weights.csv"
    frame = _load_profile(root, name, (0.0, HOURS_PER_YEAR), problems)
    if frame is None:
        return None
    if list(frame.columns) != ["weight_h"]:
        problems.append(Problem(name, "expected columns hour, weight_h", row=1))
        return None
    weights = frame["weight_h"]
    if not math.isclose(weights.sum(), HOURS_PER_YEAR, rel_tol=1e-6):
        problems.append(
            Problem(name, f"weights sum to {weights.sum():g}, expected 8760", field="weight_h")
        )
        return None
    return weights
