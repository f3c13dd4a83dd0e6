"""Write a scenario folder from plain Python data (tests, generators, notebooks).

The folder written is exactly what :func:`optimizer.load_scenario` reads, so anything built
in code goes through the same validation as a planner's files.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from optimizer.output import MANIFEST, replace_folder
from optimizer.schema import OPTIONAL_TABLES, TABLES, StrictModel


def write_scenario(
    folder: str | Path,
    config: Mapping[str, Any],
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    profiles: Mapping[str, pd.DataFrame],
    hour_weights: Sequence[float] | None = None,
) -> Path:
    """Write ``scenario.yaml``, the CSV tables and ``profiles/*.csv`` into ``folder``.

    ``tables`` maps a file name of :data:`~optimizer.schema.TABLES` (or of
    :data:`~optimizer.schema.OPTIONAL_TABLES`, written only when it has rows) to its rows;
    ``profiles`` maps a profile name to a frame whose columns are ids (the index becomes ``hour``).
    """
    root = Path(folder)
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "scenario.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=False))
    optional = {n: m for n, m in OPTIONAL_TABLES.items() if tables.get(n)}
    for name, model in {**TABLES, **optional}.items():
        _write_table(root / name, model, tables.get(name, []))
    for name, frame in profiles.items():
        out = frame.reset_index(drop=True)
        out.index.name = "hour"
        out.to_csv(root / "profiles" / f"{name}.csv")
    if hour_weights is not None:
        weights = pd.DataFrame({"weight_h": list(hour_weights)})
        weights.index.name = "hour"
        weights.to_csv(root / "profiles" / "hour_weights.csv")
    return root


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def derive_scenario(
    base: str | Path,
    folder: str | Path,
    *,
    name: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
) -> Path:
    """Copy the scenario folder ``base`` to ``folder``, rename it ``name`` and write the
    optional ``tables`` (file name of :data:`~optimizer.schema.OPTIONAL_TABLES` -> rows) beside
    the copied ones: a variant of a scenario for a worked example or a study. ``folder`` is
    replaced only if it is new, empty or derived before (:func:`optimizer.output.replace_folder`;
    :class:`~optimizer.output.OutputError` otherwise)."""
    src = Path(base)

    def fill(out: Path) -> None:
        shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST))
        config = yaml.safe_load((out / "scenario.yaml").read_text())
        config["name"] = name
        (out / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        for table, rows in tables.items():
            _write_table(out / table, OPTIONAL_TABLES[table], rows)

    return replace_folder(folder, fill, kind="scenario", inputs=[src])


def _write_table(path: Path, model: type[StrictModel], rows: Sequence[Mapping[str, Any]]) -> None:
    columns = list(model.model_fields)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)
