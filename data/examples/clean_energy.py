"""Build the worked example for clean-energy contracts and a 24/7 (hourly-matched) target.

    python data/examples/clean_energy.py OUT_DIR [CFE_TARGET_FRAC]

Writes a copy of ``data/default`` plus ``clean_contracts.csv`` and
``profiles/capacity_factor_frac.csv``: one onshore wind contract in each of six wind-rich
zones where the default opens campuses. The hourly output per MW comes from the measured TMY3
wind speed of a campus station of the zone (``data/raw/weather/tmy3``, NREL, 10 m, hour
ending local standard time, the axis of the default's profiles) through windpowerlib:

* hub height 100 m, wind speed scaled from 10 m by the Hellman power law with exponent 1/7
  [assumption: open terrain at airports];
* the GE 2.5-120 power curve of windpowerlib's turbine library (``GE120/2500``);
* 15 % losses (wakes, availability, electrical) [assumption].

Airport winds stand in for wind farms in the same zone, which are usually sited on windier
ground. Contract terms [assumptions]: strike 55 USD/MWh, up to 2,000 MW per zone, available
from the first period. The CFE target (default 0.5) is the share of the campuses' grid energy
that contract output must match in the same zone and hour, in every period.

Hourly matching is solved on the default's own representative hours (12 typical days and
the extreme days, 1,344 hours): it adds no row per hour (``formulations.clean`` holds it by
cuts added in the solve), so the target-0 and target-X runs solve in seconds on the same
hours as the default scenario.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from windpowerlib import WindTurbine, power_output, wind_speed

from optimizer.writer import derive_scenario

DATA = Path(__file__).resolve().parent.parent
DEFAULT = DATA / "default"
TMY3 = DATA / "raw" / "weather" / "tmy3"
HUB_HEIGHT_M = 100.0
HELLMAN_EXPONENT = 1 / 7
TURBINE = "GE120/2500"
LOSSES_FRAC = 0.15
STRIKE_USD_PER_MWH = 55.0
MAX_MW = 2000.0
#: zone -> TMY3 station of a campus in it
WIND_ZONES = {
    "ercot_west": "722660",  # Abilene TX
    "ercot_north": "722590",  # Dallas-Fort Worth TX
    "spp_south": "723630",  # Amarillo TX
    "miso_minnesota_mrow": "725500",  # Omaha NE (Council Bluffs IA)
    "miso_minnesota_mroe": "726400",  # Milwaukee WI (Mount Pleasant)
    "miso_indiana": "725350",  # South Bend IN (New Carlisle)
}


def wind_capacity_factor(station: str) -> np.ndarray:
    """8,760 hourly output per MW of capacity at the station's measured 10 m wind."""
    frame = pd.read_csv(TMY3 / f"tmy3_{station}.csv")
    assert len(frame) == 8760 and frame["month"].is_monotonic_increasing, station
    at_10m = pd.Series(frame["wind_speed_m_s"].to_numpy(dtype=float))
    at_hub = wind_speed.hellman(at_10m, 10.0, HUB_HEIGHT_M, hellman_exponent=HELLMAN_EXPONENT)
    turbine = WindTurbine(hub_height=HUB_HEIGHT_M, turbine_type=TURBINE)
    curve = turbine.power_curve
    power = power_output.power_curve(at_hub, curve["wind_speed"], curve["value"])
    return np.round(np.asarray(power) / turbine.nominal_power * (1 - LOSSES_FRAC), 4)


def main(out_dir: Path, target: float = 0.5) -> Path:
    """Write the example scenario into ``out_dir``; its folder."""
    rows = [
        {
            "contract_id": f"{zone}_wind",
            "zone_id": zone,
            "technology": "onshore wind",
            "max_mw": MAX_MW,
            "price_usd_per_mwh": STRIKE_USD_PER_MWH,
            "lead_periods": 0,
        }
        for zone in WIND_ZONES
    ]
    out = derive_scenario(
        DEFAULT, out_dir, name=f"default-cfe-{target:g}", tables={"clean_contracts.csv": rows}
    )
    factors = pd.DataFrame(
        {f"{zone}_wind": wind_capacity_factor(station) for zone, station in WIND_ZONES.items()}
    )
    factors.index.name = "hour"
    factors.to_csv(out / "profiles" / "capacity_factor_frac.csv")
    config = yaml.safe_load((out / "scenario.yaml").read_text())
    config["clean_energy"] = {"cfe_target_frac": target}
    (out / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return out


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/default-cfe-scenario")
    target = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    print(main(folder, target))
