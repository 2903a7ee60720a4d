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
