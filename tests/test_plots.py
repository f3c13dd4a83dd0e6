"""The plan's pictures hold what the plan says: markers, sizes, colours, legends, bars.

``two_campuses`` (also used by ``test_report``) is solved by hand: 500 MW due in 2026H2, no
prices, no discounting, PUE 1.25 everywhere.

| campus | where | weather (max dry bulb) | cooling (M USD/MW) | building M USD/MW |
|---|---|---|---|---|
| b | Council Bluffs IA, zone z2 (midwest) | 15 °C | dry (0) or liq (0.1) | 1.0, max 300 MW |
| a | Amarillo TX, zone z1 (south) | 30 °C | liq only (dry: <= 25 °C) | 1.0, max 300 MW |
| a2 | Amarillo TX, beside a | 30 °C | liq | 2.0 |
| c | Ashburn VA, zone z1 | 30 °C | liq | 3.0 |

The cheapest MW are b's with dry cooling (1.0): all 300; the other 200 come from a with liquid
cooling (1.1). a2 and c stay closed. Objective 300 x 1.0 + 200 x 1.1 = 520 M USD; energy in
the half-year 500 MW x 1.25 x 4,380 h = 2,737,500 MWh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox
from PIL import Image

from optimizer.diff import diff_plans
from optimizer.plan import Plan
from optimizer.plots import (
    CANDIDATE_LABEL,
    DIFF_STYLE,
    MARKER_PT2_PER_MW,
    SMALL_MARKER_PT2_PER_MW,
    cost_figure,
    diff_map_figure,
    map_figure,
    period_figure,
    plot_map,
    ramp_figure,
    small_multiples_figure,
    state_outlines,
)
from tests.tiny import Tiny, cooling, flat_curve, site

AMARILLO = {"longitude_deg": -101.8, "latitude_deg": 35.2}


def two_campuses(folder: Path) -> Tiny:
    """The scenario of the module docstring."""
    tiny = Tiny(folder)
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": 500.0}
    tiny.zones = [
        {"zone_id": "z1", "name": "z1", "region": "south", "import_limit_mw": None},
        {"zone_id": "z2", "name": "z2", "region": "midwest", "import_limit_mw": None},
    ]
    tiny.sites = [
        site("a", max_it_mw=300.0, **AMARILLO),
        site("a2", building_capex_musd_per_mw=2.0, **AMARILLO),
        site(
            "b",
            max_it_mw=300.0,
            zone_id="z2",
            weather_id="w2",
            longitude_deg=-95.9,
            latitude_deg=41.3,
        ),
        site("c", building_capex_musd_per_mw=3.0, longitude_deg=-77.5, latitude_deg=39.0),
    ]
    tiny.cooling = [cooling("liq", capex_musd_per_mw=0.1), cooling("dry", max_dry_bulb_c=25.0)]
    tiny.curves = flat_curve("liq", 1.25) + flat_curve("dry", 1.25)
    tiny.price = tiny.carbon = {"z1": [0.0, 0.0], "z2": [0.0, 0.0]}
    tiny.dry_bulb = {"w1": [20.0, 30.0], "w2": [10.0, 15.0]}
    tiny.wet_bulb = {"w1": [15.0, 22.0], "w2": [8.0, 12.0]}
    return tiny


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    plan = two_campuses(tmp_path_factory.mktemp("plots")).solve()
    sites = plan.sites.set_index("site_id")
    assert plan.result.objective_musd == pytest.approx(520.0)
    assert sites.loc[["a", "b"], "it_mw"].tolist() == pytest.approx([200.0, 300.0])
    assert sites.loc[["a", "b"], "cooling"].tolist() == ["liq", "dry"]
    return plan


def test_map_draws_every_open_campus_sized_by_mw_on_state_outlines(plan: Plan) -> None:
    fig, markers = map_figure(plan)
    ax = fig.axes[0]
    assert ax.get_title() == "tiny: 2 campuses, 500 MW of IT by 2026H2"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("longitude (°)", "latitude (°)")
    outlines = state_outlines()
    assert len(outlines) == 56 and {"Texas", "Iowa", "Virginia"} <= set(outlines)
    states = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(states) == sum(len(rings) for rings in outlines.values())

    candidates, campuses = _scatters(ax)
    assert campuses.get_gid() == "campuses"
    # Largest first (smaller campuses drawn on top): b 300 MW, then a 200 MW.
    assert _offsets(campuses) == [[-95.9, 41.3], [-101.8, 35.2]]
    assert campuses.get_sizes().tolist() == pytest.approx([300 * MARKER_PT2_PER_MW, 120.0])
    colours = _faces(campuses)
    assert not np.allclose(colours[0], colours[1])  # dry and liq
    assert _offsets(candidates) == [[-101.8, 35.2], [-77.5, 39.0]]  # a2, c

    cooling_legend, size_legend = [a for a in ax.get_children() if isinstance(a, Legend)]
    assert cooling_legend.get_title().get_text() == "cooling"
    assert [t.get_text() for t in cooling_legend.get_texts()] == ["dry", "liq", CANDIDATE_LABEL]
    assert size_legend.get_title().get_text() == "final IT"
    assert [t.get_text() for t in size_legend.get_texts()] == ["50 MW", "100 MW", "250 MW"]
    sizes_pt = [h.get_markersize() for h in size_legend.legend_handles if isinstance(h, Line2D)]
    assert sizes_pt == pytest.approx(np.sqrt(MARKER_PT2_PER_MW * np.array([50, 100, 250])))

    labels = sorted(a.get_text() for a in ax.texts if isinstance(a, Annotation))
    assert labels == ["a 200 MW", "b 300 MW"]
    by_id = {m.site_id: m for m in markers}
    assert set(by_id) == {"a", "b"}
    # Pixels from the top left: Amarillo lies west (left) of and south (below) Council Bluffs.
    assert by_id["a"].x_px < by_id["b"].x_px and by_id["a"].y_px > by_id["b"].y_px
    assert by_id["b"].radius_px == pytest.approx(np.sqrt(180.0) / 2 * 100 / 72)
    assert "liq cooling" in by_id["a"].text and "200 MW IT" in by_id["a"].text


def test_map_marker_pixels_match_the_written_image(plan: Plan, tmp_path: Path) -> None:
    """The hover areas of the report sit on the markers: the pixel under each marker centre
    in the PNG has the marker's colour, not the state fill."""
    path = plot_map(plan, tmp_path / "map.png")
    _, markers = map_figure(plan)
    image = Image.open(path).convert("RGB")
    assert image.size == (1000, 620)
    for m in markers:
        r, g, b = image.getpixel((round(m.x_px), round(m.y_px)))  # type: ignore[misc]
        assert (r, g, b) != (243, 243, 240) and max(r, g, b) - min(r, g, b) > 40, m.site_id


def test_ramp_stacks_regions_against_the_target(plan: Plan) -> None:
    ax = ramp_figure(plan).axes[0]
    assert _legend_texts(ax) == ["target", "midwest", "south"]
    heights = [p.get_height() for p in _bars(ax)]
    assert heights == pytest.approx([300.0, 200.0])
    assert ax.get_ylabel() == "IT MW online"


def test_cost_waterfall_ends_at_the_objective(plan: Plan) -> None:
    ax = cost_figure(plan).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["building", "cooling", "total"]
    building, cooling_, total = _bars(ax)
    assert (building.get_height(), cooling_.get_height()) == pytest.approx((500.0, 20.0))
    assert cooling_.get_y() == pytest.approx(500.0)  # starts where building ends
    assert total.get_height() == pytest.approx(520.0)


def test_period_panels_show_energy_water_carbon(plan: Plan) -> None:
    axes = period_figure(plan).axes
    titles = [ax.get_title() for ax in axes]
    assert titles == ["energy, GWh", "water, 1000 m³", "emissions, kt CO2e"]
    (energy,) = _bars(axes[0])
    assert energy.get_height() == pytest.approx(2737.5)
    assert [p.get_height() for ax in axes[1:] for p in _bars(ax)] == pytest.approx([0.0, 0.0])


@pytest.fixture(scope="module")
def dearer_b(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """``two_campuses`` with b's building at 5.0 M USD/MW: a 300 MW (1.1) and a2 200 MW (2.1)
    beat c (3.1) and b (5.0): 330 + 420 = 750 M USD. Against the first plan a is resized
    200 -> 300 MW, a2 added, b dropped."""
    tiny = two_campuses(tmp_path_factory.mktemp("dearer"))
    tiny.sites[2]["building_capex_musd_per_mw"] = 5.0
    plan = tiny.solve()
    assert plan.result.objective_musd == pytest.approx(750.0)
    return plan


def test_small_multiples_draw_each_plan_with_shared_colours(plan: Plan, dearer_b: Plan) -> None:
    fig = small_multiples_figure([plan, dearer_b], ["first", "b dearer"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "first\n2 campuses, 500 MW",
        "b dearer\n2 campuses, 500 MW",
    ]
    colour_of: dict[str, tuple[float, ...]] = {}
    for ax, p in zip(axes, [plan, dearer_b], strict=True):
        candidates, campuses = _scatters(ax)
        assert campuses.get_gid() == "campuses"
        opened = p.sites[p.sites["open"]].sort_values("it_mw", ascending=False)
        assert len(_offsets(campuses)) == len(opened)
        assert campuses.get_sizes().tolist() == pytest.approx(
            (SMALL_MARKER_PT2_PER_MW * opened["it_mw"]).tolist()
        )
        assert len(_offsets(candidates)) == len(p.sites) - len(opened)
        for tech, face in zip(opened["cooling"], _faces(campuses), strict=True):
            assert np.allclose(colour_of.setdefault(tech, tuple(face)), face)  # same in each panel
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["dry", "liq", CANDIDATE_LABEL]


def test_diff_map_marks_added_dropped_and_resized_campuses(plan: Plan, dearer_b: Plan) -> None:
    diff = diff_plans(plan, dearer_b)
    assert sorted((c.site_id, c.change) for c in diff.campuses) == [
        ("a", "resized"),
        ("a2", "added"),
        ("b", "dropped"),
    ]
    ax = diff_map_figure(plan, dearer_b, diff, title="b dearer").axes[0]
    assert ax.get_title() == "b dearer: 3 campuses changed, NPV +230 M USD"
    drawn = {c.get_gid(): c for c in _scatters(ax)}
    assert set(drawn) == {"diff-added", "diff-dropped", "diff-resized"}
    assert _offsets(drawn["diff-added"]) == [[-101.8, 35.2]]  # a2
    assert _offsets(drawn["diff-dropped"]) == [[-95.9, 41.3]]  # b
    assert drawn["diff-dropped"].get_sizes().tolist() == pytest.approx([300 * MARKER_PT2_PER_MW])
    assert drawn["diff-resized"].get_sizes().tolist() == pytest.approx([300 * MARKER_PT2_PER_MW])
    assert not _faces(drawn["diff-dropped"]).any()  # an empty ring
    assert _legend_texts(ax) == ["added (1)", "dropped (1)", "resized (1)"]
    assert list(DIFF_STYLE)[:3] == ["added", "dropped", "resized"]
    lines = sorted(line for a in ax.texts for line in a.get_text().split("\n"))
    assert lines == ["a 200→300 MW", "a2 0→200 MW", "b 300→0 MW"]


def crowded(folder: Path) -> Tiny:
    """The default plan's crowded south: Dallas-Fort Worth (two campuses at one point),
    Abilene, Midland, Richland Parish LA (two) and Jackson MS at their default sizes, every
    one needed for the 3,800 MW target."""
    tiny = Tiny(folder)
    where = {
        "dfw": (-97.017, 32.9, 500.0),
        "dfw_2": (-97.017, 32.9, 300.0),
        "abilene": (-99.71, 32.47, 600.0),
        "midland": (-102.183, 31.95, 800.0),
        "richland": (-92.033, 32.517, 1100.0),
        "richland_2": (-92.033, 32.517, 300.0),
        "jackson": (-90.083, 32.317, 200.0),
    }
    tiny.sites = [
        site(s, longitude_deg=lon, latitude_deg=lat, max_it_mw=mw)
        for s, (lon, lat, mw) in where.items()
    ]
    tiny.portfolio["target_it_mw_by_period"] = {"2026H2": sum(w[2] for w in where.values())}
    return tiny


def test_map_labels_cover_no_marker_and_no_other_label(tmp_path: Path) -> None:
    """The default map's Dallas label ran over the Richland Parish (Louisiana) marker: every
    label now sits where it covers no marker and no other label."""
    fig, markers = map_figure(crowded(tmp_path).solve())
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    labels = [a for a in ax.texts if isinstance(a, Annotation)]
    assert len(labels) == 5  # two pairs share a point
    height = fig.get_figheight() * fig.dpi
    boxes = [a.get_window_extent(renderer) for a in labels]
    for m in markers:
        r = m.radius_px - 1
        marker = Bbox.from_bounds(m.x_px - r, height - m.y_px - r, 2 * r, 2 * r)
        assert not any(b.overlaps(marker) for b in boxes), m.site_id
    for i, b in enumerate(boxes):
        assert not any(b.overlaps(o) for o in boxes[i + 1 :]), labels[i].get_text()
        assert ax.get_window_extent(renderer).contains(b.x0, b.y0)


def _scatters(ax: Axes) -> list[PathCollection]:
    collections = list(ax.collections)
    assert all(isinstance(c, PathCollection) for c in collections)
    return [c for c in collections if isinstance(c, PathCollection)]


def _offsets(collection: PathCollection) -> list[list[float]]:
    return np.asarray(collection.get_offsets()).tolist()


def _faces(collection: PathCollection) -> np.ndarray:
    """RGBA of each marker's face (none: an empty array)."""
    return np.asarray(collection.get_facecolor(), dtype=float)


def _bars(ax: Axes) -> list[Rectangle]:
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(ax.patches)
    return bars


def _legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]
