"""Marginal values in planners' units.

HiGHS gives no duals for a MIP. The discrete decisions of the optimal plan (campuses open,
cooling chosen, upgrades in service) are fixed, the number of blocks is relaxed to continuous
MW, and the LP is re-solved: its row duals are the value of one more unit of each limit with
the plan's choices held (GenX's and HiGHS's ``getFixedLp`` idea; blocks are relaxed because
with whole halls fixed no limit could change anything). Values are NPV, in USD:

* ``headroom``: USD per MW of extra firm headroom at a campus in a period (every row with
  firm supply on its right: the design hour, and the hourly rows of flexible and on-site
  campuses),
* ``zone_limit``: USD per MW of a zone's import limit in a period (all its hours),
* ``ramp``: USD per MW IT of the portfolio target in a period (what one more MW costs),
* ``water``: USD per m3/yr of a campus's water limit,
* ``supply``: USD per block of accelerator supply in a period,
* ``permit``: USD per t CO2/yr of an on-site option's air permit.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from optimizer.solver import HighsModel

USD_PER_MUSD = 1e6

#: constraint family -> (kind, unit, sign, scale): value = sign x dual x scale
FAMILIES: dict[str, tuple[str, str, float, float]] = {
    "interconnection.within_headroom": ("headroom", "USD per MW", -1.0, USD_PER_MUSD),
    "interconnection.grid_delivers": ("headroom", "USD per MW", -1.0, USD_PER_MUSD),
    "interconnection.curtailed_to_firm": ("headroom", "USD per MW", -1.0, USD_PER_MUSD),
    "onsite.within_permit": ("permit", "USD per t CO2/yr", -1.0, USD_PER_MUSD),
    "interconnection.within_zone_limit": ("zone_limit", "USD per MW", -1.0, USD_PER_MUSD),
    "phasing.meets_ramp": ("ramp", "USD per MW IT", 1.0, USD_PER_MUSD),
    # water rows are in hm3 and costs in M USD: M USD per hm3 = USD per m3
    "cooling.within_water_limit": ("water", "USD per m3/yr", -1.0, 1.0),
    "phasing.within_supply": ("supply", "USD per block", -1.0, USD_PER_MUSD),
}


def marginal_values(model: pyo.ConcreteModel, data: xr.Dataset, solved: HighsModel) -> pd.DataFrame:
    """Marginal values of the plan loaded in ``model`` (solved by ``solved``), one row per
    limit that binds: kind, subject, period, value, unit. ``solved`` is changed into the
    fixed LP."""
    block = float(data.attrs["block_it_mw"]) or 1.0
    solved.fix_decisions(
        keep_continuous=lambda var: var.parent_component().local_name == "new_blocks"
    )
    result = solved.solve(warm_start=False)
    if result.solution == "none":
        return pd.DataFrame(columns=["kind", "subject", "period", "value", "unit"])
    duals = solved.row_duals()
    values: dict[tuple[str, str, str], float] = defaultdict(float)
    units: dict[str, str] = {}
    for con, dual in duals.items():
        family = f"{con.parent_block().local_name}.{con.parent_component().local_name}"
        if family not in FAMILIES or abs(dual) < 1e-12:
            continue
        kind, unit, sign, scale = FAMILIES[family]
        if kind == "supply":
            scale *= block
        index = con.index() if isinstance(con.index(), tuple) else (con.index(),)
        subject, period = _subject(kind, index)
        values[kind, subject, period] += sign * dual * scale
        units[kind] = unit
    rows: list[dict[str, Any]] = [
        {"kind": k, "subject": s, "period": p, "value": v, "unit": units[k]}
        for (k, s, p), v in values.items()
        if abs(v) > 1e-6
    ]
    return pd.DataFrame(rows, columns=["kind", "subject", "period", "value", "unit"])


def _subject(kind: str, index: tuple[Any, ...]) -> tuple[str, str]:
    if kind in ("ramp", "supply"):
        return "portfolio", str(index[0])
    return str(index[0]), str(index[1])
