"""Windows Security log XML: safety and robustness around the annotated samples."""

from __future__ import annotations

import sys

import pytest

from palisade.agent.collectors.logins import parse_windows_events_xml, read_windows_security_log

from .annotated_corpus import DATA

SAMPLES = (DATA / "windows_security_4624_4625.xml").read_text(encoding="utf-8")


def test_whole_dump_gives_every_logon_and_the_highest_record_id() -> None:
    result = parse_windows_events_xml(SAMPLES)
    assert result.errors == []
    assert len(result.events) == 10
    assert result.last_record_id == 91011  # the logoff counts for the bookmark


def test_utf16_output_as_powershell_saves_it() -> None:
    for encoded in (SAMPLES.encode("utf-16"), SAMPLES.encode("utf-16-le")):
        result = parse_windows_events_xml(encoded)
        assert result.errors == [] and len(result.events) == 10


def test_doctype_is_refused_before_parsing() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
        "<System><EventID>4624</EventID></System><EventData>"
        "<Data Name='TargetUserName'>&lol2;</Data></EventData></Event>"
    )
    result = parse_windows_events_xml(bomb)
    assert result.events == []
    assert result.errors == ["refused: the document declares a DOCTYPE or ENTITY"]


def test_undeclared_entity_in_one_event_costs_only_that_event() -> None:
    events = SAMPLES.split("\n")
    damaged = [line.replace("alice", "&xxe;", 1) if "91001" in line else line for line in events]
    result = parse_windows_events_xml("\n".join(damaged))
    assert len(result.events) == 9
    assert len(result.errors) == 1 and result.errors[0].startswith("event 1: not well-formed")


def test_event_without_time_is_an_error_not_a_crash() -> None:
    text = SAMPLES.replace("SystemTime='2026-01-15T10:24:00.0000000Z'", "SystemTime='yesterday'")
    result = parse_windows_events_xml(text)
    assert len(result.events) == 9 and result.errors == ["event 2: no valid TimeCreated SystemTime"]


def test_text_without_events_says_so() -> None:
    assert parse_windows_events_xml("hello").errors == ["no <Event> element found"]
    assert parse_windows_events_xml("").errors == []


def test_events_element_wrapper_from_wevtutil_e_option() -> None:
    wrapped = "<Events>" + SAMPLES + "</Events>"
    assert len(parse_windows_events_xml(wrapped).events) == 10


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows guard")
def test_reader_refuses_to_run_off_windows() -> None:
    with pytest.raises(OSError):
        read_windows_security_log()
