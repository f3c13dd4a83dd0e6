"""Clean-energy contracts and an hourly-matched (24/7) carbon-free energy target.

A contract c in zone z is a virtual PPA for up to ``max_mw`` of a wind or solar plant with
output ``cf[c,h]`` per MW. Contracts are long-term: once signed, kept. Its output matches the
zone's campus load hour by hour (only where campuses draw from the grid), and the matched
share of the portfolio's grid energy must reach the CFE target in every period. Per zone z
and period p, with x the decisions (contracts, IT, on-site output),

    output_h(x) = sum_{c in z} cf[c,h] contracted_mw[c,p]
    load_h(x)   = LF sum_{s in z,k} pue[s,k,h] it_mw[s,k,p] - sum_{s in z} onsite_output_mw[s,p,h]

the load matched at hour h is at most min(output_h, load_h), and at most that is best for
every use of it (the target, and emissions: matched energy carries none), so the matched
energy and the carbon it displaces in a year of the period are exactly

    matched_mwh[z,p]  <= f_w(x)  = sum_h w_h min(output_h(x), load_h(x))
    matched_tco2[z,p] <= f_wc(x) = sum_h w_h carbon[z,h] min(output_h(x), load_h(x))

both reached at once by matching min(output_h, load_h) at every hour (the plan's
``matched_mw``). f is concave, piecewise linear and positively homogeneous in x, so it is the
minimum of its supergradient cuts, one per set S of hours (no constant term):

    matched[z,p] <= sum_{h in S} v_h output_h(x) + sum_{h not in S} v_h load_h(x)   (within_hours)

with v = w (energy) or w x carbon (displaced t CO2). The model holds a few of them (S empty:
the load's energy; S every hour: the contracts' output) and ``separate`` adds, at the
solution the solver found, the cut of S = {h : output_h <= load_h} wherever the solution
claims more than f (``optimizer.solver.HighsModel.solve`` runs the loop): two rows per zone
and period and cut instead of two per zone, period and hour.

    contracted_mw[c,p] >= contracted_mw[c,p-1]        (stays_contracted; 0..max_mw, from lead)
    sum_z matched_mwh[z,p] >= cfe_target x grid MWh per year in p               (meets_target)

The contract settles as a contract for difference: per MWh of output the buyer pays the strike
price and earns the zone's hourly price (term ``clean_contracts``, may be negative):

    cost = sum_{c,p,h} w_h cf[c,h] contracted_mw[c,p] (strike_c - price[z_c,h]) opex_weight_p

Emissions (``energy``) take off ``matched_tco2``. Matching is per zone, where the price and
carbon profiles are. A period before any campus of the zone can hold IT has nothing to match
(no variables). No contracts: no components.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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
    cleaned,
    earlier,
    masked,
    nonzero_rows,
    pair_table,
    positions,
    put,
    series,
    solution,
    times,
)

#: A cut is added where the solution claims more than f by this share of f plus
#: ``SEPARATION_FLOOR`` (MWh or t a year): far below the audit's tolerance (1e-6 of the
#: target), and the floor above HiGHS's feasibility tolerance on a row (1e-7), so that a
#: cut HiGHS holds within its tolerance is not found broken again.
SEPARATION_TOL = 1e-7
SEPARATION_FLOOR = 1e-3
#: An hour counts as short (output at most load) up to this relative difference, and a cut's
#: coefficients are rounded to ``CUT_DIGITS`` significant digits. Both make the cuts the same
#: on every machine: the hourly output and load are matrix products whose last bits differ
#: with the CPU's BLAS kernels, and at the LP's optimum many hours have output equal to load,
#: so an exact comparison put those hours on either side (a cut is valid for every choice of
#: short hours; this one is the same everywhere). Seen: the cfe-25 worked example solved to
#: a different plan within its gap, 6,302 rows against 6,323, on another machine.
TIE_TOL = 1e-9
CUT_DIGITS = 12


@dataclass
class Matching:
    """The hourly output and load of one zone in one period as functions of the decisions:
    ``output_h = cf.T @ contracts``, ``load_h = pue_lf.T @ it - sum of onsite[h]``."""

    contracts: list[Any]
    cf: np.ndarray
    """(contract, hour) output per MW."""
    it: list[Any]
    pue_lf: np.ndarray
    """(campus-cooling pair, hour) average draw per MW IT: LF x PUE."""
    onsite: list[list[Any]]
    """Per on-site option of the zone's campuses, its output variable at each hour."""
    weights: dict[str, np.ndarray]
    """Per aggregate (``mwh``, ``tco2``): its weight per hour, w_h or w_h x carbon[z,h]."""

    def hourly(self) -> tuple[np.ndarray, np.ndarray]:
        """Output and load (MW) at each hour at the variables' current values."""
        output = self.cf.T @ _values(self.contracts)
        load = self.pue_lf.T @ _values(self.it)
        for option in self.onsite:
            load = load - _values(option)
        return output, load

    def cut(self, weight: np.ndarray, short: np.ndarray) -> Any:
        """sum_{h in S} v_h output_h + sum_{h not in S} v_h load_h, S the ``short`` hours
        (output at most load), as an expression of the decisions."""
        on_output, on_load = weight * short, weight * ~short
        by_contract = _rounded(self.cf @ on_output)
        by_it = _rounded(self.pue_lf @ on_load)
        terms = [a * v for a, v in zip(by_contract, self.contracts, strict=True) if a]
        terms += [a * v for a, v in zip(by_it, self.it, strict=True) if a]
        hours = np.flatnonzero(on_load)
        load_weight = _rounded(on_load)
        terms += [-load_weight[h] * option[h] for option in self.onsite for h in hours]
        return sum(terms)


def _rounded(x: np.ndarray) -> list[float]:
    """``x`` rounded to ``CUT_DIGITS`` significant digits, as floats."""
    return [float(f"{a:.{CUT_DIGITS}g}") for a in x]


def _values(variables: list[Any]) -> np.ndarray:
    return np.array([v.value or 0.0 for v in variables], dtype=float)


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
    m.MATCH_ZONE_PERIODS = pyo.Set(
        dimen=2,
        ordered=True,
        doc="(zone, period) with contracts and a campus that can hold IT",
        initialize=[(z, p) for z, p in in_zone if any(m.techs_at.get((s, p)) for s in campuses[z])],
    )
    b.matched_mwh = pyo.Var(
        m.MATCH_ZONE_PERIODS,
        within=pyo.NonNegativeReals,
        doc="Campus grid energy matched hour by hour by contracts in a year of the period, MWh",
    )
    b.matched_tco2 = pyo.Var(
        m.MATCH_ZONE_PERIODS,
        within=pyo.NonNegativeReals,
        doc="Grid emissions of the matched energy (displaced) in a year of the period, t CO2e",
    )
    b.matching = _matchings(m, data, in_zone, campuses)
    b.within_hours = pyo.ConstraintList(doc="Matched no more than min(output, load) hourly")
    for key, matching in b.matching.items():
        for short in (np.zeros(data.sizes["hour"], bool), np.ones(data.sizes["hour"], bool)):
            for aggregate, var in (("mwh", b.matched_mwh), ("tco2", b.matched_tco2)):
                b.within_hours.add(var[key] <= matching.cut(matching.weights[aggregate], short))

    b.matched_mwh_per_year = pyo.Expression(
        m.PERIODS,
        doc="Campus grid energy matched by contracts in a year of the period, MWh",
        rule=lambda b, p: sum(b.matched_mwh[z, q] for z, q in m.MATCH_ZONE_PERIODS if q == p),
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

    opex = series(data, "opex_weight_years")
    strike = series(data, "contract_price_musd_per_mwh")
    weight = data["hour_weight_h"].to_numpy()
    cf = data["capacity_factor_frac"].to_numpy()
    row = positions(data, "contract")
    price = data["zone_price_musd_per_mwh"].to_numpy()
    zone_index = positions(data, "zone")
    # Settlement per MW contracted and year: sum_h w_h cf_h (strike - price_h), million USD.
    settle = {
        c: float((weight * cf[row[c]] * (strike[c] - price[zone_index[zone_of[c]]])).sum())
        for c in zone_of
    }
    m.cost_terms_musd["clean_contracts"] = sum(
        settle[c] * opex[p] * b.contracted_mw[c, p] for c, p in m.CONTRACT_PERIODS
    )


def _matchings(
    m: pyo.ConcreteModel,
    data: xr.Dataset,
    in_zone: dict[tuple[str, str], list[str]],
    campuses: dict[str, list[str]],
) -> dict[tuple[str, str], Matching]:
    """Per (zone, period) of ``MATCH_ZONE_PERIODS``: its hourly output and load."""
    cf = data["capacity_factor_frac"].to_numpy()
    pue = data["pue"].to_numpy()
    weight = data["hour_weight_h"].to_numpy()
    carbon = data["zone_carbon_t_per_mwh"].to_numpy()
    load = float(data.attrs["it_load_factor_frac"])
    contract_row, site_row, cool_row, zone_row = (
        positions(data, d) for d in ("contract", "site", "cooling", "zone")
    )
    options: dict[tuple[str, str], list[str]] = defaultdict(list)
    if hasattr(m, "onsite"):
        option_site = series(data, "onsite_site")
        for o, p in m.ONSITE_PERIODS:
            options[option_site[o], p].append(o)
    hours = range(data.sizes["hour"])
    out = {}
    for z, p in m.MATCH_ZONE_PERIODS:
        pairs = [(s, k) for s in campuses[z] for k in m.techs_at.get((s, p), ())]
        out[z, p] = Matching(
            contracts=[m.clean.contracted_mw[c, p] for c in in_zone[z, p]],
            cf=cf[[contract_row[c] for c in in_zone[z, p]]],
            it=[m.phasing.it_mw[s, k, p] for s, k in pairs],
            pue_lf=load * pue[[site_row[s] for s, _ in pairs], [cool_row[k] for _, k in pairs]],
            onsite=[
                [m.onsite.hourly_output_mw[o, p, h] for h in hours]
                for s in campuses[z]
                for o in options[s, p]
            ],
            weights={"mwh": weight, "tco2": weight * carbon[zone_row[z]]},
        )
    return out


def separate(m: pyo.ConcreteModel) -> list[Any]:
    """The cuts (``within_hours``) the variables' current values break, added to the model:
    per zone, period and aggregate whose value passes f by more than ``SEPARATION_TOL``, the
    cut of the hours at which output is at most load."""
    b = m.clean
    added = []
    for key, matching in b.matching.items():
        output, load = matching.hourly()
        short = output <= load + TIE_TOL * np.maximum(1.0, np.abs(load))
        matched = np.minimum(output, load)
        for aggregate, var in (("mwh", b.matched_mwh), ("tco2", b.matched_tco2)):
            weight = matching.weights[aggregate]
            best = float(weight @ matched)
            if (var[key].value or 0.0) > best + SEPARATION_TOL * abs(best) + SEPARATION_FLOOR:
                added.append(b.within_hours.add(var[key] <= matching.cut(weight, short)))
    return added


#: The diagnosis weighs a MWh/yr of hourly-matched clean energy as a MW running all year.
MATCHED_WEIGHT_PER_MWH = 1 / 8760


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """MW contracted and output per contract and period; per zone, period and hour the campus
    load matched, min(output, load) (MW), and per zone and period the energy matched and the
    emissions it avoids."""
    ci, zi, pi = positions(data, "contract"), positions(data, "zone"), positions(data, "period")
    n_p, n_h = data.sizes["period"], data.sizes["hour"]
    contracted = solution(
        m.clean.contracted_mw, (data.sizes["contract"], n_p), lambda i: (ci[i[0]], pi[i[1]])
    )
    matched = np.zeros((data.sizes["zone"], n_p, n_h))
    for (z, p), matching in m.clean.matching.items():
        output, load = matching.hourly()
        matched[zi[z], pi[p]] = np.clip(np.minimum(output, load), 0.0, None)
    matched = cleaned(matched)
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
        "within_hours": Family(),
        "meets_target": Family(relax=Relax("MWh/yr", _target_short, weight=MATCHED_WEIGHT_PER_MWH)),
    },
    extract=extract,
    separate=separate,
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
