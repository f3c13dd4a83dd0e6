"""Input problems, reported as one line each naming file, row and field."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

Location = tuple[int | str, ...]
"""Where pydantic found a problem: field names and list indices, outermost first."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or, as a plausibility warning, suspicious) with the input.

    ``row`` is the 1-based line number in the file (a CSV header is line 1; in
    ``scenario.yaml`` the line of the key), or ``None`` for whole-file problems. ``field`` is
    a column name or a dotted YAML path.
    """

    file: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        what = f" {self.field}:" if self.field else ""
        return f"{where}:{what} {self.message}"


class ScenarioError(Exception):
    """The scenario cannot be used; ``problems`` says why, one entry per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def closest(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the choice closest to a mistyped ``word``, or ``""``."""
    same = [c for c in choices if c.casefold() == word.casefold()]
    match = same or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def pydantic_problems(
    file: str,
    err: ValidationError,
    line_of: Callable[[Location], int | None],
    siblings: Callable[[Location], Sequence[str]] = lambda loc: (),
) -> list[Problem]:
    """One problem per pydantic error, at the line ``line_of`` gives for its location; an
    unknown field names the closest of its ``siblings`` (the fields expected beside it)."""
    out = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if x != "[key]")
        where = ".".join(str(x) for x in loc) or None
        message = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        if e["type"] == "missing":
            message = "missing: a value is required"
        elif e["type"] == "extra_forbidden":
            hint = closest(str(loc[-1]), siblings(loc[:-1])) if loc else ""
            message = f"unknown field{hint} (`gridsite schema` lists the expected ones)"
        elif given is None:
            message = "empty: a value is required"
        elif not isinstance(given, dict | list):
            message = f"{message} (got {repr(given)[:60]})"
        out.append(Problem(file, message, row=line_of(loc), field=where))
    return out
