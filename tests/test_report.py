"""``gridsite report``: one self-contained HTML page per plan, checked as a parser and a real
browser (Debian's chromium, driven by Playwright) see it.

The solved case is ``two_campuses`` of ``test_plots`` (hand-solved there: b 300 MW dry, a 200
MW liquid, 520 M USD); the infeasible one is ``test_cli``'s: 100 MW of headroom carries 80 MW
of IT at PUE 1.25, 20 MW short of the 100 MW target.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from tests.browser import chromium, need_chromium
from tests.test_plots import two_campuses
from tests.tiny import Tiny, site

runner = CliRunner()


class Page(HTMLParser):
    """What the page holds: every src/href, the rows of each table by id, the hover areas."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.rows: dict[str, int] = {}
        self.areas: list[str] = []
        self.images = 0
        self._table: list[str] = []
        self._in_thead = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.links += [(tag, k, a[k]) for k in ("src", "href") if k in a]
        self.images += tag == "img"
        if tag == "table":
            self._table.append(a.get("id", ""))
            self.rows[a.get("id", "")] = 0
        self._in_thead |= tag == "thead"
        if tag == "tr" and self._table and not self._in_thead:
            self.rows[self._table[-1]] += 1
        if tag == "area":
            self.areas.append(a["title"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table.pop()
        self._in_thead &= tag != "thead"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The solved two-campus plan written by ``solve --marginals --report``."""
    folder = tmp_path_factory.mktemp("report")
    scenario = two_campuses(folder).write()
    out = folder / "plan"
    result = runner.invoke(
        app, ["solve", str(scenario), "--out", str(out), "--marginals", "--report"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_solve_report_writes_a_self_contained_page_beside_the_plan(plan_dir: Path) -> None:
    html = (plan_dir / "report.html").read_text()
    page = Page(html)
    assert page.links and all(
        value.startswith("data:image/png;base64,") for _, _, value in page.links
    )
    assert page.images == 4  # map, ramp, cost, energy/water/carbon
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert "<h1>tiny</h1>" in html and "opens 2 campuses with 500 MW of IT by 2026H2" in html
    assert "520.0 M USD" in html  # objective
    assert page.rows["campuses"] == 2 and page.rows["solver"] == 6
    assert page.rows["marginals"] >= 1
    assert [t.split("\n")[0] for t in page.areas] == ["a (a)", "b (b)"]
    assert "opens 2026H2; 300 MW IT" in page.areas[1]


def test_report_command_rewrites_the_page_from_the_plan_files(plan_dir: Path) -> None:
    out = plan_dir.parent / "elsewhere" / "r.html"
    result = runner.invoke(app, ["report", str(plan_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == (plan_dir / "report.html").read_text()


def test_report_of_an_infeasible_plan_shows_the_diagnosis(tmp_path: Path) -> None:
    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=100.0)]
    out = tmp_path / "o"
    result = runner.invoke(app, ["solve", str(tiny.write()), "--out", str(out), "--report"])
    assert result.exit_code == 3
    html = (out / "report.html").read_text()
    page = Page(html)
    assert page.images == 0 and "campuses" not in page.rows
    assert 'class="status infeasible"' in html
    assert "at most 80 MW can be energized - short 20 MW" in html
    diagnosis = json.loads((out / "diagnosis.json").read_text())
    assert page.rows["relaxations"] == len(diagnosis["relaxations"]) + 1  # + header


def test_report_of_a_folder_without_a_plan_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a readable plan folder" in result.output
    assert list(tmp_path.iterdir()) == []


def test_report_in_headless_chromium(plan_dir: Path, tmp_path: Path) -> None:
    """Loads from file:// with no network: no console error, no failed request, every image
    decoded, one campus row per open campus, nothing wider than the window; the screenshot is
    kept as an artifact."""
    need_chromium()
    with chromium(tmp_path / "profile") as browsed:
        page = browsed.page
        page.goto((plan_dir / "report.html").as_uri(), wait_until="load")
        sizes = page.evaluate(
            "[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        rows = page.locator("#campuses tbody tr").count()
        width_px = page.evaluate("document.documentElement.scrollWidth")
        titles = page.locator("map[name=campuses] area").evaluate_all(
            "areas => areas.map(a => a.title)"
        )
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert browsed.errors == [] and browsed.failed == [] and browsed.refused == []
    assert len(sizes) == 4 and all(ok and w > 0 and h > 0 for ok, w, h in sizes), sizes
    assert rows == 2 and len(titles) == 2
    assert width_px <= 1200  # no sideways scrolling on a 1200 px wide window
    assert (tmp_path / "report.png").stat().st_size > 10_000
