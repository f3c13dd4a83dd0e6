"""The job store's tables (SQLAlchemy 2 declarative). Times are UTC epoch seconds (floats),
the same on SQLite and PostgreSQL. Schema changes go through an Alembic migration in
``migrations/versions``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
DONE = ("succeeded", "failed", "cancelled")


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """An API key: the public ``key_id`` and a salted scrypt hash of the secret part."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, default=None)


class Scenario(Base):
    """A validated scenario folder a key uploaded; ``digest`` (SHA-256 of the folder's files)
    is its id, and its files live once under ``<artifacts>/scenarios/<digest>``."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("key_id", "digest"),)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class Job(Base):
    """One unit of work (solve, audit, diagnose, pareto, ...) and its lifecycle.

    A running job holds a lease (``lease_owner`` until ``lease_expires_at``); ``attempts``
    counts claims, so a result is recorded only by the claim that still holds the lease."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("key_id", "idempotency_key"),)
    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"), index=True)
    scenario_digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    finished_at: Mapped[float | None] = mapped_column(Float, default=None)
    incumbent_musd: Mapped[float | None] = mapped_column(Float, default=None)
    best_bound_musd: Mapped[float | None] = mapped_column(Float, default=None)
    gap_frac: Mapped[float | None] = mapped_column(Float, default=None)
    progress_at: Mapped[float | None] = mapped_column(Float, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Artifact(Base):
    """A folder a job wrote (``name`` "plan"), at ``path`` under the artifact root."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("job_id", "name"),)
    artifact_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.job_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class ProgressPoint(Base):
    """One progress report of a job's attempt (incumbent, bound, gap as HiGHS gave them):
    the job's gap curve. At most :data:`~optimizer.service.store.PROGRESS_POINTS` per job
    (older points thinned); deleted with the job."""

    __tablename__ = "job_progress"
    point_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.job_id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    incumbent_musd: Mapped[float | None] = mapped_column(Float, default=None)
    best_bound_musd: Mapped[float | None] = mapped_column(Float, default=None)
    gap_frac: Mapped[float | None] = mapped_column(Float, default=None)
