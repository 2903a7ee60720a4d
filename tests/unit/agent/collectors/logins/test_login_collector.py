"""The agent-side collector: syslog and wtmp/btmp followed together, positions committed once."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from palisade.agent.collectors.logins import LoginEventCollector, LoginLogSource

from .utmp_writer import LOGIN_PROCESS, USER_PROCESS, utmp_record

NOW = datetime(2027, 1, 2, 12, tzinfo=UTC)


def _sources(folder: Path) -> tuple[LoginLogSource, ...]:
    return (
        LoginLogSource(str(folder / "auth.log"), "syslog"),
        LoginLogSource(str(folder / "wtmp"), "wtmp"),
        LoginLogSource(str(folder / "btmp"), "btmp"),
        LoginLogSource(str(folder / "secure"), "syslog"),  # absent: ignored
    )


def test_collects_all_sources_and_resumes_after_restart(tmp_path: Path) -> None:
    state = tmp_path / "state" / "logins.json"
    (tmp_path / "auth.log").write_text(
        "Dec 31 23:59:59 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n"
        "Jan  1 00:00:01 h CRON[2]: pam_unix(cron:session): session opened for user root\n"
        "Jan  2 11:00:00 h sshd[3]: Accepted password for alice from 192.0.2.2 port 2 ssh2\n"
    )
    (tmp_path / "wtmp").write_bytes(utmp_record(type=USER_PROCESS, user="alice"))
    (tmp_path / "btmp").write_bytes(utmp_record(type=LOGIN_PROCESS, line="ssh:notty", user="x"))
    collector = LoginEventCollector(state, _sources(tmp_path), tz=UTC)
    events = collector.poll(NOW)
    assert [(e.result, e.user, e.service) for e in events] == [
        ("failure", "root", "sshd"),
        ("success", "alice", "sshd"),
        ("success", "alice", "login"),
        ("failure", "x", "sshd"),
    ]
    assert events[0].time.year == 2026 and events[1].time.year == 2027
    collector.commit()
    collector.close()

    with open(tmp_path / "auth.log", "a") as log:
        log.write("Jan  2 11:30:00 h sshd[4]: Invalid user bob from 192.0.2.3 port 3\n")
    os.rename(tmp_path / "wtmp", tmp_path / "wtmp.1")
    (tmp_path / "wtmp").write_bytes(utmp_record(type=USER_PROCESS, user="carol"))
    again = LoginEventCollector(state, _sources(tmp_path), tz=UTC)
    assert [(e.result, e.user) for e in again.poll(NOW)] == [
        ("invalid_user", "bob"),
        ("success", "carol"),
    ]
    assert again.notes == []


def test_the_journal_is_followed_only_where_no_syslog_file_is_written(monkeypatch):
    """Debian 12 without rsyslog: the journal; a host with auth.log: the files (never both:
    the same messages would count twice)."""
    from palisade.agent.collectors.logins import collector as module
    from palisade.agent.runner import login_sources

    monkeypatch.setattr(module, "journal_available", lambda: True)
    monkeypatch.setattr(module.os.path, "exists", lambda path: False)
    kinds = [s.kind for s in module.default_linux_sources()]
    assert kinds == ["journald", "wtmp", "btmp"]
    monkeypatch.setattr(module.os.path, "exists", lambda path: path == "/var/log/secure")
    assert "journald" not in [s.kind for s in module.default_linux_sources()]
    given = login_sources(["journald", "journald:/srv/j", "/var/log/btmp.1"])
    assert [(s.path, s.kind) for s in given] == [
        ("", "journald"),
        ("/srv/j", "journald"),
        ("/var/log/btmp.1", "btmp"),
    ]
