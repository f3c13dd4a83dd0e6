"""The job store: the only module that knows SQL. SQLite (a file) or PostgreSQL.

The store, not the engine's memory, is the source of truth. A job is claimed atomically with
a lease (``SELECT ... FOR UPDATE SKIP LOCKED`` then a conditional ``UPDATE`` that only a
still-queued row satisfies; SQLite serialises writers with ``BEGIN IMMEDIATE``). Each claim
bumps ``attempts``, and heartbeats, progress and results are accepted only from the claim
that holds the lease, so a job never runs twice at once. Expired leases are re-queued up to
``max_attempts``, then failed with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from optimizer.service.models import DONE, ApiKey, Artifact, Job, ProgressPoint, Scenario

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
KEY_PREFIX = "gsk"
#: scrypt cost: ~16 MB and tens of ms per hash; keys are random, so this guards a stolen
#: table, not a guessable password.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
PROGRESS_POINTS = 200
"""At most this many points of a job's progress curve are kept (older ones thinned)."""


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    key_id: str
    scenario_digest: str
    kind: str
    options: dict[str, Any]
    idempotency_key: str | None
    state: str
    attempts: int
    max_attempts: int
    lease_owner: str | None
    lease_expires_at: float | None
    cancel_requested: bool
    created_at: float
    started_at: float | None
    finished_at: float | None
    incumbent_musd: float | None
    best_bound_musd: float | None
    gap_frac: float | None
    progress_at: float | None
    result: dict[str, Any] | None
    error: str | None
    artifact: str | None = None
    """Path of the job's plan folder, once recorded."""


@dataclass(frozen=True)
class ProgressRecord:
    """One point of a job's gap curve: what HiGHS reported at ``at`` in ``attempt``."""

    attempt: int
    at: float
    incumbent_musd: float | None
    best_bound_musd: float | None
    gap_frac: float | None


@dataclass(frozen=True)
class ScenarioRecord:
    digest: str
    name: str
    summary: dict[str, Any]
    created_at: float


def _record(job: Job, artifact: str | None = None) -> JobRecord:
    values = {
        f.name: getattr(job, f.name) for f in dataclasses.fields(JobRecord) if f.name != "artifact"
    }
    return JobRecord(**values, artifact=artifact)


def _hash(secret: str, salt: str) -> str:
    return hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **SCRYPT).hex()  # type: ignore[arg-type]


class Store:
    """The job store behind one database URL (``sqlite:///FILE`` or
    ``postgresql+psycopg://...``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            _serialise_sqlite_writers(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._verified: dict[str, str] = {}
        """key id -> SHA-256 of the secret that passed scrypt (memory only), so a request
        costs one scrypt per key and process, not one each."""

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it on first use)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        """Raise (``DBAPIError``) if the database does not answer."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # API keys -------------------------------------------------------------------------

    def create_key(self, name: str) -> str:
        """A new key; the returned secret is shown once and stored only hashed."""
        key_id, secret, salt = (
            secrets.token_hex(6),
            secrets.token_urlsafe(32),
            secrets.token_hex(16),
        )
        with self._tx() as s:
            s.add(
                ApiKey(
                    key_id=key_id,
                    name=name,
                    salt=salt,
                    secret_hash=_hash(secret, salt),
                    created_at=time.time(),
                )
            )
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> bool:
        with self._tx() as s:
            done = s.execute(
                update(ApiKey)
                .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def authenticate(self, presented: str) -> str | None:
        """The key id of a valid, unrevoked key, else ``None`` (constant-time comparison)."""
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret:
            return None
        with self._tx() as s:
            key = s.get(ApiKey, key_id)
            if key is None or key.revoked_at is not None:
                return None
            salt, stored = key.salt, key.secret_hash
        quick = hashlib.sha256(secret.encode()).hexdigest()
        if hmac.compare_digest(self._verified.get(key_id, ""), quick):
            return key_id
        if not hmac.compare_digest(_hash(secret, salt), stored):
            return None
        self._verified[key_id] = quick
        return key_id

    # Scenarios ------------------------------------------------------------------------

    def add_scenario(
        self, key_id: str, digest: str, name: str, summary: dict[str, Any]
    ) -> ScenarioRecord:
        """Record that ``key_id`` uploaded the scenario ``digest`` (again: same record)."""
        try:
            with self._tx() as s:
                s.add(
                    Scenario(
                        digest=digest,
                        key_id=key_id,
                        name=name,
                        summary=summary,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            pass  # uploaded before by this key
        found = self.scenario(key_id, digest)
        assert found is not None
        return found

    def scenario(self, key_id: str, digest: str) -> ScenarioRecord | None:
        with self._tx() as s:
            row = s.scalars(
                select(Scenario).where(Scenario.key_id == key_id, Scenario.digest == digest)
            ).first()
            if row is None:
                return None
            return ScenarioRecord(row.digest, row.name, row.summary, row.created_at)

    def scenarios(self, key_id: str, *, limit: int = 50, offset: int = 0) -> list[ScenarioRecord]:
        """The scenarios the key uploaded, newest first (solved or not)."""
        query = (
            select(Scenario)
            .where(Scenario.key_id == key_id)
            .order_by(Scenario.created_at.desc(), Scenario.row_id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._tx() as s:
            return [
                ScenarioRecord(row.digest, row.name, row.summary, row.created_at)
                for row in s.scalars(query)
            ]

    # Jobs: submit and read ------------------------------------------------------------

    def submit(
        self,
        key_id: str,
        digest: str,
        kind: str,
        options: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        max_attempts: int = 3,
    ) -> tuple[JobRecord, bool]:
        """Queue a job; with an ``idempotency_key`` this key used before, the earlier job
        (and ``False``: nothing new was created)."""
        if idempotency_key is not None:
            earlier = self._by_idempotency_key(key_id, idempotency_key)
            if earlier is not None:
                return earlier, False
        job = Job(
            job_id=secrets.token_hex(8),
            key_id=key_id,
            scenario_digest=digest,
            kind=kind,
            options=options,
            idempotency_key=idempotency_key,
            state="queued",
            attempts=0,
            max_attempts=max_attempts,
            cancel_requested=False,
            created_at=time.time(),
        )
        try:
            with self._tx() as s:
                s.add(job)
                s.flush()
                return _record(job), True
        except IntegrityError:  # the same key submitted concurrently: the other one won
            assert idempotency_key is not None
            earlier = self._by_idempotency_key(key_id, idempotency_key)
            assert earlier is not None
            return earlier, False

    def _by_idempotency_key(self, key_id: str, idempotency_key: str) -> JobRecord | None:
        with self._tx() as s:
            job = s.scalars(
                select(Job).where(Job.key_id == key_id, Job.idempotency_key == idempotency_key)
            ).first()
            return None if job is None else self._with_artifact(s, job)

    def job(self, job_id: str, key_id: str | None = None) -> JobRecord | None:
        """The job, if it exists and (when ``key_id`` is given) belongs to that key."""
        with self._tx() as s:
            job = s.get(Job, job_id)
            if job is None or (key_id is not None and job.key_id != key_id):
                return None
            return self._with_artifact(s, job)

    def jobs(
        self, key_id: str, *, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[JobRecord]:
        """The key's jobs, newest first."""
        query = select(Job).where(Job.key_id == key_id)
        if state is not None:
            query = query.where(Job.state == state)
        query = query.order_by(Job.created_at.desc(), Job.job_id).limit(limit).offset(offset)
        with self._tx() as s:
            return [self._with_artifact(s, job) for job in s.scalars(query)]

    @staticmethod
    def _with_artifact(s: Session, job: Job) -> JobRecord:
        path = s.scalars(
            select(Artifact.path).where(Artifact.job_id == job.job_id, Artifact.name == "plan")
        ).first()
        return _record(job, path)

    # Jobs: the lease lifecycle ---------------------------------------------------------

    def claim(self, owner: str, lease_s: float) -> JobRecord | None:
        """Take the oldest queued job for ``owner`` with a lease of ``lease_s`` seconds."""
        with self._tx() as s:
            job_id = s.scalars(
                select(Job.job_id)
                .where(Job.state == "queued")
                .order_by(Job.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job_id is None:
                return None
            now = time.time()
            taken = s.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.state == "queued")
                .values(
                    state="running",
                    lease_owner=owner,
                    lease_expires_at=now + lease_s,
                    attempts=Job.attempts + 1,
                    started_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            job = s.get(Job, job_id, populate_existing=True)
            assert job is not None
            return _record(job)

    def _held(self, job_id: str, attempt: int) -> Any:
        return (Job.job_id == job_id, Job.state == "running", Job.attempts == attempt)

    def heartbeat(self, job_id: str, owner: str, attempt: int, lease_s: float) -> bool:
        """Extend the lease; ``False`` if this claim no longer holds it."""
        with self._tx() as s:
            done = s.execute(
                update(Job)
                .where(*self._held(job_id, attempt), Job.lease_owner == owner)
                .values(lease_expires_at=time.time() + lease_s)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def report_progress(
        self,
        job_id: str,
        attempt: int,
        incumbent_musd: float | None,
        best_bound_musd: float | None,
        gap_frac: float | None,
    ) -> bool:
        """Record live solver progress (and, when it changed, a point of the job's curve);
        ``True`` if the run should stop (cancel asked, or this attempt lost its lease)."""
        now = time.time()
        values = (incumbent_musd, best_bound_musd, gap_frac)
        with self._tx() as s:
            job = s.scalars(
                select(Job).where(*self._held(job_id, attempt)).with_for_update()
            ).first()
            if job is None:
                return True
            if values != (None, None, None) and (
                values != (job.incumbent_musd, job.best_bound_musd, job.gap_frac)
                or not _has_points(s, job_id, attempt)
            ):
                s.add(
                    ProgressPoint(
                        job_id=job_id,
                        attempt=attempt,
                        at=now,
                        incumbent_musd=incumbent_musd,
                        best_bound_musd=best_bound_musd,
                        gap_frac=gap_frac,
                    )
                )
                s.flush()
                _thin(s, job_id)
            job.incumbent_musd, job.best_bound_musd, job.gap_frac = values
            job.progress_at = now
            return job.cancel_requested

    def progress(self, job_id: str, key_id: str | None = None) -> list[ProgressRecord] | None:
        """The job's recorded progress points, oldest first (``None``: no such job, or
        another key's)."""
        with self._tx() as s:
            job = s.get(Job, job_id)
            if job is None or (key_id is not None and job.key_id != key_id):
                return None
            rows = s.scalars(
                select(ProgressPoint)
                .where(ProgressPoint.job_id == job_id)
                .order_by(ProgressPoint.at, ProgressPoint.point_id)
            )
            return [
                ProgressRecord(r.attempt, r.at, r.incumbent_musd, r.best_bound_musd, r.gap_frac)
                for r in rows
            ]

    def finish(
        self,
        job_id: str,
        owner: str,
        attempt: int,
        state: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        artifact: Path | None = None,
    ) -> bool:
        """Record the outcome of the claim ``(owner, attempt)``; ``False`` (nothing written)
        if that claim no longer holds the lease."""
        assert state in DONE
        with self._tx() as s:
            done = s.execute(
                update(Job)
                .where(*self._held(job_id, attempt), Job.lease_owner == owner)
                .values(
                    state=state,
                    result=result,
                    error=error,
                    finished_at=time.time(),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                return False
            if artifact is not None:
                s.add(
                    Artifact(job_id=job_id, name="plan", path=str(artifact), created_at=time.time())
                )
            return True

    def requeue_expired(self) -> list[JobRecord]:
        """Re-queue running jobs whose lease expired (their worker or server died); a job
        that used up its attempts fails, one asked to cancel is cancelled. The jobs changed."""
        now = time.time()
        changed = []
        with self._tx() as s:
            expired = s.scalars(
                select(Job)
                .where(Job.state == "running", Job.lease_expires_at < now)
                .with_for_update(skip_locked=True)
            ).all()
            for job in expired:
                _give_back(job, f"attempt {job.attempts}: lease of {job.lease_owner} expired", now)
                changed.append(_record(job))
        return changed

    def release(self, job_id: str, owner: str, attempt: int, reason: str) -> JobRecord | None:
        """The claim ``(owner, attempt)`` lost its worker (e.g. Dask's ``KilledWorker``):
        re-queue the job as an expired lease is, up to ``max_attempts``, then fail it with
        the reason. ``None`` if that claim no longer holds the job."""
        with self._tx() as s:
            job = s.scalars(
                select(Job)
                .where(*self._held(job_id, attempt), Job.lease_owner == owner)
                .with_for_update()
            ).first()
            if job is None:
                return None
            _give_back(job, f"attempt {attempt}: {reason}", time.time())
            return _record(job)

    def cancel(self, job_id: str, key_id: str) -> JobRecord | None:
        """Cancel a queued job now; ask a running one to stop (its worker sees the flag)."""
        with self._tx() as s:
            s.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.key_id == key_id, Job.state == "queued")
                .values(state="cancelled", finished_at=time.time(), error="cancelled")
            )
            s.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.key_id == key_id, Job.state == "running")
                .values(cancel_requested=True)
            )
        return self.job(job_id, key_id)

    def delete(self, job_id: str, key_id: str) -> bool:
        """Forget a finished job (its files are the caller's to remove)."""
        with self._tx() as s:
            job = s.get(Job, job_id)
            if job is None or job.key_id != key_id or job.state not in DONE:
                return False
            for artifact in s.scalars(select(Artifact).where(Artifact.job_id == job_id)):
                s.delete(artifact)
            s.execute(delete(ProgressPoint).where(ProgressPoint.job_id == job_id))
            s.delete(job)
            return True


def _has_points(s: Session, job_id: str, attempt: int) -> bool:
    """Whether this attempt has a point yet (its first report is one, changed or not)."""
    return (
        s.scalars(
            select(ProgressPoint.point_id)
            .where(ProgressPoint.job_id == job_id, ProgressPoint.attempt == attempt)
            .limit(1)
        ).first()
        is not None
    )


def _thin(s: Session, job_id: str) -> None:
    """Keep a job's curve bounded: past :data:`PROGRESS_POINTS` points, drop every second
    one but the first and the newest, so the curve keeps its whole span at half the detail."""
    ids = s.scalars(
        select(ProgressPoint.point_id)
        .where(ProgressPoint.job_id == job_id)
        .order_by(ProgressPoint.at, ProgressPoint.point_id)
    ).all()
    if len(ids) > PROGRESS_POINTS:
        s.execute(delete(ProgressPoint).where(ProgressPoint.point_id.in_(ids[1:-1:2])))


def _give_back(job: Job, lost: str, now: float) -> None:
    """A running job whose attempt was lost (``lost`` says how): queued again, failed once
    it used up its attempts, cancelled if a cancel was asked."""
    if job.cancel_requested:
        job.state, job.error, job.finished_at = "cancelled", f"cancelled ({lost})", now
    elif job.attempts >= job.max_attempts:
        job.state, job.finished_at = "failed", now
        job.error = f"gave up after {job.attempts} attempts; {lost}"
    else:
        job.state, job.error = "queued", lost
    job.lease_owner = job.lease_expires_at = None


def _serialise_sqlite_writers(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` so two claimers
    never both read a queued row before either writes."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03")
"""PostgreSQL shutting down (admin or crash) or not yet accepting connections; with class
``08`` (connection exceptions) and client-side failures (no SQLSTATE) what is "down"."""
UNAVAILABLE_SQLITE = ("database is locked", "unable to open database file", "disk i/o error")


def unavailable(error: DBAPIError) -> bool:
    """Whether ``error`` means the database cannot be reached for now (a 503 to retry),
    not a fault of the statement or the data (a 500): a connection SQLAlchemy found broken,
    a PostgreSQL connection refused, lost or shutting down, an SQLite file locked past the
    busy timeout or not openable."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    orig = error.orig
    if isinstance(orig, psycopg.Error):
        state = orig.sqlstate
        return state is None or state.startswith("08") or state in UNAVAILABLE_SQLSTATES
    if isinstance(orig, sqlite3.Error):
        return str(orig).lower().startswith(UNAVAILABLE_SQLITE)
    return False


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"
