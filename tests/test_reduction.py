"""Representative hours keep the data's shape: every rescaled series' full-year mean, every
value within the series' observed range, temperatures as observed and their design-day peaks
exact; the errors are reported per series; the plan records its hours in plan.nc and the
auditor checks them against the raw profiles (a hand-edited reduction is a violation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from optimizer import load_scenario
from optimizer.api import DEFAULT_SCENARIO
from optimizer.audit import audit_plan
from optimizer.cli import app
from optimizer.profiles import (
    SEP,
    RepresentativeHours,
    duration_curve,
    reduce_profiles,
)
from optimizer.scenario import Scenario
from tests.test_prepare import year_profiles
from tests.tiny import Tiny

TEMPERATURES = ("dry_bulb_c", "wet_bulb_c")


def windy_year(tmp_path: Path) -> Tiny:
    """The synthetic year of ``tests.test_prepare`` (price spike of 2,500 USD/MWh on day 30,
    heat wave of 43 C on day 200) with a wind contract whose output reaches 1.0 on windy
    nights and is 0 on calm days: a capacity factor cannot be scaled past 1."""
    tiny = year_profiles(tmp_path, 6)
    hours = np.arange(8760)
    night = (hours % 24 < 6) | (hours % 24 > 20)
    windy = (hours // 24) % 3 != 0
    cf = np.where(windy, np.where(night, 1.0, 0.4), 0.0)
    tiny.contracts = [
        {
            "contract_id": "wind",
            "zone_id": "z1",
            "technology": "onshore wind",
            "max_mw": 100.0,
            "price_usd_per_mwh": 30.0,
            "lead_periods": 0,
        }
    ]
    tiny.capacity_factor = {"wind": cf.tolist()}
    return tiny


def assert_faithful(scenario: Scenario, reduced: RepresentativeHours) -> None:
    """Weights sum to the year; no value outside its series' observed range; rescaled series
    keep the year's mean within 1e-6 (relative to max(1, |mean|)); temperatures are the
    values observed at their source hour and keep their peak exactly."""
    assert reduced.weight_h.sum() == pytest.approx(8760.0)
    for profile, frame in scenario.profiles.frames.items():
        for column in frame.columns:
            x0 = frame[column].to_numpy(dtype=float)
            x1 = reduced.frames[profile][column].to_numpy(dtype=float)
            name = f"{profile}{SEP}{column}"
            assert x1.max() <= x0.max() + 1e-9, name
            assert x1.min() >= x0.min() - 1e-9, name
            if profile in TEMPERATURES:
                assert np.array_equal(x1, x0[reduced.source_hour]), name
                assert x1.max() == x0.max(), name
            else:
                mean = np.average(x1, weights=reduced.weight_h)
                assert mean == pytest.approx(x0.mean(), rel=1e-6, abs=1e-6), name


def test_duration_curve_by_hand() -> None:
    """Values 3 (1 h) and 1 (3 h) at 4 points: 3, 1, 1, 1; unsorted input sorts; at 8
    points each value lasts twice as many points."""
    assert duration_curve(np.array([1.0, 3.0]), np.array([3.0, 1.0]), 4).tolist() == [3, 1, 1, 1]
    curve = duration_curve(np.array([1.0, 3.0]), np.array([3.0, 1.0]), 8)
    assert curve.tolist() == [3, 3, 1, 1, 1, 1, 1, 1]


def test_synthetic_year_keeps_means_range_and_peaks(tmp_path: Path) -> None:
    """The price spike and the heat wave survive exactly (extreme days, not rescaled); the
    capacity factor keeps its mean without passing 1; errors are reported per series."""
    scenario = load_scenario(windy_year(tmp_path).write())
    reduced = reduce_profiles(scenario.profiles, scenario.config.representative_days)
    assert_faithful(scenario, reduced)
    assert reduced.frames["price_usd_per_mwh"]["z1"].max() == 2500.0
    assert reduced.frames["dry_bulb_c"]["w1"].max() == 43.0
    error = reduced.error.set_index(["profile", "series"])
    assert set(error.index) == {
        (p, str(c)) for p, f in scenario.profiles.frames.items() for c in f.columns
    }
    wind = error.loc[("capacity_factor_frac", "wind")]
    assert abs(wind["mean_error_frac"]) < 1e-6 and wind["peak_error"] <= 1e-12
    assert error.loc[("dry_bulb_c", "w1"), "peak_error"] == 0.0
    assert (error["duration_rmse"] >= 0).all()


def test_default_prices_stay_within_the_observed_year() -> None:
    """Rescaling whole series to the mean pushed the representative peak above the year's
    maximum in 24 of 27 default zones (SPP South x1.33); tsam's mean preservation does not."""
    scenario = load_scenario(DEFAULT_SCENARIO)
    reduced = reduce_profiles(scenario.profiles, scenario.config.representative_days)
    assert_faithful(scenario, reduced)
    prices = scenario.profiles.frames["price_usd_per_mwh"]
    kept = reduced.frames["price_usd_per_mwh"]
    assert len(prices.columns) == 27
    assert (kept.max() == prices.max()).all()  # each zone's highest-price day kept as is


# --------------------------------------------------------------------------- plan files


def edit_reduction(folder: Path, series: str, hour: int, value: float | None = None) -> None:
    """Set one value of the representative hours in ``plan.nc`` (or, with ``value`` None,
    double every weight)."""
    path = folder / "plan.nc"
    ds = xr.load_dataset(path, engine="netcdf4")
    if value is None:
        ds["hour_weight_h"] = ds["hour_weight_h"] * 2
    else:
        ds["representative_value"].loc[{"hour": hour, "series": series}] = value
    ds.to_netcdf(path, engine="netcdf4")


def test_plan_records_its_hours_and_the_auditor_checks_them(tmp_path: Path) -> None:
    """The plan's hours, weights and values are in plan.nc and its per-series errors in
    plan.json; a price raised past the year's maximum, a temperature not as observed, or
    doubled weights are each a ``reduction.faithful`` violation naming plan.nc (exit 5)."""
    tiny = windy_year(tmp_path)
    plan = tiny.solve()  # audited: the written reduction is faithful
    folder = tiny.folder / "scenario-plan"
    stated = json.loads((folder / "plan.json").read_text())["representative_hours"]
    assert set(stated) == {
        "price_usd_per_mwh|z1",
        "carbon_kg_per_mwh|z1",
        "dry_bulb_c|w1",
        "wet_bulb_c|w1",
        "capacity_factor_frac|wind",
    }
    assert stated["price_usd_per_mwh|z1"]["peak_error"] == 0.0
    with xr.open_dataset(folder / "plan.nc", engine="netcdf4") as ds:
        assert ds.sizes["hour"] == plan.dataset.sizes["hour"]
        assert float(ds["hour_weight_h"].sum()) == pytest.approx(8760.0)
    scenario = load_scenario(tiny.folder / "scenario")

    cases = [
        ("price_usd_per_mwh|z1", 5, 2600.0, "leaves the observed range"),
        ("dry_bulb_c|w1", 3, None, "observed"),
        ("", 0, None, "weights: sum to 17,520 h"),
    ]
    for series, hour, value, message in cases:
        plan.write(folder)
        if series == "dry_bulb_c|w1":
            with xr.open_dataset(folder / "plan.nc", engine="netcdf4") as ds:
                value = float(ds["representative_value"].sel(hour=hour, series=series)) + 0.5
        edit_reduction(folder, series, hour, value)
        report = audit_plan(scenario, folder)
        found = [str(v) for v in report.by_rule("reduction.faithful")]
        assert found and all(f.startswith("reduction.faithful: plan.nc") for f in found), found
        assert any(message in f for f in found), (message, found)
        result = CliRunner().invoke(app, ["audit", str(tiny.folder / "scenario"), str(folder)])
        assert result.exit_code == 5 and "plan.nc" in result.output


def test_given_hours_are_checked_value_by_value(tmp_path: Path) -> None:
    """With given representative hours (no tsam), the plan's hours are the scenario's own:
    a price changed from 0 to 1 USD/MWh at hour 1 is named."""
    tiny = Tiny(tmp_path)
    plan = tiny.solve()
    folder = tiny.folder / "scenario-plan"
    edit_reduction(folder, "price_usd_per_mwh|z1", 1, 1.0)
    report = audit_plan(load_scenario(tiny.folder / "scenario"), folder)
    found = [str(v) for v in report.by_rule("reduction.faithful")]
    assert any(
        "price_usd_per_mwh|z1 hour 1: is 1, observed 0 at hour 1 of the data" in f for f in found
    ), found
    assert plan.dataset["hour_source"].to_numpy().tolist() == [0, 1]
