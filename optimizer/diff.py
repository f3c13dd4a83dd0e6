"""What changed between two plans of one scenario family: campuses, cooling, upgrades, totals.

A campus is *added* or *dropped* when it is open in one plan only, *resized* when its final IT
MW differs, *rephased* when only its IT MW in some earlier period does (the final MW and the
opening period are shown), and its cooling is
*switched* when both plans open it with different technologies. An upgrade is *added*,
*dropped* or *moved* (its in-service period changed). The totals compare the NPV, each of its
cost terms, and the horizon's energy, water and carbon; a total is changed when it moves by
more than :data:`TOLERANCE` (relative) or 1e-6 (absolute). A plan diffed with itself is empty.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Group
from rich.table import Table

from optimizer.plan import Plan

#: Relative change below which a total counts as unchanged (solver round-off).
TOLERANCE = 1e-9
#: MW difference below which a campus's capacity counts as unchanged.
MW_TOLERANCE = 1e-6


@dataclass(frozen=True)
class CampusChange:
    site_id: str
    change: str
    """``added``, ``dropped``, ``resized``, ``rephased`` or ``cooling switched``."""
    it_mw_before: float
    it_mw_after: float
    open_period_before: str
    open_period_after: str
    cooling_before: str
    cooling_after: str


@dataclass(frozen=True)
class UpgradeChange:
    upgrade_id: str
    site_id: str
    change: str
    """``added``, ``dropped`` or ``moved``."""
    period_before: str
    period_after: str


@dataclass(frozen=True)
class TotalChange:
    metric: str
    """``npv_musd``, ``cost_<term>_musd``, ``energy_mwh``, ``water_m3`` or ``emissions_tco2``."""
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def changed(self) -> bool:
        return abs(self.delta) > max(1e-6, TOLERANCE * max(abs(self.before), abs(self.after)))


@dataclass
class PlanDiff:
    """What changed between two plans: campuses, upgrades and totals."""

    campuses: list[CampusChange] = field(default_factory=list)
    upgrades: list[UpgradeChange] = field(default_factory=list)
    totals: list[TotalChange] = field(default_factory=list)
    """Every total, before and after (changed or not)."""

    @property
    def empty(self) -> bool:
        return not self.campuses and not self.upgrades and not any(t.changed for t in self.totals)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``diff.json``."""
        return {
            "empty": self.empty,
            "campuses": [asdict(c) for c in self.campuses],
            "upgrades": [asdict(u) for u in self.upgrades],
            "totals": [{**asdict(t), "delta": t.delta, "changed": t.changed} for t in self.totals],
        }

    def rows(self) -> pd.DataFrame:
        """One row per change (``diff.csv``): kind, subject, what, before, after."""
        rows = [
            ("campus", c.site_id, c.change, _campus_state(c, "before"), _campus_state(c, "after"))
            for c in self.campuses
        ]
        rows += [
            ("upgrade", u.upgrade_id, u.change, u.period_before, u.period_after)
            for u in self.upgrades
        ]
        rows += [
            (
                "total",
                t.metric,
                "changed" if t.changed else "same",
                f"{t.before:.10g}",
                f"{t.after:.10g}",
            )
            for t in self.totals
        ]
        return pd.DataFrame(rows, columns=["kind", "subject", "change", "before", "after"])

    def write(self, folder: str | Path) -> Path:
        """Write ``diff.json`` and ``diff.csv`` into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "diff.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        self.rows().to_csv(out / "diff.csv", index=False)
        return out

    def render(self) -> Group:
        """Rich tables: campus and upgrade changes, then every total before and after."""
        if self.empty:
            return Group("the plans are the same")
        parts: list[Table] = []
        if self.campuses:
            t = Table(title="Campuses", title_justify="left")
            for col in ("site", "change", "MW before", "MW after", "opens", "cooling"):
                t.add_column(col, justify="right" if "MW" in col else "left")
            for c in self.campuses:
                t.add_row(
                    c.site_id,
                    c.change,
                    f"{c.it_mw_before:,.0f}",
                    f"{c.it_mw_after:,.0f}",
                    _arrow(c.open_period_before, c.open_period_after),
                    _arrow(c.cooling_before, c.cooling_after),
                )
            parts.append(t)
        if self.upgrades:
            t = Table(title="Upgrades", title_justify="left")
            for col in ("upgrade", "site", "change", "in service"):
                t.add_column(col)
            for u in self.upgrades:
                t.add_row(
                    u.upgrade_id, u.site_id, u.change, _arrow(u.period_before, u.period_after)
                )
            parts.append(t)
        t = Table(title="Totals", title_justify="left")
        for col in ("metric", "before", "after", "change"):
            t.add_column(col, justify="left" if col == "metric" else "right")
        for m in self.totals:
            t.add_row(m.metric, f"{m.before:,.1f}", f"{m.after:,.1f}", f"{m.delta:+,.1f}")
        parts.append(t)
        return Group(*parts)


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    """What changed from ``before`` to ``after`` (both must have a solution)."""
    for name, plan in (("first", before), ("second", after)):
        if not plan.has_solution:
            raise ValueError(f"the {name} plan has no solution ({plan.status}): nothing to diff")
    return PlanDiff(
        campuses=_campuses(_campus_table(before), _campus_table(after)),
        upgrades=_upgrades(_upgrade_table(before), _upgrade_table(after)),
        totals=_totals(before, after),
    )


def _campus_table(plan: Plan) -> pd.DataFrame:
    """Per campus: open, opening period, cooling, IT MW per period (columns ``p:<period>``)."""
    ds = plan.dataset
    frame = pd.DataFrame(
        {
            "open": ds["site_open"].to_numpy().astype(bool),
            "open_period": ds["site_open_period"].to_numpy().astype(str),
            "cooling": ds["site_cooling"].to_numpy().astype(str),
        },
        index=ds["site"].to_numpy().astype(str),
    )
    it = pd.DataFrame(
        ds["it_mw"].to_numpy(), index=frame.index, columns=[f"p:{p}" for p in plan.periods]
    )
    return frame.join(it)


def _campuses(a: pd.DataFrame, b: pd.DataFrame) -> list[CampusChange]:
    periods = sorted(c for c in set(a.columns) | set(b.columns) if c.startswith("p:"))
    out = []
    for s in sorted(set(a.index[a["open"]]) | set(b.index[b["open"]])):
        ra = a.loc[s] if s in a.index else None
        rb = b.loc[s] if s in b.index else None
        mw_a, mw_b = _series(ra, periods), _series(rb, periods)
        kinds = []
        if _is_open(ra) != _is_open(rb):
            kinds.append("added" if _is_open(rb) else "dropped")
        else:
            if abs(mw_a[-1] - mw_b[-1]) > MW_TOLERANCE:
                kinds.append("resized")
            elif np.abs(mw_a - mw_b).max() > MW_TOLERANCE:
                kinds.append("rephased")
            if ra is not None and rb is not None and ra["cooling"] != rb["cooling"]:
                kinds.append("cooling switched")
        out += [
            CampusChange(
                s,
                kind,
                float(mw_a[-1]),
                float(mw_b[-1]),
                _field(ra, "open_period"),
                _field(rb, "open_period"),
                _field(ra, "cooling"),
                _field(rb, "cooling"),
            )
            for kind in kinds
        ]
    return out


def _is_open(row: pd.Series | None) -> bool:
    return row is not None and bool(row["open"])


def _field(row: pd.Series | None, name: str) -> str:
    return "" if row is None or not _is_open(row) else str(row[name])


def _series(row: pd.Series | None, periods: list[str]) -> np.ndarray:
    """IT MW per period (0 where the plan has no such period or campus)."""
    if row is None:
        return np.zeros(len(periods))
    return np.array(
        [float(row[p]) if p in row.index and pd.notna(row[p]) else 0.0 for p in periods]
    )


def _upgrade_table(plan: Plan) -> dict[str, tuple[str, str]]:
    """Upgrades in service: id -> (site, first period in service)."""
    ds = plan.dataset
    return {
        str(u): (str(s), str(when))
        for u, s, when in zip(
            ds["upgrade"].to_numpy(),
            ds["upgrade_site"].to_numpy(),
            ds["upgrade_online_period"].to_numpy(),
            strict=True,
        )
        if str(when)
    }


def _upgrades(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> list[UpgradeChange]:
    out = []
    for u in sorted(set(a) | set(b)):
        site = (a.get(u) or b[u])[0]
        pa, pb = a.get(u, ("", ""))[1], b.get(u, ("", ""))[1]
        if pa == pb:
            continue
        kind = "added" if not pa else "dropped" if not pb else "moved"
        out.append(UpgradeChange(u, site, kind, pa, pb))
    return out


def _totals(a: Plan, b: Plan) -> list[TotalChange]:
    def metrics(plan: Plan) -> dict[str, float]:
        cost = plan.cost_npv_musd
        out = {"npv_musd": cost.get("total", math.nan)}
        out.update({f"cost_{k}_musd": v for k, v in cost.items() if k != "total"})
        totals = plan.totals
        for name in ("energy_mwh", "water_m3", "emissions_tco2"):
            out[name] = float(totals[name].sum())
        return out

    ma, mb = metrics(a), metrics(b)
    names = list(ma) + [k for k in mb if k not in ma]
    return [TotalChange(k, ma.get(k, 0.0), mb.get(k, 0.0)) for k in names]


def _campus_state(c: CampusChange, side: str) -> str:
    mw = c.it_mw_before if side == "before" else c.it_mw_after
    period = c.open_period_before if side == "before" else c.open_period_after
    cooling = c.cooling_before if side == "before" else c.cooling_after
    return f"{mw:.10g} MW from {period} ({cooling})" if period else "closed"


def _arrow(a: str, b: str) -> str:
    return a or "-" if a == b else f"{a or '-'} -> {b or '-'}"
