"""The agent's login collector: follows the login logs of a Linux host and turns new lines and
records into LoginEvents.

Use: `poll(now)` returns the events written since the last poll; once they are safely stored
(the spool), `commit()` persists the read positions. A crash in between repeats events on the
next start, with the same event ids, so the auditor keeps them once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.journal_follower import JournalFollower, journal_available
from palisade.agent.collectors.logins.sessions import SessionTracker, forgive
from palisade.agent.collectors.logins.syslog import SyslogLineParser
from palisade.agent.collectors.logins.tailer import FileTailer, TailStateStore
from palisade.agent.collectors.logins.utmp import (
    UTMP_RECORD_SIZE,
    parse_utmp_records,
    utmp_record_to_event,
)
from palisade.agent.collectors.logins.year_inference import YearResolver


@dataclass(frozen=True)
class LoginLogSource:
    path: str  # for "journald": a journal directory to read, or "" for this host's journal
    kind: str  # "syslog" | "wtmp" | "btmp" | "journald"


# Debian/Ubuntu write auth.log, RHEL-likes secure; whichever exists is followed.
LINUX_SOURCES = (
    LoginLogSource("/var/log/auth.log", "syslog"),
    LoginLogSource("/var/log/secure", "syslog"),
    LoginLogSource("/var/log/wtmp", "wtmp"),
    LoginLogSource("/var/log/btmp", "btmp"),
)
JOURNALD = LoginLogSource("", "journald")


def default_linux_sources() -> tuple[LoginLogSource, ...]:
    """The syslog files when the host writes them; else its journal (a systemd host without
    rsyslog, e.g. Debian 12, keeps sshd's messages only there). Never both: a host with both
    has the same messages twice."""
    if any(os.path.exists(s.path) for s in LINUX_SOURCES if s.kind == "syslog"):
        return LINUX_SOURCES
    if journal_available():
        return (JOURNALD, *(s for s in LINUX_SOURCES if s.kind != "syslog"))
    return LINUX_SOURCES


class LoginEventCollector:
    def __init__(
        self,
        state_path: str | os.PathLike[str],
        sources: tuple[LoginLogSource, ...] = LINUX_SOURCES,
        *,
        tz: tzinfo | None = None,
        from_end: bool = False,
    ) -> None:
        """`state_path`: the JSON file holding read positions. `tz`: the zone syslog writes
        its timestamps in (None: this machine's). `from_end`: on the very first start, skip
        what the logs already hold."""
        self._store = TailStateStore(state_path)
        self._tz = tz
        state = Path(state_path)
        self._journals = [
            JournalFollower(
                state.with_name(f"{state.stem}-journal{n or ''}.json"),
                directory=source.path or None,
                from_end=from_end,
            )
            for n, source in enumerate(s for s in sources if s.kind == "journald")
        ]
        sources = tuple(s for s in sources if s.kind != "journald")
        self._tailers = [
            (
                source,
                FileTailer(
                    source.path,
                    self._store,
                    record_size=UTMP_RECORD_SIZE if source.kind in ("wtmp", "btmp") else None,
                    from_end=from_end,
                ),
            )
            for source in sources
        ]
        # one session tracker per log, kept across polls: a session spanning two reads is one
        self._sessions = {source.path: SessionTracker() for source in sources}

    @property
    def notes(self) -> list[str]:
        """What the collector could not do (state unreadable, a rotated file gone, ...)."""
        notes = list(self._store.notes)
        for _, tailer in self._tailers:
            notes += tailer.notes
        for journal in self._journals:
            notes += journal.notes
        return notes

    def poll(self, now: datetime) -> list[LoginEvent]:
        """New events since the last poll. `now` (aware) decides the year of syslog lines.
        Failures a success of the same session forgave within this poll are marked; the
        auditor forgives across polls by session key."""
        events: list[LoginEvent] = []
        for journal in self._journals:
            events += journal.poll()
        for source, tailer in self._tailers:
            units = tailer.poll()
            if not units:
                continue
            if source.kind == "syslog":
                parser = SyslogLineParser(
                    years=YearResolver(reference=now, tz=self._tz),
                    tz=self._tz,
                    sessions=self._sessions[source.path],
                )
                for unit in units:
                    event = parser.parse(unit.data.decode("utf-8", "backslashreplace"))
                    if event is not None:
                        events.append(event)
            else:
                records = parse_utmp_records(b"".join(unit.data for unit in units)).records
                for record in records:
                    event = utmp_record_to_event(record, failed=source.kind == "btmp")
                    if event is not None:
                        events.append(event)
        return forgive(events)

    def commit(self) -> None:
        for _, tailer in self._tailers:
            tailer.commit(save=False)
        self._store.save()
        for journal in self._journals:
            journal.commit()

    def close(self) -> None:
        for _, tailer in self._tailers:
            tailer.close()
