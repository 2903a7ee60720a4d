"""Throwaway databases on the test PostgreSQL server.

PALISADE_TEST_PG names the server (default: postgres on 127.0.0.1:5432). Tests that use it
carry the `needs_db` marker. PALISADE_TEST_DB=postgresql://user@host:port/db runs every
auditor the tests start on a fresh database of that server; the storage tests run on both
backends regardless.
"""

from __future__ import annotations

import os

import pytest

from tests.helpers.system import IN_CI

PG_SERVER = os.environ.get("PALISADE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available(server: str = PG_SERVER) -> bool:
    try:
        import psycopg

        with psycopg.connect(server, connect_timeout=3):
            return True
    except Exception:
        return False


def create_postgres_database(server: str = PG_SERVER) -> str:
    """A new empty database on the server; returns its URL."""
    import uuid

    import psycopg

    name = f"palisade_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(url: str, server: str = PG_SERVER) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_postgres() -> None:
    if not postgres_available():
        message = f"PostgreSQL is not reachable at {PG_SERVER} (CI runs one on 127.0.0.1:5432)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
