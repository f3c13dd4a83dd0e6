"""Build the worked example for demand regions: the default scenario plus inference users.

    python data/examples/inference.py OUT_DIR

Writes a full scenario folder (a copy of ``data/default`` plus ``demand_regions.csv`` and
``inference_demand.csv``) so it loads like any other. The numbers added here:

* regions: the ten largest U.S. metropolitan statistical areas by 2020 census population
  (U.S. Census Bureau, 2020 Census, MSA totals, rounded to 0.1 M), at their principal city;
* inference demand: 30 % of the portfolio target each period [assumption], split by population;
* latency limit: 25 ms round trip [assumption: interactive inference with a token-streaming
  budget; the fiber model in scenario.yaml turns it into ~1,700 km of great-circle distance];
* network cost: 20,000 USD per MW-year per 1,000 km [assumption, order of magnitude of leased
  long-haul wavelength capacity per MW of inference traffic].
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from optimizer.writer import derive_scenario

DEFAULT = Path(__file__).resolve().parent.parent / "default"
INFERENCE_SHARE_FRAC = 0.30
LATENCY_LIMIT_MS = 25.0
NETWORK_COST_USD_PER_MW_YEAR_PER_1000KM = 20_000.0
#: region id, name, latitude, longitude, 2020 MSA population (millions)
METROS = [
    ("nyc", "New York-Newark-Jersey City", 40.71, -74.01, 20.1),
    ("la", "Los Angeles-Long Beach-Anaheim", 34.05, -118.24, 13.2),
    ("chicago", "Chicago-Naperville-Elgin", 41.88, -87.63, 9.6),
    ("dallas", "Dallas-Fort Worth-Arlington", 32.78, -96.80, 7.6),
    ("houston", "Houston-The Woodlands-Sugar Land", 29.76, -95.37, 7.1),
    ("washington", "Washington-Arlington-Alexandria", 38.91, -77.04, 6.4),
    ("philadelphia", "Philadelphia-Camden-Wilmington", 39.95, -75.17, 6.2),
    ("miami", "Miami-Fort Lauderdale-Pompano Beach", 25.76, -80.19, 6.1),
    ("atlanta", "Atlanta-Sandy Springs-Alpharetta", 33.75, -84.39, 6.1),
    ("boston", "Boston-Cambridge-Newton", 42.36, -71.06, 4.9),
]


def main(out_dir: Path) -> Path:
    targets = yaml.safe_load((DEFAULT / "scenario.yaml").read_text())["portfolio"][
        "target_it_mw_by_period"
    ]
    regions = [
        {
            "region_id": rid,
            "name": name,
            "latitude_deg": lat,
            "longitude_deg": lon,
            "latency_limit_ms": LATENCY_LIMIT_MS,
            "network_cost_usd_per_mw_year_per_1000km": NETWORK_COST_USD_PER_MW_YEAR_PER_1000KM,
        }
        for rid, name, lat, lon, _ in METROS
    ]
    people = sum(m[4] for m in METROS)
    demand = [
        {
            "region_id": rid,
            "period": period,
            "inference_it_mw": round(INFERENCE_SHARE_FRAC * target * pop / people, 1),
        }
        for period, target in targets.items()
        for rid, _, _, _, pop in METROS
    ]
    return derive_scenario(
        DEFAULT,
        out_dir,
        name="default-inference",
        tables={"demand_regions.csv": regions, "inference_demand.csv": demand},
    )


if __name__ == "__main__":
    print(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/default-inference-scenario")))
