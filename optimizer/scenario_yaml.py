"""Reading ``scenario.yaml``: YAML that means one thing, validated, every problem at its line.

PyYAML (YAML 1.1) silently keeps the last of two equal keys and reads ``3_00`` as 300,
``1:30`` as 90 and ``010`` as 8. Here the document is composed first and its nodes checked:
a key given twice, or a number written that way, is a problem at its line. The line of
every key is kept, so a schema problem found later is reported at its line too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml
from pydantic import BaseModel, ValidationError

from optimizer.errors import Location, Problem, pydantic_problems
from optimizer.schema import ScenarioConfig

FILE = "scenario.yaml"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
#: Numbers YAML 1.1 reads in a way nobody means: 3_00 (300), 1:30 (90), 010 (octal 8).
_SURPRISING_NUMBER = re.compile(r"_|:|^[-+]?0[0-9]")


def load_config(text: str, problems: list[Problem]) -> ScenarioConfig | None:
    """The validated configuration in ``text``, or ``None`` with ``problems`` said."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        reason = getattr(err, "problem", None)
        problems.append(
            Problem(
                FILE,
                "not valid YAML" + (f" ({reason})" if reason else ""),
                row=mark.line + 1 if mark is not None else None,
            )
        )
        return None
    except RecursionError:
        problems.append(Problem(FILE, "nested too deeply; expected a few levels"))
        return None
    if not isinstance(node, yaml.MappingNode):
        got = "nothing" if node is None else f"a {_kind(node)}"
        problems.append(
            Problem(
                FILE, f"expected a mapping of sections (name, horizon, portfolio, ...), got {got}"
            )
        )
        return None
    lines: dict[Location, int] = {}
    before = len(problems)
    _walk(node, (), lines, problems)
    if len(problems) > before:
        return None
    data = yaml.SafeLoader(text).construct_document(node)
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as err:
        problems.extend(pydantic_problems(FILE, err, lambda loc: _line(lines, loc), _fields_beside))
        return None


def _walk(node: yaml.Node, path: Location, lines: dict[Location, int], out: list[Problem]) -> None:
    """Record the line of every key under ``path``; flag repeated keys and surprising numbers."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            where = ".".join(str(x) for x in (*path, name))
            if name in first:
                out.append(
                    Problem(
                        FILE,
                        f"given twice (lines {first[name]} and {line}); expected once "
                        "(YAML would silently keep the last)",
                        row=line,
                        field=where,
                    )
                )
            first.setdefault(name, line)
            lines[(*path, name)] = line
            _walk(value, (*path, name), lines, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, out)
    elif _surprising_number(node):
        out.append(
            Problem(
                FILE,
                f"{node.value!r} is not a plain number (YAML reads '_', ':' and a leading 0 "
                "in ways nobody means); write it as digits, e.g. 300 or 2.5",
                row=node.start_mark.line + 1,
                field=".".join(str(x) for x in path) or None,
            )
        )


def _surprising_number(node: yaml.Node) -> bool:
    """A plain scalar YAML reads as a number, written with '_', ':' or a leading 0."""
    return (
        isinstance(node, yaml.ScalarNode)
        and node.tag in (_INT, _FLOAT)
        and node.style is None
        and _SURPRISING_NUMBER.search(str(node.value).strip()) is not None
    )


def _line(lines: dict[Location, int], loc: Location) -> int | None:
    """The line of ``loc``, or of its closest ancestor that has one."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _fields_beside(loc: Location) -> Sequence[str]:
    """The fields the schema expects in the section at ``loc`` (for a typo's suggestion)."""
    model: type[BaseModel] = ScenarioConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        inner = getattr(field, "annotation", None) if field is not None else None
        candidates = [inner, *getattr(inner, "__args__", ())]
        model_type = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if model_type is None:
            return ()
        model = model_type
    return list(model.model_fields)


def _kind(node: yaml.Node) -> str:
    return "list" if isinstance(node, yaml.SequenceNode) else "single value"
