"""Typed scenario schema: ``scenario.yaml`` and one row model per CSV table.

Every field carries its unit in its name. Models are strict (``extra="forbid"``), frozen
and reject NaN and infinity. A rule between two fields is a ``field_validator`` on the later
one (so the error names that field), a rule across sections a ``model_validator``, and
cross-table rules live in :mod:`optimizer.scenario`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from optimizer.periods import Period

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_PERIOD = re.compile(r"[0-9]{4}[HQ][0-9]")


def _identifier(value: str) -> str:
    if not _ID.fullmatch(value) or len(value) > 64:
        raise ValueError(
            "expected an id of ASCII letters, digits, '_', '.' and '-', starting with a letter "
            "or digit, at most 64 characters (e.g. amarillo_tx)"
        )
    return value


def _period_label(label: str) -> str:
    if not _PERIOD.fullmatch(label):
        raise ValueError("expected a period like 2027H1 (a half-year) or 2027Q3 (a quarter)")
    Period.parse(label)  # H3 or Q5 do not exist
    return label


def _scenario_name(name: str) -> str:
    """A scenario name names the output folder ``out/<name>``: a name, never a path."""
    if name != name.strip():
        raise ValueError("starts or ends with a space; expected a plain name")
    if "/" in name or "\\" in name:
        raise ValueError("contains a path separator; expected a name, not a path (e.g. base-2030)")
    if set(name) == {"."}:
        raise ValueError("is only dots; expected a name (e.g. base-2030)")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise ValueError("contains a control character; expected a plain name")
    return name


Identifier = Annotated[
    str, AfterValidator(_identifier), Field(json_schema_extra={"pattern": _ID.pattern})
]
PeriodLabel = Annotated[
    str, AfterValidator(_period_label), Field(json_schema_extra={"pattern": _PERIOD.pattern})
]
ScenarioName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_scenario_name)]
Ambient = Literal["dry_bulb", "wet_bulb"]

#: A campus larger than this is a unit error (kW given where MW is expected), not a plan.
MAX_SITE_IT_MW = 20_000.0
#: Capacity below this (100 kW) is a unit slip or a typo (1e-300), not a campus or a hall.
MIN_CAPACITY_MW = 0.1
#: Periods further than this from ``base_year`` are a typo (``2926H1``), not a plan.
MAX_YEARS_FROM_BASE = 100
#: Discount factors beyond this range (either way) are a typo in the rate or the dates.
MAX_DISCOUNT_FACTOR = 1e6


class StrictModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True
    )


# --------------------------------------------------------------------------- scenario.yaml


class Horizon(StrictModel):
    first_period: PeriodLabel
    """First planning period, e.g. ``2026H2`` (half-years) or ``2026Q3`` (quarters)."""
    last_period: PeriodLabel
    """Last planning period, same kind as ``first_period``."""
    discount_rate_frac_per_year: float = Field(ge=0.0, le=0.5)
    """Real discount rate for the NPV, e.g. 0.08."""
    base_year: float = Field(ge=2000, le=2100)
    """Calendar year to which costs are discounted (2026.0 = 1 Jan 2026)."""
    opex_tail_years: float = Field(default=0.0, ge=0.0, le=50.0)
    """Years of operation after the last period counted (discounted) in the objective at
    the last period's capacity, so energy and water weigh as over a campus's life and not
    only until the horizon ends. 0: opex inside the horizon only."""

    @field_validator("last_period")
    @classmethod
    def _after_first(cls, label: str, info: ValidationInfo) -> str:
        if "first_period" not in info.data:  # first_period is itself invalid
            return label
        first, last = Period.parse(info.data["first_period"]), Period.parse(label)
        if first.kind != last.kind:
            raise ValueError(f"expected a {first.kind} like first_period {first}")
        if last < first:
            raise ValueError(f"comes before first_period {first}; expected {first} or later")
        if last - first >= 80:
            raise ValueError(
                f"more than 80 periods after first_period {first}; expected at most 80"
            )
        return label

    @model_validator(mode="after")
    def _plausible_dates(self) -> Horizon:
        """Periods within a century of ``base_year``, discount factors within 1e-6..1e6."""
        periods = self.periods
        for name, period in (("first_period", periods[0]), ("last_period", periods[-1])):
            years = period.start_year - self.base_year
            if abs(years) > MAX_YEARS_FROM_BASE:
                raise ValueError(
                    f"{name} {period} is {abs(years):,.0f} years from base_year "
                    f"{self.base_year:g}; expected periods within {MAX_YEARS_FROM_BASE} years"
                )
        rate = 1.0 + self.discount_rate_frac_per_year
        end = periods[-1].start_year + periods[-1].years + self.opex_tail_years
        for when in (periods[0].start_year, end):
            factor = rate ** -(when - self.base_year)
            if not 1 / MAX_DISCOUNT_FACTOR <= factor <= MAX_DISCOUNT_FACTOR:
                raise ValueError(
                    f"discount factor {factor:.3g} in {when:g} (rate "
                    f"{self.discount_rate_frac_per_year:g} a year, base_year "
                    f"{self.base_year:g}); expected factors between "
                    f"{1 / MAX_DISCOUNT_FACTOR:g} and {MAX_DISCOUNT_FACTOR:g}: a rate like 0.08 "
                    "and dates near base_year"
                )
        return self

    @property
    def periods(self) -> list[Period]:
        first, last = Period.parse(self.first_period), Period.parse(self.last_period)
        return [first + i for i in range(last - first + 1)]


class Portfolio(StrictModel):
    target_it_mw_by_period: dict[PeriodLabel, Annotated[float, Field(ge=0.0, le=1e6)]]
    """Cumulative IT MW that must be online in each period of the horizon (non-decreasing)."""
    block_it_mw: float | None = Field(default=None, ge=MIN_CAPACITY_MW, le=MAX_SITE_IT_MW)
    """Size of one hall in MW IT; capacity comes in whole blocks. Absent: continuous."""
    accelerator_supply_it_mw_per_period: float | None = Field(
        default=None, ge=MIN_CAPACITY_MW, le=1e6
    )
    """Most IT MW of accelerators that can be delivered and energized in one period."""
    construction_lead_periods: int = Field(ge=0, le=40)
    """Periods from a site's earliest (permitted) period to its first energized block."""
    requires_liquid_cooling: bool
    """The platform's racks are liquid-cooled (Vera Rubin ~120-190 kW/rack)."""
    it_load_factor_frac: float = Field(gt=0.0, le=1.0)
    """Average IT draw as a share of installed IT MW (energy); peak draw uses 1.0."""

    @field_validator("target_it_mw_by_period")
    @classmethod
    def _non_decreasing(cls, targets: dict[str, float]) -> dict[str, float]:
        items = sorted(targets.items(), key=lambda kv: Period.parse(kv[0]))
        for (p0, v0), (p1, v1) in itertools.pairwise(items):
            if v1 < v0:
                raise ValueError(
                    f"target falls from {v0:g} MW in {p0} to {v1:g} MW in {p1}; expected "
                    f"cumulative targets, non-decreasing over time"
                )
        return targets


class ObjectiveSettings(StrictModel):
    energy_weight_usd_per_mwh: float = Field(default=0.0, ge=0.0, le=1e4)
    """Extra weight on each MWh bought (undiscounted), to trade cost against energy."""
    carbon_price_usd_per_t: float = Field(default=0.0, ge=0.0, le=1e4)
    """Price on each t CO2e of the energy bought (a carbon tax or an internal price), an
    operating cost discounted like energy (cost term ``carbon``)."""


class CleanEnergy(StrictModel):
    cfe_target_frac: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of the grid energy the campuses buy in each period that must be matched, hour
    by hour and in the same zone, by clean-energy contracts (``clean_contracts.csv``): a
    24/7 carbon-free energy target. 0: contracts are signed only where they pay."""


class RepresentativeDays(StrictModel):
    typical_days: int = Field(ge=1, le=365)
    """Number of typical days tsam clusters the year into."""
    keep_extreme_days: bool = True
    """Add the hottest dry-bulb and wet-bulb day of each weather station and the highest
    price day of each zone as days of their own, so peak draw is sized on the design day."""


class Latency(StrictModel):
    fiber_route_factor: float = Field(default=1.5, ge=1.0, le=5.0)
    """Fiber route length over great-circle distance."""
    fiber_km_per_ms: float = Field(default=200.0, gt=0.0, le=300.0)
    """Signal speed in fiber (about two thirds of c), km per ms, one way."""


class SolverSettings(StrictModel):
    time_limit_s: float = Field(default=600.0, gt=0.0, le=7 * 24 * 3600)
    mip_gap_frac: float = Field(default=0.01, ge=0.0, le=1.0)
    threads: int = Field(default=1, ge=1, le=256)
    random_seed: int = Field(default=0, ge=0, le=2**31 - 1)


class ScenarioConfig(StrictModel):
    """Contents of ``scenario.yaml``."""

    name: ScenarioName
    """Names the plan folder (``out/<name>`` by default), so a name and never a path: no
    ``/`` or ``\\``, not only dots, no control characters, at most 100 characters."""
    description: str = ""
    horizon: Horizon
    portfolio: Portfolio
    objective: ObjectiveSettings = ObjectiveSettings()
    representative_days: RepresentativeDays | None = None
    """Reduce 8,760-hour profiles with tsam. Absent: profiles are already representative
    hours and ``profiles/hour_weights.csv`` gives each hour's weight (hours per year)."""
    solver: SolverSettings = SolverSettings()
    clean_energy: CleanEnergy = CleanEnergy()
    """Hourly-matched clean-energy target, with ``clean_contracts.csv``."""
    latency: Latency = Latency()
    """How round-trip latency follows from distance: 2 x km x route factor / km per ms."""

    @model_validator(mode="after")
    def _targets_cover_horizon(self) -> ScenarioConfig:
        horizon = {p.label for p in self.horizon.periods}
        given = set(self.portfolio.target_it_mw_by_period)
        if missing := sorted(horizon - given):
            raise ValueError(
                f"portfolio.target_it_mw_by_period misses {', '.join(missing)}; "
                f"expected a target for every period of the horizon"
            )
        if extra := sorted(given - horizon):
            raise ValueError(
                f"portfolio.target_it_mw_by_period has periods outside the horizon: "
                f"{', '.join(extra)}"
            )
        return self


# --------------------------------------------------------------------------- CSV tables


class SiteRow(StrictModel):
    """One candidate campus (``sites.csv``)."""

    site_id: Identifier
    name: str = Field(min_length=1)
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    zone_id: Identifier
    """Grid zone the campus draws from (``zones.csv``)."""
    weather_id: Identifier
    """Column of the weather profiles (dry-bulb and wet-bulb) for this campus."""
    min_it_mw: float = Field(ge=0.0, le=MAX_SITE_IT_MW)
    """Smallest campus worth opening, IT MW, reached by the end of the horizon."""
    max_it_mw: float = Field(ge=MIN_CAPACITY_MW, le=MAX_SITE_IT_MW)
    """Largest campus the land and permits allow, IT MW."""
    development_capex_musd: float = Field(ge=0.0, le=1e5)
    """Fixed cost of opening: land, campus substation, site works, million USD."""
    building_capex_musd_per_mw: float = Field(ge=0.0, le=1e3)
    """Shell and electrical fit-out per MW IT, excluding cooling, million USD/MW."""
    earliest_period: PeriodLabel
    """Period from which construction may start (permits, land in hand)."""
    headroom_mw: float = Field(ge=0.0, le=2 * MAX_SITE_IT_MW)
    """Existing firm interconnection headroom for facility draw, MW."""
    headroom_period: PeriodLabel
    """Period from which that headroom is available."""
    water_limit_m3_per_year: float | None = Field(default=None, ge=0.0, le=1e10)
    """Annual water the campus may consume, m3/year. Empty: unlimited."""
    water_price_usd_per_m3: float = Field(ge=0.0, le=1e3)

    @field_validator("max_it_mw")
    @classmethod
    def _at_least_min(cls, max_it_mw: float, info: ValidationInfo) -> float:
        min_it_mw = info.data.get("min_it_mw")
        if min_it_mw is not None and max_it_mw < min_it_mw:
            raise ValueError(f"below min_it_mw {min_it_mw:g}; expected at least min_it_mw")
        return max_it_mw


class ZoneRow(StrictModel):
    """One grid zone (``zones.csv``): price and carbon profiles are its columns."""

    zone_id: Identifier
    name: str = Field(min_length=1)
    region: str = Field(min_length=1)
    """Grid region / ISO the zone belongs to (reporting only)."""
    import_limit_mw: float | None = Field(default=None, ge=0.0, le=1e6)
    """Shared limit on the coincident facility draw of all campuses in the zone, MW.
    Empty: no zonal limit."""


class UpgradeRow(StrictModel):
    """One interconnection upgrade option (``upgrades.csv``), built at most once."""

    upgrade_id: Identifier
    site_id: Identifier
    name: str = Field(min_length=1)
    added_mw: float = Field(ge=MIN_CAPACITY_MW, le=2 * MAX_SITE_IT_MW)
    """Firm headroom the upgrade adds, MW."""
    capex_musd: float = Field(ge=0.0, le=1e5)
    lead_periods: int = Field(ge=0, le=80)
    """Earliest in service: this many periods after the first period of the horizon."""


class CoolingRow(StrictModel):
    """One cooling technology (``cooling_technologies.csv``)."""

    cooling_id: Identifier
    name: str = Field(min_length=1)
    capex_musd_per_mw: float = Field(ge=0.0, le=1e3)
    """Cooling plant capex per MW IT, million USD/MW."""
    serves_liquid_racks: bool
    pue_ambient: Ambient
    """Ambient temperature that drives PUE (dry-bulb or wet-bulb)."""
    wue_ambient: Ambient
    """Ambient temperature that drives WUE."""
    max_dry_bulb_c: float | None = Field(default=None, ge=-50, le=70)
    """Highest design dry-bulb the plant can reject heat at. Empty: no limit."""
    max_wet_bulb_c: float | None = Field(default=None, ge=-50, le=50)
    """Highest design wet-bulb the plant can reject heat at. Empty: no limit."""


class CoolingCurveRow(StrictModel):
    """One breakpoint of a piecewise-linear PUE or WUE curve (``cooling_curves.csv``).
    Between breakpoints values are interpolated; beyond the ends they stay flat."""

    cooling_id: Identifier
    quantity: Literal["pue", "wue_l_per_kwh"]
    ambient_c: float = Field(ge=-60, le=70)
    value: float = Field(ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _pue_at_least_one(self) -> CoolingCurveRow:
        if self.quantity == "pue" and self.value < 1.0:
            raise ValueError(f"PUE {self.value:g} is below 1")
        return self


class DemandRegionRow(StrictModel):
    """One region of inference users (``demand_regions.csv``, optional)."""

    region_id: Identifier
    name: str = Field(min_length=1)
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    latency_limit_ms: float = Field(gt=0.0, le=1000.0)
    """Largest round-trip network latency to a serving campus, ms."""
    network_cost_usd_per_mw_year_per_1000km: float = Field(ge=0.0, le=1e7)
    """Network cost of serving one MW of inference for a year, per 1,000 km of great-circle
    distance (used where ``serving.csv`` gives no cost for the pair)."""


class InferenceDemandRow(StrictModel):
    """Inference IT MW a region needs served in a period (``inference_demand.csv``)."""

    region_id: Identifier
    period: PeriodLabel
    inference_it_mw: float = Field(ge=0.0, le=1e6)


class ServingRow(StrictModel):
    """A given latency and network cost for a (region, campus) pair (``serving.csv``,
    optional); pairs not listed are computed from great-circle distance."""

    region_id: Identifier
    site_id: Identifier
    latency_ms: float = Field(ge=0.0, le=1000.0)
    network_cost_usd_per_mw_year: float = Field(ge=0.0, le=1e8)


class FlexibleConnectionRow(StrictModel):
    """A non-firm (curtailable) headroom tier at a campus (``flexible_connections.csv``,
    optional): the campus may draw up to ``nonfirm_mw`` above its firm headroom, except in
    the grid's stressed hours, when it is curtailed down to its firm supply."""

    site_id: Identifier
    nonfirm_mw: float = Field(ge=MIN_CAPACITY_MW, le=2 * MAX_SITE_IT_MW)
    """Facility MW the campus may draw above its firm headroom outside stressed hours."""
    curtailment_budget_frac: float = Field(gt=0.0, le=0.1)
    """Share of the year in which the grid may curtail the campus (0.0025 = 0.25 %, about
    22 h). The stressed hours are the zone's highest-price representative hours, taken while
    their weight fits in this share, so a fully curtailed campus stays within the budget."""
    lost_compute_usd_per_mwh: float = Field(gt=0.0, le=1e5)
    """Value of the IT energy not served while curtailed, USD per MWh of IT energy (above
    zero: free curtailment would leave the hours shed arbitrary)."""


class OnsitePowerRow(StrictModel):
    """One on-site (behind-the-meter) power option at a campus (``onsite_power.csv``,
    optional): reciprocating engines, aeroderivative turbines, fuel cells. Its capacity
    counts as firm supply at the campus, so blocks can energize before the grid upgrade
    arrives; its output is dispatched hour by hour against the grid price."""

    option_id: Identifier
    site_id: Identifier
    technology: str = Field(min_length=1)
    max_mw: float = Field(ge=MIN_CAPACITY_MW, le=2 * MAX_SITE_IT_MW)
    """Permitted capacity, MW."""
    capex_musd_per_mw: float = Field(ge=0.0, le=1e2)
    """Paid on each MW added, million USD/MW."""
    fixed_cost_musd_per_mw_year: float = Field(ge=0.0, le=10.0)
    """Fixed O&M or lease per MW installed and year, million USD/MW-year."""
    heat_rate_mmbtu_per_mwh: float = Field(ge=0.0, le=30.0)
    """Fuel burnt per MWh generated (HHV), MMBtu/MWh."""
    fuel_price_usd_per_mmbtu: float = Field(ge=0.0, le=200.0)
    variable_om_usd_per_mwh: float = Field(ge=0.0, le=1e3)
    emissions_kg_per_mmbtu: float = Field(ge=0.0, le=200.0)
    """CO2 per MMBtu of fuel (natural gas 53.06, EPA)."""
    lead_periods: int = Field(ge=0, le=80)
    """Earliest in service: this many periods after the first period of the horizon
    (equipment delivery and permits)."""
    permit_tco2_per_year: float | None = Field(default=None, ge=0.0, le=1e8)
    """Air-permit limit on the option's emissions, t CO2 per year. Empty: none."""


class CleanContractRow(StrictModel):
    """A clean-energy contract on offer in a zone (``clean_contracts.csv``, optional): a
    virtual PPA for up to ``max_mw`` of a solar or wind plant whose hourly output per MW is
    the contract's column of ``profiles/capacity_factor_frac.csv``. It settles as a contract
    for difference: the buyer pays the strike price and sells the output at the zone's price;
    its output matches the zone's campus load hour by hour."""

    contract_id: Identifier
    zone_id: Identifier
    technology: str = Field(min_length=1)
    max_mw: float = Field(ge=MIN_CAPACITY_MW, le=1e5)
    """Plant capacity on offer, MW."""
    price_usd_per_mwh: float = Field(ge=0.0, le=1e3)
    """Strike price per MWh of output."""
    lead_periods: int = Field(ge=0, le=80)
    """Earliest delivery: this many periods after the first period of the horizon."""


TABLES: dict[str, type[StrictModel]] = {
    "sites.csv": SiteRow,
    "zones.csv": ZoneRow,
    "upgrades.csv": UpgradeRow,
    "cooling_technologies.csv": CoolingRow,
    "cooling_curves.csv": CoolingCurveRow,
}
"""Every CSV table of a scenario folder and the model of its rows."""

OPTIONAL_TABLES: dict[str, type[StrictModel]] = {
    "demand_regions.csv": DemandRegionRow,
    "inference_demand.csv": InferenceDemandRow,
    "serving.csv": ServingRow,
    "flexible_connections.csv": FlexibleConnectionRow,
    "onsite_power.csv": OnsitePowerRow,
    "clean_contracts.csv": CleanContractRow,
}
"""Tables a scenario may leave out (no file: the concern is absent from the model)."""

PROFILES: dict[str, str] = {
    "price_usd_per_mwh": "zone",
    "carbon_kg_per_mwh": "zone",
    "dry_bulb_c": "weather",
    "wet_bulb_c": "weather",
}
"""Hourly profiles (``profiles/<name>.csv``) and what their columns are ids of."""

OPTIONAL_PROFILES: dict[str, str] = {"capacity_factor_frac": "contract"}
"""Profiles a scenario may leave out (with ``clean_contracts.csv``)."""

PROFILE_BOUNDS: dict[str, tuple[float, float]] = {
    "price_usd_per_mwh": (-1e4, 1e5),
    "carbon_kg_per_mwh": (0.0, 3e3),
    "dry_bulb_c": (-60.0, 65.0),
    "wet_bulb_c": (-60.0, 45.0),
    "capacity_factor_frac": (0.0, 1.0),
}
