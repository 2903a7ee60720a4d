"""One sshd (or Dropbear) connection's lines are one session: the tracker that says so.

A session is the lines of one process on one host (`host`, `pid`); a "Connection from H port
N on ..." line (sshd at LogLevel VERBOSE) or Dropbear's "Child connection from H:P" opens a new
one on the same key (pids are reused, and sshd run with -e logs every connection under the
listener's pid). Lines without a pid belong to no session.

What the tracker does for each matched line (`observe`):

- **address**: a line without one (`Disconnecting: Too many authentication failures for root`,
  `fatal: Read from socket failed`, `kex_exchange_identification: ...`) takes the address and
  port of the latest earlier line of its session that had one; nothing else is ever used, so a
  session never gets an address that is not on one of its own lines.
- **attempts**: every event says whether it starts a new authentication attempt (`attempt`,
  see event.py). A row marked ANNOUNCE (a PAM failure, "Invalid user", an AllowUsers refusal)
  starts one unless its session already has one announced and not yet decided; a row marked
  ATTEMPT (the verdict, "Failed password ...") is part of the announced attempt if there is
  one, else a new attempt. So the PAM line and sshd's "Failed password" of one password are
  one attempt, and "Invalid user X" + "Failed none for invalid user X" is one. "Failed none"
  alone is the probe every client sends first: not an attempt.
- **forgiven**: `forgive()` marks, over the events of one read (a poll of the live collector,
  a whole file), the failures of a session that has a success after them; the auditor applies
  the same rule by session key to events already sent. A close after a success is a
  `disconnect` (the tracker knows the session authenticated).
- **scan**: a pre-authentication close (`preauth_close`) of a session that never named a user
  nor attempted anything is a `scan` (a port scanner, a banner grabber, ssh-keyscan).

Memory is bounded: at most `max_sessions` sessions (the oldest eighth dropped when full), each a
tuple of seven values.
"""

from __future__ import annotations

from datetime import datetime

from palisade.agent.collectors.logins.event import (
    ATTEMPT_NEW,
    ATTEMPT_NONE,
    ATTEMPT_RESULTS,
    ATTEMPT_SAME,
    DISCONNECT,
    PREAUTH_CLOSE,
    SCAN,
    SUCCESS,
    LoginEvent,
)
from palisade.agent.collectors.logins.source_address import split_source
from palisade.agent.collectors.logins.sshd import event_fields, make_event
from palisade.agent.collectors.logins.sshd_patterns import ANNOUNCE, ATTEMPT

MAX_SESSIONS = 65_536


# A session's state is a tuple (name, source_ip, source_host, port, attempted, pending,
# authenticated): tuples of strings and numbers drop out of the cyclic garbage collector's
# sight, where tens of thousands of open sessions as objects made every collection slower
# (measured: a third of the tracker's cost).
_NAME, _IP, _HOST, _PORT, _ATTEMPTED, _PENDING, _AUTHENTICATED = range(7)


class SessionTracker:
    """Groups lines into sessions; one tracker per log stream (file, journal), kept across
    reads so that a session spanning two reads is one session."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._max = max(1, max_sessions)
        self._sessions: dict[tuple[str | None, int], tuple] = {}
        self._generations: dict[tuple[str | None, int], int] = {}
        self._last_time: datetime | None = None
        self._last_second = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def observe(
        self, found, time: datetime, raw: str, hostname: str | None, pid: int | None
    ) -> LoginEvent | None:
        """The event of one matched line (`SshdMessageParser.match()`), with its session's
        address, key, attempt and result decided; None for lines that only inform the session.

        The hot path of a busy log (every sshd event passes here): written for speed."""
        compiled = found[0]
        row = compiled.row
        if not row.event:
            if pid is not None:
                self._inform(found, time, hostname, pid)
            return None
        if pid is None:
            return self._alone(make_event(found, time, raw, hostname, pid), row)
        result, user, ip, host, port, method, key_type, fp = event_fields(found)
        key = (hostname, pid)
        state = self._sessions.get(key)
        if state is None:
            state = self._open(key, time, False)
        name, s_ip, s_host, s_port, attempted, pending, authenticated = state
        # the address: this line's, else (when the line names none) the session's latest
        if ip is not None or host is not None:
            if ip != s_ip or host != s_host:
                s_ip, s_host, s_port = ip, host, port
            elif port is not None:
                s_port = port
            elif not compiled.port_group or found[1].group(compiled.port_group) is None:
                port = s_port  # "rhost=H": the port the session knows
        elif s_ip is not None or s_host is not None:
            if not compiled.src_group or found[1].group(compiled.src_group) is None:
                ip, host, port = s_ip, s_host, s_port
            # else: the line names a source that is no address; it stays unknown
        # attempts
        kind = row.attempt
        if kind is None:
            attempt = ATTEMPT_NONE
            if user is not None:
                attempted = True
        elif kind is ANNOUNCE:
            attempt = ATTEMPT_SAME if pending else ATTEMPT_NEW
            pending = attempted = True
        else:  # ATTEMPT; "none" is the probe every client sends first
            if pending:
                attempt = ATTEMPT_SAME
                pending = False
            else:
                attempt = ATTEMPT_NONE if method == "none" else ATTEMPT_NEW
            attempted = True
        # results the session decides
        if result == SUCCESS:
            authenticated = True
            pending = False
        elif result == PREAUTH_CLOSE:
            if authenticated:
                result = DISCONNECT
            elif not attempted and user is None:
                result = SCAN
        self._sessions[key] = (name, s_ip, s_host, s_port, attempted, pending, authenticated)
        return LoginEvent(
            time, result, "sshd", raw, user, ip, port, method, key_type, fp, hostname, pid, host,
            1, None, None, None, None, None, name, attempt,
        )  # fmt: skip

    def _inform(self, found, time: datetime, hostname: str | None, pid: int) -> None:
        """A line that only tells its session something: "Connection from" (which opens a new
        session on its key), "Postponed ..." (a user named)."""
        compiled, match, _ = found
        row = compiled.row
        key = (hostname, pid)
        state = self._sessions.get(key)
        if state is None or row.opens_session:
            state = self._open(key, time, row.opens_session)
        name, s_ip, s_host, s_port, attempted, pending, authenticated = state
        src = match.group(compiled.src_group) if compiled.src_group else None
        if src:
            ip, host = split_source(src)
            if ip is not None or host is not None:
                port_text = match.group(compiled.port_group) if compiled.port_group else None
                s_ip, s_host, s_port = ip, host, None
                if port_text and len(port_text) <= 5 and int(port_text) <= 65535:
                    s_port = int(port_text)
        if compiled.user_group and match.group(compiled.user_group):
            attempted = True
        self._sessions[key] = (name, s_ip, s_host, s_port, attempted, pending, authenticated)

    @staticmethod
    def _alone(event: LoginEvent, row) -> LoginEvent:
        """A line that names no process: its own session-less event."""
        kind = row.attempt
        if kind is not None and not (kind is ATTEMPT and event.method == "none"):
            event.attempt = ATTEMPT_NEW
        else:
            event.attempt = ATTEMPT_NONE
        return event

    def _open(self, key: tuple[str | None, int], time: datetime, opens: bool) -> tuple:
        """A new session for the key (replacing the one there). The oldest eighth is dropped
        past `max_sessions` (by creation: moving a dict entry on every line would cost more
        than the rare long session it would keep)."""
        sessions = self._sessions
        generation = 0
        if opens:
            generation = self._generations.get(key, -1) + 1
            self._generations[key] = generation
        if time is not self._last_time:  # lines of one second share one datetime object
            self._last_time, self._last_second = time, int(time.timestamp())
        name = f"{key[0] or '-'}:{key[1]}:{self._last_second}"
        if generation:
            name += f".{generation}"
        state = (name, None, None, None, False, False, False)
        sessions.pop(key, None)  # a reopened key goes to the end
        sessions[key] = state
        if len(sessions) > self._max:
            self._drop_oldest()
        return state

    def _drop_oldest(self) -> None:
        """Drops the oldest eighth at once: deleting one entry at a time from the front of a
        dict leaves it to skip the holes on every later look at its front (O(n) each)."""
        keep = self._max - self._max // 8
        items = list(self._sessions.items())
        for key, _ in items[: len(items) - keep]:
            self._generations.pop(key, None)
        self._sessions = dict(items[len(items) - keep :])


def forgive(events: list[LoginEvent]) -> list[LoginEvent]:
    """Marks `forgiven` the failures (failure, invalid_user, refused) of every session that has
    a success after them in `events` (in log order); returns `events`. Run over what one read
    produced (a poll of the live collector, a whole file): a success in a later read cannot
    reach events already handed on, and the auditor applies the same rule by session key."""
    waiting: dict[str, list[LoginEvent]] = {}
    for event in events:
        name = event.session
        if name is None:
            continue
        result = event.result
        if result in ATTEMPT_RESULTS:
            failures = waiting.get(name)
            if failures is None:
                waiting[name] = [event]
            else:
                failures.append(event)
        elif result == SUCCESS:
            for earlier in waiting.pop(name, ()):
                earlier.forgiven = True
    return events
