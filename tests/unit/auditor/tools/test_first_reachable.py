"""Which of an instance's addresses to verify a key pair on: the first where SSH answers."""

from __future__ import annotations

import socket
import threading

from palisade.auditor.tools.ssh_login_probe import first_reachable


def _listener(greeting: bytes | None) -> tuple[socket.socket, int]:
    """A loopback listener that sends `greeting` (None: accepts and stays silent)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if greeting is not None:
                conn.sendall(greeting)
            threading.Timer(2.0, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_silent_accept_is_not_ssh_and_a_greeting_after_other_lines_is():
    silent, silent_port = _listener(None)
    ssh, ssh_port = _listener(b"a notice line first\r\nSSH-2.0-OpenSSH_9.2p1\r\n")
    try:
        host, failed = first_reachable(["127.0.0.1"], silent_port, 0.5)
        assert host is None and failed == [("127.0.0.1", "no SSH greeting (timed out)")]
        host, failed = first_reachable(["127.0.0.1"], ssh_port, 2.0)
        assert host == "127.0.0.1" and failed == []
    finally:
        silent.close()
        ssh.close()


def test_refused_and_empty_addresses_are_skipped_in_order():
    ssh, ssh_port = _listener(b"SSH-2.0-dropbear\r\n")
    try:
        host, failed = first_reachable(["", "127.0.0.2", "127.0.0.1", "127.0.0.1"], ssh_port, 2.0)
    finally:
        ssh.close()
    # nothing listens on 127.0.0.2 at that port: refused at once
    assert host == "127.0.0.1"
    assert [h for h, _ in failed] == ["127.0.0.2"] and "refused" in failed[0][1].lower()
