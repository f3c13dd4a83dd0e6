"""``notebooks/03_sensitivity.ipynb`` runs top to bottom in a Jupyter kernel (its sweep on a
real Dask LocalCluster of 2 workers), and the answer it prints matches the sweep's files
(``results.parquet``, each case's ``sites.csv``, ``robustness.csv``) and the base plan's
``marginal_values.csv``, recomputed here from those files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer import DEFAULT_SCENARIO
from tests.test_notebooks import figures, number, run_notebook

NOTEBOOK = "03_sensitivity.ipynb"


def test_sensitivity_answer_matches_the_sweep_files(tmp_path: Path) -> None:
    code, answer = run_notebook(NOTEBOOK, tmp_path)
    assert figures(code) == 1  # share of cases each campus opens in
    out = tmp_path / "out" / "sensitivity"
    table = pd.read_parquet(out / "sweep" / "results.parquet")
    solved = table[table["status"].isin(["optimal", "feasible"])]
    assert len(table) == 6 and (solved["audit"] == "ok").all()
    assert answer["cases"] == (
        f"{len(table)} (solved {len(solved)}, failed {(table['status'] == 'failed').sum()})"
    )
    low, high = answer["NPV M USD range"].split(" - ")
    assert number(low) == pytest.approx(solved["npv_musd"].min(), abs=0.05)
    assert number(high) == pytest.approx(solved["npv_musd"].max(), abs=0.05)

    # Which campuses open in how many cases, from each case's own plan folder.
    opens: dict[str, int] = {}
    for case_id in solved["case_id"]:
        sites = pd.read_csv(out / "sweep" / "cases" / case_id / "sites.csv", keep_default_na=False)
        for s in sites.loc[sites["open"], "site_id"]:
            opens[s] = opens.get(s, 0) + 1
    robust = sorted(s for s, n in opens.items() if n == len(solved))
    fragile = sorted(s for s, n in opens.items() if n / len(solved) < 0.5)
    assert robust, "the default keeps some campuses in every case"
    assert sorted(_names(answer["robust campuses"])) == robust
    assert sorted(_names(answer["fragile campuses"])) == fragile
    summary = pd.read_csv(out / "sweep" / "robustness.csv").set_index("site_id")
    assert summary["cases_open"].to_dict() == opens

    values = pd.read_csv(out / "base" / "marginal_values.csv")
    headroom = values[values["kind"] == "headroom"].groupby("subject")["value"].sum()
    headroom = headroom.sort_values(ascending=False)
    printed = answer["headroom value top 3 USD/MW"].split(", ")
    assert [p.rsplit(" ", 1)[0] for p in printed] == headroom.index[:3].tolist()
    assert [number(p.rsplit(" ", 1)[1]) for p in printed] == pytest.approx(
        headroom.iloc[:3].tolist(), abs=0.5
    )

    upgrades = pd.read_csv(DEFAULT_SCENARIO / "upgrades.csv")
    upgrades["usd_per_mw"] = upgrades["capex_musd"] * 1e6 / upgrades["added_mw"]
    cheapest = upgrades.sort_values("usd_per_mw").groupby("site_id").first()
    ratio = (headroom / cheapest["usd_per_mw"]).dropna().sort_values(ascending=False)
    site, rest = answer["upgrade paying off most"].split(" ", 1)
    upgrade, times = rest.removesuffix(" x its cost per MW)").split(" (")
    assert site == ratio.index[0] and upgrade == cheapest.loc[site, "upgrade_id"]
    assert number(times) == pytest.approx(ratio.iloc[0], abs=0.005)


def _names(text: str) -> list[str]:
    return [] if text == "none" else text.split(", ")
