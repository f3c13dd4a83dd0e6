"""Siting: which campuses open, and when.

``site_open[s,p]`` = 1 once campus s is open (it stays open). Opening costs the fixed
development capex (land, campus substation) in the period it opens:

    cost = sum_{s,p} dev_s * DF_p * (site_open[s,p] - site_open[s,p-1])
"""

from __future__ import annotations

import pyomo.environ as pyo
import xarray as xr

from formulations.concern import Coefficients, Concern, Family
from formulations.core import (
    buildable_sites,
    earlier,
    first_period,
    increase,
    masked,
    positions,
    put,
    series,
    solution,
    times,
)


def add_to(m: pyo.ConcreteModel, data: xr.Dataset) -> None:
    b = m.siting = pyo.Block()
    dev = series(data, "development_capex_musd")
    df = series(data, "discount_factor")

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


def extract(m: pyo.ConcreteModel, data: xr.Dataset, plan: xr.Dataset) -> None:
    """``site_open_decided[s,p]``, the opening decisions, and ``site_development_period``, the
    first of them: the development capex is paid there, which a plan within the MIP gap may
    take before the campus's first block."""
    periods = [str(p) for p in data["period"].to_numpy()]
    si, pi = positions(data, "site"), positions(data, "period")
    shape = (data.sizes["site"], len(periods))
    decided = solution(m.siting.site_open, shape, lambda i: (si[i[0]], pi[i[1]])) > 0.5
    put(plan, "site_open_decided", ("site", "period"), decided, "")
    put(plan, "site_development_period", ("site",), first_period(decided, periods), "")


def coefficients(data: xr.Dataset) -> list[Coefficients]:
    dev = masked(data, "development_capex_musd", buildable_sites(data))
    return [
        Coefficients(
            "development_capex_musd",
            "sites.csv development_capex_musd",
            "objective",
            times(dev, data["discount_factor"].to_numpy()),
        )
    ]


CONCERN = Concern(
    name="siting",
    add_to=add_to,
    families={"stays_open": Family()},
    extract=extract,
    coefficients=coefficients,
)
