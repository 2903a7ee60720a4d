"""Name resolution answered by the test: `fake_dns(monkeypatch, {"name": ["addr", ...]})`."""

from __future__ import annotations

import socket


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """getaddrinfo answers `answers` for those names (IPv6 where an address has a colon) and
    resolves the rest as usual; returns the list of the faked names looked up, in order."""
    real, looked_up = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            looked_up.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, int(port or 0)),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up
