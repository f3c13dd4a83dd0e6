"""Sweep files: which scenario fields a sweep varies, and one case's changes applied.

    axes:                      # the product of these lists (each case one value of each)
      carbon_price_usd_per_t: [0, 100]
      price_multiplier_by_region: [{ERCOT: 1.0}, {ERCOT: 1.2}]
    cases:                     # and/or named cases
      - name: hot-and-late
        upgrade_lead_delay_periods: 2
        target_multiplier: 1.1
    solver: {mip_gap_frac: 0.01, time_limit_s: 120}

Validated like a scenario (pydantic, ``extra="forbid"``, frozen): every problem is one line
naming the file, its line and the field, and nothing is run.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import Field, ValidationError, create_model

from optimizer.errors import Problem, ScenarioError, closest
from optimizer.schema import Identifier, StrictModel

if TYPE_CHECKING:
    from optimizer.scenario import Scenario

Multiplier = Annotated[float, Field(gt=0.0, le=100.0)]
MAPPING_SOURCE = "<sweep>"
"""What problems of a sweep given as a mapping (not a file) name as their file."""


class CaseSettings(StrictModel):
    """What one case changes in the scenario; absent fields keep the scenario's value."""

    price_multiplier_by_zone: dict[Identifier, Multiplier] | None = None
    """Hourly prices of a zone times this factor."""
    price_multiplier_by_region: dict[Identifier, Multiplier] | None = None
    """Hourly prices of every zone of a region times this factor."""
    target_multiplier: Multiplier | None = None
    """Every period's ramp target (cumulative IT MW) times this factor."""
    carbon_price_usd_per_t: float | None = Field(default=None, ge=0.0, le=1e4)
    energy_weight_usd_per_mwh: float | None = Field(default=None, ge=0.0, le=1e4)
    water_limit_multiplier: Multiplier | None = None
    """Every campus's water limit times this factor (no limit stays none)."""
    headroom_multiplier: Multiplier | None = None
    """Every campus's existing grid headroom times this factor."""
    upgrade_lead_delay_periods: int | None = Field(default=None, ge=0, le=40)
    """Every upgrade's lead time this many periods longer."""
    upgrade_capex_multiplier: Multiplier | None = None
    """Every upgrade's capex times this factor."""
    accelerator_supply_it_mw_per_period: float | None = Field(default=None, gt=0.0, le=1e6)
    """Most IT MW of accelerators delivered per period."""

    def label(self) -> str:
        """``field=value`` pairs of what the case sets, for names and tables."""
        parts = []
        for name, value in self.model_dump(exclude_none=True).items():
            if isinstance(value, dict):
                parts += [f"{name}.{k}={v:g}" for k, v in value.items()]
            else:
                parts.append(f"{name}={value:g}")
        return ",".join(parts) or "base"


class NamedCase(CaseSettings):
    name: str = Field(min_length=1, max_length=100)


VARIED = list(CaseSettings.model_fields)


def _given(annotation: Any) -> Any:
    """``X`` of ``X | None``."""
    return next(a for a in typing.get_args(annotation) if a is not type(None))


Axes = create_model(  # one optional non-empty list per field that can be varied
    "Axes",
    __base__=StrictModel,
    __doc__="Values of each varied field; the cases are their product.",
    **{  # type: ignore[call-overload]
        name: (list[_given(field.annotation)] | None, Field(default=None, min_length=1))  # type: ignore[misc]
        for name, field in CaseSettings.model_fields.items()
    },
)


class SweepSolver(StrictModel):
    time_limit_s: float | None = Field(default=None, gt=0.0, le=7 * 24 * 3600)
    mip_gap_frac: float | None = Field(default=None, ge=0.0, le=1.0)


class SweepFile(StrictModel):
    """Contents of a sweep file (YAML)."""

    axes: Axes | None = None  # type: ignore[valid-type]
    cases: list[NamedCase] = Field(default_factory=list)
    solver: SweepSolver = SweepSolver()
    """Overrides of the scenario's solver settings for every case."""

    def expand(self) -> list[tuple[str, CaseSettings]]:
        """Every case: the product of the axes, then the named cases."""
        out: list[tuple[str, CaseSettings]] = []
        if self.axes is not None:
            given = {k: v for k, v in self.axes.model_dump().items() if v is not None}
            for values in itertools.product(*given.values()):
                case = CaseSettings(**dict(zip(given, values, strict=True)))
                out.append((case.label(), case))
        for named in self.cases:
            out.append((named.name, CaseSettings(**named.model_dump(exclude={"name"}))))
        return out


def load_sweep(path: str | Path | Mapping[str, Any], scenario: Scenario) -> SweepFile:
    """Read and validate a sweep file against ``scenario`` (zones and regions named must
    exist). Raises :class:`ScenarioError` naming file, line and field of every problem.

    ``path`` may also be the file's content as a mapping (``{"axes": {...}, "cases":
    [...]}``), validated the same way; its problems name ``<sweep>`` and the field."""
    if isinstance(path, Mapping):
        file, root, data = Path(MAPPING_SOURCE), None, dict(path)
    else:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
            root = yaml.compose(text)
            data = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError([Problem(str(file), f"cannot be read ({e})")]) from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            row = mark.line + 1 if mark is not None else None
            raise ScenarioError([Problem(str(file), "not valid YAML", row=row)]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(file), "expected a mapping with axes and/or cases")])
    problems = _not_variable(file, root, data)
    if not problems:
        try:
            sweep = SweepFile.model_validate(data)
        except ValidationError as e:
            problems = [
                Problem(
                    str(file),
                    _message(err),
                    row=_line(root, err["loc"]),
                    field=".".join(map(str, err["loc"])),
                )
                for err in e.errors()
            ]
    if not problems:
        problems = _unknown_places(file, root, sweep, scenario)
    if not problems and not sweep.expand():
        problems = [Problem(str(file), "no cases: give axes and/or cases")]
    if problems:
        raise ScenarioError(problems)
    return sweep


#: Scenario fields a planner may try to vary that a sweep cannot (they change the model's
#: shape or are not inputs): named as such rather than as unknown.
FIXED_FIELDS = frozenset(
    {"name", "description", "horizon", "first_period", "last_period", "discount_rate_frac_per_year"}
    | {"base_year", "opex_tail_years", "block_it_mw", "construction_lead_periods"}
    | {"requires_liquid_cooling", "it_load_factor_frac", "representative_days", "typical_days"}
    | {"latency", "sites", "zones", "upgrades", "cooling", "threads", "random_seed"}
)


def _not_variable(file: Path, root: Any, data: dict[str, Any]) -> list[Problem]:
    problems = []
    for section in ("axes", "cases"):
        entries = data.get(section)
        blocks = [entries] if section == "axes" else entries
        if not isinstance(blocks, list):
            continue
        for i, block in enumerate(blocks):
            if not isinstance(block, dict):
                continue
            for key in block:
                if key in FIXED_FIELDS and not (section == "cases" and key == "name"):
                    loc: tuple[Any, ...] = (
                        (section, key) if section == "axes" else (section, i, key)
                    )
                    problems.append(
                        Problem(
                            str(file),
                            f"cannot be varied by a sweep; expected one of {', '.join(VARIED)}",
                            row=_line(root, loc),
                            field=".".join(map(str, loc)),
                        )
                    )
    return problems


def _unknown_places(file: Path, root: Any, sweep: SweepFile, scenario: Scenario) -> list[Problem]:
    zones = {z.zone_id for z in scenario.zones}
    regions = {z.region for z in scenario.zones}
    problems = []
    named: list[tuple[tuple[Any, ...], CaseSettings]] = [
        (("cases", i), c) for i, c in enumerate(sweep.cases)
    ]
    axes: dict[str, Any] = sweep.axes.model_dump() if sweep.axes is not None else {}
    for field, known, what in (
        ("price_multiplier_by_zone", zones, "zone"),
        ("price_multiplier_by_region", regions, "region"),
    ):
        places: list[tuple[tuple[Any, ...], Any]] = [
            ((*loc, field), getattr(c, field) or {}) for loc, c in named
        ]
        places += [(("axes", field, j), v) for j, v in enumerate(axes.get(field) or [])]
        for loc, values in places:
            for key in values:
                if key not in known:
                    problems.append(
                        Problem(
                            str(file),
                            f"no {what} {key!r} in the scenario{closest(key, sorted(known))} "
                            f"(expected one of {', '.join(sorted(known))})",
                            row=_line(root, (*loc, key)),
                            field=".".join(map(str, (*loc, key))),
                        )
                    )
    return problems


def _message(err: Any) -> str:
    if err["type"] == "too_short":
        return "empty list: the product of the axes would have no case"
    if err["type"] == "extra_forbidden":
        return f"unknown field; expected one of {', '.join(VARIED)}"
    return str(err["msg"])


def _line(node: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(key)]
            if not match:
                break
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


# --------------------------------------------------------------------------- applying


def apply_case(scenario: Scenario, case: CaseSettings) -> Scenario:
    """``scenario`` with the case's changes, made by the scenario's variant edits
    (:mod:`optimizer.variants`), so validated the same way: a change that takes a value out of
    its range raises :class:`ScenarioError` naming the table, row and field."""
    s = scenario
    for zone, factor in (case.price_multiplier_by_zone or {}).items():
        s = s.scale_prices(factor, zone=zone)
    for region, factor in (case.price_multiplier_by_region or {}).items():
        s = s.scale_prices(factor, region=region)
    if case.target_multiplier is not None:
        s = s.with_target(factor=case.target_multiplier)
    if case.accelerator_supply_it_mw_per_period is not None:
        s = s.with_accelerator_supply(case.accelerator_supply_it_mw_per_period)
    if case.carbon_price_usd_per_t is not None:
        s = s.with_carbon_price(case.carbon_price_usd_per_t)
    if case.energy_weight_usd_per_mwh is not None:
        s = s.with_energy_weight(case.energy_weight_usd_per_mwh)
    if case.headroom_multiplier is not None:
        s = s.with_headroom(factor=case.headroom_multiplier)
    if case.water_limit_multiplier is not None:
        s = s.with_water_limit(factor=case.water_limit_multiplier)
    if case.upgrade_capex_multiplier is not None:
        s = s.scale_upgrade_capex(case.upgrade_capex_multiplier)
    if case.upgrade_lead_delay_periods:
        s = s.delay_upgrades(case.upgrade_lead_delay_periods)
    return s
