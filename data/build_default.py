#!/usr/bin/env python3
"""Build the bundled default gridsite scenario (``data/default/``) from ``data/raw/``.

Run from the repository root::

    python data/build_default.py

or call :func:`main` with other folders. Only numpy, pandas and pyyaml are used and the
output is deterministic: the same raw files give byte-identical scenario files.

Every rule constant names its unit and points (``SOURCES.md §x``) to the section of
``data/SOURCES.md`` that traces it to a raw file / citation or states it is an assumption.
"""

from __future__ import annotations

import csv
import itertools
import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_RAW_DIR = HERE / "raw"
DEFAULT_OUT_DIR = HERE / "default"
#: The build's own tables (markets, grid classes, zones, cooling designs); see SOURCES.md §12.
TABLES_DIR = HERE / "tables"


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of ``data/tables/<name>`` as strings (an empty cell is "")."""
    with open(TABLES_DIR / name, newline="") as f:
        return list(csv.DictReader(f))


# ============================================================================ time axis (§1)

HOURS_PER_YEAR = 8760
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])  # non-leap year
DAYS_BEFORE_MONTH = np.concatenate([[0], np.cumsum(DAYS_IN_MONTH)[:-1]])
MONTH_OF_HOUR = np.repeat(np.arange(1, 13), DAYS_IN_MONTH * 24)  # calendar month of each hour
HOUR_OF_DAY = np.tile(np.arange(24), 365)

# ============================================================================ prices (§2)

PRICE_YEAR_PRIMARY = 2024  # SOURCES.md §2.1: the most recent full ISO year
PRICE_YEAR_FALLBACK = 2023  # SOURCES.md §2.1: same month of the previous year
MIN_MONTH_COVERAGE_FRAC = 0.95  # SOURCES.md §2.1: a month is usable if >=95% of hours present
MAX_LINEAR_GAP_HOURS = 3  # SOURCES.md §2.1: longer gaps get the month's mean diurnal value

PJM_NEIGHBOUR_SERIES = "MISO_INDIANA_HUB"  # SOURCES.md §2.2: full-year neighbour shape
MIN_PJM_OVERLAP_HOURS = 720  # SOURCES.md §2.2: 30 days of hour-by-hour overlap needed
ICE_PJM_WEST_HUB = "PJM WH Real Time Peak"  # SOURCES.md §2.2: fallback level ratio
ICE_INDIANA_HUB = "Indiana Hub RT Peak"
ICE_PJM_WESTERN_COLUMN = "PJM_WESTERN_HUB"

# SOURCES.md §2.3: ICE hub -> (hourly shape of the nearest CAISO zone, ICE index of that zone)
ICE_HUB_CAISO_PROXY: dict[str, tuple[str, str]] = {
    "Palo Verde Peak": ("CAISO_SP15", "SP15 EZ Gen DA LMP Peak"),
    "Mid C Peak": ("CAISO_NP15", "NP15 EZ Gen DA LMP Peak"),
}
# SOURCES.md §2.3: sites priced at the NP15 ICE index use the CAISO NP15 hourly series itself
ICE_DIRECT_CAISO: dict[str, str] = {"NP15 EZ Gen DA LMP Peak": "CAISO_NP15"}

# ============================================================================ grid facts (§5)

# (region, metric) keys of grid/region_large_load_context.csv that the rules read
FACT_DOMINION_NEW_HEADROOM_GW = ("PJM-Dominion", "headroom added by two new 500 kV lines")
FACT_DOMINION_PIPELINE_GW = ("PJM-Dominion", "data center capacity in contracting stages")
FACT_DOMINION_EXAMPLE_MUSD = ("PJM-Dominion", "example: 230 kV lines for a 900 MW campus")
FACT_ERCOT_QUEUE_GW = ("ERCOT", "large-load interconnection requests under study")
FACT_ERCOT_QUEUE_AS_OF = "2025-11"
FACT_ERCOT_REALIZATION_PCT = ("ERCOT", "historical realization of TSP-forecast")
FACT_ERCOT_NEW_GENERATION_GW = ("ERCOT", "new generation capacity added 2024-2025")
ERCOT_NEW_GENERATION_YEARS = 2.0  # SOURCES.md §5.2: the 23 GW were added over 2024-2025
FACT_MISO_LRTP_BUSD = ("MISO", "LRTP Tranche 2.1 portfolio cost")
MISO_LRTP_LINE_MILES = 4000.0  # SOURCES.md §7: ~4,000 line-miles of Tranche 2.1 (FIGURES.md §4)
DOMINION_EXAMPLE_MW = 900.0  # SOURCES.md §7: campus size of the Dominion 121 M USD example
DOMINION_EXAMPLE_ROUTE_MILES = 7.0  # SOURCES.md §7: 7 miles of 230 kV double circuit

# SOURCES.md §5.2: PJM outside Dominion has no zonal figure: assumption
PJM_OTHER_DELIVERABLE_FRAC = 0.20
# SOURCES.md §5.2: regions without a published stress figure: assumption
DEFAULT_DELIVERABLE_FRAC = 0.60
DESIGN_PUE = 1.25  # SOURCES.md §5.2: facility MW per IT MW used for sizing rules (assumption)
ZONE_LIMIT_ROUNDING_MW = 100.0  # SOURCES.md §5.2

# ============================================================================ sites (§6)

FIRST_PERIOD = "2026H2"  # SOURCES.md §9
LAST_PERIOD = "2030H2"
CONSTRUCTION_LEAD_PERIODS = 1  # SOURCES.md §9
LAST_HEADROOM_PERIOD = "2028H2"  # SOURCES.md §6.4: headroom periods run 2026H2..2028H2
# SOURCES.md §6.3: gigawatt campuses under construction in 2025-26
# SOURCES.md §6.3, §6.5, §6.6: per market its max-IT tier, whether it is under construction
# or a mature market that may start early, and whether it gets a second campus <market>_2
MARKETS = read_table("markets.csv")
UNDER_CONSTRUCTION = tuple(m["market"] for m in MARKETS if m["start_class"] == "under_construction")
MATURE_EARLY = tuple(m["market"] for m in MARKETS if m["start_class"] == "mature_early")
EARLY_PERIOD = "2026H1"
HEADROOM_UNDER_CONSTRUCTION_MW = 800.0  # SOURCES.md §6.4 (assumption)
HEADROOM_MATURE_EARLY_MW = 500.0  # SOURCES.md §6.4 (assumption)
SECOND_CAMPUS_MARKETS = tuple(m["market"] for m in MARKETS if m["second_campus"] == "yes")
SECOND_CAMPUS_DELAY_PERIODS = 2  # SOURCES.md §6.5: second parcel permitted one year later
SECOND_CAMPUS_HEADROOM_FRAC = 0.5  # SOURCES.md §6.5: half the first campus's headroom
SECOND_CAMPUS_MAX_IT_REDUCTION_MW = 500.0  # SOURCES.md §6.6
HEADROOM_ROUNDING_MW = 50.0

MIN_IT_MW = 200.0  # SOURCES.md §6.6 (brief: smallest campus worth opening)
# SOURCES.md §6.6: max IT MW by pipeline tier (assumption)
MAX_IT_TIER_A_MW = 2000.0
MAX_IT_TIER_B_MW = 1500.0
MAX_IT_TIER_C_MW = 1000.0
TIER_A_MARKETS = tuple(m["market"] for m in MARKETS if m["max_it_tier"] == "A")
TIER_B_MARKETS = tuple(m["market"] for m in MARKETS if m["max_it_tier"] == "B")

# SOURCES.md §6.7: Cushman & Wakefield Data Center Development Cost Guide 2025
CW_AVERAGE_COST_MUSD_PER_MW = 11.7
CW_CRITICAL_CAPACITY_FRAC = 0.53  # electrical + mechanical share of construction cost
MECHANICAL_SHARE_OF_CRITICAL_FRAC = 0.40  # SOURCES.md §6.7: assumption
CW_SAN_ANTONIO_MUSD_PER_MW = 9.3  # lowest of 19 markets (Texas markets are the lowest three)
CW_RENO_MUSD_PER_MW = 15.0  # highest of 19 markets
TEXAS_STATE = "TX"
RENO_SITE = "reno_nv"
CW_LAND_USD_PER_ACRE = 244_000.0  # SOURCES.md §6.8: C&W 2024 weighted average land price
CW_PARCEL_ACRES = 224.0  # SOURCES.md §6.8: C&W 2024 average parcel
PARCEL_IT_MW = 1000.0  # SOURCES.md §6.8: assumption: one average parcel carries ~1 GW IT

# SOURCES.md §6.9: state Aqueduct 3.0 category code -> water limit and price (assumption)
WATER_LIMIT_M3_PER_YEAR_BY_CODE = {0: 8.0e6, 1: 4.0e6, 2: 2.0e6, 3: 1.0e6, 4: 0.4e6}
WATER_PRICE_USD_PER_M3_BY_CODE = {0: 0.8, 1: 1.2, 2: 1.8, 3: 2.7, 4: 4.0}

# ============================================================================ upgrades (§7)

TIER1_ADDED_MW = 500.0  # SOURCES.md §7: 230 kV radial supply + substation expansion
TIER1_ROUTE_MILES = DOMINION_EXAMPLE_ROUTE_MILES
TIER2_ADDED_MW = 1500.0  # SOURCES.md §7: new 345/500 kV line + substation
TIER2_ROUTE_MILES = 30.0  # SOURCES.md §7: assumption
TRANSFORMER_LEAD_WEEKS = 128.0  # SOURCES.md §7: Wood Mackenzie Q2 2025 average
WEEKS_PER_PERIOD = 26.0
TIER1_LEAD_REDUCTION_EARLY_PERIODS = 1  # SOURCES.md §7: transformers already on order

# ============================================================================ cooling (§8)

COOLING_CAPEX_ENVELOPE_MUSD_PER_MW = (
    CW_AVERAGE_COST_MUSD_PER_MW * CW_CRITICAL_CAPACITY_FRAC * MECHANICAL_SHARE_OF_CRITICAL_FRAC
)
BUILDING_CAPEX_MUSD_PER_MW = CW_AVERAGE_COST_MUSD_PER_MW - COOLING_CAPEX_ENVELOPE_MUSD_PER_MW
ELECTRICAL_LOSS_FRAC = 0.05  # SOURCES.md §8.2: UPS + transformers + distribution (assumption)
CARNOT_EFFICIENCY_FRAC = 0.50  # SOURCES.md §8.2: chiller COP / Carnot COP (assumption)
MIN_LIFT_K = 5.0  # SOURCES.md §8.2: smallest compressor lift considered
KELVIN_OFFSET = 273.15
LATENT_HEAT_MJ_PER_KG = 2.45  # SOURCES.md §8.3: water at ~20-30 C
MJ_PER_KWH = 3.6
LITRES_PER_KWH_HEAT = MJ_PER_KWH / LATENT_HEAT_MJ_PER_KG  # ~1.47 L evaporated per kWh
TOWER_CYCLES_OF_CONCENTRATION = 4.0  # SOURCES.md §8.3: blowdown = evaporation / (COC - 1)
CURVE_VALUE_DECIMALS = 3
CURVE_MIN_AMBIENT_C = -20.0
CURVE_MAX_AMBIENT_C = 50.0
SUMMARY_STATIONS = ("724030", "722660", "722780", "727827")  # Dulles, Abilene, Phoenix, Quincy


@dataclass(frozen=True)
class CoolingDesign:
    """Parameters of the bin model of one cooling technology (SOURCES.md §8)."""

    cooling_id: str
    name: str
    capex_multiplier: float  # x COOLING_CAPEX_ENVELOPE_MUSD_PER_MW
    serves_liquid_racks: bool
    pue_ambient: str  # "dry_bulb" | "wet_bulb"
    wue_ambient: str
    max_dry_bulb_c: float | None
    max_wet_bulb_c: float | None
    it_side_frac: float  # room fans (air racks) or CDU pumps + residual air (liquid), x IT
    reject_fan_frac: tuple[float, float]  # heat-rejection fans/pumps at ramp start / end, x IT
    reject_fan_ramp_c: tuple[float, float]
    chiller_share_max_frac: float  # share of heat on compressors when fully mechanical
    chiller_ramp_c: tuple[float, float]  # compressors start / carry the full share
    evaporator_c: float  # refrigerant evaporating temperature
    condenser_approach_k: float  # condensing temperature above the driving ambient
    water_mode: str  # "none" | "adiabatic" | "tower"
    water_ramp_c: tuple[float, float]
    water_frac: tuple[float, float]  # adiabatic: L/kWh at ramp start/end; tower: latent share
    breakpoints_c: tuple[float, ...]

    @property
    def rating_c(self) -> float:
        """Highest ambient the plant is rated for; curves stay flat above it."""
        rating = self.max_dry_bulb_c if self.pue_ambient == "dry_bulb" else self.max_wet_bulb_c
        return CURVE_MAX_AMBIENT_C if rating is None else rating


#: SOURCES.md §8: the bin-model parameters of each technology, in data/tables/cooling_designs.yaml
COOLING_DESIGNS: tuple[CoolingDesign, ...] = tuple(
    CoolingDesign(**{k: tuple(v) if isinstance(v, list) else v for k, v in design.items()})
    for design in yaml.safe_load((TABLES_DIR / "cooling_designs.yaml").read_text())
)

# ============================================================================ scenario (§9)

TARGET_IT_MW_BY_PERIOD = {  # SOURCES.md §9 (brief)
    "2026H2": 1000,
    "2027H1": 2000,
    "2027H2": 3000,
    "2028H1": 4500,
    "2028H2": 6000,
    "2029H1": 7000,
    "2029H2": 8000,
    "2030H1": 9000,
    "2030H2": 10000,
}
DISCOUNT_RATE_FRAC_PER_YEAR = 0.08  # SOURCES.md §9: assumption
BASE_YEAR = 2026.5
# SOURCES.md §9: assumption -- energy and water keep being bought after 2030H2; 15 years is a
# common service life of a campus's electrical and mechanical plant (IT is refreshed inside it).
OPEX_TAIL_YEARS = 15.0
BLOCK_IT_MW = 100
ACCELERATOR_SUPPLY_IT_MW_PER_PERIOD = 2000
IT_LOAD_FACTOR_FRAC = 0.8  # SOURCES.md §9: assumption
TYPICAL_DAYS = 12
SOLVER = {"time_limit_s": 120, "mip_gap_frac": 0.01, "threads": 1, "random_seed": 0}

# ============================================================================ zones (§5)


@dataclass(frozen=True)
class GridClass:
    """Interconnection rules shared by the zones of one grid class (SOURCES.md §5-§7)."""

    name: str
    earliest_period: str  # permitted start for campuses that are not early (SOURCES.md §6.3)
    headroom_mw: float  # existing firm headroom of a first campus (SOURCES.md §6.4)
    tier2_lead_periods: int  # new 345/500 kV line (SOURCES.md §7)


GRID_CLASSES: dict[str, GridClass] = {  # SOURCES.md §6.3, §6.4, §7 (assumptions)
    g["grid_class"]: GridClass(
        g["grid_class"], g["earliest_period"], float(g["headroom_mw"]), int(g["tier2_lead_periods"])
    )
    for g in read_table("grid_classes.csv")
}


@dataclass(frozen=True)
class ZoneSpec:
    zone_id: str
    name: str
    region: str
    grid_class: str


# Key: (price_proxy_series, egrid_subregion, utility for non-ISO sites / "" for ISO sites).
# SOURCES.md §5.1: one zone per (price series, eGRID subregion), split by utility outside ISOs.
ZONE_SPECS: dict[tuple[str, str, str], ZoneSpec] = {
    (z["price_series"], z["egrid_subregion"], z["utility"]): ZoneSpec(
        z["zone_id"], z["name"], z["region"], z["grid_class"]
    )
    for z in read_table("zone_specs.csv")
}

# ============================================================================ data classes


@dataclass(frozen=True)
class RawInputs:
    """The raw tables the build reads (SOURCES.md §10)."""

    prices: dict[int, pd.DataFrame]  # ISO hourly prices by year, UTC index
    pjm_q3: pd.DataFrame
    ice: pd.DataFrame
    candidates: pd.DataFrame
    stations: pd.DataFrame  # indexed by USAF id (string)
    egrid: pd.DataFrame  # indexed by eGRID subregion
    water: pd.DataFrame
    facts: pd.DataFrame


@dataclass(frozen=True)
class CurvePoint:
    cooling_id: str
    quantity: str  # "pue" | "wue_l_per_kwh"
    ambient_c: float
    value: float


@dataclass(frozen=True)
class SpliceRecord:
    """Which months of a spliced price series came from which year (SOURCES.md §2.1)."""

    months_fallback_year: tuple[int, ...]
    months_below_threshold: tuple[int, ...]  # neither year complete: best year used
    filled_hours: int


@dataclass(frozen=True)
class ZoneData:
    spec: ZoneSpec
    price_key: tuple[str, str, str]
    utc_offset_h: int
    egrid_subregion: str
    site_ids: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    market: str
    state: str
    latitude_deg: float
    longitude_deg: float
    zone_id: str
    weather_id: str
    grid_class: str
    is_second_campus: bool
    early: bool
    min_it_mw: float
    max_it_mw: float
    development_capex_musd: float
    building_capex_musd_per_mw: float
    earliest_period: str
    headroom_mw: float
    headroom_period: str
    water_limit_m3_per_year: float
    water_price_usd_per_m3: float


@dataclass(frozen=True)
class Upgrade:
    upgrade_id: str
    site_id: str
    name: str
    added_mw: float
    capex_musd: float
    lead_periods: int


# ============================================================================ periods


def period_ordinal(label: str) -> int:
    """Half-year label ``2026H2`` -> ordinal (half-years since year 0)."""
    year, half = label.split("H")
    return int(year) * 2 + int(half) - 1


def period_label(ordinal: int) -> str:
    year, half = divmod(ordinal, 2)
    return f"{year}H{half + 1}"


def horizon_labels() -> list[str]:
    first, last = period_ordinal(FIRST_PERIOD), period_ordinal(LAST_PERIOD)
    return [period_label(o) for o in range(first, last + 1)]


def horizon_years() -> float:
    """Length of the horizon in years (2026H2..2030H2 = 4.5)."""
    return len(horizon_labels()) / 2.0


# ============================================================================ reading raw files


def read_utc_prices(path: Path) -> pd.DataFrame:
    """Hourly price table indexed by the UTC hour-beginning timestamp."""
    frame = pd.read_csv(path)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("hour_beginning_utc"), utc=True))
    return frame


def load_inputs(raw: Path) -> RawInputs:
    prices = {
        year: read_utc_prices(raw / f"prices/us_iso_rt_lmp_hourly_{year}.csv")
        for year in (PRICE_YEAR_PRIMARY, PRICE_YEAR_FALLBACK)
    }
    return RawInputs(
        prices=prices,
        pjm_q3=read_utc_prices(raw / "prices/pjm_hub_rt_lmp_hourly_2023Q3.csv"),
        ice=pd.read_csv(raw / "prices/ice_onpeak_bilateral_monthly_2025.csv"),
        candidates=pd.read_csv(raw / "sites/candidate_sites.csv", dtype={"weather_usaf": str}),
        stations=pd.read_csv(raw / "weather/tmy3_stations.csv", dtype={"usaf": str}).set_index(
            "usaf"
        ),
        egrid=pd.read_csv(raw / "carbon/egrid2023_subregion_co2e_output_rates.csv").set_index(
            "egrid_subregion"
        ),
        water=pd.read_csv(raw / "water/us_state_baseline_water_stress_aqueduct30.csv"),
        facts=read_grid_facts(raw / "grid/region_large_load_context.csv"),
    )


def read_grid_facts(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"as_of": str})


def grid_fact(facts: pd.DataFrame, key: tuple[str, str], as_of: str | None = None) -> float:
    """Value of the one fact whose region matches and whose metric starts with key[1]."""
    region, metric = key
    rows = facts[(facts["region"] == region) & facts["metric"].str.startswith(metric)]
    if as_of is not None:
        rows = rows[rows["as_of"] == as_of]
    if len(rows) != 1:
        raise ValueError(f"expected one grid fact for {key} as of {as_of}, found {len(rows)}")
    return float(rows["value"].iloc[0])


def read_tmy3(path: Path) -> pd.DataFrame:
    """One TMY3 station on the hour axis: columns dry_bulb_c and wet_bulb_c."""
    frame = pd.read_csv(path)
    index = hour_index(
        frame["month"].to_numpy(), frame["day"].to_numpy(), frame["hour_ending_lst"].to_numpy() - 1
    )
    if sorted(index.tolist()) != list(range(HOURS_PER_YEAR)):
        raise ValueError(f"{path} does not cover the 8,760 hours exactly once")
    out = pd.DataFrame(
        {
            "dry_bulb_c": frame["dry_bulb_c"].to_numpy(),
            "wet_bulb_c": frame["wet_bulb_c_derived"].to_numpy(),
        },
        index=index,
    )
    return out.sort_index()


# ============================================================================ hour axis


def hour_index(month: np.ndarray, day: np.ndarray, hour0: np.ndarray) -> np.ndarray:
    """Hour of a non-leap year: (day_of_year - 1) * 24 + hour beginning (0..23)."""
    return (DAYS_BEFORE_MONTH[np.asarray(month) - 1] + np.asarray(day) - 1) * 24 + hour0


def to_local_axis(series: pd.Series, utc_offset_h: int, year: int) -> np.ndarray:
    """UTC hour-beginning series -> 8,760 values of ``year`` in local standard time.

    Hours missing in the source are NaN; 29 February of a leap year is dropped."""
    local = pd.DatetimeIndex(series.index).tz_convert(None) + pd.Timedelta(hours=utc_offset_h)
    keep = (local.year == year) & ~((local.month == 2) & (local.day == 29))
    index = hour_index(
        local.month[keep].to_numpy(), local.day[keep].to_numpy(), local.hour[keep].to_numpy()
    )
    out = np.full(HOURS_PER_YEAR, np.nan)
    out[index] = series.to_numpy()[keep]
    return out


# ============================================================================ price series


def month_coverage(values: np.ndarray, month: int) -> float:
    return float(np.isfinite(values[month == MONTH_OF_HOUR]).mean())


def splice_years(primary: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, SpliceRecord]:
    """Per month: primary year if >=95% present, else fallback if >=95%, else the fuller."""
    out = np.full(HOURS_PER_YEAR, np.nan)
    from_fallback: list[int] = []
    below: list[int] = []
    for month in range(1, 13):
        mask = month == MONTH_OF_HOUR
        cov_primary, cov_fallback = month_coverage(primary, month), month_coverage(fallback, month)
        use_fallback = cov_primary < MIN_MONTH_COVERAGE_FRAC and (
            cov_fallback >= MIN_MONTH_COVERAGE_FRAC or cov_fallback > cov_primary
        )
        if max(cov_primary, cov_fallback) < MIN_MONTH_COVERAGE_FRAC:
            below.append(month)
        if use_fallback:
            from_fallback.append(month)
        out[mask] = (fallback if use_fallback else primary)[mask]
    filled, n_filled = fill_gaps(out)
    return filled, SpliceRecord(tuple(from_fallback), tuple(below), n_filled)


def nan_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of NaN."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, missing in enumerate(np.isnan(values)):
        if missing and start is None:
            start = i
        elif not missing and start is not None:
            runs.append((start, i - start))
            start = None
    if start is not None:
        runs.append((start, len(values) - start))
    return runs


def fill_gaps(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Linear interpolation across gaps up to MAX_LINEAR_GAP_HOURS; longer gaps (and gaps at
    the ends of the year) take the mean of the same hour of day in the same month."""
    out = values.copy()
    diurnal = {
        (m, h): float(np.nanmean(values[(m == MONTH_OF_HOUR) & (h == HOUR_OF_DAY)]))
        for m in range(1, 13)
        for h in range(24)
    }
    n_filled = 0
    for start, length in nan_runs(values):
        end = start + length  # first present hour after the gap
        hours = np.arange(start, end)
        if length <= MAX_LINEAR_GAP_HOURS and start > 0 and end < HOURS_PER_YEAR:
            out[hours] = np.interp(hours, [start - 1, end], [values[start - 1], values[end]])
        else:
            out[hours] = [diurnal[(MONTH_OF_HOUR[h], HOUR_OF_DAY[h])] for h in hours]
        n_filled += length
    if not np.isfinite(out).all():
        raise ValueError("a month-hour has no data at all; cannot fill")
    return out, n_filled


def iso_series(
    prices: dict[int, pd.DataFrame], column: str, utc_offset_h: int
) -> tuple[np.ndarray, SpliceRecord]:
    """Full local-time year of an ISO column, spliced from 2024 and 2023 months."""
    primary = to_local_axis(prices[PRICE_YEAR_PRIMARY][column], utc_offset_h, PRICE_YEAR_PRIMARY)
    fallback = to_local_axis(prices[PRICE_YEAR_FALLBACK][column], utc_offset_h, PRICE_YEAR_FALLBACK)
    return splice_years(primary, fallback)


def pjm_basis_ratios(
    pjm_q3: pd.DataFrame, neighbour_2023: pd.Series, ice: pd.DataFrame
) -> tuple[dict[str, float], str, int]:
    """PJM hub / neighbour level ratio per hub (SOURCES.md §2.2).

    Measured over the hours where both the partial 2023Q3 PJM file and the neighbour's
    2023 series have a value; with too little overlap, the ICE 2025 PJM West / Indiana
    ratio sets the level and the 2023Q3 hub / Western Hub ratios the spread."""
    joined = pjm_q3.join(neighbour_2023.rename("neighbour"), how="inner").dropna()
    if len(joined) >= MIN_PJM_OVERLAP_HOURS:
        ratios = {
            hub: float(joined[hub].mean() / joined["neighbour"].mean()) for hub in pjm_q3.columns
        }
        return ratios, "hour-by-hour overlap 2023Q3", len(joined)
    west_over_indiana = ice_annual_mean(ice, ICE_PJM_WEST_HUB) / ice_annual_mean(
        ice, ICE_INDIANA_HUB
    )
    western_mean = pjm_q3[ICE_PJM_WESTERN_COLUMN].mean()
    ratios = {
        hub: float(west_over_indiana * pjm_q3[hub].mean() / western_mean) for hub in pjm_q3.columns
    }
    return ratios, "ICE 2025 PJM West / Indiana Hub (fallback)", len(joined)


def ice_monthly(ice: pd.DataFrame, hub: str) -> np.ndarray:
    """12 monthly mean on-peak prices of an ICE hub, January first."""
    rows = ice[ice["price_hub"] == hub].sort_values("delivery_month")
    months = rows["delivery_month"].str[5:7].astype(int).to_numpy()
    if months.tolist() != list(range(1, 13)):
        raise ValueError(f"ICE hub {hub!r} does not have all 12 months")
    return rows["mean_daily_wtd_avg_price_usd_per_mwh"].to_numpy(dtype=float)


def ice_annual_mean(ice: pd.DataFrame, hub: str) -> float:
    return float(ice_monthly(ice, hub).mean())


def ice_monthly_ratio(ice: pd.DataFrame, hub: str, caiso_index: str) -> np.ndarray:
    """12 monthly ratios ICE hub / ICE index of the CAISO zone (same year, same product)."""
    return np.asarray(ice_monthly(ice, hub) / ice_monthly(ice, caiso_index), dtype=float)


def scale_monthly_level(shape: np.ndarray, ratio_by_month: np.ndarray) -> np.ndarray:
    """Scale each month's mean by its ratio and keep the hourly deviations from that mean.

    Same monthly mean as ``shape x ratio`` but negative prices and spikes are not multiplied
    (April SP15 x 2.52 would turn -85 into -215 USD/MWh; SOURCES.md §2.3)."""
    out = shape.copy()
    for month in range(1, 13):
        mask = month == MONTH_OF_HOUR
        out[mask] = shape[mask] + (ratio_by_month[month - 1] - 1.0) * shape[mask].mean()
    return out


# ============================================================================ zones


def site_zone_key(row: pd.Series) -> tuple[str, str, str]:
    utility = "" if row["market_type"] == "ISO" else str(row["iso_rto_or_utility"])
    return (str(row["price_proxy_series"]), str(row["egrid_subregion"]), utility)


def build_zones(candidates: pd.DataFrame, stations: pd.DataFrame) -> list[ZoneData]:
    """Zones in order of first appearance in candidate_sites.csv."""
    offset_of_station = {str(k): int(v) for k, v in stations["utc_offset_h"].items()}
    members: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    for _, row in candidates.iterrows():
        members.setdefault(site_zone_key(row), []).append(
            (str(row["site_id"]), offset_of_station[str(row["weather_usaf"])])
        )
    out: list[ZoneData] = []
    for key, sites in members.items():
        if key not in ZONE_SPECS:
            raise KeyError(f"no zone defined for {key}")
        site_ids = [site_id for site_id, _ in sites]
        offsets = {offset for _, offset in sites}
        if len(offsets) != 1:
            raise ValueError(f"zone {key} spans several UTC offsets {offsets}")
        out.append(ZoneData(ZONE_SPECS[key], key, offsets.pop(), key[1], tuple(site_ids)))
    return out


def zone_price(
    zone: ZoneData, prices: dict[int, pd.DataFrame], pjm_ratios: dict[str, float], ice: pd.DataFrame
) -> tuple[np.ndarray, SpliceRecord, str]:
    """Hourly price of a zone in its local standard time, with a one-line recipe."""
    series = zone.price_key[0]
    if series in pjm_ratios:
        base, record = iso_series(prices, PJM_NEIGHBOUR_SERIES, zone.utc_offset_h)
        basis = pjm_ratios[series]
        return base * basis, record, f"{PJM_NEIGHBOUR_SERIES} x {basis:.3f} ({series} basis)"
    if series in ICE_DIRECT_CAISO:
        column = ICE_DIRECT_CAISO[series]
        values, record = iso_series(prices, column, zone.utc_offset_h)
        return values, record, f"{column} (hourly, for ICE {series})"
    if series in ICE_HUB_CAISO_PROXY:
        column, index = ICE_HUB_CAISO_PROXY[series]
        base, record = iso_series(prices, column, zone.utc_offset_h)
        ratio = ice_monthly_ratio(ice, series, index)
        return (
            scale_monthly_level(base, ratio),
            record,
            (
                f"{column}, monthly level x ICE 2025 '{series}' / '{index}' "
                f"({ratio.min():.2f}..{ratio.max():.2f})"
            ),
        )
    values, record = iso_series(prices, series, zone.utc_offset_h)
    return values, record, series


def deliverable_fracs(facts: pd.DataFrame) -> dict[str, float]:
    """Share of the zone's candidate campus draw deliverable by 2030, per grid class."""
    dominion = grid_fact(facts, FACT_DOMINION_NEW_HEADROOM_GW) / grid_fact(
        facts, FACT_DOMINION_PIPELINE_GW
    )
    ercot_new_gw = (
        grid_fact(facts, FACT_ERCOT_NEW_GENERATION_GW)
        / ERCOT_NEW_GENERATION_YEARS
        * horizon_years()
    )
    ercot = min(
        ercot_new_gw / grid_fact(facts, FACT_ERCOT_QUEUE_GW, FACT_ERCOT_QUEUE_AS_OF),
        grid_fact(facts, FACT_ERCOT_REALIZATION_PCT) / 100.0,
    )
    return {
        "pjm_dominion": dominion,
        "pjm": PJM_OTHER_DELIVERABLE_FRAC,
        "ercot": ercot,
        "rto": DEFAULT_DELIVERABLE_FRAC,
        "caiso": DEFAULT_DELIVERABLE_FRAC,
        "utility": DEFAULT_DELIVERABLE_FRAC,
    }


def round_to(value: float, step: float) -> float:
    return math.floor(value / step + 0.5) * step


def zone_import_limit(zone: ZoneData, sites: Sequence[Site], fracs: dict[str, float]) -> float:
    """Deliverable share x the zone's candidate campus draw at design PUE, rounded to 100 MW,
    never below the existing headroom of the zone's campuses (SOURCES.md §5.2)."""
    members = [s for s in sites if s.zone_id == zone.spec.zone_id]
    draw_mw = sum(s.max_it_mw for s in members) * DESIGN_PUE
    limit = round_to(draw_mw * fracs[zone.spec.grid_class], ZONE_LIMIT_ROUNDING_MW)
    return max(limit, sum(s.headroom_mw for s in members))


def zone_carbon(
    zones: Sequence[ZoneData], egrid: pd.DataFrame, candidates: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Flat eGRID 2023 annual average CO2e rate of the zone's subregion (SOURCES.md §3)."""
    rate = {
        str(k): float(v)
        for k, v in zip(egrid.index, egrid["total_output_co2e_kg_per_mwh"], strict=True)
    }
    for sub, listed in zip(
        candidates["egrid_subregion"], candidates["egrid2023_co2e_kg_per_mwh"], strict=True
    ):
        if abs(rate[str(sub)] - float(listed)) > 0.05:
            raise ValueError(f"eGRID {sub}: candidate_sites.csv and the eGRID file differ")
    return {z.spec.zone_id: np.full(HOURS_PER_YEAR, rate[z.egrid_subregion]) for z in zones}


# ============================================================================ sites


def max_it_mw(market: str) -> float:
    if market in TIER_A_MARKETS:
        return MAX_IT_TIER_A_MW
    if market in TIER_B_MARKETS:
        return MAX_IT_TIER_B_MW
    return MAX_IT_TIER_C_MW


def building_capex_musd_per_mw(market: str, state: str) -> float:
    """C&W average net of cooling, times the market multiplier (SOURCES.md §6.7)."""
    if state == TEXAS_STATE:
        multiplier = CW_SAN_ANTONIO_MUSD_PER_MW / CW_AVERAGE_COST_MUSD_PER_MW
    elif market == RENO_SITE:
        multiplier = CW_RENO_MUSD_PER_MW / CW_AVERAGE_COST_MUSD_PER_MW
    else:
        multiplier = 1.0
    return round(BUILDING_CAPEX_MUSD_PER_MW * multiplier, 3)


def campus_substation_musd(facts: pd.DataFrame) -> float:
    """Substation part of the Dominion example: total minus 7 miles of line (SOURCES.md §6.8)."""
    return grid_fact(facts, FACT_DOMINION_EXAMPLE_MUSD) - (
        DOMINION_EXAMPLE_ROUTE_MILES * line_cost_musd_per_mile(facts)
    )


def development_capex_musd(max_it: float, facts: pd.DataFrame) -> float:
    land = CW_PARCEL_ACRES * (max_it / PARCEL_IT_MW) * CW_LAND_USD_PER_ACRE / 1e6
    return round(land + campus_substation_musd(facts), 2)


def first_campus_timing(market: str, grid_class: GridClass) -> tuple[str, float, bool]:
    """(earliest_period, headroom_mw, early) of a market's first campus (SOURCES.md §6.3-4)."""
    if market in UNDER_CONSTRUCTION:
        return EARLY_PERIOD, HEADROOM_UNDER_CONSTRUCTION_MW, True
    if market in MATURE_EARLY:
        return EARLY_PERIOD, HEADROOM_MATURE_EARLY_MW, True
    return grid_class.earliest_period, grid_class.headroom_mw, False


def headroom_period(earliest: str) -> str:
    """First energizable period, clamped to FIRST_PERIOD..LAST_HEADROOM_PERIOD."""
    ordinal = period_ordinal(earliest) + CONSTRUCTION_LEAD_PERIODS
    ordinal = min(max(ordinal, period_ordinal(FIRST_PERIOD)), period_ordinal(LAST_HEADROOM_PERIOD))
    return period_label(ordinal)


def build_sites(
    candidates: pd.DataFrame,
    stations: pd.DataFrame,
    water: pd.DataFrame,
    zones: Sequence[ZoneData],
    facts: pd.DataFrame,
) -> list[Site]:
    """Every candidate market, each followed by its second campus if it has one."""
    zone_of_site = {s: z for z in zones for s in z.site_ids}
    lat_lon = {
        str(u): (float(lat), float(lon))
        for u, lat, lon in zip(
            stations.index, stations["latitude"], stations["longitude"], strict=True
        )
    }
    category = dict(zip(water["state"], water["baseline_water_stress_category"], strict=True))
    code = {str(k): int(v) for k, v in zip(water["state"], water["category_code_0_4"], strict=True)}
    sites: list[Site] = []
    for _, row in candidates.iterrows():
        state = str(row["state"])
        if category[state] != row["state_water_stress_aqueduct30"]:
            raise ValueError(f"{row['site_id']}: water category differs from the Aqueduct file")
        first = first_campus(
            row,
            zone_of_site[str(row["site_id"])],
            lat_lon[str(row["weather_usaf"])],
            code[state],
            facts,
        )
        sites.append(first)
        if first.market in SECOND_CAMPUS_MARKETS:
            sites.append(second_campus(first, facts))
    missing = set(SECOND_CAMPUS_MARKETS) - {s.market for s in sites}
    if missing:
        raise KeyError(f"second-campus markets not in candidate_sites.csv: {sorted(missing)}")
    return sites


def first_campus(
    row: pd.Series,
    zone: ZoneData,
    lat_lon_deg: tuple[float, float],
    water_code: int,
    facts: pd.DataFrame,
) -> Site:
    """The campus of one candidate market (SOURCES.md §6)."""
    market, state = str(row["site_id"]), str(row["state"])
    earliest, headroom, early = first_campus_timing(market, GRID_CLASSES[zone.spec.grid_class])
    return Site(
        site_id=market,
        name=str(row["data_center_market"]),
        market=market,
        state=state,
        latitude_deg=lat_lon_deg[0],
        longitude_deg=lat_lon_deg[1],
        zone_id=zone.spec.zone_id,
        weather_id=str(row["weather_usaf"]),
        grid_class=zone.spec.grid_class,
        is_second_campus=False,
        early=early,
        min_it_mw=MIN_IT_MW,
        max_it_mw=max_it_mw(market),
        development_capex_musd=development_capex_musd(max_it_mw(market), facts),
        building_capex_musd_per_mw=building_capex_musd_per_mw(market, state),
        earliest_period=earliest,
        headroom_mw=headroom,
        headroom_period=headroom_period(earliest),
        water_limit_m3_per_year=WATER_LIMIT_M3_PER_YEAR_BY_CODE[water_code],
        water_price_usd_per_m3=WATER_PRICE_USD_PER_M3_BY_CODE[water_code],
    )


def second_campus(first: Site, facts: pd.DataFrame) -> Site:
    """A later, smaller second campus in the same market (SOURCES.md §6.5)."""
    earliest = period_label(
        min(
            period_ordinal(first.earliest_period) + SECOND_CAMPUS_DELAY_PERIODS,
            period_ordinal(LAST_HEADROOM_PERIOD),
        )
    )
    max_it = first.max_it_mw - SECOND_CAMPUS_MAX_IT_REDUCTION_MW
    headroom = (
        math.floor(first.headroom_mw * SECOND_CAMPUS_HEADROOM_FRAC / HEADROOM_ROUNDING_MW)
        * HEADROOM_ROUNDING_MW
    )
    return Site(
        site_id=f"{first.market}_2",
        name=f"{first.name} - second campus",
        market=first.market,
        state=first.state,
        latitude_deg=first.latitude_deg,
        longitude_deg=first.longitude_deg,
        zone_id=first.zone_id,
        weather_id=first.weather_id,
        grid_class=first.grid_class,
        is_second_campus=True,
        early=False,
        min_it_mw=MIN_IT_MW,
        max_it_mw=max_it,
        development_capex_musd=development_capex_musd(max_it, facts),
        building_capex_musd_per_mw=first.building_capex_musd_per_mw,
        earliest_period=earliest,
        headroom_mw=headroom,
        headroom_period=headroom_period(earliest),
        water_limit_m3_per_year=first.water_limit_m3_per_year,
        water_price_usd_per_m3=first.water_price_usd_per_m3,
    )


# ============================================================================ upgrades


def line_cost_musd_per_mile(facts: pd.DataFrame) -> float:
    """MISO LRTP Tranche 2.1 all-in cost per line-mile (SOURCES.md §7)."""
    return grid_fact(facts, FACT_MISO_LRTP_BUSD) * 1000.0 / MISO_LRTP_LINE_MILES


def substation_musd_per_mw(facts: pd.DataFrame) -> float:
    return campus_substation_musd(facts) / DOMINION_EXAMPLE_MW


def tier1_lead_periods(site: Site) -> int:
    base = math.ceil(TRANSFORMER_LEAD_WEEKS / WEEKS_PER_PERIOD)
    return base - TIER1_LEAD_REDUCTION_EARLY_PERIODS if site.early else base


def build_upgrades(sites: Sequence[Site], facts: pd.DataFrame) -> list[Upgrade]:
    per_mile, per_mw = line_cost_musd_per_mile(facts), substation_musd_per_mw(facts)
    tier1_capex = round(TIER1_ROUTE_MILES * per_mile + TIER1_ADDED_MW * per_mw, 1)
    tier2_capex = round(TIER2_ROUTE_MILES * per_mile + TIER2_ADDED_MW * per_mw, 1)
    upgrades: list[Upgrade] = []
    for site in sites:
        upgrades.append(
            Upgrade(
                f"{site.site_id}_230kv",
                site.site_id,
                f"230 kV radial supply and substation expansion ({site.site_id})",
                TIER1_ADDED_MW,
                tier1_capex,
                tier1_lead_periods(site),
            )
        )
        upgrades.append(
            Upgrade(
                f"{site.site_id}_345kv",
                site.site_id,
                f"New 345/500 kV line and substation ({site.site_id})",
                TIER2_ADDED_MW,
                tier2_capex,
                GRID_CLASSES[site.grid_class].tier2_lead_periods,
            )
        )
    return upgrades


# ============================================================================ cooling model


def ramp(value: float, start: float, end: float) -> float:
    """0 below start, 1 above end, linear in between."""
    return float(np.clip((value - start) / (end - start), 0.0, 1.0))


def chiller_cop(design: CoolingDesign, ambient_c: float) -> float:
    """COP = Carnot efficiency x T_evap / lift, lift = ambient + approach - T_evap."""
    lift = max(ambient_c + design.condenser_approach_k - design.evaporator_c, MIN_LIFT_K)
    return CARNOT_EFFICIENCY_FRAC * (design.evaporator_c + KELVIN_OFFSET) / lift


def pue_at(design: CoolingDesign, ambient_c: float) -> float:
    """PUE = 1 + electrical losses + IT-side fans/pumps + heat-rejection fans + compressors."""
    t = min(ambient_c, design.rating_c)
    heat = 1.0 + ELECTRICAL_LOSS_FRAC + design.it_side_frac
    low, high = design.reject_fan_frac
    fans = low + (high - low) * ramp(t, *design.reject_fan_ramp_c) ** 2
    chiller_share = design.chiller_share_max_frac * ramp(t, *design.chiller_ramp_c)
    compressors = chiller_share * heat / chiller_cop(design, t) if chiller_share > 0 else 0.0
    return 1.0 + ELECTRICAL_LOSS_FRAC + design.it_side_frac + fans + compressors


def wue_at(design: CoolingDesign, ambient_c: float) -> float:
    """On-site water per kWh of IT energy (L/kWh)."""
    t = min(ambient_c, design.rating_c)
    low, high = design.water_frac
    share = low + (high - low) * ramp(t, *design.water_ramp_c)
    if design.water_mode == "none":
        return 0.0
    if design.water_mode == "adiabatic":
        return share
    blowdown_factor = TOWER_CYCLES_OF_CONCENTRATION / (TOWER_CYCLES_OF_CONCENTRATION - 1.0)
    return share * pue_at(design, t) * LITRES_PER_KWH_HEAT * blowdown_factor


def cooling_curve_points(design: CoolingDesign) -> list[CurvePoint]:
    """The bin model evaluated at the design's breakpoints, PUE first then WUE."""
    return [
        CurvePoint(design.cooling_id, quantity, t, round(fn(design, t), CURVE_VALUE_DECIMALS))
        for quantity, fn in (("pue", pue_at), ("wue_l_per_kwh", wue_at))
        for t in design.breakpoints_c
    ]


def cooling_table_rows() -> list[dict[str, object]]:
    return [
        {
            "cooling_id": d.cooling_id,
            "name": d.name,
            "capex_musd_per_mw": round(COOLING_CAPEX_ENVELOPE_MUSD_PER_MW * d.capex_multiplier, 3),
            "serves_liquid_racks": d.serves_liquid_racks,
            "pue_ambient": d.pue_ambient,
            "wue_ambient": d.wue_ambient,
            "max_dry_bulb_c": d.max_dry_bulb_c,
            "max_wet_bulb_c": d.max_wet_bulb_c,
        }
        for d in COOLING_DESIGNS
    ]


def annual_curve_mean(
    points: Sequence[CurvePoint], cooling_id: str, quantity: str, ambient: np.ndarray
) -> float:
    """IT-weighted annual mean of a piecewise-linear curve (flat beyond its ends)."""
    pts = [p for p in points if p.cooling_id == cooling_id and p.quantity == quantity]
    return float(np.interp(ambient, [p.ambient_c for p in pts], [p.value for p in pts]).mean())


# ============================================================================ writing


def format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def write_table(path: Path, columns: Sequence[str], rows: Iterable[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([format_cell(row[c]) for c in columns])


def write_profile(path: Path, columns: dict[str, np.ndarray]) -> None:
    frame = pd.DataFrame({"hour": np.arange(HOURS_PER_YEAR)})
    for name, values in columns.items():
        if len(values) != HOURS_PER_YEAR or not np.isfinite(values).all():
            raise ValueError(f"{path.name}: column {name} is not 8,760 finite values")
        frame[name] = np.round(values, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


SITE_COLUMNS = (
    "site_id",
    "name",
    "latitude_deg",
    "longitude_deg",
    "zone_id",
    "weather_id",
    "min_it_mw",
    "max_it_mw",
    "development_capex_musd",
    "building_capex_musd_per_mw",
    "earliest_period",
    "headroom_mw",
    "headroom_period",
    "water_limit_m3_per_year",
    "water_price_usd_per_m3",
)
ZONE_COLUMNS = ("zone_id", "name", "region", "import_limit_mw")
UPGRADE_COLUMNS = ("upgrade_id", "site_id", "name", "added_mw", "capex_musd", "lead_periods")
COOLING_COLUMNS = (
    "cooling_id",
    "name",
    "capex_musd_per_mw",
    "serves_liquid_racks",
    "pue_ambient",
    "wue_ambient",
    "max_dry_bulb_c",
    "max_wet_bulb_c",
)
CURVE_COLUMNS = ("cooling_id", "quantity", "ambient_c", "value")

YAML_HEADER = """\
# gridsite default scenario: a 10 GW AI data-center rollout, 2026H2-2030H2 (half-years).
# Generated by data/build_default.py from data/raw/ -- do not edit by hand.
# Every number (and which ones are assumptions) is traced in data/SOURCES.md.
"""


def scenario_config() -> dict[str, object]:
    return {
        "name": "default",
        "description": (
            "10 GW IT of liquid-cooled AI capacity across 45 candidate campuses in 32 U.S. "
            "markets; 2024 ISO real-time prices (spliced with 2023), eGRID 2023 average "
            "emission rates, NREL TMY3 weather. See data/SOURCES.md."
        ),
        "horizon": {
            "first_period": FIRST_PERIOD,
            "last_period": LAST_PERIOD,
            "discount_rate_frac_per_year": DISCOUNT_RATE_FRAC_PER_YEAR,
            "base_year": BASE_YEAR,
            "opex_tail_years": OPEX_TAIL_YEARS,
        },
        "portfolio": {
            "target_it_mw_by_period": dict(TARGET_IT_MW_BY_PERIOD),
            "block_it_mw": BLOCK_IT_MW,
            "accelerator_supply_it_mw_per_period": ACCELERATOR_SUPPLY_IT_MW_PER_PERIOD,
            "construction_lead_periods": CONSTRUCTION_LEAD_PERIODS,
            "requires_liquid_cooling": True,
            "it_load_factor_frac": IT_LOAD_FACTOR_FRAC,
        },
        "objective": {"energy_weight_usd_per_mwh": 0.0},
        "representative_days": {"typical_days": TYPICAL_DAYS, "keep_extreme_days": True},
        "solver": dict(SOLVER),
    }


def write_scenario_yaml(path: Path) -> None:
    body = yaml.safe_dump(
        scenario_config(), sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
    path.write_text(YAML_HEADER + body, encoding="utf-8")


# ============================================================================ checks + summary


def check_consistency(
    sites: Sequence[Site],
    zones: Sequence[ZoneData],
    upgrades: Sequence[Upgrade],
    curves: Sequence[CurvePoint],
    weather_ids: Sequence[str],
) -> None:
    """Cross-table rules the row models cannot see (the optimizer re-checks them)."""
    id_lists = {
        "site": [s.site_id for s in sites],
        "zone": [z.spec.zone_id for z in zones],
        "upgrade": [u.upgrade_id for u in upgrades],
    }
    for label, ids in id_lists.items():
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate {label} ids")
    zone_ids = {z.spec.zone_id for z in zones}
    site_ids = {s.site_id for s in sites}
    for s in sites:
        if s.zone_id not in zone_ids or s.weather_id not in weather_ids:
            raise ValueError(f"site {s.site_id} references an unknown zone or weather id")
    if any(u.site_id not in site_ids for u in upgrades):
        raise ValueError("an upgrade references an unknown site")
    for d in COOLING_DESIGNS:
        for quantity in ("pue", "wue_l_per_kwh"):
            xs = [
                p.ambient_c
                for p in curves
                if p.cooling_id == d.cooling_id and p.quantity == quantity
            ]
            if len(xs) < 2 or any(b <= a for a, b in itertools.pairwise(xs)):
                raise ValueError(f"{d.cooling_id} {quantity}: ambient not strictly increasing")


def site_capacity_mw(site: Site, upgrades: Sequence[Upgrade], period: str) -> float:
    """Facility MW a site can draw in a period from headroom + upgrades in service."""
    p = period_ordinal(period)
    if p < period_ordinal(site.earliest_period) + CONSTRUCTION_LEAD_PERIODS:
        return 0.0
    mw = site.headroom_mw if p >= period_ordinal(site.headroom_period) else 0.0
    first = period_ordinal(FIRST_PERIOD)
    mw += sum(
        u.added_mw for u in upgrades if u.site_id == site.site_id and first + u.lead_periods <= p
    )
    return min(mw, site.max_it_mw * DESIGN_PUE)


def deliverable_mw(
    sites: Sequence[Site], upgrades: Sequence[Upgrade], limits: dict[str, float], period: str
) -> float:
    """Facility MW the open sites can draw in a period, each zone capped by its limit."""
    by_zone: dict[str, float] = {}
    for s in sites:
        by_zone[s.zone_id] = by_zone.get(s.zone_id, 0.0) + site_capacity_mw(s, upgrades, period)
    return sum(min(mw, limits[z]) for z, mw in by_zone.items())


def check_first_period(sites: Sequence[Site], limits: dict[str, float]) -> None:
    """Sites permitted in 2026H1 must be able to draw the first target from headroom."""
    need = TARGET_IT_MW_BY_PERIOD[FIRST_PERIOD] * DESIGN_PUE
    have = deliverable_mw(sites, [], limits, FIRST_PERIOD)
    if have < need:
        raise ValueError(f"{FIRST_PERIOD}: {have:.0f} MW deliverable < {need:.0f} MW needed")


# ============================================================================ main


@dataclass(frozen=True)
class Scenario:
    """Everything the build produces, before it is written."""

    zones: list[ZoneData]
    sites: list[Site]
    upgrades: list[Upgrade]
    limits: dict[str, float]  # zone_id -> import_limit_mw
    deliverable_fracs: dict[str, float]  # grid class -> share of candidate draw
    pjm_ratios: dict[str, float]
    pjm_method: str
    pjm_overlap_hours: int
    prices: dict[str, np.ndarray]  # zone_id -> 8,760 USD/MWh
    price_recipes: dict[str, str]
    splices: dict[str, SpliceRecord]
    carbon: dict[str, np.ndarray]  # zone_id -> 8,760 kg/MWh
    weather: dict[str, pd.DataFrame]  # weather_id -> dry_bulb_c, wet_bulb_c
    curves: list[CurvePoint]


def build(raw_dir: Path) -> Scenario:
    raw = load_inputs(raw_dir)
    zones = build_zones(raw.candidates, raw.stations)
    sites = build_sites(raw.candidates, raw.stations, raw.water, zones, raw.facts)
    upgrades = build_upgrades(sites, raw.facts)
    fracs = deliverable_fracs(raw.facts)
    limits = {z.spec.zone_id: zone_import_limit(z, sites, fracs) for z in zones}
    neighbour_2023 = raw.prices[PRICE_YEAR_FALLBACK][PJM_NEIGHBOUR_SERIES]
    pjm_ratios, pjm_method, overlap = pjm_basis_ratios(raw.pjm_q3, neighbour_2023, raw.ice)
    prices, splices, recipes = {}, {}, {}
    for z in zones:
        zid = z.spec.zone_id
        prices[zid], splices[zid], recipes[zid] = zone_price(z, raw.prices, pjm_ratios, raw.ice)
    carbon = zone_carbon(zones, raw.egrid, raw.candidates)
    weather_ids = sorted({s.weather_id for s in sites})
    weather = {
        w: read_tmy3(raw_dir / "weather" / str(raw.stations.loc[w, "file"])) for w in weather_ids
    }
    curves = [p for d in COOLING_DESIGNS for p in cooling_curve_points(d)]
    check_consistency(sites, zones, upgrades, curves, weather_ids)
    check_first_period(sites, limits)
    return Scenario(
        zones,
        sites,
        upgrades,
        limits,
        fracs,
        pjm_ratios,
        pjm_method,
        overlap,
        prices,
        recipes,
        splices,
        carbon,
        weather,
        curves,
    )


def write(scenario: Scenario, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    (out / "profiles").mkdir(parents=True)
    write_scenario_yaml(out / "scenario.yaml")
    write_table(out / "sites.csv", SITE_COLUMNS, (vars(s) for s in scenario.sites))
    write_table(
        out / "zones.csv",
        ZONE_COLUMNS,
        (
            {
                "zone_id": z.spec.zone_id,
                "name": z.spec.name,
                "region": z.spec.region,
                "import_limit_mw": scenario.limits[z.spec.zone_id],
            }
            for z in scenario.zones
        ),
    )
    write_table(out / "upgrades.csv", UPGRADE_COLUMNS, (vars(u) for u in scenario.upgrades))
    write_table(out / "cooling_technologies.csv", COOLING_COLUMNS, cooling_table_rows())
    write_table(out / "cooling_curves.csv", CURVE_COLUMNS, (vars(p) for p in scenario.curves))
    write_profile(out / "profiles/price_usd_per_mwh.csv", scenario.prices)
    write_profile(out / "profiles/carbon_kg_per_mwh.csv", scenario.carbon)
    for quantity in ("dry_bulb_c", "wet_bulb_c"):
        write_profile(
            out / f"profiles/{quantity}.csv",
            {w: frame[quantity].to_numpy() for w, frame in scenario.weather.items()},
        )


def print_zone_summary(sc: Scenario) -> None:
    regions = sorted({z.spec.region for z in sc.zones})
    region_of_zone = {z.spec.zone_id: z.spec.region for z in sc.zones}
    n_second = sum(s.is_second_campus for s in sc.sites)
    print(
        f"sites: {len(sc.sites)} ({len(sc.sites) - n_second} markets + {n_second} second "
        f"campuses); zones: {len(sc.zones)}; upgrades: {len(sc.upgrades)}"
    )
    print(
        "sites per region: "
        + ", ".join(f"{r} {sum(region_of_zone[s.zone_id] == r for s in sc.sites)}" for r in regions)
    )
    print(
        f"PJM basis vs {PJM_NEIGHBOUR_SERIES} ({sc.pjm_method}, {sc.pjm_overlap_hours} h): "
        + ", ".join(f"{k} {v:.3f}" for k, v in sc.pjm_ratios.items())
    )
    print(
        "deliverable share of candidate draw by grid class: "
        + ", ".join(f"{k} {v:.3f}" for k, v in sc.deliverable_fracs.items())
    )
    print(
        f"\n{'zone':21s} {'region':9s} {'limit':>6s} {'sites':>5s} {'USD/MWh':>7s}  "
        f"{PRICE_YEAR_FALLBACK} months | <95% both | filled h | price recipe"
    )
    for z in sc.zones:
        zid, rec = z.spec.zone_id, sc.splices[z.spec.zone_id]
        print(
            f"{zid:21s} {z.spec.region:9s} {sc.limits[zid]:6.0f} "
            f"{sum(s.zone_id == zid for s in sc.sites):5d} {sc.prices[zid].mean():7.2f}  "
            f"{','.join(map(str, rec.months_fallback_year))} | "
            f"{','.join(map(str, rec.months_below_threshold)) or '-'} | {rec.filled_hours} | "
            f"{sc.price_recipes[zid]}"
        )
    total = sum(sc.limits.values())
    print(f"sum of zone limits: {total:,.0f} MW = {total / 13000:.2f} x 13 GW")


def print_cooling_summary(sc: Scenario) -> None:
    print(
        f"\ncooling annual PUE / WUE (L/kWh) at stations {', '.join(SUMMARY_STATIONS)} "
        f"(Dulles VA, Abilene TX, Phoenix AZ, Moses Lake WA):"
    )
    for d in COOLING_DESIGNS:
        cells = []
        for station in SUMMARY_STATIONS:
            frame = sc.weather[station]
            pue = annual_curve_mean(
                sc.curves, d.cooling_id, "pue", frame[f"{d.pue_ambient}_c"].to_numpy()
            )
            wue = annual_curve_mean(
                sc.curves, d.cooling_id, "wue_l_per_kwh", frame[f"{d.wue_ambient}_c"].to_numpy()
            )
            cells.append(f"{pue:.3f}/{wue:.2f}")
        print(f"  {d.cooling_id:24s} " + "  ".join(cells))


def print_feasibility(sc: Scenario) -> None:
    print(
        f"\nfeasibility: facility MW needed (target x {DESIGN_PUE}) vs deliverable from "
        "headroom + upgrades in service at open sites, capped by zone limits"
    )
    for period in horizon_labels():
        need = TARGET_IT_MW_BY_PERIOD[period] * DESIGN_PUE
        headroom_only = deliverable_mw(sc.sites, [], sc.limits, period)
        have = deliverable_mw(sc.sites, sc.upgrades, sc.limits, period)
        n_open = sum(
            period_ordinal(period) >= period_ordinal(s.earliest_period) + CONSTRUCTION_LEAD_PERIODS
            for s in sc.sites
        )
        print(
            f"  {period}: need {need:7,.0f}  headroom only {headroom_only:7,.0f}  "
            f"with upgrades {have:7,.0f}  ratio {have / need:4.2f}  open sites {n_open:2d}"
        )


def main(raw_dir: Path | str = DEFAULT_RAW_DIR, out_dir: Path | str = DEFAULT_OUT_DIR) -> None:
    """Read ``raw_dir``, write the scenario folder ``out_dir`` and print a summary."""
    scenario = build(Path(raw_dir))
    write(scenario, Path(out_dir))
    print_zone_summary(scenario)
    print_cooling_summary(scenario)
    print_feasibility(scenario)
    print(f"\nwrote {Path(out_dir)}")


if __name__ == "__main__":
    main()
