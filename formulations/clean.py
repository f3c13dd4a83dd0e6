"""Clean-energy contracts and an hourly-matched (24/7) carbon-free energy target.

A contract c in zone z is a virtual PPA for up to ``max_mw`` of a wind or solar plant with
output ``cf[c,h]`` per MW. Contracts are long-term: once signed, kept. Its output matches the
zone's campus load hour by hour (only where campuses draw from the grid), and the matched
share of the portfolio's grid energy must reach the CFE target in every period:

    contracted_mw[c,p] >= contracted_mw[c,p-1]        (stays_contracted; 0..max_mw, from lead)
    matched_mw[z,p,h] <= sum_{c in z} cf[c,h] contracted_mw[c,p]                (within_contracts)
    matched_mw[z,p,h] <= LF sum_{s in z,k} pue[s,k,h] it_mw[s,k,p]
                         - sum_{s in z} onsite_output_mw[s,p,h]                 (within_load)
    sum_{z,h} w_h matched_mw[z,p,h] >= cfe_target x grid MWh per year in p     (meets_target)

The contract settles as a contract for difference: per MWh of output the buyer pays the strike
price and earns the zone's hourly price (term ``clean_contracts``, may be negative):

    cost = sum_{c,p,h} w_h cf[c,h] contracted_mw[c,p] (strike_c - price[z_c,h]) opex_weight_p

Emissions are counted hour by hour (``energy``): matched energy carries none. Matching is
per zone, where the price and carbon profiles are. No contracts: no components.

Matching is stated only at the hours where it can differ, exactly (``matching_hours``): an
hour at which no contract of the zone produces, or a period before any campus of the zone
can hold IT, has nothing to match (matched_mw = 0, no rows); hours of a zone with the same
contract outputs per MW, the same PUE of every (campus, cooling) pair of the zone and the
same carbon intensity have identical rows, so one matched_mw with their summed weight stands
for them all (any feasible hourly values average to a feasible common value with the same
weighted sum, and a common value is feasible hourly). Zones with on-site options (hourly
dispatch in ``within_load``) keep each producing hour.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from formulations.concern import (
    Coefficients,
    Concern,
    Family,
    Index,
    Relax,
    Relaxation,
    View,
)
from formulations.core import (
    earlier,
    hourly_draw,
    masked,
    nonzero_rows,
    pair_table,
    positions,
    put,
    series,
    solution,
    times,
)


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    if data.sizes.get("contract", 0) == 0:
        return
    b = m.clean = pyo.Block()
    periods = list(m.PERIODS)
    zone_of_site = series(data, "site_zone")
    campuses: dict[str, list[str]] = defaultdict(list)
    for s in m.SITES:
        campuses[zone_of_site[s]].append(s)
    zone_of = {c: z for c, z in series(data, "contract_zone").items() if campuses[z]}
    first = series(data, "contract_first_index")
    max_mw = series(data, "contract_max_mw")
    m.CONTRACT_PERIODS = pyo.Set(
        dimen=2,
        ordered=True,
        doc="(contract, period) from the contract's first delivery on",
        initialize=[(c, p) for c in zone_of for p in periods[int(first[c]) :]],
    )
    b.contracted_mw = pyo.Var(
        m.CONTRACT_PERIODS,
        within=pyo.NonNegativeReals,
        bounds=lambda _, c, p: (0.0, float(max_mw[c])),
        doc="Plant MW under contract",
    )

    @b.Constraint(m.CONTRACT_PERIODS)
    def stays_contracted(b: pyo.Block, c: str, p: str) -> object:
        """contracted_mw[c,p] >= contracted_mw[c,p-1]."""
        before = earlier(m, b.contracted_mw, (c,), p)
        return pyo.Constraint.Skip if before is None else b.contracted_mw[c, p] >= before

    in_zone: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c, p in m.CONTRACT_PERIODS:
        in_zone[zone_of[c], p].append(c)
    # Periods in which a campus of the zone can hold IT: before, there is no load to match.
    loaded = [(z, p) for z, p in in_zone if any(m.techs_at.get((s, p)) for s in campuses[z])]
    dispatched = {s for s, _, _ in getattr(m, "ONSITE_SITE_HOURS", ())}
    b.hours_of = matching_hours(data, zone_of, campuses, m.SITE_COOLING, dispatched)
    m.MATCH_HOURS = pyo.Set(
        dimen=3,
        ordered=True,
        doc="(zone, period, hour) standing for the zone's hours with the same rows",
        initialize=[(z, p, h) for (z, p) in loaded for h in b.hours_of[z]],
    )
    b.matched_mw = pyo.Var(
        m.MATCH_HOURS, within=pyo.NonNegativeReals, doc="Campus load matched by contracts"
    )
    cf = data["capacity_factor_frac"].to_numpy()
    row = {str(c): i for i, c in enumerate(data["contract"].to_numpy())}

    @b.Constraint(m.MATCH_HOURS)
    def within_contracts(b: pyo.Block, z: str, p: str, h: int) -> object:
        """Matched no more than the contracts' output in that hour."""
        output = sum(float(cf[row[c], h]) * b.contracted_mw[c, p] for c in in_zone[z, p])
        return b.matched_mw[z, p, h] <= output

    draw = hourly_draw(m, data)
    load = float(data.attrs["it_load_factor_frac"])
    onsite_output = m.onsite.site_output_mw if hasattr(m, "onsite") else {}

    @b.Constraint(m.MATCH_HOURS)
    def within_load(b: pyo.Block, z: str, p: str, h: int) -> object:
        """Matched no more than the zone's campuses take from the grid in that hour."""
        consumption = sum(load * draw(s, p, h) for s in campuses[z])
        onsite = sum(onsite_output.get((s, p, h), 0) for s in campuses[z])
        return b.matched_mw[z, p, h] <= consumption - onsite

    weight = data["hour_weight_h"].to_numpy()
    # Weight of a standing hour: the summed weights of the hours it stands for, h per year.
    b.weight_h = {
        (z, h): float(weight[members].sum())
        for z, group in b.hours_of.items()
        for h, members in group.items()
    }
    b.matched_mwh_per_year = pyo.Expression(
        m.PERIODS,
        doc="Campus grid energy matched by contracts in a year of the period, MWh",
        rule=lambda b, p: sum(
            b.weight_h[z, h] * b.matched_mw[z, p, h]
            for (z, q) in loaded
            if q == p
            for h in b.hours_of[z]
        ),
    )
    target = float(data.attrs["cfe_target_frac"])
    if target > 0:
        mwh = pair_table(data, "energy_mwh_per_mw_year")

        @b.Constraint(m.PERIODS)
        def meets_target(b: pyo.Block, p: str) -> object:
            """Matched >= target x grid energy of the portfolio, per year of the period."""
            grid = sum(
                m.phasing.it_mw[s, k, p] * mwh[s, k] for s, k, q in m.SITE_COOLING_PERIODS if q == p
            ) - (m.onsite.output_mwh_per_year[p] if hasattr(m, "onsite") else 0)
            return b.matched_mwh_per_year[p] >= target * grid

    opex = dict(zip(periods, data["opex_weight_years"].to_numpy().tolist(), strict=True))
    strike = series(data, "contract_price_musd_per_mwh")
    price = data["zone_price_musd_per_mwh"].to_numpy()
    zone_index = {str(z): i for i, z in enumerate(data["zone"].to_numpy())}
    # Settlement per MW contracted and year: sum_h w_h cf_h (strike - price_h), million USD.
    settle = {
        c: float((weight * cf[row[c]] * (strike[c] - price[zone_index[zone_of[c]]])).sum())
        for c in zone_of
    }
    m.cost_terms_musd["clean_contracts"] = sum(
        settle[c] * opex[p] * b.contracted_mw[c, p] for c, p in m.CONTRACT_PERIODS
    )


#: Reduce the matching to the hours where it can differ (``matching_hours``); False states
#: every hour of every zone on its own, the plain form the reduction is tested against.
REDUCE_HOURS = True


def matching_hours(
    data: xr.Dataset,
    zone_of: dict[str, str],
    campuses: dict[str, list[str]],
    pairs: Any,
    dispatched: set[str],
) -> dict[str, dict[int, list[int]]]:
    """Per zone with contracts: standing hour -> the hours it stands for (itself first).

    Hours at which no contract of the zone produces are left out; the others are grouped by
    their rows' coefficients (contract output per MW, PUE of the zone's (campus, cooling)
    pairs, carbon intensity), each group standing under its first hour. A zone with a campus
    whose on-site output is dispatched hourly keeps every producing hour on its own."""
    cf = data["capacity_factor_frac"].to_numpy()
    pue = data["pue"].to_numpy()
    carbon = data["zone_carbon_t_per_mwh"].to_numpy()
    contract_row = positions(data, "contract")
    site_row, cool_row, zone_row = (
        positions(data, "site"),
        positions(data, "cooling"),
        positions(data, "zone"),
    )
    contracts: dict[str, list[int]] = defaultdict(list)
    for c, z in zone_of.items():
        contracts[z].append(contract_row[c])
    groups: dict[str, dict[int, list[int]]] = {}
    for z, rows in contracts.items():
        if not REDUCE_HOURS:
            groups[z] = {h: [h] for h in range(cf.shape[1])}
            continue
        output = cf[sorted(rows)]
        producing = np.flatnonzero(output.sum(axis=0) > 0)
        if any(s in dispatched for s in campuses[z]):
            groups[z] = {int(h): [int(h)] for h in producing}
            continue
        zone_pairs = [(site_row[s], cool_row[k]) for s, k in pairs if s in set(campuses[z])]
        rows_at = np.vstack(
            [output, *(pue[i, j][None, :] for i, j in zone_pairs), carbon[zone_row[z]][None, :]]
        )
        group: dict[int, list[int]] = {}
        first: dict[bytes, int] = {}
        for h in producing:
            key = rows_at[:, h].tobytes()
            head = first.setdefault(key, int(h))
            group.setdefault(head, []).append(int(h))
        groups[z] = group
    return groups


#: The diagnosis weighs a MWh/yr of hourly-matched clean energy as a MW running all year.
MATCHED_WEIGHT_PER_MWH = 1 / 8760


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """MW contracted and output per contract and period; per zone, period and hour the campus
    load matched (MW), and per zone and period the energy matched and the emissions it
    avoids."""
    ci, zi, pi = positions(data, "contract"), positions(data, "zone"), positions(data, "period")
    n_p, n_h = data.sizes["period"], data.sizes["hour"]
    contracted = solution(
        m.clean.contracted_mw, (data.sizes["contract"], n_p), lambda i: (ci[i[0]], pi[i[1]])
    )
    standing = solution(
        m.clean.matched_mw, (data.sizes["zone"], n_p, n_h), lambda i: (zi[i[0]], pi[i[1]], i[2])
    )
    matched = np.zeros_like(standing)
    for z, group in m.clean.hours_of.items():
        for h, members in group.items():
            matched[zi[z]][:, members] = standing[zi[z], :, h][:, None]
    years = data["period_years"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    cf = data["capacity_factor_frac"].to_numpy()
    plan.coords["contract"] = data["contract"]
    put(plan, "contract_zone", ("contract",), data["contract_zone"].to_numpy(), "")
    put(plan, "contract_technology", ("contract",), data["contract_technology"].to_numpy(), "")
    put(plan, "contracted_mw", ("contract", "period"), contracted, "MW")
    output = contracted * (cf @ weight)[:, None] * years
    put(plan, "contract_output_mwh", ("contract", "period"), output, "MWh")
    put(plan, "matched_mw", ("zone", "period", "hour"), matched, "MW")
    per_year = np.einsum("zph,h->zp", matched, weight)
    carbon = data["zone_carbon_t_per_mwh"].to_numpy()
    mwh = np.where(per_year < 1e-6, 0.0, per_year) * years
    put(plan, "matched_mwh", ("zone", "period"), mwh, "MWh")
    avoided = np.einsum("zph,h,zh->zp", matched, weight, carbon) * years
    put(plan, "matched_tco2", ("zone", "period"), avoided, "t CO2e")
    plan.attrs["cfe_target_frac"] = float(data.attrs["cfe_target_frac"])


def contracts_table(ds: xr.Dataset) -> pd.DataFrame:
    """Clean contract x period (signed ones): zone, technology, MW and output, MWh."""
    frame = ds[["contracted_mw", "contract_output_mwh"]].to_dataframe().reset_index()
    n_p = ds.sizes["period"]
    frame.insert(1, "zone_id", np.repeat(ds["contract_zone"].to_numpy(), n_p))
    frame.insert(2, "technology", np.repeat(ds["contract_technology"].to_numpy(), n_p))
    return nonzero_rows(frame, "contracted_mw", {"contract": "contract_id"})


def matched_table(ds: xr.Dataset) -> pd.DataFrame:
    """Non-zero campus load matched by clean contracts per zone, period and hour, MW."""
    frame = ds["matched_mw"].to_dataframe().reset_index()
    return nonzero_rows(frame, "matched_mw", {"zone": "zone_id"})


def _target_short(index: Index, amount: float, data: xr.Dataset) -> Relaxation:
    (p,) = index
    target = float(data.attrs["cfe_target_frac"])
    msg = (
        f"{p}: hourly-matched clean energy short of the {100 * target:g} % target by "
        f"{amount:,.0f} MWh/yr (more contracts in the campuses' zones, or a lower target)"
    )
    return Relaxation("clean.meets_target", "portfolio", str(p), amount, "MWh/yr", msg)


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    if data.sizes.get("contract", 0) == 0:
        return []
    output = data["capacity_factor_frac"].to_numpy() @ data["hour_weight_h"].to_numpy()
    strike = masked(data, "contract_price_musd_per_mwh") * output
    return [
        Coefficients(
            "contract_price_musd_per_mwh",
            "clean_contracts.csv strike price x capacity_factor_frac",
            "objective",
            times(strike, data["opex_weight_years"].to_numpy()),
        ),
    ]


CONCERN = Concern(
    name="clean",
    add_to=add_to,
    needs=("phasing", "onsite"),
    families={
        "stays_contracted": Family(),
        "within_contracts": Family(),
        "within_load": Family(),
        "meets_target": Family(relax=Relax("MWh/yr", _target_short, weight=MATCHED_WEIGHT_PER_MWH)),
    },
    extract=extract,
    views=(
        View(
            "contracts",
            contracts_table,
            "contracts.csv",
            "contracted_mw",
            (
                "contract_id",
                "zone_id",
                "technology",
                "period",
                "contracted_mw",
                "contract_output_mwh",
            ),
        ),
        View(
            "matched",
            matched_table,
            "matched.csv",
            "matched_mw",
            ("zone_id", "period", "hour", "matched_mw"),
        ),
    ),
    coefficients=coefficients,
)
