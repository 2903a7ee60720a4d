"""LoginEvent's JSON contract, protobuf mapping and idempotency id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from palisade.agent.collectors.logins import CONTRACT_FIELDS, LoginEvent
from palisade.shared.proto import facts_pb2

WHEN = datetime(2026, 11, 29, 4, 10, 1, tzinfo=UTC)


def _event(**changes: object) -> LoginEvent:
    fields: dict[str, object] = dict(
        time=WHEN,
        result="success",
        service="sshd",
        user="alice",
        source_ip="203.0.113.5",
        source_port=52113,
        method="publickey",
        key_type="ED25519",
        key_fingerprint="SHA256:abc",
        hostname="web-01",
        pid=42,
        raw="Nov 29 04:10:01 web-01 sshd[42]: Accepted publickey for alice ...",
    )
    fields.update(changes)
    return LoginEvent(**fields)


def test_json_dict_has_exactly_the_contract_fields_in_order() -> None:
    data = _event().to_json_dict()
    assert (
        tuple(data)
        == CONTRACT_FIELDS
        == (
            "time",
            "user",
            "source_ip",
            "source_port",
            "method",
            "result",
            "service",
            "key_fingerprint",
            "raw",
            # issue 14: the session, whether the line is a new attempt, forgiven
            "session",
            "new_attempt",
            "forgiven",
        )
    )
    assert data["time"] == "2026-11-29T04:10:01Z"
    assert data["source_port"] == 52113 and data["key_fingerprint"] == "SHA256:abc"


def test_json_time_is_utc_whatever_the_zone_given() -> None:
    plus_two = timezone(timedelta(hours=2))
    event = _event(time=datetime(2026, 11, 29, 6, 10, 1, 500, tzinfo=plus_two))
    assert event.to_json_dict()["time"] == "2026-11-29T04:10:01.000500Z"


def test_json_source_falls_back_to_the_host_name() -> None:
    event = _event(source_ip=None, source_host="scanner.example.net")
    assert event.to_json_dict()["source_ip"] == "scanner.example.net"


def test_proto_mapping_uses_empty_values_for_unknown() -> None:
    message = _event(user=None, source_port=None, key_fingerprint=None).to_proto()
    assert isinstance(message, facts_pb2.LoginEvent)
    assert (message.user, message.source_ip, message.source_port, message.method) == (
        "",
        "203.0.113.5",
        0,
        "publickey",
    )
    assert (message.result, message.service, message.key_fingerprint) == ("success", "sshd", "")
    assert message.raw.startswith("Nov 29")


def test_proto_strings_survive_undecodable_text() -> None:
    message = _event(user="bad\udcffname").to_proto()
    assert message.user == "bad\\udcffname"
    message.SerializeToString()


def test_event_proto_carries_id_and_time() -> None:
    event = _event()
    envelope = event.to_event_proto("i-abc")
    assert envelope.event_id == event.event_id() and len(envelope.event_id) == 32
    assert envelope.instance_id == "i-abc"
    assert envelope.time_ms == int(WHEN.timestamp() * 1000)
    assert envelope.WhichOneof("body") == "login" and envelope.login.user == "alice"


def test_event_id_depends_on_what_happened_not_on_the_reading() -> None:
    assert _event().event_id() == _event(pid=42).event_id()
    assert _event().event_id() == _event(result="failure").event_id()  # same line, same id
    assert _event().event_id() != _event(raw="another line").event_id()
    assert _event().event_id() != _event(time=WHEN + timedelta(seconds=1)).event_id()
    assert _event().event_id() != _event(hostname="web-02").event_id()
