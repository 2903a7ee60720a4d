"""Real journald files for the tests: entries written in journald's export format and turned
into a `.journal` file by systemd-journal-remote, which `journalctl --directory` then reads."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers.system import require_binary

BOOT_ID = "0123456789abcdef0123456789abcdef"


def sshd_entry(message: str, realtime_us: int, pid: int, hostname: str = "web1") -> dict:
    """One sshd entry as journald stores it."""
    return {
        "__REALTIME_TIMESTAMP": str(realtime_us),
        "__MONOTONIC_TIMESTAMP": str(realtime_us % 10**9 + 1),
        "_BOOT_ID": BOOT_ID,
        "_HOSTNAME": hostname,
        "_PID": str(pid),
        "_COMM": "sshd",
        "SYSLOG_IDENTIFIER": "sshd",
        "MESSAGE": message,
    }


def write_journal(directory: Path, entries: list[dict], name: str = "system.journal") -> Path:
    """`entries` as the journal file `directory/name` (the directory is created)."""
    remote = require_binary("systemd-journal-remote")
    directory.mkdir(parents=True, exist_ok=True)
    export = directory.parent / f"{name}.export"
    lines = []
    for i, entry in enumerate(entries, 1):
        lines.append(f"__CURSOR=s=1;i={i}")
        lines.extend(f"{key}={value}" for key, value in entry.items())
        lines.append("")
    export.write_text("\n".join(lines) + "\n")
    target = directory / name
    subprocess.run(
        [remote, "-o", str(target), str(export)], check=True, capture_output=True, timeout=60
    )
    export.unlink()
    return target
