"""Every annotated sample in tests/data/logins produces exactly the event written above it."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest

from palisade.agent.collectors.logins import (
    SyslogLineParser,
    YearResolver,
    parse_journal_line,
    parse_windows_events_xml,
)
from palisade.agent.collectors.logins.sessions import SessionTracker, forgive

from .annotated_corpus import DATA, Sample, actual_view, expected_view, line_samples, xml_samples


def _line_files() -> list[tuple[dict, Sample]]:
    cases = []
    for path in sorted(DATA.glob("*.log")) + sorted(DATA.glob("*.jsonl")):
        options, samples = line_samples(path)
        cases += [(options, sample) for sample in samples]
    return cases


LINE_CASES = _line_files()
XML_CASES = [sample for path in sorted(DATA.glob("*.xml")) for sample in xml_samples(path)]


_RESULTS: dict[str, dict[int, object]] = {}


def _parse_line(options: dict, sample: Sample):
    """The sample's event, from one parser fed the whole file in order (years and sessions
    carry over)."""
    if sample.file not in _RESULTS:
        _, samples = line_samples(DATA / sample.file)
        if options.get("format") == "journal-json":
            sessions = SessionTracker()
            results = {
                s.line_number: parse_journal_line(s.text, sessions=sessions) for s in samples
            }
        else:
            years = YearResolver(year=options["year"], tz=UTC) if "year" in options else None
            parser = SyslogLineParser(years=years, tz=UTC, sessions=SessionTracker())
            results = {s.line_number: parser.parse(s.text) for s in samples}
        forgive([event for event in results.values() if event is not None])  # in file order
        _RESULTS[sample.file] = results
    return _RESULTS[sample.file][sample.line_number]


def _default_raw(options: dict, text: str) -> str:
    if options.get("format") == "journal-json":
        message = json.loads(text).get("MESSAGE")
        if isinstance(message, list) and all(isinstance(item, int) for item in message):
            return bytes(message).decode("utf-8", "backslashreplace")
        return message if isinstance(message, str) else ""
    return text


@pytest.mark.parametrize(("options", "sample"), LINE_CASES, ids=[s.id for _, s in LINE_CASES])
def test_line_sample_gives_annotated_event(options: dict, sample: Sample) -> None:
    event = _parse_line(options, sample)
    if sample.expected is None:
        assert event is None, f"expected no event, got {event}"
        return
    assert event is not None, "expected an event, got none"
    expected = expected_view(sample.expected, _default_raw(options, sample.text))
    assert actual_view(event, expected) == expected


@pytest.mark.parametrize("sample", XML_CASES, ids=[s.id for s in XML_CASES])
def test_windows_sample_gives_annotated_event(sample: Sample) -> None:
    result = parse_windows_events_xml(sample.text)
    assert result.errors == []
    if sample.expected is None:
        assert result.events == []
        return
    assert len(result.events) == 1
    expected = expected_view({"raw": sample.text, **sample.expected}, sample.text)
    assert actual_view(result.events[0], expected) == expected


_RFC5424_MESSAGE = re.compile(r"<\d{1,3}>1 (?:\S+ ){5}(?:-|\[.*?\]) (?P<msg>.*)")
_SYSLOG_MESSAGE = re.compile(
    r".*? (?:sshd|sshd-session|sshd-auth|dropbear)(?:\(\w+\))?\[\d+\]: (?P<msg>.*)"
)


def _sshd_message(options: dict, text: str) -> str | None:
    """The sshd/Dropbear message of a sample line; None for other programs' lines."""
    if options.get("format") == "journal-json":
        try:
            entry = json.loads(text)
        except ValueError:
            return None
        if not isinstance(entry, dict):
            return None
        ident = entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM")
        message = entry.get("MESSAGE")
        if ident in ("sshd", "sshd-session", "sshd-auth", "dropbear") and isinstance(message, str):
            return message
        return None
    found = _RFC5424_MESSAGE.fullmatch(text) or _SYSLOG_MESSAGE.fullmatch(text)
    if found is None:
        return None
    message = found["msg"]
    if message.startswith("message repeated"):
        message = message.split("[ ", 1)[-1].rstrip("]")
    return message


def test_corpus_is_there_and_covers_every_pattern() -> None:
    from palisade.agent.collectors.logins import SSHD_PATTERNS, SshdMessageParser

    assert len(LINE_CASES) >= 100 and len(XML_CASES) >= 6
    parser = SshdMessageParser()
    used = set()
    for options, sample in LINE_CASES:
        message = _sshd_message(options, sample.text)
        found = parser.classify(message) if message is not None else None
        if found is not None:
            used.add(found.row.name)
    missing = {row.name for row in SSHD_PATTERNS} - used
    assert not missing, f"patterns without a sample: {sorted(missing)}"


def test_session_corpus_has_400_samples_of_every_result() -> None:
    """Issue 14: whole sessions, at least 400 samples, every result of the vocabulary."""
    from palisade.agent.collectors.logins.event import RESULTS

    cases = [(o, s) for o, s in LINE_CASES if s.file.startswith("sessions_")]
    assert len(cases) >= 400
    results = {s.expected["result"] for _, s in cases if s.expected is not None}
    assert results == RESULTS
    # the session verdicts are stated for every event of these files
    assert all(
        "new_attempt" in s.expected and "forgiven" in s.expected
        for _, s in cases
        if s.expected is not None
    )
