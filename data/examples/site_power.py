"""Build the worked examples for flexible connections and on-site (bridging) power.

    python data/examples/site_power.py flexible OUT_DIR
    python data/examples/site_power.py onsite OUT_DIR
    python data/examples/site_power.py faster OUT_DIR     (onsite's comparison: no on-site power)

Each writes a full scenario folder: a copy of ``data/default`` plus one optional table.

``flexible``: every campus may contract a non-firm tier on top of its firm headroom
(``flexible_connections.csv``):

* tier: 50 % of the campus's firm headroom [assumption: no per-substation figure is public;
  the Duke Nicholas Institute study (Norris et al., *Rethinking Load Growth*, Feb 2025)
  finds 76 / 98 / 126 GW of curtailment-enabled headroom across the 22 largest balancing
  authorities at 0.25 / 0.5 / 1 % annual curtailment];
* curtailment budget: 0.5 % of the year (44 h), the study's middle case;
* lost compute: 1,500 USD per MWh of IT energy [assumption: accelerator rental of about
  2 USD per GPU-hour at about 1.3 kW of IT per GPU].

``onsite``: the default's ramp one half-year sooner (2 GW in 2026H2, 10 GW by 2030H1) and
leased gas generators at four campuses where large campuses have bridged with on-site gas
(``onsite_power.csv``): Memphis TN (xAI's Colossus ran leased mobile gas turbines from 2024),
Abilene TX, Dallas-Fort Worth TX and Ashburn VA:

* up to 500 MW per campus (permit) [assumption];
* available at once: units from a rental fleet (new engines take 12-18 months, new frame
  turbines 3-7 years: FIGURES.md section 5);
* 0.1 M USD/MW to mobilise and connect, lease and O&M 0.24 M USD/MW-year (20 USD/kW-month)
  [assumptions; for scale, new combined cycle cost 2,400 USD/kW in 2025, FIGURES.md];
* heat rate 9.5 MMBtu/MWh (HHV) [assumption, mobile aeroderivative turbines], gas 3.50
  USD/MMBtu delivered [assumption], variable O&M 8 USD/MWh [assumption]: 41.25 USD/MWh;
* 53.06 kg CO2 per MMBtu of natural gas (U.S. EPA, GHG Emission Factors Hub).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from optimizer import load_scenario
from optimizer.writer import derive_scenario

DEFAULT = Path(__file__).resolve().parent.parent / "default"
NONFIRM_SHARE_OF_FIRM_FRAC = 0.5
CURTAILMENT_BUDGET_FRAC = 0.005
LOST_COMPUTE_USD_PER_MWH = 1500.0
ENGINE_SITES = ("memphis_tn", "abilene_tx", "dallas_fort_worth_tx", "nova_ashburn")
LEASED_TURBINES = {
    "technology": "leased mobile gas turbines",
    "max_mw": 500.0,
    "capex_musd_per_mw": 0.1,
    "fixed_cost_musd_per_mw_year": 0.24,
    "heat_rate_mmbtu_per_mwh": 9.5,
    "fuel_price_usd_per_mmbtu": 3.5,
    "variable_om_usd_per_mwh": 8.0,
    "emissions_kg_per_mmbtu": 53.06,
    "lead_periods": 0,
    "permit_tco2_per_year": None,
}


def flexible(out_dir: Path) -> Path:
    sites = load_scenario(DEFAULT).sites
    rows = [
        {
            "site_id": s.site_id,
            "nonfirm_mw": NONFIRM_SHARE_OF_FIRM_FRAC * s.headroom_mw,
            "curtailment_budget_frac": CURTAILMENT_BUDGET_FRAC,
            "lost_compute_usd_per_mwh": LOST_COMPUTE_USD_PER_MWH,
        }
        for s in sites
        if s.headroom_mw > 0
    ]
    return derive_scenario(
        DEFAULT, out_dir, name="default-flexible", tables={"flexible_connections.csv": rows}
    )


def faster_ramp(out_dir: Path, name: str, tables: dict[str, list[dict[str, object]]]) -> Path:
    """The default with every target one half-year sooner (the last one held)."""
    out = derive_scenario(DEFAULT, out_dir, name=name, tables=tables)
    config = yaml.safe_load((out / "scenario.yaml").read_text())
    targets = config["portfolio"]["target_it_mw_by_period"]
    values = list(targets.values())
    config["portfolio"]["target_it_mw_by_period"] = dict(
        zip(targets, [*values[1:], values[-1]], strict=True)
    )
    (out / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def onsite(out_dir: Path) -> Path:
    rows = [{"option_id": f"{s}_turbines", "site_id": s, **LEASED_TURBINES} for s in ENGINE_SITES]
    return faster_ramp(out_dir, "default-faster-onsite", {"onsite_power.csv": rows})


def faster(out_dir: Path) -> Path:
    """The comparison for ``onsite``: the faster ramp without on-site power."""
    return faster_ramp(out_dir, "default-faster", {})


EXAMPLES = {"flexible": flexible, "onsite": onsite, "faster": faster}

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "flexible"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"out/default-{kind}-scenario")
    print(EXAMPLES[kind](out))
