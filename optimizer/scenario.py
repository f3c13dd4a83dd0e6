"""Load a scenario folder and validate it whole.

Every problem found is collected (file, row, field, what was expected) and raised together as
one :class:`~optimizer.errors.ScenarioError`, so a planner fixes a file in one pass. Nothing is
written here.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from optimizer.errors import Problem, ScenarioError
from optimizer.periods import Period
from optimizer.schema import (
    OPTIONAL_PROFILES,
    OPTIONAL_TABLES,
    PROFILE_BOUNDS,
    PROFILES,
    TABLES,
    CleanContractRow,
    CoolingCurveRow,
    CoolingRow,
    DemandRegionRow,
    FlexibleConnectionRow,
    InferenceDemandRow,
    OnsitePowerRow,
    ScenarioConfig,
    ServingRow,
    SiteRow,
    UpgradeRow,
    ZoneRow,
)

HOURS_PER_YEAR = 8760
#: Tables that may hold a header and no rows.
OPTIONAL_ROWS = frozenset(
    {"upgrades.csv", "serving.csv", "flexible_connections.csv", "onsite_power.csv"}
)
#: Files larger than this are refused before parsing (a scenario table is kilobytes).
MAX_FILE_BYTES = 64 * 1024 * 1024


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
    demand_regions: tuple[DemandRegionRow, ...] = ()
    inference_demand: tuple[InferenceDemandRow, ...] = ()
    serving: tuple[ServingRow, ...] = ()
    flexible_connections: tuple[FlexibleConnectionRow, ...] = ()
    onsite_power: tuple[OnsitePowerRow, ...] = ()
    clean_contracts: tuple[CleanContractRow, ...] = ()
    lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Per CSV table, the line of each row (the header is line 1), to report problems found
    after loading; blank lines and quoted line breaks make it differ from the row index."""

    def line(self, table: str, index: int) -> int:
        """The CSV line of row ``index`` (0-based) of ``table``."""
        lines = self.lines.get(table)
        return lines[index] if lines is not None else index + 2


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
    tables.update(
        {
            name: _load_table(root, name, model, problems)
            for name, model in OPTIONAL_TABLES.items()
            if (root / name).exists() or (root / name).is_symlink()
        }
    )
    profiles = _load_profiles(root, config, problems)
    if problems:
        raise ScenarioError(problems)
    assert config is not None and profiles is not None
    scenario = Scenario(
        path=root,
        config=config,
        sites=tuple(tables["sites.csv"].rows),  # type: ignore[arg-type]
        zones=tuple(tables["zones.csv"].rows),  # type: ignore[arg-type]
        upgrades=tuple(tables["upgrades.csv"].rows),  # type: ignore[arg-type]
        cooling=tuple(tables["cooling_technologies.csv"].rows),  # type: ignore[arg-type]
        cooling_curves=tuple(tables["cooling_curves.csv"].rows),  # type: ignore[arg-type]
        profiles=profiles,
        demand_regions=_rows(tables, "demand_regions.csv"),  # type: ignore[arg-type]
        inference_demand=_rows(tables, "inference_demand.csv"),  # type: ignore[arg-type]
        serving=_rows(tables, "serving.csv"),  # type: ignore[arg-type]
        flexible_connections=_rows(tables, "flexible_connections.csv"),  # type: ignore[arg-type]
        onsite_power=_rows(tables, "onsite_power.csv"),  # type: ignore[arg-type]
        clean_contracts=_rows(tables, "clean_contracts.csv"),  # type: ignore[arg-type]
        lines={name: tuple(table.lines) for name, table in tables.items()},
    )
    problems.extend(cross_check(scenario))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _rows(tables: Mapping[str, _Table], name: str) -> tuple[BaseModel, ...]:
    return tuple(tables[name].rows) if name in tables else ()


# --------------------------------------------------------------------------- files


def _read_text(root: Path, name: str, problems: list[Problem]) -> str | None:
    file = root / name
    try:
        resolved = file.resolve(strict=True)
        if not resolved.is_relative_to(root.resolve()):
            problems.append(Problem(name, "points outside the scenario folder"))
            return None
        if not resolved.is_file():
            problems.append(Problem(name, "is not a file (expected a regular file)"))
            return None
        if resolved.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(name, f"larger than {_size(MAX_FILE_BYTES)}"))
            return None
        raw = resolved.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(name, "file not found"))
        return None
    except (OSError, RuntimeError) as err:  # permissions, a symlink loop, a file for a folder
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        problems.append(Problem(name, f"cannot be read ({reason}); expected a readable file"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(name, "starts with a byte-order mark; save as UTF-8 without BOM"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.append(
            Problem(name, f"not UTF-8 text (byte {err.start}); save as UTF-8", row=line)
        )
        return None


def _size(n_bytes: int) -> str:
    return f"{n_bytes // 2**20} MiB" if n_bytes >= 2**20 else f"{n_bytes} bytes"


def _load_config(root: Path, problems: list[Problem]) -> ScenarioConfig | None:
    text = _read_text(root, "scenario.yaml", problems)
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(err, "problem", None)
        problems.append(
            Problem("scenario.yaml", f"not valid YAML{line}" + (f" ({reason})" if reason else ""))
        )
        return None
    except RecursionError:
        problems.append(Problem("scenario.yaml", "nested too deeply; expected a few levels"))
        return None
    if not isinstance(data, dict):
        got = "nothing" if data is None else f"a {type(data).__name__}"
        problems.append(
            Problem(
                "scenario.yaml",
                f"expected a mapping of sections (name, horizon, portfolio, ...), got {got}",
            )
        )
        return None
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as err:
        problems.extend(_pydantic_problems("scenario.yaml", None, err))
        return None


@dataclass
class _Table:
    """The valid rows of a CSV table and the line each came from."""

    rows: list[BaseModel] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _load_table(root: Path, name: str, model: type[BaseModel], problems: list[Problem]) -> _Table:
    table = _Table()
    text = _read_text(root, name, problems)
    if text is None:
        return table
    reader = csv.reader(io.StringIO(text))
    before = len(problems)
    try:
        header = _header(name, reader, problems)
        if header is None:
            return table
        expected = list(model.model_fields)
        for column in (c for c in expected if c not in header):
            problems.append(Problem(name, "missing column", row=1, field=column))
        for column in (c for c in header if c not in expected):
            problems.append(
                Problem(
                    name, f"unknown column (expected {', '.join(expected)})", row=1, field=column
                )
            )
        if len(problems) > before:
            return table
        end = reader.line_num
        for values in reader:
            line, end = end + 1, reader.line_num  # a quoted cell may span lines
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(
                    Problem(name, f"has {len(values)} cells, header has {len(header)}", row=line)
                )
                continue
            record = {h: (v.strip() or None) for h, v in zip(header, values, strict=True)}
            try:
                table.rows.append(model.model_validate(_drop_none_optional(model, record)))
                table.lines.append(line)
            except ValidationError as err:
                problems.extend(_pydantic_problems(name, line, err))
    except csv.Error as err:
        problems.append(Problem(name, f"not a readable CSV table ({err})", row=reader.line_num))
        return table
    if not table.rows and name not in OPTIONAL_ROWS and len(problems) == before:
        problems.append(Problem(name, "has no rows; expected at least one"))
    return table


def _header(name: str, reader: Iterator[list[str]], problems: list[Problem]) -> list[str] | None:
    """The first row of a CSV file as column names, or ``None`` (and a problem) if it is
    missing, not comma-separated, or has empty or duplicate names."""
    first = next(reader, None)
    if first is None:
        problems.append(Problem(name, "empty file: expected a header row"))
        return None
    if not any(h.strip() for h in first):
        problems.append(Problem(name, "first line is empty: expected a header row", row=1))
        return None
    header = [h.strip() for h in first]
    separator = next((c for c in ";\t|" if len(header) == 1 and c in header[0]), None)
    if separator is not None:
        problems.append(
            Problem(name, f"columns separated by {separator!r}; expected commas", row=1)
        )
        return None
    before = len(problems)
    for i, column in enumerate(header):
        if not column:
            problems.append(Problem(name, f"column {i + 1} has no name", row=1))
        elif column in header[:i]:
            problems.append(Problem(name, "duplicate column (expected once)", row=1, field=column))
    return header if len(problems) == before else None


def _drop_none_optional(model: type[BaseModel], record: dict[str, Any]) -> dict[str, Any]:
    """Empty cells become absent for fields with defaults, so defaults apply."""
    fields = model.model_fields
    return {k: v for k, v in record.items() if v is not None or fields[k].is_required()}


def _pydantic_problems(file: str, row: int | None, err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        where = ".".join(str(x) for x in e["loc"]) or None
        message = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        if e["type"] == "missing":
            message = "missing: a value is required"
        elif e["type"] == "extra_forbidden":
            message = "unknown field (`gridsite schema` lists the expected ones)"
        elif given is None:
            message = "empty: a value is required"
        elif not isinstance(given, dict | list):
            message = f"{message} (got {repr(given)[:60]})"
        out.append(Problem(file, message, row=row, field=where))
    return out


def _load_profiles(
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
    lengths = {name: len(f) for name, f in frames.items()}
    expected = HOURS_PER_YEAR if reduce else (len(weights) if weights is not None else None)
    for name, n in lengths.items():
        if expected is not None and n != expected:
            what = (
                "8760 hours (representative_days is set)"
                if reduce
                else (f"{expected} hours, as profiles/hour_weights.csv")
            )
            problems.append(
                Problem(f"profiles/{name}.csv", f"has {n} hours, expected {what}", field="hour")
            )
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
        # pandas would rename a duplicate column ("z1.1"): check the header first.
        if _header(name, csv.reader(io.StringIO(text)), problems) is None:
            return None
        try:
            # Fast path: all numbers. Text cells fall back to a string read that can name them.
            frame = numeric = pd.read_csv(
                io.StringIO(text), dtype=float, keep_default_na=False, na_values=[""]
            )
        except ValueError as err:
            if isinstance(err, pd.errors.ParserError):
                raise
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            numeric = frame.apply(pd.to_numeric, errors="coerce")
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        problems.append(_unreadable(name, err))
        return None
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
                    _not_finite(frame[column].iloc[index]),
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


def _unreadable(name: str, err: Exception) -> Problem:
    """A CSV parser's complaint as a problem, with the line when the parser gives it."""
    reason = str(err).strip().splitlines()[0]
    cells = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", reason)
    if cells is not None:
        expected, line, got = (int(g) for g in cells.groups())
        return Problem(name, f"has {got} cells, header has {expected}", row=line)
    at = re.search(r"line (\d+)", reason)
    return Problem(
        name,
        f"not a readable CSV table ({reason})",
        row=int(at.group(1)) if at is not None else None,
    )


def _not_finite(cell: object) -> str:
    """Why a profile cell (text, or a number from the fast path) is not a finite number."""
    if isinstance(cell, str) and cell.strip():
        return f"not a finite number (got {cell!r})"
    if isinstance(cell, float) and not math.isnan(cell):
        return f"not a finite number (got {cell:g})"
    return "empty: expected a number"


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
    problems += _unique(s, "sites.csv", "site_id", [r.site_id for r in s.sites])
    problems += _unique(s, "zones.csv", "zone_id", [r.zone_id for r in s.zones])
    problems += _unique(s, "upgrades.csv", "upgrade_id", [r.upgrade_id for r in s.upgrades])
    problems += _unique(
        s, "cooling_technologies.csv", "cooling_id", [r.cooling_id for r in s.cooling]
    )

    zones = {z.zone_id for z in s.zones}
    sites = {r.site_id for r in s.sites}
    coolings = {c.cooling_id for c in s.cooling}
    problems += _check_demand(s, sites)
    problems += _check_site_power(s, sites)
    problems += _check_contracts(s, zones)
    weather = set(s.profiles.frames["dry_bulb_c"].columns)
    for name, kind in PROFILES.items():
        columns = set(s.profiles.frames[name].columns)
        if kind == "zone":
            for zone in sorted(zones - columns):
                problems.append(
                    Problem(f"profiles/{name}.csv", f"no column for zone {zone!r}", row=1)
                )
    if set(s.profiles.frames["wet_bulb_c"].columns) != weather:
        problems.append(
            Problem("profiles/wet_bulb_c.csv", "columns differ from profiles/dry_bulb_c.csv", row=1)
        )
    first = s.config.horizon.periods[0]
    for i, site in enumerate(s.sites):
        line = s.line("sites.csv", i)
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
        for column in ("earliest_period", "headroom_period"):
            period = Period.parse(getattr(site, column))
            if period.kind != first.kind:
                problems.append(
                    Problem(
                        "sites.csv",
                        f"{period} is a {period.kind}; expected a {first.kind} like the "
                        f"horizon's first_period {first}",
                        row=line,
                        field=column,
                    )
                )
    problems += _check_curves(s, coolings)
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


def _check_contracts(s: Scenario, zones: set[str]) -> list[Problem]:
    """Clean contracts: unique ids, known zones, and a capacity-factor column for each."""
    table, profile = "clean_contracts.csv", "profiles/capacity_factor_frac.csv"
    out = _unique(s, table, "contract_id", [c.contract_id for c in s.clean_contracts])
    frame = s.profiles.frames.get("capacity_factor_frac")
    if s.config.clean_energy.cfe_target_frac > 0 and not s.clean_contracts:
        out.append(
            Problem(
                "scenario.yaml",
                f"clean_energy.cfe_target_frac is {s.config.clean_energy.cfe_target_frac:g} "
                f"but there is no {table}; expected contracts to match load with, or 0",
                field="clean_energy.cfe_target_frac",
            )
        )
    if frame is not None and not s.clean_contracts:
        out.append(Problem(profile, f"needs {table} beside it (a row per column)", row=1))
    for i, c in enumerate(s.clean_contracts):
        line = s.line(table, i)
        if c.zone_id not in zones:
            out.append(
                Problem(
                    table,
                    f"unknown zone {c.zone_id!r} (not in zones.csv)",
                    row=line,
                    field="zone_id",
                )
            )
        if frame is None or c.contract_id not in frame.columns:
            out.append(
                Problem(
                    table,
                    f"no column for {c.contract_id!r} in {profile}",
                    row=line,
                    field="contract_id",
                )
            )
    return out


def _check_site_power(s: Scenario, sites: set[str]) -> list[Problem]:
    """Upgrades, flexible connections and on-site power: known sites, unique keys."""
    out = _unique(
        s, "flexible_connections.csv", "site_id", [r.site_id for r in s.flexible_connections]
    )
    out += _unique(s, "onsite_power.csv", "option_id", [r.option_id for r in s.onsite_power])
    rows: list[tuple[str, int, str]] = [
        ("upgrades.csv", i, r.site_id) for i, r in enumerate(s.upgrades)
    ]
    rows += [
        ("flexible_connections.csv", i, r.site_id) for i, r in enumerate(s.flexible_connections)
    ]
    rows += [("onsite_power.csv", i, r.site_id) for i, r in enumerate(s.onsite_power)]
    for table, i, site_id in rows:
        if site_id not in sites:
            out.append(
                Problem(
                    table,
                    f"unknown site {site_id!r} (not in sites.csv)",
                    row=s.line(table, i),
                    field="site_id",
                )
            )
    return out


def _check_demand(s: Scenario, sites: set[str]) -> list[Problem]:
    """Demand tables: unique regions, known references, one demand row per region-period."""
    out = _unique(s, "demand_regions.csv", "region_id", [r.region_id for r in s.demand_regions])
    regions = {r.region_id for r in s.demand_regions}
    horizon = {p.label for p in s.config.horizon.periods}
    if s.inference_demand and not s.demand_regions:
        out.append(Problem("inference_demand.csv", "needs demand_regions.csv beside it"))
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(s.inference_demand):
        line = s.line("inference_demand.csv", i)
        if s.demand_regions and row.region_id not in regions:
            out.append(
                Problem(
                    "inference_demand.csv",
                    f"unknown region {row.region_id!r} (expected an id of demand_regions.csv)",
                    row=line,
                    field="region_id",
                )
            )
        if row.period not in horizon:
            out.append(
                Problem(
                    "inference_demand.csv",
                    f"period {row.period} is outside the horizon",
                    row=line,
                    field="period",
                )
            )
        if (row.region_id, row.period) in seen:
            out.append(
                Problem(
                    "inference_demand.csv",
                    f"second row for {row.region_id} in {row.period} (expected one)",
                    row=line,
                    field="period",
                )
            )
        seen.add((row.region_id, row.period))
    pairs: set[tuple[str, str]] = set()
    for i, pair in enumerate(s.serving):
        line = s.line("serving.csv", i)
        if pair.region_id not in regions:
            out.append(
                Problem(
                    "serving.csv", f"unknown region {pair.region_id!r}", row=line, field="region_id"
                )
            )
        if pair.site_id not in sites:
            out.append(
                Problem("serving.csv", f"unknown site {pair.site_id!r}", row=line, field="site_id")
            )
        if (pair.region_id, pair.site_id) in pairs:
            out.append(
                Problem(
                    "serving.csv",
                    f"second row for {pair.region_id} and {pair.site_id} (expected one)",
                    row=line,
                    field="site_id",
                )
            )
        pairs.add((pair.region_id, pair.site_id))
    return out


def _unique(s: Scenario, table: str, column: str, ids: Sequence[str]) -> list[Problem]:
    first_line: dict[str, int] = {}
    out = []
    for i, value in enumerate(ids):
        line = s.line(table, i)
        if value in first_line:
            out.append(
                Problem(
                    table,
                    f"duplicate id {value!r} (first at row {first_line[value]}); "
                    f"expected each {column} once",
                    row=line,
                    field=column,
                )
            )
        else:
            first_line[value] = line
    return out


def _check_curves(s: Scenario, coolings: set[str]) -> list[Problem]:
    out = []
    last: dict[tuple[str, str], float] = {}
    for i, row in enumerate(s.cooling_curves):
        line = s.line("cooling_curves.csv", i)
        if row.cooling_id not in coolings:
            out.append(
                Problem(
                    "cooling_curves.csv",
                    f"unknown cooling technology {row.cooling_id!r} "
                    "(not in cooling_technologies.csv)",
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
                        f"no {quantity} curve for {cooling!r}: expected at least one breakpoint",
                        field="quantity",
                    )
                )
    return out
