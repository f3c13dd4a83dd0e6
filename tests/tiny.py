"""Tiny scenarios for hand-solved tests.

``Tiny`` starts from one zone, one weather station with two representative hours of 4,380 h
each, one liquid cooling technology with a flat PUE of 1.25 and no water, zero prices, no
discounting, and a one-period horizon (2026H2). Tests override what they need and
``solve()`` goes through the real path: files -> load_scenario -> prepare -> model -> HiGHS,
then writes the plan and audits it (``optimizer.audit``): a plan that breaks a rule, or whose
costs do not recompute, fails the test.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations import build_model
from optimizer import SolveOptions, load_scenario, solve
from optimizer.audit import AuditReport, audit_plan
from optimizer.extract import extract_plan
from optimizer.plan import Plan
from optimizer.prepare import prepare
from optimizer.solver import solve_model
from optimizer.writer import write_scenario

EXACT = SolveOptions(time_limit_s=60, mip_gap_frac=0.0, threads=1, random_seed=0)


def site(site_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "site_id": site_id,
        "name": site_id,
        "latitude_deg": 32.0,
        "longitude_deg": -100.0,
        "zone_id": "z1",
        "weather_id": "w1",
        "min_it_mw": 0.0,
        "max_it_mw": 1000.0,
        "development_capex_musd": 0.0,
        "building_capex_musd_per_mw": 1.0,
        "earliest_period": "2026H1",
        "headroom_mw": 10000.0,
        "headroom_period": "2026H2",
        "water_limit_m3_per_year": None,
        "water_price_usd_per_m3": 0.0,
    }
    row.update(overrides)
    return row


def cooling(cooling_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "cooling_id": cooling_id,
        "name": cooling_id,
        "capex_musd_per_mw": 0.0,
        "serves_liquid_racks": True,
        "pue_ambient": "dry_bulb",
        "wue_ambient": "wet_bulb",
        "max_dry_bulb_c": None,
        "max_wet_bulb_c": None,
    }
    row.update(overrides)
    return row


def flat_curve(cooling_id: str, pue: float, wue_l_per_kwh: float = 0.0) -> list[dict[str, Any]]:
    return [
        {"cooling_id": cooling_id, "quantity": "pue", "ambient_c": 0.0, "value": pue},
        {
            "cooling_id": cooling_id,
            "quantity": "wue_l_per_kwh",
            "ambient_c": 0.0,
            "value": wue_l_per_kwh,
        },
    ]


def upgrade(upgrade_id: str, site_id: str, **overrides: Any) -> dict[str, Any]:
    """An upgrade of 100 MW for 10 M USD, in service at once."""
    row = {
        "upgrade_id": upgrade_id,
        "site_id": site_id,
        "name": upgrade_id,
        "added_mw": 100.0,
        "capex_musd": 10.0,
        "lead_periods": 0,
    }
    row.update(overrides)
    return row


def onsite_option(option_id: str, site_id: str, **overrides: Any) -> dict[str, Any]:
    """Gas engines: 30 USD/MWh (10 MMBtu/MWh at 3 USD/MMBtu), 0.5306 t CO2/MWh, no capex."""
    row = {
        "option_id": option_id,
        "site_id": site_id,
        "technology": "reciprocating engines",
        "max_mw": 1000.0,
        "capex_musd_per_mw": 0.0,
        "fixed_cost_musd_per_mw_year": 0.0,
        "heat_rate_mmbtu_per_mwh": 10.0,
        "fuel_price_usd_per_mmbtu": 3.0,
        "variable_om_usd_per_mwh": 0.0,
        "emissions_kg_per_mmbtu": 53.06,
        "lead_periods": 0,
        "permit_tco2_per_year": None,
    }
    row.update(overrides)
    return row


class Tiny:
    """A tiny scenario under construction; attributes are plain dicts and lists."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config: dict[str, Any] = {
            "name": "tiny",
            "horizon": {
                "first_period": "2026H2",
                "last_period": "2026H2",
                "discount_rate_frac_per_year": 0.0,
                "base_year": 2026.5,
            },
            "portfolio": {
                "target_it_mw_by_period": {"2026H2": 100.0},
                "construction_lead_periods": 1,
                "requires_liquid_cooling": True,
                "it_load_factor_frac": 1.0,
            },
        }
        self.sites: list[dict[str, Any]] = [site("a")]
        self.zones: list[dict[str, Any]] = [
            {"zone_id": "z1", "name": "z1", "region": "r", "import_limit_mw": None}
        ]
        self.upgrades: list[dict[str, Any]] = []
        self.regions: list[dict[str, Any]] = []
        self.demand: list[dict[str, Any]] = []
        self.serving: list[dict[str, Any]] = []
        self.flexible: list[dict[str, Any]] = []
        self.onsite: list[dict[str, Any]] = []
        self.contracts: list[dict[str, Any]] = []
        self.capacity_factor: dict[str, list[float]] = {}
        self.cooling: list[dict[str, Any]] = [cooling("liq")]
        self.curves: list[dict[str, Any]] = flat_curve("liq", 1.25)
        self.hour_weights = [4380.0, 4380.0]
        self.price = {"z1": [0.0, 0.0]}
        self.carbon = {"z1": [0.0, 0.0]}
        self.dry_bulb = {"w1": [20.0, 30.0]}
        self.wet_bulb = {"w1": [15.0, 22.0]}

    @property
    def portfolio(self) -> dict[str, Any]:
        return self.config["portfolio"]  # type: ignore[no-any-return]

    def periods(self, first: str, last: str, targets: list[float]) -> Tiny:
        from optimizer.periods import Period, period_range

        labels = [p.label for p in period_range(Period.parse(first), Period.parse(last))]
        self.config["horizon"].update(first_period=first, last_period=last)
        self.portfolio["target_it_mw_by_period"] = dict(zip(labels, targets, strict=True))
        return self

    def write(self, name: str = "scenario") -> Path:
        return write_scenario(
            self.folder / name,
            config=copy.deepcopy(self.config),
            tables={
                "sites.csv": self.sites,
                "zones.csv": self.zones,
                "upgrades.csv": self.upgrades,
                "cooling_technologies.csv": self.cooling,
                "cooling_curves.csv": self.curves,
                "demand_regions.csv": self.regions,
                "inference_demand.csv": self.demand,
                "serving.csv": self.serving,
                "flexible_connections.csv": self.flexible,
                "onsite_power.csv": self.onsite,
                "clean_contracts.csv": self.contracts,
            },
            profiles={
                "price_usd_per_mwh": pd.DataFrame(self.price),
                "carbon_kg_per_mwh": pd.DataFrame(self.carbon),
                "dry_bulb_c": pd.DataFrame(self.dry_bulb),
                "wet_bulb_c": pd.DataFrame(self.wet_bulb),
                **(
                    {"capacity_factor_frac": pd.DataFrame(self.capacity_factor)}
                    if self.capacity_factor
                    else {}
                ),
            },
            hour_weights=self.hour_weights,
        )

    def solve(self, name: str = "scenario") -> Plan:
        """Solve exactly; a plan with a solution must pass the independent audit."""
        plan = solve(load_scenario(self.write(name)), EXACT)
        if plan.has_solution:
            report = self.audit(plan, name)
            assert report.ok, f"audit of the {name!r} plan failed:\n{report}"
        return plan

    def audit(self, plan: Plan, name: str = "scenario") -> AuditReport:
        """Write ``plan`` to ``<name>-plan`` and audit it against the scenario ``name``."""
        folder = plan.write(self.folder / f"{name}-plan")
        return audit_plan(load_scenario(self.folder / name), folder)

    def solve_without(self, *constraints: str, name: str = "ablated") -> Plan:
        """Solve with the named constraint families (``"interconnection.within_headroom"``)
        deactivated: the ablation that shows a family matters. Not audited (the plan breaks
        the rule on purpose); ``audit`` shows what the auditor finds. The valid inequalities
        (``formulations.strength``) are dropped too: their bounds derive from the rules."""
        data = prepare(load_scenario(self.write(name)))
        model = build_model(data)
        for family in model.valid_inequalities:
            family.deactivate()
        for dotted in constraints:
            block, family = dotted.split(".")
            component = getattr(getattr(model, block), family)
            assert isinstance(component, pyo.Constraint), dotted
            component.deactivate()
        return extract_plan(model, data, solve_model(model, EXACT), 0.0)


def lp_bound_of(model: Any) -> float:
    """Optimum of the LP relaxation of a built model (every integer relaxed), HiGHS as the
    solves see it."""
    import highspy

    from optimizer.solver import HighsModel

    lp = HighsModel(model, EXACT).highs.getLp()
    lp.integrality_ = []
    relaxed = highspy.Highs()
    relaxed.setOptionValue("output_flag", False)
    relaxed.passModel(lp)
    relaxed.run()
    return float(relaxed.getInfo().objective_function_value)
