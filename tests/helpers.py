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


def start_auditor(data_dir: Path, *extra: str) -> AuditorProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
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
    return AuditorProcess(data_dir, proc, state["grpc"], state["enroll"], state["http"])
