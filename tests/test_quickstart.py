"""``notebooks/01_quickstart.ipynb`` runs top to bottom in a real Jupyter kernel (nbclient),
and the answer it prints matches the plan files it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_quickstart.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert cells[0].source.startswith("# Quickstart") and "**Question.**" in cells[0].source
    assert cells[-2].source.startswith("## Answer")


def test_quickstart_answer_matches_the_plan_files(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    figures = [c for c in code if any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert len(figures) == 6  # candidates, profiles, duration curves, ramp, map, costs

    printed = "".join(o.get("text", "") for o in code[-1].outputs if o.output_type == "stream")
    answer = dict(line.split(": ", 1) for line in printed.strip().splitlines())
    folder = tmp_path / "out" / "quickstart"
    doc = json.loads((folder / "plan.json").read_text())
    sites = pd.read_csv(folder / "sites.csv", keep_default_na=False)
    chosen = sites[sites["open"]]
    last = doc["periods"][-1]
    assert int(answer["campuses open"]) == len(chosen)
    assert _number(answer[f"IT MW by {last}"]) == pytest.approx(chosen["it_mw"].sum(), abs=0.5)
    assert _number(answer["NPV M USD"]) == pytest.approx(doc["objective_musd"], abs=0.05)
    costs = {k: v for k, v in doc["cost_npv_musd"].items() if k != "total"}
    term, value = answer["largest cost term"].removesuffix(" M USD").rsplit(" ", 1)
    assert term == max(costs, key=lambda k: costs[k])
    assert _number(value) == pytest.approx(costs[term], abs=0.05)
    by_cooling = chosen.groupby("cooling")["it_mw"].sum()
    for part in answer["IT MW by cooling"].split(", "):
        tech, mw = part.rsplit(" ", 1)
        assert _number(mw) == pytest.approx(by_cooling[tech], abs=0.5)
    assert len(answer["IT MW by cooling"].split(", ")) == len(by_cooling)


def _number(text: str) -> float:
    return float(text.replace(",", ""))
