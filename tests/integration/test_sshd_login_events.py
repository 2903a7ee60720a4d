"""A real OpenSSH server on loopback is attacked with paramiko; the agent, following the
server's log in syslog format, reports exactly those logins to a real auditor.

sshd runs in the foreground with `-e` (log to stderr, as tests/sshd.py starts it); a relay
thread adds the header rsyslog would write (`Mon DD HH:MM:SS host sshd[pid]: `) to each line
and appends it to the auth.log the agent follows.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from palisade.shared import sshkeys
from tests.helpers.agent_enrollment import enroll_agent, start_agent
from tests.helpers.polling import wait_for
from tests.helpers.sshd import SyslogRelay, ssh_client, ssh_server
from tests.helpers.system import require_binary

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]

paramiko = pytest.importorskip("paramiko")

HOSTNAME = "palisade-sshd-test"
INVALID_USER = "nosuchuser7"
ATTEMPT_RESULTS = {"success", "failure", "invalid_user", "refused", "too_many_failures"}


def _key_pair(tmp_path: Path) -> tuple[Path, str]:
    keygen = require_binary("ssh-keygen")
    key = tmp_path / "id_ed25519"
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "attacker@test", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key, (tmp_path / "id_ed25519.pub").read_text()


def test_agent_reports_the_attack_on_a_real_sshd(auditor, tmp_path):
    key_path, public_line = _key_pair(tmp_path)
    fingerprint = sshkeys.parse_public_key(public_line).fingerprint_sha256
    keygen_fp = subprocess.run(
        [require_binary("ssh-keygen"), "-lf", str(key_path) + ".pub"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[1]
    assert fingerprint == keygen_fp

    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-sshd-attack")
    auth_log = tmp_path / "auth.log"
    auth_log.touch()
    agent = start_agent(state_dir, auth_log, output=tmp_path / "agent.log")
    relay = None
    try:
        with ssh_server(password_authentication=True) as server:
            server.authorize(public_line)
            relay = SyslogRelay(server.log_path, auth_log, server.proc.pid, HOSTNAME)
            relay.start()
            for attempt in range(3):
                with pytest.raises(paramiko.AuthenticationException):
                    ssh_client(server, server.user, password=f"wrong-{attempt}")
            with pytest.raises(paramiko.AuthenticationException):
                ssh_client(server, INVALID_USER, password="guess")
            ssh_client(
                server, server.user, pkey=paramiko.Ed25519Key.from_private_key_file(key_path)
            )
            user = server.user

            def logged_in() -> bool:
                return any(line.startswith("Accepted publickey") for line in relay.lines)

            wait_for(logged_in, 15, what="sshd to log the key login")
            time.sleep(0.5)  # the session's closing lines
            relay.stop.set()
            relay.join(10)  # before the server's log goes away

        def attempts() -> list[dict]:
            logins = auditor.cli_json("instance", "show", "i-sshd-attack")["logins"]
            return [e for e in logins if e["result"] in ATTEMPT_RESULTS]

        wait_for(lambda: any(e["result"] == "success" for e in attempts()), 30, what="the login")
        time.sleep(1.0)  # anything else the agent would (wrongly) still send
        logins = auditor.cli_json("instance", "show", "i-sshd-attack")["logins"]
    finally:
        if relay is not None:
            relay.stop.set()
        agent.terminate()
        agent.wait(timeout=15)

    def view(e: dict) -> tuple:
        return (e.get("user"), e.get("source_ip"), e.get("method"), e["result"])

    found = sorted((view(e) for e in logins if e["result"] in ATTEMPT_RESULTS), key=repr)
    assert found == sorted(
        [
            (user, "127.0.0.1", "password", "failure"),
            (user, "127.0.0.1", "password", "failure"),
            (user, "127.0.0.1", "password", "failure"),
            # sshd says it twice: "Invalid user X from ..." then "Failed password for invalid
            # user X from ...": two messages, two events (the package docstring's rule)
            (INVALID_USER, "127.0.0.1", None, "invalid_user"),
            (INVALID_USER, "127.0.0.1", "password", "invalid_user"),
            (user, "127.0.0.1", "publickey", "success"),
        ],
        key=repr,
    ), "\n".join(relay.lines)
    success = next(e for e in logins if e["result"] == "success")
    assert success["key_fingerprint"] == fingerprint
    assert success.get("key_type") == "ED25519"
    assert all(e.get("service") == "sshd" for e in logins)
    # the rest are the connections' ends, nothing else (ssh_server's readiness probe connects
    # and hangs up before saying anything: a scan)
    others = [e for e in logins if e["result"] not in ATTEMPT_RESULTS]
    assert {e["result"] for e in others} <= {"preauth_close", "disconnect", "scan"}
    assert all(e.get("source_ip", "127.0.0.1") == "127.0.0.1" for e in others)
    # every port is a real client port, and each attempt came on its own connection
    ports = [e["source_port"] for e in logins if e["result"] in ("failure", "success")]
    assert len(set(ports)) == 4 and all(1024 <= p <= 65535 for p in ports)


# -- issue 14: the three scenarios, through the agent's session tracker and the real checks ----


class _WatchedSshd:
    """A real sshd whose log an agent follows (as in the test above), for one instance."""

    def __init__(self, auditor, tmp_path: Path, instance_id: str, server) -> None:
        self.auditor, self.instance_id, self.server = auditor, instance_id, server
        state_dir = tmp_path / "agent"
        enroll_agent(auditor, state_dir, instance_id)
        auth_log = tmp_path / "auth.log"
        auth_log.touch()
        self.relay = SyslogRelay(server.log_path, auth_log, server.proc.pid, HOSTNAME)
        self.relay.start()
        self.agent = start_agent(state_dir, auth_log, output=tmp_path / "agent.log")

    def logins(self) -> list[dict]:
        return self.auditor.cli_json("instance", "show", self.instance_id)["logins"]

    def alerts(self) -> set[str]:
        found = self.auditor.cli_json("alerts", "--instance", self.instance_id)
        return {a["CheckId"] for a in found}

    def settle(self, what, condition) -> None:
        """Waits until the relay has copied sshd's lines and the auditor holds what they
        report; then gives the check runner a round after the last commit."""
        wait_for(condition, 30, what=what)
        time.sleep(2.0)

    def stop_relay(self) -> None:
        """Before the server (and its log) goes away."""
        self.relay.stop.set()
        self.relay.join(10)

    def close(self) -> None:
        self.stop_relay()
        self.agent.terminate()
        self.agent.wait(timeout=15)


@pytest.fixture
def watched(auditor, tmp_path, request):
    started = []

    def start(server) -> _WatchedSshd:
        w = _WatchedSshd(auditor, tmp_path, request.node.name.replace("_", "-")[:40], server)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


def test_wrong_keys_then_the_right_one_are_forgiven(watched, tmp_path):
    keys = []
    for n in range(4):
        (tmp_path / f"k{n}").mkdir()
        keys.append(_key_pair(tmp_path / f"k{n}"))
    right_public = keys[3][1]
    keys = [path for path, _ in keys]
    with ssh_server(password_authentication=True) as server:
        server.authorize(right_public)
        w = watched(server)
        # an agent offering three keys before the right one, three times within 2 minutes:
        # nine failures, all forgiven by their session's success
        for _ in range(3):
            transport = paramiko.Transport((server.host, server.port))
            try:
                transport.start_client(timeout=15)
                for path in keys[:3]:
                    with pytest.raises(paramiko.AuthenticationException):
                        transport.auth_publickey(
                            server.user, paramiko.Ed25519Key.from_private_key_file(path)
                        )
                transport.auth_publickey(
                    server.user, paramiko.Ed25519Key.from_private_key_file(keys[3])
                )
                assert transport.is_authenticated()
            finally:
                transport.close()

        def stored() -> bool:
            logins = w.logins()
            return sum(e["result"] == "success" for e in logins) == 3 and (
                sum(e["result"] == "failure" for e in logins) == 9
            )

        w.settle("nine failed keys and three logins", stored)
        failures = [e for e in w.logins() if e["result"] == "failure"]
        w.stop_relay()
    assert {e["method"] for e in failures} == {"publickey"}
    assert "login.brute_force" not in w.alerts()
    assert "login.brute_force_success" not in w.alerts()


def test_eight_wrong_passwords_raise_one_brute_force_alert(watched, auditor):
    with ssh_server(password_authentication=True) as server:
        w = watched(server)
        for attempt in range(8):
            with pytest.raises(paramiko.AuthenticationException):
                ssh_client(server, server.user, password=f"wrong-{attempt}")

        def stored() -> bool:
            return sum(e["result"] == "failure" for e in w.logins()) == 8

        w.settle("eight failed passwords", stored)
        wait_for(lambda: "login.brute_force" in w.alerts(), 30, what="the brute-force alert")
        w.stop_relay()
    found = auditor.cli_json("alerts", "--instance", w.instance_id, "--check", "login.brute_force")
    assert len(found) == 1 and found[0]["Subject"] == "127.0.0.1"
    assert "login.ssh_scanner" not in w.alerts()


def test_a_scanner_sending_garbage_is_a_scanner_not_a_brute_force(watched):
    with ssh_server(password_authentication=True) as server:
        w = watched(server)
        for _ in range(6):
            with socket.create_connection((server.host, server.port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: scanner\r\n\r\n")
                try:
                    s.recv(256)
                except OSError:
                    pass

        def stored() -> bool:
            return sum(e["result"] == "scan" for e in w.logins()) >= 6

        w.settle("the scanner's connections", stored)
        wait_for(lambda: "login.ssh_scanner" in w.alerts(), 30, what="the scanner alert")
        logins = w.logins()
        w.stop_relay()
    scans = [e for e in logins if e["result"] == "scan"]
    # kex_exchange_identification names no address: the session's "Connection from" gave it
    assert all(e.get("source_ip") == "127.0.0.1" for e in scans), scans
    assert any("kex_exchange_identification" in e["raw"] for e in scans)
    assert not [e for e in logins if e["result"] in ("failure", "invalid_user")]
    assert "login.brute_force" not in w.alerts()
