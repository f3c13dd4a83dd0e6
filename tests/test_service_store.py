"""The job store on SQLite and on the real PostgreSQL: keys, idempotent submits, atomic
claims with leases, expiry and retry, progress and cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from optimizer.service.store import Store
from tests.service_fixtures import database


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
    assert {"api_keys", "scenarios", "jobs", "artifacts", "alembic_version"} <= tables
    with store.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


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
