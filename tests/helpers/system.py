"""The machine the tests run on: CI or not, the installed console scripts, binaries, root.

In CI (CI=true) a missing binary or missing root fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BIN = Path(sys.executable).parent


def require_binary(name: str) -> str:
    """Path of a system binary (also systemd's helpers, which are not on PATH); in CI a missing
    one fails the test instead of skipping it."""
    path = shutil.which(name) or next(
        (
            str(Path(d, name))
            for d in ("/usr/sbin", "/sbin", "/usr/lib/systemd", "/lib/systemd")
            if Path(d, name).exists()
        ),
        None,
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
