"""``notebooks/02_tradeoffs.ipynb`` runs top to bottom in a Jupyter kernel, and the answer it
prints matches the fronts it wrote: each knee recomputed from ``frontier.csv`` (the point
farthest from the chord between the ends, both axes normalised), costs and metrics from
``frontier.csv`` and the points' ``plan.json``, campus changes from their ``sites.csv``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import DEFAULT_SCENARIO
from tests.test_notebooks import figures, number, run_notebook

NOTEBOOK = "02_tradeoffs.ipynb"
COLUMN = {"energy": "energy_mwh", "water": "water_m3", "carbon": "emissions_tco2"}


def test_tradeoffs_answer_matches_the_frontier_files(tmp_path: Path) -> None:
    code, answer = run_notebook(NOTEBOOK, tmp_path)
    assert figures(code) == 4  # the three fronts, then one row of small multiples per front
    zones = pd.read_csv(DEFAULT_SCENARIO / "zones.csv").set_index("zone_id")["region"]
    for metric, column in COLUMN.items():
        name = f"cost-{metric}"
        folder = tmp_path / "out" / "tradeoffs" / name
        table = pd.read_csv(folder / "frontier.csv")  # 6 significant digits
        assert len(table) == 5 and set(table["status"]) <= {"optimal", "feasible"}
        points = _points(folder, len(table), column)  # full precision, from each plan folder
        assert points["cost"].tolist() == pytest.approx(table["cost_musd"].tolist(), rel=1e-5)
        assert points[column].tolist() == pytest.approx(table[column].tolist(), rel=1e-5)
        knee = _knee(points[column].to_numpy(), points["cost"].to_numpy())
        for label, i in (("knee", knee), ("far end", len(table) - 1)):
            assert answer[f"{name} {label}"] == f"point {i}"
            cost, cost_pct = _value_and_pct(answer[f"{name} {label} cost M USD"])
            assert cost == pytest.approx(points["cost"][i], abs=0.05)
            assert cost_pct == pytest.approx(_pct(points["cost"], i), abs=0.0051)
            value, value_pct = _value_and_pct(answer[f"{name} {label} {column}"])
            assert value == pytest.approx(points[column][i], abs=0.5)
            assert value_pct == pytest.approx(_pct(points[column], i), abs=0.0051)

        least, best = (_sites(folder / f"point_{i:02d}") for i in (0, knee))
        both = least["open"] & best["open"]
        expected = {
            "added": best.index[best["open"] & ~least["open"]],
            "dropped": least.index[least["open"] & ~best["open"]],
            "cooling switched": least.index[both & (least["cooling"] != best["cooling"])],
        }
        for kind, ids in expected.items():
            printed = answer[f"{name} knee campuses {kind}"]
            assert sorted([] if printed == "none" else printed.split(", ")) == sorted(ids)
        moved = _mw_by_region(best, zones).sub(_mw_by_region(least, zones), fill_value=0.0)
        moved = moved[moved.abs() > 0.5]
        printed = answer[f"{name} knee MW moved"]
        parts = [] if printed == "none" else [p.rsplit(" ", 1) for p in printed.split(", ")]
        assert {r: number(v) for r, v in parts} == moved.to_dict()


def _points(folder: Path, n: int, column: str) -> pd.DataFrame:
    """Per point: its NPV (plan.json) and the metric summed over build.csv's campus-periods."""
    rows = []
    for i in range(n):
        point = folder / f"point_{i:02d}"
        cost = json.loads((point / "plan.json").read_text())["objective_musd"]
        rows.append({"cost": cost, column: pd.read_csv(point / "build.csv")[column].sum()})
    return pd.DataFrame(rows)


def _knee(x: np.ndarray, y: np.ndarray) -> int:
    xs, ys = (x - x.min()) / (np.ptp(x) or 1.0), (y - y.min()) / (np.ptp(y) or 1.0)
    dx, dy = xs[-1] - xs[0], ys[-1] - ys[0]
    distance = np.abs(dy * (xs - xs[0]) - dx * (ys - ys[0])) / (np.hypot(dx, dy) or 1.0)
    return int(np.argmax(distance))


def _pct(column: pd.Series, i: int) -> float:
    return float((column[i] / column[0] - 1) * 100)


def _value_and_pct(text: str) -> tuple[float, float]:
    """``"112,401.6 (+0.66 %)"`` -> (112401.6, 0.66)."""
    value, pct = text.split(" (")
    return number(value), number(pct.removesuffix(" %)"))


def _sites(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "sites.csv", keep_default_na=False).set_index("site_id")


def _mw_by_region(sites: pd.DataFrame, zones: pd.Series) -> pd.Series:
    opened = sites[sites["open"]]
    return opened.groupby(opened["zone"].map(zones))["it_mw"].sum()
