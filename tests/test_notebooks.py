"""Every notebook is stored without outputs, asks its question at the top and prints its
answer at the bottom, and has its own test that runs it in a Jupyter kernel (nbclient) and
checks the printed figures against the files it wrote. ``run_notebook`` is that runner."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def run_notebook(name: str, folder: Path) -> tuple[list[nbformat.NotebookNode], dict[str, str]]:
    """Execute ``notebooks/<name>`` in a fresh kernel with ``folder`` as its working folder;
    return its code cells (with outputs) and the answer its last cell prints, as the
    ``key: value`` lines it is made of."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = "".join(o.get("text", "") for o in code[-1].outputs if o.output_type == "stream")
    answer = dict(line.split(": ", 1) for line in printed.strip().splitlines())
    return code, answer


def figures(code: list[nbformat.NotebookNode]) -> int:
    """How many pictures the cells show."""
    return sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)


def number(text: str) -> float:
    """``"1,234.5"`` or ``"+1,234.5"`` as a float."""
    return float(text.replace(",", ""))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_is_stored_without_outputs_and_states_question_and_answer(
    notebook: Path,
) -> None:
    cells = nbformat.read(notebook, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "**Question.**" in cells[0].source
    assert cells[-2].cell_type == "markdown" and cells[-2].source.startswith("## Answer")
    assert cells[-1].cell_type == "code" and "print(" in cells[-1].source


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_has_a_test_that_runs_it(notebook: Path) -> None:
    tests = Path(__file__).resolve().parent
    runners = [t for t in tests.glob("test_*.py") if notebook.name in t.read_text()]
    assert [t.name for t in runners if t.name != Path(__file__).name], notebook.name
