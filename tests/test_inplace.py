"""In-place updates of the live HiGHS model (:class:`optimizer.solver.ReusableHighs`): a model
that differs from the live one only in coefficients is solved on the same HiGHS instance with
the same result as a rebuild; a structural change rebuilds."""

from __future__ import annotations

from pathlib import Path

from optimizer import load_scenario, solve
from optimizer.replan import Session, reoptimize
from tests.test_reoptimize import it_by_site, three_periods
from tests.tiny import EXACT, Tiny, site


def it_mw(plan: object) -> dict[str, float]:
    frame = plan.dataset["it_mw"].to_pandas()  # type: ignore[attr-defined]
    return {str(s): float(row.sum()) for s, row in frame.iterrows()}


def two_sites(tmp_path: Path) -> Tiny:
    """One period (half a year), 100 MW due; a: building 1 M USD/MW, b: 1.2, both up to
    1,000 MW; zone z1 at 10 and 12 USD/MWh (two hours of 4,380 h), PUE 1.25, no discounting:
    energy 4,380 x 1.25 x (10 + 12) / 2 = 60,225 USD per MW IT in the period.

    Base: a 100 MW, 100 + 6.0225 = 106.0225 M USD. Then, one change on top of the other:
    a's building at 1.5 M USD/MW: b 100 MW, 120 + 6.0225 = 126.0225; prices x3: b,
    120 + 18.0675 = 138.0675; target 250 MW: b 250 MW, 300 + 45.16875 = 345.16875; b at most
    200 MW: b 200 (240) and a 50 (75), 315 + 45.16875 = 360.16875."""
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a"), site("b", building_capex_musd_per_mw=1.2)]
    tiny.price = {"z1": [10.0, 12.0]}
    return tiny


def test_coefficient_changes_update_the_live_model_as_a_rebuild_would(tmp_path: Path) -> None:
    tiny = two_sites(tmp_path)
    session = Session()
    base = session.solve(load_scenario(tiny.write("base")), EXACT)
    live = session.highs.live
    assert session.builds == 1 and session.updates == 0
    assert it_mw(base) == {"a": 100.0, "b": 0.0}
    assert base.result.objective_musd is not None
    assert round(base.result.objective_musd, 6) == 106.0225

    def change(name: str) -> tuple[object, object]:
        scenario = load_scenario(tiny.write(name))
        return session.solve(scenario, EXACT), solve(scenario, EXACT)

    tiny.sites[0]["building_capex_musd_per_mw"] = 1.5  # a cost: b wins
    dearer, rebuilt = change("capex")
    assert it_mw(dearer) == it_mw(rebuilt) == {"a": 0.0, "b": 100.0}
    assert session.highs.changed["costs"] > 0
    tiny.price = {"z1": [30.0, 36.0]}  # prices x3
    priced, rebuilt_priced = change("prices")
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 250.0}  # a target
    bigger, rebuilt_bigger = change("target")
    assert session.highs.changed["row_bounds"] > 0
    tiny.sites[1]["max_it_mw"] = 200.0  # a limit: b holds 200, a the other 50
    limited, rebuilt_limited = change("limit")
    assert it_mw(limited) == {"a": 50.0, "b": 200.0}

    objectives = [p.result.objective_musd for p in (dearer, priced, bigger, limited)]  # type: ignore[attr-defined]
    assert [round(x, 6) for x in objectives] == [126.0225, 138.0675, 345.16875, 360.16875]
    for in_place, fresh in (
        (dearer, rebuilt),
        (priced, rebuilt_priced),
        (bigger, rebuilt_bigger),
        (limited, rebuilt_limited),
    ):
        assert in_place.result.objective_musd == fresh.result.objective_musd  # type: ignore[attr-defined]
        assert it_mw(in_place) == it_mw(fresh)
        assert in_place.status == "optimal"  # type: ignore[attr-defined]
    assert session.builds == 1 and session.updates == 4
    assert session.highs.live is live  # the same HiGHS model throughout


def test_structural_change_rebuilds(tmp_path: Path) -> None:
    """A third campus adds columns: the session builds a new HiGHS model, with the rebuild's
    result (c at 0.9 M USD/MW is now the cheapest). Back to two campuses (a dearer), the
    first model (kept by its structure) is updated in place: b 100 MW."""
    tiny = two_sites(tmp_path)
    session = Session()
    session.solve(load_scenario(tiny.write("base")), EXACT)
    first = session.highs.live
    tiny.sites.append(site("c", building_capex_musd_per_mw=0.9))
    scenario = load_scenario(tiny.write("three"))
    grown = session.solve(scenario, EXACT)
    assert session.builds == 2 and session.updates == 0
    assert session.highs.live is not first
    assert it_mw(grown) == {"a": 0.0, "b": 0.0, "c": 100.0}
    assert grown.result.objective_musd == solve(scenario, EXACT).result.objective_musd

    tiny.sites.pop()
    tiny.sites[0]["building_capex_musd_per_mw"] = 1.5
    back = session.solve(load_scenario(tiny.write("two-again")), EXACT)
    assert session.builds == 2 and session.updates == 1  # the two-campus model, kept
    assert session.highs.live is first
    assert it_mw(back) == {"a": 0.0, "b": 100.0}


def test_session_replans_in_place(tmp_path: Path) -> None:
    """The re-plans of tests/test_reoptimize.py's first test, one after the other in a session:
    a's building at 3, then at 2.5 M USD/MW, committed through 2026H2. The second re-plan's
    model differs only in coefficients: updated in place, with :func:`reoptimize`'s result.
    At 2.5: a 100 (forced) + c's 50 + 120 + 120 = 540 (a again: 250 > c's 120, b 150)."""
    tiny = three_periods(tmp_path)
    previous = tiny.solve("before")
    session = Session()
    tiny.sites[0]["building_capex_musd_per_mw"] = 3.0
    first = session.reoptimize(load_scenario(tiny.write("at3")), previous, "2026H2", EXACT)
    assert first.result.objective_musd == 590.0
    tiny.sites[0]["building_capex_musd_per_mw"] = 2.5
    scenario = load_scenario(tiny.write("at25"))
    second = session.reoptimize(scenario, previous, "2026H2", EXACT)
    alone = reoptimize(scenario, previous, "2026H2", EXACT)
    assert session.builds == 1 and session.updates == 1
    assert second.result.objective_musd == alone.result.objective_musd == 540.0
    assert it_by_site(second) == it_by_site(alone)
    assert second.result.start_objective_musd == alone.result.start_objective_musd
