"""Scenario variants (:mod:`optimizer.variants`): each edit changes exactly what it says and
nothing else, leaves the original unchanged, is refused with one line naming the id (and the
closest one) or the field it takes out of range, and the solved plan reacts as worked by hand.

The hand-solved base (:func:`two_zones`): one period (2026H2, half a year), 100 MW IT due, no
discounting, PUE 1.25 all year, so one MW IT draws 1.25 x 4,380 = 5,475 MWh in the period.
Campus a (zone z1, region r) costs 1.00 M USD/MW to build, campus b (zone z2, region q) 1.02;
both zones at 10 USD/MWh: 0.05475 M USD of energy per MW. a alone: 100 x 1.05475 = 105.475
M USD; b alone: 107.475.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from optimizer import Scenario, ScenarioError, load_scenario, solve
from optimizer.audit import audit_plan
from optimizer.plan import Plan
from optimizer.sweep_file import CaseSettings, apply_case, load_sweep
from tests.tiny import EXACT, Tiny, cooling, flat_curve, site


def two_zones(tmp_path: Path, **tiny_edits: Any) -> Scenario:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a"), site("b", zone_id="z2", building_capex_musd_per_mw=1.02)]
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": None},
        {"zone_id": "z2", "name": "z2", "region": "q", "import_limit_mw": None},
    ]
    tiny.price = {"z1": [10.0, 10.0], "z2": [10.0, 10.0]}
    tiny.carbon = {"z1": [400.0, 400.0], "z2": [400.0, 400.0]}
    tiny.upgrades = [
        {
            "upgrade_id": "a_230kv",
            "site_id": "a",
            "name": "a 230 kV",
            "added_mw": 500.0,
            "capex_musd": 5.0,
            "lead_periods": 0,
        }
    ]
    for name, value in tiny_edits.items():
        setattr(tiny, name, value)
    return load_scenario(tiny.write())


def solved(scenario: Scenario, tmp_path: Path, name: str = "plan") -> Plan:
    """Solve exactly; a plan with a solution must pass the independent audit against the
    variant it was solved from."""
    plan = solve(scenario, EXACT)
    if plan.has_solution:
        report = audit_plan(scenario, plan.write(tmp_path / name))
        assert report.ok, str(report)
    return plan


def npv(plan: Plan) -> float:
    assert plan.status == "optimal", plan.status
    return round(plan.cost_npv_musd["total"], 6)


def it_mw(plan: Plan) -> dict[str, float]:
    sites = plan.sites
    mw = sites["it_mw"].to_numpy(dtype=float)
    return {
        str(s): round(float(v), 6) for s, v in zip(sites["site_id"], mw, strict=True) if v > 1e-6
    }


def differences(a: Scenario, b: Scenario) -> set[str]:
    """Everything that differs between two scenarios: ``config.<dotted path>``,
    ``<table>.<row id>.<field>`` (``<table>.<row id>`` for a row one of them lacks) and
    ``profiles.<name>.<column>``."""
    out = {f"config.{k}" for k in _dict_diff(a.config.model_dump(), b.config.model_dump())}
    for table in (
        "sites",
        "zones",
        "upgrades",
        "cooling",
        "flexible_connections",
        "onsite_power",
        "serving",
    ):
        rows_a = {_key(r): r.model_dump() for r in getattr(a, table)}
        rows_b = {_key(r): r.model_dump() for r in getattr(b, table)}
        out |= {f"{table}.{k}" for k in rows_a.keys() ^ rows_b.keys()}
        for k in rows_a.keys() & rows_b.keys():
            out |= {f"{table}.{k}.{f}" for f in _dict_diff(rows_a[k], rows_b[k])}
    for name, frame in a.profiles.frames.items():
        other = b.profiles.frames[name]
        out |= {
            f"profiles.{name}.{c}"
            for c in frame.columns.union(other.columns)
            if c not in frame or c not in other or not frame[c].equals(other[c])
        }
    return out


def _key(row: Any) -> str:
    return str(next(iter(row.model_dump().values())))


def _dict_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for k in a.keys() | b.keys():
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out |= _dict_diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.add(f"{prefix}{k}")
    return out


def snapshot(s: Scenario) -> dict[str, Any]:
    return {
        "config": s.config.model_dump(),
        "sites": [r.model_dump() for r in s.sites],
        "upgrades": [r.model_dump() for r in s.upgrades],
        "profiles": {k: v.copy() for k, v in s.profiles.frames.items()},
        "lines": dict(s.lines),
    }


def assert_unchanged(s: Scenario, before: dict[str, Any]) -> None:
    after = snapshot(s)
    assert {k: v for k, v in after.items() if k != "profiles"} == {
        k: v for k, v in before.items() if k != "profiles"
    }
    for name, frame in before["profiles"].items():
        pd.testing.assert_frame_equal(after["profiles"][name], frame)


# --------------------------------------------------------------------------- what changes


def test_each_edit_changes_exactly_what_it_says(tmp_path: Path) -> None:
    base = two_zones(tmp_path)
    before = snapshot(base)
    cases: list[tuple[Scenario, set[str]]] = [
        (base.scale_prices(2.0, zone="z1"), {"profiles.price_usd_per_mwh.z1"}),
        (base.scale_prices(2.0, region="q"), {"profiles.price_usd_per_mwh.z2"}),
        (
            base.scale_prices(2.0),
            {"profiles.price_usd_per_mwh.z1", "profiles.price_usd_per_mwh.z2"},
        ),
        (base.with_target(factor=2.0), {"config.portfolio.target_it_mw_by_period.2026H2"}),
        (base.with_target("2026H2", mw=50.0), {"config.portfolio.target_it_mw_by_period.2026H2"}),
        (base.without_campus("a"), {"sites.a", "upgrades.a_230kv"}),
        (base.with_headroom(80.0, site="a"), {"sites.a.headroom_mw"}),
        (base.with_headroom(factor=0.5, region="q"), {"sites.b.headroom_mw"}),
        (base.with_water_limit(1e6, zone="z2"), {"sites.b.water_limit_m3_per_year"}),
        (
            base.with_water_limit(1e6),
            {"sites.a.water_limit_m3_per_year", "sites.b.water_limit_m3_per_year"},
        ),
        (base.delay_upgrades(2), {"upgrades.a_230kv.lead_periods"}),
        (base.scale_upgrade_capex(3.0, site="a"), {"upgrades.a_230kv.capex_musd"}),
        (base.with_carbon_price(100.0), {"config.objective.carbon_price_usd_per_t"}),
        (base.with_energy_weight(5.0), {"config.objective.energy_weight_usd_per_mwh"}),
        (
            base.with_accelerator_supply(50.0),
            {"config.portfolio.accelerator_supply_it_mw_per_period"},
        ),
        (base.with_name("tiny-b"), {"config.name"}),
    ]
    for variant, expected in cases:
        assert differences(base, variant) == expected
    assert_unchanged(base, before)

    price = base.scale_prices(2.0, zone="z1").profiles.frames["price_usd_per_mwh"]
    assert price["z1"].tolist() == [20.0, 20.0] and price["z2"].tolist() == [10.0, 10.0]
    assert base.with_target(factor=2.0).config.portfolio.target_it_mw_by_period == {"2026H2": 200.0}
    assert base.with_headroom(factor=0.5, region="q").sites[1].headroom_mw == 5000.0
    assert base.delay_upgrades(2).upgrades[0].lead_periods == 2
    assert base.scale_upgrade_capex(3.0).upgrades[0].capex_musd == 15.0


def test_water_limit_factor_keeps_no_limit_as_none(tmp_path: Path) -> None:
    base = two_zones(tmp_path).with_water_limit(2e6, site="a")
    scaled = base.with_water_limit(factor=0.5)
    assert [s.water_limit_m3_per_year for s in scaled.sites] == [1e6, None]


def test_without_campus_drops_its_rows_and_keeps_the_others_lines(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a"), site("b"), site("c")]
    tiny.flexible = [
        {
            "site_id": s,
            "nonfirm_mw": 10.0,
            "curtailment_budget_frac": 0.01,
            "lost_compute_usd_per_mwh": 1000.0,
        }
        for s in ("a", "b", "c")
    ]
    base = load_scenario(tiny.write())
    variant = base.without_campus("b")
    assert [s.site_id for s in variant.sites] == ["a", "c"]
    assert [f.site_id for f in variant.flexible_connections] == ["a", "c"]
    # problems found later still name the true CSV line of a remaining row
    assert variant.line("sites.csv", 1) == base.line("sites.csv", 2) == 4
    assert variant.line("flexible_connections.csv", 1) == 4


# --------------------------------------------------------------------------- bad edits


@pytest.mark.parametrize(
    ("edit", "where", "message"),
    [
        (
            lambda s: s.scale_prices(1.2, zone="z3"),
            "zones.csv: zone_id:",
            "unknown zone 'z3' (not in zones.csv; expected one of z1, z2)",
        ),
        (
            lambda s: s.scale_prices(1.2, zone="Z1"),
            "zones.csv: zone_id:",
            "unknown zone 'Z1' (not in zones.csv; did you mean 'z1'?)",
        ),
        (
            lambda s: s.scale_prices(1.2, region="R"),
            "zones.csv: region:",
            "unknown region 'R' (not in zones.csv; did you mean 'r'?)",
        ),
        (
            lambda s: s.without_campus("aa"),
            "sites.csv: site_id:",
            "unknown site 'aa' (not in sites.csv; did you mean 'a'?)",
        ),
        (
            lambda s: s.with_headroom(10.0, site="B"),
            "sites.csv: site_id:",
            "unknown site 'B' (not in sites.csv; did you mean 'b'?)",
        ),
        (
            lambda s: s.delay_upgrades(1, upgrade="a_230kw"),
            "upgrades.csv: upgrade_id:",
            "did you mean 'a_230kv'?",
        ),
        (
            lambda s: s.with_target("2026H1", mw=10.0),
            "scenario.yaml: portfolio.target_it_mw_by_period:",
            "unknown period '2026H1'",
        ),
        (
            lambda s: s.with_headroom(factor=10.0),
            "sites.csv:2: headroom_mw:",
            "less than or equal to 40000 (got 100000.0)",
        ),
        (
            lambda s: s.delay_upgrades(-1),
            "upgrades.csv:2: lead_periods:",
            "greater than or equal to 0",
        ),
        (
            lambda s: s.with_carbon_price(-5.0),
            "scenario.yaml: objective.carbon_price_usd_per_t:",
            "greater than or equal to 0",
        ),
        (
            lambda s: s.scale_prices(1e5, zone="z1"),
            "profiles/price_usd_per_mwh.csv: z1:",
            "leave [-10000, 100000] USD/MWh",
        ),
        (
            lambda s: s.with_name("a/b"),
            "scenario.yaml: name:",
            "",
        ),
    ],
)
def test_bad_edit_raises_scenario_error_in_one_line(
    tmp_path: Path, edit: Any, where: str, message: str
) -> None:
    base = two_zones(tmp_path)
    before = snapshot(base)
    with pytest.raises(ScenarioError) as caught:
        edit(base)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(where) and message in text
    assert_unchanged(base, before)


def test_arguments_that_make_no_edit_are_value_errors(tmp_path: Path) -> None:
    base = two_zones(tmp_path)
    with pytest.raises(ValueError, match="not both or neither"):
        base.with_target(mw=10.0, factor=2.0)
    with pytest.raises(ValueError, match="not both or neither"):
        base.with_headroom(site="a")
    with pytest.raises(ValueError, match="zone or region"):
        base.scale_prices(2.0, zone="z1", region="r")
    with pytest.raises(ValueError, match=">= 0"):
        base.scale_prices(-1.0)
    with pytest.raises(ValueError, match="finite"):
        base.with_water_limit(factor=float("inf"))
    with pytest.raises(ValueError, match="whole number"):
        base.delay_upgrades(1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- plans react


def test_base_and_price_target_and_campus_edits_move_the_optimum(tmp_path: Path) -> None:
    """Base: a 100 MW, 105.475. z1 prices x2: a costs 1.1095/MW, more than b's 1.07475: b
    100 MW, 107.475. Target x2: a 200 MW, 210.95. Without a: b, 107.475. Headroom at a cut
    to 100 MW of facility draw (80 MW IT at PUE 1.25) and its upgrade removed from reach by
    a 200 M USD capex: a 80 MW + b 20 MW = 84.38 + 21.495 = 105.875."""
    base = two_zones(tmp_path)
    plan = solved(base, tmp_path, "base")
    assert (npv(plan), it_mw(plan)) == (105.475, {"a": 100.0})
    dearer = solved(base.scale_prices(2.0, zone="z1"), tmp_path, "dearer")
    assert (npv(dearer), it_mw(dearer)) == (107.475, {"b": 100.0})
    bigger = solved(base.with_target(factor=2.0), tmp_path, "bigger")
    assert (npv(bigger), it_mw(bigger)) == (210.95, {"a": 200.0})
    gone = solved(base.without_campus("a"), tmp_path, "gone")
    assert (npv(gone), it_mw(gone)) == (107.475, {"b": 100.0})
    tight = base.with_headroom(100.0, site="a").scale_upgrade_capex(40.0)
    split = solved(tight, tmp_path, "split")
    assert (npv(split), it_mw(split)) == (105.875, {"a": 80.0, "b": 20.0})


def test_upgrade_edits_move_the_optimum(tmp_path: Path) -> None:
    """a has no headroom of its own; with its upgrade (500 MW, 5 M USD, lead 0) it costs
    105.475 + 5 = 110.475, more than b (107.475). With the upgrade's capex x0.2 (1 M USD):
    a at 106.475 beats b. Delayed by one period, the upgrade comes into service after the
    one-period horizon: b again, 107.475."""
    base = two_zones(tmp_path).with_headroom(0.0, site="a")
    plan = solved(base, tmp_path, "base")
    assert (npv(plan), it_mw(plan)) == (107.475, {"b": 100.0})
    cheap = base.scale_upgrade_capex(0.2)
    plan = solved(cheap, tmp_path, "cheap")
    assert (npv(plan), it_mw(plan)) == (106.475, {"a": 100.0})
    assert plan.sites.set_index("site_id").loc["a", "upgrades"] == "a_230kv@2026H2"
    late = solved(cheap.delay_upgrades(1), tmp_path, "late")
    assert (npv(late), it_mw(late)) == (107.475, {"b": 100.0})


def test_carbon_price_water_limit_and_supply_move_the_optimum(tmp_path: Path) -> None:
    """Carbon: 100 MW x 5,475 MWh x 0.4 t/MWh = 219,000 t at 100 USD/t = 21.9 M USD:
    127.375. Water: a second technology at a with PUE 1.05 and 2 L/kWh of water saves
    100 x 0.2 x 4,380 MWh x 10 USD = 0.876 M USD (104.599) and uses 1.752 million m3 a
    year; a limit of 100,000 m3/yr at every campus lets it cool at most 5.7 MW, and b's
    IT cooled so costs 1.06599 M USD/MW, more than a's with liquid cooling (1.05475): a with
    liquid cooling again, 105.475. Accelerator supply of 50 MW a period cannot meet 100 MW:
    infeasible."""
    base = two_zones(tmp_path)
    priced = solved(base.with_carbon_price(100.0), tmp_path, "carbon")
    assert (npv(priced), it_mw(priced)) == (127.375, {"a": 100.0})

    wet = two_zones(
        tmp_path / "wet-scenario",
        cooling=[cooling("liq"), cooling("evap")],
        curves=flat_curve("liq", 1.25) + flat_curve("evap", 1.05, 2.0),
    )
    plan = solved(wet, tmp_path, "wet")
    assert (npv(plan), it_mw(plan)) == (104.599, {"a": 100.0})
    assert plan.sites.set_index("site_id").loc["a", "cooling"] == "evap"
    limited = solved(wet.with_water_limit(1e5), tmp_path, "limited")
    assert (npv(limited), it_mw(limited)) == (105.475, {"a": 100.0})
    assert limited.sites.set_index("site_id").loc["a", "cooling"] == "liq"

    short = solve(base.with_accelerator_supply(50.0), EXACT)
    assert short.status == "infeasible"


# --------------------------------------------------------------------------- one path


def test_a_sweep_case_is_the_same_edits(tmp_path: Path) -> None:
    """apply_case makes the variant edits, so a case equals the edits chained by hand."""
    base = two_zones(tmp_path)
    case = CaseSettings(
        price_multiplier_by_zone={"z2": 1.5},
        price_multiplier_by_region={"r": 2.0},
        target_multiplier=1.1,
        carbon_price_usd_per_t=20.0,
        energy_weight_usd_per_mwh=1.0,
        water_limit_multiplier=0.5,
        headroom_multiplier=0.9,
        upgrade_lead_delay_periods=1,
        upgrade_capex_multiplier=2.0,
        accelerator_supply_it_mw_per_period=500.0,
    )
    by_hand = (
        base.scale_prices(1.5, zone="z2")
        .scale_prices(2.0, region="r")
        .with_target(factor=1.1)
        .with_accelerator_supply(500.0)
        .with_carbon_price(20.0)
        .with_energy_weight(1.0)
        .with_headroom(factor=0.9)
        .with_water_limit(factor=0.5)
        .scale_upgrade_capex(2.0)
        .delay_upgrades(1)
    )
    via_case = apply_case(base, case)
    assert differences(by_hand, via_case) == set()
    assert differences(base, via_case) == {
        "profiles.price_usd_per_mwh.z1",
        "profiles.price_usd_per_mwh.z2",
        "config.portfolio.target_it_mw_by_period.2026H2",
        "config.portfolio.accelerator_supply_it_mw_per_period",
        "config.objective.carbon_price_usd_per_t",
        "config.objective.energy_weight_usd_per_mwh",
        "sites.a.headroom_mw",
        "sites.b.headroom_mw",
        "upgrades.a_230kv.capex_musd",
        "upgrades.a_230kv.lead_periods",
    }


def test_a_sweep_given_as_a_mapping_is_checked_like_a_file(tmp_path: Path) -> None:
    base = two_zones(tmp_path)
    grid = load_sweep(
        {"axes": {"price_multiplier_by_region": [{"r": 1.0}, {"r": 2.0}]}, "cases": []}, base
    )
    assert [name for name, _ in grid.expand()] == [
        "price_multiplier_by_region.r=1",
        "price_multiplier_by_region.r=2",
    ]
    with pytest.raises(ScenarioError) as caught:
        load_sweep({"cases": [{"name": "x", "price_multiplier_by_region": {"R": 2.0}}]}, base)
    assert str(caught.value) == (
        "<sweep>: cases.0.price_multiplier_by_region.R: no region 'R' in the scenario; "
        "did you mean 'r'? (expected one of q, r)"
    )
