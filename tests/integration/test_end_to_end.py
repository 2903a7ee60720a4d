"""Auditor and agent as real processes on loopback: a new listener and a new key
show up in the auditor within seconds, and their removal shows up in the history."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid

import pytest

from palisade.shared import sshkeys
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN, require_binary, require_root

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]


@pytest.fixture
def temp_account(tmp_path):
    require_root()
    useradd = require_binary("useradd")
    name = f"pe2e{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home" / name
    home.parent.mkdir()
    subprocess.run([useradd, "-m", "-d", str(home), "-s", "/usr/sbin/nologin", name], check=True)
    try:
        yield name, home
    finally:
        subprocess.run([require_binary("userdel"), name], check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def running_agent(auditor, tmp_path):
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-e2e")
    log = open(tmp_path / "agent.log", "ab")
    proc = subprocess.Popen(
        [str(BIN / "palisade-agent"), "run", "--state-dir", str(state_dir), "--interval", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=15)


def _show(auditor):
    return auditor.cli_json("instance", "show", "i-e2e")


def _has_listener(view, port):
    return any(lis["port"] == port and lis["protocol"] == "tcp" for lis in view["listeners"])


def _key_fingerprints(view, user):
    return {
        k.get("fingerprint_sha256")
        for f in view["authorized_keys"]
        if f["user"] == user
        for k in f.get("keys", [])
    }


def test_new_listener_and_key_appear_then_their_removal_is_history(
    auditor, running_agent, temp_account, tmp_path
):
    user, home = temp_account
    keygen = require_binary("ssh-keygen")
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(tmp_path / "k")],
        check=True,
    )
    pub_line = (tmp_path / "k.pub").read_text().strip()
    fingerprint = sshkeys.parse_public_key(pub_line).fingerprint_sha256

    wait_for(lambda: _show(auditor)["snapshot_at_ms"], 20, what="the first snapshot")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    keys_file = ssh_dir / "authorized_keys"
    keys_file.write_text(pub_line + "\n")
    os.chmod(keys_file, 0o600)

    view = wait_for(
        lambda: (
            (v := _show(auditor))
            and _has_listener(v, port)
            and fingerprint in _key_fingerprints(v, user)
            and v
        ),
        15,
        what="the new listener and key in the auditor",
    )
    (lis,) = [x for x in view["listeners"] if x["port"] == port and x["protocol"] == "tcp"]
    assert lis["pid"] == os.getpid()
    (kfile,) = [f for f in view["authorized_keys"] if f["user"] == user]
    assert kfile["path"] == str(keys_file)
    assert kfile["mode"] == 0o600

    listener.close()
    keys_file.write_text("")
    history = wait_for(
        lambda: (
            (h := _show(auditor)["history"])
            and {"listener_removed", "key_removed"} <= {c["kind"] for c in h}
            and h
        ),
        15,
        what="the removals in the history",
    )
    kinds = [(c["kind"], c["subject"]) for c in history]
    assert ("listener_added", f"tcp 127.0.0.1:{port} ({lis['process_name']})") in kinds
    assert ("listener_removed", f"tcp 127.0.0.1:{port} ({lis['process_name']})") in kinds
    assert ("key_added", f"{user} {keys_file} ssh-ed25519 {fingerprint}") in kinds
    assert ("key_removed", f"{user} {keys_file} ssh-ed25519 {fingerprint}") in kinds

    listed = auditor.cli_json("instances")
    assert [i["instance_id"] for i in listed] == ["i-e2e"]
