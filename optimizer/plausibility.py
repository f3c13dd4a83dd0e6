"""Plausibility: values that pass the types but are almost surely a unit slip.

Validation (:mod:`optimizer.schema`) refuses what cannot be; this flags what can be but
almost surely is not meant: 25,000 MW of headroom typed for 25 MW (kW for MW), a price in
USD/kWh, a water limit of a few m3. Each finding is a warning that names file, row and field
like an input problem: printed by the CLI, stored in ``plan.json`` (``warnings``), and
turned into exit 2 by ``--strict``.

The ranges come from the bundled default scenario (``data/default``, built from the public
sources in ``data/SOURCES.md``), stated once here; ``tests/test_plausibility.py`` checks
them against the bundled files. A value is flagged only well outside them (each range's
``plausible`` bounds, :data:`FACTOR`), so another year's prices or another climate's curves
pass and a factor of 1,000 does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optimizer.errors import Problem
from optimizer.scenario import Scenario


@dataclass(frozen=True)
class Observed:
    """A range observed in the bundled data, where it comes from, and the wider range
    outside which a value is flagged (a unit slip lands there; another year does not)."""

    low: float
    high: float
    unit: str
    source: str
    plausible: tuple[float, float]

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.low:,.4g}-{self.high:,.4g}{unit} in {self.source}"


#: Mean hourly price of each zone: EIA hourly ISO hub prices 2023-2025. Cents/kWh (10x
#: lower) and USD/kWh (1,000x) fall below 5; 2022's means (80-100) pass.
ZONE_MEAN_PRICE = Observed(
    23.857, 52.587, "USD/MWh", "the bundled zones' means (data/default/profiles)", (5.0, 250.0)
)
#: PUE breakpoints of the bundled cooling technologies (see data/SOURCES.md); the worst
#: legacy data centres run near 2.5.
PUE = Observed(
    1.095, 1.556, "", "the bundled cooling curves (data/default/cooling_curves.csv)", (1.0, 3.0)
)
#: Campus water limits (WRI Aqueduct water stress, see data/SOURCES.md); a 100 MW campus
#: with evaporative cooling uses some 1e5-1e6 m3 a year, a household 100.
WATER_LIMIT = Observed(
    4e5,
    8e6,
    "m3/year",
    "the bundled campuses' limits (data/default/sites.csv)",
    (1e3, float("inf")),
)
#: Headroom, upgrades or a campus this many times what they relate to is a unit slip
#: (kW for MW is 1,000 x); the bundled data's largest ratio is 3.75 (a campus over its
#: zone's import limit).
FACTOR = 10.0


def plausibility_warnings(s: Scenario) -> list[Problem]:
    """Every implausible value of ``s``, one warning each naming file, row and field."""
    return [*_capacities(s), *_prices(s), *_curves(s), *_water(s)]


def _capacities(s: Scenario) -> Iterator[Problem]:
    """Headroom and upgrades far above the campus or its zone; a campus far above what its
    zone could feed (import limit plus its on-site options)."""
    limits = {z.zone_id: z.import_limit_mw for z in s.zones}
    onsite: dict[str, float] = {}
    for option in s.onsite_power:
        onsite[option.site_id] = onsite.get(option.site_id, 0.0) + option.max_mw
    largest = {site.site_id: site.max_it_mw for site in s.sites}
    for i, site in enumerate(s.sites):
        line, limit = s.line("sites.csv", i), limits.get(site.zone_id)
        if site.headroom_mw > FACTOR * site.max_it_mw:
            yield Problem(
                "sites.csv",
                f"{site.headroom_mw:,.6g} MW of headroom for a campus of at most "
                f"{site.max_it_mw:,.6g} MW IT ({site.headroom_mw / site.max_it_mw:,.0f} x): "
                "typed in kW?",
                row=line,
                field="headroom_mw",
            )
        elif limit and site.headroom_mw > FACTOR * limit:
            yield Problem(
                "sites.csv",
                f"{site.headroom_mw:,.6g} MW of headroom is {site.headroom_mw / limit:,.0f} x "
                f"the import limit of zone {site.zone_id} ({limit:,.6g} MW): typed in kW?",
                row=line,
                field="headroom_mw",
            )
        feed = (limit or 0.0) + onsite.get(site.site_id, 0.0)
        if limit is not None and feed > 0 and site.max_it_mw > FACTOR * feed:
            yield Problem(
                "sites.csv",
                f"{site.max_it_mw:,.6g} MW IT is {site.max_it_mw / feed:,.0f} x what zone "
                f"{site.zone_id} could ever feed ({feed:,.6g} MW: import limit and on-site "
                "options): typed in kW?",
                row=line,
                field="max_it_mw",
            )
    for i, upgrade in enumerate(s.upgrades):
        campus = largest.get(upgrade.site_id)
        if campus is not None and upgrade.added_mw > FACTOR * campus:
            yield Problem(
                "upgrades.csv",
                f"{upgrade.added_mw:,.6g} MW added to a campus of at most {campus:,.6g} MW IT "
                f"({upgrade.added_mw / campus:,.0f} x): typed in kW?",
                row=s.line("upgrades.csv", i),
                field="added_mw",
            )


def _prices(s: Scenario) -> Iterator[Problem]:
    """Zone mean prices far outside the bundled zones' (USD/kWh or cents for USD/MWh). An
    all-zero series is energy left out on purpose and passes."""
    table = s.profiles.tables["price_usd_per_mwh"]
    low, high = ZONE_MEAN_PRICE.plausible
    weights = s.profiles.weight_h
    weight_h = np.ones(len(table.values)) if weights is None else weights
    for j, zone in enumerate(table.ids):
        series = table.values[:, j]
        mean = float(series @ weight_h / weight_h.sum())
        if np.abs(series).max() > 0 and not low <= mean <= high:
            yield Problem(
                "profiles/price_usd_per_mwh.csv",
                f"mean price {mean:,.4g} USD/MWh, far outside {ZONE_MEAN_PRICE}: "
                "USD/kWh or cents for USD/MWh?",
                field=str(zone),
            )


def _curves(s: Scenario) -> Iterator[Problem]:
    """PUE breakpoints far above the bundled curves'."""
    highest = PUE.plausible[1]
    for i, row in enumerate(s.cooling_curves):
        if row.quantity == "pue" and row.value > highest:
            yield Problem(
                "cooling_curves.csv",
                f"PUE {row.value:g} of {row.cooling_id}, far above {PUE}: a percentage, "
                "or the overhead alone?",
                row=s.line("cooling_curves.csv", i),
                field="value",
            )


def _water(s: Scenario) -> Iterator[Problem]:
    """Water limits of a few m3 a year (0 is a dry campus on purpose and passes)."""
    lowest = WATER_LIMIT.plausible[0]
    for i, site in enumerate(s.sites):
        limit = site.water_limit_m3_per_year
        if limit is not None and 0 < limit < lowest:
            yield Problem(
                "sites.csv",
                f"{limit:,.6g} m3 a year, far below {WATER_LIMIT}: thousands of m3, or m3 a day?",
                row=s.line("sites.csv", i),
                field="water_limit_m3_per_year",
            )
