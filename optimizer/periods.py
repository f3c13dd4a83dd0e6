"""Planning periods: calendar half-years (``2026H2``) or quarters (``2026Q3``).

A label maps to an ordinal (half-years or quarters since year 0), so labels outside the
horizon (a site permitted in ``2026H1`` for a horizon starting ``2026H2``) compare and
subtract naturally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["half-year", "quarter"]

_LABEL = re.compile(r"^(?P<year>\d{4})(?P<kind>[HQ])(?P<part>\d)$")
_PARTS = {"H": 2, "Q": 4}
_KIND: dict[str, PeriodKind] = {"H": "half-year", "Q": "quarter"}


@dataclass(frozen=True, order=True)
class Period:
    """One planning period, ordered by its ordinal."""

    ordinal: int
    kind: PeriodKind

    @classmethod
    def parse(cls, label: str) -> Period:
        """Parse ``2026H2`` or ``2026Q3``; raise ``ValueError`` with the expected form."""
        match = _LABEL.match(str(label).strip())
        if match is None:
            raise ValueError(f"period {label!r} is not of the form 2026H2 or 2026Q3")
        letter = match["kind"]
        parts = _PARTS[letter]
        part = int(match["part"])
        if not 1 <= part <= parts:
            raise ValueError(f"period {label!r}: {letter}{part} does not exist (1..{parts})")
        return cls(ordinal=int(match["year"]) * parts + part - 1, kind=_KIND[letter])

    @property
    def per_year(self) -> int:
        return 2 if self.kind == "half-year" else 4

    @property
    def years(self) -> float:
        """Length of the period in years."""
        return 1.0 / self.per_year

    @property
    def start_year(self) -> float:
        """Calendar time of the period start, e.g. 2026H2 -> 2026.5."""
        return self.ordinal / self.per_year

    @property
    def label(self) -> str:
        year, part = divmod(self.ordinal, self.per_year)
        letter = "H" if self.kind == "half-year" else "Q"
        return f"{year}{letter}{part + 1}"

    def __add__(self, periods: int) -> Period:
        return Period(self.ordinal + periods, self.kind)

    def __sub__(self, other: Period) -> int:
        return self.ordinal - other.ordinal

    def __str__(self) -> str:
        return self.label


def period_range(first: Period, last: Period) -> list[Period]:
    """All periods from ``first`` to ``last`` inclusive."""
    return [Period(o, first.kind) for o in range(first.ordinal, last.ordinal + 1)]
