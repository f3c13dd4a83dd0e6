"""Rules across the tables of a loaded scenario: unique ids (also up to case), references
that resolve (with the closest id suggested when one does not), curves, periods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from optimizer.errors import Problem, closest
from optimizer.periods import Period
from optimizer.schema import PROFILES

if TYPE_CHECKING:
    from optimizer.scenario import Scenario

#: A site period this many years from the horizon is a typo (``2926H1``), not a permit.
MAX_YEARS_FROM_HORIZON = 100


def cross_check(s: Scenario) -> list[Problem]:
    """Rules across tables: unique ids, references, curves, periods."""
    problems: list[Problem] = []
    problems += unique(s, "sites.csv", "site_id", [r.site_id for r in s.sites])
    problems += unique(s, "zones.csv", "zone_id", [r.zone_id for r in s.zones])
    problems += unique(s, "upgrades.csv", "upgrade_id", [r.upgrade_id for r in s.upgrades])
    problems += unique(
        s, "cooling_technologies.csv", "cooling_id", [r.cooling_id for r in s.cooling]
    )
    zones = [z.zone_id for z in s.zones]
    sites = [r.site_id for r in s.sites]
    problems += _check_demand(s, sites)
    problems += _check_site_power(s, sites)
    problems += _check_contracts(s, zones)
    problems += _check_profiles(s, zones)
    problems += _check_sites(s, zones)
    problems += _check_curves(s, [c.cooling_id for c in s.cooling])
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


def unknown(kind: str, value: str, known: Sequence[str], where: str) -> str:
    """``unknown zone 'x' (not in zones.csv; did you mean 'X'?)``."""
    return f"unknown {kind} {value!r} (not in {where}{closest(value, known)})"


def unique(s: Scenario, table: str, column: str, ids: Sequence[str]) -> list[Problem]:
    """Each id once, and no two ids that differ only by case (``A`` and ``a`` would be two
    campuses to the model and one to a reader)."""
    first_line: dict[str, tuple[str, int]] = {}
    out = []
    for i, value in enumerate(ids):
        line = s.line(table, i)
        seen = first_line.get(value.casefold())
        if seen is None:
            first_line[value.casefold()] = (value, line)
            continue
        given, at = seen
        message = (
            f"duplicate id {value!r} (first at row {at}); expected each {column} once"
            if given == value
            else f"{value!r} differs from {given!r} (row {at}) only by case; expected ids "
            "that differ in more than case"
        )
        out.append(Problem(table, message, row=line, field=column))
    return out


def _check_sites(s: Scenario, zones: Sequence[str]) -> list[Problem]:
    """Sites: known zone and weather, periods of the horizon's kind and not absurdly far."""
    out = []
    weather = list(s.profiles.tables["dry_bulb_c"].ids)
    first = s.config.horizon.periods[0]
    for i, site in enumerate(s.sites):
        line = s.line("sites.csv", i)
        if site.zone_id not in zones:
            message = unknown("zone", site.zone_id, zones, "zones.csv")
            out.append(Problem("sites.csv", message, row=line, field="zone_id"))
        if site.weather_id not in weather:
            message = unknown("weather", site.weather_id, weather, "profiles/dry_bulb_c.csv")
            out.append(Problem("sites.csv", message, row=line, field="weather_id"))
        for column in ("earliest_period", "headroom_period"):
            label = getattr(site, column)
            period = Period.parse(label)
            if period.kind != first.kind:
                message = (
                    f"{period} is a {period.kind}; expected a {first.kind} like the "
                    f"horizon's first_period {first}"
                )
                out.append(Problem("sites.csv", message, row=line, field=column))
            elif abs(period.start_year - first.start_year) > MAX_YEARS_FROM_HORIZON:
                message = (
                    f"{label} is {abs(period.start_year - first.start_year):,.0f} years from "
                    f"the horizon's first period {first}; expected a date within "
                    f"{MAX_YEARS_FROM_HORIZON} years"
                )
                out.append(Problem("sites.csv", message, row=line, field=column))
    return out


def _check_profiles(s: Scenario, zones: Sequence[str]) -> list[Problem]:
    """A price and carbon column for every zone; the same stations in both weather files."""
    out = []
    for name, kind in PROFILES.items():
        columns = set(s.profiles.tables[name].ids)
        if kind == "zone":
            for zone in sorted(set(zones) - columns):
                out.append(Problem(f"profiles/{name}.csv", f"no column for zone {zone!r}", row=1))
    dry, wet = (set(s.profiles.tables[n].ids) for n in ("dry_bulb_c", "wet_bulb_c"))
    if dry != wet:
        out.append(
            Problem("profiles/wet_bulb_c.csv", "columns differ from profiles/dry_bulb_c.csv", row=1)
        )
    return out


def _check_contracts(s: Scenario, zones: Sequence[str]) -> list[Problem]:
    """Clean contracts: unique ids, known zones, and a capacity-factor column for each."""
    table, profile = "clean_contracts.csv", "profiles/capacity_factor_frac.csv"
    out = unique(s, table, "contract_id", [c.contract_id for c in s.clean_contracts])
    factors = s.profiles.tables.get("capacity_factor_frac")
    target = s.config.clean_energy.cfe_target_frac
    if target > 0 and not s.clean_contracts:
        out.append(
            Problem(
                "scenario.yaml",
                f"clean_energy.cfe_target_frac is {target:g} but there is no {table}; "
                "expected contracts to match load with, or 0",
                field="clean_energy.cfe_target_frac",
            )
        )
    if factors is not None and not s.clean_contracts:
        out.append(Problem(profile, f"needs {table} beside it (a row per column)", row=1))
    for i, c in enumerate(s.clean_contracts):
        line = s.line(table, i)
        if c.zone_id not in zones:
            message = unknown("zone", c.zone_id, zones, "zones.csv")
            out.append(Problem(table, message, row=line, field="zone_id"))
        if factors is None or c.contract_id not in factors.ids:
            message = f"no column for {c.contract_id!r} in {profile}"
            out.append(Problem(table, message, row=line, field="contract_id"))
    return out


def _check_site_power(s: Scenario, sites: Sequence[str]) -> list[Problem]:
    """Upgrades, flexible connections and on-site power: known sites, unique keys."""
    out = unique(
        s, "flexible_connections.csv", "site_id", [r.site_id for r in s.flexible_connections]
    )
    out += unique(s, "onsite_power.csv", "option_id", [r.option_id for r in s.onsite_power])
    rows: list[tuple[str, int, str]] = [
        ("upgrades.csv", i, r.site_id) for i, r in enumerate(s.upgrades)
    ]
    rows += [
        ("flexible_connections.csv", i, r.site_id) for i, r in enumerate(s.flexible_connections)
    ]
    rows += [("onsite_power.csv", i, r.site_id) for i, r in enumerate(s.onsite_power)]
    for table, i, site_id in rows:
        if site_id not in sites:
            message = unknown("site", site_id, sites, "sites.csv")
            out.append(Problem(table, message, row=s.line(table, i), field="site_id"))
    return out


def _check_demand(s: Scenario, sites: Sequence[str]) -> list[Problem]:
    """Demand tables: unique regions, known references, one demand row per region-period."""
    table = "inference_demand.csv"
    out = unique(s, "demand_regions.csv", "region_id", [r.region_id for r in s.demand_regions])
    regions = [r.region_id for r in s.demand_regions]
    horizon = {p.label for p in s.config.horizon.periods}
    if s.inference_demand and not s.demand_regions:
        out.append(Problem(table, "needs demand_regions.csv beside it"))
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(s.inference_demand):
        line = s.line(table, i)
        if s.demand_regions and row.region_id not in regions:
            message = unknown("region", row.region_id, regions, "demand_regions.csv")
            out.append(Problem(table, message, row=line, field="region_id"))
        if row.period not in horizon:
            message = f"period {row.period} is outside the horizon"
            out.append(Problem(table, message, row=line, field="period"))
        if (row.region_id, row.period) in seen:
            message = f"second row for {row.region_id} in {row.period} (expected one)"
            out.append(Problem(table, message, row=line, field="period"))
        seen.add((row.region_id, row.period))
    pairs: set[tuple[str, str]] = set()
    for i, pair in enumerate(s.serving):
        line = s.line("serving.csv", i)
        if pair.region_id not in regions:
            message = unknown("region", pair.region_id, regions, "demand_regions.csv")
            out.append(Problem("serving.csv", message, row=line, field="region_id"))
        if pair.site_id not in sites:
            message = unknown("site", pair.site_id, sites, "sites.csv")
            out.append(Problem("serving.csv", message, row=line, field="site_id"))
        if (pair.region_id, pair.site_id) in pairs:
            message = f"second row for {pair.region_id} and {pair.site_id} (expected one)"
            out.append(Problem("serving.csv", message, row=line, field="site_id"))
        pairs.add((pair.region_id, pair.site_id))
    return out


def _check_curves(s: Scenario, coolings: Sequence[str]) -> list[Problem]:
    """Breakpoints of known technologies, increasing, a PUE and a WUE curve for each."""
    table = "cooling_curves.csv"
    out = []
    last: dict[tuple[str, str], float] = {}
    for i, row in enumerate(s.cooling_curves):
        line = s.line(table, i)
        if row.cooling_id not in coolings:
            message = unknown(
                "cooling technology", row.cooling_id, coolings, "cooling_technologies.csv"
            )
            out.append(Problem(table, message, row=line, field="cooling_id"))
            continue
        key = (row.cooling_id, row.quantity)
        if key in last and row.ambient_c <= last[key]:
            message = (
                f"breakpoints must increase: {row.ambient_c:g} after {last[key]:g} for "
                f"{row.cooling_id} {row.quantity}"
            )
            out.append(Problem(table, message, row=line, field="ambient_c"))
        last[key] = row.ambient_c
    for cooling in sorted(coolings):
        for quantity in ("pue", "wue_l_per_kwh"):
            if (cooling, quantity) not in last:
                message = f"no {quantity} curve for {cooling!r}: expected at least one breakpoint"
                out.append(Problem(table, message, field="quantity"))
    return out
