"""`palisade-agent enroll` against a real auditor process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from palisade.agent.state import AgentState
from tests.helpers.auditor_process import AuditorProcess
from tests.helpers.system import BIN


def enroll_agent(auditor: AuditorProcess, state_dir: Path, instance_id: str) -> AgentState:
    """`palisade-agent enroll` for one instance, with a fresh token; the agent's saved state."""
    subprocess.run(
        [str(BIN / "palisade-agent"), "enroll", "--auditor", auditor.grpc, "--enroll-address",
         auditor.enroll, "--token", auditor.token(instance_id), "--state-dir", str(state_dir)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return AgentState.load(state_dir)


def start_agent(
    state_dir: Path,
    login_log: Path,
    *extra: str,
    output: Path | None = None,
    interval: str = "30",
    event_interval: str = "0.2",
) -> subprocess.Popen:
    """`palisade-agent run` for an enrolled state dir, following `login_log` for logins
    (events every `event_interval` s, snapshots every `interval` s); its output appended to
    `output` (else the state dir's agent.log). The caller stops it."""
    out = open(output or state_dir / "agent.log", "ab")
    return subprocess.Popen(
        [str(BIN / "palisade-agent"), "run", "--state-dir", str(state_dir), "--interval",
         interval, "--event-interval", event_interval, "--login-log", str(login_log), *extra],
        stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
