"""The project's scripts (the worked examples in ``data/examples``, the benchmarks) loaded as
modules, for the tests that call their functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_script(relative: str) -> ModuleType:
    """The script at ``relative`` (to the project's root) as a module, registered in
    ``sys.modules`` under a name of its own (its dataclasses look their module up there)."""
    path = ROOT / relative
    name = f"gridsite_script_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
