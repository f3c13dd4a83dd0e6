"""Every notebook runs top to bottom (code cells executed in order, no Jupyter needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

OWN_TESTS = {"01_quickstart.ipynb"}  # run in a Jupyter kernel and checked by their own tests
NOTEBOOKS = [
    n
    for n in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
    if n.name not in OWN_TESTS
]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_runs(notebook: Path) -> None:
    cells = json.loads(notebook.read_text())["cells"]
    namespace: dict[str, object] = {"__name__": "__main__"}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(notebook), "exec"), namespace)
    assert NOTEBOOKS
