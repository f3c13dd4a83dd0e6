"""``notebooks/04_what_changed.ipynb`` runs top to bottom in a Jupyter kernel, and the answer
it prints matches the two plan folders and the ``diff.json`` it wrote, recomputed from the
plan files (sites.csv, build.csv) and the default scenario's zones."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from optimizer import DEFAULT_SCENARIO
from tests.test_notebooks import figures, number, run_notebook

NOTEBOOK = "04_what_changed.ipynb"


def test_what_changed_answer_matches_the_plan_files(tmp_path: Path) -> None:
    code, answer = run_notebook(NOTEBOOK, tmp_path)
    assert figures(code) == 1  # the diff map
    out = tmp_path / "out" / "what_changed"
    before = json.loads((out / "base" / "plan.json").read_text())
    after = json.loads((out / "replan" / "plan.json").read_text())
    diff = json.loads((out / "replan" / "diff.json").read_text())
    assert after["status"] in ("optimal", "feasible")

    commit = answer["committed through"]
    assert commit == "2027H2"
    npv_before, rest = answer["NPV M USD"].split(" -> ")
    npv_after, delta = rest.rstrip(")").split(" (")
    assert number(npv_before) == pytest.approx(before["objective_musd"], abs=0.05)
    assert number(npv_after) == pytest.approx(after["objective_musd"], abs=0.05)
    assert number(delta) == pytest.approx(
        after["objective_musd"] - before["objective_musd"], abs=0.1
    )

    a, b = (_sites(out / f) for f in ("base", "replan"))
    both = a["open"] & b["open"]
    expected = {
        "campuses added": b.index[b["open"] & ~a["open"]],
        "campuses dropped": a.index[a["open"] & ~b["open"]],
        "campuses resized": a.index[both & ((a["it_mw"] - b["it_mw"]).abs() > 1e-6)],
        "cooling switched": a.index[both & (a["cooling"] != b["cooling"])],
    }
    for key, ids in expected.items():
        printed = [] if answer[key] == "none" else answer[key].split(", ")
        assert sorted(printed) == sorted(ids), key
        kind = key.removeprefix("campuses ")
        assert sorted(printed) == sorted(
            c["site_id"] for c in diff["campuses"] if c["change"] == kind
        )

    upgrades_a, upgrades_b = _upgrades(a), _upgrades(b)
    moved = [u for u in upgrades_a if u in upgrades_b and upgrades_a[u] != upgrades_b[u]]
    assert int(answer["upgrades moved"]) == len(moved)
    assert len(moved) == sum(u["change"] == "moved" for u in diff["upgrades"])

    zones = pd.read_csv(DEFAULT_SCENARIO / "zones.csv").set_index("zone_id")["region"]
    ercot_before, ercot_after = answer["ERCOT IT MW"].split(" -> ")
    for sites, mw_text in ((a, ercot_before), (b, ercot_after)):
        ercot = sites[sites["open"] & (sites["zone"].map(zones) == "ERCOT")]["it_mw"].sum()
        assert number(mw_text) == pytest.approx(ercot, abs=0.5)

    build_a, build_b = (
        pd.read_csv(out / f / "build.csv").set_index(["site_id", "period"])["it_mw"]
        for f in ("base", "replan")
    )
    committed = [p for p in before["periods"] if p <= commit]
    joined = pd.concat([build_a, build_b], axis=1, keys=["a", "b"]).fillna(0.0)
    joined = joined[joined.index.get_level_values("period").isin(committed)]
    assert number(answer["committed MW changed"]) == pytest.approx(
        (joined["a"] - joined["b"]).abs().max(), abs=0.05
    )
    assert number(answer["committed MW changed"]) == 0.0  # the commitments held


def _sites(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "sites.csv", keep_default_na=False).set_index("site_id")


def _upgrades(sites: pd.DataFrame) -> dict[str, str]:
    """Upgrade id -> in-service period, from sites.csv's ``id@period`` lists."""
    out = {}
    for cell in sites["upgrades"]:
        for item in filter(None, str(cell).split(";")):
            upgrade, period = item.rsplit("@", 1)
            out[upgrade] = period
    return out
