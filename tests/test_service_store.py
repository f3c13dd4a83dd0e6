"""The job store on SQLite and on the real PostgreSQL: keys, idempotent submits, atomic
claims with leases, expiry and retry, progress and cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from optimizer.service import store as service_store
from optimizer.service.store import Store, sqlite_url, unavailable
from tests.service_fixtures import database, free_port, postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with database(request.param, tmp_path) as url:
        s = Store(url)
        s.migrate()
        yield s
        s.close()


@pytest.fixture
def key(store: Store) -> str:
    return store.authenticate(store.create_key("planner")) or ""


def test_migrations_create_the_schema_once(store: Store) -> None:
    store.migrate()  # a second run changes nothing
    tables = set(inspect(store.engine).get_table_names())
    assert {"api_keys", "scenarios", "jobs", "artifacts", "job_progress"} <= tables
    with store.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_keys_are_stored_hashed_and_can_be_revoked(store: Store) -> None:
    secret = store.create_key("nightly")
    key_id = store.authenticate(secret)
    assert key_id is not None and secret.startswith(f"gsk_{key_id}_")
    with store.engine.connect() as c:
        row = c.execute(text("SELECT salt, secret_hash FROM api_keys")).one()
    assert secret.split("_", 2)[2] not in (row.salt, row.secret_hash)
    assert store.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert store.authenticate(f"gsk_{key_id}_") is None
    assert store.authenticate("Bearer nonsense") is None
    assert store.revoke_key(key_id)
    assert store.authenticate(secret) is None
    assert not store.revoke_key(key_id)


def test_submit_with_an_idempotency_key_returns_the_same_job(store: Store, key: str) -> None:
    other = store.authenticate(store.create_key("other")) or ""
    first, created = store.submit(key, "d" * 64, "solve", {}, idempotency_key="run-1")
    again, created_again = store.submit(key, "d" * 64, "solve", {}, idempotency_key="run-1")
    theirs, _ = store.submit(other, "d" * 64, "solve", {}, idempotency_key="run-1")
    assert created and not created_again and again.job_id == first.job_id
    assert theirs.job_id != first.job_id
    assert store.job(first.job_id, other) is None  # another key's job is invisible
    assert [j.job_id for j in store.jobs(key)] == [first.job_id]


def test_a_queued_job_is_claimed_exactly_once(store: Store, key: str) -> None:
    """Eight claimers, each with its own connection pool, race for one job."""
    job, _ = store.submit(key, "d" * 64, "solve", {})
    stores = [Store(store.url) for _ in range(8)]
    won: list[str] = []
    barrier = threading.Barrier(len(stores))

    def claim(s: Store, owner: str) -> None:
        barrier.wait()
        if s.claim(owner, lease_s=30) is not None:
            won.append(owner)

    threads = [threading.Thread(target=claim, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(won) == 1
    claimed = store.job(job.job_id)
    assert claimed is not None and claimed.state == "running" and claimed.attempts == 1
    assert claimed.lease_owner == won[0]


def test_an_expired_lease_is_requeued_then_failed_at_the_retry_limit(
    store: Store, key: str
) -> None:
    """A worker that stops heartbeating loses its job; the new claim's attempt is the only
    one whose result counts; after ``max_attempts`` lost leases the job fails, saying why."""
    job, _ = store.submit(key, "d" * 64, "solve", {}, max_attempts=2)
    first = store.claim("dead-1", lease_s=0.05)
    assert first is not None and first.attempts == 1
    time.sleep(0.1)
    assert [j.state for j in store.requeue_expired()] == ["queued"]
    requeued = store.job(job.job_id)
    assert requeued is not None and requeued.error == "attempt 1: lease of dead-1 expired"
    assert not store.finish(job.job_id, "dead-1", 1, "succeeded")
    assert not store.heartbeat(job.job_id, "dead-1", 1, 30)
    second = store.claim("dead-2", lease_s=0.05)
    assert second is not None and second.attempts == 2
    assert store.requeue_expired() == []  # not expired yet
    time.sleep(0.1)
    [failed] = store.requeue_expired()
    assert failed.state == "failed"
    assert failed.error == "gave up after 2 attempts; attempt 2: lease of dead-2 expired"
    assert store.claim("w", lease_s=30) is None


def test_a_live_lease_is_kept_by_heartbeats_and_the_result_recorded(
    store: Store, key: str, tmp_path: Path
) -> None:
    job, _ = store.submit(key, "d" * 64, "solve", {})
    claim = store.claim("w", lease_s=0.2)
    assert claim is not None
    for _ in range(3):
        time.sleep(0.1)
        assert store.heartbeat(job.job_id, "w", claim.attempts, 0.2)
        assert store.requeue_expired() == []
    assert not store.report_progress(job.job_id, claim.attempts, 12.5, 10.0, 0.2)
    assert store.report_progress(job.job_id, claim.attempts + 1, 1.0, 1.0, 0.0)  # stale
    assert store.finish(
        job.job_id,
        "w",
        claim.attempts,
        "succeeded",
        result={"status": "optimal"},
        artifact=tmp_path / "plan",
    )
    done = store.job(job.job_id, key)
    assert done is not None and done.state == "succeeded" and done.lease_owner is None
    assert (done.incumbent_musd, done.best_bound_musd, done.gap_frac) == (12.5, 10.0, 0.2)
    assert done.result == {"status": "optimal"} and done.artifact == str(tmp_path / "plan")


def test_cancel_stops_queued_jobs_at_once_and_flags_running_ones(store: Store, key: str) -> None:
    running, _ = store.submit(key, "d" * 64, "solve", {})
    claim = store.claim("w", lease_s=30)
    assert claim is not None and claim.job_id == running.job_id
    queued, _ = store.submit(key, "d" * 64, "solve", {})
    cancelled = store.cancel(queued.job_id, key)
    assert cancelled is not None and cancelled.state == "cancelled"
    flagged = store.cancel(running.job_id, key)
    assert flagged is not None and flagged.state == "running" and flagged.cancel_requested
    assert store.report_progress(running.job_id, claim.attempts, None, None, None)
    assert store.jobs(key, state="cancelled") == [store.job(queued.job_id)]
    assert len(store.jobs(key, limit=1)) == 1 and len(store.jobs(key, offset=1)) == 1
    assert not store.delete(running.job_id, key)  # still running
    assert store.delete(queued.job_id, key) and store.job(queued.job_id) is None


def test_a_lost_worker_requeues_the_job_then_fails_it_with_the_reason(
    store: Store, key: str
) -> None:
    """``release``: what the dispatcher calls on Dask's KilledWorker. Only the claim holding
    the job may release it; the job is queued again until its attempts are used up, then
    failed with the reason; a job asked to cancel is cancelled instead."""
    job, _ = store.submit(key, "d" * 64, "solve", {}, max_attempts=2)
    first = store.claim("server", lease_s=30)
    assert first is not None
    assert store.release(job.job_id, "other-server", 1, "KilledWorker: x") is None
    requeued = store.release(job.job_id, "server", 1, "KilledWorker: worker died")
    assert requeued is not None and requeued.state == "queued"
    assert requeued.error == "attempt 1: KilledWorker: worker died"
    assert store.release(job.job_id, "server", 1, "again") is None  # no longer held
    second = store.claim("server", lease_s=30)
    assert second is not None and second.attempts == 2
    failed = store.release(job.job_id, "server", 2, "KilledWorker: worker died")
    assert failed is not None and failed.state == "failed" and failed.lease_owner is None
    assert failed.error == "gave up after 2 attempts; attempt 2: KilledWorker: worker died"
    cancelled, _ = store.submit(key, "d" * 64, "solve", {})
    claim = store.claim("server", lease_s=30)
    assert claim is not None and store.cancel(cancelled.job_id, key) is not None
    gone = store.release(cancelled.job_id, "server", claim.attempts, "KilledWorker: y")
    assert gone is not None and gone.state == "cancelled"


def test_progress_history_records_changes_per_attempt_and_goes_with_the_job(
    store: Store, key: str
) -> None:
    """Each change of (incumbent, bound, gap) is a point of the job's curve; a repeated
    report (the worker pushes every half second) or an empty one adds none, a stale attempt
    none; a re-run attempt starts its own points; deleting the job deletes them."""
    other = store.authenticate(store.create_key("other")) or ""
    job, _ = store.submit(key, "d" * 64, "solve", {}, max_attempts=2)
    assert store.progress(job.job_id, key) == [] and store.progress(job.job_id, other) is None
    first = store.claim("w", lease_s=30)
    assert first is not None
    store.report_progress(job.job_id, 1, None, None, None)
    store.report_progress(job.job_id, 1, None, 8.0, None)
    store.report_progress(job.job_id, 1, 12.0, 8.0, 0.5)
    store.report_progress(job.job_id, 1, 12.0, 8.0, 0.5)  # unchanged
    store.report_progress(job.job_id, 2, 1.0, 1.0, 0.0)  # not the attempt holding the lease
    assert store.release(job.job_id, "w", 1, "KilledWorker: x") is not None
    second = store.claim("w", lease_s=30)
    assert second is not None and second.attempts == 2
    store.report_progress(job.job_id, 2, 12.0, 8.0, 0.5)  # same values, new attempt
    store.report_progress(job.job_id, 2, 10.0, 10.0, 0.0)
    points = store.progress(job.job_id)
    assert points is not None
    assert [(p.attempt, p.incumbent_musd, p.best_bound_musd, p.gap_frac) for p in points] == [
        (1, None, 8.0, None),
        (1, 12.0, 8.0, 0.5),
        (2, 12.0, 8.0, 0.5),
        (2, 10.0, 10.0, 0.0),
    ]
    assert [p.at for p in points] == sorted(p.at for p in points)
    latest = store.job(job.job_id)
    assert latest is not None and latest.progress_at == points[-1].at
    assert store.finish(job.job_id, "w", 2, "succeeded", result={})
    assert store.delete(job.job_id, key)
    with store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM job_progress")).scalar() == 0


def test_a_long_progress_history_is_thinned_keeping_its_span(
    store: Store, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``PROGRESS_POINTS`` (10 here, to keep the test short) a job's curve keeps every
    second point (and its first and newest): bounded, still from the first report to the
    last."""
    monkeypatch.setattr(service_store, "PROGRESS_POINTS", 10)
    job, _ = store.submit(key, "d" * 64, "solve", {})
    assert store.claim("w", lease_s=30) is not None
    for i in range(35):
        store.report_progress(job.job_id, 1, 1000.0 - i, 0.0, 1.0)
        points = store.progress(job.job_id)
        assert points is not None and len(points) <= 10
    incumbents = [p.incumbent_musd for p in points]
    assert len(incumbents) >= 5
    assert incumbents[0] == 1000.0 and incumbents[-1] == 1000.0 - 34
    assert incumbents == sorted(incumbents, reverse=True)


def test_a_keys_scenarios_are_listed_newest_first_and_paginated(store: Store, key: str) -> None:
    """``scenarios``: what the key uploaded (solved or not), never another key's."""
    other = store.authenticate(store.create_key("other")) or ""
    for i in range(3):
        store.add_scenario(key, f"{i}" * 64, f"scenario {i}", {"sites": i})
    store.add_scenario(key, "0" * 64, "scenario 0", {"sites": 0})  # again: no new record
    store.add_scenario(other, "9" * 64, "theirs", {})
    listed = store.scenarios(key)
    assert [s.name for s in listed] == ["scenario 2", "scenario 1", "scenario 0"]
    assert listed[0].summary == {"sites": 2}
    assert [s.name for s in store.scenarios(key, limit=1, offset=1)] == ["scenario 1"]
    assert store.scenarios(key, offset=3) == []
    assert [s.name for s in store.scenarios(other)] == ["theirs"]


def _error(url: str, *statements: str, **connect_args: Any) -> DBAPIError:
    """The error SQLAlchemy raises running ``statements`` (in one transaction) on ``url``,
    for real."""
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.begin() as c:
            for statement in statements:
                c.exec_driver_sql(statement)
    except DBAPIError as e:
        return e
    finally:
        engine.dispose()
    raise AssertionError(f"{statements} did not fail")


def test_only_an_unreachable_database_counts_as_unavailable(tmp_path: Path) -> None:
    """The API answers 503 (retry) for these and 500 for everything else: a refused
    PostgreSQL connection and an SQLite file that cannot be opened are "down"; a statement
    timeout (also an OperationalError in psycopg), a missing table, bad SQL and a broken
    constraint are faults, not unavailability."""
    refused = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    assert unavailable(_error(refused, "SELECT 1", connect_timeout=2))
    no_folder = sqlite_url(tmp_path / "missing" / "jobs.db")
    assert unavailable(_error(no_folder, "SELECT 1"))
    with postgres_database() as url:
        timeout = _error(url, "SET statement_timeout = 50", "SELECT pg_sleep(2)")
        assert isinstance(timeout, OperationalError) and not unavailable(timeout)
        assert not unavailable(_error(url, "SELECT * FROM no_such_table"))
        assert not unavailable(_error(url, "SELEKT 1"))
    sqlite = sqlite_url(tmp_path / "jobs.db")
    missing = _error(sqlite, "SELECT * FROM no_such_table")
    assert isinstance(missing, OperationalError) and not unavailable(missing)
    insert = "INSERT INTO t VALUES (1)"
    duplicate = _error(sqlite, "CREATE TABLE t (x INTEGER UNIQUE)", insert, insert)
    assert isinstance(duplicate, IntegrityError) and not unavailable(duplicate)
