"""Each refusal of the auditor's gRPC side, through a real auditor process.

After every refusal the same auditor still accepts a good agent.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid

import grpc
import pytest

from palisade.agent import enrolment, transport
from palisade.agent.state import AgentState
from palisade.auditor.ingest.ca import CertificateAuthority
from palisade.shared import tls
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2
from tests.helpers.auditor_process import start_auditor
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

pytestmark = pytest.mark.integration


def _snapshot_message(instance_id: str, payload_instance: str | None = None, pad: int = 0):
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=int(time.time() * 1000),
        host=facts_pb2.HostInfo(hostname="test-host", os_family="linux"),
    )
    if pad:
        snap.errors.append(facts_pb2.CollectorError(collector="pad", message="x" * pad))
    return agent_pb2.AgentMessage(
        message_id=uuid.uuid4().hex, instance_id=payload_instance or instance_id, snapshot=snap
    )


def _report(address: str, creds, messages, timeout=10):
    with grpc.secure_channel(address, creds, options=transport.CHANNEL_OPTIONS) as channel:
        stub = agent_pb2_grpc.IngestStub(channel)
        return list(stub.Report(iter(messages), timeout=timeout))


def _enrol(auditor, tmp_path, instance_id: str) -> AgentState:
    return enrolment.enroll(
        tmp_path / instance_id,
        [auditor.grpc],
        auditor.token(instance_id),
        enroll_address=auditor.enroll,
    )


def _assert_good_agent_accepted(auditor, tmp_path):
    instance_id = f"i-good-{uuid.uuid4().hex[:8]}"
    state = _enrol(auditor, tmp_path, instance_id)
    msg = _snapshot_message(instance_id)
    acks = _report(auditor.grpc, state.credentials(), [msg])
    assert [a.message_id for a in acks] == [msg.message_id]
    assert auditor.cli_json("instance", "show", instance_id)["hostname"] == "test-host"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_db)]
)
def shared_auditor(request, tmp_path_factory):
    """One auditor per backend for the whole module; every refusal leaves it serving."""
    extra: tuple[str, ...] = ("--max-message-bytes", "65536")
    url = None
    if request.param == "postgresql":
        require_postgres()
        url = create_postgres_database()
        extra += ("--db", url)
    proc = start_auditor(tmp_path_factory.mktemp("refusals") / "auditor", *extra)
    yield proc
    proc.stop()
    if url:
        drop_postgres_database(url)


def test_good_agent_is_acknowledged_and_redelivery_is_idempotent(shared_auditor, tmp_path):
    state = _enrol(shared_auditor, tmp_path, "i-redeliver")
    msg = _snapshot_message("i-redeliver")
    first = _report(shared_auditor.grpc, state.credentials(), [msg])
    again = _report(shared_auditor.grpc, state.credentials(), [msg])
    assert not first[0].duplicate and again[0].duplicate
    history = shared_auditor.cli_json("instance", "show", "i-redeliver")["history"]
    assert [c["kind"] for c in history] == ["first_snapshot"]


def test_no_client_certificate_is_refused(shared_auditor, tmp_path):
    ca_pem = (shared_auditor.data_dir / "ca" / "ca.crt").read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    with pytest.raises(grpc.RpcError) as err:
        _report(shared_auditor.grpc, creds, [_snapshot_message("i-nocert")])
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # refused in the TLS handshake
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_certificate_from_another_ca_is_refused(shared_auditor, tmp_path):
    rogue = CertificateAuthority.load_or_create(tmp_path / "rogue-ca")
    key = tls.new_private_key()
    issued = rogue.issue_client(tls.make_csr(key, "x"), "i-rogue", dt.datetime.now(dt.UTC))
    ca_pem = (shared_auditor.data_dir / "ca" / "ca.crt").read_bytes()
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=tls.private_key_pem(key), certificate_chain=issued.pem
    )
    with pytest.raises(grpc.RpcError) as err:
        _report(shared_auditor.grpc, creds, [_snapshot_message("i-rogue")])
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_reused_token_is_refused(shared_auditor, tmp_path):
    token = shared_auditor.token("i-once")
    enrolment.enroll(
        tmp_path / "a", [shared_auditor.grpc], token, enroll_address=shared_auditor.enroll
    )
    with pytest.raises(enrolment.EnrolmentError, match="InvalidToken.Used"):
        enrolment.enroll(
            tmp_path / "b", [shared_auditor.grpc], token, enroll_address=shared_auditor.enroll
        )
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_expired_token_is_refused(shared_auditor, tmp_path):
    token = shared_auditor.token("i-late", ttl="1s")
    time.sleep(1.2)
    with pytest.raises(enrolment.EnrolmentError, match="InvalidToken.Expired"):
        enrolment.enroll(
            tmp_path / "late", [shared_auditor.grpc], token, enroll_address=shared_auditor.enroll
        )
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_forged_token_secret_is_refused(shared_auditor, tmp_path):
    token_id, _secret, pin = shared_auditor.token("i-forged").split(".")
    with pytest.raises(enrolment.EnrolmentError, match="InvalidToken.NotFound"):
        enrolment.enroll(
            tmp_path / "forged",
            [shared_auditor.grpc],
            f"{token_id}.guess.{pin}",
            enroll_address=shared_auditor.enroll,
        )


def test_wrong_ca_pin_is_refused_before_sending_the_token(shared_auditor, tmp_path):
    token_id, secret, _pin = shared_auditor.token("i-pin").split(".")
    with pytest.raises(enrolment.EnrolmentError, match="does not present the CA"):
        enrolment.enroll(
            tmp_path / "pin",
            [shared_auditor.grpc],
            f"{token_id}.{secret}.AAAA",
            enroll_address=shared_auditor.enroll,
        )
    # the token was not spent: it still enrols
    enrolment.enroll(
        tmp_path / "pin2",
        [shared_auditor.grpc],
        f"{token_id}.{secret}.{_pin}",
        enroll_address=shared_auditor.enroll,
    )


def test_report_for_another_instance_is_refused(shared_auditor, tmp_path):
    state = _enrol(shared_auditor, tmp_path, "i-honest")
    _enrol(shared_auditor, tmp_path, "i-victim")
    with pytest.raises(grpc.RpcError) as err:
        _report(
            shared_auditor.grpc,
            state.credentials(),
            [_snapshot_message("i-honest", payload_instance="i-victim")],
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "i-victim" in err.value.details()
    assert shared_auditor.cli_json("instance", "show", "i-victim")["snapshot_at_ms"] == 0
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_superseded_certificate_is_refused(shared_auditor, tmp_path):
    old = _enrol(shared_auditor, tmp_path, "i-reenrol")
    enrolment.enroll(
        tmp_path / "new",
        [shared_auditor.grpc],
        shared_auditor.token("i-reenrol"),
        enroll_address=shared_auditor.enroll,
    )
    with pytest.raises(grpc.RpcError) as err:
        _report(shared_auditor.grpc, old.credentials(), [_snapshot_message("i-reenrol")])
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_message_over_the_size_limit_is_refused(shared_auditor, tmp_path):
    state = _enrol(shared_auditor, tmp_path, "i-big")
    with pytest.raises(grpc.RpcError) as err:
        _report(shared_auditor.grpc, state.credentials(), [_snapshot_message("i-big", pad=100_000)])
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_garbage_bytes_are_refused(shared_auditor, tmp_path):
    # 1. raw bytes on both TCP ports, no TLS at all
    for address in (shared_auditor.grpc, shared_auditor.enroll):
        host, port = enrolment.split_address(address)
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"\x16\x03\x01garbage" + bytes(range(256)) * 4)
            sock.settimeout(5)
            try:
                while sock.recv(4096):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass
    # 2. bytes that are not a protobuf message, on an authenticated stream
    state = _enrol(shared_auditor, tmp_path, "i-garbage")
    with grpc.secure_channel(
        shared_auditor.grpc, state.credentials(), options=transport.CHANNEL_OPTIONS
    ) as channel:
        raw = channel.stream_stream("/palisade.v1.Ingest/Report")
        with pytest.raises(grpc.RpcError) as err:
            list(raw(iter([b"\xff\xff\xff\xff\x0f garbage"]), timeout=10))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid palisade.v1.AgentMessage" in err.value.details()
    # 3. a request that is a protobuf message but not a valid report
    with pytest.raises(grpc.RpcError) as err:
        _report(
            shared_auditor.grpc,
            state.credentials(),
            [agent_pb2.AgentMessage(message_id="", instance_id="i-garbage")],
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _assert_good_agent_accepted(shared_auditor, tmp_path)


def test_malformed_csr_does_not_spend_the_token(shared_auditor, tmp_path):
    token = shared_auditor.token("i-csr")
    secret_part, pin = enrolment.parse_token(token)
    ca_pem = enrolment.fetch_pinned_ca(shared_auditor.enroll, pin)
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    with grpc.secure_channel(
        shared_auditor.enroll, creds, options=transport.CHANNEL_OPTIONS
    ) as channel:
        with pytest.raises(grpc.RpcError) as err:
            agent_pb2_grpc.EnrollmentStub(channel).Enroll(
                agent_pb2.EnrollRequest(token=secret_part, csr_pem=b"not a csr"), timeout=10
            )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    enrolment.enroll(
        tmp_path / "csr", [shared_auditor.grpc], token, enroll_address=shared_auditor.enroll
    )
