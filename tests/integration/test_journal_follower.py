"""The running agent follows journald (hosts without /var/log/auth.log keep sshd's messages
only there): real journal files made by systemd-journal-remote, read by the real journalctl."""

from __future__ import annotations

import os
import time

import pytest

from palisade.agent.collectors.logins.collector import LoginEventCollector, LoginLogSource
from palisade.agent.collectors.logins.journal_follower import JournalFollower
from tests.helpers.journal import sshd_entry, write_journal
from tests.helpers.system import require_binary

pytestmark = pytest.mark.integration

T0 = int((time.time() - 3600) * 1e6)  # an hour ago, in microseconds: within a first read


def _session(pid: int, at_us: int, source: str, fails: int, success: bool) -> list[dict]:
    entries = [sshd_entry(f"Connection from {source} port 5{pid} on 10.0.0.5 port 22", at_us, pid)]
    for n in range(fails):
        entries.append(
            sshd_entry(
                f"Failed password for root from {source} port 5{pid} ssh2", at_us + n + 1, pid
            )
        )
    if success:
        entries.append(
            sshd_entry(
                f"Accepted password for root from {source} port 5{pid} ssh2", at_us + 50, pid
            )
        )
    return entries


def test_a_follower_reads_each_entry_once_across_polls_and_restarts(tmp_path):
    require_binary("journalctl")
    journal = tmp_path / "journal"
    write_journal(journal, _session(101, T0, "203.0.113.9", 3, False), name="a.journal")
    state = tmp_path / "cursor.json"
    follower = JournalFollower(state, directory=str(journal))
    first = follower.poll()
    assert [e.result for e in first].count("failure") == 3
    assert {e.source_ip for e in first} == {"203.0.113.9"}
    follower.commit()
    assert follower.poll() == []  # nothing new
    # more entries arrive (a second journal file, as journald rotates)
    write_journal(journal, _session(202, T0 + 10**6, "198.51.100.4", 2, True), name="b.journal")
    again = JournalFollower(state, directory=str(journal))  # the agent restarted
    events = again.poll()
    assert {e.source_ip for e in events} == {"198.51.100.4"}
    assert [e.result for e in events].count("failure") == 2
    assert any(e.result == "success" for e in events)
    again.commit()
    assert JournalFollower(state, directory=str(journal)).poll() == []


def test_the_collector_follows_a_journal_source_and_keeps_its_cursor(tmp_path):
    require_binary("journalctl")
    journal = tmp_path / "journal"
    write_journal(journal, _session(303, T0, "192.0.2.77", 2, True), name="a.journal")
    sources = (LoginLogSource(str(journal), "journald"),)
    collector = LoginEventCollector(tmp_path / "logins.json", sources)
    events = collector.poll(now=None)  # type: ignore[arg-type]  (no syslog year to infer)
    collector.commit()
    # the failures before the success in the same session are forgiven
    failures = [e for e in events if e.result == "failure"]
    assert len(failures) == 2 and all(e.forgiven for e in failures)
    assert os.path.exists(tmp_path / "logins-journal.json")
    collector.close()
    restarted = LoginEventCollector(tmp_path / "logins.json", sources)
    assert restarted.poll(now=None) == []  # type: ignore[arg-type]


def test_journalctl_failing_is_a_note_not_a_crash(tmp_path):
    follower = JournalFollower(tmp_path / "c.json", directory=str(tmp_path / "missing"))
    assert follower.poll() == []
    follower2 = JournalFollower(tmp_path / "c.json", journalctl=str(tmp_path / "no-such-binary"))
    assert follower2.poll() == [] and "could not be run" in follower2.notes[-1]
