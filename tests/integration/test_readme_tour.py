"""The README's tour runs as written: every fenced block marked ```sh tour, in order, as one
bash script (`set -e`), in a directory laid out as a fresh clone is (`.venv`, `examples/`).

`make run` / `make stop` start and stop the real thing (`palisade up` / `palisade down`: an
auditor and an agent enrolled to it on this host) with the test's own data dir
(PALISADE_DATA_DIR) and free loopback ports instead of the fixed 8080/50051. Any non-zero exit,
or a traceback anywhere in the output, fails the test. As root it runs in a UTS namespace
whose host name has hyphens (as most have), so the instance id the tour derives from the host
name must be the one `make run` enrolled and one ECS's id pattern accepts.

`parse-log` without a file reads journald. A Debian 12 host has a journal; a container may
have none and no /var/log/auth.log either: then the test gives this host a small journal (as
root, removed afterwards), as a Debian 12 machine would have.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.journal import sshd_entry, write_journal
from tests.helpers.system import require_binary, require_root

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
TOUR_HOST = "tour-host-01"  # its instance id: i-tourhost01
_TOUR_BLOCK = re.compile(r"^```sh tour\n(.*?)^```$", re.S | re.M)

# `make run` and `make stop` as the Makefile runs them, but on the test's data dir and ports.
_PREAMBLE = """\
set -eo pipefail
make() {
  case "$1" in
    run) .venv/bin/palisade up --grpc 127.0.0.1:0 --http 127.0.0.1:0 ;;
    stop) .venv/bin/palisade down ;;
    *) echo "make $1: not part of the tour" >&2; return 1 ;;
  esac
}
trap '.venv/bin/palisade down >/dev/null 2>&1 || true' EXIT
"""


def tour_script(readme: str) -> str:
    blocks = _TOUR_BLOCK.findall(readme)
    assert blocks, "README.md has no ```sh tour block"
    return "\n".join(blocks)


def _host_has_login_logs() -> bool:
    from palisade.agent.collectors.logins.log_file import JOURNAL_DIRECTORIES
    from palisade.agent.parse_log import SYSLOG_FILES

    journals = any(
        glob.glob(os.path.join(d, "**", "*.journal*"), recursive=True) for d in JOURNAL_DIRECTORIES
    )
    return journals or any(os.path.exists(p) for p in SYSLOG_FILES)


@contextlib.contextmanager
def _a_journal_if_none(tmp: Path) -> Iterator[None]:
    """A journal for this host while the tour runs, when it has no login logs at all."""
    if _host_has_login_logs():
        yield
        return
    require_root()
    require_binary("journalctl")
    machine = Path("/etc/machine-id").read_text().strip()
    made = [p for p in (Path("/run/log"), Path("/run/log/journal")) if not p.exists()]
    target = Path("/run/log/journal") / machine
    if not target.exists():
        made.append(target)
    built = write_journal(
        tmp / "journal",
        [sshd_entry("Failed password for root from 203.0.113.9 port 52222 ssh2", 10**15, 42)],
        name="palisade-tour.journal",
    )
    target.mkdir(parents=True, exist_ok=True)
    placed = target / built.name
    shutil.copyfile(built, placed)
    try:
        yield
    finally:
        placed.unlink(missing_ok=True)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()


def test_the_readme_tour_runs_as_written(tmp_path):
    require_binary("bash")
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(VENV)
    shutil.copytree(REPO / "examples", clone / "examples")
    script = _PREAMBLE + tour_script((REPO / "README.md").read_text())
    env = {**os.environ, "PALISADE_DATA_DIR": str(tmp_path / "data")}
    for name in ("PALISADE_ACCESS_KEY_ID", "PALISADE_ACCESS_KEY_SECRET", "PALISADE_SECURITY_TOKEN"):
        env.pop(name, None)  # the tour runs as the account owner, as a new user does
    command = ["bash", "-c", script]
    if os.geteuid() == 0 and shutil.which("unshare"):
        # a host name with a hyphen, as most have: the ids the tour derives from it must hold
        command = ["unshare", "--uts", "bash", "-c", f"hostname {TOUR_HOST}\n{script}"]
    with _a_journal_if_none(tmp_path):
        done = subprocess.run(
            command,
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    # the tour did what it says, not merely exit 0
    assert "ALLOWED: tcp/22 from internet to i-" in done.stdout
    if command[0] == "unshare":
        assert f"ALLOWED: tcp/22 from internet to i-{TOUR_HOST.replace('-', '')}" in done.stdout
    assert '"Tcp25Unblocked": true' in done.stdout
    assert "done: CreateSecurityGroup sg-bp1fg655nh68xyz9i2a1: legacy-web" in done.stdout
    assert "stopped the auditor" in done.stdout
