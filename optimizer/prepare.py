"""Scenario -> model data: one ``xarray.Dataset`` in model units (MW, million USD).

All unit scaling happens here and nowhere else. The IT load is flat (installed MW x load
factor), so PUE and WUE, being data, collapse into per (site, cooling) coefficients:

* ``peak_pue[s,k]`` = max over representative hours of PUE (the design-day draw per MW IT),
* ``energy_mwh_per_mw_year[s,k]`` = LF x sum_h w_h PUE_{s,k,h},
* ``energy_cost_musd_per_mw_year[s,k]`` = LF x sum_h w_h PUE_{s,k,h} price_{z,h} / 1e6,
* ``water_m3_per_mw_year[s,k]`` = LF x sum_h w_h WUE_{s,k,h}  (L/kWh = m3/MWh of IT energy).

Only the zonal limit needs hours (campuses in a zone peak at different hours): it keeps the
hours whose PUE vector over the zone's (site, cooling) pairs is not below a convex combination
of other hours' vectors, which gives the same feasible set as all hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from formulations.units import KG_PER_T, M3_PER_HM3, USD_PER_MUSD
from optimizer.periods import Period
from optimizer.profiles import ERRORS, SEP, RepresentativeHours, reduce_profiles
from optimizer.scenario import Scenario

#: The representative hours as the plan keeps them beside ``hour_weight_h`` (see
#: :func:`_add_reduction`), with their units.
REDUCTION_UNITS = {
    "hour_source": "hour of the year (0-based)",
    "representative_value": "the unit in the series' profile name",
    "reduction_mean_error_frac": "fraction of max(1, |full-year mean|)",
    "reduction_peak_error": "the unit in the series' profile name",
    "reduction_min_error": "the unit in the series' profile name",
    "reduction_duration_rmse": "the unit in the series' profile name",
}


def prepare(scenario: Scenario, reduced: RepresentativeHours | None = None) -> xr.Dataset:
    """Model data for ``scenario``; ``reduced`` reuses representative hours already made."""
    cfg = scenario.config
    if reduced is None:
        reduced = reduce_profiles(scenario.profiles, cfg.representative_days)
    periods = cfg.horizon.periods
    first = periods[0]
    sites = pd.DataFrame([s.model_dump() for s in scenario.sites]).set_index("site_id")
    zones = pd.DataFrame([z.model_dump() for z in scenario.zones]).set_index("zone_id")
    cooling = pd.DataFrame([c.model_dump() for c in scenario.cooling]).set_index("cooling_id")
    upgrades = pd.DataFrame(
        [u.model_dump() for u in scenario.upgrades],
        columns=["upgrade_id", "site_id", "name", "added_mw", "capex_musd", "lead_periods"],
    ).set_index("upgrade_id")

    ds = xr.Dataset(
        coords={
            "site": sites.index.to_list(),
            "zone": zones.index.to_list(),
            "cooling": cooling.index.to_list(),
            "period": [p.label for p in periods],
            "upgrade": upgrades.index.to_list(),
            "hour": np.arange(reduced.n_hours),
        }
    )
    _add_periods(ds, scenario, periods)
    _add_sites(ds, scenario, sites, first)
    ds["zone_import_limit_mw"] = ("zone", zones["import_limit_mw"].astype(float).to_numpy())
    ds["zone_region"] = ("zone", zones["region"].to_numpy(dtype=str))
    _add_reduction(ds, reduced)
    ds["upgrade_site"] = ("upgrade", upgrades["site_id"].to_numpy(dtype=str))
    ds["upgrade_added_mw"] = ("upgrade", upgrades["added_mw"].to_numpy(dtype=float))
    ds["upgrade_capex_musd"] = ("upgrade", upgrades["capex_musd"].to_numpy(dtype=float))
    ds["upgrade_first_index"] = ("upgrade", upgrades["lead_periods"].to_numpy(dtype=int))
    ds["cooling_capex_musd_per_mw"] = ("cooling", cooling["capex_musd_per_mw"].to_numpy(float))
    _add_cooling_performance(ds, scenario, sites, cooling, reduced)
    _add_zone_hours(ds, sites)
    _add_demand(ds, scenario)
    _add_site_power(ds, scenario, reduced)
    _add_contracts(ds, scenario, reduced)
    ds.attrs.update(
        scenario=cfg.name,
        block_it_mw=cfg.portfolio.block_it_mw or 0.0,
        accelerator_supply_it_mw_per_period=cfg.portfolio.accelerator_supply_it_mw_per_period
        or 0.0,
        it_load_factor_frac=cfg.portfolio.it_load_factor_frac,
        energy_weight_musd_per_mwh=cfg.objective.energy_weight_usd_per_mwh / USD_PER_MUSD,
        carbon_price_musd_per_t=cfg.objective.carbon_price_usd_per_t / USD_PER_MUSD,
    )
    _add_dominated_cooling(ds)
    _add_deliverable(ds)
    return ds


def _add_reduction(ds: xr.Dataset, reduced: RepresentativeHours) -> None:
    """The representative hours as the plan files record them: weight and source hour per
    hour, every profile's values on them (``series`` = profile|id) and the reduction's error
    per series (see :mod:`optimizer.profiles`)."""
    error = reduced.error
    pairs = list(zip(error["profile"], error["series"], strict=True))
    values = np.column_stack([reduced.frames[p][s].to_numpy(dtype=float) for p, s in pairs])
    ds.coords["series"] = [f"{p}{SEP}{s}" for p, s in pairs]
    ds["hour_weight_h"] = ("hour", reduced.weight_h)
    ds["hour_source"] = ("hour", reduced.source_hour.astype(int))
    ds["representative_value"] = (("hour", "series"), values)
    ds["representative_value"].encoding.update(zlib=True, complevel=4)  # plan.nc stays small
    for column in ERRORS:
        ds[f"reduction_{column}"] = ("series", error[column].to_numpy(dtype=float))


def _add_dominated_cooling(ds: xr.Dataset) -> None:
    """``cooling_dominated[s,k]``: an allowed technology that another allowed one at the same
    campus beats on every datum the model prices or limits it by: capex, PUE and WUE at
    every representative hour, and the yearly energy cost and carbon per MW (which weigh the
    hours by price, negative prices included). Holding the same IT with the other one then
    draws no more in any row (headroom, zone, curtailment, water) and costs no more, so
    leaving k out (``formulations.core.add_sets``) keeps the optimum. Of two equal
    technologies the first stays. Campuses with on-site options, or in a zone with clean
    contracts, are left whole: there the load is priced and matched hour by hour, and less
    load is not always cheaper (a negative price, a clean-energy share of the load)."""
    allowed = ds["allowed"].to_numpy()
    pue, wue = ds["pue"].to_numpy(), ds["wue_l_per_kwh"].to_numpy()
    capex = ds["cooling_capex_musd_per_mw"].to_numpy()
    cost = ds["energy_cost_musd_per_mw_year"].to_numpy()
    carbon = ds["carbon_t_per_mw_year"].to_numpy()
    hourly = np.isin(ds["site"].to_numpy(), ds["onsite_site"].to_numpy()) | np.isin(
        ds["site_zone"].to_numpy(), ds["contract_zone"].to_numpy()
    )

    def no_worse(s: int, a: int, b: int) -> bool:  # a at least as good as b at campus s
        return bool(
            capex[a] <= capex[b]
            and cost[s, a] <= cost[s, b]
            and carbon[s, a] <= carbon[s, b]
            and np.all(pue[s, a] <= pue[s, b])
            and np.all(wue[s, a] <= wue[s, b])
        )

    dominated = np.zeros_like(allowed)
    for s in map(int, np.flatnonzero(~hourly)):
        techs = [int(k) for k in np.flatnonzero(allowed[s])]
        dominated[s, techs] = [
            any(
                no_worse(s, other, k) and (other < k or not no_worse(s, k, other))
                for other in techs
                if other != k
            )
            for k in techs
        ]
    ds["cooling_dominated"] = (("site", "cooling"), dominated)


def _add_deliverable(ds: xr.Dataset) -> None:
    """``deliverable_it_mw[s,k,p]``: the most IT a campus can hold with cooling k in period p
    under its own limits alone, in whole blocks: its maximum; what its grid connection can
    deliver by then (existing headroom, every upgrade whose lead time has passed, the
    non-firm tier and every on-site option delivered) at the design-hour PUE; its zone's
    import limit at that PUE; its water limit at k's water use; the accelerator supply of
    the periods so far. Each is implied by a rule of the model, so the bound cuts no plan;
    it is the tight big-M of the valid inequalities in ``formulations.strength``.

    ``supply_before_upgrades_mw[s,p]``: the most the campus can draw without any upgrade
    (headroom, the non-firm tier, on-site options delivered by then), for
    ``strength.within_connection``."""
    n_p = ds.sizes["period"]
    index = np.arange(n_p)
    sites = [str(s) for s in ds["site"].to_numpy()]
    row = {s: i for i, s in enumerate(sites)}
    supply_mw = ds["headroom_mw"].to_numpy() + ds["nonfirm_mw"].to_numpy()
    delivered = index[None, :] >= ds["onsite_first_index"].to_numpy()[:, None]  # (o, p)
    for o, s in enumerate(ds["onsite_site"].to_numpy()):
        supply_mw[row[str(s)]] += ds["onsite_max_mw"].to_numpy()[o] * delivered[o]
    ds["supply_before_upgrades_mw"] = (("site", "period"), supply_mw.copy())
    arrived = index[None, :] >= ds["upgrade_first_index"].to_numpy()[:, None]  # (u, p)
    for u, s in enumerate(ds["upgrade_site"].to_numpy()):
        supply_mw[row[str(s)]] += ds["upgrade_added_mw"].to_numpy()[u] * arrived[u]
    zone_limit = ds["zone_import_limit_mw"].to_series().reindex(ds["site_zone"].to_numpy())
    supply_mw = np.minimum(supply_mw, np.nan_to_num(zone_limit.to_numpy(), nan=np.inf)[:, None])
    peak = ds["peak_pue"].to_numpy()  # (s, k)
    cap = supply_mw[:, None, :] / peak[:, :, None]
    cap = np.minimum(cap, ds["max_it_mw"].to_numpy()[:, None, None])
    water = ds["water_hm3_per_mw_year"].to_numpy()
    limit = ds["water_limit_hm3_per_year"].to_numpy()[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        water_cap = np.where((water > 0) & np.isfinite(limit), limit / water, np.inf)
    cap = np.minimum(cap, water_cap[:, :, None])
    supply = float(ds.attrs["accelerator_supply_it_mw_per_period"])
    if supply > 0:
        cap = np.minimum(cap, supply * (index + 1)[None, None, :])
    block = float(ds.attrs["block_it_mw"])
    if block > 0:
        cap = np.floor(cap / block + 1e-9) * block
    ds["deliverable_it_mw"] = (("site", "cooling", "period"), np.maximum(cap, 0.0))


def _add_periods(ds: xr.Dataset, scenario: Scenario, periods: list[Period]) -> None:
    h = scenario.config.horizon
    years = np.array([p.years for p in periods])
    start = np.array([p.start_year for p in periods])
    ds["period_years"] = ("period", years)
    ds["period_start_year"] = ("period", start)
    rate = 1 + h.discount_rate_frac_per_year
    ds["discount_factor"] = ("period", rate ** -(start - h.base_year))
    opex = years * rate ** -(start - h.base_year)
    opex[-1] += _tail_annuity(h.opex_tail_years, start[-1] + years[-1], h.base_year, rate)
    ds["opex_weight_years"] = ("period", opex)
    targets = scenario.config.portfolio.target_it_mw_by_period
    ds["target_it_mw"] = ("period", np.array([targets[p.label] for p in periods], dtype=float))


EARTH_RADIUS_KM = 6371.0


def great_circle_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Haversine distance on a sphere of radius 6,371 km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _add_demand(ds: xr.Dataset, scenario: Scenario) -> None:
    """Inference demand by region and period, and per (region, site) the round-trip latency,
    whether it is within the region's limit, and the network cost of serving a MW-year.
    Pairs in ``serving.csv`` take their given latency and cost; the others follow from
    great-circle distance: latency = 2 x km x route factor / km per ms,
    cost = km / 1000 x the region's cost per MW-year per 1,000 km."""
    regions = [r.region_id for r in scenario.demand_regions]
    ds.coords["region"] = regions
    n_r, n_s = len(regions), ds.sizes["site"]
    demand = np.zeros((n_r, ds.sizes["period"]))
    periods = {str(p): j for j, p in enumerate(ds["period"].to_numpy())}
    index = {r: i for i, r in enumerate(regions)}
    for row in scenario.inference_demand:
        demand[index[row.region_id], periods[row.period]] = row.inference_it_mw
    lat = np.array([r.latitude_deg for r in scenario.demand_regions])[:, None]
    lon = np.array([r.longitude_deg for r in scenario.demand_regions])[:, None]
    km = great_circle_km(
        lat,
        lon,
        ds["site_latitude_deg"].to_numpy()[None, :],
        ds["site_longitude_deg"].to_numpy()[None, :],
    ).reshape(n_r, n_s)
    lat_cfg = scenario.config.latency
    latency = 2 * km * lat_cfg.fiber_route_factor / lat_cfg.fiber_km_per_ms
    per_1000km = np.array(
        [r.network_cost_usd_per_mw_year_per_1000km for r in scenario.demand_regions]
    )[:, None]
    cost = km / 1000.0 * per_1000km
    site_index = {str(s): j for j, s in enumerate(ds["site"].to_numpy())}
    for pair in scenario.serving:
        i, j = index[pair.region_id], site_index[pair.site_id]
        latency[i, j] = pair.latency_ms
        cost[i, j] = pair.network_cost_usd_per_mw_year
    limit = np.array([r.latency_limit_ms for r in scenario.demand_regions])[:, None]
    ds["inference_demand_mw"] = (("region", "period"), demand)
    ds["latency_ms"] = (("region", "site"), latency)
    ds["serving_allowed"] = (("region", "site"), latency <= limit)
    ds["network_cost_musd_per_mw_year"] = (("region", "site"), cost / USD_PER_MUSD)


def _add_site_power(ds: xr.Dataset, scenario: Scenario, reduced: RepresentativeHours) -> None:
    """Flexible connections (per site, zero where absent) and on-site power options.

    A flexible campus's stressed hours are its zone's highest-price representative hours,
    taken in decreasing price (ties by hour) until their weight fills
    ``curtailment_budget_frac`` of the year; of the last hour only the part that fits counts
    (``stressed_weight_h``), so the budget is met exactly at any resolution."""
    n_s = ds.sizes["site"]
    site_index = {str(s): i for i, s in enumerate(ds["site"].to_numpy())}
    nonfirm = np.zeros(n_s)
    lost = np.zeros(n_s)
    stressed = np.zeros((n_s, ds.sizes["hour"]))
    weights = reduced.weight_h
    price = ds["site_price_musd_per_mwh"].to_numpy()
    for row in scenario.flexible_connections:
        i = site_index[row.site_id]
        nonfirm[i] = row.nonfirm_mw
        lost[i] = row.lost_compute_usd_per_mwh / USD_PER_MUSD
        order = np.lexsort((np.arange(len(weights)), -price[i]))
        budget_h = row.curtailment_budget_frac * weights.sum()
        before = np.concatenate([[0.0], np.cumsum(weights[order])[:-1]])
        stressed[i, order] = np.clip(budget_h - before, 0.0, weights[order])
    connected = ds["headroom_connected"].to_numpy()
    ds["nonfirm_mw"] = (("site", "period"), np.where(connected, nonfirm[:, None], 0.0))
    ds["lost_compute_musd_per_mwh"] = ("site", lost)
    ds["stressed_weight_h"] = (("site", "hour"), stressed)

    options = scenario.onsite_power
    ds.coords["onsite"] = [o.option_id for o in options]
    dim = "onsite"
    ds["onsite_site"] = (dim, np.array([o.site_id for o in options], dtype=str))
    ds["onsite_technology"] = (dim, np.array([o.technology for o in options], dtype=str))
    ds["onsite_max_mw"] = (dim, np.array([o.max_mw for o in options], dtype=float))
    ds["onsite_capex_musd_per_mw"] = (dim, np.array([o.capex_musd_per_mw for o in options], float))
    ds["onsite_fixed_musd_per_mw_year"] = (
        dim,
        np.array([o.fixed_cost_musd_per_mw_year for o in options], dtype=float),
    )
    ds["onsite_marginal_musd_per_mwh"] = (
        dim,
        np.array(
            [
                o.heat_rate_mmbtu_per_mwh * o.fuel_price_usd_per_mmbtu + o.variable_om_usd_per_mwh
                for o in options
            ],
            dtype=float,
        )
        / USD_PER_MUSD,
    )
    ds["onsite_emissions_t_per_mwh"] = (
        dim,
        np.array([o.heat_rate_mmbtu_per_mwh * o.emissions_kg_per_mmbtu for o in options], float)
        / KG_PER_T,
    )
    ds["onsite_first_index"] = (dim, np.array([o.lead_periods for o in options], dtype=int))
    ds["onsite_permit_tco2_per_year"] = (
        dim,
        np.array(
            [np.nan if o.permit_tco2_per_year is None else o.permit_tco2_per_year for o in options],
            dtype=float,
        ),
    )


def _add_contracts(ds: xr.Dataset, scenario: Scenario, reduced: RepresentativeHours) -> None:
    """Clean-energy contracts: zone, MW on offer, strike price, first period, hourly output per
    MW; the zones' hourly prices and carbon intensities for settlement and matching; the
    CFE target."""
    contracts = scenario.clean_contracts
    ids = [c.contract_id for c in contracts]
    dim = "contract"
    ds.coords[dim] = ids
    ds["contract_zone"] = (dim, np.array([c.zone_id for c in contracts], dtype=str))
    ds["contract_technology"] = (dim, np.array([c.technology for c in contracts], dtype=str))
    ds["contract_max_mw"] = (dim, np.array([c.max_mw for c in contracts], dtype=float))
    ds["contract_price_musd_per_mwh"] = (
        dim,
        np.array([c.price_usd_per_mwh for c in contracts], dtype=float) / USD_PER_MUSD,
    )
    ds["contract_first_index"] = (dim, np.array([c.lead_periods for c in contracts], dtype=int))
    factors = reduced.frames.get("capacity_factor_frac")
    cf = (
        factors[ids].to_numpy(dtype=float).T
        if factors is not None
        else np.zeros((0, ds.sizes["hour"]))
    )
    ds["capacity_factor_frac"] = ((dim, "hour"), cf)
    zones = [str(z) for z in ds["zone"].to_numpy()]
    price = reduced.frames["price_usd_per_mwh"][zones].to_numpy(dtype=float).T
    carbon = reduced.frames["carbon_kg_per_mwh"][zones].to_numpy(dtype=float).T
    ds["zone_price_musd_per_mwh"] = (("zone", "hour"), price / USD_PER_MUSD)
    ds["zone_carbon_t_per_mwh"] = (("zone", "hour"), carbon / KG_PER_T)
    ds.attrs["cfe_target_frac"] = scenario.config.clean_energy.cfe_target_frac


def _tail_annuity(tail_years: float, from_year: float, base_year: float, rate: float) -> float:
    """Discounted years of operation in ``tail_years`` starting at ``from_year``: the sum over
    each (part) year y of its length x rate**-(from_year + y - base_year)."""
    total, y = 0.0, 0
    while y < tail_years:
        total += min(1.0, tail_years - y) * rate ** -(from_year + y - base_year)
        y += 1
    return total


def _add_sites(ds: xr.Dataset, scenario: Scenario, sites: pd.DataFrame, first: Period) -> None:
    lead = scenario.config.portfolio.construction_lead_periods
    n_periods = ds.sizes["period"]
    earliest = np.array([Period.parse(p) - first + lead for p in sites["earliest_period"]])
    headroom_from = np.array([Period.parse(p) - first for p in sites["headroom_period"]])
    index = np.arange(n_periods)
    ds["site_zone"] = ("site", sites["zone_id"].to_numpy(dtype=str))
    ds["site_weather"] = ("site", sites["weather_id"].to_numpy(dtype=str))
    ds["site_name"] = ("site", sites["name"].to_numpy(dtype=str))
    ds["site_latitude_deg"] = ("site", sites["latitude_deg"].to_numpy(dtype=float))
    ds["site_longitude_deg"] = ("site", sites["longitude_deg"].to_numpy(dtype=float))
    ds["site_first_index"] = ("site", np.maximum(earliest, 0))
    ds["min_it_mw"] = ("site", sites["min_it_mw"].to_numpy(dtype=float))
    ds["max_it_mw"] = ("site", sites["max_it_mw"].to_numpy(dtype=float))
    ds["development_capex_musd"] = ("site", sites["development_capex_musd"].to_numpy(float))
    ds["building_capex_musd_per_mw"] = ("site", sites["building_capex_musd_per_mw"].to_numpy(float))
    connected = index[None, :] >= headroom_from[:, None]
    ds["headroom_connected"] = (("site", "period"), connected)
    ds["headroom_mw"] = (
        ("site", "period"),
        np.where(connected, sites["headroom_mw"].to_numpy(float)[:, None], 0.0),
    )
    limit = sites["water_limit_m3_per_year"].astype(float).to_numpy()
    ds["water_limit_m3_per_year"] = ("site", limit)  # NaN = unlimited
    ds["water_limit_hm3_per_year"] = ("site", limit / M3_PER_HM3)  # model unit, 1 hm3 = 1e6 m3
    ds["water_price_usd_per_m3"] = ("site", sites["water_price_usd_per_m3"].to_numpy(float))


def _curve(scenario: Scenario, cooling_id: str, quantity: str) -> tuple[np.ndarray, np.ndarray]:
    points = [
        (r.ambient_c, r.value)
        for r in scenario.cooling_curves
        if r.cooling_id == cooling_id and r.quantity == quantity
    ]
    x, y = zip(*points, strict=True)
    return np.array(x), np.array(y)


def _add_cooling_performance(
    ds: xr.Dataset,
    scenario: Scenario,
    sites: pd.DataFrame,
    cooling: pd.DataFrame,
    reduced: RepresentativeHours,
) -> None:
    ambient = {
        "dry_bulb": reduced.frames["dry_bulb_c"],
        "wet_bulb": reduced.frames["wet_bulb_c"],
    }
    n_s, n_k, n_h = ds.sizes["site"], ds.sizes["cooling"], ds.sizes["hour"]
    pue = np.empty((n_s, n_k, n_h))
    wue = np.empty((n_s, n_k, n_h))
    allowed = np.ones((n_s, n_k), dtype=bool)
    liquid_only = scenario.config.portfolio.requires_liquid_cooling
    design_dry = np.array([ambient["dry_bulb"][w].max() for w in sites["weather_id"]])
    design_wet = np.array([ambient["wet_bulb"][w].max() for w in sites["weather_id"]])
    for k, (cid, tech) in enumerate(cooling.iterrows()):
        px, py = _curve(scenario, str(cid), "pue")
        wx, wy = _curve(scenario, str(cid), "wue_l_per_kwh")
        for s, weather in enumerate(sites["weather_id"]):
            pue[s, k] = np.interp(ambient[tech["pue_ambient"]][weather].to_numpy(), px, py)
            wue[s, k] = np.interp(ambient[tech["wue_ambient"]][weather].to_numpy(), wx, wy)
        if liquid_only and not tech["serves_liquid_racks"]:
            allowed[:, k] = False
        if not pd.isna(tech["max_dry_bulb_c"]):
            allowed[:, k] &= design_dry <= tech["max_dry_bulb_c"]
        if not pd.isna(tech["max_wet_bulb_c"]):
            allowed[:, k] &= design_wet <= tech["max_wet_bulb_c"]

    weights = reduced.weight_h
    load = scenario.config.portfolio.it_load_factor_frac
    zone_of = sites["zone_id"].to_numpy()
    price = reduced.frames["price_usd_per_mwh"][zone_of].to_numpy().T  # (site, hour)
    carbon = reduced.frames["carbon_kg_per_mwh"][zone_of].to_numpy().T
    energy_per_h = load * pue * weights  # MWh per MW IT per year, by hour
    dims = ("site", "cooling")
    ds["design_dry_bulb_c"] = ("site", design_dry)
    ds["design_wet_bulb_c"] = ("site", design_wet)
    ds["allowed"] = (dims, allowed)
    ds["pue"] = (("site", "cooling", "hour"), pue)
    ds["wue_l_per_kwh"] = (("site", "cooling", "hour"), wue)
    ds["peak_pue"] = (dims, pue.max(axis=2))
    ds["energy_mwh_per_mw_year"] = (dims, energy_per_h.sum(axis=2))
    ds["energy_cost_musd_per_mw_year"] = (
        dims,
        (energy_per_h * price[:, None, :]).sum(axis=2) / USD_PER_MUSD,
    )
    ds["carbon_t_per_mw_year"] = (dims, (energy_per_h * carbon[:, None, :]).sum(axis=2) / KG_PER_T)
    ds["site_price_musd_per_mwh"] = (("site", "hour"), price / USD_PER_MUSD)
    ds["site_carbon_t_per_mwh"] = (("site", "hour"), carbon / KG_PER_T)
    water = load * (wue * weights).sum(axis=2)
    ds["water_m3_per_mw_year"] = (dims, water)
    ds["water_hm3_per_mw_year"] = (dims, water / M3_PER_HM3)
    ds["water_cost_musd_per_mw_year"] = (
        dims,
        water * ds["water_price_usd_per_m3"].to_numpy()[:, None] / USD_PER_MUSD,
    )


def _add_zone_hours(ds: xr.Dataset, sites: pd.DataFrame) -> None:
    """Mark, per zone, the hours at which the zonal limit can bind: not dominated by another
    hour (:func:`_non_dominated`, cheap) and not below a convex combination of the others
    (:func:`_hull_hours`, one small LP per remaining hour)."""
    binding = np.zeros((ds.sizes["zone"], ds.sizes["hour"]), dtype=bool)
    pue = ds["pue"].to_numpy()
    allowed = ds["allowed"].to_numpy()
    for z, zone in enumerate(ds["zone"].to_numpy()):
        members = np.flatnonzero(sites["zone_id"].to_numpy() == zone)
        if members.size == 0 or np.isnan(ds["zone_import_limit_mw"].to_numpy()[z]):
            continue
        columns = pue[members][allowed[members]]  # (pairs, hour)
        if columns.size == 0:
            continue
        candidates = _non_dominated(columns.T)
        binding[z, candidates[_hull_hours(columns[:, candidates])]] = True
    ds["zone_binding_hour"] = (("zone", "hour"), binding)


def _non_dominated(rows: np.ndarray) -> np.ndarray:
    """Indices of rows not dominated (<= everywhere) by another row; of equal rows the first.

    Rows are taken by decreasing sum: the first remaining row cannot be dominated by a later
    one, so it is kept and every row it dominates is dropped."""
    remaining = np.lexsort((np.arange(len(rows)), -rows.sum(axis=1)))
    kept: list[int] = []
    while remaining.size:
        best = int(remaining[0])
        kept.append(best)
        remaining = remaining[~np.all(rows[remaining] <= rows[best], axis=1)]
    return np.array(sorted(kept), dtype=int)


def _strict_argmax_hours(vectors: np.ndarray, samples: int = 512) -> np.ndarray:
    """Mask of hours that are the strict maximum of ``w . pue[:,h]`` for some weights w >= 0
    (each pair alone, all pairs, each hour's excess over the mean, seeded random mixes): no
    convex combination of other hours lies above such an hour (w . it would be smaller), so
    it is kept without an LP."""
    rng = np.random.default_rng(0)
    n_pairs = vectors.shape[0]
    excess = np.maximum(vectors - vectors.mean(axis=1, keepdims=True), 0.0).T  # (hours, pairs)
    weights = np.vstack(
        [
            np.eye(n_pairs),
            np.ones(n_pairs),
            excess,
            excess**2,
            rng.dirichlet(np.ones(n_pairs), samples),
        ]
    )
    scores = weights @ vectors  # (weights, hours)
    order = np.sort(scores, axis=1)
    strict = order[:, -1] > order[:, -2] + HULL_MARGIN_PUE
    vertex = np.zeros(vectors.shape[1], dtype=bool)
    vertex[np.argmax(scores, axis=1)[strict]] = True
    return vertex


def _below_a_segment(point: np.ndarray, others: np.ndarray) -> bool:
    """Whether ``point`` + margin <= lam a + (1 - lam) b for two columns a, b of ``others``
    and some lam in [0, 1] (a point itself when a = b): a convex combination of two, found
    without an LP. Per pair, each coordinate j bounds lam: lam (a_j - b_j) >= point_j - b_j."""
    a, b = others[:, :, None], others[:, None, :]  # (pairs, a, b)
    step = a - b
    need = point[:, None, None] + HULL_MARGIN_PUE - b
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = need / step
    low = np.where(step > 0, ratio, np.where((step == 0) & (need > 0), np.inf, -np.inf))
    high = np.where(step < 0, ratio, np.inf)
    lo = np.maximum(low.max(axis=0), 0.0)
    hi = np.minimum(high.min(axis=0), 1.0)
    return bool(np.any(lo <= hi))


#: Above this many hours the pairwise segment test costs more than the LP it saves.
SEGMENT_CHECK_HOURS = 80

#: A dropped hour's PUE must lie this far below the convex combination in every pair, so the
#: LP's feasibility tolerance never lets a row go that could bind by a hair.
HULL_MARGIN_PUE = 1e-6


def _hull_hours(columns: np.ndarray) -> np.ndarray:
    """Mask of the columns (hours) of ``columns`` (pairs x hours) to keep: those whose vector
    is not <= a convex combination of the kept others. The zonal row at hour h is
    ``sum_j x_j pue[j,h] <= L`` with x >= 0, so if ``pue[:,h] <= sum_g lam_g pue[:,g]``
    (lam >= 0, sum 1) the row at h is implied by the rows at the g's: dropping it is exact.
    Hours are tested one by one, least total PUE first, against the hours still kept, so a
    dropped hour is implied by kept rows directly or through hours dropped after it
    (whose rows are implied by hours kept at that time): by induction by the final set.
    Identical pairs (same weather station and technology) give one LP column."""
    from optimizer.solver import feasibility_test  # HiGHS, imported where the model is solved

    feasible = feasibility_test()

    vectors = np.unique(columns, axis=0)
    n = vectors.shape[1]
    keep = np.ones(n, dtype=bool)
    if n < 3:  # two non-dominated hours are both vertices
        return keep
    vertex = _strict_argmax_hours(vectors)
    for h in np.argsort(vectors.sum(axis=0), kind="stable"):
        if vertex[h]:
            continue
        others = np.flatnonzero(keep & (np.arange(n) != h))
        if others.size <= SEGMENT_CHECK_HOURS and _below_a_segment(
            vectors[:, h], vectors[:, others]
        ):
            keep[h] = False
            continue
        keep[h] = not feasible(  # no convex combination above it: the row can bind
            -vectors[:, others],
            -(vectors[:, h] + HULL_MARGIN_PUE),
            np.ones((1, others.size)),
            np.array([1.0]),
        )
    return keep
