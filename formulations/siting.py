"""Siting: which campuses open, and when.

``site_open[s,p]`` = 1 once campus s is open (it stays open). Opening costs the fixed
development capex (land, campus substation) in the period it opens:

    cost = sum_{s,p} dev_s * DF_p * (site_open[s,p] - site_open[s,p-1])
"""

from __future__ import annotations

import pyomo.environ as pyo
import xarray as xr

from formulations.core import earlier, increase, series


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.siting = pyo.Block()
    dev = series(data, "development_capex_musd")
    df = dict(zip(m.PERIODS, data["discount_factor"].to_numpy().tolist(), strict=True))

    b.site_open = pyo.Var(
        m.SITE_PERIODS, within=pyo.Binary, doc="1 once the campus is open (stays open)"
    )

    @b.Constraint(m.SITE_PERIODS)
    def stays_open(b: pyo.Block, s: str, p: str) -> object:
        """site_open[s,p] >= site_open[s,p-1]."""
        before = earlier(m, b.site_open, (s,), p)
        return pyo.Constraint.Skip if before is None else b.site_open[s, p] >= before

    m.cost_terms_musd["development"] = sum(
        dev[s] * df[p] * increase(m, b.site_open, (s,), p) for s, p in m.SITE_PERIODS
    )
