"""Load a scenario folder and validate it whole.

Every problem found is collected (file, row, field, what was expected) and raised together as
one :class:`~optimizer.errors.ScenarioError`, so a planner fixes a file in one pass. Nothing is
written here.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from optimizer.errors import Problem, ScenarioError
from optimizer.schema import (
    PROFILE_BOUNDS,
    PROFILES,
    TABLES,
    CoolingCurveRow,
    CoolingRow,
    ScenarioConfig,
    SiteRow,
    UpgradeRow,
    ZoneRow,
)

HOURS_PER_YEAR = 8760
#: Tables that may hold a header and no rows.
OPTIONAL_ROWS = frozenset({"upgrades.csv"})
#: Files larger than this are refused before parsing (a scenario table is kilobytes).
MAX_FILE_BYTES = 64 * 1024 * 1024

Row = TypeVar("Row", bound=BaseModel)


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


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: configuration, tables and profiles."""

    path: Path
    config: ScenarioConfig
    sites: tuple[SiteRow, ...]
    zones: tuple[ZoneRow, ...]
    upgrades: tuple[UpgradeRow, ...]
    cooling: tuple[CoolingRow, ...]
    cooling_curves: tuple[CoolingCurveRow, ...]
    profiles: Profiles


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario folder at ``path``.

    Raises :class:`ScenarioError` listing every problem found.
    """
    root = Path(path)
    problems: list[Problem] = []
    if not root.is_dir():
        raise ScenarioError([Problem(str(root), "scenario folder not found")])

    config = _load_config(root, problems)
    tables = {name: _load_table(root, name, model, problems) for name, model in TABLES.items()}
    profiles = _load_profiles(root, config, problems)
    if problems:
        raise ScenarioError(problems)
    assert config is not None and profiles is not None
    scenario = Scenario(
        path=root,
        config=config,
        sites=tuple(tables["sites.csv"]),  # type: ignore[arg-type]
        zones=tuple(tables["zones.csv"]),  # type: ignore[arg-type]
        upgrades=tuple(tables["upgrades.csv"]),  # type: ignore[arg-type]
        cooling=tuple(tables["cooling_technologies.csv"]),  # type: ignore[arg-type]
        cooling_curves=tuple(tables["cooling_curves.csv"]),  # type: ignore[arg-type]
        profiles=profiles,
    )
    problems.extend(cross_check(scenario))
    if problems:
        raise ScenarioError(problems)
    return scenario


# --------------------------------------------------------------------------- files


def _read_text(root: Path, name: str, problems: list[Problem]) -> str | None:
    file = root / name
    try:
        resolved = file.resolve(strict=True)
    except FileNotFoundError:
        problems.append(Problem(name, "file not found"))
        return None
    if not resolved.is_relative_to(root.resolve()):
        problems.append(Problem(name, "points outside the scenario folder"))
        return None
    if not resolved.is_file():
        problems.append(Problem(name, "is not a file"))
        return None
    if resolved.stat().st_size > MAX_FILE_BYTES:
        problems.append(Problem(name, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
        return None
    raw = resolved.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(name, "starts with a byte-order mark; save as UTF-8 without BOM"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        problems.append(Problem(name, f"not UTF-8 text (byte {err.start})"))
        return None


def _load_config(root: Path, problems: list[Problem]) -> ScenarioConfig | None:
    text = _read_text(root, "scenario.yaml", problems)
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem("scenario.yaml", f"not valid YAML{line}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem("scenario.yaml", "must be a mapping of sections"))
        return None
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as err:
        problems.extend(_pydantic_problems("scenario.yaml", None, err))
        return None


def _load_table(root: Path, name: str, model: type[Row], problems: list[Problem]) -> list[Row]:
    text = _read_text(root, name, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        problems.append(Problem(name, "empty file: expected a header row"))
        return []
    header = [h.strip() for h in header]
    expected = list(model.model_fields)
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        for column in missing:
            problems.append(Problem(name, "missing column", row=1, field=column))
        for column in unknown:
            problems.append(
                Problem(
                    name, f"unknown column (expected {', '.join(expected)})", row=1, field=column
                )
            )
        return []
    rows: list[Row] = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                Problem(name, f"has {len(values)} cells, header has {len(header)}", row=line)
            )
            continue
        record = {h: (v.strip() or None) for h, v in zip(header, values, strict=True)}
        try:
            rows.append(model.model_validate(_drop_none_optional(model, record)))
        except ValidationError as err:
            problems.extend(_pydantic_problems(name, line, err))
    if not rows and name not in OPTIONAL_ROWS and not any(p.file == name for p in problems):
        problems.append(Problem(name, "has no rows"))
    return rows


def _drop_none_optional(model: type[BaseModel], record: dict[str, Any]) -> dict[str, Any]:
    """Empty cells become absent for fields with defaults, so defaults apply."""
    fields = model.model_fields
    return {k: v for k, v in record.items() if v is not None or fields[k].is_required()}


def _pydantic_problems(file: str, row: int | None, err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        field = ".".join(str(x) for x in e["loc"]) or None
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] not in ("missing", "extra_forbidden") and "input" in e:
            shown = repr(e["input"])
            message = f"{message} (got {shown[:60]})"
        out.append(Problem(file, message, row=row, field=field))
    return out


def _load_profiles(
    root: Path, config: ScenarioConfig | None, problems: list[Problem]
) -> Profiles | None:
    frames: dict[str, pd.DataFrame] = {}
    for name in PROFILES:
        frame = _load_profile(root, f"profiles/{name}.csv", PROFILE_BOUNDS[name], problems)
        if frame is not None:
            frames[name] = frame
    weights = None
    reduce = config is not None and config.representative_days is not None
    if config is not None and not reduce:
        weights = _load_hour_weights(root, problems)
    if len(frames) != len(PROFILES) or config is None:
        return None
    lengths = {name: len(f) for name, f in frames.items()}
    expected = HOURS_PER_YEAR if reduce else (len(weights) if weights is not None else None)
    for name, n in lengths.items():
        if expected is not None and n != expected:
            what = (
                "8760 hours (representative_days is set)"
                if reduce
                else (f"{expected} hours, as profiles/hour_weights.csv")
            )
            problems.append(Problem(f"profiles/{name}.csv", f"has {n} hours, expected {what}"))
    if problems:
        return None
    return Profiles(frames=frames, hour_weights=weights)


def _load_profile(
    root: Path, name: str, bounds: tuple[float, float], problems: list[Problem]
) -> pd.DataFrame | None:
    text = _read_text(root, name, problems)
    if text is None:
        return None
    try:
        # Fast path: all numbers. Text cells fall back to a string read that can name them.
        frame = numeric = pd.read_csv(
            io.StringIO(text), dtype=float, keep_default_na=False, na_values=[""]
        )
    except ValueError:
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            reason = str(err).splitlines()[0]
            problems.append(Problem(name, f"not a readable CSV table ({reason})"))
            return None
        numeric = frame.apply(pd.to_numeric, errors="coerce")
    if "hour" not in frame.columns:
        problems.append(Problem(name, "missing column", row=1, field="hour"))
        return None
    if len(frame.columns) < 2:
        problems.append(Problem(name, "has no id columns besides hour", row=1))
        return None
    before = len(problems)
    for column in frame.columns:
        bad = numeric[column].isna() | ~np.isfinite(numeric[column].to_numpy(dtype=float))
        low, high = bounds if column != "hour" else (0, HOURS_PER_YEAR - 1)
        out = ~bad & ((numeric[column] < low) | (numeric[column] > high))
        for index in np.flatnonzero(bad.to_numpy())[:3]:
            problems.append(
                Problem(
                    name,
                    f"not a finite number (got {frame[column].iloc[index]!r})",
                    row=int(index) + 2,
                    field=column,
                )
            )
        for index in np.flatnonzero(out.to_numpy())[:3]:
            problems.append(
                Problem(
                    name,
                    f"{numeric[column].iloc[index]:g} outside [{low:g}, {high:g}]",
                    row=int(index) + 2,
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
                row=first + 2,
                field="hour",
            )
        )
        return None
    return numeric.set_index("hour").astype(float)


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


# --------------------------------------------------------------------------- cross checks


def cross_check(s: Scenario) -> list[Problem]:
    """Rules across tables: unique ids, references, curves, periods."""
    problems: list[Problem] = []
    problems += _unique("sites.csv", "site_id", [r.site_id for r in s.sites])
    problems += _unique("zones.csv", "zone_id", [r.zone_id for r in s.zones])
    problems += _unique("upgrades.csv", "upgrade_id", [r.upgrade_id for r in s.upgrades])
    problems += _unique("cooling_technologies.csv", "cooling_id", [r.cooling_id for r in s.cooling])

    zones = {z.zone_id for z in s.zones}
    sites = {r.site_id for r in s.sites}
    coolings = {c.cooling_id for c in s.cooling}
    weather = set(s.profiles.frames["dry_bulb_c"].columns)
    for name, kind in PROFILES.items():
        columns = list(s.profiles.frames[name].columns)
        problems += _unique(f"profiles/{name}.csv", "column", columns, header=True)
        if kind == "zone":
            for zone in sorted(zones - set(columns)):
                problems.append(
                    Problem(f"profiles/{name}.csv", f"no column for zone {zone!r}", row=1)
                )
    if set(s.profiles.frames["wet_bulb_c"].columns) != weather:
        problems.append(
            Problem("profiles/wet_bulb_c.csv", "columns differ from profiles/dry_bulb_c.csv", row=1)
        )
    for line, site in enumerate(s.sites, start=2):
        if site.zone_id not in zones:
            problems.append(
                Problem(
                    "sites.csv",
                    f"unknown zone {site.zone_id!r} (not in zones.csv)",
                    row=line,
                    field="zone_id",
                )
            )
        if site.weather_id not in weather:
            problems.append(
                Problem(
                    "sites.csv",
                    f"unknown weather {site.weather_id!r} (no column in profiles/dry_bulb_c.csv)",
                    row=line,
                    field="weather_id",
                )
            )
    for line, up in enumerate(s.upgrades, start=2):
        if up.site_id not in sites:
            problems.append(
                Problem("upgrades.csv", f"unknown site {up.site_id!r}", row=line, field="site_id")
            )
    problems += _check_curves(s.cooling_curves, coolings)
    if s.config.portfolio.requires_liquid_cooling and not any(
        c.serves_liquid_racks for c in s.cooling
    ):
        problems.append(
            Problem(
                "cooling_technologies.csv",
                "the portfolio requires liquid cooling but no technology serves liquid racks",
                field="serves_liquid_racks",
            )
        )
    return problems


def _unique(file: str, field: str, ids: Sequence[str], header: bool = False) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for i, value in enumerate(ids):
        if value in seen:
            row = 1 if header else i + 2
            first = seen[value] if header else seen[value] + 2
            out.append(
                Problem(
                    file,
                    f"duplicate id {value!r} (first at {'column' if header else 'row'} {first})",
                    row=row,
                    field=field,
                )
            )
        else:
            seen[value] = i
    return out


def _check_curves(rows: Sequence[CoolingCurveRow], coolings: set[str]) -> list[Problem]:
    out = []
    last: dict[tuple[str, str], float] = {}
    for line, row in enumerate(rows, start=2):
        if row.cooling_id not in coolings:
            out.append(
                Problem(
                    "cooling_curves.csv",
                    f"unknown cooling technology {row.cooling_id!r}",
                    row=line,
                    field="cooling_id",
                )
            )
            continue
        key = (row.cooling_id, row.quantity)
        if key in last and row.ambient_c <= last[key]:
            out.append(
                Problem(
                    "cooling_curves.csv",
                    f"breakpoints must increase: "
                    f"{row.ambient_c:g} after {last[key]:g} for {row.cooling_id} "
                    f"{row.quantity}",
                    row=line,
                    field="ambient_c",
                )
            )
        last[key] = row.ambient_c
    for cooling in sorted(coolings):
        for quantity in ("pue", "wue_l_per_kwh"):
            if (cooling, quantity) not in last:
                out.append(
                    Problem(
                        "cooling_curves.csv",
                        f"no {quantity} curve for {cooling!r}",
                        field="quantity",
                    )
                )
    return out
