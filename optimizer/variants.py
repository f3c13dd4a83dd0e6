"""Scenario variants: a planner's common edits, one call each, returning a new scenario.

    cheap = scenario.scale_prices(0.8, region="ERCOT")
    later = scenario.delay_upgrades(2).with_target(factor=1.1)
    dry = scenario.with_water_limit(5e5, zone="aps_srp_arizona").without_campus("reno_nv")

Each edit is a method of :class:`~optimizer.scenario.Scenario` (implemented here) and returns
a new scenario, validated as :func:`~optimizer.scenario.load_scenario` validates one: the rows
it changes against their pydantic models, ``scenario.yaml``'s settings against theirs, then the
rules across tables. The original is never changed (scenarios are frozen; the price table is
copied before it is scaled). A sweep file's cases (:mod:`optimizer.sweep_file`) are applied
with these same functions.

Errors: an id that is not in the scenario, or an edit that takes a value out of its range,
raises :class:`~optimizer.errors.ScenarioError` with one line naming the table, row and field
(an unknown id names the closest one: ``unknown zone 'ercot_nort' (not in zones.csv; did you
mean 'ercot_north'?)``). Arguments that do not make an edit (both or neither of ``mw`` and
``factor``, a negative factor) raise ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from optimizer.errors import Problem, ScenarioError, closest, pydantic_problems
from optimizer.scenario_checks import cross_check
from optimizer.scenario_profiles import HourlyTable, Profiles
from optimizer.schema import PROFILE_BOUNDS, ScenarioConfig

if TYPE_CHECKING:
    from optimizer.scenario import Scenario

__all__ = [
    "delay_upgrades",
    "scale_prices",
    "scale_upgrade_capex",
    "with_accelerator_supply",
    "with_carbon_price",
    "with_energy_weight",
    "with_headroom",
    "with_name",
    "with_target",
    "with_water_limit",
    "without_campus",
]

Row = TypeVar("Row", bound=BaseModel)
K = TypeVar("K")

PRICES = "price_usd_per_mwh"
MAX_LISTED = 12
"""An unknown id with no close match lists the known ones when there are at most this many."""


# --------------------------------------------------------------------------- prices


def scale_prices(
    scenario: Scenario, factor: float, *, zone: str | None = None, region: str | None = None
) -> Scenario:
    """Hourly wholesale prices times ``factor``: of one ``zone``, of every zone of a
    ``region`` (``zones.csv``'s ``region``, e.g. ``"ERCOT"``), or of every zone when neither
    is given."""
    _check_factor(factor)
    if zone is not None and region is not None:
        raise ValueError("give zone or region, not both")
    zones = [z.zone_id for z in scenario.zones]
    if zone is not None:
        _known(zone, zones, "zone", "zones.csv", "zone_id")
        chosen = [zone]
    elif region is not None:
        regions = sorted({z.region for z in scenario.zones})
        _known(region, regions, "region", "zones.csv", "region")
        chosen = [z.zone_id for z in scenario.zones if z.region == region]
    else:
        chosen = zones
    table = scenario.profiles.tables[PRICES]
    price = table.values.copy()
    at = [table.ids.index(zone_id) for zone_id in chosen]
    price[:, at] = price[:, at] * factor
    low, high = PROFILE_BOUNDS[PRICES]
    lowest, highest = price.min(axis=0), price.max(axis=0)
    outside = [c for c, j in zip(chosen, at, strict=True) if lowest[j] < low or highest[j] > high]
    if outside:
        raise ScenarioError(
            [
                Problem(
                    f"profiles/{PRICES}.csv",
                    f"prices times {factor:g} leave [{low:g}, {high:g}] USD/MWh",
                    field=column,
                )
                for column in outside
            ]
        )
    tables = {**scenario.profiles.tables, PRICES: HourlyTable(table.ids, price)}
    profiles = Profiles(tables=tables, weight_h=scenario.profiles.weight_h)
    return _checked(dataclasses.replace(scenario, profiles=profiles))


# --------------------------------------------------------------------------- scenario.yaml


def with_target(
    scenario: Scenario,
    period: str | None = None,
    *,
    mw: float | None = None,
    factor: float | None = None,
) -> Scenario:
    """The portfolio's ramp target (cumulative IT MW) of ``period`` (every period when
    ``None``) set to ``mw`` or multiplied by ``factor``. Targets must stay non-decreasing."""
    targets = dict(scenario.config.portfolio.target_it_mw_by_period)
    if period is not None:
        field = "portfolio.target_it_mw_by_period"
        _known(period, list(targets), "period", "scenario.yaml", field)
    new = _set_or_scale(
        {p: v for p, v in targets.items() if period is None or p == period}, mw, factor
    )
    return _with_config(scenario, ("portfolio", "target_it_mw_by_period"), {**targets, **new})


def with_carbon_price(scenario: Scenario, usd_per_t: float) -> Scenario:
    """``objective.carbon_price_usd_per_t``: the price on each t CO2e of the energy bought
    and generated on site (cost term ``carbon``)."""
    return _with_config(scenario, ("objective", "carbon_price_usd_per_t"), usd_per_t)


def with_energy_weight(scenario: Scenario, usd_per_mwh: float) -> Scenario:
    """``objective.energy_weight_usd_per_mwh``: an extra weight on each MWh bought."""
    return _with_config(scenario, ("objective", "energy_weight_usd_per_mwh"), usd_per_mwh)


def with_accelerator_supply(scenario: Scenario, it_mw_per_period: float | None) -> Scenario:
    """``portfolio.accelerator_supply_it_mw_per_period``: the most IT MW of accelerators
    delivered per period (``None``: no limit)."""
    return _with_config(
        scenario, ("portfolio", "accelerator_supply_it_mw_per_period"), it_mw_per_period
    )


def with_name(scenario: Scenario, name: str) -> Scenario:
    """The scenario renamed (it names the plan folder, ``out/<name>``, and the plan's
    ``scenario``), so that variants' plans are told apart."""
    return _with_config(scenario, ("name",), name)


# --------------------------------------------------------------------------- campuses


def without_campus(scenario: Scenario, site_id: str) -> Scenario:
    """The scenario without the candidate campus ``site_id``, and without the rows that
    belong to it: its upgrades, flexible connection, on-site options and serving pairs."""
    _known(site_id, [s.site_id for s in scenario.sites], "site", "sites.csv", "site_id")
    changes: dict[str, Any] = {}
    lines = dict(scenario.lines)
    for attr, table in (
        ("sites", "sites.csv"),
        ("upgrades", "upgrades.csv"),
        ("flexible_connections", "flexible_connections.csv"),
        ("onsite_power", "onsite_power.csv"),
        ("serving", "serving.csv"),
    ):
        rows = getattr(scenario, attr)
        keep = [i for i, row in enumerate(rows) if row.site_id != site_id]
        changes[attr] = tuple(rows[i] for i in keep)
        lines[table] = tuple(scenario.line(table, i) for i in keep)
    return _checked(dataclasses.replace(scenario, lines=lines, **changes))


def with_headroom(
    scenario: Scenario,
    mw: float | None = None,
    *,
    factor: float | None = None,
    site: str | None = None,
    zone: str | None = None,
    region: str | None = None,
) -> Scenario:
    """Existing firm grid headroom (``headroom_mw``, facility MW) set to ``mw`` or multiplied
    by ``factor``, at one ``site``, the campuses of a ``zone`` or ``region``, or all."""
    return _edit_sites(scenario, "headroom_mw", mw, factor, site, zone, region)


def with_water_limit(
    scenario: Scenario,
    m3_per_year: float | None = None,
    *,
    factor: float | None = None,
    site: str | None = None,
    zone: str | None = None,
    region: str | None = None,
) -> Scenario:
    """The annual water limit (``water_limit_m3_per_year``) set to ``m3_per_year`` or
    multiplied by ``factor`` (a campus without a limit keeps none), at one ``site``, the
    campuses of a ``zone`` or ``region``, or all."""
    return _edit_sites(scenario, "water_limit_m3_per_year", m3_per_year, factor, site, zone, region)


# --------------------------------------------------------------------------- upgrades


def delay_upgrades(
    scenario: Scenario, periods: int, *, upgrade: str | None = None, site: str | None = None
) -> Scenario:
    """Upgrades' lead time (``lead_periods``) this many periods longer (negative: shorter):
    one ``upgrade``, those of one ``site``, or all."""
    if isinstance(periods, bool) or not isinstance(periods, int):
        raise ValueError(f"periods must be a whole number, got {periods!r}")
    return _edit_upgrades(scenario, upgrade, site, "lead_periods", lambda v: v + periods)


def scale_upgrade_capex(
    scenario: Scenario, factor: float, *, upgrade: str | None = None, site: str | None = None
) -> Scenario:
    """Upgrades' capex (``capex_musd``) times ``factor``: one ``upgrade``, those of one
    ``site``, or all."""
    _check_factor(factor)
    return _edit_upgrades(scenario, upgrade, site, "capex_musd", lambda v: v * factor)


# --------------------------------------------------------------------------- helpers


def _checked(scenario: Scenario) -> Scenario:
    """``scenario`` if the rules across its tables hold (:func:`cross_check`)."""
    problems = cross_check(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _known(value: str, known: Sequence[str], kind: str, where: str, field: str) -> None:
    """Refuse an id not in ``known``, naming the closest one (or, with none close, the few
    there are: ``unknown zone 'z3' (not in zones.csv; expected one of z1, z2)``)."""
    if value in known:
        return
    hint = closest(value, known)
    if not hint and len(known) <= MAX_LISTED:
        hint = f"; expected one of {', '.join(known)}"
    message = f"unknown {kind} {value!r} (not in {where}{hint})"
    raise ScenarioError([Problem(where, message, field=field)])


def _check_factor(factor: float) -> None:
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor >= 0:
        raise ValueError(f"factor must be a number >= 0, got {factor!r}")
    if not math.isfinite(factor):
        raise ValueError(f"factor must be finite, got {factor!r}")


def _set_or_scale(
    values: Mapping[K, float | None], value: float | None, factor: float | None
) -> dict[K, float | None]:
    """Each of ``values`` set to ``value`` or times ``factor`` (``None`` stays ``None``)."""
    if (value is None) == (factor is None):
        raise ValueError("give a value or a factor, not both or neither")
    if factor is None:
        return dict.fromkeys(values, value)
    _check_factor(factor)
    return {k: None if v is None else v * factor for k, v in values.items()}


def _with_config(scenario: Scenario, path: tuple[str, ...], value: Any) -> Scenario:
    """``scenario`` with the setting at ``path`` of ``scenario.yaml`` replaced, validated."""
    data = scenario.config.model_dump()
    section = data
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    try:
        config = ScenarioConfig.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(pydantic_problems("scenario.yaml", e, lambda loc: None)) from None
    return _checked(dataclasses.replace(scenario, config=config))


def _edit_sites(
    scenario: Scenario,
    column: str,
    value: float | None,
    factor: float | None,
    site: str | None,
    zone: str | None,
    region: str | None,
) -> Scenario:
    if sum(x is not None for x in (site, zone, region)) > 1:
        raise ValueError("give at most one of site, zone and region")
    if site is not None:
        _known(site, [s.site_id for s in scenario.sites], "site", "sites.csv", "site_id")
    if zone is not None:
        _known(zone, [z.zone_id for z in scenario.zones], "zone", "zones.csv", "zone_id")
    if region is not None:
        regions = sorted({z.region for z in scenario.zones})
        _known(region, regions, "region", "zones.csv", "region")
    region_of = {z.zone_id: z.region for z in scenario.zones}
    chosen = {
        i: getattr(s, column)
        for i, s in enumerate(scenario.sites)
        if (site is None or s.site_id == site)
        and (zone is None or s.zone_id == zone)
        and (region is None or region_of[s.zone_id] == region)
    }
    new = _set_or_scale(chosen, value, factor)
    sites = list(scenario.sites)
    for i, v in new.items():
        sites[i] = _validated(scenario, "sites.csv", i, sites[i], {column: v})
    return _checked(dataclasses.replace(scenario, sites=tuple(sites)))


def _edit_upgrades(
    scenario: Scenario,
    upgrade: str | None,
    site: str | None,
    column: str,
    change: Callable[[Any], Any],
) -> Scenario:
    if upgrade is not None:
        ids = [u.upgrade_id for u in scenario.upgrades]
        _known(upgrade, ids, "upgrade", "upgrades.csv", "upgrade_id")
    if site is not None:
        _known(site, [s.site_id for s in scenario.sites], "site", "sites.csv", "site_id")
    upgrades = list(scenario.upgrades)
    for i, row in enumerate(upgrades):
        if (upgrade is None or row.upgrade_id == upgrade) and (site is None or row.site_id == site):
            update = {column: change(getattr(row, column))}
            upgrades[i] = _validated(scenario, "upgrades.csv", i, row, update)
    return _checked(dataclasses.replace(scenario, upgrades=tuple(upgrades)))


def _validated(scenario: Scenario, table: str, index: int, row: Row, update: dict[str, Any]) -> Row:
    """``row`` with ``update``, validated by its model; problems name the table's line."""
    try:
        return type(row).model_validate({**row.model_dump(), **update})
    except ValidationError as e:
        line = scenario.line(table, index)
        raise ScenarioError(pydantic_problems(table, e, lambda loc: line)) from None
