"""gridsite's math: one module per concern, each putting its components on its own Block.

A module is anything with ``add_to(model, data)``. Modules read the prepared data (an
``xarray.Dataset`` in MW and million USD), never files or the solver; they reach each other's
components through the model (``m.siting.site_open``) and add costs to
``m.cost_terms_musd`` and energy to ``m.energy_terms_mwh``, which ``objective`` closes last.
A later concern (demand regions, bridging power, ...) is a new module placed before
``objective``.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import pyomo.environ as pyo
import xarray as xr
from pyomo.common.gc_manager import PauseGC

from formulations import (
    clean,
    cooling,
    demand,
    energy,
    interconnection,
    objective,
    onsite,
    phasing,
    siting,
    strength,
)
from formulations.core import add_sets

MODULES: tuple[ModuleType, ...] = (
    siting,
    phasing,
    cooling,
    onsite,
    interconnection,
    demand,
    clean,
    energy,
    strength,
    objective,
)


def build_model(data: xr.Dataset, modules: Sequence[ModuleType] = MODULES) -> pyo.ConcreteModel:
    """The Pyomo model of ``data`` built from ``modules``, in order."""
    # The build makes millions of small objects and no cycles worth collecting: pausing the
    # garbage collector halves it at 1,000 sites (benchmarks/RESULTS.md), as Pyomo's writers do.
    with PauseGC():
        m = pyo.ConcreteModel(name=str(data.attrs.get("scenario", "gridsite")))
        add_sets(m, data)
        for module in modules:
            module.add_to(m, data)
    return m


__all__ = ["MODULES", "build_model"]
