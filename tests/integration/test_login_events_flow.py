"""Login lines written to a log reach the auditor exactly once, across an agent restart."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

LINES = [
    "Nov 29 04:10:0{i} web-01 sshd[31{i}]: Failed password for root from 203.0.113.{i} "
    "port 4000{i} ssh2",
    "Nov 29 04:11:0{i} web-01 sshd[32{i}]: Accepted publickey for deploy from 198.51.100.{i} "
    "port 5100{i} ssh2: ED25519 SHA256:9mB5ls0u6YvV5cYx1lJ0bZr0vNn3Vt9xDq3cE2n7gWk",
]


def _start_agent(state_dir, log_path, out):
    return subprocess.Popen(
        [
            str(BIN / "palisade-agent"),
            "run",
            "--state-dir",
            str(state_dir),
            "--interval",
            "5",
            "--event-interval",
            "0.2",
            "--login-log",
            str(log_path),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def test_login_events_are_stored_once_across_restarts(backend_auditor, tmp_path):
    auditor = backend_auditor
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-logins")
    log_path = tmp_path / "auth.log"
    with open(log_path, "w") as f:
        for i in range(3):
            f.write(LINES[0].format(i=i) + "\n")
    out = open(tmp_path / "agent.log", "ab")

    def logins():
        return auditor.cli_json("instance", "show", "i-logins")["logins"]

    agent = _start_agent(state_dir, log_path, out)
    try:
        wait_for(lambda: len(logins()) == 3, 20, what="three failed logins")
    finally:
        agent.terminate()
        agent.wait(timeout=15)
    with open(log_path, "a") as f:  # written while the agent is down
        for i in range(2):
            f.write(LINES[1].format(i=i) + "\n")
    # the agent forgets its read positions: everything is re-read and re-sent
    (state_dir / "logins.json").unlink()
    agent = _start_agent(state_dir, log_path, out)
    try:
        wait_for(lambda: len(logins()) == 5, 20, what="the two logins written while down")
        events = logins()
    finally:
        agent.terminate()
        agent.wait(timeout=15)
    assert len(events) == 5, "re-sent events were stored twice"
    results = sorted((e["result"], e["source_ip"]) for e in events)
    assert results == [
        ("failure", "203.0.113.0"),
        ("failure", "203.0.113.1"),
        ("failure", "203.0.113.2"),
        ("success", "198.51.100.0"),
        ("success", "198.51.100.1"),
    ]
    accepted = next(e for e in events if e["result"] == "success")
    assert accepted["key_fingerprint"] == "SHA256:9mB5ls0u6YvV5cYx1lJ0bZr0vNn3Vt9xDq3cE2n7gWk"
