"""Infeasibility explained: one scenario per family, made infeasible on purpose.

Tiny defaults (tests/tiny.py): one period 2026H2, flat PUE 1.25, one liquid technology, a site
with ample headroom. Each case leaves exactly one way out, worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import load_scenario
from optimizer.diagnose import Diagnosis, diagnose
from tests.tiny import EXACT, Tiny, cooling, flat_curve, site


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    return Tiny(tmp_path)


def run(tiny: Tiny) -> Diagnosis:
    return diagnose(load_scenario(tiny.write()), EXACT)


def only(d: Diagnosis) -> tuple[str, str, str, float]:
    assert len(d.relaxations) == 1, d.lines()
    r = d.relaxations[0]
    return r.family, r.subject, r.period, r.amount


def test_feasible_scenario_has_nothing_to_diagnose(tiny: Tiny) -> None:
    d = run(tiny)
    assert d.feasible and not d.shortfalls and not d.relaxations


def test_headroom(tiny: Tiny) -> None:
    """Headroom 100 MW carries 80 MW IT at PUE 1.25: short 20 MW of the 100 MW target; the
    way out is 25 MW more facility headroom at a."""
    tiny.sites = [site("a", headroom_mw=100.0)]
    d = run(tiny)
    assert [(s.period, s.deliverable_it_mw, s.short_mw) for s in d.shortfalls] == [
        ("2026H2", pytest.approx(80.0), pytest.approx(20.0))
    ]
    assert only(d) == ("interconnection.within_headroom", "a", "2026H2", pytest.approx(25.0))
    assert "2026H2: portfolio target 100 MW, at most 80 MW can be energized" in str(d)


def test_zonal_limit(tiny: Tiny) -> None:
    """Zone z1 limit 100 MW shared by a and b: 80 MW IT; relax the zone by 25 MW."""
    tiny.zones[0]["import_limit_mw"] = 100.0
    tiny.sites = [site("a"), site("b")]
    d = run(tiny)
    assert d.shortfalls[0].short_mw == pytest.approx(20.0)
    assert only(d) == ("interconnection.within_zone_limit", "z1", "2026H2", pytest.approx(25.0))


def test_accelerator_supply(tiny: Tiny) -> None:
    """60 MW of accelerators per period against a 100 MW target: short 40 MW."""
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 60.0
    d = run(tiny)
    assert d.shortfalls[0].short_mw == pytest.approx(40.0)
    assert only(d) == ("phasing.within_supply", "portfolio", "2026H2", pytest.approx(40.0))


def test_site_maximum(tiny: Tiny) -> None:
    """The only campus holds 60 MW IT: short 40 MW."""
    tiny.sites = [site("a", max_it_mw=60.0)]
    d = run(tiny)
    assert only(d) == ("phasing.within_site_max", "a", "2026H2", pytest.approx(40.0))


def test_earliest_date(tiny: Tiny) -> None:
    """a is permitted in 2026H2, so with a one-period lead time it energizes in 2027H1, after
    the horizon: nothing can be delivered; a would have to energize 100 MW early."""
    tiny.sites = [site("a", earliest_period="2026H2")]
    d = run(tiny)
    assert d.shortfalls[0].deliverable_it_mw == pytest.approx(0.0)
    assert only(d) == ("time_rules.before_earliest", "a", "2026H2", pytest.approx(100.0))
    assert "before its earliest period after the horizon" in str(d)


def test_upgrade_lead_time(tiny: Tiny) -> None:
    """Periods 2026H2, 2027H1, 100 MW each; a has no headroom and a +200 MW upgrade with lead
    time 1. In 2026H2 nothing can be energized; bringing the upgrade forward one period
    (weighted 0.5 x 200 = 100) beats 125 MW of headroom that does not exist."""
    tiny.periods("2026H2", "2027H1", [100.0, 100.0])
    tiny.sites = [site("a", headroom_mw=0.0)]
    tiny.upgrades = [
        {
            "upgrade_id": "u1",
            "site_id": "a",
            "name": "line",
            "added_mw": 200.0,
            "capex_musd": 1.0,
            "lead_periods": 1,
        }
    ]
    d = run(tiny)
    assert [s.period for s in d.shortfalls] == ["2026H2"]
    family, subject, period, amount = only(d)
    assert (family, subject, period) == ("time_rules.before_lead_time", "u1", "2026H2")
    assert amount == pytest.approx(1.0)


def test_water_limit(tiny: Tiny) -> None:
    """Only a tower (WUE 1.0 L/kWh) at load factor 1: 8,760 m3 per MW-year. A limit of
    100,000 m3/yr carries 11.42 MW; the 100 MW target needs 876,000 m3/yr: +776,000."""
    tiny.sites = [site("a", water_limit_m3_per_year=100_000.0)]
    tiny.cooling = [cooling("tower")]
    tiny.curves = flat_curve("tower", 1.25, 1.0)
    d = run(tiny)
    assert d.shortfalls[0].deliverable_it_mw == pytest.approx(100_000 / 8760)
    assert only(d) == ("cooling.within_water_limit", "a", "2026H2", pytest.approx(776_000.0))


def test_no_allowed_cooling_is_noted(tiny: Tiny) -> None:
    """A 45 C site whose only technology is rated to 40 C cannot host IT at all."""
    tiny.dry_bulb = {"w1": [30.0, 45.0]}
    tiny.cooling = [cooling("dry", max_dry_bulb_c=40.0)]
    tiny.curves = flat_curve("dry", 1.25)
    d = run(tiny)
    assert d.shortfalls[0].short_mw == pytest.approx(100.0)
    assert any("a: no cooling technology is allowed" in n for n in d.notes)


def test_latency_bound_demand(tiny: Tiny) -> None:
    """100 MW of inference for users 3.3 ms (round trip) from the only campus, limit 2 ms:
    nothing can serve it, and the diagnosis says so."""
    tiny.sites = [site("far", latitude_deg=0.0, longitude_deg=2.0)]
    tiny.regions = [
        {
            "region_id": "users",
            "name": "users",
            "latitude_deg": 0.0,
            "longitude_deg": 0.0,
            "latency_limit_ms": 2.0,
            "network_cost_usd_per_mw_year_per_1000km": 0.0,
        }
    ]
    tiny.demand = [{"region_id": "users", "period": "2026H2", "inference_it_mw": 100.0}]
    d = run(tiny)
    assert "2026H2: no campus can serve users within its latency limit (nearest 3.3 ms" in str(d)


def fuel_cells(**overrides: object) -> dict[str, object]:
    """Fuel cells on gas: 6.5 MMBtu/MWh x 53.06 kg/MMBtu = 0.34489 t CO2/MWh."""
    from tests.tiny import onsite_option

    return onsite_option(
        "fc", "a", technology="fuel cells", heat_rate_mmbtu_per_mwh=6.5, **overrides
    )


def test_air_permit(tiny: Tiny) -> None:
    """a: 100 MW of headroom, fuel cells permitted 20,000 t/yr = 6.620 MW around the clock:
    (100 + 6.620) / 1.25 = 85.30 MW IT. The cheapest way out is the permit: 25 MW all year
    emits 75,531 t, 55,531 t over (weight 11.9), not 18.38 MW more headroom (18.4)."""
    tiny.sites = [site("a", headroom_mw=100.0)]
    tiny.onsite = [fuel_cells(permit_tco2_per_year=20_000.0)]
    d = run(tiny)
    rate = 6.5 * 53.06 / 1000 * 8760  # t per MW-year
    assert d.shortfalls[0].deliverable_it_mw == pytest.approx((100 + 20_000 / rate) / 1.25)
    assert only(d) == ("onsite.within_permit", "fc", "2026H2", pytest.approx(25 * rate - 20_000))
    assert "air permit of fc at a short by 55,531 t CO2/yr" in str(d)


def test_headroom_at_an_onsite_campus_relaxes_the_grids_hourly_share_too(tiny: Tiny) -> None:
    """a: 100 MW of headroom, fuel cells of at most 10 MW: 88 MW IT. 15 MW more headroom
    is the way out; it must lift both the design-hour rule and the hourly grid share."""
    tiny.sites = [site("a", headroom_mw=100.0)]
    tiny.onsite = [fuel_cells(max_mw=10.0)]
    d = run(tiny)
    assert d.shortfalls[0].deliverable_it_mw == pytest.approx(88.0)
    assert only(d) == ("interconnection.within_headroom", "a", "2026H2", pytest.approx(15.0))


def test_cfe_target(tiny: Tiny) -> None:
    """A 95 % hourly-matched target with at most 100 MW of wind at capacity factors 0.5 and
    0.1: 4,380 x (50 + 10) = 262,800 MWh/yr can be matched of 1,095,000, so the way out is
    0.95 x 1,095,000 - 262,800 = 777,450 MWh/yr more matched clean energy. The ramp itself is
    not short: the target is the only thing that gives."""
    from tests.test_clean import wind

    case = wind(tiny.folder, 0.95)
    case.contracts[0]["max_mw"] = 100.0
    d = diagnose(load_scenario(case.write()), EXACT)
    assert only(d) == ("clean.meets_target", "portfolio", "2026H2", pytest.approx(777_450.0))


def test_demand_the_campuses_cannot_hold_is_named(tiny: Tiny) -> None:
    """The facility-location instance of tests/test_demand.py with 270 MW of inference demand
    (r1 200, r2 40, r3 30) against campuses of 100 + 100 + 50 MW: no ramp shortfall helps
    (the target is 0), so every relaxable rule gives at once. The smallest relaxation is 20 MW,
    as demand short or as more IT at a campus (the same weight per MW)."""
    from tests.test_demand import facility_location

    d = run(facility_location(tiny, {"r1": 200.0, "r2": 40.0, "r3": 30.0}))
    assert not d.feasible and not d.shortfalls
    assert not any("did not solve" in n for n in d.notes), d.lines()
    assert {r.family for r in d.relaxations} <= {"demand.meets_demand", "phasing.within_site_max"}
    assert sum(r.amount for r in d.relaxations) == pytest.approx(20.0)
