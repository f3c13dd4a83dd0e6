"""Marginal values: worked out by hand, and checked by finite differences."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from formulations import build_model
from optimizer import load_scenario
from optimizer.marginal import marginal_values
from optimizer.prepare import prepare
from optimizer.solver import HighsModel
from tests.tiny import EXACT, Tiny, cooling, flat_curve, site


def solve_with_marginals(tiny: Tiny, name: str) -> tuple[float, pd.DataFrame]:
    data = prepare(load_scenario(tiny.write(name)))
    model = build_model(data)
    highs = HighsModel(model, EXACT)
    result = highs.solve()
    assert result.objective_musd is not None
    return result.objective_musd, marginal_values(model, data, highs)


def value(frame: pd.DataFrame, kind: str, subject: str, period: str = "2026H2") -> float:
    row = frame[(frame.kind == kind) & (frame.subject == subject) & (frame.period == period)]
    assert len(row) == 1, frame
    return float(row["value"].iloc[0])


def test_headroom_and_ramp_values_by_hand_and_finite_difference(tmp_path: Path) -> None:
    """a: 1.0 M USD/MW, headroom 100 MW (80 MW IT at PUE 1.25); b: 2.0 M USD/MW, unlimited.
    Target 100 MW: a 80 + b 20 = 80 + 40 = 120 M USD.
    One more MW of headroom at a moves 0.8 MW from b to a: 800,000 USD.
    One more MW of target is built at b: 2,000,000 USD.
    Finite differences: headroom 101 -> 119.2; target 101 -> 122."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0), site("b", building_capex_musd_per_mw=2.0)]
    objective, values = solve_with_marginals(tiny, "base")
    assert objective == pytest.approx(120.0)
    assert value(values, "headroom", "a") == pytest.approx(800_000.0)
    assert value(values, "ramp", "portfolio") == pytest.approx(2_000_000.0)

    tiny.sites[0]["headroom_mw"] = 101.0
    bumped, _ = solve_with_marginals(tiny, "headroom")
    assert (objective - bumped) * 1e6 == pytest.approx(value(values, "headroom", "a"))
    tiny.sites[0]["headroom_mw"] = 100.0
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 101.0}
    bumped, _ = solve_with_marginals(tiny, "target")
    assert (bumped - objective) * 1e6 == pytest.approx(value(values, "ramp", "portfolio"))


def test_zone_limit_value(tmp_path: Path) -> None:
    """z1 (limit 100 MW draw) holds a (1.0/MW) and b (2.0/MW); c (3.0/MW) sits in z2.
    Target 100: a 80 + c 20 = 140. One more MW of the z1 limit moves 0.8 MW from c to a:
    1,600,000 USD; the re-solve with 101 MW gives 138.4."""
    tiny = Tiny(tmp_path)
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": 100.0},
        {"zone_id": "z2", "name": "z2", "region": "r", "import_limit_mw": None},
    ]
    tiny.price["z2"] = [0.0, 0.0]
    tiny.carbon["z2"] = [0.0, 0.0]
    tiny.sites = [
        site("a"),
        site("b", building_capex_musd_per_mw=2.0),
        site("c", zone_id="z2", building_capex_musd_per_mw=3.0),
    ]
    objective, values = solve_with_marginals(tiny, "base")
    assert objective == pytest.approx(140.0)
    assert value(values, "zone_limit", "z1") == pytest.approx(1_600_000.0)
    tiny.zones[0]["import_limit_mw"] = 101.0
    bumped, _ = solve_with_marginals(tiny, "bumped")
    assert (objective - bumped) * 1e6 == pytest.approx(1_600_000.0)


def test_water_value(tmp_path: Path) -> None:
    """One tower technology (WUE 1.0 L/kWh, load factor 1: 8,760 m3 per MW-year).
    a (1.0/MW) may use 438,000 m3/yr (50 MW); b (2.0/MW) has no limit. Target 100:
    a 50 + b 50 = 150. One more m3/yr at a moves 1/8,760 MW from b to a: 114.155 USD."""
    tiny = Tiny(tmp_path)
    tiny.cooling = [cooling("tower")]
    tiny.curves = flat_curve("tower", 1.25, 1.0)
    tiny.sites = [
        site("a", water_limit_m3_per_year=438_000.0),
        site("b", building_capex_musd_per_mw=2.0),
    ]
    objective, values = solve_with_marginals(tiny, "base")
    assert objective == pytest.approx(150.0)
    assert value(values, "water", "a") == pytest.approx(1e6 / 8760)
    tiny.sites[0]["water_limit_m3_per_year"] = 438_000.0 + 8_760.0
    bumped, _ = solve_with_marginals(tiny, "bumped")
    assert (objective - bumped) * 1e6 == pytest.approx(8_760 * 1e6 / 8760)


def test_supply_value_per_block(tmp_path: Path) -> None:
    """Periods 2026H2, 2027H1, targets 0 and 100 MW, supply 60 MW a period, blocks of 10 MW.
    a (1.0/MW) energizes from 2027H1, b (2.0/MW) from 2026H2: a 60 in 2027H1, b 40 in
    2026H2: 60 + 80 = 140. One more block of supply in 2027H1 moves 10 MW from b to a:
    10,000,000 USD; the re-solve with 70 MW of supply gives 130."""
    tiny = Tiny(tmp_path)
    tiny.periods("2026H2", "2027H1", [0.0, 100.0])
    tiny.portfolio["block_it_mw"] = 10.0
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 60.0
    tiny.sites = [
        site("a", earliest_period="2026H2"),
        site("b", building_capex_musd_per_mw=2.0),
    ]
    objective, values = solve_with_marginals(tiny, "base")
    assert objective == pytest.approx(140.0)
    assert value(values, "supply", "portfolio", "2027H1") == pytest.approx(10_000_000.0)
    tiny.portfolio["accelerator_supply_it_mw_per_period"] = 70.0
    bumped, _ = solve_with_marginals(tiny, "bumped")
    assert (objective - bumped) * 1e6 == pytest.approx(10_000_000.0)


def test_headroom_value_at_an_onsite_campus(tmp_path: Path) -> None:
    """The engines case of test_site_power: 25 MW of engines (0.2 M USD/MW) bridge a's
    missing headroom; they run in both hours, which nets to zero against the grid (fuel 30
    USD/MWh = the average of 50 and 10). One more MW of headroom saves one MW of engines:
    200,000 USD, spread over the design-hour and hourly rows. Checked by finite difference."""
    from tests.test_site_power import two_campuses
    from tests.tiny import onsite_option

    tiny = two_campuses(tmp_path)
    tiny.onsite = [onsite_option("g", "a", capex_musd_per_mw=0.2)]
    objective, values = solve_with_marginals(tiny, "base")
    assert value(values, "headroom", "a") == pytest.approx(200_000.0)
    tiny.sites[0]["headroom_mw"] = 101.0
    bumped, _ = solve_with_marginals(tiny, "headroom")
    assert (objective - bumped) * 1e6 == pytest.approx(200_000.0)


def test_permit_value_by_finite_difference(tmp_path: Path) -> None:
    """With a 50,000 t/yr permit a holds 88.6 MW IT and b the rest: one more t/yr lets a
    take 1/(8,760 x 0.5306 x 1.25) MW IT more from b."""
    from tests.test_site_power import two_campuses
    from tests.tiny import onsite_option

    tiny = two_campuses(tmp_path)
    tiny.onsite = [onsite_option("g", "a", capex_musd_per_mw=0.2, permit_tco2_per_year=50_000)]
    objective, values = solve_with_marginals(tiny, "base")
    tiny.onsite[0]["permit_tco2_per_year"] = 50_100.0
    bumped, _ = solve_with_marginals(tiny, "permit")
    per_t = (objective - bumped) * 1e6 / 100
    assert per_t > 0
    assert value(values, "permit", "g") == pytest.approx(per_t, rel=1e-6)
