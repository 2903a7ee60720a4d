"""`palisade-agent parse-log` on a real journal: journald files made by systemd-journal-remote,
read through `journalctl -o json` by the installed command (a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.journal import sshd_entry, write_journal
from tests.helpers.system import require_binary

pytestmark = pytest.mark.integration

AGENT = str(Path(sys.executable).parent / "palisade-agent")
T0 = 1_765_000_000_000_000  # 2025-12-06T05:46:40Z, microseconds


def _parse_log(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AGENT, "parse-log", *args], capture_output=True, text=True, timeout=120)


def test_parse_log_reads_a_journal_through_journalctl(tmp_path):
    require_binary("journalctl")
    journal = tmp_path / "journal"
    write_journal(
        journal,
        [
            sshd_entry("Failed password for root from 203.0.113.9 port 52222 ssh2", T0, 4242),
            sshd_entry("Invalid user admin from 203.0.113.9 port 52224", T0 + 10**6, 4243),
            sshd_entry(
                "Accepted password for alice from 198.51.100.7 port 40000 ssh2",
                T0 + 2 * 10**6,
                4244,
            ),
            {
                **sshd_entry("Started Session 1 of User alice.", T0, 1),
                "SYSLOG_IDENTIFIER": "systemd",
            },
        ],
    )
    done = _parse_log("--directory", str(journal), "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["result"], e["user"], e["source_ip"]) for e in events] == [
        ("failure", "root", "203.0.113.9"),
        ("invalid_user", "admin", "203.0.113.9"),
        ("success", "alice", "198.51.100.7"),
    ]
    assert events[0]["time"] == "2025-12-06T05:46:40Z"

    table = _parse_log("--directory", str(journal))
    assert table.returncode == 0
    assert "3 events (journal-json)" in table.stderr


def test_a_directory_without_a_journal_is_a_clear_error(tmp_path):
    done = _parse_log("--directory", str(tmp_path))
    assert done.returncode == 2
    assert f"cannot read the journal in {tmp_path}: no journal files" in done.stderr
    assert "Traceback" not in done.stderr
