"""The service's page for people (``GET /``): server-rendered Jinja2 pages, no build step,
the little JavaScript inline; nothing is fetched from another origin.

Pages: the key's job list (refreshed every few seconds from a rendered fragment), a job's
page with its gap curve (the recorded history, then server-sent events; inline SVG) and, once it
has a plan, the plan report of :mod:`optimizer.html_report`; a form that solves a stored
or uploaded scenario.

Sign-in: the API key is posted once to ``/signin`` and kept in an HttpOnly,
SameSite=Strict cookie (Secure over https; never in a URL). Every page request checks it
with the API's own hashed-key check (:meth:`Store.authenticate`), so a revoked key is
signed out at once, and reads through the same per-key lookups (another key's job is not
found: 404). The cookie authenticates the pages only, never ``/v1``. Forms are CSRF-safe
three ways: the cookie is SameSite=Strict, every POST must come from this origin (Origin,
else Referer, must match the Host), and each signed-in form carries a token derived from
the key (an HMAC the page cannot have without it). Every page sets a Content-Security-Policy
with a per-response nonce for its inline script and style, and may not be framed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from optimizer.service.jobs import Invalid, JobService, NotFound
from optimizer.service.models import DONE
from optimizer.service.store import JobRecord, ProgressRecord
from optimizer.service.uploads import UploadError

TEMPLATES = Path(__file__).resolve().parent / "templates"
COOKIE = "gridsite_key"
SESSION_S = 12 * 3600
"""How long the sign-in cookie lives (the key itself may be revoked sooner)."""
LISTED = 100
"""Jobs shown in the list, newest first."""
EVENT_POLL_S = 0.5
SCENARIOS_LISTED = 200
"""The form's dropdown lists the key's newest uploaded scenarios, at most this many."""
REPORT_KINDS = ("solve", "reoptimize")
SUBMIT_TOKEN = re.compile(r"[0-9a-f]{32}")

router = APIRouter(include_in_schema=False)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the key from its cookie, checked."""

    key: str
    key_id: str

    @property
    def csrf(self) -> str:
        """The forms' token: an HMAC of a fixed label under the key (only a holder of the
        key can make it; it changes with the key)."""
        return hmac.new(self.key.encode(), b"gridsite web form", hashlib.sha256).hexdigest()


def _service(request: Request) -> JobService:
    return request.app.state.service  # type: ignore[no-any-return]


def _session(request: Request) -> Session | None:
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    key_id = _service(request).store.authenticate(key)
    return None if key_id is None else Session(key, key_id)


def _same_origin(request: Request) -> bool:
    """A POST from a page of this origin: Origin (else Referer) names this scheme and Host."""
    claimed = request.headers.get("origin")
    if claimed is None and (referer := request.headers.get("referer")):
        parts = urlsplit(referer)
        claimed = f"{parts.scheme}://{parts.netloc}"
    return claimed == f"{request.url.scheme}://{request.url.netloc}"


def _form_ok(request: Request, session: Session, token: object) -> bool:
    return (
        _same_origin(request)
        and isinstance(token, str)
        and hmac.compare_digest(token.encode(), session.csrf.encode())
    )


def _safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in (never another host)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or any(c == "\\" or ord(c) < 0x21 for c in target)  # browsers drop tabs: "/\t/x"
    ):
        return "/"
    return target


def _to_signin(request: Request) -> RedirectResponse:
    """To the sign-in page, then back to this page (a form sent signed out: the list)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        here = "/"
    return RedirectResponse(f"/signin?next={quote(here, safe='')}", status_code=303)


def _policy(nonce: str) -> str:
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; frame-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _secure(response: Response, policy: str, frame: str = "DENY") -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = frame
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(
    template: str, session: Session | None, status_code: int = 200, **context: Any
) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = _env.get_template(template).render(
        nonce=nonce,
        session=session,
        csrf=session.csrf if session else "",
        **context,
    )
    return _secure(HTMLResponse(html, status_code=status_code), _policy(nonce))


def _not_found(session: Session, message: str) -> Response:
    return _page("error.html.j2", session, 404, title="Not found", message=message)


# Formatting -----------------------------------------------------------------------------


def _time(t: float | None) -> str:
    if t is None:
        return ""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _finite(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None  # type: ignore[arg-type]


def _gap(job: JobRecord) -> float | None:
    if job.gap_frac is not None:
        return _finite(job.gap_frac)
    return _finite((job.result or {}).get("mip_gap"))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f} %"


def _musd(x: float | None) -> str:
    return "–" if x is None else f"{x:,.1f} M USD"


_env.filters["time"] = _time
_env.filters["pct"] = _pct
_env.filters["musd"] = _musd


def _points(
    job: JobRecord, history: Sequence[ProgressRecord] = ()
) -> list[dict[str, float | None]]:
    """The job's gap curve as the store knows it: the recorded points of its current
    attempt (``history``), its latest progress and, once done, the final objective and bound
    (the page merges these by time with the points it sees live)."""
    points = [
        {"t": p.at, "incumbent": _finite(p.incumbent_musd), "bound": _finite(p.best_bound_musd)}
        for p in history
        if p.attempt == job.attempts
    ]
    if job.progress_at is not None and (job.incumbent_musd, job.best_bound_musd) != (None, None):
        points.append(
            {
                "t": job.progress_at,
                "incumbent": _finite(job.incumbent_musd),
                "bound": _finite(job.best_bound_musd),
            }
        )
    result = job.result or {}
    if job.finished_at is not None and "objective_musd" in result:
        points.append(
            {
                "t": job.finished_at,
                "incumbent": _finite(result.get("objective_musd")),
                "bound": _finite(result.get("best_bound_musd")),
            }
        )
    return points


def _state(
    service: JobService, job: JobRecord, history: Sequence[ProgressRecord] = ()
) -> dict[str, Any]:
    """The job as its page's script reads it: on the page with the recorded ``history``
    of its curve, in each server-sent event with only the latest points."""
    files = service.files(job)
    return {
        "id": job.job_id,
        "state": job.state,
        "done": job.state in DONE,
        "attempts": job.attempts,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "gap": _gap(job),
        "points": _points(job, history),
        "error": job.error,
        "has_report": _has_report(job, files),
        "files": files,
    }


def _has_report(job: JobRecord, files: list[str]) -> bool:
    return job.kind in REPORT_KINDS and {"plan.json", "plan.nc"} <= set(files)


def _rows(service: JobService, key_id: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The key's newest jobs as table rows, and the names of their scenarios by id."""
    jobs = service.store.jobs(key_id, limit=LISTED)
    names: dict[str, str] = {}
    for digest in {j.scenario_digest for j in jobs}:
        found = service.store.scenario(key_id, digest)
        names[digest] = found.name if found else "?"
    rows = [{"job": j, "scenario": names[j.scenario_digest], "gap": _gap(j)} for j in jobs]
    return rows, names


def _list_page(
    service: JobService,
    session: Session,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    rows, names = _rows(service, session.key_id)
    uploaded = service.store.scenarios(session.key_id, limit=SCENARIOS_LISTED)
    names |= {s.digest: s.name for s in uploaded}  # uploaded, maybe not solved yet
    scenarios = sorted(((d, n) for d, n in names.items() if n != "?"), key=lambda x: x[1])
    return _page(
        "jobs.html.j2",
        session,
        status_code,
        rows=rows,
        scenarios=scenarios,
        chosen=rows[0]["job"].scenario_digest if rows else None,  # the newest job's
        error=error,
        submit_token=secrets.token_hex(16),
        listed=LISTED,
        max_upload_mb=service.settings.max_upload_bytes / 1024 / 1024,
    )


# Sign-in ----------------------------------------------------------------------------------


@router.get("/signin")
def signin_page(request: Request, next_path: Annotated[str, Query(alias="next")] = "/") -> Response:
    if _session(request) is not None:
        return RedirectResponse(_safe_next(next_path), status_code=303)
    return _page("signin.html.j2", None, next=_safe_next(next_path), error=None)


@router.post("/signin")
async def signin(request: Request) -> Response:
    if not _same_origin(request):
        return _page("signin.html.j2", None, 403, next="/", error="sign in from this page")
    form = await request.form(max_files=0, max_fields=4)
    key, target = str(form.get("key") or "").strip(), _safe_next(str(form.get("next") or "/"))
    key_id = await run_in_threadpool(_service(request).store.authenticate, key) if key else None
    if key_id is None:
        message = "that is not a valid API key (or it was revoked)"
        return _page("signin.html.j2", None, 401, next=target, error=message)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=SESSION_S,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    session = await run_in_threadpool(_session, request)
    form = await request.form(max_files=0, max_fields=4)
    if session is not None and not _form_ok(request, session, form.get("csrf")):
        return _page("error.html.j2", session, 403, title="Refused", message="forged form")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


# The job list and the submit form ---------------------------------------------------------


@router.get("/")
def job_list(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_signin(request)
    return _list_page(_service(request), session)


@router.get("/jobs/table")
def job_table(request: Request) -> Response:
    """The list's rows alone (the page swaps them in every few seconds); 401 signed out."""
    session = _session(request)
    if session is None:
        return Response(status_code=401)
    rows, _ = _rows(_service(request), session.key_id)
    html = _env.get_template("job_rows.html.j2").render(rows=rows)
    return _secure(HTMLResponse(html), "default-src 'none'")


@router.post("/jobs")
async def submit(request: Request) -> Response:
    """The form: a solve on a stored scenario (by id) or on an uploaded zip."""
    service = _service(request)
    session = await run_in_threadpool(_session, request)
    if session is None:
        return _to_signin(request)
    limit = service.settings.max_upload_bytes
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        return await run_in_threadpool(
            _list_page, service, session, 413, f"the upload is over {limit} bytes"
        )
    form = await request.form(max_files=1, max_fields=10)
    if not _form_ok(request, session, form.get("csrf")):
        return _page("error.html.j2", session, 403, title="Refused", message="forged form")
    scenario_id = str(form.get("scenario_id") or "").strip()
    upload = form.get("file")
    try:
        options = _options(form.get("mip_gap_pct"), form.get("time_limit_s"))
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(limit + 1)
            stored = await run_in_threadpool(service.add_scenario, session.key_id, data)
            scenario_id = stored.digest
        if not scenario_id:
            raise Invalid("choose a stored scenario or a scenario zip to upload")
        job, _ = await run_in_threadpool(
            service.submit,
            session.key_id,
            scenario_id,
            "solve",
            options,
            _idempotency_key(form.get("submit_token")),
        )
    except UploadError as e:  # the message names file, row and field of each problem
        return await run_in_threadpool(_list_page, service, session, e.status, e.message)
    except (Invalid, NotFound) as e:
        return await run_in_threadpool(_list_page, service, session, 422, str(e))
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


def _options(gap_pct: object, time_limit_s: object) -> dict[str, Any]:
    """The form's solve options (empty fields: the scenario's own solver settings)."""
    options: dict[str, Any] = {}
    for field, label, raw, scale in (
        ("mip_gap_frac", "MIP gap %", gap_pct, 0.01),
        ("time_limit_s", "time limit s", time_limit_s, 1.0),
    ):
        text = str(raw or "").strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise Invalid(f"{label}: {text!r} is not a number") from None
        options[field] = value * scale
    return options


def _idempotency_key(token: object) -> str | None:
    """The form's one-time token as the job's Idempotency-Key: a form sent twice (a double
    click, a reload) makes one job."""
    if isinstance(token, str) and SUBMIT_TOKEN.fullmatch(token):
        return f"web-{token}"
    return None


# A job's page -----------------------------------------------------------------------------


def _own_job(request: Request, job_id: str) -> tuple[Session, JobService, JobRecord] | Response:
    """The signed-in key's job ``job_id`` with the session and the service, or what to
    answer instead: the sign-in page, or 404 for an unknown job or another key's."""
    session = _session(request)
    if session is None:
        return _to_signin(request)
    service = _service(request)
    try:
        return session, service, service.job(session.key_id, job_id)
    except NotFound as e:
        return _not_found(session, str(e))


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str) -> Response:
    found = _own_job(request, job_id)
    if isinstance(found, Response):
        return found
    session, service, job = found
    state = _state(service, job, service.store.progress(job.job_id) or [])
    scenario = service.store.scenario(session.key_id, job.scenario_digest)
    return _page(
        "job.html.j2",
        session,
        job=job,
        scenario=scenario.name if scenario else "?",
        state=state,
        state_json=json.dumps(state, allow_nan=False),
    )


@router.get("/jobs/{job_id}/events")
async def job_events(request: Request, job_id: str) -> Response:
    """Server-sent events for the job page: the job each time it changes, until done."""
    service = _service(request)
    session = await run_in_threadpool(_session, request)
    if session is None:
        return Response(status_code=401)
    key_id = session.key_id
    try:
        await run_in_threadpool(service.job, key_id, job_id)
    except NotFound:
        return Response(status_code=404)

    def current() -> dict[str, Any]:
        return _state(service, service.job(key_id, job_id))

    async def stream() -> AsyncIterator[str]:
        last = None
        while True:
            state = await run_in_threadpool(current)
            body = json.dumps(state, allow_nan=False)
            if body != last:
                yield f"event: job\ndata: {body}\n\n"
                last = body
            if state["done"]:
                return
            await asyncio.sleep(EVENT_POLL_S)

    response = StreamingResponse(stream(), media_type="text/event-stream")
    # no-cache, not no-store: chromium reports a no-store stream read to its end as aborted
    # (microsoft/playwright#42742)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/jobs/{job_id}/report")
def job_report(request: Request, job_id: str) -> Response:
    """The plan report of :mod:`optimizer.html_report` (self-contained, no script), shown
    in a frame of the job page; its policy allows no script at all."""
    found = _own_job(request, job_id)
    if isinstance(found, Response):
        return found
    session, service, job = found
    if job.artifact is None or not _has_report(job, service.files(job)):
        return _not_found(session, f"job {job_id} has no plan to report (state {job.state})")
    plan_json = Path(job.artifact) / "plan.json"
    try:
        html = _report(job.artifact, job.job_id, plan_json.stat().st_mtime_ns)
    except (OSError, KeyError, ValueError) as e:
        return _not_found(session, f"job {job_id}: the plan cannot be read ({e})")
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    policy += "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
    return _secure(HTMLResponse(html), policy, frame="SAMEORIGIN")


@lru_cache(maxsize=8)
def _report(folder: str, job_id: str, _mtime_ns: int) -> str:
    from optimizer.html_report import render_report
    from optimizer.plan_files import read_plan

    return render_report(read_plan(folder), source=f"gridsite job {job_id}")


@router.get("/jobs/{job_id}/files/{name:path}")
def job_file(request: Request, job_id: str, name: str) -> Response:
    """A file of the job's result by its path as listed (a sweep's ``cases/<id>/...``), as
    a download."""
    session = _session(request)
    if session is None:
        return _to_signin(request)
    try:
        path = _service(request).file(session.key_id, job_id, name)
    except NotFound as e:
        return _not_found(session, str(e))
    response = FileResponse(path, filename=path.name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, job_id: str) -> Response:
    """Cancel a queued or running job; delete a finished one (the API's DELETE)."""
    service = _service(request)
    session = await run_in_threadpool(_session, request)
    if session is None:
        return _to_signin(request)
    form = await request.form(max_files=0, max_fields=4)
    if not _form_ok(request, session, form.get("csrf")):
        return _page("error.html.j2", session, 403, title="Refused", message="forged form")
    try:
        kept = await run_in_threadpool(service.cancel_or_delete, session.key_id, job_id)
    except NotFound as e:
        return _not_found(session, str(e))
    return RedirectResponse(f"/jobs/{job_id}" if kept else "/", status_code=303)
