"""Marginal values in planners' units.

HiGHS gives no duals for a MIP. The discrete decisions of the optimal plan (campuses open,
cooling chosen, upgrades in service) are fixed, the number of blocks is relaxed to continuous
MW, and the LP is re-solved: its row duals are the value of one more unit of each limit with
the plan's choices held (GenX's and HiGHS's ``getFixedLp`` idea; blocks are relaxed because
with whole halls fixed no limit could change anything). Values are NPV, in USD.

Which constraint families have a value, in which unit and sign, is declared by each concern
(``Family.marginal``); the families of the default model:

* ``headroom``: USD per MW of extra firm headroom at a campus in a period (every row with
  firm supply on its right: the design hour, and the hourly rows of flexible and on-site
  campuses),
* ``zone_limit``: USD per MW of a zone's import limit in a period (all its hours),
* ``ramp``: USD per MW IT of the portfolio target in a period (what one more MW costs),
* ``water``: USD per m3/yr of a campus's water limit,
* ``supply``: USD per block of accelerator supply in a period,
* ``permit``: USD per t CO2/yr of an on-site option's air permit.

**Sign convention.** A value is positive when the plan gains from one more unit of a limit
(``effect`` ``saves``: the NPV falls by the value) or pays for one more unit of a requirement
(``effect`` ``costs``: the NPV rises by the value, the ramp). A negative value means the
opposite (e.g. more headroom that would pull a campus into a dearer cost).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from formulations import CONCERNS, Concern
from formulations.concern import by_name, family_of
from optimizer.plan import MARGINAL_COLUMNS
from optimizer.solver import HighsModel


def marginal_values(
    model: pyo.ConcreteModel,
    data: xr.Dataset,
    solved: HighsModel,
    extra: Sequence[Concern] = (),
) -> pd.DataFrame:
    """Marginal values of the plan loaded in ``model`` (solved by ``solved``), one row per
    limit that binds: kind, subject, period, value, unit, effect. ``solved`` is changed into
    the fixed LP. A constraint family no concern declares is an error."""
    concerns = by_name([*CONCERNS, *extra])
    solved.fix_decisions(
        keep_continuous=lambda var: var.parent_component().local_name == "blocks_online"
    )
    result = solved.solve(warm_start=False)
    if result.solution == "none":
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    values: dict[tuple[str, str, str], float] = defaultdict(float)
    described: dict[str, tuple[str, str]] = {}
    for con, dual in solved.row_duals().items():
        _, family, index = family_of(con, concerns)
        m = family.marginal
        if m is None or abs(dual) < 1e-12:
            continue
        subject, period = m.subject(index)
        values[m.kind, subject, period] += m.sign * dual * m.scale_of(data)
        described[m.kind] = (m.unit, m.effect)
    rows: list[dict[str, Any]] = [
        {
            "kind": k,
            "subject": s,
            "period": p,
            "value": v,
            "unit": described[k][0],
            "effect": described[k][1],
        }
        for (k, s, p), v in values.items()
        if abs(v) > 1e-6
    ]
    return pd.DataFrame(rows, columns=MARGINAL_COLUMNS)
