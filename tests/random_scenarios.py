"""Random tiny scenarios for property tests: Hypothesis strategies and the transformations
the metamorphic properties apply.

A :class:`Spec` holds the raw data under the same attribute names as ``tests.tiny.Tiny``
(so ``tests.brute_force`` reads either) and turns into a ``Tiny`` that writes and solves it.
Numbers are drawn on coarse grids (whole MW, PUE in steps of 0.05, ...) so that a tie is an
exact tie and anything else is clearly apart, far beyond the solver's tolerances.

Scope (what ``tests.brute_force`` enumerates exactly): blocks of 10, 25 or 50 MW, 1-3
periods (half-years or quarters), 1-5 sites of at most 3 blocks, 1-2 cooling technologies,
1-4 representative hours, 0-2 upgrades per site.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.brute_force import Facts, Optimum
from tests.tiny import Tiny

BLOCKS_MW = (10.0, 25.0, 50.0)


@dataclass
class Spec:
    """A scenario as plain data (the attributes of ``Tiny``)."""

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
    notes: list[str] = field(default_factory=list)

    @property
    def portfolio(self) -> dict[str, Any]:
        return self.config["portfolio"]  # type: ignore[no-any-return]

    def copy(self) -> Spec:
        return copy.deepcopy(self)

    def tiny(self, folder: Path) -> Tiny:
        """A ``Tiny`` holding a copy of this data, writing under ``folder``."""
        tiny = Tiny(folder)
        data = copy.deepcopy(self)
        for name in (
            "config",
            "sites",
            "zones",
            "upgrades",
            "cooling",
            "curves",
            "hour_weights",
            "price",
            "carbon",
            "dry_bulb",
            "wet_bulb",
        ):
            setattr(tiny, name, getattr(data, name))
        return tiny


def period_labels(first: str, n: int) -> list[str]:
    year, kind, part = int(first[:4]), first[4], int(first[5])
    per_year = 2 if kind == "H" else 4
    ordinal = year * per_year + part - 1
    return [f"{o // per_year}{kind}{o % per_year + 1}" for o in range(ordinal, ordinal + n)]


def shifted(label: str, by: int) -> str:
    """The period ``by`` periods after ``label`` (before, if negative)."""
    year, kind, part = int(label[:4]), label[4], int(label[5])
    per_year = 2 if kind == "H" else 4
    o = year * per_year + part - 1 + by
    return f"{o // per_year}{kind}{o % per_year + 1}"


def grid(low: int, high: int, step: float) -> st.SearchStrategy[float]:
    """Multiples of ``step`` from low*step to high*step."""
    return st.integers(low, high).map(lambda i: round(i * step, 10))


def optional(strategy: st.SearchStrategy[float], nones: int = 1) -> st.SearchStrategy[float | None]:
    """None or a value of ``strategy``; ``nones`` to 1 the odds of None."""
    return st.one_of(*[st.none()] * nones, strategy)


@st.composite
def hour_weights(draw: st.DrawFn, n: int) -> list[float]:
    """``n`` whole-hour weights summing to 8760 (zero allowed)."""
    cuts = sorted(draw(st.lists(st.integers(0, 8760), min_size=n - 1, max_size=n - 1)))
    return [float(b - a) for a, b in itertools.pairwise([0, *cuts, 8760])]


@st.composite
def curve(draw: st.DrawFn, cooling_id: str, quantity: str) -> list[dict[str, Any]]:
    ambient = sorted(draw(st.lists(st.integers(-10, 45), min_size=1, max_size=3, unique=True)))
    values = grid(20, 40, 0.05) if quantity == "pue" else grid(0, 30, 0.1)
    return [
        {
            "cooling_id": cooling_id,
            "quantity": quantity,
            "ambient_c": float(a),
            "value": draw(values),
        }
        for a in ambient
    ]


@st.composite
def scenarios(draw: st.DrawFn, max_sites: int = 5, full: bool = False) -> Spec:
    """A random tiny scenario within the brute force's scope; ``full``: at its largest
    (5 sites of 3 blocks, 3 periods, 2 cooling technologies, 4 hours)."""
    low = 3 if full else 1
    kind = draw(st.sampled_from("HHQ"))
    first = f"2026{kind}{draw(st.integers(1, 2 if kind == 'H' else 4))}"
    n_periods = draw(st.integers(low, 3))
    labels = period_labels(first, n_periods)
    block = draw(st.sampled_from(BLOCKS_MW))
    n_hours = draw(st.integers(4 if full else 1, 4))
    weights = draw(hour_weights(n_hours))

    weather_ids = [f"w{i + 1}" for i in range(draw(st.integers(1, 2)))]
    dry = {
        w: draw(st.lists(grid(-10, 40, 1.0), min_size=n_hours, max_size=n_hours))
        for w in weather_ids
    }
    wet = {w: [min(45.0, d - draw(grid(0, 15, 1.0))) for d in dry[w]] for w in weather_ids}

    zone_ids = [f"z{i + 1}" for i in range(draw(st.integers(1, 3)))]
    zones = [
        {
            "zone_id": z,
            "name": z,
            "region": "r",
            "import_limit_mw": draw(optional(grid(0, 120, 5.0), nones=2)),
        }
        for z in zone_ids
    ]
    prices = grid(-20, 150, 1.0)
    price = {z: draw(st.lists(prices, min_size=n_hours, max_size=n_hours)) for z in zone_ids}
    carbon = {
        z: draw(st.lists(grid(0, 800, 1.0), min_size=n_hours, max_size=n_hours)) for z in zone_ids
    }

    liquid_only = draw(st.booleans())
    cooling = []
    curves: list[dict[str, Any]] = []
    for i in range(draw(st.integers(2 if full else 1, 2))):
        cid = f"k{i + 1}"
        cooling.append(
            {
                "cooling_id": cid,
                "name": cid,
                "capex_musd_per_mw": draw(grid(0, 10, 0.1)),
                "serves_liquid_racks": draw(st.booleans()) if i else True,
                "pue_ambient": draw(st.sampled_from(["dry_bulb", "wet_bulb"])),
                "wue_ambient": draw(st.sampled_from(["dry_bulb", "wet_bulb"])),
                "max_dry_bulb_c": draw(optional(grid(25, 45, 1.0), nones=3)),
                "max_wet_bulb_c": draw(optional(grid(18, 32, 1.0), nones=3)),
            }
        )
        curves += draw(curve(cid, "pue")) + draw(curve(cid, "wue_l_per_kwh"))

    sites, upgrades = [], []
    for i in range(draw(st.integers(max_sites if full else 1, max_sites))):
        sid = f"s{i + 1}"
        sites.append(draw(site_row(sid, zone_ids, weather_ids, labels[0], block, low)))
        upgrades += draw(upgrade_rows(sid))

    half_blocks = int(0.6 * sum(s["max_it_mw"] for s in sites) // (block / 2))
    nothing_required = draw(st.sampled_from([False] * 9 + [True]))  # one in ten
    last = 0 if nothing_required else draw(st.integers(1, max(half_blocks, 1)))
    targets = sorted(
        draw(st.lists(st.integers(0, last), min_size=n_periods - 1, max_size=n_periods - 1))
    )
    targets = [t * block / 2 for t in [*targets, last]]
    portfolio: dict[str, Any] = {
        "target_it_mw_by_period": dict(zip(labels, targets, strict=True)),
        "block_it_mw": block,
        "construction_lead_periods": draw(st.sampled_from([0, 0, 0, 1, 2])),
        "requires_liquid_cooling": liquid_only,
        "it_load_factor_frac": draw(grid(1, 10, 0.1)),
    }
    supply = draw(optional(grid(1, 8, block / 2)))
    if supply is not None:
        portfolio["accelerator_supply_it_mw_per_period"] = supply
    config = {
        "name": "random",
        "horizon": {
            "first_period": labels[0],
            "last_period": labels[-1],
            "discount_rate_frac_per_year": draw(grid(0, 15, 0.01)),
            "base_year": draw(grid(4050, 4054, 0.5)),  # 2025.0 .. 2027.0
            "opex_tail_years": draw(grid(0, 6, 0.5)),
        },
        "portfolio": portfolio,
        "objective": {
            "energy_weight_usd_per_mwh": draw(st.sampled_from([0.0, 0.0, 5.0, 40.0])),
            "carbon_price_usd_per_t": draw(st.sampled_from([0.0, 0.0, 50.0])),
        },
    }
    return Spec(
        config=config,
        sites=sites,
        zones=zones,
        upgrades=upgrades,
        cooling=cooling,
        curves=curves,
        hour_weights=weights,
        price=price,
        carbon=carbon,
        dry_bulb=dry,
        wet_bulb=wet,
    )


@st.composite
def site_row(
    draw: st.DrawFn,
    sid: str,
    zone_ids: list[str],
    weather_ids: list[str],
    first: str,
    block: float,
    least_blocks: int = 1,
) -> dict[str, Any]:
    blocks = draw(st.integers(least_blocks, 3))
    max_mw = blocks * block + draw(st.sampled_from([0.0, 0.0, block / 2]))
    return {
        "site_id": sid,
        "name": sid,
        "latitude_deg": 32.0,
        "longitude_deg": -100.0,
        "zone_id": draw(st.sampled_from(zone_ids)),
        "weather_id": draw(st.sampled_from(weather_ids)),
        "min_it_mw": draw(st.one_of(st.just(0.0), grid(0, int(max_mw // (block / 2)), block / 2))),
        "max_it_mw": max_mw,
        "development_capex_musd": draw(grid(0, 100, 1.0)),
        "building_capex_musd_per_mw": draw(grid(0, 20, 0.1)),
        "earliest_period": shifted(first, draw(st.integers(-2, 1))),
        "headroom_mw": block * draw(st.sampled_from([2.0, 3.0, 4.0, 1.5, 1.0, 6.0])),
        "headroom_period": shifted(first, draw(st.integers(-2, 1))),
        "water_limit_m3_per_year": draw(
            optional(st.sampled_from([4e4, 2e4, 1e4, 1e3]).map(lambda x: x * block), nones=2)
        ),
        "water_price_usd_per_m3": draw(grid(0, 5, 1.0)),
    }


@st.composite
def upgrade_rows(draw: st.DrawFn, sid: str) -> list[dict[str, Any]]:
    return [
        {
            "upgrade_id": f"{sid}u{j + 1}",
            "site_id": sid,
            "name": "line",
            "added_mw": draw(grid(1, 40, 5.0)),
            "capex_musd": draw(grid(0, 50, 1.0)),
            "lead_periods": draw(st.integers(0, 3)),
        }
        for j in range(draw(st.integers(0, 2)))
    ]


# --------------------------------------------------------------------------- transformations


def with_site(spec: Spec, row: dict[str, Any], upgrades: list[dict[str, Any]]) -> Spec:
    """``spec`` with one more candidate site (and its upgrades)."""
    out = spec.copy()
    out.sites.append(copy.deepcopy(row))
    out.upgrades += copy.deepcopy(upgrades)
    return out


def scaled_prices(spec: Spec, k: float) -> Spec:
    out = spec.copy()
    out.price = {z: [p * k for p in ps] for z, ps in out.price.items()}
    return out


def only_energy_costs(spec: Spec) -> Spec:
    """``spec`` with every cost but the energy bill set to zero."""
    out = spec.copy()
    for s in out.sites:
        s.update(development_capex_musd=0.0, building_capex_musd_per_mw=0.0)
        s["water_price_usd_per_m3"] = 0.0
    for c in out.cooling:
        c["capex_musd_per_mw"] = 0.0
    for u in out.upgrades:
        u["capex_musd"] = 0.0
    out.config["objective"] = {"energy_weight_usd_per_mwh": 0.0, "carbon_price_usd_per_t": 0.0}
    return out


def split_hour(spec: Spec, hour: int, at: int) -> Spec:
    """``spec`` with representative hour ``hour`` split into two copies of half its weight,
    the copy inserted at position ``at`` of the original hours."""
    out = spec.copy()
    out.hour_weights[hour] /= 2
    out.hour_weights.insert(at, out.hour_weights[hour])
    for profile in (out.price, out.carbon, out.dry_bulb, out.wet_bulb):
        for values in profile.values():
            values.insert(at, values[hour])
    return out


def usage(spec: Spec, plan: Optimum) -> dict[tuple[str, int], float]:
    """How much of each limit the plan uses, for the limits it uses at all: peak draw per
    site, coincident peak draw per zone, yearly water per site, most new MW in a period."""
    facts = Facts(spec)
    n, block = facts.n_periods, facts.block
    cooling = {c["cooling_id"]: c for c in spec.cooling}
    by_site = {p.site_id: p for p in plan.sites}
    out: dict[tuple[str, int], float] = {}
    zone_draw: dict[str, list[float]] = {}
    for i, site in enumerate(spec.sites):
        chosen = by_site[site["site_id"]]
        if chosen.cooling is None:
            continue
        tech, weather = cooling[chosen.cooling], site["weather_id"]
        pue = facts.curve(tech, "pue", weather)
        wue = facts.curve(tech, "wue_l_per_kwh", weather)
        it = [b * block for b in chosen.blocks]
        out["headroom", i] = max(it) * max(pue)
        out["headroom_period", i] = 0.0
        water = it[-1] * facts.load * sum(w * x for w, x in zip(facts.weights, wue, strict=True))
        if water > 0:
            out["water_limit", i] = water
        draws = zone_draw.setdefault(site["zone_id"], [0.0] * (n * facts.hours))
        draws[:] = [d + x * p for d, (x, p) in zip(draws, itertools.product(it, pue), strict=True)]
    for z, zone in enumerate(spec.zones):
        if zone["zone_id"] in zone_draw:
            out["zone_limit", z] = max(zone_draw[zone["zone_id"]])
    totals = [sum(p.blocks[t] for p in plan.sites) * block for t in range(n)]
    new = max(b - a for a, b in zip([0.0, *totals], totals, strict=False))
    if new > 0:
        out["supply", 0] = new
    return out


def tightened(spec: Spec, kind: str, index: int, value: float) -> Spec:
    """``spec`` with one limit (a key of :func:`usage`) at ``value`` (headroom: at most
    ``value``); ``headroom_period`` ignores ``value`` and moves one period later."""
    out = spec.copy()
    if kind == "headroom":
        site = out.sites[index]
        site["headroom_mw"] = min(site["headroom_mw"], value)
    elif kind == "headroom_period":
        site = out.sites[index]
        site["headroom_period"] = shifted(site["headroom_period"], 1)
    elif kind == "zone_limit":
        out.zones[index]["import_limit_mw"] = value
    elif kind == "water_limit":
        out.sites[index]["water_limit_m3_per_year"] = value
    elif kind == "supply":
        out.portfolio["accelerator_supply_it_mw_per_period"] = value
    else:
        raise ValueError(kind)
    return out
