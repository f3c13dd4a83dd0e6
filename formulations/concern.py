"""What a concern declares next to its constraints, for the rest of the program.

A concern is one module of :mod:`formulations` (or a planner's own, passed as ``extra``). It
puts its components on the Block ``m.<name>`` and declares, as ``CONCERN``:

- ``needs``: the concerns whose components it reads (built first; a missing one is an error),
- ``families``: every constraint family on its block, with how the diagnosis may stretch it
  (:class:`Relax`, or :class:`SharesSlack` with another family) and its marginal value
  (:class:`Marginal`); a family declared with neither is hard and has no value reported,
- ``extract``: how its solution goes into the plan dataset (arrays with a ``units`` attribute),
- ``views``: the plan tables it provides (``plan.<name>`` and the CSV file written with the plan),
- ``coefficients``: the data that become its coefficients, for the numerics check,
- ``separate``: for a family stated by cuts (an outer approximation the model holds only a
  few rows of), the cuts the variables' current values break, added to the model; the solver
  calls it after each solve and solves again until none is added (``m.separators``).

The consumers (:mod:`optimizer.plan`, :mod:`optimizer.diagnose`, :mod:`optimizer.marginal`,
:mod:`optimizer.numerics`) loop over concerns and name none; a constraint family no concern
declares is an error (:class:`UndeclaredFamily`), never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from formulations.units import USD_PER_MUSD

Index = tuple[Any, ...]
"""A constraint's index as a tuple (a one-dimensional index becomes a 1-tuple)."""


class ConcernError(Exception):
    """The concerns cannot be built or read: a missing dependency, a cycle, an undeclared
    constraint family."""


class UndeclaredFamily(ConcernError):
    """A constraint family that its concern does not declare."""


@dataclass(frozen=True)
class Relaxation:
    """One relaxation that makes the scenario feasible, in the planner's words."""

    family: str
    """Constraint family, e.g. ``interconnection.within_zone_limit``."""
    subject: str
    """Campus, zone, upgrade or ``portfolio``."""
    period: str
    amount: float
    unit: str
    message: str


@dataclass(frozen=True)
class Relax:
    """The diagnosis may stretch this family by a non-negative slack.

    ``key`` maps a constraint's index to its slack (constraints sharing a key share one slack,
    e.g. a zone's hours in a period); ``weight`` is what a unit of the slack costs in the
    elastic objective (MW-equivalents), per key; ``describe`` turns a non-zero slack into a
    :class:`Relaxation`. A shortfall family (the portfolio ramp, ``target`` gives what a key
    asks for) is the only one stretched in the diagnosis's first stage and is held in the
    second."""

    unit: str
    describe: Callable[[Index, float, xr.Dataset], Relaxation]
    weight: float | Callable[[Index, xr.Dataset], float] = 1.0
    key: Callable[[Index], Index] = tuple
    target: Callable[[Index, xr.Dataset], float] | None = None

    @property
    def shortfall(self) -> bool:
        return self.target is not None

    def weight_of(self, key: Index, data: xr.Dataset) -> float:
        return self.weight(key, data) if callable(self.weight) else float(self.weight)


@dataclass(frozen=True)
class SharesSlack:
    """This family is stretched by the slack of another (``family``, e.g.
    ``interconnection.within_headroom``) at the key ``key(model, index)``: more of a limit is
    more of it in every row it bounds."""

    family: str
    key: Callable[[pyo.ConcreteModel, Index], Index]


@dataclass(frozen=True)
class Marginal:
    """The value of one more unit of this family's limit: ``sign x dual x scale`` in ``unit``,
    summed per ``kind``, subject and period. ``effect`` says what a positive value means:
    ``saves`` (one more unit of a limit lowers the NPV by the value) or ``costs`` (one more
    unit of a requirement raises it by the value)."""

    kind: str
    unit: str
    sign: float
    effect: Literal["saves", "costs"]
    scale: float | Callable[[xr.Dataset], float] = USD_PER_MUSD
    portfolio: bool = False
    """The index is (period,) and the subject is the whole portfolio."""

    def scale_of(self, data: xr.Dataset) -> float:
        return self.scale(data) if callable(self.scale) else float(self.scale)

    def subject(self, index: Index) -> tuple[str, str]:
        """(subject, period) of a constraint's index."""
        return ("portfolio", str(index[0])) if self.portfolio else (str(index[0]), str(index[1]))


@dataclass(frozen=True)
class Family:
    """A constraint family of a concern: its inequality's meaning for the other tools."""

    relax: Relax | SharesSlack | None = None
    marginal: Marginal | None = None
    impossible: Callable[[Index, xr.Dataset], str] | None = None
    """Note for a row no decision can touch (set aside by the diagnosis), if worded."""


@dataclass(frozen=True)
class View:
    """A plan table: ``plan.<name>``, written as ``file`` when the plan holds ``array`` (the
    concern was built); without it the table has no rows."""

    name: str
    table: Callable[[xr.Dataset], pd.DataFrame]
    file: str
    array: str
    columns: tuple[str, ...]
    in_json: bool = False
    """Also listed in ``plan.json`` under ``name`` (records)."""


Kind = Literal["objective", "constraint matrix", "right-hand side"]


@dataclass(frozen=True)
class Coefficients:
    """The non-zero magnitudes one data variable puts into the model."""

    name: str
    """Variable of the prepared dataset (or attribute) the coefficients come from."""
    source: str
    """The input field(s) a planner changes to change them."""
    kind: Kind
    values: np.ndarray


@dataclass(frozen=True)
class Concern:
    """One concern of the model and what it declares (see the module docstring)."""

    name: str
    add_to: Callable[[pyo.ConcreteModel, xr.Dataset], None]
    needs: tuple[str, ...] = ()
    families: Mapping[str, Family] = field(default_factory=dict)
    extract: Callable[[pyo.ConcreteModel, xr.Dataset, xr.Dataset], None] | None = None
    """Read this concern's solution into the plan dataset (called when its block exists)."""
    views: tuple[View, ...] = ()
    coefficients: Callable[[xr.Dataset], list[Coefficients]] | None = None
    closes: bool = False
    """Built after every other concern (the objective closes the cost register)."""
    separate: Callable[[pyo.ConcreteModel], list[Any]] | None = None
    """The constraints (on its block) that the variables' current values break, added to the
    model and returned; none when they hold every row of the exact model it approximates."""

    def family(self, name: str) -> Family:
        """The declared family ``name`` of this concern, or :class:`UndeclaredFamily`."""
        if name not in self.families:
            raise UndeclaredFamily(
                f"constraint family {self.name}.{name} is not declared by concern "
                f"{self.name!r}: add it to its families (hard: Family())"
            )
        return self.families[name]


def ordered(concerns: Sequence[Concern]) -> list[Concern]:
    """``concerns`` in build order: every concern after the ones it needs, closing ones last;
    among independent concerns the listed order is kept (it changes only the order of rows).
    A missing need, a duplicate name or a cycle is a :class:`ConcernError`."""
    names = [c.name for c in concerns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConcernError(f"concern named twice: {', '.join(duplicates)}")
    for c in concerns:
        missing = [n for n in c.needs if n not in names]
        if missing:
            raise ConcernError(
                f"concern {c.name!r} needs {', '.join(map(repr, missing))}, which is not "
                f"among the concerns built ({', '.join(names)})"
            )
    done: list[Concern] = []
    pending = list(concerns)
    while pending:
        built = {c.name for c in done}
        ready = [c for c in pending if set(c.needs) <= built]
        ready = [c for c in ready if not c.closes] or [
            c for c in ready if all(p.closes for p in pending)
        ]
        if not ready:
            cycle = ", ".join(c.name for c in pending)
            raise ConcernError(f"concerns that need each other in a cycle: {cycle}")
        done.append(ready[0])
        pending.remove(ready[0])
    return done


def family_of(
    con: pyo.ConstraintData, concerns: Mapping[str, Concern]
) -> tuple[str, Family, Index]:
    """The dotted family name, declaration and index of a constraint of the model."""
    block = con.parent_block()
    component = con.parent_component().local_name
    concern = concerns.get(block.local_name) if block.parent_block() is not None else None
    if concern is None:
        raise UndeclaredFamily(
            f"constraint {con.name} is not on the block of a concern (a concern puts its "
            f"components on m.<name>)"
        )
    index = con.index()
    return (
        f"{concern.name}.{component}",
        concern.family(component),
        index if isinstance(index, tuple) else (index,),
    )


def by_name(concerns: Sequence[Concern]) -> dict[str, Concern]:
    return {c.name: c for c in concerns}
