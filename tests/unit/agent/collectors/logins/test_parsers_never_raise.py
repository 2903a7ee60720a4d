"""Arbitrary input never crashes a parser, and whatever event comes out can be serialised."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.agent.collectors.logins import (
    LoginEvent,
    SshdMessageParser,
    SyslogLineParser,
    YearResolver,
    detect_format,
    parse_journal_line,
    parse_utmp,
    parse_utmp_records,
    parse_windows_events_xml,
)

from .utmp_writer import utmp_record

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 29, 4, 10, 1, tzinfo=UTC)

# Fragments of real messages, so the generator reaches past the first regex often.
WORDS = st.sampled_from(
    [
        "Accepted",
        "Failed",
        "Invalid",
        "user",
        "invalid",
        "for",
        "from",
        "port",
        "ssh2",
        ":",
        "password",
        "publickey",
        "keyboard-interactive/pam",
        "ED25519",
        "SHA256:abc",
        "RSA",
        "[preauth]",
        "Connection",
        "closed",
        "reset",
        "by",
        "authenticating",
        "Received",
        "disconnect",
        "Disconnected",
        "Disconnecting",
        "Too",
        "many",
        "authentication",
        "failures",
        "ROOT",
        "LOGIN",
        "REFUSED",
        "FROM",
        "User",
        "not",
        "allowed",
        "because",
        "error:",
        "fatal:",
        "maximum",
        "attempts",
        "exceeded",
        "pam_unix(sshd:auth):",
        "rhost=",
        "user=",
        "drop",
        "#1",
        "[1.2.3.4]:5",
        "::ffff:1.2.3.4",
        "2001:db8::1",
        "1.2.3.4",
        "999999",
        "0",
        "",
        "message",
        "repeated",
        "times:",
        "99999999999",
        "fe80::1%eth0",
        "\x00",
        "\udcff",
        "é",
    ]
)
MESSAGES = st.lists(WORDS, max_size=14).map(" ".join) | st.text(max_size=200)
HEADERS = st.sampled_from(
    [
        "Nov 29 04:10:01 h sshd[1]: ",
        "Feb 29 04:10:01 h sshd: ",
        "Dec 31 23:59:59 h sshd-session[9]: ",
        "2026-11-29T04:10:01.123456+00:00 h sshd[1]: ",
        "2026-02-30T04:10:01Z h sshd[1]: ",
        "<38>1 2026-11-29T04:10:01Z h sshd 1 - - ",
        "<38>1 9999-12-31T23:59:59-23:59 h sshd - - [a] ",
        "0001-01-01T00:00:00+14:00 h sshd[1]: ",
        "Nov 29 04:10:01 h sshd[99999999999]: ",
    ]
)


def _serialisable(event: LoginEvent | None) -> None:
    if event is not None:
        json.dumps(event.to_json_dict())
        event.to_event_proto("i-1").SerializeToString()
        event.event_id()


@SETTINGS
@given(st.text(max_size=300))
def test_syslog_parser_takes_any_text(line: str) -> None:
    parser = SyslogLineParser(years=YearResolver(reference=NOW), tz=UTC)
    _serialisable(parser.parse(line))


@SETTINGS
@given(HEADERS, MESSAGES, st.integers(min_value=1, max_value=9999))
def test_syslog_parser_takes_sshd_shaped_garbage(header: str, message: str, year: int) -> None:
    for years in (YearResolver(reference=NOW), YearResolver(year=year)):
        parser = SyslogLineParser(years=years, tz=UTC)
        _serialisable(parser.parse(header + message))
        _serialisable(parser.parse(header + message + "\n"))


@SETTINGS
@given(MESSAGES)
def test_sshd_message_parser_takes_any_message(message: str) -> None:
    _serialisable(SshdMessageParser().parse(message, time=NOW, raw=message))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
JOURNAL_ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "SYSLOG_IDENTIFIER": st.sampled_from(["sshd", "sshd-session"]) | JSON_VALUES,
        "_COMM": st.sampled_from(["sshd"]) | JSON_VALUES,
        "MESSAGE": MESSAGES | st.lists(st.integers(min_value=-5, max_value=300)) | JSON_VALUES,
        "__REALTIME_TIMESTAMP": st.integers(min_value=-10, max_value=10**20).map(str) | JSON_VALUES,
        "_PID": st.integers(min_value=-10, max_value=10**12).map(str) | JSON_VALUES,
        "_HOSTNAME": JSON_VALUES,
    },
)


@SETTINGS
@given(JOURNAL_ENTRIES)
def test_journal_parser_takes_any_entry(entry: dict) -> None:
    _serialisable(parse_journal_line(json.dumps(entry)))


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: "sshd" + t))
def test_journal_parser_takes_any_line(line: bytes | str) -> None:
    _serialisable(parse_journal_line(line))


EVENT_TEMPLATE = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<EventID>{eid}</EventID><TimeCreated SystemTime='{time}'/><EventRecordID>{rec}</EventRecordID>"
    "<Channel>Security</Channel><Computer>{text}</Computer></System><EventData>"
    "<Data Name='TargetUserName'>{text}</Data><Data Name='LogonType'>{num}</Data>"
    "<Data Name='IpAddress'>{text}</Data><Data Name='IpPort'>{num}</Data>"
    "<Data Name='Status'>{num}</Data><Data Name='SubStatus'>0x{num}</Data>"
    "<Data Name='ProcessId'>{num}</Data></EventData></Event>"
)
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="<&", blacklist_categories=("Cs",)), max_size=20
)


@SETTINGS
@given(
    st.sampled_from(["4624", "4625", "4634", "x", ""]),
    st.sampled_from(
        ["2026-01-15T10:23:45.1234567Z", "2026-02-30T00:00:00Z", "", "9999-99-99T99:99:99"]
    ),
    XML_TEXT,
    XML_TEXT,
    XML_TEXT,
)
def test_windows_parser_takes_odd_field_values(
    eid: str, time: str, rec: str, text: str, num: str
) -> None:
    document = EVENT_TEMPLATE.format(eid=eid, time=time, rec=rec, text=text, num=num)
    for event in parse_windows_events_xml(document).events:
        _serialisable(event)


@SETTINGS
@given(st.text(max_size=400) | st.text(max_size=100).map(lambda t: "<Event>" + t + "</Event>"))
def test_windows_parser_takes_any_text(document: str) -> None:
    for event in parse_windows_events_xml(document).events:
        _serialisable(event)


@SETTINGS
@given(st.binary(max_size=400))
def test_windows_parser_takes_any_bytes(document: bytes) -> None:
    parse_windows_events_xml(document)


@SETTINGS
@given(st.binary(max_size=2000))
def test_utmp_parser_takes_any_bytes(data: bytes) -> None:
    parse_utmp_records(data)
    for failed in (False, True):
        events, _ = parse_utmp(data, failed=failed)
        for event in events:
            _serialisable(event)


@SETTINGS
@given(
    st.integers(min_value=-(2**15), max_value=2**15 - 1),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=16, max_size=16),
)
def test_utmp_parser_takes_any_field_values(
    ut_type: int, tv_sec: int, tv_usec: int, user: bytes, addr: bytes
) -> None:
    record = bytearray(utmp_record(user="x", tv_sec=0))
    record[0:2] = ut_type.to_bytes(2, "little", signed=True)
    record[44:76] = user
    record[340:344] = tv_sec.to_bytes(4, "little", signed=True)
    record[344:348] = tv_usec.to_bytes(4, "little", signed=True)
    record[348:364] = addr
    for failed in (False, True):
        for event in parse_utmp(bytes(record), failed=failed)[0]:
            _serialisable(event)


@SETTINGS
@given(st.binary(max_size=600), st.text(max_size=20))
def test_format_detection_takes_any_bytes(head: bytes, name: str) -> None:
    try:
        detect_format(head, name)
    except ValueError:
        pass  # LogFormatError: a clear refusal, not a crash
