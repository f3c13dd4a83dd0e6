"""Data preparation: coefficients worked out by hand, and the tsam reduction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import load_scenario
from optimizer.prepare import _hull_hours, _non_dominated, prepare
from tests.tiny import Tiny


def test_pue_wue_and_price_collapse_into_per_site_coefficients(tmp_path: Path) -> None:
    """PUE 1.0 at 20 C -> 1.5 at 40 C on dry-bulb; hours at 20 and 30 C -> PUE 1.0 and 1.25.
    WUE 0 at 10 C -> 2 at 30 C on wet-bulb; hours at 15 and 22 C -> 0.5 and 1.2 L/kWh.
    Weights 4380 h each, load factor 0.8, prices 40 and 60 USD/MWh, carbon 500 kg/MWh:
      peak PUE 1.25
      energy  = 0.8 x 4380 x (1.0 + 1.25)              = 7,884 MWh per MW-year
      cost    = 0.8 x 4380 x (1.0 x 40 + 1.25 x 60)/1e6 = 0.40296 M USD per MW-year
      water   = 0.8 x 4380 x (0.5 + 1.2)               = 5,956.8 m3 per MW-year
      carbon  = 7,884 x 0.5                             = 3,942 t per MW-year"""
    tiny = Tiny(tmp_path)
    tiny.portfolio["it_load_factor_frac"] = 0.8
    tiny.price = {"z1": [40.0, 60.0]}
    tiny.carbon = {"z1": [500.0, 500.0]}
    tiny.curves = [
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 20.0, "value": 1.0},
        {"cooling_id": "liq", "quantity": "pue", "ambient_c": 40.0, "value": 1.5},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 10.0, "value": 0.0},
        {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 30.0, "value": 2.0},
    ]
    data = prepare(load_scenario(tiny.write())).sel(site="a", cooling="liq")
    assert float(data["peak_pue"]) == pytest.approx(1.25)
    assert float(data["energy_mwh_per_mw_year"]) == pytest.approx(7884.0)
    assert float(data["energy_cost_musd_per_mw_year"]) == pytest.approx(0.40296)
    assert float(data["water_m3_per_mw_year"]) == pytest.approx(5956.8)
    assert float(data["carbon_t_per_mw_year"]) == pytest.approx(3942.0)


def test_non_dominated_hours_keep_every_hour_that_can_bind() -> None:
    """Rows are hours, columns (site, cooling) PUEs. Hour 2 is dominated by hour 0, hour 3
    duplicates hour 1; hours 0 and 1 each peak one column."""
    rows = np.array([[1.5, 1.0], [1.0, 1.5], [1.2, 0.9], [1.0, 1.5]])
    assert _non_dominated(rows).tolist() == [0, 1]


def test_hull_hours_drop_an_hour_below_a_mix_of_two_others() -> None:
    """Columns are hours, rows (site, cooling) PUEs. No hour dominates another, but hour 2
    (1.2, 1.2) lies below the midpoint (1.25, 1.25) of hours 0 and 1: for any draw x >= 0,
    x . h2 <= (x . h0 + x . h1) / 2 <= the limit, so its row never binds first. Hour 3
    (1.4, 1.15) lies above every mix of 0 and 1 (lam 1.5 + (1 - lam) 1.0 >= 1.4 needs
    lam >= 0.8, lam 1.0 + (1 - lam) 1.5 >= 1.15 needs lam <= 0.7): x = (1, 1) draws 2.55
    there against 2.5 at 0 and 1."""
    columns = np.array([[1.5, 1.0, 1.2, 1.4], [1.0, 1.5, 1.2, 1.15]])
    assert _non_dominated(columns.T).tolist() == [0, 1, 2, 3]
    assert _hull_hours(columns).tolist() == [True, True, False, True]


@pytest.mark.parametrize("seed", range(6))
def test_hull_hours_keep_the_peak_draw_of_every_mix(seed: int) -> None:
    """Exactness: for draws x >= 0, the largest zonal draw over the kept hours equals the
    largest over all hours, so the kept rows allow exactly the plans all rows allow."""
    rng = np.random.default_rng(seed)
    columns = 1.0 + rng.uniform(0.0, 0.5, (int(rng.integers(2, 7)), 40)) ** 3
    hours = _non_dominated(columns.T)
    kept = hours[_hull_hours(columns[:, hours])]
    assert kept.size < 40
    draws = rng.uniform(0.0, 1.0, (2000, columns.shape[0])) ** 4
    draws[: columns.shape[0]] = np.eye(columns.shape[0])
    peak_all = (draws @ columns).max(axis=1)
    peak_kept = (draws @ columns[:, kept]).max(axis=1)
    assert np.allclose(peak_kept, peak_all, rtol=0, atol=1e-12)


def year_profiles(tmp_path: Path, typical_days: int) -> Tiny:
    """Full-year synthetic profiles: seasonal and daily temperature cycles with a heat wave
    on day 200 and a price spike on day 30."""
    tiny = Tiny(tmp_path)
    hours = np.arange(8760)
    season = -np.cos(2 * np.pi * hours / 8760)
    daily = np.sin(2 * np.pi * (hours % 24) / 24)
    dry = 15 + 12 * season + 5 * daily
    dry[200 * 24 + 15] = 43.0
    wet = dry - 6
    price = 30 + 10 * daily + 5 * season
    price[30 * 24 + 18] = 2500.0
    tiny.dry_bulb = {"w1": dry.round(2).tolist()}
    tiny.wet_bulb = {"w1": wet.round(2).tolist()}
    tiny.price = {"z1": price.round(2).tolist()}
    tiny.carbon = {"z1": [400.0] * 8760}
    tiny.config["representative_days"] = {"typical_days": typical_days, "keep_extreme_days": True}
    tiny.hour_weights = None  # type: ignore[assignment]
    return tiny


def test_reduction_keeps_extreme_days_and_weights(tmp_path: Path) -> None:
    """6 typical days plus the extreme days: temperatures keep their annual peak exactly,
    weights sum to 8,760 h, the price keeps the hour of its peak and its annual mean exactly
    (rescaled), the temperature's mean is within 3 %."""
    from optimizer.profiles import reduce_profiles

    scenario = load_scenario(year_profiles(tmp_path, 6).write())
    reduced = reduce_profiles(scenario.profiles, scenario.config.representative_days)
    assert reduced.weight_h.sum() == pytest.approx(8760.0)
    assert reduced.n_hours % 24 == 0 and reduced.n_hours < 24 * 12
    error = reduced.error.set_index(["profile", "series"])
    assert float(error.loc[("dry_bulb_c", "w1"), "peak_reduced"]) == pytest.approx(43.0)
    assert float(error.loc[("dry_bulb_c", "w1"), "peak_error"]) == pytest.approx(0.0, abs=1e-9)
    assert float(error.loc[("price_usd_per_mwh", "z1"), "mean_error_frac"]) == pytest.approx(
        0.0, abs=1e-9
    )
    price = reduced.frames["price_usd_per_mwh"]["z1"].to_numpy()
    assert price.max() > 10 * np.median(price)  # the 2,500 USD/MWh hour is kept, rescaled
    assert np.all(np.abs(error["mean_error_frac"]) < 0.03)
    assert isinstance(reduced.frames["carbon_kg_per_mwh"], pd.DataFrame)
    assert np.allclose(reduced.frames["carbon_kg_per_mwh"]["z1"], 400.0)


def test_the_hull_tests_highs_lp_answers_as_scipys_linprog() -> None:
    """``optimizer.solver.feasibility_test`` (one HiGHS, no presolve) against
    ``scipy.optimize.linprog(method="highs-ds")`` on the hull test's LPs (is a PUE vector
    below a convex combination of others?) drawn at random, half of them feasible by
    construction (the point below a mix of the others), half not (the point above them all)."""
    from scipy.optimize import linprog

    from optimizer.solver import feasibility_test

    feasible = feasibility_test()
    rng = np.random.default_rng(0)
    for n in range(40):
        others = 1.1 + 0.3 * rng.random((6, 12))  # (pairs, hours)
        mix = rng.dirichlet(np.ones(12))
        point = others @ mix - 0.01 if n % 2 else others.max(axis=1) + 0.01
        args = (-others, -(point + 1e-6), np.ones((1, 12)), np.array([1.0]))
        found = linprog(np.zeros(12), *args, bounds=(0, None), method="highs-ds")
        assert feasible(*args) == (found.status == 0) == bool(n % 2)
