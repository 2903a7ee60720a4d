"""sshd login events from journald, one `journalctl -o json` line at a time.

Fields used: `SYSLOG_IDENTIFIER` (else `_COMM`) to pick sshd's entries, `MESSAGE`,
`__REALTIME_TIMESTAMP` (microseconds since the epoch, as a decimal string), `_HOSTNAME`, `_PID`
(else `SYSLOG_PID`). journalctl prints a value that is not valid UTF-8 as an array of byte
values, and a field that occurs several times as an array of values; both are handled. The
event's `raw` is the MESSAGE text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.sessions import SessionTracker
from palisade.agent.collectors.logins.sshd import (
    DEFAULT_SSHD_PARSER,
    SshdMessageParser,
    make_event,
    program_name,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_journal_line(
    line: str | bytes,
    sshd: SshdMessageParser = DEFAULT_SSHD_PARSER,
    sessions: SessionTracker | None = None,
) -> LoginEvent | None:
    """The event one JSON line reports, or None (not sshd, not a login message, malformed).
    With `sessions`, the line joins its session (sessions.py), as in a syslog file."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "backslashreplace")
    if "sshd" not in line and "dropbear" not in line:
        return None
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    identifier = _text(entry.get("SYSLOG_IDENTIFIER")) or _text(entry.get("_COMM"))
    if identifier is None or program_name(identifier) is None:
        return None
    message = _text(entry.get("MESSAGE"))
    time = _realtime(entry.get("__REALTIME_TIMESTAMP"))
    if message is None or time is None:
        return None
    pid = _number(entry.get("_PID")) or _number(entry.get("SYSLOG_PID"))
    message = message.rstrip("\n")
    found = sshd.match(message)
    if found is None:
        return None
    hostname = _text(entry.get("_HOSTNAME"))
    if sessions is not None:
        return sessions.observe(found, time, message, hostname, pid)
    if not found[0].row.event:
        return None
    return make_event(found, time, message, hostname, pid)


def parse_journal_lines(
    lines: Iterable[str | bytes],
    sshd: SshdMessageParser = DEFAULT_SSHD_PARSER,
    sessions: SessionTracker | None = None,
) -> Iterator[LoginEvent]:
    """Every event of a `journalctl -o json` stream, its lines grouped into sessions."""
    if sessions is None:
        sessions = SessionTracker()
    for line in lines:
        event = parse_journal_line(line, sshd, sessions)
        if event is not None:
            yield event


def _text(value: object) -> str | None:
    """A journal field value as text: a string, a byte array, or the first of several."""
    for _ in range(2):  # a multi-valued field is one level of array; no deeper
        if isinstance(value, str):
            return value
        if not isinstance(value, list) or not value:
            return None
        if all(type(item) is int for item in value):
            if not all(0 <= item <= 255 for item in value):
                return None
            return bytes(value).decode("utf-8", "backslashreplace")
        value = value[0]
    return None


def _number(value: object) -> int | None:
    text = _text(value)
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    return int(text)


def _realtime(value: object) -> datetime | None:
    text = _text(value)
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 17:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(text))
    except OverflowError:
        return None
