"""Plausibility (issue 10, section 3): values that pass the types but are almost surely a
unit slip are warned about by file, row and field; printed, stored in plan.json, and
refused with ``--strict`` (exit 2, nothing written). The bundled data gives no warning, and
the ranges stated in :mod:`optimizer.plausibility` are the bundled data's."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import load_scenario
from optimizer.plausibility import PUE, WATER_LIMIT, ZONE_MEAN_PRICE, plausibility_warnings
from tests.test_audit import upgrade
from tests.tiny import Tiny, flat_curve, site

DEFAULT = Path(__file__).parent.parent / "data" / "default"


def gridsite(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimizer.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass(frozen=True)
class Slip:
    name: str
    edit: Callable[[Tiny], object]
    warning: str
    """The start of the warning: ``file:row: field:``."""
    says: str


def zone_limit(mw: float) -> Callable[[Tiny], object]:
    def edit(t: Tiny) -> None:
        t.zones[0]["import_limit_mw"] = mw

    return edit


SLIPS = [
    Slip(
        "headroom typed in kW",
        lambda t: t.sites.append(site("b", max_it_mw=25.0, headroom_mw=25_000.0)),
        "sites.csv:3: headroom_mw:",
        "25,000 MW of headroom for a campus of at most 25 MW IT (1,000 x): typed in kW?",
    ),
    Slip(
        "headroom many times the zone's import limit",
        lambda t: (
            zone_limit(200.0)(t),
            t.sites.__setitem__(0, site("a", headroom_mw=100.0)),
            t.sites.append(site("b", headroom_mw=5_000.0)),
        ),
        "sites.csv:3: headroom_mw:",
        "5,000 MW of headroom is 25 x the import limit of zone z1 (200 MW)",
    ),
    Slip(
        "a campus far above what its zone could feed",
        lambda t: (zone_limit(50.0)(t), t.sites.__setitem__(0, site("a", headroom_mw=50.0))),
        "sites.csv:2: max_it_mw:",
        "1,000 MW IT is 20 x what zone z1 could ever feed (50 MW",
    ),
    Slip(
        "an upgrade typed in kW",
        lambda t: t.upgrades.append(upgrade("u", "a", added_mw=20_000.0)),
        "upgrades.csv:2: added_mw:",
        "20,000 MW added to a campus of at most 1,000 MW IT (20 x)",
    ),
    Slip(
        "prices in USD/kWh",
        lambda t: t.price.update(z1=[0.045, 0.05]),
        "profiles/price_usd_per_mwh.csv: z1:",
        "mean price 0.0475 USD/MWh, far outside 23.86-52.59 USD/MWh",
    ),
    Slip(
        "a PUE of 3.5",
        lambda t: t.curves.__setitem__(0, flat_curve("liq", 3.5)[0]),
        "cooling_curves.csv:2: value:",
        "PUE 3.5 of liq, far above 1.095-1.556",
    ),
    Slip(
        "a water limit of a few m3",
        lambda t: t.sites.append(site("b", water_limit_m3_per_year=5.0)),
        "sites.csv:3: water_limit_m3_per_year:",
        "5 m3 a year, far below 4e+05-8e+06 m3/year",
    ),
]


@pytest.mark.parametrize("slip", SLIPS, ids=[s.name for s in SLIPS])
def test_a_unit_slip_is_warned_about_by_file_row_and_field(slip: Slip, tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    slip.edit(tiny)
    warnings = [str(w) for w in plausibility_warnings(load_scenario(tiny.write()))]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(slip.warning) and slip.says in warnings[0], warnings[0]


def test_tame_scenarios_and_the_bundled_data_give_no_warning(tmp_path: Path) -> None:
    """The tiny scenario's zero prices are energy left out on purpose, not a slip."""
    assert plausibility_warnings(load_scenario(Tiny(tmp_path).write())) == []
    assert plausibility_warnings(load_scenario(DEFAULT)) == []


def test_the_observed_ranges_are_the_bundled_data() -> None:
    prices = pd.read_csv(DEFAULT / "profiles" / "price_usd_per_mwh.csv").drop(columns="hour")
    means = prices.mean()
    assert (ZONE_MEAN_PRICE.low, ZONE_MEAN_PRICE.high) == pytest.approx(
        (means.min(), means.max()), abs=1e-3
    )
    curves = pd.read_csv(DEFAULT / "cooling_curves.csv")
    pue = curves.loc[curves["quantity"] == "pue", "value"]
    assert (PUE.low, PUE.high) == (pue.min(), pue.max())
    water = pd.read_csv(DEFAULT / "sites.csv")["water_limit_m3_per_year"]
    assert (WATER_LIMIT.low, WATER_LIMIT.high) == (np.nanmin(water), np.nanmax(water))


def test_warnings_are_printed_stored_and_refused_with_strict(tmp_path: Path) -> None:
    """Through the real CLI: validate warns (exit 0) and refuses with --strict (exit 2);
    solve --strict refuses before any work (nothing written); solve stores the warning in
    plan.json."""
    tiny = Tiny(tmp_path)
    tiny.sites.append(site("b", max_it_mw=25.0, headroom_mw=25_000.0))
    scenario, out = tiny.write(), tmp_path / "plan"
    line = f"{scenario / 'sites.csv'}:3: headroom_mw: 25,000 MW of headroom"

    result = gridsite("validate", scenario)
    assert result.returncode == 0 and f"warning: {line}" in result.stderr, result.stderr
    result = gridsite("validate", scenario, "--strict")
    assert result.returncode == 2 and f"error: {line}" in result.stderr, result.stderr
    result = gridsite("solve", scenario, "--out", out, "--strict")
    assert result.returncode == 2 and "--strict; nothing was written" in result.stderr
    assert not out.exists()

    result = gridsite("solve", scenario, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "warning: sites.csv:3: headroom_mw: 25,000 MW of headroom" in result.stderr
    warnings = json.loads((out / "plan.json").read_text())["warnings"]
    assert any(w.startswith("sites.csv:3: headroom_mw: 25,000 MW") for w in warnings), warnings
