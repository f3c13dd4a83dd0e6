"""The service's page for people, over real HTTP: ``gridsite serve`` in a subprocess (uvicorn
on 127.0.0.1, a SQLite job store, a local Dask cluster with one worker process), read by
httpx for the sign-in and refusal rules and by headless Debian chromium (Playwright) for the
pages themselves.

The tiny scenario (tests/tiny.py defaults): one campus, 100 MW due in 2026H2, building at
1 M USD/MW, free energy and cooling, no discounting: the optimum builds exactly 100 MW for
100 M USD, so every solve's incumbent and best bound end at 100 M USD.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from optimizer import DEFAULT_SCENARIO
from optimizer.cli import app
from optimizer.client import zip_folder
from optimizer.service.store import Store, sqlite_url
from optimizer.service.web import COOKIE
from tests.browser import chromium, have_chromium, need_chromium
from tests.service_fixtures import Server, served
from tests.tiny import Tiny

TOKEN = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served(tmp_path_factory.mktemp("web"), "--lease", "5") as running:
        yield running


def _token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def test_sign_in_sets_an_httponly_strict_cookie_and_only_for_a_valid_key(server: Server) -> None:
    with server.http() as web:
        page = web.get("/signin")
        assert page.status_code == 200 and 'type="password"' in page.text
        assert "nonce-" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        wrong = web.post("/signin", data={"key": "gsk_nope_nope", "next": "/"})
        assert wrong.status_code == 401 and "not a valid API key" in wrong.text
        assert "set-cookie" not in wrong.headers
        signed = web.post("/signin", data={"key": f" {server.key} ", "next": "/jobs/x?y=1"})
    assert signed.status_code == 303 and signed.headers["location"] == "/jobs/x?y=1"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={server.key};")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/", "max-age=43200"} <= flags
    assert "secure" not in flags  # plain http on loopback; set over https
    assert server.key not in signed.headers["location"]
    for origin in ("http://evil.example", "null"):  # a login CSRF from another site
        with server.http(origin=origin) as elsewhere:
            refused = elsewhere.post("/signin", data={"key": server.key})
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    no_origin = httpx.post(f"{server.url}/signin", data={"key": server.key})
    assert no_origin.status_code == 403
    with server.http() as web:  # another site's address to go to after signing in
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil"):
            answer = web.post("/signin", data={"key": server.key, "next": target})
            assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_pages_refuse_without_a_key_and_answer_404_for_another_keys_job(
    server: Server,
) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)
        job = gs.wait(gs.submit(scenario["id"], "solve", {"mip_gap_frac": 0.0})["id"])
    assert job["state"] == "succeeded", job
    job_id = job["id"]
    paths = [f"/jobs/{job_id}", f"/jobs/{job_id}/report", f"/jobs/{job_id}/files/sites.csv"]

    with server.http() as anonymous:  # no cookie: to the sign-in page, nothing shown
        for path in ["/", *paths]:
            answer = anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/signin?next=%2F"), path
        assert anonymous.get("/jobs/table").status_code == 401
        signed_out_form = anonymous.post("/jobs", data={"scenario_id": scenario["id"]})
        assert signed_out_form.headers["location"] == "/signin?next=%2F"
        assert anonymous.get(f"/jobs/{job_id}/events").status_code == 401
        with server.http(server.key.replace(server.key[-4:], "AAAA")) as forged:
            assert forged.get("/").status_code == 303  # a wrong secret is no session

    with server.http(server.key) as mine:
        listed = mine.get("/")
        assert listed.status_code == 200 and f'id="job-{job_id}"' in listed.text
        assert f'id="job-{job_id}"' in mine.get("/jobs/table").text
        page = mine.get(f"/jobs/{job_id}")
        assert page.status_code == 200 and 'data-state="' in page.text
        report = mine.get(f"/jobs/{job_id}/report")
        assert report.status_code == 200 and "<h1>tiny</h1>" in report.text
        policy = report.headers["content-security-policy"]  # no script may run in it
        assert policy.startswith("default-src 'none';") and "script-src" not in policy
        csv = mine.get(f"/jobs/{job_id}/files/sites.csv")
        assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
        assert mine.get(f"/jobs/{job_id}/files/..%2Fgridsite.db").status_code == 404
        mine_token = _token(page.text)
        # the cookie is a credential of the pages only, never of the API
        assert mine.get("/v1/jobs").status_code == 401

    with server.http(server.other_key) as theirs:
        listed = theirs.get("/")
        assert listed.status_code == 200 and job_id not in listed.text
        theirs_token = _token(listed.text)
        for path in paths:
            answer = theirs.get(path)
            assert answer.status_code == 404 and "not found" in answer.text, path
            assert server.key not in answer.text
        assert theirs.get(f"/jobs/{job_id}/events").status_code == 404
        cancel = theirs.post(f"/jobs/{job_id}/cancel", data={"csrf": theirs_token})
        assert cancel.status_code == 404
        form = {"csrf": theirs_token, "scenario_id": scenario["id"]}
        submitted = theirs.post("/jobs", data=form)
        assert submitted.status_code == 422 and f"scenario {scenario['id']} not found" in (
            submitted.text
        )

    cancel_url = f"/jobs/{job_id}/cancel"  # deletes a finished job: must not be forgeable
    with server.http(server.key) as mine:
        assert mine.post(cancel_url, data={}).status_code == 403
        assert mine.post(cancel_url, data={"csrf": theirs_token}).status_code == 403
    with server.http(server.key, origin="http://evil.example") as cross_site:
        assert cross_site.post(cancel_url, data={"csrf": mine_token}).status_code == 403
    with server.client() as gs:
        assert gs.job(job_id)["state"] == "succeeded"  # still there

    revoked = CliRunner().invoke(
        app,
        ["keys", "revoke", server.other_key.split("_")[1], "--artifacts", str(server.artifacts)],
    )
    assert revoked.exit_code == 0, revoked.output
    with server.http(server.other_key) as theirs:
        assert theirs.get("/").status_code == 303  # signed out at once


def test_the_form_refuses_a_bad_upload_clearly_and_keeps_nothing(server: Server) -> None:
    with server.http(server.key) as mine:
        token = _token(mine.get("/").text)
        before = sorted((server.artifacts / "scenarios").iterdir())
        answer = mine.post(
            "/jobs",
            data={"csrf": token},
            files={"file": ("s.zip", b"PK\x03\x04 not a zip", "application/zip")},
        )
        assert answer.status_code == 400 and "the upload is not a zip file" in answer.text
        bad_gap = mine.post(
            "/jobs",
            data={"csrf": token, "mip_gap_pct": "lots"},
            files={"file": ("s.zip", zip_folder(server.scenario), "application/zip")},
        )
        assert bad_gap.status_code == 422
        assert "MIP gap %: &#39;lots&#39; is not a number" in bad_gap.text
        nothing = mine.post("/jobs", data={"csrf": token})
        assert nothing.status_code == 422 and "choose a stored scenario" in nothing.text
    assert list((server.artifacts / "uploads").iterdir()) == []
    assert sorted((server.artifacts / "scenarios").iterdir()) == before


def test_the_form_sent_twice_makes_one_job(server: Server) -> None:
    with server.client() as gs:
        scenario = gs.upload(server.scenario)["id"]
        before = len(gs.jobs(limit=500))
    with server.http(server.key) as mine:
        page = mine.get("/").text
        once_token = re.search(r'name="submit_token" value="([0-9a-f]{32})"', page)
        assert once_token
        form = {
            "csrf": _token(page),
            "submit_token": once_token.group(1),
            "scenario_id": scenario,
            "mip_gap_pct": "0.5",
            "time_limit_s": "60",
        }
        first, again = mine.post("/jobs", data=form), mine.post("/jobs", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    job_id = first.headers["location"].removeprefix("/jobs/")
    with server.client() as gs:
        job = gs.wait(job_id, timeout_s=120)
        assert job["options"]["mip_gap_frac"] == pytest.approx(0.005)
        assert job["options"]["time_limit_s"] == 60.0
        assert job["state"] == "succeeded", job
        assert len(gs.jobs(limit=500)) == before + 1


def test_the_pages_in_headless_chromium(server: Server, tmp_path: Path) -> None:
    """Sign in, upload the tiny scenario and solve it through the form, follow the job to
    "succeeded" with its gap curve and its report (map decoded), see a job submitted by the
    client appear in the list by itself; no console error, no failed request. Screenshots
    are kept as artifacts (``tmp_path``)."""
    need_chromium()
    archive = tmp_path / "tiny.zip"
    archive.write_bytes(zip_folder(server.scenario))
    with chromium(tmp_path / "profile") as browsed:
        page, browser = browsed.page, browsed.context

        page.goto(f"{server.url}/", wait_until="load")
        assert page.url == f"{server.url}/signin?next=%2F"
        page.fill("#key", server.key)
        page.click("#signin button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        assert browser.cookies()[0]["httpOnly"] and browser.cookies()[0]["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # invisible to scripts

        page.set_input_files("#file", str(archive))
        page.fill("#mip_gap_pct", "0")
        page.click("#submit button[type=submit]")
        page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{16}$"))
        job_id = page.url.rsplit("/", 1)[1]
        first_state = page.locator("#state").text_content()
        page.evaluate("window.stillThisPage = true")
        page.wait_for_selector("#state.succeeded", timeout=120_000)
        assert page.evaluate("window.stillThisPage === true")  # followed live, no reload
        page.wait_for_selector("#report")
        curve = {
            name: page.locator(f"#curve path.series.{name}").get_attribute("data-n")
            for name in ("incumbent", "bound")
        }
        assert curve["incumbent"] and int(curve["incumbent"]) >= 1, curve
        assert curve["bound"] and int(curve["bound"]) >= 1, curve
        assert page.locator("#curve-gap").text_content() == "gap 0.00 %"
        frame = page.frame_locator("#report")
        sizes = frame.locator("img").evaluate_all(
            "images => images.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        assert frame.locator("h1").text_content() == "tiny"
        page.screenshot(path=str(tmp_path / "job.png"), full_page=True)

        page.goto(f"{server.url}/", wait_until="load")
        with server.client() as gs:  # a job from elsewhere shows up without a reload
            scenario = gs.upload(server.scenario)
            other = gs.submit(scenario["id"], "solve", {"mip_gap_frac": 0.0})["id"]
        page.wait_for_selector(f"#job-{other}[data-state=succeeded]", timeout=120_000)
        row = page.locator(f"#job-{job_id} td").all_text_contents()
        page.screenshot(path=str(tmp_path / "jobs.png"), full_page=True)

        page.click("#signout")
        page.wait_for_url(f"{server.url}/signin")
        page.goto(f"{server.url}/jobs/{job_id}", wait_until="load")
        assert page.url.startswith(f"{server.url}/signin?next=")

    # a fetch of the list cut short by leaving the page is the browser's, not a failure
    failed = [f for f in browsed.failed if not f.endswith("/jobs/table net::ERR_ABORTED")]
    assert browsed.errors == [] and failed == [] and browsed.refused == []
    assert first_state in ("queued", "running")
    assert sizes and all(ok and w > 0 and h > 0 for ok, w, h in sizes), sizes
    assert row[:4] == [job_id, "succeeded", "solve", "tiny"] and row[4] == "0.00 %", row
    assert row[-1] == "1"  # attempts
    with server.client() as gs:
        done = gs.job(job_id)
    assert done["result"]["objective_musd"] == pytest.approx(100.0)
    assert done["options"]["mip_gap_frac"] == 0.0
    for shot in ("job.png", "jobs.png"):
        assert (tmp_path / shot).stat().st_size > 10_000


def test_a_running_solve_draws_its_live_gap_curve_and_is_cancelled_from_its_page(
    server: Server, tmp_path: Path
) -> None:
    """The default scenario to a zero gap runs long: the page draws HiGHS's incumbent and
    bound as they arrive, keeps them across the reload the cancel button makes, and shows the
    report of the best plan so far once the solve is interrupted."""
    need_chromium()
    with server.client() as gs:
        scenario = gs.upload(DEFAULT_SCENARIO)["id"]
        options = {"mip_gap_frac": 0.0, "time_limit_s": 600, "plots": False}
        job_id = gs.submit(scenario, "solve", options)["id"]
    cookie = {"name": COOKIE, "value": server.key, "url": server.url}
    with chromium(tmp_path / "profile", [cookie]) as browsed:
        page = browsed.page
        page.goto(f"{server.url}/jobs/{job_id}", wait_until="load")
        # three incumbent updates drawn (the page's CSP forbids a string predicate: no eval)
        page.wait_for_selector("#curve circle.point.incumbent >> nth=2", timeout=180_000)
        live = _curve(page)
        page.click("#cancel button")  # a form post: the page reloads
        page.wait_for_selector("#state.cancelled", timeout=120_000)
        page.wait_for_selector("#report")
        after = _curve(page)
        sizes = (
            page.frame_locator("#report")
            .locator("img")
            .evaluate_all(
                "images => images.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
        )
        page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
    # the reload of the cancel form ends the stream the page was following
    ended = f"{server.url}/jobs/{job_id}/events net::ERR_ABORTED"
    assert browsed.errors == [] and [f for f in browsed.failed if f != ended] == []
    for series in (live, after):
        assert series["incumbent"] and series["bound"]
        seconds = [s for s, _ in series["incumbent"]]
        assert seconds == sorted(seconds)
    assert len({s for s, _ in live["incumbent"]}) >= 3  # three updates seen live
    assert set(live["incumbent"]) <= set(after["incumbent"])  # kept across the reload
    with server.client() as gs:
        done = gs.job(job_id)
    assert done["state"] == "cancelled" and done["result"]["termination"] == "interrupted"
    final_incumbent, final_bound = after["incumbent"][-1][1], after["bound"][-1][1]
    assert final_incumbent == pytest.approx(done["result"]["objective_musd"])
    assert final_bound == pytest.approx(done["result"]["best_bound_musd"])
    assert all(b <= final_incumbent + 1e-6 for _, b in after["bound"])
    assert sizes and all(ok and w > 0 and h > 0 for ok, w, h in sizes), sizes


def _curve(page: Any) -> dict[str, list[tuple[float, float]]]:
    """The drawn points of each series: (seconds since the start, M USD)."""
    return {
        name: [
            (float(s), float(v))
            for s, v in page.locator(f"#curve circle.point.{name}").evaluate_all(
                "points => points.map(p => [p.dataset.s, p.dataset.musd])"
            )
        ]
        for name in ("incumbent", "bound")
    }


def test_a_viewer_arriving_after_the_solve_sees_its_whole_gap_curve(
    server: Server, tmp_path: Path
) -> None:
    """Nobody watches the default scenario's solve; afterwards the API's progress history
    has each incumbent and bound HiGHS reported (in time order, the last one the job's
    latest progress), and the job page, opened by a new viewer, draws all of them."""
    with server.client() as gs:
        scenario = gs.upload(DEFAULT_SCENARIO)["id"]
        options = {"mip_gap_frac": 0.0, "time_limit_s": 15, "plots": False}  # 15 s of reports
        done = gs.wait(gs.submit(scenario, "solve", options)["id"], timeout_s=300)
        assert done["state"] == "succeeded", done
        history = gs.progress(done["id"])
    theirs = {"Authorization": f"Bearer {_fresh_key(server)}"}
    answer = httpx.get(f"{server.url}/v1/jobs/{done['id']}/progress", headers=theirs)
    assert answer.status_code == 404  # another key's job
    assert len(history) >= 2, history
    assert {p["attempt"] for p in history} == {1}
    assert [p["at"] for p in history] == sorted(p["at"] for p in history)
    assert done["started_at"] <= history[0]["at"] and history[-1]["at"] <= done["finished_at"]
    last = history[-1]
    latest = done["progress"]
    assert (last["incumbent_musd"], last["best_bound_musd"], last["gap_frac"]) == (
        latest["incumbent_musd"],
        latest["best_bound_musd"],
        latest["gap_frac"],
    )
    with server.http(server.key) as web:
        page = web.get(f"/jobs/{done['id']}")
    assert page.status_code == 200
    found = re.search(r'data-state="([^"]*)"', page.text)
    assert found, "no job state in the page"
    state = json.loads(html.unescape(found.group(1)))
    drawn = {p["t"] for p in state["points"]}
    recorded = {datetime.fromisoformat(p["at"]).timestamp() for p in history}
    assert all(any(abs(t - r) < 0.001 for t in drawn) for r in recorded), (drawn, recorded)
    if not have_chromium():
        return
    cookie = {"name": COOKIE, "value": server.key, "url": server.url}
    with chromium(tmp_path / "profile", [cookie]) as browsed:
        viewer = browsed.page
        viewer.goto(f"{server.url}/jobs/{done['id']}", wait_until="load")
        viewer.wait_for_selector("#state.succeeded")
        points = viewer.locator("#curve").get_attribute("data-points")
    assert points is not None and int(points) >= len(history)


def test_the_forms_dropdown_lists_a_scenario_uploaded_but_not_solved(server: Server) -> None:
    """An upload through the API, with no job yet, is a choice of the web form; the API
    lists it too (GET /v1/scenarios), and another key sees neither."""
    tiny = Tiny(server.artifacts.parent / "unsolved")
    tiny.config["name"] = "never solved"
    unsolved = tiny.write()
    with server.client() as gs:
        uploaded = gs.upload(unsolved)
        assert uploaded["id"] in [s["id"] for s in gs.scenarios()]
        assert [s["id"] for s in gs.scenarios(limit=1)] == [uploaded["id"]]  # newest first
    other = _fresh_key(server)  # (the module's other key is revoked by an earlier test)
    with server.client(other) as theirs:
        assert uploaded["id"] not in [s["id"] for s in theirs.scenarios()]
    with server.http(server.key) as web:
        page = web.get("/")
    assert page.status_code == 200
    assert f'<option value="{uploaded["id"]}">never solved (' in page.text
    with server.http(other) as web:
        theirs_page = web.get("/")
    assert theirs_page.status_code == 200 and uploaded["id"] not in theirs_page.text


def _fresh_key(server: Server) -> str:
    store = Store(sqlite_url(server.artifacts / "gridsite.db"))
    try:
        return store.create_key("another planner")
    finally:
        store.close()
