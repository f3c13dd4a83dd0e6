"""Exhaustive optimum of a tiny scenario, computed without the model.

Reads the raw data of a :class:`tests.tiny.Tiny` (its rows, profiles, hour weights and
config, exactly as they are written to the scenario folder) and recomputes everything from
them: periods and discounting, PUE and WUE by interpolating the cooling curves, which
technologies a site allows, headroom by period, every cost (development, building and
cooling capex, upgrades, energy, carbon price, water, energy weight). No Pyomo, no
``optimizer.prepare``, no ``formulations``: only the statements of the README and of the
formulation docstrings.

What is enumerated. Per site: closed, or one allowed cooling technology with a
non-decreasing sequence of cumulative blocks over the periods from the site's first
energizable period (every sequence with at least one block and at most
floor(max_it_mw / block_it_mw) blocks), and for each such sequence every schedule of the
site's upgrades (each never, or in service from one period on from its lead time); the
cheapest schedule that keeps the site's facility draw within its headroom is kept. Upgrades
touch only their own site's headroom, so keeping the cheapest is exact. A site's own limits
(minimum, maximum, water, headroom) are checked here.

Sites are then combined depth first, each site over its plans cheapest first, keeping the
best complete plan that meets every period's target, the accelerator supply and every zone's
import limit at every period and hour. A branch is cut only when no completion of it can be
feasible or cheaper than the best plan found: supply and zone draws only grow as sites are
added; the remaining sites can add at most their largest capacity (in a limited zone, at
most the draw left at each hour over the lowest PUE they can have); and no completion costs
less than the exact optimum of the remaining sites with zone limits ignored. So every plan
is accounted for and the result is the exact optimum.

Scope (``ValueError`` outside it, so the enumeration stays exact and fast): blocks set, at
most 3 periods, 5 sites, 2 cooling technologies, 4 hours, 20 blocks at a site and 40**5
combinations of site plans (5 sites of 3 blocks over 3 periods with 2 technologies: ~30 ms
typical, under 3 s at worst with a tight zone limit).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

MAX_PERIODS = 3
MAX_SITES = 5
MAX_BLOCKS = 20
MAX_PLANS = 40**5
"""Most combinations of site plans (the product of each site's count), as many as 5 sites
of 3 blocks over 3 periods with 2 technologies have."""
MAX_COOLING = 2
MAX_HOURS = 4
TOL = 1e-9
"""Relative slack on every comparison, so float round-off never decides feasibility."""


class RawScenario(Protocol):
    """What is read: the attributes of ``tests.tiny.Tiny``."""

    config: dict[str, Any]
    sites: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    upgrades: list[dict[str, Any]]
    cooling: list[dict[str, Any]]
    curves: list[dict[str, Any]]
    hour_weights: list[float]
    price: dict[str, list[float]]
    carbon: dict[str, list[float]]
    dry_bulb: dict[str, list[float]]
    wet_bulb: dict[str, list[float]]


@dataclass(frozen=True)
class SitePlan:
    """One site's choice: cooling (None when closed), cumulative blocks by period, and the
    period index at which each upgrade enters service (None: never)."""

    site_id: str
    cooling: str | None
    blocks: tuple[int, ...]
    upgrades: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class Option:
    site: SitePlan
    cost_musd: float
    draws_mw: tuple[float, ...]  # facility draw at each (period, hour), period-major
    pue: tuple[float, ...]  # PUE at each hour (empty when closed)


@dataclass(frozen=True)
class Optimum:
    objective_musd: float
    sites: tuple[SitePlan, ...]


def within(value: float, limit: float) -> bool:
    """value <= limit, up to round-off."""
    return value <= limit + TOL * max(1.0, abs(limit))


# --------------------------------------------------------------------------- raw data


def period_ordinal(label: str) -> tuple[int, int]:
    """(ordinal, periods per year) of ``2026H2`` or ``2026Q3``."""
    per_year = 2 if label[4] == "H" else 4
    return int(label[:4]) * per_year + int(label[5]) - 1, per_year


def interpolate(x: float, points: list[tuple[float, float]]) -> float:
    """Piecewise-linear through ``points`` (sorted by x), flat beyond the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def tail_weight(tail_years: float, from_year: float, base_year: float, rate: float) -> float:
    """Discounted years of operation after the horizon: each (part) year counted at its
    length, discounted from its start."""
    total, y = 0.0, 0
    while y < tail_years:
        total += min(1.0, tail_years - y) * rate ** -(from_year + y - base_year)
        y += 1
    return total


class Facts:
    """Everything derived from the raw scenario that costs and checks need."""

    def __init__(self, raw: RawScenario) -> None:
        cfg = raw.config
        horizon, portfolio = cfg["horizon"], cfg["portfolio"]
        first, per_year = period_ordinal(horizon["first_period"])
        last, _ = period_ordinal(horizon["last_period"])
        self.n_periods = n = last - first + 1
        self.block = float(portfolio.get("block_it_mw") or 0.0)
        hours = len(raw.hour_weights)
        self.first, self.per_year = first, per_year
        years = 1.0 / per_year
        rate = 1.0 + horizon["discount_rate_frac_per_year"]
        base = horizon["base_year"]
        starts = [(first + i) / per_year for i in range(n)]
        self.discount = [rate ** -(t - base) for t in starts]
        self.years = years
        self.opex_years = [years * d for d in self.discount]
        self.opex_years[-1] += tail_weight(
            horizon.get("opex_tail_years", 0.0), starts[-1] + years, base, rate
        )
        labels = [self.label(i) for i in range(n)]
        self.target_mw = [float(portfolio["target_it_mw_by_period"][p]) for p in labels]
        self.supply_mw = portfolio.get("accelerator_supply_it_mw_per_period")
        self.lead = int(portfolio["construction_lead_periods"])
        self.liquid_only = bool(portfolio["requires_liquid_cooling"])
        self.load = float(portfolio["it_load_factor_frac"])
        objective = cfg.get("objective", {})
        self.energy_weight_musd_per_mwh = objective.get("energy_weight_usd_per_mwh", 0.0) / 1e6
        self.carbon_price_musd_per_t = objective.get("carbon_price_usd_per_t", 0.0) / 1e6
        self.weights = [float(w) for w in raw.hour_weights]
        self.hours = hours
        self.zone_limit = {z["zone_id"]: z.get("import_limit_mw") for z in raw.zones}
        self.price = raw.price
        self.carbon = raw.carbon
        self.ambient = {"dry_bulb": raw.dry_bulb, "wet_bulb": raw.wet_bulb}
        self.curves: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for row in raw.curves:
            self.curves[row["cooling_id"], row["quantity"]].append(
                (float(row["ambient_c"]), float(row["value"]))
            )
        for points in self.curves.values():
            points.sort()

    def label(self, i: int) -> str:
        year, part = divmod(self.first + i, self.per_year)
        return f"{year}{'H' if self.per_year == 2 else 'Q'}{part + 1}"

    def index_of(self, label: str) -> int:
        """Period index relative to the first period (negative: before the horizon)."""
        return period_ordinal(label)[0] - self.first

    def curve(self, cooling: dict[str, Any], quantity: str, weather: str) -> list[float]:
        """The quantity at every hour of the site's weather."""
        ambient_name = cooling["pue_ambient" if quantity == "pue" else "wue_ambient"]
        ambient = self.ambient[ambient_name][weather]
        points = self.curves[cooling["cooling_id"], quantity]
        return [interpolate(float(a), points) for a in ambient]

    def allowed(self, cooling: dict[str, Any], weather: str) -> bool:
        if self.liquid_only and not cooling["serves_liquid_racks"]:
            return False
        for limit_key, ambient_name in (
            ("max_dry_bulb_c", "dry_bulb"),
            ("max_wet_bulb_c", "wet_bulb"),
        ):
            limit = cooling.get(limit_key)
            if limit is not None and max(self.ambient[ambient_name][weather]) > limit:
                return False
        return True


# --------------------------------------------------------------------------- per site


def site_options(facts: Facts, raw: RawScenario, site: dict[str, Any]) -> list[Option]:
    """Every feasible plan of one site (its own limits checked), closed first."""
    n, block = facts.n_periods, facts.block
    first = max(facts.index_of(site["earliest_period"]) + facts.lead, 0)
    closed = Option(
        SitePlan(site["site_id"], None, (0,) * n, ()), 0.0, (0.0,) * (n * facts.hours), ()
    )
    options = [closed]
    if first >= n:
        return options
    max_mw, min_mw = float(site["max_it_mw"]), float(site["min_it_mw"])
    most = int(max_mw // block)
    if within((most + 1) * block, max_mw):  # max_it_mw a whole number of blocks, to round-off
        most += 1
    if most > MAX_BLOCKS:
        raise ValueError(f"outside the brute force's scope: more than {MAX_BLOCKS} blocks")
    headroom_from = facts.index_of(site["headroom_period"])
    headroom = [float(site["headroom_mw"]) if i >= headroom_from else 0.0 for i in range(n)]
    upgrades = [
        u for u in raw.upgrades if u["site_id"] == site["site_id"] and int(u["lead_periods"]) < n
    ]
    water_limit = site.get("water_limit_m3_per_year")
    price = facts.price[site["zone_id"]]
    carbon = facts.carbon[site["zone_id"]]
    weather = site["weather_id"]
    w, load = facts.weights, facts.load
    for cooling in raw.cooling:
        if not facts.allowed(cooling, weather):
            continue
        pue = facts.curve(cooling, "pue", weather)
        wue = facts.curve(cooling, "wue_l_per_kwh", weather)
        peak = max(pue)
        energy_mwh = load * sum(wh * ph for wh, ph in zip(w, pue, strict=True))
        energy_musd = load * sum(wh * ph * c for wh, ph, c in zip(w, pue, price, strict=True)) / 1e6
        carbon_t = load * sum(wh * ph * c for wh, ph, c in zip(w, pue, carbon, strict=True)) / 1e3
        carbon_musd = carbon_t * facts.carbon_price_musd_per_t
        water_m3 = load * sum(wh * x for wh, x in zip(w, wue, strict=True))
        water_musd = water_m3 * float(site["water_price_usd_per_m3"]) / 1e6
        per_mw_built = float(site["building_capex_musd_per_mw"]) + float(
            cooling["capex_musd_per_mw"]
        )
        per_mw_held = [
            (energy_musd + carbon_musd + water_musd) * facts.opex_years[i]
            + facts.energy_weight_musd_per_mwh * energy_mwh * facts.years
            for i in range(n)
        ]
        for tail in itertools.combinations_with_replacement(range(most + 1), n - first):
            blocks = (0,) * first + tail
            if blocks[-1] == 0 or not within(min_mw, blocks[-1] * block):
                continue
            it = [b * block for b in blocks]
            if water_limit is not None and not all(
                within(x * water_m3, float(water_limit)) for x in it
            ):
                continue
            schedule = cheapest_upgrades(facts, upgrades, [x * peak for x in it], headroom)
            if schedule is None:
                continue
            upgrade_cost, online = schedule
            opened = next(i for i, b in enumerate(blocks) if b > 0)
            cost = float(site["development_capex_musd"]) * facts.discount[opened] + upgrade_cost
            for i in range(n):
                new = it[i] - (it[i - 1] if i > 0 else 0.0)
                cost += new * per_mw_built * facts.discount[i] + it[i] * per_mw_held[i]
            draws = tuple(x * ph for x in it for ph in pue)
            plan = SitePlan(site["site_id"], cooling["cooling_id"], blocks, online)
            options.append(Option(plan, cost, draws, tuple(pue)))
    return options


def cheapest_upgrades(
    facts: Facts, upgrades: list[dict[str, Any]], draw: list[float], headroom: list[float]
) -> tuple[float, tuple[tuple[str, int | None], ...]] | None:
    """The cheapest in-service schedule of the site's upgrades under which the draw fits the
    headroom in every period, or None."""
    n = facts.n_periods
    choices = [[None, *range(int(u["lead_periods"]), n)] for u in upgrades]
    best: tuple[float, tuple[tuple[str, int | None], ...]] | None = None
    for when in itertools.product(*choices):
        fits = all(
            within(
                draw[i],
                headroom[i]
                + sum(
                    float(u["added_mw"])
                    for u, t in zip(upgrades, when, strict=True)
                    if t is not None and t <= i
                ),
            )
            for i in range(n)
            if draw[i] > 0
        )
        if not fits:
            continue
        cost = sum(
            float(u["capex_musd"]) * facts.discount[t]
            for u, t in zip(upgrades, when, strict=True)
            if t is not None
        )
        if best is None or cost < best[0]:
            ids = tuple(str(u["upgrade_id"]) for u in upgrades)
            best = (cost, tuple(zip(ids, when, strict=True)))
    return best


# --------------------------------------------------------------------------- all sites


def brute_force(raw: RawScenario) -> Optimum | None:
    """The optimal plan of ``raw`` and its objective, or None if no plan is feasible."""
    facts = Facts(raw)
    if not (facts.block > 0 and facts.n_periods <= MAX_PERIODS and len(raw.sites) <= MAX_SITES):
        raise ValueError("outside the brute force's scope: blocks, periods or sites")
    if len(raw.cooling) > MAX_COOLING or facts.hours > MAX_HOURS:
        raise ValueError("outside the brute force's scope: cooling or hours")
    if getattr(raw, "regions", None) or getattr(raw, "demand", None):
        raise ValueError("outside the brute force's scope: demand regions")
    sites = sorted(raw.sites, key=lambda s: s["zone_id"])  # a zone's sites one after another
    options = [sorted(site_options(facts, raw, s), key=lambda o: o.cost_musd) for s in sites]
    if math.prod(len(o) for o in options) > MAX_PLANS:
        raise ValueError("outside the brute force's scope: too many combinations of site plans")
    search = Search(facts, sites, options)
    search.run(0, (0,) * facts.n_periods, search.no_draws, 0.0, ())
    if search.best_musd == math.inf:
        return None
    order = [s["site_id"] for s in raw.sites]
    plans = sorted(search.best_plan, key=lambda p: order.index(p.site_id))
    return Optimum(search.best_musd, tuple(plans))


Totals = tuple[int, ...]
"""Blocks online in each period, summed over the sites chosen so far."""


class Search:
    """Depth-first over sites, each site over its options, cheapest first.

    A branch is cut only when no completion can be feasible or beat the best plan found:
    accelerator supply and zone draws only grow as sites are added; ``reachable`` bounds what
    the remaining sites can add in each period (at most their largest size, and in a limited
    zone at most the draw left at each hour over the lowest PUE they can have); ``cheapest``
    is the exact optimum of the remaining sites with zone limits ignored (a lower bound).
    """

    def __init__(self, facts: Facts, sites: list[dict[str, Any]], options: list[list[Option]]):
        self.facts, self.sites, self.options = facts, sites, options
        n, hours = facts.n_periods, facts.hours
        self.best_musd, self.best_plan = math.inf, ()
        zone_of = [s["zone_id"] for s in sites]
        self.limits = {
            z: float(v)
            for z, v in facts.zone_limit.items()
            if v is not None and can_bind(options, zone_of, z, float(v))
        }
        self.no_draws = {z: (0.0,) * (n * hours) for z in self.limits}
        m = len(sites)
        # most_mw[j][z][i]: the largest IT MW sites j.. of zone z (None: unlimited zones)
        # can have in period i; lowest_pue[j][z][h]: their lowest PUE at hour h.
        self.most_mw: list[dict[str | None, list[float]]] = [{} for _ in range(m + 1)]
        self.lowest_pue: list[dict[str, list[float]]] = [{} for _ in range(m + 1)]
        for j in reversed(range(m)):
            most = {z: list(v) for z, v in self.most_mw[j + 1].items()}
            lowest = {z: list(v) for z, v in self.lowest_pue[j + 1].items()}
            zone = zone_of[j] if zone_of[j] in self.limits else None
            size = most.setdefault(zone, [0.0] * n)
            for i in range(n):
                size[i] += max(o.site.blocks[i] for o in options[j]) * facts.block
            if zone is not None:
                pue = lowest.setdefault(zone, [math.inf] * hours)
                for o in options[j]:
                    if o.pue:
                        pue[:] = [min(a, b) for a, b in zip(pue, o.pue, strict=True)]
            self.most_mw[j], self.lowest_pue[j] = most, lowest
        self.rest = self._cheapest_rests()
        self.bounds: dict[tuple[int, Totals], float] = {}

    def supplied(self, t: Totals) -> bool:
        f = self.facts
        supply = f.supply_mw
        return supply is None or all(
            within((t[i] - (t[i - 1] if i else 0)) * f.block, float(supply))
            for i in range(f.n_periods)
        )

    def on_target(self, t: Totals) -> bool:
        f = self.facts
        return all(within(f.target_mw[i], t[i] * f.block) for i in range(f.n_periods))

    def _cheapest_rests(self) -> list[dict[Totals, float]]:
        """rest[j][T]: the cheapest cost of sites j.. adding the blocks T (zone limits
        ignored; supply checked, as it only grows)."""
        n = self.facts.n_periods
        rest: list[dict[Totals, float]] = [{} for _ in self.sites] + [{(0,) * n: 0.0}]
        for j in reversed(range(len(self.sites))):
            for t, cost in rest[j + 1].items():
                for o in self.options[j]:
                    key = tuple(a + b for a, b in zip(t, o.site.blocks, strict=True))
                    value = cost + o.cost_musd
                    if self.supplied(key) and value < rest[j].get(key, math.inf):
                        rest[j][key] = value
        return rest

    def cheapest(self, j: int, t: Totals) -> float:
        """The cheapest completion of ``t`` by sites j.. meeting supply and targets, zone
        limits ignored (inf: none)."""
        if (j, t) not in self.bounds:
            self.bounds[j, t] = min(
                (
                    cost
                    for r, cost in self.rest[j].items()
                    if self.supplied(s := tuple(a + b for a, b in zip(t, r, strict=True)))
                    and self.on_target(s)
                ),
                default=math.inf,
            )
        return self.bounds[j, t]

    def reachable(self, j: int, t: Totals, draws: dict[str, tuple[float, ...]]) -> bool:
        """Whether sites j.. can still lift ``t`` to every period's target."""
        f = self.facts
        for i in range(f.n_periods):
            extra = 0.0
            for zone, most in self.most_mw[j].items():
                room = most[i]
                if zone is not None and room > 0:
                    left = draws[zone][i * f.hours : (i + 1) * f.hours]
                    for d, pue in zip(left, self.lowest_pue[j][zone], strict=True):
                        room = min(room, max(self.limits[zone] - d, 0.0) / pue)
                extra += room
            if not within(f.target_mw[i], t[i] * f.block + extra):
                return False
        return True

    def run(
        self,
        j: int,
        t: Totals,
        draws: dict[str, tuple[float, ...]],
        cost: float,
        plans: tuple[SitePlan, ...],
    ) -> None:
        if cost + self.cheapest(j, t) >= self.best_musd or not self.reachable(j, t, draws):
            return
        if j == len(self.sites):
            self.best_musd, self.best_plan = cost, plans
            return
        zone = self.sites[j]["zone_id"]
        for o in self.options[j]:
            total = tuple(a + b for a, b in zip(t, o.site.blocks, strict=True))
            if not self.supplied(total):
                continue
            after = draws
            if zone in self.limits:
                d = tuple(a + b for a, b in zip(draws[zone], o.draws_mw, strict=True))
                if not all(within(x, self.limits[zone]) for x in d):
                    continue
                after = {**draws, zone: d}
            self.run(j + 1, total, after, cost + o.cost_musd, (*plans, o.site))


def can_bind(options: list[list[Option]], zone_of: list[str], zone: str, limit: float) -> bool:
    """Whether the zone's limit can bind: the sum of its sites' largest draws exceeds it."""
    worst = sum(
        max(max(o.draws_mw) for o in opts)
        for opts, z in zip(options, zone_of, strict=True)
        if z == zone
    )
    return not within(worst, limit)


def optimum(raw: RawScenario) -> float | None:
    """The optimal objective (million USD) of ``raw``, or None if infeasible."""
    best = brute_force(raw)
    return None if best is None else best.objective_musd


__all__ = ["Facts", "Optimum", "SitePlan", "brute_force", "optimum"]
