"""Load a scenario folder and validate it whole.

Every problem found is collected (file, row, field, what was expected) and raised together as
one :class:`~optimizer.errors.ScenarioError`, so a planner fixes a file in one pass. Nothing is
written here. The reading is split by what is read: ``scenario.yaml``
(:mod:`optimizer.scenario_yaml`), CSV tables (:mod:`optimizer.scenario_csv`), hourly profiles
(:mod:`optimizer.scenario_profiles`), then the rules across tables
(:mod:`optimizer.scenario_checks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from optimizer import variants
from optimizer.errors import Problem, ScenarioError
from optimizer.scenario_checks import cross_check
from optimizer.scenario_csv import Table, load_table, read_text
from optimizer.scenario_profiles import HOURS_PER_YEAR, Profiles, load_profiles
from optimizer.scenario_yaml import load_config
from optimizer.schema import (
    OPTIONAL_TABLES,
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

__all__ = ["HOURS_PER_YEAR", "Profiles", "Scenario", "load_scenario"]


#: What a plan folder given where a scenario folder is expected is told.
PLAN_NOT_SCENARIO = (
    "a plan folder (plan.json, written by gridsite solve), not a scenario folder; "
    "give the scenario folder it was solved from"
)


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

    # ----------------------------------------------------------------------- variants
    # A planner's common edits, one call each: a new validated scenario, this one unchanged
    # (implemented and documented in :mod:`optimizer.variants`; a sweep's cases use them too).

    def scale_prices(
        self, factor: float, *, zone: str | None = None, region: str | None = None
    ) -> Scenario:
        """Hourly prices times ``factor``: of a ``zone``, of a ``region``'s zones, or all."""
        return variants.scale_prices(self, factor, zone=zone, region=region)

    def with_target(
        self, period: str | None = None, *, mw: float | None = None, factor: float | None = None
    ) -> Scenario:
        """The ramp target of ``period`` (``None``: every period) set to ``mw`` or times
        ``factor``."""
        return variants.with_target(self, period, mw=mw, factor=factor)

    def without_campus(self, site_id: str) -> Scenario:
        """Without the candidate campus ``site_id`` and the rows that belong to it."""
        return variants.without_campus(self, site_id)

    def with_headroom(
        self,
        mw: float | None = None,
        *,
        factor: float | None = None,
        site: str | None = None,
        zone: str | None = None,
        region: str | None = None,
    ) -> Scenario:
        """Existing grid headroom set to ``mw`` or times ``factor``, at a ``site``, the
        campuses of a ``zone`` or ``region``, or all."""
        return variants.with_headroom(self, mw, factor=factor, site=site, zone=zone, region=region)

    def with_water_limit(
        self,
        m3_per_year: float | None = None,
        *,
        factor: float | None = None,
        site: str | None = None,
        zone: str | None = None,
        region: str | None = None,
    ) -> Scenario:
        """Annual water limit set to ``m3_per_year`` or times ``factor`` (no limit stays
        none), at a ``site``, the campuses of a ``zone`` or ``region``, or all."""
        return variants.with_water_limit(
            self, m3_per_year, factor=factor, site=site, zone=zone, region=region
        )

    def delay_upgrades(
        self, periods: int, *, upgrade: str | None = None, site: str | None = None
    ) -> Scenario:
        """Upgrade lead times ``periods`` longer: an ``upgrade``, a ``site``'s, or all."""
        return variants.delay_upgrades(self, periods, upgrade=upgrade, site=site)

    def scale_upgrade_capex(
        self, factor: float, *, upgrade: str | None = None, site: str | None = None
    ) -> Scenario:
        """Upgrade capex times ``factor``: an ``upgrade``, a ``site``'s, or all."""
        return variants.scale_upgrade_capex(self, factor, upgrade=upgrade, site=site)

    def with_carbon_price(self, usd_per_t: float) -> Scenario:
        """The carbon price on energy bought and generated, USD per t CO2e."""
        return variants.with_carbon_price(self, usd_per_t)

    def with_energy_weight(self, usd_per_mwh: float) -> Scenario:
        """The extra weight on each MWh bought, USD per MWh."""
        return variants.with_energy_weight(self, usd_per_mwh)

    def with_accelerator_supply(self, it_mw_per_period: float | None) -> Scenario:
        """The most IT MW of accelerators delivered per period (``None``: no limit)."""
        return variants.with_accelerator_supply(self, it_mw_per_period)

    def with_name(self, name: str) -> Scenario:
        """Renamed (the plan folder and the plan's ``scenario`` follow the name)."""
        return variants.with_name(self, name)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario folder at ``path``.

    Raises :class:`ScenarioError` listing every problem found.
    """
    root = Path(path)
    problems: list[Problem] = []
    if not root.is_dir():
        raise ScenarioError([Problem(str(root), "scenario folder not found")])
    if (root / "plan.json").is_file() and not (root / "scenario.yaml").exists():
        raise ScenarioError([Problem(str(root), PLAN_NOT_SCENARIO)])

    text = read_text(root, "scenario.yaml", problems)
    config = load_config(text, problems) if text is not None else None
    tables = {name: load_table(root, name, model, problems) for name, model in TABLES.items()}
    tables.update(
        {
            name: load_table(root, name, model, problems)
            for name, model in OPTIONAL_TABLES.items()
            if (root / name).exists() or (root / name).is_symlink()
        }
    )
    profiles = load_profiles(root, config, problems)
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


def _rows(tables: Mapping[str, Table], name: str) -> tuple[BaseModel, ...]:
    return tuple(tables[name].rows) if name in tables else ()
