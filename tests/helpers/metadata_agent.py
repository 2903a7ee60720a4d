"""A real `palisade-agent run` serving the instance metadata endpoint on a loopback port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.polling import wait_for
from tests.helpers.system import BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> tuple[int, str]:
    """(status, body); (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


@contextlib.contextmanager
def metadata_agent(state_dir: Path, log_path: Path, interval: int) -> Iterator[str]:
    """`palisade-agent run` for the enrolled agent in `state_dir`, its output appended to
    `log_path`; yields the metadata endpoint's base URL once it answers, and stops the agent."""
    port = free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                str(BIN / "palisade-agent"),
                "run",
                "--state-dir",
                str(state_dir),
                "--interval",
                str(interval),
                "--metadata-address",
                f"127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}/latest/meta-data"
            wait_for(
                lambda: http_get(f"{base}/instance-id")[0] == 200, 30, what="metadata endpoint"
            )
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)
