"""The epsilon-constraint Pareto front on a hand-solved instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import load_scenario
from optimizer.pareto import pareto_front
from tests.tiny import EXACT, Tiny, cooling, flat_curve, site


def test_cost_energy_front_by_hand(tmp_path: Path) -> None:
    """Sites a and b hold 50 MW each, target 100 MW, one half-year at load factor 1, no price.
    efficient: PUE 1.1, capex 0.5/MW; plain: PUE 1.3, capex 0.2/MW; building 1.0/MW.
    Per 50 MW: efficient 75 M USD and 240,900 MWh; plain 60 M USD and 284,700 MWh.
    Front (3 points from least cost to least energy):
      both plain      120 M USD, 569,400 MWh
      one of each     135 M USD, 525,600 MWh
      both efficient  150 M USD, 481,800 MWh"""
    tiny = Tiny(tmp_path)
    tiny.cooling = [
        cooling("efficient", capex_musd_per_mw=0.5),
        cooling("plain", capex_musd_per_mw=0.2),
    ]
    tiny.curves = flat_curve("efficient", 1.1) + flat_curve("plain", 1.3)
    tiny.sites = [site("a", max_it_mw=50.0), site("b", max_it_mw=50.0)]
    front = pareto_front(load_scenario(tiny.write()), "cost", "energy", 3, EXACT)
    assert front.table["cost_musd"].tolist() == pytest.approx([120.0, 135.0, 150.0])
    assert front.table["energy_mwh"].tolist() == pytest.approx([569_400.0, 525_600.0, 481_800.0])
    assert [p.status for p in front.plans] == ["optimal"] * 3
    out = front.write(tmp_path / "front")
    assert (out / "frontier.png").stat().st_size > 0
    assert (out / "frontier.csv").read_text().startswith("point,energy_bound,cost_musd")
    assert (out / "point_01" / "plan.json").exists()
