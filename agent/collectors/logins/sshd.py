"""Applies the sshd pattern table to one sshd message (the text after the syslog header)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from .event import LoginEvent
from .source_address import split_source
from .sshd_patterns import SSHD_PATTERNS, SshdPattern

# Program names sshd logs under: "sshd" (the listener, and everything before OpenSSH 9.8),
# "sshd-session" (9.8+ per-connection process), "sshd-auth" (10.0+ pre-auth process).
SSHD_PROGRAMS = frozenset(("sshd", "sshd-session", "sshd-auth"))

_PREAUTH = " [preauth]"
_LEVEL_PREFIXES = ("error: ", "fatal: ")
_PREFIX_LEN = 3
_PREFIX_META = set(".^$*+?{}[]\\|()")


class SshdMessageParser:
    """The compiled table; `parse()` is the hot path (called for every sshd line)."""

    def __init__(self, patterns: Iterable[SshdPattern] = SSHD_PATTERNS) -> None:
        self._by_prefix: dict[str, list[tuple[re.Pattern[str], SshdPattern]]] = {}
        for row in patterns:
            prefix = row.regex[:_PREFIX_LEN]
            if len(prefix) < _PREFIX_LEN or _PREFIX_META & set(prefix):
                raise ValueError(f"pattern {row.name!r} must start with 3 literal characters")
            self._by_prefix.setdefault(prefix, []).append((re.compile(row.regex), row))

    def parse(
        self,
        message: str,
        *,
        time: datetime,
        raw: str,
        hostname: str | None = None,
        pid: int | None = None,
    ) -> LoginEvent | None:
        """The event one sshd message reports, or None."""
        found = self.classify(message)
        if found is None:
            return None
        return build_event(found, time=time, raw=raw, hostname=hostname, pid=pid)

    def classify(self, message: str) -> SshdMatch | None:
        """Which row matches the message, and its groups; no event built yet (so callers can
        skip timestamp work for the many lines that are not login messages)."""
        preauth = message.endswith(_PREAUTH)
        if preauth:
            message = message[: -len(_PREAUTH)]
        if message.startswith(_LEVEL_PREFIXES):
            message = message[7:]
        rows = self._by_prefix.get(message[:_PREFIX_LEN])
        if rows is None:
            return None
        message = message.rstrip()
        for regex, row in rows:
            match = regex.fullmatch(message)
            if match is not None:
                return SshdMatch(row, match.groupdict(), preauth)
        return None


class SshdMatch(NamedTuple):
    row: SshdPattern
    groups: dict[str, str | None]
    preauth: bool


def build_event(
    found: SshdMatch, *, time: datetime, raw: str, hostname: str | None, pid: int | None
) -> LoginEvent:
    row, groups, preauth = found
    get = groups.get
    source_ip = source_host = None
    src = get("src")
    if src:
        source_ip, source_host = split_source(src)
    port_text = get("port")
    port = int(port_text) if port_text and len(port_text) <= 5 else None
    if port is not None and port > 65535:
        port = None
    user = get("user")
    if user is None:
        user = row.user
    elif not user:
        user = None  # "Invalid user  from ..." (empty name): nothing to report
    return LoginEvent(
        time,
        row.result_preauth if preauth and row.result_preauth else row.result,
        "sshd",
        raw,
        user,
        source_ip,
        port,
        get("method") or row.method,
        get("key_type"),
        get("fp"),
        hostname,
        pid,
        source_host,
    )


DEFAULT_SSHD_PARSER = SshdMessageParser()
