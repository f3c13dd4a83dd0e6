"""Reading the hourly profiles (``profiles/<name>.csv``) and their hour weights.

Every row is located first (its true line, blank lines counted; a row with a cell more
than the header, a trailing comma, is said to be one). A file of plain numbers (the
8,760-hour case) is then read whole by numpy; a file with quoted cells, or with a cell that
is not a finite number, is read cell by cell, so each such cell is named with its line.

pandas is not imported here: ``gridsite validate`` reads a scenario without it. The rest of
gridsite gets the same data as DataFrames (:attr:`Profiles.frames`), built on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from optimizer.errors import Problem
from optimizer.scenario_csv import cell_count, csv_rows, read_text
from optimizer.schema import OPTIONAL_PROFILES, PROFILE_BOUNDS, PROFILES, ScenarioConfig

if TYPE_CHECKING:
    import pandas as pd

HOURS_PER_YEAR = 8760


@dataclass(frozen=True)
class HourlyTable:
    """One profile as read: the ids of its columns (zones, weather stations or contracts)
    and its values, one row per hour."""

    ids: tuple[str, ...]
    values: np.ndarray
    """Float array (hour, id); made read-only, as the scenario holding it is frozen."""

    def __post_init__(self) -> None:
        self.values.flags.writeable = False


@dataclass(frozen=True)
class Profiles:
    """Hourly profiles: one table per name in :data:`~optimizer.schema.PROFILES` (and per
    optional profile present). ``weight_h`` (hours per year each hour stands for, from
    ``profiles/hour_weights.csv``) is set when the profiles are already representative hours.

    :attr:`frames` is the same data as DataFrames, built (and pandas imported) on first use."""

    tables: dict[str, HourlyTable]
    weight_h: np.ndarray | None

    @property
    def n_hours(self) -> int:
        return len(next(iter(self.tables.values())).values)

    @cached_property
    def frames(self) -> dict[str, pd.DataFrame]:
        """One DataFrame per profile: indexed by ``hour`` (0, 1, ...), a column per id."""
        import pandas as pd

        index = pd.Index(np.arange(self.n_hours, dtype=float), name="hour")
        return {
            name: pd.DataFrame(table.values, index=index, columns=list(table.ids), copy=True)
            for name, table in self.tables.items()
        }


def load_profiles(
    root: Path, config: ScenarioConfig | None, problems: list[Problem]
) -> Profiles | None:
    tables: dict[str, HourlyTable] = {}
    optional = [n for n in OPTIONAL_PROFILES if (root / "profiles" / f"{n}.csv").exists()]
    for name in [*PROFILES, *optional]:
        table = _load_profile(root, f"profiles/{name}.csv", PROFILE_BOUNDS[name], problems)
        if table is not None:
            tables[name] = table
    weights = None
    reduce = config is not None and config.representative_days is not None
    if config is not None and not reduce:
        weights = _load_hour_weights(root, problems)
    if len(tables) != len(PROFILES) + len(optional) or config is None:
        return None
    expected = HOURS_PER_YEAR if reduce else (len(weights) if weights is not None else None)
    for name, table in tables.items():
        if expected is not None and len(table.values) != expected:
            what = (
                "8760 hours (representative_days is set)"
                if reduce
                else f"{expected} hours, as profiles/hour_weights.csv"
            )
            problems.append(
                Problem(
                    f"profiles/{name}.csv",
                    f"has {len(table.values)} hours, expected {what}",
                    field="hour",
                )
            )
    if problems:
        return None
    return Profiles(tables=tables, weight_h=weights)


@dataclass(frozen=True)
class _Read:
    """A profile file read: its header, the line of each row, the values (row, column; NaN
    where a cell is not a number) and, when read cell by cell, the cells' text."""

    header: list[str]
    lines: np.ndarray
    values: np.ndarray
    cells: list[list[str]] | None

    def cell(self, row: int, column: int) -> str:
        """The text of a cell that is not a finite number (such a file is read by cell)."""
        assert self.cells is not None
        return self.cells[row][column]


def _load_profile(
    root: Path, name: str, bounds: tuple[float, float], problems: list[Problem]
) -> HourlyTable | None:
    text = read_text(root, name, problems)
    if text is None:
        return None
    before = len(problems)
    read = _parse(name, text, problems)
    if read is None:
        return None
    header, lines = read.header, read.lines
    if "hour" not in header:
        problems.append(Problem(name, "missing column", row=1, field="hour"))
        return None
    if len(header) < 2:
        problems.append(Problem(name, "has no id columns besides hour", row=1))
        return None
    for j, column in enumerate(header):
        values = read.values[:, j]
        bad = ~np.isfinite(values)
        low, high = bounds if column != "hour" else (0, HOURS_PER_YEAR - 1)
        out = ~bad & ((values < low) | (values > high))
        for index in np.flatnonzero(bad)[:3]:
            message = _not_a_number(read.cell(index, j), values[index])
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
    at = header.index("hour")
    hours = read.values[:, at]
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
    ids = tuple(c for c in header if c != "hour")
    return HourlyTable(ids, np.delete(read.values, at, axis=1))


def _parse(name: str, text: str, problems: list[Problem]) -> _Read | None:
    """The header, rows and values of a profile file; ``None`` with a problem per row whose
    cell count differs from the header's."""
    before = len(problems)
    if '"' in text:  # quoted cells: the csv module's reading, cell by cell
        rows = list(csv_rows(name, text, problems))
        if len(problems) > before or not rows:
            return None
        (_, header), records = rows[0], rows[1:]
        lines = np.array([line for line, _ in records], dtype=int)
        return _by_cell(header, lines, [values for _, values in records])
    # Plain numbers (the 8,760-hour case): numpy's C parser reads them all at once.
    first, _, rest = text.partition("\n")
    top = next(csv_rows(name, first, problems), None)
    if top is None:
        return None
    header = top[1]
    kept = [
        (i + 2, line.removesuffix("\r")) for i, line in enumerate(rest.split("\n")) if line.strip()
    ]
    lines = np.array([number for number, _ in kept], dtype=int)
    body = [line for _, line in kept]
    values = _numbers(body, len(header))
    if values is not None and np.isfinite(values).all():
        return _Read(header, lines, values, None)
    if values is None:  # numpy could not: a row of another length, or a cell not a number
        for number, line in kept:
            if line.count(",") + 1 != len(header):
                problems.append(
                    Problem(name, cell_count(line.count(",") + 1, len(header)), row=number)
                )
                if len(problems) - before >= 3:
                    break
        if len(problems) > before:
            return None
    return _by_cell(header, lines, [line.split(",") for line in body])


def _numbers(body: list[str], width: int) -> np.ndarray | None:
    """Rows of comma-separated numbers as a (row, column) array; ``None`` unless every row
    holds ``width`` cells that numpy reads as numbers."""
    if not body:
        return None
    try:
        values = np.loadtxt(body, delimiter=",", dtype=float, comments=None, ndmin=2)
    except ValueError:
        return None
    return values if values.shape == (len(body), width) else None


def _by_cell(header: list[str], lines: np.ndarray, rows: list[list[str]]) -> _Read:
    values = np.array([[_number(cell) for cell in row] for row in rows], dtype=float)
    return _Read(header, lines, values.reshape(len(rows), len(header)), rows)


def _number(cell: str) -> float:
    """The number in a profile cell, NaN if there is none: ASCII digits with an optional
    sign, decimal point and exponent, or ``inf``/``infinity`` (any case), with whitespace
    around; not ``nan``, nor digits grouped by ``_``."""
    text = cell.strip()
    if not text.isascii() or "_" in text or text.lstrip("+-").lower() == "nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _not_a_number(cell: str, value: float) -> str:
    """Why a profile cell, read as ``value``, is not a finite number."""
    if math.isinf(value):  # a number too large (1e400) or inf itself
        return f"not a finite number (got {value:g})"
    text = cell.strip()
    if not text:
        return "empty: expected a number"
    if "_" in text:
        return f"a number with '_' in it (got {cell!r}); write the digits only, e.g. 300"
    if not text.isascii() or not text.isprintable():
        return f"not a plain number (got {cell!r}: a non-ASCII or control character)"
    return f"not a finite number (got {cell!r})"


def _load_hour_weights(root: Path, problems: list[Problem]) -> np.ndarray | None:
    name = "profiles/hour_weights.csv"
    table = _load_profile(root, name, (0.0, HOURS_PER_YEAR), problems)
    if table is None:
        return None
    if table.ids != ("weight_h",):
        problems.append(Problem(name, "expected columns hour, weight_h", row=1))
        return None
    weights = table.values[:, 0]
    if not math.isclose(weights.sum(), HOURS_PER_YEAR, rel_tol=1e-6):
        problems.append(
            Problem(name, f"weights sum to {weights.sum():g}, expected 8760", field="weight_h")
        )
        return None
    return weights
