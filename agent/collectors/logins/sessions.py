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
- **forgiven**: a success marks its session's earlier failures forgiven (the events the tracker
  still holds; the live collector releases them after each poll, and the auditor applies the
  same rule by session key to events already sent). A close after a success is a `disconnect`.
- **scan**: a pre-authentication close (`preauth_close`) of a session that never named a user
  nor attempted anything is a `scan` (a port scanner, a banner grabber, ssh-keyscan).

Memory is bounded: at most `max_sessions` sessions (least recently active dropped first), each
holding at most `MAX_HELD` events.
"""

from __future__ import annotations

from collections import OrderedDict
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
from palisade.agent.collectors.logins.sshd import make_event
from palisade.agent.collectors.logins.sshd_patterns import ANNOUNCE, ATTEMPT

MAX_SESSIONS = 65_536
MAX_HELD = 32


class _Session:
    __slots__ = (
        "name",
        "source_ip",
        "source_host",
        "port",
        "attempted",
        "pending",
        "authenticated",
        "held",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.source_ip: str | None = None
        self.source_host: str | None = None
        self.port: int | None = None
        self.attempted = False  # a user was named or an attempt made
        self.pending = False  # an attempt announced, its verdict not yet seen
        self.authenticated = False
        self.held: list[LoginEvent] | None = None


class SessionTracker:
    """Groups lines into sessions; one tracker per log stream (file, journal), kept across
    reads so that a session spanning two reads is one session."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._max = max(1, max_sessions)
        self._sessions: OrderedDict[tuple[str | None, int], _Session] = OrderedDict()
        self._generations: dict[tuple[str | None, int], int] = {}
        self._holding: list[_Session] = []

    def __len__(self) -> int:
        return len(self._sessions)

    def observe(
        self, found, time: datetime, raw: str, hostname: str | None, pid: int | None
    ) -> LoginEvent | None:
        """The event of one matched line (`SshdMessageParser.match()`), with its session's
        address, key, attempt and result decided; None for lines that only inform the session."""
        compiled = found[0]
        row = compiled.row
        event = make_event(found, time, raw, hostname, pid)
        if pid is None:
            if not row.event:
                return None
            kind = row.attempt
            if kind is not None and not (kind == ATTEMPT and event.method == "none"):
                event.attempt = ATTEMPT_NEW
            else:
                event.attempt = ATTEMPT_NONE
            return event
        session = self._session(hostname, pid, time, row.opens_session)
        # the address: this line's, else (when the line names none) the session's latest
        if event.source_ip is not None or event.source_host is not None:
            same = (event.source_ip, event.source_host) == (session.source_ip, session.source_host)
            port_group = compiled.port_group
            if same and (not port_group or found[1].group(port_group) is None):
                event.source_port = session.port  # "rhost=H": the port the session knows
            else:
                session.source_ip, session.source_host = event.source_ip, event.source_host
                session.port = event.source_port
        elif compiled.src_group and found[1].group(compiled.src_group) is not None:
            pass  # the line names a source that is no address: it stays unknown
        elif session.source_ip is not None or session.source_host is not None:
            event.source_ip, event.source_host = session.source_ip, session.source_host
            event.source_port = session.port
        if not row.event:
            if event.user is not None:
                session.attempted = True
            return None
        event.session = session.name
        # attempts
        kind = row.attempt
        if kind == ANNOUNCE:
            event.attempt = ATTEMPT_SAME if session.pending else ATTEMPT_NEW
            session.pending = session.attempted = True
        elif kind == ATTEMPT:
            if event.method == "none":  # the probe every client sends first
                event.attempt = ATTEMPT_SAME if session.pending else ATTEMPT_NONE
            else:
                event.attempt = ATTEMPT_SAME if session.pending else ATTEMPT_NEW
            session.pending = False
            session.attempted = True
        else:
            event.attempt = ATTEMPT_NONE
            if event.user is not None:
                session.attempted = True
        # results the session decides
        result = event.result
        if result == SUCCESS:
            session.authenticated = True
            session.pending = False
            if session.held:
                for earlier in session.held:
                    earlier.forgiven = True
                session.held.clear()
        elif result == PREAUTH_CLOSE:
            if session.authenticated:
                event.result = DISCONNECT
            elif not session.attempted and event.user is None:
                event.result = SCAN
        elif result in ATTEMPT_RESULTS and not session.authenticated:
            held = session.held
            if held is None:
                held = session.held = []
                self._holding.append(session)
            if len(held) < MAX_HELD:
                held.append(event)
        return event

    def release(self) -> None:
        """Forget the events held for forgiving (they have been handed on)."""
        for session in self._holding:
            session.held = None
        self._holding.clear()

    def _session(
        self, hostname: str | None, pid: int, time: datetime, opens: bool
    ) -> _Session:
        key = (hostname, pid)
        sessions = self._sessions
        session = sessions.get(key)
        if session is not None and not opens:
            sessions.move_to_end(key)
            return session
        generation = self._generations.get(key, -1) + 1 if opens else 0
        if opens:
            self._generations[key] = generation
        name = f"{hostname or '-'}:{pid}:{int(time.timestamp())}"
        if generation:
            name += f".{generation}"
        session = sessions[key] = _Session(name)
        sessions.move_to_end(key)
        if len(sessions) > self._max:
            old_key, _ = sessions.popitem(last=False)
            self._generations.pop(old_key, None)
        return session
