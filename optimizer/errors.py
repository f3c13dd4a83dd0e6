"""Input problems, reported as one line each naming file, row and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``row`` is the 1-based line number in a CSV file (the header is line 1), or ``None`` for
    YAML files and whole-file problems. ``field`` is a column name or a dotted YAML path.
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
