"""Fixtures for the service tests: a throw-away database on SQLite and on the real
PostgreSQL at 127.0.0.1:5432 (trust auth; each test gets its own database, dropped after)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.client import Client
from optimizer.service.store import Store, sqlite_url
from optimizer.service.web import COOKIE
from tests.tiny import Tiny

POSTGRES = "host=127.0.0.1 port=5432 dbname=postgres user=postgres"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new empty PostgreSQL database ``gridsite_test_<random>``; its SQLAlchemy URL."""
    name = f"gridsite_test_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A database URL of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield sqlite_url(folder / "jobs.db")
    else:
        with postgres_database() as url:
            yield url


GRIDSITE = str(Path(sys.executable).with_name("gridsite"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Dask re-runs a task whose worker died this many times before it gives up (KilledWorker);
#: 3 is its default, set here explicitly. The job store's attempts must be the only retries
#: all the same: the server's local cluster allows 0 whatever the environment says, and an
#: external cluster's own re-run of an attempt stops at once (WorkerLost).
DASK_RETRIES = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "3"}

#: Dask's local cluster closes the nanny of a worker that has not registered again this long
#: after its process died, and starts no other (15 s by default: a worker killed again while
#: it restarts on a loaded machine). 0 s makes every killed worker that case.
NANNY_DROPPED_AT_ONCE = {"DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT": "0s"}


def start_server(
    artifacts: Path, port: int, log: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``gridsite serve`` on 127.0.0.1:``port`` in a session of its own (so its Dask worker
    processes can be found and stopped with it), once ``/healthz`` answers; ``env`` added to
    this process's environment."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [GRIDSITE, "serve", "--port", str(port), "--artifacts", str(artifacts), *options],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise TimeoutError("the server did not come up")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server (SIGTERM), then whatever is left of its session (SIGKILL)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Server:
    """A running ``gridsite serve`` for the HTTP and web tests: its URL, a planner's key and
    another user's, its artifacts folder, the tiny scenario folder the tests upload."""

    url: str
    key: str
    other_key: str
    artifacts: Path
    scenario: Path
    process: subprocess.Popen[bytes]

    def client(self, key: str | None = None) -> Client:
        return Client(self.url, key or self.key)

    def store(self) -> Store:
        return Store(sqlite_url(self.artifacts / "gridsite.db"))

    def http(self, key: str | None = None, origin: str | None = None) -> httpx.Client:
        """A plain HTTP client carrying the sign-in cookie of ``key`` (if any) and an
        ``Origin`` header (this server's, unless another is given)."""
        headers = {"Origin": origin or self.url}
        if key:
            headers["Cookie"] = f"{COOKIE}={key}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@contextmanager
def served(folder: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A server on a free port with its artifacts in ``folder``/data, two API keys (made
    with ``gridsite keys create`` and through the store) and the tiny scenario written;
    stopped afterwards. ``options`` go to ``gridsite serve``."""
    artifacts = folder / "data"
    created = CliRunner().invoke(app, ["keys", "create", "planner", "--artifacts", str(artifacts)])
    assert created.exit_code == 0, created.output
    store = Store(sqlite_url(artifacts / "gridsite.db"))
    other_key = store.create_key("someone else")
    store.close()
    port = free_port()
    process = start_server(artifacts, port, folder / "server.log", *options, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        scenario = Tiny(folder).write()
        yield Server(url, created.output.strip(), other_key, artifacts, scenario, process)
    finally:
        stop_server(process)


POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (Debian's binaries) in a temporary folder on a free
    port, trust auth on 127.0.0.1, that a test may stop and start: never the shared one at
    5432. As root the server runs as the ``postgres`` user (``runuser``), as PostgreSQL
    refuses to run as root."""

    def __init__(self) -> None:
        self.bin = POSTGRES_BINARIES[-1].parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="gridsite-pg-"))
        self.data = self.folder / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
