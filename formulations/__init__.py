"""gridsite's math: one module per concern, each putting its components on its own Block.

A concern (:class:`~formulations.concern.Concern`, each module's ``CONCERN``) has
``add_to(model, data)``, which reads the prepared data (an ``xarray.Dataset`` in MW and
million USD), never files or the solver. It reaches other concerns' components through the
model (``m.siting.site_open``) and names those concerns in ``needs``; it adds costs to
``m.cost_terms_musd`` and energy to ``m.energy_terms_mwh``, which ``objective`` closes last.
Next to its constraints it declares what the plan, the diagnosis, the marginal values and the
numerics check need from it (see :mod:`formulations.concern`).

The build order is derived from ``needs`` (:func:`~formulations.concern.ordered`). A planner's
own concern (a custom limit, a new cost term) is passed as ``extra`` and built the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    time_rules,
)
from formulations.concern import (
    Coefficients,
    Concern,
    ConcernError,
    Family,
    Marginal,
    Relax,
    Relaxation,
    SharesSlack,
    UndeclaredFamily,
    View,
    ordered,
)
from formulations.core import add_sets

CONCERNS: tuple[Concern, ...] = (
    siting.CONCERN,
    phasing.CONCERN,
    cooling.CONCERN,
    onsite.CONCERN,
    interconnection.CONCERN,
    demand.CONCERN,
    clean.CONCERN,
    energy.CONCERN,
    strength.CONCERN,
    objective.CONCERN,
)
"""The model's concerns. Listed for membership: the build order follows ``needs``."""

TIME_RULES = time_rules.CONCERN
"""Earliest dates and lead times as constraints, for the diagnosis only."""


def build_model(
    data: xr.Dataset, concerns: Sequence[Concern] = CONCERNS, extra: Sequence[Concern] = ()
) -> pyo.ConcreteModel:
    """The Pyomo model of ``data`` built from ``concerns`` and a planner's ``extra`` ones, each
    after the concerns it needs (a missing one is a :class:`ConcernError`). With ``extra``,
    no cooling technology is left out as dominated: the planner's rows and costs may favour
    it."""
    order = ordered([*concerns, *extra])
    # The build makes millions of small objects and no cycles worth collecting: pausing the
    # garbage collector halves it at 1,000 sites (benchmarks/RESULTS.md), as Pyomo's writers do.
    # Alone this pause puts the full collection over the new model off to the first
    # allocation after it; a whole run pauses it throughout (``optimizer.api.gc_paused``).
    with PauseGC():
        m = pyo.ConcreteModel(name=str(data.attrs.get("scenario", "gridsite")))
        add_sets(m, data, drop_dominated=not extra)
        m.separators = []  # the solver's cut loop calls them (Concern.separate)
        for concern in order:
            concern.add_to(m, data)
            _check_declared(m, concern)
            if concern.separate is not None and m.component(concern.name) is not None:
                m.separators.append(concern.separate)
    loose = [c.name for c in m.component_objects(pyo.Constraint, descend_into=False)]
    if loose:
        raise ConcernError(
            f"constraints outside any concern's block: {', '.join(loose)} (a concern puts its "
            f"components on m.<name>)"
        )
    return m


def _check_declared(m: pyo.ConcreteModel, concern: Concern) -> None:
    """Every constraint family on the concern's block is one it declares."""
    block = m.component(concern.name)
    if block is None:
        return
    for component in block.component_objects(pyo.Constraint, descend_into=False):
        concern.family(component.local_name)


__all__ = [
    "CONCERNS",
    "TIME_RULES",
    "Coefficients",
    "Concern",
    "ConcernError",
    "Family",
    "Marginal",
    "Relax",
    "Relaxation",
    "SharesSlack",
    "UndeclaredFamily",
    "View",
    "build_model",
    "ordered",
]
