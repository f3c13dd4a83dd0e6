"""Fixtures for the service tests: a throw-away database on SQLite and on the real
PostgreSQL at 127.0.0.1:5432 (trust auth; each test gets its own database, dropped after)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from optimizer.service.store import sqlite_url

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
