"""wtmp/btmp binary records: successes, failures, and damaged files."""

from __future__ import annotations

from datetime import UTC, datetime

from palisade.agent.collectors.logins import UTMP_RECORD_SIZE, parse_utmp, parse_utmp_records
from palisade.agent.collectors.logins.utmp import is_btmp_path

from .utmp_writer import BOOT_TIME, DEAD_PROCESS, LOGIN_PROCESS, USER_PROCESS, utmp_record

T0 = 1_795_925_401  # 2026-11-29T04:10:01Z


def test_record_size_is_glibc_x86_64() -> None:
    assert UTMP_RECORD_SIZE == 384


def test_records_round_trip_every_field() -> None:
    data = utmp_record(
        type=USER_PROCESS,
        pid=4242,
        line="pts/3",
        id="ts/3",
        user="alice",
        host="203.0.113.5",
        tv_sec=T0,
        tv_usec=250_000,
        addr="203.0.113.5",
        session=77,
    )
    parsed = parse_utmp_records(data + data)
    assert parsed.errors == []
    assert len(parsed.records) == 2
    record = parsed.records[1]
    assert (record.type, record.pid, record.line, record.id, record.user, record.host) == (
        USER_PROCESS,
        4242,
        "pts/3",
        "ts/3",
        "alice",
        "203.0.113.5",
    )
    assert record.session == 77 and record.offset == 384
    assert record.time == datetime(2026, 11, 29, 4, 10, 1, 250_000, tzinfo=UTC)
    assert record.address == "203.0.113.5"


def test_wtmp_user_process_records_are_successful_logins() -> None:
    data = b"".join(
        [
            utmp_record(type=BOOT_TIME, line="~", id="~~", user="reboot", host="6.1.0-28-amd64"),
            utmp_record(type=USER_PROCESS, user="alice", host="203.0.113.5", addr="203.0.113.5"),
            utmp_record(type=USER_PROCESS, line="tty1", id="tty1", user="root", pid=900),
            utmp_record(type=USER_PROCESS, user="bob", host="2001:db8::7", addr="2001:db8::7"),
            utmp_record(type=USER_PROCESS, user="carol", host="laptop.example.net"),
            utmp_record(type=DEAD_PROCESS, user="", host=""),
        ]
    )
    events, errors = parse_utmp(data, failed=False)
    assert errors == []
    summary = [(e.user, e.result, e.service, e.to_json_dict()["source_ip"], e.pid) for e in events]
    assert summary == [
        ("alice", "success", "login", "203.0.113.5", 1234),
        ("root", "success", "login", None, 900),
        ("bob", "success", "login", "2001:db8::7", 1234),
        ("carol", "success", "login", "laptop.example.net", 1234),
    ]
    assert events[3].source_host == "laptop.example.net" and events[3].source_ip is None
    assert events[0].time == datetime(2026, 11, 29, 4, 10, 1, tzinfo=UTC)


def test_btmp_records_are_failures_and_ssh_notty_means_sshd() -> None:
    data = utmp_record(
        type=LOGIN_PROCESS,
        line="ssh:notty",
        id="",
        user="admin",
        host="185.220.101.4",
        addr="185.220.101.4",
    )
    data += utmp_record(type=LOGIN_PROCESS, line="tty2", id="tty2", user="root")
    data += utmp_record(type=LOGIN_PROCESS, line="ssh:notty", user="")  # no user: not an event
    events, errors = parse_utmp(data, failed=True)
    assert errors == []
    assert [(e.user, e.result, e.service, e.source_ip) for e in events] == [
        ("admin", "failure", "sshd", "185.220.101.4"),
        ("root", "failure", "login", None),
    ]


def test_ipv4_mapped_address_is_normalised() -> None:
    data = utmp_record(user="dave", addr="::ffff:192.0.2.9", host="::ffff:192.0.2.9")
    events, _ = parse_utmp(data, failed=False)
    assert events[0].source_ip == "192.0.2.9"


def test_truncated_trailing_record_is_ignored_with_a_note() -> None:
    data = utmp_record(user="alice") + utmp_record(user="bob")[:100]
    events, errors = parse_utmp(data, failed=False)
    assert [e.user for e in events] == ["alice"]
    assert errors == ["truncated record at offset 384: 100 of 384 bytes, ignored"]


def test_event_ids_are_stable_and_distinct() -> None:
    data = utmp_record(user="alice", tv_sec=T0) + utmp_record(user="alice", tv_sec=T0 + 1)
    first, _ = parse_utmp(data, failed=False)
    again, _ = parse_utmp(data, failed=False)
    assert [e.event_id() for e in first] == [e.event_id() for e in again]
    assert first[0].event_id() != first[1].event_id()


def test_btmp_is_told_by_file_name() -> None:
    assert is_btmp_path("/var/log/btmp") and is_btmp_path("/var/log/btmp.1")
    assert not is_btmp_path("/var/log/wtmp") and not is_btmp_path("/run/utmp")
