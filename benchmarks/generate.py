"""Synthetic scenarios of any size, derived from the default scenario, for scaling benchmarks.

    python benchmarks/generate.py --sites 1000 --periods 10 --typical-days 4 --seed 0 OUT_DIR

Everything is drawn from the default scenario (``data/default``) with a seeded generator, so
the same arguments write byte-identical folders:

* **Zones.** ``zones`` (default ``max(default zones, sites // 8)``). Every default zone is
  kept as it is; further zones are children of a default zone (drawn in proportion to its
  number of campuses) with the parent's region, hourly price ``a x parent + b``
  (a ~ U(0.92, 1.08), b ~ N(0, 1.5) USD/MWh: a basis to the hub with the same peak day, so
  tsam keeps no more extreme days) and carbon ``c x parent`` (c ~ U(0.9, 1.1)). Fewer zones
  than the default's: a subset of them, drawn the same way.
* **Sites.** Each is a default campus of the parent zone, perturbed: position (±0.3°), weather
  station (its own, or with probability 0.2 another station of its region), maximum IT MW
  (drawn from the default's), development capex (the default's linear fit on maximum IT MW,
  x lognormal σ 0.15), building capex (σ 0.05), earliest period (-1 .. +1 periods), existing
  headroom (σ 0.3, in 50 MW) with the default's lag to its period, water limit (σ 0.3) and
  price (σ 0.1). Every zone gets at least one site.
* **Upgrades.** ``upgrade_tiers`` per site: the default site's tiers (capex σ 0.15, lead
  -1 .. +1 periods); tiers beyond the default's two double the added MW at 1.2 x the cost per
  MW and 2 more periods of lead time (assumption).
* **Cooling.** The technologies that serve the platform (liquid racks in the default); beyond
  those, vendor variants of them (capex x U(0.93, 1.07), PUE - 1 x U(0.9, 1.1), WUE x U(0.85,
  1.15)).
* **Tightness.** Zone import limits keep the default zone's share of its campuses' design draw
  (x lognormal σ 0.15, never below the zone's existing headroom). The portfolio ramp is the
  default's (extended by its last step past the default horizon) times the largest factor
  that leaves every period at least the default's ratio of deliverable facility MW (headroom
  and upgrades in service at energizable sites, capped by zone limits, the check of
  ``data/build_default.py``) to the facility MW the ramp needs; accelerator supply scales by
  the same factor. So an instance of any size is about as feasible, and as tight, as the
  default: its tightest period is as tight (up to rounding the ramp down to whole blocks).
* **Demand regions** (``regions``, default none; README "Demand regions and latency"). Each
  region sits near a campus drawn at random (±2° in latitude and longitude, about 220 km,
  well within the ``latency_ms`` round trip of 25 ms, about 1,670 km of great-circle distance
  at the default fiber model), so every region has campuses in reach; its weight is lognormal
  (σ 1) and it needs that share of ``INFERENCE_SHARE_FRAC`` (30 %, as the worked example
  ``data/examples/inference.py``) of each period's target as inference IT MW; network cost
  20,000 USD per MW-year per 1,000 km (the example's assumption). Drawn after everything
  else, from its own seeded generator, so adding regions leaves the rest byte-identical.
* **Profiles.** The default's 8,760-hour weather (TMY3 stations, unchanged) and prices; the
  representative days come from ``typical_days`` plus the extreme days tsam keeps.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from optimizer.periods import Period  # noqa: E402
from optimizer.scenario import Scenario, load_scenario  # noqa: E402
from optimizer.schema import CoolingCurveRow, CoolingRow, SiteRow, UpgradeRow  # noqa: E402
from optimizer.writer import write_scenario  # noqa: E402

DEFAULT_BASE = ROOT / "data" / "default"
#: Facility MW per IT MW used to size limits and check feasibility (as data/build_default.py).
DESIGN_PUE = 1.25
ZONE_LIMIT_STEP_MW = 100.0
SITES_PER_ZONE = 8
"""Zones when none are given: ``max(default zones, sites // SITES_PER_ZONE)``."""
INFERENCE_SHARE_FRAC = 0.30
"""Share of each period's target that regions need served as inference (as the example)."""
NETWORK_COST_USD_PER_MW_YEAR_PER_1000KM = 20_000.0
REGION_OFFSET_DEG = 2.0
SPEC_FILE = "generator.json"
"""Written next to the scenario: the arguments that made it and what they gave (zones,
upgrades, ramp); ``load_scenario`` ignores it."""


@dataclass(frozen=True)
class Spec:
    """What to generate."""

    sites: int
    periods: int | None = None
    """Half-year periods from the default's first period. None: the default's."""
    typical_days: int | None = None
    """tsam typical days (extreme days are added). None: the default's."""
    cooling: int | None = None
    """Cooling technologies. None: the default's technologies that serve the platform."""
    zones: int | None = None
    """Grid zones. None: ``max(default zones, sites // SITES_PER_ZONE)``."""
    upgrade_tiers: int = 2
    seed: int = 0
    regions: int = 0
    """Demand regions of inference users; 0: none (no serving in the model)."""
    latency_ms: float = 25.0
    """Round-trip latency limit of every region, ms."""


def generate(spec: Spec, out_dir: str | Path, base_dir: str | Path = DEFAULT_BASE) -> Path:
    """Write the scenario of ``spec`` into ``out_dir`` (which must not hold a scenario)."""
    if spec.sites < 1:
        raise ValueError("at least one site")
    if spec.regions < 0 or spec.latency_ms <= 0:
        raise ValueError("regions >= 0 and latency_ms > 0")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    base = load_scenario(base_dir)
    rng = np.random.default_rng(spec.seed)
    zones = _zones(base, spec, rng)
    sites = _sites(base, zones, spec.sites, rng)
    upgrades = _upgrades(base, sites, spec.upgrade_tiers, rng)
    cooling, curves = _cooling(base, spec.cooling, rng)
    limits = _zone_limits(base, zones, sites, rng)
    n_periods = spec.periods or len(base.config.horizon.periods)
    targets, supply = _ramp(base, sites, upgrades, limits, n_periods)

    config = _config(base, spec, targets, supply)
    zone_rows = [
        {
            "zone_id": z.zone_id,
            "name": z.name,
            "region": z.region,
            "import_limit_mw": limits[z.zone_id],
        }
        for z in zones
    ]
    tables = {
        "sites.csv": [s.model_dump() for s in sites],
        "zones.csv": zone_rows,
        "upgrades.csv": [u.model_dump() for u in upgrades],
        "cooling_technologies.csv": [c.model_dump() for c in cooling],
        "cooling_curves.csv": [c.model_dump() for c in curves],
    }
    if spec.regions:
        tables.update(_regions(spec, sites, config["portfolio"]["target_it_mw_by_period"]))
    write_scenario(out, config, tables, _profiles(base, zones))
    summary = {
        "spec": asdict(spec),
        "zones": len(zones),
        "upgrades": len(upgrades),
        "cooling": [c.cooling_id for c in cooling],
        "target_it_mw_by_period": config["portfolio"]["target_it_mw_by_period"],
        "accelerator_supply_it_mw_per_period": supply,
        "regions": spec.regions,
    }
    (out / SPEC_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return out


# --------------------------------------------------------------------------- zones


@dataclass(frozen=True)
class Zone:
    zone_id: str
    parent: str
    name: str
    region: str
    price_scale: float
    price_shift_usd_per_mwh: float
    carbon_scale: float


def _zones(base: Scenario, spec: Spec, rng: np.random.Generator) -> list[Zone]:
    n_sites = {z.zone_id: 0 for z in base.zones}
    for s in base.sites:
        n_sites[s.zone_id] += 1
    parents = [z for z in base.zones if n_sites[z.zone_id] > 0]
    weight = np.array([n_sites[z.zone_id] for z in parents], dtype=float)
    weight /= weight.sum()
    wanted = spec.zones or max(len(base.zones), spec.sites // SITES_PER_ZONE)
    wanted = min(wanted, spec.sites)
    if wanted <= len(parents):
        chosen = rng.choice(len(parents), size=wanted, replace=False, p=weight)
        return [_same_zone(parents[i]) for i in sorted(chosen)]
    zones = [_same_zone(z) for z in parents]
    children: dict[str, int] = defaultdict(int)
    for i in rng.choice(len(parents), size=wanted - len(parents), p=weight):
        parent = parents[i]
        children[parent.zone_id] += 1
        j = children[parent.zone_id]
        zones.append(
            Zone(
                zone_id=f"{parent.zone_id}-{j}",
                parent=parent.zone_id,
                name=f"{parent.name} - synthetic sub-zone {j}",
                region=parent.region,
                price_scale=float(rng.uniform(0.92, 1.08)),
                price_shift_usd_per_mwh=float(rng.normal(0.0, 1.5)),
                carbon_scale=float(rng.uniform(0.9, 1.1)),
            )
        )
    order = {z.zone_id: i for i, z in enumerate(base.zones)}
    return sorted(zones, key=lambda z: (order[z.parent], z.zone_id != z.parent, z.zone_id))


def _same_zone(z: Any) -> Zone:
    return Zone(z.zone_id, z.zone_id, z.name, z.region, 1.0, 0.0, 1.0)


def _zone_limits(
    base: Scenario, zones: list[Zone], sites: list[SiteRow], rng: np.random.Generator
) -> dict[str, float | None]:
    """Keep each default zone's limit as a share of its campuses' design draw."""
    base_draw: dict[str, float] = defaultdict(float)
    for s in base.sites:
        base_draw[s.zone_id] += s.max_it_mw * DESIGN_PUE
    share = {
        z.zone_id: None if z.import_limit_mw is None else z.import_limit_mw / base_draw[z.zone_id]
        for z in base.zones
        if base_draw[z.zone_id] > 0
    }
    draw: dict[str, float] = defaultdict(float)
    headroom: dict[str, float] = defaultdict(float)
    for s in sites:
        draw[s.zone_id] += s.max_it_mw * DESIGN_PUE
        headroom[s.zone_id] += s.headroom_mw
    limits: dict[str, float | None] = {}
    for z in zones:
        frac = share[z.parent]
        if frac is None:
            limits[z.zone_id] = None
            continue
        mw = draw[z.zone_id] * frac * float(rng.lognormal(0.0, 0.15))
        limits[z.zone_id] = max(_round_to(mw, ZONE_LIMIT_STEP_MW), headroom[z.zone_id])
    return limits


# --------------------------------------------------------------------------- sites


def _sites(base: Scenario, zones: list[Zone], n: int, rng: np.random.Generator) -> list[SiteRow]:
    by_zone: dict[str, list[SiteRow]] = defaultdict(list)
    for s in base.sites:
        by_zone[s.zone_id].append(s)
    children: dict[str, list[Zone]] = defaultdict(list)
    for z in zones:
        children[z.parent].append(z)
    pool = [s for s in base.sites if s.zone_id in children]
    region = {z.zone_id: z.region for z in base.zones}
    stations: dict[str, list[str]] = defaultdict(list)
    for s in base.sites:
        if s.weather_id not in stations[region[s.zone_id]]:
            stations[region[s.zone_id]].append(s.weather_id)
    maxima = np.array([s.max_it_mw for s in base.sites])
    slope, intercept = np.polyfit(maxima, [s.development_capex_musd for s in base.sites], 1)

    picks: list[tuple[SiteRow, Zone]] = []
    for z in zones:  # every zone gets a campus
        candidates = by_zone[z.parent]
        picks.append((candidates[rng.integers(len(candidates))], z))
    for _ in range(n - len(zones)):
        parent = pool[rng.integers(len(pool))]
        kids = children[parent.zone_id]
        picks.append((parent, kids[rng.integers(len(kids))]))
    zone_order = {z.zone_id: i for i, z in enumerate(zones)}
    picks.sort(key=lambda pz: zone_order[pz[1].zone_id])

    sites = []
    for i, (b, z) in enumerate(picks):
        earliest = Period.parse(b.earliest_period) + int(rng.integers(-1, 2))
        lag = Period.parse(b.headroom_period) - Period.parse(b.earliest_period)
        max_mw = float(rng.choice(maxima))
        weather = b.weather_id
        if rng.random() < 0.2:
            options = stations[z.region]
            weather = options[rng.integers(len(options))]
        water = b.water_limit_m3_per_year
        sites.append(
            SiteRow(
                site_id=f"{b.site_id}_g{i:04d}",
                name=f"{b.name} (synthetic {i})",
                latitude_deg=round(float(np.clip(b.latitude_deg + rng.normal(0, 0.3), -90, 90)), 3),
                longitude_deg=round(
                    float(np.clip(b.longitude_deg + rng.normal(0, 0.3), -180, 180)), 3
                ),
                zone_id=z.zone_id,
                weather_id=weather,
                min_it_mw=b.min_it_mw,
                max_it_mw=max(max_mw, b.min_it_mw),
                development_capex_musd=round(
                    float((slope * max_mw + intercept) * rng.lognormal(0, 0.15)), 2
                ),
                building_capex_musd_per_mw=round(
                    float(b.building_capex_musd_per_mw * rng.lognormal(0, 0.05)), 3
                ),
                earliest_period=earliest.label,
                headroom_mw=_round_to(b.headroom_mw * float(rng.lognormal(0, 0.3)), 50.0),
                headroom_period=(earliest + lag).label,
                water_limit_m3_per_year=None
                if water is None
                else _round_to(water * float(rng.lognormal(0, 0.3)), 1e4),
                water_price_usd_per_m3=round(
                    float(b.water_price_usd_per_m3 * rng.lognormal(0, 0.1)), 2
                ),
            )
        )
    return sites


def _upgrades(
    base: Scenario, sites: list[SiteRow], tiers: int, rng: np.random.Generator
) -> list[UpgradeRow]:
    by_site: dict[str, list[UpgradeRow]] = defaultdict(list)
    for u in base.upgrades:
        by_site[u.site_id].append(u)
    out = []
    for s in sites:
        base_id = s.site_id.rsplit("_g", 1)[0]
        ladder = sorted(by_site[base_id], key=lambda u: u.added_mw)
        if not ladder:
            continue
        for t in range(tiers):
            if t < len(ladder):
                tier = ladder[t]
                added, capex, lead, name = (
                    tier.added_mw,
                    tier.capex_musd,
                    tier.lead_periods,
                    tier.name,
                )
                name = name.replace(f"({base_id})", f"({s.site_id})")
            else:  # extrapolated tier (assumption): double the MW, 1.2 x the cost per MW
                last = ladder[-1]
                steps = t - len(ladder) + 1
                added = last.added_mw * 2**steps
                capex = last.capex_musd / last.added_mw * 1.2**steps * added
                lead = last.lead_periods + 2 * steps
                name = f"Tier {t + 1} transmission upgrade, {added:g} MW ({s.site_id})"
            out.append(
                UpgradeRow(
                    upgrade_id=f"{s.site_id}_u{t + 1}",
                    site_id=s.site_id,
                    name=name,
                    added_mw=added,
                    capex_musd=round(capex * float(rng.lognormal(0, 0.15)), 1),
                    lead_periods=int(np.clip(lead + rng.integers(-1, 2), 1, 80)),
                )
            )
    return out


# --------------------------------------------------------------------------- cooling


def _cooling(
    base: Scenario, n: int | None, rng: np.random.Generator
) -> tuple[list[CoolingRow], list[CoolingCurveRow]]:
    liquid = base.config.portfolio.requires_liquid_cooling
    usable = [c for c in base.cooling if c.serves_liquid_racks or not liquid]
    n = n or len(usable)
    curves: dict[str, list[CoolingCurveRow]] = defaultdict(list)
    for row in base.cooling_curves:
        curves[row.cooling_id].append(row)
    techs: list[CoolingRow] = []
    points: list[CoolingCurveRow] = []
    for j in range(n):
        tech = usable[j % len(usable)]
        variant = j // len(usable)
        if variant == 0:
            techs.append(tech)
            points.extend(curves[tech.cooling_id])
            continue
        cid = f"{tech.cooling_id}_v{variant + 1}"
        pue_factor = float(rng.uniform(0.9, 1.1))
        wue_factor = float(rng.uniform(0.85, 1.15))
        techs.append(
            tech.model_copy(
                update={
                    "cooling_id": cid,
                    "name": f"{tech.name} (vendor variant {variant + 1})",
                    "capex_musd_per_mw": round(
                        tech.capex_musd_per_mw * float(rng.uniform(0.93, 1.07)), 3
                    ),
                }
            )
        )
        for row in curves[tech.cooling_id]:
            value = (
                1.0 + (row.value - 1.0) * pue_factor
                if row.quantity == "pue"
                else row.value * wue_factor
            )
            points.append(row.model_copy(update={"cooling_id": cid, "value": round(value, 4)}))
    return techs, points


# --------------------------------------------------------------------------- ramp


def _deliverable_mw(
    sites: list[SiteRow],
    upgrades: list[UpgradeRow],
    limits: dict[str, float | None],
    first: Period,
    lead: int,
    n_periods: int,
) -> np.ndarray:
    """Facility MW the energizable sites can draw in each period from headroom and upgrades
    in service, each zone capped by its limit (``data/build_default.py``'s check)."""
    added: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n_periods))
    for u in upgrades:
        if u.lead_periods < n_periods:
            added[u.site_id][u.lead_periods :] += u.added_mw
    index = np.arange(n_periods)
    by_zone: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n_periods))
    for s in sites:
        energized = index >= Period.parse(s.earliest_period) - first + lead
        headroom = np.where(index >= Period.parse(s.headroom_period) - first, s.headroom_mw, 0.0)
        mw = np.minimum(headroom + added[s.site_id], s.max_it_mw * DESIGN_PUE)
        by_zone[s.zone_id] += np.where(energized, mw, 0.0)
    total = np.zeros(n_periods)
    for z, mw in by_zone.items():
        limit = limits.get(z)
        total += mw if limit is None else np.minimum(mw, limit)
    return total


def _ramp(
    base: Scenario,
    sites: list[SiteRow],
    upgrades: list[UpgradeRow],
    limits: dict[str, float | None],
    n_periods: int,
) -> tuple[list[float], float]:
    """The default ramp (extended by its last step past its horizon) and accelerator supply,
    scaled as far as every period keeps at least the default's deliverable/needed ratio."""
    portfolio = base.config.portfolio
    periods = base.config.horizon.periods
    first, lead = periods[0], portfolio.construction_lead_periods
    base_limits = {z.zone_id: z.import_limit_mw for z in base.zones}
    base_have = _deliverable_mw(
        list(base.sites), list(base.upgrades), base_limits, first, lead, len(periods)
    )
    base_target = np.array([portfolio.target_it_mw_by_period[p.label] for p in periods])
    ratio = base_have / (base_target * DESIGN_PUE)
    extra = np.arange(1, max(0, n_periods - len(periods)) + 1)
    last_step = base_target[-1] - base_target[-2] if len(base_target) > 1 else 0.0
    shape = np.concatenate([base_target, base_target[-1] + last_step * extra])[:n_periods]
    ratio = np.concatenate([ratio, np.full(extra.size, ratio[-1])])[:n_periods]
    have = _deliverable_mw(sites, upgrades, limits, first, lead, n_periods)
    positive = shape > 0
    scale = float(np.min(have[positive] / (ratio[positive] * DESIGN_PUE * shape[positive])))
    block = portfolio.block_it_mw or 1.0
    target = np.floor(shape * scale / block) * block
    supply = portfolio.accelerator_supply_it_mw_per_period or 0.0
    supply = math.ceil(supply * scale / block) * block if supply else 0.0
    return [float(t) for t in target], float(supply)


# --------------------------------------------------------------------------- files


def _config(base: Scenario, spec: Spec, targets: list[float], supply: float) -> dict[str, Any]:
    cfg = base.config
    first = cfg.horizon.periods[0]
    labels = [(first + i).label for i in range(len(targets))]
    portfolio = cfg.portfolio.model_dump()
    portfolio["target_it_mw_by_period"] = dict(zip(labels, targets, strict=True))
    if supply:
        portfolio["accelerator_supply_it_mw_per_period"] = supply
    horizon = cfg.horizon.model_dump()
    horizon["last_period"] = labels[-1]
    days = cfg.representative_days.model_dump() if cfg.representative_days else {}
    days["typical_days"] = spec.typical_days or days.get("typical_days", 12)
    days.setdefault("keep_extreme_days", True)
    solver = cfg.solver.model_dump()
    solver["time_limit_s"] = 600.0
    return {
        "name": f"synthetic-{spec.sites}s-{len(targets)}p-{days['typical_days']}d-seed{spec.seed}",
        "description": (
            f"Synthetic scaling instance from {cfg.name} (benchmarks/generate.py): "
            f"{spec.sites} sites, {len(targets)} periods, seed {spec.seed}."
        ),
        "horizon": horizon,
        "portfolio": portfolio,
        "objective": cfg.objective.model_dump(),
        "representative_days": days,
        "solver": solver,
    }


def _profiles(base: Scenario, zones: list[Zone]) -> dict[str, pd.DataFrame]:
    frames = base.profiles.frames
    price, carbon = frames["price_usd_per_mwh"], frames["carbon_kg_per_mwh"]
    return {
        "price_usd_per_mwh": pd.DataFrame(
            {
                z.zone_id: (price[z.parent] * z.price_scale + z.price_shift_usd_per_mwh).round(2)
                for z in zones
            }
        ),
        "carbon_kg_per_mwh": pd.DataFrame(
            {z.zone_id: (carbon[z.parent] * z.carbon_scale).round(2) for z in zones}
        ),
        "dry_bulb_c": frames["dry_bulb_c"],
        "wet_bulb_c": frames["wet_bulb_c"],
    }


def _regions(
    spec: Spec, sites: list[SiteRow], targets: dict[str, float]
) -> dict[str, list[dict[str, Any]]]:
    """``demand_regions.csv`` and ``inference_demand.csv`` (see the module docstring)."""
    rng = np.random.default_rng([spec.seed, 11])  # its own stream: the rest stays as it is
    anchors = rng.integers(0, len(sites), spec.regions)
    offset = rng.uniform(-REGION_OFFSET_DEG, REGION_OFFSET_DEG, (spec.regions, 2))
    weight = rng.lognormal(0.0, 1.0, spec.regions)
    share = weight / weight.sum()
    ids = [f"r{i:04d}" for i in range(spec.regions)]
    regions = [
        {
            "region_id": rid,
            "name": f"region {i} near {sites[a].site_id}",
            "latitude_deg": round(float(np.clip(sites[a].latitude_deg + offset[i, 0], -90, 90)), 4),
            "longitude_deg": round(
                float(np.clip(sites[a].longitude_deg + offset[i, 1], -180, 180)), 4
            ),
            "latency_limit_ms": spec.latency_ms,
            "network_cost_usd_per_mw_year_per_1000km": NETWORK_COST_USD_PER_MW_YEAR_PER_1000KM,
        }
        for i, (rid, a) in enumerate(zip(ids, anchors, strict=True))
    ]
    demand = [
        {
            "region_id": rid,
            "period": period,
            "inference_it_mw": round(INFERENCE_SHARE_FRAC * target * float(share[i]), 1),
        }
        for period, target in targets.items()
        for i, rid in enumerate(ids)
    ]
    return {"demand_regions.csv": regions, "inference_demand.csv": demand}


def _round_to(value: float, step: float) -> float:
    return math.floor(value / step + 0.5) * step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--sites", type=int, required=True)
    parser.add_argument("--periods", type=int, default=None, help="default: the base's")
    parser.add_argument("--typical-days", type=int, default=None, help="default: the base's")
    parser.add_argument("--cooling", type=int, default=None, help="default: the base's usable")
    parser.add_argument("--zones", type=int, default=None, help="default: sites // 8, >= base")
    parser.add_argument("--upgrade-tiers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE)
    parser.add_argument("--regions", type=int, default=0, help="demand regions (default none)")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="regions' round trip")
    args = parser.parse_args(argv)
    spec = Spec(
        sites=args.sites,
        periods=args.periods,
        typical_days=args.typical_days,
        cooling=args.cooling,
        zones=args.zones,
        upgrade_tiers=args.upgrade_tiers,
        seed=args.seed,
        regions=args.regions,
        latency_ms=args.latency_ms,
    )
    out = generate(spec, args.out_dir, args.base)
    print(f"{out}\n{(out / SPEC_FILE).read_text()}")


if __name__ == "__main__":
    main()
