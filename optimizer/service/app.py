"""The HTTP API (FastAPI, under /v1; OpenAPI at /openapi.json): thin routes that check the
key, validate and delegate to :class:`~optimizer.service.jobs.JobService`."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError

from optimizer.service import web
from optimizer.service.jobs import Invalid, JobService, NotFound, Settings
from optimizer.service.models import DONE, STATES
from optimizer.service.store import JobRecord, ScenarioRecord, unavailable
from optimizer.service.uploads import UploadError
from optimizer.service.worker import JobKind

log = logging.getLogger("gridsite.service")
EVENTS_EVERY_S = 0.2
"""How often a server-sent event stream looks at its job (one indexed read)."""
_bearer = HTTPBearer(auto_error=False, description="An API key from `gridsite keys create`.")


class Problem(BaseModel):
    file: str
    row: int | None
    field: str | None
    message: str


class ErrorOut(BaseModel):
    detail: str | list[dict[str, Any]]
    """What is wrong, in a sentence (a malformed request: FastAPI's list of field errors)."""
    problems: list[Problem] | None = None
    """A refused scenario upload: the loader's problems, one per file, row and field."""


def _errors_declared(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries of the error answers (one body shape for all)."""
    what = {
        400: "A malformed upload (not a zip, an entry escaping its folder, a link).",
        401: "No API key, or not a valid one.",
        404: "No such object for this key (another key's object is not found either).",
        413: "The upload, or what it unpacks to, is larger than the server takes.",
        422: "A request the service refuses, naming the field (and the scenario's problems).",
        503: "The job store is unavailable for a moment; retry after Retry-After seconds.",
    }
    return {s: {"model": ErrorOut, "description": what[s]} for s in statuses}


COMMON_ERRORS = _errors_declared(401, 404, 422, 503)


class ScenarioOut(BaseModel):
    id: str
    """SHA-256 of the scenario folder's files: the same upload gets the same id."""
    name: str
    summary: dict[str, Any]
    created_at: str


class ScenarioList(BaseModel):
    scenarios: list[ScenarioOut]
    limit: int
    offset: int


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario_id: str = Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")
    kind: JobKind
    options: dict[str, Any] = Field(default_factory=dict)


class Progress(BaseModel):
    incumbent_musd: float | None
    best_bound_musd: float | None
    gap_frac: float | None
    updated_at: str | None


class ProgressPointOut(BaseModel):
    attempt: int
    at: str
    incumbent_musd: float | None
    best_bound_musd: float | None
    gap_frac: float | None


class ProgressHistory(BaseModel):
    points: list[ProgressPointOut]
    """Each change of the job's progress, oldest first, over all its attempts (a longer
    history is thinned to at most ``PROGRESS_POINTS``, 200, first and newest kept)."""


class JobOut(BaseModel):
    id: str
    kind: str
    scenario_id: str
    options: dict[str, Any]
    state: str
    attempts: int
    max_attempts: int
    cancel_requested: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: Progress
    result: dict[str, Any] | None
    error: str | None
    files: list[str]


class JobList(BaseModel):
    jobs: list[JobOut]
    limit: int
    offset: int


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def key_of(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The id of the request's valid API key, else 401."""
    store = request.app.state.service.store
    key_id = store.authenticate(credentials.credentials) if credentials else None
    if key_id is None:
        raise HTTPException(
            401,
            "missing or invalid API key (send Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key_id  # type: ignore[no-any-return]


Key = Annotated[str, Depends(key_of)]


def create_app(settings: Settings) -> FastAPI:
    service = JobService(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        yield
        await run_in_threadpool(service.stop)

    app = FastAPI(title="gridsite", version="1", lifespan=lifespan, responses=COMMON_ERRORS)
    app.state.service = service

    def job_out(job: JobRecord) -> JobOut:
        return JobOut(
            id=job.job_id,
            kind=job.kind,
            scenario_id=job.scenario_digest,
            options=job.options,
            state=job.state,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            cancel_requested=job.cancel_requested,
            created_at=_iso(job.created_at) or "",
            started_at=_iso(job.started_at),
            finished_at=_iso(job.finished_at),
            progress=Progress(
                incumbent_musd=job.incumbent_musd,
                best_bound_musd=job.best_bound_musd,
                gap_frac=job.gap_frac,
                updated_at=_iso(job.progress_at),
            ),
            result=job.result,
            error=job.error,
            files=service.files(job),
        )

    def scenario_out(s: ScenarioRecord) -> ScenarioOut:
        return ScenarioOut(
            id=s.digest, name=s.name, summary=s.summary, created_at=_iso(s.created_at) or ""
        )

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness and the job store's reachability (503 when it is down)."""
        service.store.ping()
        return {"status": "ok"}

    @app.post(
        "/v1/scenarios", status_code=201, tags=["scenarios"], responses=_errors_declared(400, 413)
    )
    async def upload_scenario(request: Request, file: UploadFile, key_id: Key) -> ScenarioOut:
        """Upload a scenario folder as a zip (multipart field ``file``); validated by the
        CLI's loader (422 naming file, row and field), stored under its content hash."""
        limit = settings.max_upload_bytes
        declared = int(request.headers.get("content-length") or 0)
        if declared > limit + 64 * 1024:
            raise UploadError(413, f"the upload is {declared} bytes (at most {limit})")
        data = await file.read(limit + 1)
        record = await run_in_threadpool(service.add_scenario, key_id, data)
        return scenario_out(record)

    @app.get("/v1/scenarios", tags=["scenarios"])
    def list_scenarios(
        key_id: Key,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> ScenarioList:
        """The key's uploaded scenarios, newest first (solved or not)."""
        found = service.store.scenarios(key_id, limit=limit, offset=offset)
        return ScenarioList(scenarios=[scenario_out(s) for s in found], limit=limit, offset=offset)

    @app.get("/v1/scenarios/{scenario_id}", tags=["scenarios"])
    def get_scenario(scenario_id: str, key_id: Key) -> ScenarioOut:
        return scenario_out(service.scenario(key_id, scenario_id))

    @app.post(
        "/v1/jobs",
        status_code=201,
        tags=["jobs"],
        responses={200: {"model": JobOut, "description": "The job of an earlier submit."}},
    )
    def submit_job(
        body: JobIn,
        key_id: Key,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JobOut:
        """Queue a job; a retried submit with the same ``Idempotency-Key`` returns the same
        job (200 instead of 201)."""
        job, created = service.submit(
            key_id, body.scenario_id, body.kind, body.options, idempotency_key
        )
        if not created:
            response.status_code = 200
        return job_out(job)

    @app.get("/v1/jobs", tags=["jobs"])
    def list_jobs(
        key_id: Key,
        state: Annotated[str | None, Query(pattern="^(" + "|".join(STATES) + ")$")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> JobList:
        """The key's jobs, newest first."""
        jobs = service.store.jobs(key_id, state=state, limit=limit, offset=offset)
        return JobList(jobs=[job_out(j) for j in jobs], limit=limit, offset=offset)

    @app.get("/v1/jobs/{job_id}", tags=["jobs"])
    def get_job(job_id: str, key_id: Key) -> JobOut:
        return job_out(service.job(key_id, job_id))

    @app.get("/v1/jobs/{job_id}/progress", tags=["jobs"])
    def get_progress(job_id: str, key_id: Key) -> ProgressHistory:
        """The job's gap curve: every progress change HiGHS reported, as it was recorded
        (a client arriving after the solve sees the whole curve)."""
        points = service.store.progress(job_id, key_id)
        if points is None:
            raise NotFound(f"job {job_id} not found")
        return ProgressHistory(
            points=[
                ProgressPointOut(
                    attempt=p.attempt,
                    at=_iso(p.at) or "",
                    incumbent_musd=p.incumbent_musd,
                    best_bound_musd=p.best_bound_musd,
                    gap_frac=p.gap_frac,
                )
                for p in points
            ]
        )

    @app.get(
        "/v1/jobs/{job_id}/plan",
        tags=["jobs"],
        response_class=FileResponse,
        responses={200: {"content": {"application/json": {}}, "description": "plan.json"}},
    )
    def get_plan(job_id: str, key_id: Key) -> FileResponse:
        """The job's plan.json."""
        return FileResponse(
            service.file(key_id, job_id, "plan.json"), media_type="application/json"
        )

    @app.get(
        "/v1/jobs/{job_id}/files/{name:path}",
        tags=["jobs"],
        response_class=FileResponse,
        responses={200: {"content": {"*/*": {}}, "description": "The file."}},
    )
    def get_file(job_id: str, name: str, key_id: Key) -> FileResponse:
        """One file of the job's result folder (CSV, NetCDF, plots, JSON) by its path as
        listed in ``files`` (a sweep's case plans: ``cases/<case_id>/plan.json``)."""
        path = service.file(key_id, job_id, name)
        return FileResponse(path, filename=path.name)

    @app.delete(
        "/v1/jobs/{job_id}",
        tags=["jobs"],
        status_code=202,
        responses={
            202: {"model": JobOut, "description": "Cancel asked (the job as it is now)."},
            204: {"description": "The finished job and its files were deleted."},
        },
    )
    def delete_job(job_id: str, key_id: Key) -> Response:
        """Cancel a queued or running job (202 with the job: a running solve stops and keeps
        its best plan so far); delete a finished one and its files (204)."""
        job = service.cancel_or_delete(key_id, job_id)
        if job is None:
            return Response(status_code=204)
        return JSONResponse(job_out(job).model_dump(mode="json"), status_code=202)

    @app.get(
        "/v1/jobs/{job_id}/events",
        tags=["jobs"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "Job events."}},
    )
    async def job_events(job_id: str, key_id: Key) -> StreamingResponse:
        """Server-sent events: the job (as GET /v1/jobs/{id}) each time it changes, until
        it is done."""
        await run_in_threadpool(service.job, key_id, job_id)  # 404 before streaming

        async def stream() -> AsyncIterator[str]:
            last = None
            while True:
                job = await run_in_threadpool(service.job, key_id, job_id)
                body = job_out(job).model_dump_json()
                if body != last:
                    yield f"event: job\ndata: {body}\n\n"
                    last = body
                if job.state in DONE:
                    return
                await asyncio.sleep(EVENTS_EVERY_S)

        return StreamingResponse(stream(), media_type="text/event-stream")

    app.include_router(web.router)  # the page for people: GET /, /signin, /jobs/{id}
    _errors(app)
    _request_log(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, e: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(Invalid)
    async def invalid(_: Request, e: Invalid) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.exception_handler(UploadError)
    async def upload(_: Request, e: UploadError) -> JSONResponse:
        return JSONResponse({"detail": e.message, "problems": e.problems}, status_code=e.status)

    @app.exception_handler(DBAPIError)
    async def store_error(request: Request, e: DBAPIError) -> JSONResponse:
        fields = {"path": request.url.path, "error": f"{type(e.orig).__name__}: {e.orig}"[:300]}
        if unavailable(e):
            log.warning("job store unavailable", extra={"fields": fields})
            return JSONResponse(
                {"detail": "the job store is unavailable; retry shortly"},
                status_code=503,
                headers={"Retry-After": "2"},
            )
        log.error("job store error", extra={"fields": fields})
        return JSONResponse({"detail": "internal error in the job store (logged)"}, 500)


_JOB_PATH = re.compile(r"^/v1/jobs/([^/]+)")


def _request_log(app: FastAPI) -> None:
    @app.middleware("http")
    async def log_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "ms": round(1000 * (time.perf_counter() - start), 1),
        }
        if match := _JOB_PATH.match(request.url.path):
            fields["job_id"] = match.group(1)
        log.info("request", extra={"fields": fields})
        return response


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the API with uvicorn, logging JSON lines to stderr."""
    import uvicorn

    from optimizer.service.jobs import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="warning")
