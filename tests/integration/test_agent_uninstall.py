"""`palisade-agent uninstall` through real processes: an auditor (`palisade serve`), an agent
enrolled to it that ran and reported, then uninstalled. The auditor revokes the certificate
(Ingest.Revoke), refuses it afterwards, and the state dir and the service unit are gone."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess

import grpc
import pytest

from palisade.agent.state import AgentState
from palisade.agent.transport import CHANNEL_OPTIONS
from palisade.shared.proto import agent_pb2, agent_pb2_grpc
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

INSTANCE = "i-uninstall1"


@pytest.fixture
def auditor(tmp_path):
    proc = start_auditor(tmp_path / "auditor")
    yield proc
    proc.stop()


def _uninstall(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "palisade-agent"), "uninstall", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _reported(auditor) -> bool:
    shown = auditor.cli("instance", "show", INSTANCE, "--json", check=False)
    return shown.returncode == 0 and bool(json.loads(shown.stdout).get("snapshot_at_ms"))


def _spool_messages(state_dir) -> int:
    shown = subprocess.run(
        [str(BIN / "palisade-agent"), "status", "--state-dir", str(state_dir), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return json.loads(shown.stdout)["spool_messages"]


def _revoke_with(state: AgentState, address: str) -> grpc.StatusCode | None:
    """Ingest.Revoke with `state`'s certificate: None if accepted, else the refusal's code."""
    with grpc.secure_channel(address, state.credentials(), options=CHANNEL_OPTIONS) as channel:
        try:
            agent_pb2_grpc.IngestStub(channel).Revoke(agent_pb2.RevokeRequest(), timeout=15)
        except grpc.RpcError as exc:
            return exc.code()
    return None


def test_uninstall_revokes_the_certificate_and_removes_state_and_unit(auditor, tmp_path):
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, INSTANCE)
    agent = subprocess.Popen(
        [str(BIN / "palisade-agent"), "run", "--state-dir", str(state_dir), "--interval", "3600",
         "--metadata-address", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    unit = tmp_path / "palisade-agent.service"
    unit.write_text("[Service]\nExecStart=/usr/bin/palisade-agent run --state-dir /x\n")
    try:
        wait_for(lambda: _reported(auditor), 60, what="the agent's first snapshot")
        # one snapshot an hour: once it is acknowledged the spool stays empty
        wait_for(lambda: _spool_messages(state_dir) == 0, 60, what="the spool to drain")
        running = _uninstall("--state-dir", str(state_dir), "--unit", str(unit))
        assert running.returncode == 1, running.stderr
        assert "still running" in running.stderr and "nothing was removed" in running.stderr
        assert state_dir.exists() and unit.exists()
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    kept = tmp_path / "kept-copy"  # what an attacker who copied the key would hold
    shutil.copytree(state_dir, kept)

    done = _uninstall(
        "--state-dir", str(state_dir), "--unit", str(unit), "--reason", "decommission"
    )
    assert done.returncode == 0, done.stderr
    assert f"the auditor revoked the certificate of {INSTANCE}" in done.stdout
    assert not state_dir.exists() and not unit.exists()

    # the auditor refuses the revoked certificate: on every call of the mutual-TLS port
    assert _revoke_with(AgentState.load(kept), auditor.grpc) is grpc.StatusCode.PERMISSION_DENIED
    # the instance's facts stay, and it may enrol again with a new token
    assert _reported(auditor)
    again = enroll_agent(auditor, tmp_path / "agent2", INSTANCE)
    assert _revoke_with(again, auditor.grpc) is None


def test_uninstall_without_an_auditor_refuses_unless_forced(auditor, tmp_path):
    state_dir = tmp_path / "agent"
    state = enroll_agent(auditor, state_dir, INSTANCE)
    state.auditors = ["127.0.0.1:1"]  # nothing listens there
    state.save()
    refused = _uninstall("--state-dir", str(state_dir), "--unit", str(tmp_path / "none.service"))
    assert refused.returncode == 1
    assert "no auditor revoked the certificate" in refused.stderr
    assert state_dir.exists()
    forced = _uninstall(
        "--state-dir", str(state_dir), "--unit", str(tmp_path / "none.service"), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert "stays valid at the auditor" in forced.stderr
    assert not state_dir.exists()
