"""Reading the files of a scenario folder: safe text, and CSV tables row by row.

A file is read only inside the scenario folder, as UTF-8 without byte-order mark and below
:data:`MAX_FILE_BYTES`. A table row is reported at its true line (blank lines and quoted
line breaks counted), a row with a cell more or less than the header says so, and a cell
that pydantic would read but nobody means (``3_00``, a non-breaking space or a NUL byte
in a number or id) is refused, naming the cell.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.errors import Location, Problem, closest, pydantic_problems

#: Files larger than this are refused before parsing (a scenario table is kilobytes).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Tables that may hold a header and no rows.
OPTIONAL_ROWS = frozenset(
    {"upgrades.csv", "serving.csv", "flexible_connections.csv", "onsite_power.csv"}
)
#: Fields of free text (names, descriptions): any printable character is fine there.
FREE_TEXT = frozenset({"name", "region", "technology"})
_NUMBER_TYPES = (float, int)


def read_text(root: Path, name: str, problems: list[Problem]) -> str | None:
    """The text of ``root/name``, or ``None`` with the reason in ``problems``."""
    file = root / name
    try:
        resolved = file.resolve(strict=True)
        if not resolved.is_relative_to(root.resolve()):
            problems.append(Problem(name, "points outside the scenario folder"))
            return None
        if not resolved.is_file():
            problems.append(Problem(name, "is not a file (expected a regular file)"))
            return None
        if resolved.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(name, f"larger than {_size(MAX_FILE_BYTES)}"))
            return None
        raw = resolved.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(name, "file not found"))
        return None
    except (OSError, RuntimeError) as err:  # permissions, a symlink loop, a file for a folder
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        problems.append(Problem(name, f"cannot be read ({reason}); expected a readable file"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(name, "starts with a byte-order mark; save as UTF-8 without BOM"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.append(
            Problem(name, f"not UTF-8 text (byte {err.start}); save as UTF-8", row=line)
        )
        return None


def _size(n_bytes: int) -> str:
    return f"{n_bytes // 2**20} MiB" if n_bytes >= 2**20 else f"{n_bytes} bytes"


@dataclass
class Table:
    """The valid rows of a CSV table and the line each came from."""

    rows: list[BaseModel] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def load_table(root: Path, name: str, model: type[BaseModel], problems: list[Problem]) -> Table:
    """The rows of table ``name`` validated by ``model``; each problem at its line."""
    table = Table()
    text = read_text(root, name, problems)
    if text is None:
        return table
    before = len(problems)
    rows = csv_rows(name, text, problems)
    header = next(rows, None)
    if header is None:
        return table
    _check_columns(name, header[1], list(model.model_fields), problems)
    if len(problems) > before:
        return table
    for line, values in rows:
        record = _record(name, line, model, header[1], values, problems)
        if record is None:
            continue
        try:
            table.rows.append(model.model_validate(record))
            table.lines.append(line)
        except ValidationError as err:
            problems.extend(pydantic_problems(name, err, _at(line)))
    if not table.rows and name not in OPTIONAL_ROWS and len(problems) == before:
        problems.append(Problem(name, "has no rows; expected at least one"))
    return table


def _at(line: int) -> Callable[[Location], int]:
    """Every location of a row is its line."""
    return lambda loc: line


def csv_rows(name: str, text: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """The header (line 1) and then each non-blank row of ``text`` with the line it starts
    on; a row whose cell count differs from the header's is a problem and skipped. Stops
    (with a problem) at a header that is missing, not comma-separated, or has empty or
    duplicate names, or at what the csv module cannot read."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = _header(name, next(reader, None), problems)
        if header is None:
            return
        yield 1, header
        end = reader.line_num
        for values in reader:
            line, end = end + 1, reader.line_num  # a quoted cell may span lines
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(Problem(name, cell_count(len(values), len(header)), row=line))
                continue
            yield line, values
    except csv.Error as err:
        problems.append(Problem(name, f"not a readable CSV table ({err})", row=reader.line_num))


def cell_count(got: int, expected: int) -> str:
    """What is wrong with a row of ``got`` cells under a header of ``expected``."""
    if got == expected + 1:
        return f"one cell more than the header ({expected} columns; a trailing comma?)"
    if got == expected - 1:
        return f"one cell less than the header ({expected} columns)"
    return f"has {got} cells, header has {expected}"


def _header(name: str, first: list[str] | None, problems: list[Problem]) -> list[str] | None:
    """The first row of a CSV file as column names, or ``None`` (and a problem) if it is
    missing, not comma-separated, or has empty or duplicate names."""
    if first is None:
        problems.append(Problem(name, "empty file: expected a header row"))
        return None
    if not any(h.strip() for h in first):
        problems.append(Problem(name, "first line is empty: expected a header row", row=1))
        return None
    header = [h.strip() for h in first]
    separator = next((c for c in ";\t|" if len(header) == 1 and c in header[0]), None)
    if separator is not None:
        problems.append(
            Problem(name, f"columns separated by {separator!r}; expected commas", row=1)
        )
        return None
    before = len(problems)
    for i, column in enumerate(header):
        if not column:
            last = " (a trailing comma?)" if i == len(header) - 1 else ""
            problems.append(Problem(name, f"column {i + 1} has no name{last}", row=1))
        elif column in header[:i]:
            problems.append(Problem(name, "duplicate column (expected once)", row=1, field=column))
        elif bad := _odd_character(column):
            problems.append(Problem(name, f"column name contains {bad}", row=1, field=column))
    return header if len(problems) == before else None


def _check_columns(
    name: str, header: list[str], expected: list[str], problems: list[Problem]
) -> None:
    for column in (c for c in expected if c not in header):
        problems.append(Problem(name, "missing column", row=1, field=column))
    unknown = [c for c in header if c not in expected]
    for column in unknown:
        hint = closest(column, [c for c in expected if c not in header])
        problems.append(
            Problem(
                name,
                f"unknown column{hint} (expected {', '.join(expected)})",
                row=1,
                field=column,
            )
        )


def _record(
    name: str,
    line: int,
    model: type[BaseModel],
    header: list[str],
    values: list[str],
    problems: list[Problem],
) -> dict[str, Any] | None:
    """A row as a dict for ``model``: cells stripped, empty cells absent where the field has
    a default; ``None`` (and a problem per cell) if a cell holds what no one means."""
    record: dict[str, Any] = {}
    fields = model.model_fields
    bad = False
    for column, raw in zip(header, values, strict=True):
        reason = _suspicious_cell(raw, column, fields[column].annotation)
        if reason is not None:
            problems.append(Problem(name, f"{reason} (got {raw!r})", row=line, field=column))
            bad = True
        value = raw.strip() or None
        if value is not None or fields[column].is_required():
            record[column] = value
    return None if bad else record


def _suspicious_cell(raw: str, column: str, annotation: Any) -> str | None:
    """Why a cell cannot be meant as written, or ``None``."""
    odd = _odd_character(raw, allow_spaces=column in FREE_TEXT)
    if odd is not None:
        return f"contains {odd}; expected plain text"
    numeric = annotation in _NUMBER_TYPES or any(
        a in _NUMBER_TYPES for a in getattr(annotation, "__args__", ())
    )
    if numeric and "_" in raw:
        return "a number with '_' in it; write the digits only, e.g. 300"
    return None


def _odd_character(text: str, allow_spaces: bool = False) -> str | None:
    """The first control character, or (unless ``allow_spaces``) non-ASCII character, in
    ``text`` (a non-breaking space looks like a space and breaks ids and numbers)."""
    for char in text:
        if char in "\t\n\r" and allow_spaces:  # a quoted line break in a name
            continue
        if unicodedata.category(char) in ("Cc", "Cf"):
            return f"a control character (U+{ord(char):04X})"
        if not allow_spaces and not char.isascii():
            what = unicodedata.name(char, "").lower() or "a non-ASCII character"
            return f"U+{ord(char):04X} ({what})"
        if allow_spaces and char != " " and unicodedata.category(char).startswith("Z"):
            return f"U+{ord(char):04X} ({unicodedata.name(char, '').lower()})"
    return None
