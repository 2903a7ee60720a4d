"""The session tracker: arbitrary text and arbitrary interleavings of sessions never crash it
and never give an event an address that is not on a line of its own session; a session that
spans two reads of the live collector is one session; memory stays bounded."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.agent.collectors.logins import LoginEventCollector, LoginLogSource, SyslogLineParser
from palisade.agent.collectors.logins.event import ATTEMPT_NEW, ATTEMPT_SAME
from palisade.agent.collectors.logins.sessions import SessionTracker, forgive
from palisade.agent.collectors.logins.year_inference import YearResolver

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\d.])")


def _parser(tracker: SessionTracker | None = None) -> SyslogLineParser:
    years = YearResolver(year=2026, tz=UTC)
    sessions = tracker if tracker is not None else SessionTracker()
    return SyslogLineParser(years=years, tz=UTC, sessions=sessions)


def _line(pid: int, message: str, program: str = "sshd") -> str:
    return f"Mar  2 08:00:00 web-01 {program}[{pid}]: {message}"


# Fragments of real messages (with addresses in them), so that arbitrary text reaches the rows.
FRAGMENTS = st.sampled_from(
    [
        "Accepted password for",
        "Failed password for",
        "Failed publickey for",
        "Failed none for invalid user",
        "Invalid user",
        "input_userauth_request: invalid user",
        "User",
        "not allowed because not listed in AllowUsers",
        "Connection from",
        "on 10.0.0.5 port 22",
        "Connection closed by",
        "Connection reset by",
        "authenticating user",
        "invalid user",
        "from",
        "port",
        "ssh2",
        "[preauth]",
        "error: kex_exchange_identification: Connection closed by remote host",
        "kex_exchange_identification: client sent invalid protocol identifier",
        "banner exchange: Connection from",
        ": invalid format",
        "Disconnecting: Too many authentication failures for root",
        "fatal: Read from socket failed: Connection reset by peer",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=",
        " user=root",
        "error: PAM: Authentication failure for",
        "Bad password attempt for 'root' from",
        "Child connection from",
        "Exit before auth from <",
        ">: Exited normally",
        "root",
        "admin",
        "1.2.3.4",
        "10.0.0.9",
        "203.0.113.7",
        "::ffff:198.51.100.2",
        "5.6.7.8:2222",
        "[9.9.9.9]:22",
        "'",
        ":",
        "22",
        "65536",
        "host.example.net",
    ]
)
MESSAGES = st.lists(FRAGMENTS, min_size=1, max_size=12).map(" ".join) | st.text(max_size=80)
LINES = st.lists(
    st.tuples(st.integers(1, 4), MESSAGES, st.sampled_from(["sshd", "sshd-session", "dropbear"])),
    max_size=40,
)


@SETTINGS
@given(LINES)
def test_arbitrary_lines_never_crash_and_keep_addresses_in_their_session(lines) -> None:
    parser = _parser()
    seen: dict[int, str] = {}  # pid -> every line of it so far
    for pid, message, program in lines:
        line = _line(pid, message, program)
        seen[pid] = seen.get(pid, "") + "\n" + line
        event = parser.parse(line)
        if event is None:
            continue
        assert event.session is not None and event.session.startswith(f"web-01:{pid}:")
        if event.source_ip is not None and ":" not in event.source_ip:
            assert event.source_ip in _IPV4.findall(seen[pid]), (event, seen[pid])
        if event.source_host is not None:
            assert event.source_host in seen[pid].lower()


# -- interleavings of well-formed sessions, with user names and banners that name addresses ----

ATTACKER_NAMES = ["root", "test 127.0.0.1 port 12345", "x from 6.6.6.6 port 1", "a' from 7.7.7.7"]


def _session_lines(n: int, src: str, port: int, user: str) -> list[str]:
    """One connection's messages, in order; only `src` is the peer."""
    return [
        f"Connection from {src} port {port} on 10.0.0.5 port 22",
        f"Invalid user {user} from {src} port {port}",
        "input_userauth_request: invalid user " + user + " [preauth]",
        "pam_unix(sshd:auth): check pass; user unknown",
        f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
        f"rhost={src}",
        f"Failed password for invalid user {user} from {src} port {port} ssh2",
        "kex_exchange_identification: client sent invalid protocol identifier "
        '"SSH-2.0 from 8.8.8.8 port 22"',
        "Disconnecting: Too many authentication failures for invalid user " + user + " [preauth]",
        "fatal: Read from socket failed: Connection reset by peer [preauth]",
        f"Connection closed by invalid user {user} {src} port {port} [preauth]",
    ][: 3 + n % 8]


@st.composite
def interleavings(draw):
    sessions = []
    for index in range(draw(st.integers(1, 6))):
        src = f"192.0.2.{10 + index}"
        user = draw(st.sampled_from(ATTACKER_NAMES))
        messages = _session_lines(draw(st.integers(0, 7)), src, 40000 + index, user)
        # the first line with an address may be missing (LogLevel INFO, a rotated-away start)
        if draw(st.booleans()):
            messages = messages[1:]
        sessions.append((1000 + index, src, messages))
    order = [pid for pid, _, messages in sessions for _ in messages]
    order = draw(st.permutations(order))
    cursors = {pid: 0 for pid, _, _ in sessions}
    by_pid = {pid: (src, messages) for pid, src, messages in sessions}
    lines = []
    for pid in order:
        src, messages = by_pid[pid]
        lines.append((pid, src, messages[cursors[pid]]))
        cursors[pid] += 1
    return lines


@SETTINGS
@given(interleavings())
def test_interleaved_sessions_never_take_another_sessions_address(lines) -> None:
    parser = _parser()
    named: dict[int, bool] = {}  # pid -> an earlier line of it named the address
    for pid, src, message in lines:
        event = parser.parse(_line(pid, message))
        has_address = src in message  # the names and banners hold other addresses only
        if event is not None:
            assert event.source_ip in (None, src), (pid, message, event)
            if named.get(pid) or has_address:
                assert event.source_ip == src, (pid, message, event)
            else:
                assert event.source_ip is None
            assert event.session is not None and f":{pid}:" in event.session
        named[pid] = named.get(pid, False) or has_address


def test_pam_line_and_verdict_are_one_attempt_and_a_success_forgives() -> None:
    parser = _parser()
    events = [
        parser.parse(_line(7, message))
        for message in (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
            "ruser= rhost=192.0.2.7  user=carol",
            "Failed password for carol from 192.0.2.7 port 5000 ssh2",
            "Failed password for carol from 192.0.2.7 port 5000 ssh2",
            "Accepted password for carol from 192.0.2.7 port 5000 ssh2",
            "Connection closed by 192.0.2.7 port 5000",
        )
    ]
    assert [e.attempt for e in events[:3]] == [ATTEMPT_NEW, ATTEMPT_SAME, ATTEMPT_NEW]
    forgive(events)
    assert [e.forgiven for e in events] == [True, True, True, False, False]
    assert events[-1].result == "disconnect"  # a close after a success is no failure
    assert len({e.session for e in events}) == 1


def test_a_session_spanning_two_reads_of_the_collector_is_one_session(tmp_path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_line(42, "Connection from 203.0.113.9 port 5555 on 10.0.0.5 port 22") + "\n")
    collector = LoginEventCollector(
        tmp_path / "state.json", (LoginLogSource(str(log), "syslog"),), tz=UTC
    )
    assert collector.poll(NOW) == []  # the connection line informs the session, no event
    collector.commit()
    with open(log, "a") as f:
        f.write(_line(42, "error: kex_exchange_identification: Connection closed by remote host"))
        f.write("\n" + _line(42, "Connection closed by 203.0.113.9 port 5555") + "\n")
    first, second = collector.poll(NOW)
    assert (first.result, first.source_ip, first.source_port) == ("scan", "203.0.113.9", 5555)
    assert second.result == "scan" and first.session == second.session


def test_memory_is_bounded_by_max_sessions() -> None:
    tracker = SessionTracker(max_sessions=64)
    parser = _parser(tracker)
    for pid in range(1000):
        parser.parse(_line(pid, f"Failed password for root from 192.0.2.1 port {pid + 1} ssh2"))
        assert len(tracker) <= 64
    # forgiving needs the success in the same read: a failure handed on before it stays
    first = [parser.parse(_line(5000, "Failed password for root from 192.0.2.1 port 9 ssh2"))]
    second = [parser.parse(_line(5000, "Accepted password for root from 192.0.2.1 port 9 ssh2"))]
    assert forgive(first)[0].forgiven is False and forgive(second)[0].result == "success"
    assert first[0].session == second[0].session
