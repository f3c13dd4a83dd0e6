"""Facility location through demand regions: gridsite's model beside a textbook model.

    python benchmarks/facility_location.py [--campuses 100] [--regions 1000] [--seed 0]
                                           [--binding] [--time-limit 600] [--gap 1e-4]
                                           [--json]

Writes a seeded instance as a gridsite scenario, then solves it twice, each in a fresh
process with HiGHS on 1 thread: ``gridsite`` (load, prepare, build, solve through the
package) and ``textbook`` (the capacitated facility-location problem with split demand
stated directly in highspy from the same CSV tables):

    min  sum_j f_j y_j + w sum_ij c_ij x_ij
    s.t. sum_j x_ij >= d_i                    every region i
         sum_i x_ij <= u_j y_j                every campus j
         x_ij <= d_i y_j                       every pair (the disaggregated rows)
         y binary, x >= 0

with f = development capex, u = maximum IT MW, c = network cost per MW-year of the pair, d =
inference demand, w = 0.5 (the one half-year period, undiscounted, no tail). Everything
energy-related is switched off in the scenario (zero prices, no building or cooling capex,
PUE 1, no ramp target), so both solve the same problem and must agree on the optimum.

Instance (seeded): campuses and regions uniform over the continental U.S. box (lat 30-47,
lon -120 to -75); demand U(1, 20) MW per region; development capex U(5, 15) M USD; network
cost = great-circle km / 1,000 x 200,000 USD per MW-year; every pair allowed. Capacities
never bind by default (each campus could serve all demand); with ``--binding`` a campus
holds U(0.6, 1.4) x 3 % of the total demand, so about 34 of them are needed at the least.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PERIOD = "2026H2"
OPEX_WEIGHT_YEARS = 0.5  # one half-year, no discounting, no tail
USD_PER_1000KM_PER_MW_YEAR = 200_000.0


def generate(folder: Path, campuses: int, regions: int, seed: int, binding: bool) -> Path:
    """Write the instance as a gridsite scenario folder."""
    from optimizer.prepare import great_circle_km
    from optimizer.writer import write_scenario

    rng = np.random.default_rng(seed)
    lat_s, lon_s = rng.uniform(30, 47, campuses), rng.uniform(-120, -75, campuses)
    lat_r, lon_r = rng.uniform(30, 47, regions), rng.uniform(-120, -75, regions)
    demand = np.round(rng.uniform(1.0, 20.0, regions), 2)
    fixed = np.round(rng.uniform(5.0, 15.0, campuses), 3)
    total = float(demand.sum())
    cap = (
        np.round(rng.uniform(0.6, 1.4, campuses) * 0.03 * total, 1)
        if binding
        else np.full(campuses, np.ceil(total))
    )
    km = great_circle_km(lat_r[:, None], lon_r[:, None], lat_s[None, :], lon_s[None, :])
    cost = np.round(km / 1000.0 * USD_PER_1000KM_PER_MW_YEAR, 2)
    sites = [f"c{j:03d}" for j in range(campuses)]
    names = [f"r{i:04d}" for i in range(regions)]
    config = {
        "name": f"facility_location_{campuses}x{regions}_{'binding' if binding else 'loose'}",
        "horizon": {
            "first_period": PERIOD,
            "last_period": PERIOD,
            "discount_rate_frac_per_year": 0.0,
            "base_year": 2026.5,
        },
        "portfolio": {
            "target_it_mw_by_period": {PERIOD: 0.0},
            "construction_lead_periods": 0,
            "requires_liquid_cooling": True,
            "it_load_factor_frac": 1.0,
        },
        "latency": {"fiber_route_factor": 1.5, "fiber_km_per_ms": 200.0},
    }
    site_rows = [
        {
            "site_id": s,
            "name": s,
            "latitude_deg": round(float(lat_s[j]), 4),
            "longitude_deg": round(float(lon_s[j]), 4),
            "zone_id": "z1",
            "weather_id": "w1",
            "min_it_mw": 0.0,
            "max_it_mw": float(cap[j]),
            "development_capex_musd": float(fixed[j]),
            "building_capex_musd_per_mw": 0.0,
            "earliest_period": PERIOD,
            "headroom_mw": float(cap[j]),
            "headroom_period": PERIOD,
            "water_limit_m3_per_year": None,
            "water_price_usd_per_m3": 0.0,
        }
        for j, s in enumerate(sites)
    ]
    region_rows = [
        {
            "region_id": r,
            "name": r,
            "latitude_deg": round(float(lat_r[i]), 4),
            "longitude_deg": round(float(lon_r[i]), 4),
            "latency_limit_ms": 1000.0,
            "network_cost_usd_per_mw_year_per_1000km": USD_PER_1000KM_PER_MW_YEAR,
        }
        for i, r in enumerate(names)
    ]
    demand_rows = [
        {"region_id": r, "period": PERIOD, "inference_it_mw": float(demand[i])}
        for i, r in enumerate(names)
    ]
    serving_rows = [
        {
            "region_id": r,
            "site_id": s,
            "latency_ms": round(float(2 * km[i, j] * 1.5 / 200.0), 3),
            "network_cost_usd_per_mw_year": float(cost[i, j]),
        }
        for i, r in enumerate(names)
        for j, s in enumerate(sites)
    ]
    liquid = {
        "cooling_id": "liq",
        "name": "liq",
        "capex_musd_per_mw": 0.0,
        "serves_liquid_racks": True,
        "pue_ambient": "dry_bulb",
        "wue_ambient": "wet_bulb",
        "max_dry_bulb_c": None,
        "max_wet_bulb_c": None,
    }
    curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 0.0, "value": 1.0},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.0},
    ]
    zeros = [0.0, 0.0]
    return write_scenario(
        folder,
        config=config,
        tables={
            "sites.csv": site_rows,
            "zones.csv": [{"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": None}],
            "upgrades.csv": [],
            "cooling_technologies.csv": [liquid],
            "cooling_curves.csv": curves,
            "demand_regions.csv": region_rows,
            "inference_demand.csv": demand_rows,
            "serving.csv": serving_rows,
        },
        profiles={
            "price_usd_per_mwh": pd.DataFrame({"z1": zeros}),
            "carbon_kg_per_mwh": pd.DataFrame({"z1": zeros}),
            "dry_bulb_c": pd.DataFrame({"w1": [20.0, 30.0]}),
            "wet_bulb_c": pd.DataFrame({"w1": [15.0, 22.0]}),
        },
        hour_weights=[4380.0, 4380.0],
    )


def solve_gridsite(folder: Path, time_limit_s: float, gap: float) -> dict[str, object]:
    from optimizer import SolveOptions, load_scenario, solve

    start, cpu = time.perf_counter(), time.process_time()
    options = SolveOptions(time_limit_s=time_limit_s, mip_gap_frac=gap, threads=1)
    plan = solve(load_scenario(folder), options)
    r = plan.result
    return {
        "objective_musd": r.objective_musd,
        "best_bound_musd": r.best_bound_musd,
        "gap": r.mip_gap_frac,
        "termination": r.termination,
        "solve_s": r.solve_seconds,
        "total_s": time.perf_counter() - start,
        "total_cpu_s": time.process_time() - cpu,
        "open": int(plan.sites["open"].sum()),
    }


def solve_textbook(folder: Path, time_limit_s: float, gap: float) -> dict[str, object]:
    import highspy
    import scipy.sparse as sp

    start, cpu = time.perf_counter(), time.process_time()
    sites = pd.read_csv(folder / "sites.csv")
    demand = pd.read_csv(folder / "inference_demand.csv")
    serving = pd.read_csv(folder / "serving.csv")
    n_s, n_r = len(sites), len(demand)
    site_pos = {s: j for j, s in enumerate(sites["site_id"])}
    region_pos = {r: i for i, r in enumerate(demand["region_id"])}
    i = serving["region_id"].map(region_pos).to_numpy()
    j = serving["site_id"].map(site_pos).to_numpy()
    n_x = len(serving)
    d = demand["inference_it_mw"].to_numpy(float)
    u = sites["max_it_mw"].to_numpy(float)
    # columns: x (pairs), then y (campuses); rows: demand, capacity, disaggregated
    x = np.arange(n_x)
    rows = np.concatenate([i, n_r + j, n_r + n_s + x, n_r + np.arange(n_s), n_r + n_s + x])
    cols = np.concatenate([x, x, x, n_x + np.arange(n_s), n_x + j])
    vals = np.concatenate([np.ones(n_x), np.ones(n_x), np.ones(n_x), -u, -d[i]])
    a = sp.csc_matrix((vals, (rows, cols)), shape=(n_r + n_s + n_x, n_x + n_s))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_x + n_s, a.shape[0]
    cost = serving["network_cost_usd_per_mw_year"].to_numpy(float) / 1e6 * OPEX_WEIGHT_YEARS
    lp.col_cost_ = np.concatenate([cost, sites["development_capex_musd"].to_numpy(float)])
    lp.col_lower_ = np.zeros(n_x + n_s)
    lp.col_upper_ = np.concatenate([np.full(n_x, np.inf), np.ones(n_s)])
    lp.row_lower_ = np.concatenate([d, np.full(n_s + n_x, -np.inf)])
    lp.row_upper_ = np.concatenate([np.full(n_r, np.inf), np.zeros(n_s + n_x)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n_x + [
        highspy.HighsVarType.kInteger
    ] * n_s
    h = highspy.Highs()
    for name, value in (
        ("output_flag", False),
        ("threads", 1),
        ("time_limit", time_limit_s),
        ("mip_rel_gap", gap),
    ):
        h.setOptionValue(name, value)
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    info = h.getInfo()
    y = np.asarray(h.getSolution().col_value)[n_x:]
    return {
        "objective_musd": info.objective_function_value,
        "best_bound_musd": info.mip_dual_bound,
        "gap": info.mip_gap,
        "termination": h.modelStatusToString(h.getModelStatus()),
        "solve_s": time.perf_counter() - t0,
        "total_s": time.perf_counter() - start,
        "total_cpu_s": time.process_time() - cpu,
        "open": int(np.round(y).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campuses", type=int, default=100)
    parser.add_argument("--regions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--binding", action="store_true")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--json", action="store_true", help="also print each run as JSON")
    parser.add_argument("--solver", choices=["gridsite", "textbook"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solver:
        run = solve_gridsite if args.solver == "gridsite" else solve_textbook
        print(json.dumps(run(Path(args.folder), args.time_limit, args.gap)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate(Path(tmp) / "fl", args.campuses, args.regions, args.seed, args.binding)
        kind = "binding" if args.binding else "loose"
        print(
            f"instance {args.campuses} campuses x {args.regions} regions, {kind}, seed {args.seed}"
        )
        print(
            f"{'model':<9} {'objective':>11} {'bound':>11} {'gap':>8} {'open':>5} "
            f"{'solve s':>8} {'total s':>8} {'CPU s':>7}  termination"
        )
        for solver in ("textbook", "gridsite"):
            command = [sys.executable, __file__, "--solver", solver, "--folder", str(folder)]
            command += ["--time-limit", str(args.time_limit), "--gap", str(args.gap)]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{solver:<9} {r['objective_musd']:>11,.3f} {r['best_bound_musd']:>11,.3f} "
                f"{100 * (r['gap'] or 0):>7.3f}% {r['open']:>5} {r['solve_s']:>8.1f} "
                f"{r['total_s']:>8.1f} {r['total_cpu_s']:>7.1f}  {r['termination']}"
            )
            if args.json:
                print(json.dumps({"model": solver, **r}))


if __name__ == "__main__":
    main()
