"""Numerical hazards in valid input: coefficient ranges too wide for a reliable solve.

The model works in MW, million USD and hm3 (:mod:`optimizer.prepare`), so a well-posed scenario
keeps its objective coefficients, constraint coefficients and right-hand sides each within a
few orders of magnitude. Valid but extreme input (a water price of 1e-9 USD/m3 next to a
development capex of 1e4 M USD, a WUE breakpoint of 1e-12 L/kWh) stretches one of those
ranges past what HiGHS's tolerances (1e-7 on feasibility and optimality) can resolve: the
small coefficient is lost in round-off or the solve turns unstable.

:func:`numerics_warnings` reads the prepared data, gathers each data variable that becomes a
coefficient (with the weights the formulations multiply it by) and names every one whose
smallest value lies more than :data:`RANGE_LIMIT` below the largest coefficient of the same
kind. It warns and never rejects: the input is valid, only numerically fragile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr

RANGE_LIMIT = 1e9
"""Largest ratio between the biggest and smallest non-zero coefficient of one kind."""

Kind = Literal["objective", "constraint matrix", "right-hand side"]


@dataclass(frozen=True)
class Coefficients:
    """The non-zero magnitudes one data variable puts into the model."""

    name: str
    """Variable of the prepared dataset (or attribute) the coefficients come from."""
    source: str
    """The input field(s) a planner changes to change them."""
    kind: Kind
    values: np.ndarray


def numerics_warnings(data: xr.Dataset) -> list[str]:
    """One message per data variable whose coefficients make a range wider than
    :data:`RANGE_LIMIT` within the objective, the constraint matrix or the right-hand side."""
    groups = [c for c in model_coefficients(data) if c.values.size]
    messages = []
    for kind in ("objective", "constraint matrix", "right-hand side"):
        members = [c for c in groups if c.kind == kind]
        if not members:
            continue
        largest = max(members, key=lambda c: float(c.values.max()))
        big = float(largest.values.max())
        for c in members:
            small = float(c.values.min())
            if big / small > RANGE_LIMIT:
                messages.append(
                    f"{c.name} ({c.source}): {small:.3g} in the {kind} is {big / small:.1e} "
                    f"times smaller than {big:.3g} ({largest.name}); expected a range within "
                    f"{RANGE_LIMIT:.0e} - check the units, or use 0 for values this small"
                )
    return messages


def model_coefficients(data: xr.Dataset) -> list[Coefficients]:
    """Every data variable that becomes a coefficient, restricted to what the model uses
    (buildable sites, allowed site-cooling pairs, finite limits) and multiplied by the
    discount or opex weights it is multiplied by in :mod:`formulations`."""
    n_periods = data.sizes["period"]
    allowed = data["allowed"].to_numpy()
    sites = np.asarray((data["site_first_index"].to_numpy() < n_periods) & allowed.any(axis=1))
    pairs = np.asarray(allowed & sites[:, None])
    site_index = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    upgrades = np.asarray(
        [
            sites[site_index[str(s)]] and first < n_periods
            for s, first in zip(
                data["upgrade_site"].to_numpy(), data["upgrade_first_index"].to_numpy(), strict=True
            )
        ],
        dtype=bool,
    )
    water_limited = np.isfinite(data["water_limit_hm3_per_year"].to_numpy())
    zone_limited = np.asarray(data["zone_binding_hour"].to_numpy().any(axis=1))
    discount = data["discount_factor"].to_numpy()
    opex = data["opex_weight_years"].to_numpy()
    # Capex per MW multiplies new_it_mw, which is block_it_mw x new_blocks when blocks are set.
    per_new_mw = np.array([float(data.attrs.get("block_it_mw", 0.0)) or 1.0])

    def var(name: str, mask: np.ndarray | None = None) -> np.ndarray:
        values = data[name].to_numpy().astype(float)
        return values[mask] if mask is not None else values.ravel()

    def attr(name: str) -> np.ndarray:
        return np.array([float(data.attrs.get(name, 0.0))])

    out = [
        Coefficients(
            "development_capex_musd",
            "sites.csv development_capex_musd",
            "objective",
            _times(var("development_capex_musd", sites), discount),
        ),
        Coefficients(
            "building_capex_musd_per_mw",
            "sites.csv building_capex_musd_per_mw",
            "objective",
            _times(var("building_capex_musd_per_mw", sites), discount, per_new_mw),
        ),
        Coefficients(
            "cooling_capex_musd_per_mw",
            "cooling_technologies.csv capex_musd_per_mw",
            "objective",
            _times(
                var("cooling_capex_musd_per_mw", np.asarray(pairs.any(axis=0))),
                discount,
                per_new_mw,
            ),
        ),
        Coefficients(
            "upgrade_capex_musd",
            "upgrades.csv capex_musd",
            "objective",
            _times(var("upgrade_capex_musd", upgrades), discount),
        ),
        Coefficients(
            "energy_cost_musd_per_mw_year",
            "profiles/price_usd_per_mwh.csv x cooling_curves.csv pue",
            "objective",
            _times(var("energy_cost_musd_per_mw_year", pairs), opex),
        ),
        Coefficients(
            "water_cost_musd_per_mw_year",
            "sites.csv water_price_usd_per_m3 x cooling_curves.csv wue_l_per_kwh",
            "objective",
            _times(var("water_cost_musd_per_mw_year", pairs), opex),
        ),
        Coefficients(
            "energy_weight_musd_per_mwh",
            "scenario.yaml objective.energy_weight_usd_per_mwh",
            "objective",
            _times(
                attr("energy_weight_musd_per_mwh"),
                var("energy_mwh_per_mw_year", pairs),
                data["period_years"].to_numpy(),
            ),
        ),
        Coefficients(
            "max_it_mw", "sites.csv max_it_mw", "constraint matrix", var("max_it_mw", sites)
        ),
        Coefficients(
            "min_it_mw", "sites.csv min_it_mw", "constraint matrix", var("min_it_mw", sites)
        ),
        Coefficients(
            "block_it_mw",
            "scenario.yaml portfolio.block_it_mw",
            "constraint matrix",
            attr("block_it_mw"),
        ),
        Coefficients(
            "peak_pue", "cooling_curves.csv pue", "constraint matrix", var("peak_pue", pairs)
        ),
        Coefficients(
            "water_hm3_per_mw_year",
            "cooling_curves.csv wue_l_per_kwh",
            "constraint matrix",
            var("water_hm3_per_mw_year", pairs & water_limited[:, None]),
        ),
        Coefficients(
            "upgrade_added_mw",
            "upgrades.csv added_mw",
            "constraint matrix",
            var("upgrade_added_mw", upgrades),
        ),
        Coefficients(
            "target_it_mw",
            "scenario.yaml portfolio.target_it_mw_by_period",
            "right-hand side",
            var("target_it_mw"),
        ),
        Coefficients(
            "headroom_mw", "sites.csv headroom_mw", "right-hand side", var("headroom_mw", sites)
        ),
        Coefficients(
            "water_limit_hm3_per_year",
            "sites.csv water_limit_m3_per_year",
            "right-hand side",
            var("water_limit_hm3_per_year", sites & water_limited),
        ),
        Coefficients(
            "zone_import_limit_mw",
            "zones.csv import_limit_mw",
            "right-hand side",
            var("zone_import_limit_mw", zone_limited),
        ),
        Coefficients(
            "accelerator_supply_it_mw_per_period",
            "scenario.yaml portfolio.accelerator_supply_it_mw_per_period",
            "right-hand side",
            attr("accelerator_supply_it_mw_per_period"),
        ),
    ]
    return [Coefficients(c.name, c.source, c.kind, _magnitudes(c.values)) for c in out]


def _times(values: np.ndarray, *weights: np.ndarray) -> np.ndarray:
    """Every product of a value with one weight of each weight vector."""
    out = values.ravel()
    for w in weights:
        out = np.multiply.outer(out, w.ravel()).ravel()
    return out


def _magnitudes(values: np.ndarray) -> np.ndarray:
    """Absolute values that reach the model: finite and non-zero."""
    values = np.abs(values[np.isfinite(values)])
    return values[values > 0]
