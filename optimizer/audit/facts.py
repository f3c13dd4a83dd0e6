"""The scenario in arrays (:class:`_Facts`), recomputed from the raw tables and the
representative hours the plan records (``plan.nc``, see :mod:`optimizer.audit.reduction`):
period arithmetic, PUE/WUE, design temperatures, discount factors, opex weights and the
stressed hours of flexible connections. Nothing here comes from ``optimizer/prepare.py``,
``optimizer/profiles.py`` or ``formulations/``."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.audit.findings import KG_PER_T
from optimizer.scenario import Scenario

_PERIOD = re.compile(r"^(\d{4})([HQ])(\d)$")
_PER_YEAR = {"H": 2, "Q": 4}


def _ordinal(label: str) -> tuple[int, str]:
    """Periods since year 0 and the kind letter; ValueError if not a period label."""
    match = _PERIOD.match(str(label))
    if match is None or not 1 <= int(match[3]) <= _PER_YEAR[match[2]]:
        raise ValueError(label)
    return int(match[1]) * _PER_YEAR[match[2]] + int(match[3]) - 1, match[2]


@dataclass(frozen=True)
class _Facts:
    """The scenario in arrays: s site, k cooling, p period, h representative hour."""

    scenario: Scenario
    site_ids: list[str]
    tech_ids: list[str]
    periods: list[str]
    years: np.ndarray  # (p) length of each period, years
    discount: np.ndarray  # (p) capex discount factor at the period start
    opex_weight: np.ndarray  # (p) discounted years of operation (tail in the last)
    target: np.ndarray  # (p) MW
    first_index: np.ndarray  # (s) first energizable period index (may be < 0 or >= P)
    headroom: np.ndarray  # (s, p) existing headroom MW
    weight_h: np.ndarray  # (h) hours per year
    pue: np.ndarray  # (s, k, h)
    wue: np.ndarray  # (s, k, h) L/kWh = m3/MWh of IT energy
    price: np.ndarray  # (s, h) USD/MWh of the site's zone
    carbon: np.ndarray  # (s, h) kg/MWh
    design_dry: np.ndarray  # (s) °C
    design_wet: np.ndarray  # (s) °C
    nonfirm: np.ndarray  # (s, p) non-firm tier MW of a flexible campus, from headroom_period on
    stressed_weight_h: np.ndarray  # (s, h) hours per year of each hour in the stressed set
    option_ids: list[str]  # on-site power options, o
    option_site: np.ndarray  # (o) site index of each option
    option_first: np.ndarray  # (o) first period index the option may have capacity
    option_tco2_per_mwh: np.ndarray  # (o) heat rate x fuel emissions
    zone_ids: list[str]  # z
    site_zone: np.ndarray  # (s) zone index of each site
    zone_price: np.ndarray  # (z, h) USD/MWh
    zone_carbon: np.ndarray  # (z, h) kg/MWh
    contract_ids: list[str]  # clean-energy contracts, c
    contract_zone: np.ndarray  # (c) zone index of each contract
    contract_cf: np.ndarray  # (c, h) output per MW contracted

    @classmethod
    def of(
        cls, scenario: Scenario, frames: dict[str, pd.DataFrame], weights_h: np.ndarray
    ) -> _Facts:
        """The facts of ``scenario`` on the representative hours ``frames`` (profile -> hour x
        id) weighted ``weights_h``."""
        cfg = scenario.config
        h = cfg.horizon
        first, letter = _ordinal(h.first_period)
        last, _ = _ordinal(h.last_period)
        n = _PER_YEAR[letter]
        ordinals = np.arange(first, last + 1)
        periods = [f"{o // n}{letter}{o % n + 1}" for o in ordinals]
        start = ordinals / n
        years = np.full(len(ordinals), 1.0 / n)
        rate = 1.0 + h.discount_rate_frac_per_year
        discount = rate ** -(start - h.base_year)
        opex = years * discount
        tail = np.arange(math.ceil(h.opex_tail_years))
        tail_length = np.minimum(1.0, h.opex_tail_years - tail)
        end = start[-1] + years[-1]
        opex[-1] += float(np.sum(tail_length * rate ** -(end + tail - h.base_year)))

        lead = cfg.portfolio.construction_lead_periods
        first_index = np.array(
            [_ordinal(s.earliest_period)[0] - first + lead for s in scenario.sites]
        )
        headroom_from = np.array([_ordinal(s.headroom_period)[0] - first for s in scenario.sites])
        index = np.arange(len(periods))
        connected = index[None, :] >= headroom_from[:, None]  # (s, p)
        headroom_mw = np.array([s.headroom_mw for s in scenario.sites])
        headroom = np.where(connected, headroom_mw[:, None], 0.0)

        weather = [s.weather_id for s in scenario.sites]
        ambient = {
            "dry_bulb": frames["dry_bulb_c"][weather].to_numpy(dtype=float).T,
            "wet_bulb": frames["wet_bulb_c"][weather].to_numpy(dtype=float).T,
        }  # (s, h)
        curves: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for row in scenario.cooling_curves:
            curves[row.cooling_id, row.quantity].append((row.ambient_c, row.value))

        def curve(tech: str, quantity: str, temps: np.ndarray) -> np.ndarray:
            x, y = np.array(sorted(curves[tech, quantity])).T
            return np.interp(temps, x, y)  # linear between breakpoints, flat beyond the ends

        pue = np.stack(
            [curve(t.cooling_id, "pue", ambient[t.pue_ambient]) for t in scenario.cooling], 1
        )
        wue = np.stack(
            [
                curve(t.cooling_id, "wue_l_per_kwh", ambient[t.wue_ambient])
                for t in scenario.cooling
            ],
            1,
        )
        zones = [s.zone_id for s in scenario.sites]
        site_ids = [s.site_id for s in scenario.sites]
        zone_ids = [z.zone_id for z in scenario.zones]
        contract_ids = [c.contract_id for c in scenario.clean_contracts]
        factors = frames.get("capacity_factor_frac")
        price = frames["price_usd_per_mwh"][zones].to_numpy(dtype=float).T
        weight_h = np.asarray(weights_h, dtype=float)
        tier_mw = np.zeros(len(site_ids))
        stressed = np.zeros((len(site_ids), len(weight_h)))
        for flex in scenario.flexible_connections:
            i = site_ids.index(flex.site_id)
            tier_mw[i] = flex.nonfirm_mw
            stressed[i] = _stressed_weights(price[i], weight_h, flex.curtailment_budget_frac)
        options = scenario.onsite_power
        option_site = np.array([site_ids.index(o.site_id) for o in options], dtype=int)
        return cls(
            scenario=scenario,
            site_ids=site_ids,
            tech_ids=[t.cooling_id for t in scenario.cooling],
            periods=periods,
            years=years,
            discount=discount,
            opex_weight=opex,
            target=np.array([cfg.portfolio.target_it_mw_by_period[p] for p in periods], float),
            first_index=first_index,
            headroom=headroom,
            weight_h=weight_h,
            pue=pue,
            wue=wue,
            price=price,
            carbon=frames["carbon_kg_per_mwh"][zones].to_numpy(dtype=float).T,
            design_dry=ambient["dry_bulb"].max(axis=1),
            design_wet=ambient["wet_bulb"].max(axis=1),
            nonfirm=np.where(connected, tier_mw[:, None], 0.0),
            stressed_weight_h=stressed,
            option_ids=[o.option_id for o in options],
            option_site=option_site,
            option_first=np.array(
                [
                    max(o.lead_periods, first_index[s])
                    for o, s in zip(options, option_site, strict=True)
                ],
                dtype=int,
            ),
            option_tco2_per_mwh=np.array(
                [o.heat_rate_mmbtu_per_mwh * o.emissions_kg_per_mmbtu / KG_PER_T for o in options]
            ),
            zone_ids=zone_ids,
            site_zone=np.array([zone_ids.index(z) for z in zones], dtype=int),
            zone_price=frames["price_usd_per_mwh"][zone_ids].to_numpy(dtype=float).T,
            zone_carbon=frames["carbon_kg_per_mwh"][zone_ids].to_numpy(dtype=float).T,
            contract_ids=contract_ids,
            contract_zone=np.array(
                [zone_ids.index(c.zone_id) for c in scenario.clean_contracts], dtype=int
            ),
            contract_cf=(
                factors[contract_ids].to_numpy(dtype=float).T
                if factors is not None and contract_ids
                else np.zeros((len(contract_ids), len(weight_h)))
            ),
        )

    @property
    def load_factor(self) -> float:
        return self.scenario.config.portfolio.it_load_factor_frac

    def per_site(self, by_option: np.ndarray) -> np.ndarray:
        """Sum an on-site array (o, ...) over each site's options: (s, ...)."""
        out = np.zeros((len(self.site_ids), *by_option.shape[1:]))
        np.add.at(out, self.option_site, by_option)
        return out

    def per_zone(self, by_site: np.ndarray) -> np.ndarray:
        """Sum a site array (s, ...) over each zone's campuses: (z, ...)."""
        out = np.zeros((len(self.zone_ids), *by_site.shape[1:]))
        np.add.at(out, self.site_zone, by_site)
        return out

    def contract_output(self, contracted: np.ndarray) -> np.ndarray:
        """Output (z, p, h), MW, of the MW ``contracted`` (c, p) in each zone."""
        out = np.zeros((len(self.zone_ids), contracted.shape[1], len(self.weight_h)))
        np.add.at(out, self.contract_zone, contracted[:, :, None] * self.contract_cf[:, None, :])
        return out


def _stressed_weights(price: np.ndarray, weight_h: np.ndarray, budget_frac: float) -> np.ndarray:
    """Stressed hours per year of each representative hour at a flexible campus: the zone's
    hours by decreasing price (ties: lower hour first) until their weights fill
    ``budget_frac`` of the year; of the last one only the part that fits."""
    budget_h = budget_frac * float(weight_h.sum())
    stressed = np.zeros_like(weight_h)
    before_h = 0.0
    for h in sorted(range(len(weight_h)), key=lambda h: (-price[h], h)):
        stressed[h] = min(weight_h[h], max(0.0, budget_h - before_h))
        before_h += weight_h[h]
    return stressed


def _label_at(f: _Facts, index: int) -> str:
    """Label of the period ``index`` periods after the first (may lie outside the horizon)."""
    first, letter = _ordinal(f.periods[0])
    n = _PER_YEAR[letter]
    o = first + index
    return f"{o // n}{letter}{o % n + 1}"
