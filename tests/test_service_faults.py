"""The job store goes away: a private PostgreSQL cluster (tests.service_fixtures.PrivatePostgres,
never the shared one) behind a real ``gridsite serve`` is stopped for a few seconds while jobs
run and wait. The server answers 503 with a clear message meanwhile, and once PostgreSQL is
back every job ends succeeded: none lost, none stuck."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from optimizer.client import Client, ServiceError
from optimizer.service.store import Store
from tests.service_fixtures import (
    POSTGRES_BINARIES,
    PrivatePostgres,
    free_port,
    start_server,
    stop_server,
)
from tests.tiny import Tiny

pytestmark = pytest.mark.skipif(
    not POSTGRES_BINARIES, reason="no PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb)"
)

JOBS = 8
OUTAGE_S = 4.0


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_the_store_down_for_seconds_answers_503_and_loses_nothing(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    store = Store(postgres.url)
    store.migrate()
    key = store.create_key("faults")
    store.close()
    port = free_port()
    options = ("--database", postgres.url, "--lease", "10")
    server = start_server(tmp_path / "data", port, tmp_path / "server.log", *options)
    url = f"http://127.0.0.1:{port}"
    try:
        with Client(url, key) as gs:
            scenario = gs.upload(Tiny(tmp_path).write())["id"]
            submitted = [gs.submit(scenario, "solve", {"plots": False})["id"] for _ in range(JOBS)]
            postgres.stop()
            down = time.monotonic()
            with pytest.raises(ServiceError) as refused:
                gs.submit(scenario, "solve", {"plots": False})
            assert refused.value.status == 503
            assert refused.value.detail == "the job store is unavailable; retry shortly"
            health = httpx.get(f"{url}/healthz", timeout=10)
            assert health.status_code == 503 and health.headers["Retry-After"] == "2"
            with pytest.raises(ServiceError) as listing:
                gs.jobs()
            assert listing.value.status == 503
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))
            postgres.start()
            submitted.append(gs.submit(scenario, "solve", {"plots": False})["id"])
            done = [gs.wait(job_id, timeout_s=180) for job_id in submitted]
            succeeded = [j for j in done if j["state"] == "succeeded"]
            lost = len(submitted) - len(done)
            print(
                f"store outage {OUTAGE_S:g} s: {len(submitted)} submitted, "
                f"{len(succeeded)} succeeded, {lost} lost"
            )
            assert len(succeeded) == len(submitted) == JOBS + 1, done
            assert all(j["result"]["objective_musd"] == pytest.approx(100.0) for j in done)
            assert gs.jobs(state="running") == [] and gs.jobs(state="queued") == []
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    finally:
        stop_server(server)
