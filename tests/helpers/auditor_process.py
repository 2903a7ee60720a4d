"""Helpers shared by the tests: real binaries, a real auditor process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BIN = Path(sys.executable).parent


def require_binary(name: str) -> str:
    """Path of a system binary; in CI a missing one fails the test instead of skipping it."""
    path = shutil.which(name) or next(
        (str(Path(d, name)) for d in ("/usr/sbin", "/sbin") if Path(d, name).exists()), None
    )
    if path:
        return path
    message = f"{name} is not installed (make test installs it: .ci/system-deps)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("this test needs root; CI runs as root")
        pytest.skip("needs root")


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class AuditorProcess:
    data_dir: Path
    proc: subprocess.Popen
    grpc: str
    enroll: str
    http: str
    database: str | None = None  # a PostgreSQL database made for this auditor, dropped at stop

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "palisade"), "--data-dir", str(self.data_dir), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, "--json").stdout)

    def token(self, instance_id: str, ttl: str = "10m") -> str:
        return self.cli(
            "token", "create", "--instance-id", instance_id, "--ttl", ttl
        ).stdout.strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.database:
            drop_postgres_database(self.database, os.environ["PALISADE_TEST_DB"])
            self.database = None


def start_auditor(data_dir: Path, *extra: str) -> AuditorProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    test_db = os.environ.get("PALISADE_TEST_DB", "")
    database = None
    if test_db.startswith("postgresql") and "--db" not in extra:
        database = create_postgres_database(test_db)
        extra = (*extra, "--db", database)
    log = open(data_dir / "auditor.log", "ab")
    proc = subprocess.Popen(
        [
            str(BIN / "palisade"),
            "--data-dir",
            str(data_dir),
            "serve",
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    state_file = data_dir / "auditor.json"
    try:
        wait_for(lambda: state_file.exists() or proc.poll() is not None, 30, what="auditor start")
    except AssertionError:
        proc.kill()
        raise
    if proc.poll() is not None:
        raise AssertionError("auditor exited: " + (data_dir / "auditor.log").read_text()[-3000:])
    state = json.loads(state_file.read_text())
    return AuditorProcess(data_dir, proc, state["grpc"], state["enroll"], state["http"], database)


# -- databases ---------------------------------------------------------------------------
# PALISADE_TEST_DB=postgresql://user@host:port/db runs every auditor the tests start on a
# fresh database of that PostgreSQL server; the storage tests run on both regardless.

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


def enroll_agent(auditor: AuditorProcess, state_dir: Path, instance_id: str) -> None:
    """`palisade-agent enroll` for one instance, with a fresh token."""
    subprocess.run(
        [str(BIN / "palisade-agent"), "enroll", "--auditor", auditor.grpc, "--enroll-address",
         auditor.enroll, "--token", auditor.token(instance_id), "--state-dir", str(state_dir)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
