"""A real `palisade serve` process on loopback, in its own data directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.polling import wait_for
from tests.helpers.postgres import create_postgres_database, drop_postgres_database
from tests.helpers.system import BIN


@dataclass
class AuditorProcess:
    data_dir: Path
    proc: subprocess.Popen
    grpc: str
    enroll: str
    http: str
    database: str | None = None  # a PostgreSQL database made for this auditor, dropped at stop

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "palisade"), "--data-dir", str(self.data_dir), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and done.returncode:  # the failure's report carries what the command said
            raise AssertionError(
                f"palisade {' '.join(args)} exited {done.returncode}\n"
                f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-4000:]}"
            )
        return done

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
    """`palisade serve` on ephemeral loopback ports; with PALISADE_TEST_DB=postgresql://...
    on a fresh database of that server, otherwise on SQLite in `data_dir`."""
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


@contextlib.contextmanager
def auditor_replicas(root: Path, database: str, count: int, *extra: str) -> Iterator[list]:
    """`count` `palisade serve` processes on one (PostgreSQL) `database`, sharing the first
    one's CA as replicas do; in `root`/r0, r1, ...; stopped at the end (the database is the
    caller's)."""
    replicas: list[AuditorProcess] = []
    try:
        for n in range(count):
            data_dir = root / f"r{n}"
            if n:  # replicas share the CA (and its server identity): copy it
                shutil.copytree(root / "r0" / "ca", data_dir / "ca")
            replicas.append(start_auditor(data_dir, "--db", database, *extra))
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RestartableAuditor(AuditorProcess):
    """`palisade serve` on fixed loopback ports, so that it can be killed and started again
    where the enrolled agent expects it; `proc` is None until `start`."""

    def start(self):
        (self.data_dir / "auditor.json").unlink(missing_ok=True)
        log = open(self.data_dir.parent / "auditor.log", "ab")
        self.proc = subprocess.Popen(
            [
                str(BIN / "palisade"),
                "--data-dir",
                str(self.data_dir),
                "serve",
                "--grpc",
                self.grpc,
                "--enroll",
                self.enroll,
                "--http",
                "127.0.0.1:0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: (self.data_dir / "auditor.json").exists(), 30, what="auditor up")
        self.http = json.loads((self.data_dir / "auditor.json").read_text())["http"]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @classmethod
    def started(cls, data_dir: Path) -> RestartableAuditor:
        """A new auditor in `data_dir` (created), on two free loopback ports, started."""
        data_dir.mkdir()
        auditor = cls(
            data_dir, None, f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}", http=""
        )
        auditor.start()
        return auditor
