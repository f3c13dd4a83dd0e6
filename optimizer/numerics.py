"""Numerical hazards in valid input: coefficient ranges too wide for a reliable solve.

The model works in MW, million USD and hm3 (:mod:`optimizer.prepare`), so a well-posed scenario
keeps its objective coefficients, constraint coefficients and right-hand sides each within a
few orders of magnitude. Valid but extreme input (a water price of 1e-9 USD/m3 next to a
development capex of 1e4 M USD, a WUE breakpoint of 1e-12 L/kWh) stretches one of those
ranges past what HiGHS's tolerances (1e-7 on feasibility and optimality) can resolve: the
small coefficient is lost in round-off or the solve turns unstable.

:func:`numerics_warnings` reads the prepared data, gathers each data variable that becomes a
coefficient as the concerns declare it (``Concern.coefficients``, with the weights the
formulations multiply it by) and names every one whose
smallest value lies more than :data:`RANGE_LIMIT` below the largest coefficient of the same
kind. It warns and never rejects: the input is valid, only numerically fragile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from formulations import CONCERNS, Coefficients, Concern

RANGE_LIMIT = 1e9
"""Largest ratio between the biggest and smallest non-zero coefficient of one kind."""


def numerics_warnings(data: xr.Dataset, extra: Sequence[Concern] = ()) -> list[str]:
    """One message per data variable whose coefficients make a range wider than
    :data:`RANGE_LIMIT` within the objective, the constraint matrix or the right-hand side."""
    groups = [c for c in model_coefficients(data, extra) if c.values.size]
    messages = []
    for kind in ("objective", "constraint matrix", "right-hand side"):
        members = [c for c in groups if c.kind == kind]
        if not members:
            continue
        largest = max(members, key=lambda c: float(c.values.max()))
        big = float(largest.values.max())
        for c in members:
            small = float(c.values.min())
            if big / small > RANGE_LIMIT:
                messages.append(
                    f"{c.name} ({c.source}): {small:.3g} in the {kind} is {big / small:.1e} "
                    f"times smaller than {big:.3g} ({largest.name}); expected a range within "
                    f"{RANGE_LIMIT:.0e} - check the units, or use 0 for values this small"
                )
    return messages


def model_coefficients(data: xr.Dataset, extra: Sequence[Concern] = ()) -> list[Coefficients]:
    """Every data variable that becomes a coefficient, as each concern declares it
    (``Concern.coefficients``: restricted to what the model uses and multiplied by the
    discount or opex weights the formulation multiplies it by), as non-zero magnitudes."""
    out = [
        c
        for concern in (*CONCERNS, *extra)
        if concern.coefficients
        for c in concern.coefficients(data)
    ]
    return [Coefficients(c.name, c.source, c.kind, _magnitudes(c.values)) for c in out]


def _magnitudes(values: np.ndarray) -> np.ndarray:
    """Absolute values that reach the model: finite and non-zero."""
    values = np.abs(values[np.isfinite(values)])
    return values[values > 0]
