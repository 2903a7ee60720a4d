"""The auditor's gRPC side: enrolment and the agents' report streams (grpc.aio).

Identity comes from the client certificate only: the CN the CA wrote at
enrolment, checked against the serial the store holds for that instance, so a
certificate superseded by a re-enrolment stops working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc
from cryptography import x509

from palisade.auditor.ingest.ca import CertificateAuthority, EnrolmentRefused
from palisade.auditor.ingest.restarts import RestartListener, RestartWatch
from palisade.auditor.ingest.role_notices import RoleNotices, binding_message
from palisade.auditor.ingest.writer import GroupCommitWriter
from palisade.auditor.model.ram import RamError, RoleCredentials
from palisade.auditor.store.database import Database, StoreError
from palisade.shared.proto import agent_pb2, agent_pb2_grpc

log = logging.getLogger("palisade.ingest")

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_MESSAGE_ID_LEN = 64
WINDOW = 64  # messages of one stream read ahead of their acknowledgements
MAX_ROLE_NAME_LEN = 64


def now_ms() -> int:
    return int(time.time() * 1000)


class Undecodable:
    """Stands in for a request whose bytes are not the expected message."""

    def __init__(self, type_name: str):
        self.type_name = type_name


def _lenient(message_type):
    # The generated handlers let a DecodeError escape as UNKNOWN; decoding here
    # lets the service answer INVALID_ARGUMENT with a message that says what was wrong.
    def decode(data: bytes):
        msg = message_type()
        try:
            msg.ParseFromString(data)
        except Exception:
            return Undecodable(message_type.DESCRIPTOR.full_name)
        return msg

    return decode


async def _refuse_undecodable(request, context) -> None:
    if isinstance(request, Undecodable):
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the request bytes are not a valid {request.type_name}",
        )


class EnrollmentService(agent_pb2_grpc.EnrollmentServicer):
    def __init__(self, store: Database, ca: CertificateAuthority):
        self.store, self.ca = store, ca

    async def Enroll(self, request: agent_pb2.EnrollRequest, context: grpc.aio.ServicerContext):
        await _refuse_undecodable(request, context)
        try:
            x509.load_pem_x509_csr(request.csr_pem)
        except ValueError:
            # checked before the token is spent, so a broken agent does not burn it
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "InvalidCsr.Malformed: csr_pem is not a PEM PKCS#10 request",
            )
        try:
            grant = await asyncio.to_thread(self.store.redeem_token, request.token, now_ms())
        except StoreError as exc:
            log.warning("enrolment refused: %s", exc.code)  # never log the token itself
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{exc.code}: {exc.message}")
        try:
            issued = self.ca.issue_client(
                request.csr_pem, grant.instance_id, dt.datetime.now(dt.UTC)
            )
        except EnrolmentRefused as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"InvalidCsr: {exc}")
        await asyncio.to_thread(
            self.store.record_enrolment,
            grant.instance_id,
            request.hostname[:255],
            issued.serial,
            now_ms(),
        )
        log.info("enrolled instance %s (token %s)", grant.instance_id, grant.token_id)
        return agent_pb2.EnrollResponse(
            instance_id=grant.instance_id,
            certificate_pem=issued.pem,
            ca_certificate_pem=self.ca.cert_pem,
        )


@dataclass
class PeerIdentity:
    instance_id: str
    serial: int


def peer_identity(context: grpc.aio.ServicerContext) -> PeerIdentity | None:
    auth = context.auth_context()
    names = auth.get("x509_common_name") or []
    pems = auth.get("x509_pem_cert") or []
    if not names or not pems:
        return None
    cert = x509.load_pem_x509_certificate(pems[0])
    return PeerIdentity(names[0].decode(), cert.serial_number)


def _superseded(instance_id: str) -> str:
    return f"the certificate for {instance_id} has been superseded or revoked; enrol again"


async def authenticated_peer(store: Database, context: grpc.aio.ServicerContext) -> PeerIdentity:
    """The instance the client certificate names, if that certificate is still its current one
    (aborts the call otherwise)."""
    peer = peer_identity(context)
    if peer is None:  # only reachable through a misconfigured port; TLS requires one
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "a client certificate is required: enrol with `palisade-agent enroll`",
        )
    current = await asyncio.to_thread(store.current_cert_serial, peer.instance_id)
    if current is None or current != str(peer.serial):
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, _superseded(peer.instance_id))
    return peer


MAX_REVOKE_REASON_LEN = 256


class RevokeService:
    """Ingest.Revoke: the calling certificate is revoked (`palisade-agent uninstall`)."""

    def __init__(self, store: Database):
        self.store = store

    async def Revoke(self, request, context: grpc.aio.ServicerContext):
        await _refuse_undecodable(request, context)
        peer = await authenticated_peer(self.store, context)
        reason = request.reason[:MAX_REVOKE_REASON_LEN]
        revoked = await asyncio.to_thread(self.store.revoke_cert, peer.instance_id, peer.serial)
        if not revoked:  # superseded between the check and the update
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, _superseded(peer.instance_id))
        log.info("revoked the certificate of instance %s (%r)", peer.instance_id, reason)
        return agent_pb2.RevokeResponse(instance_id=peer.instance_id)


class IngestService(agent_pb2_grpc.IngestServicer):
    def __init__(
        self,
        store: Database,
        writer: GroupCommitWriter,
        restarts: RestartWatch | None = None,
        role_bindings: RoleCredentialSource | None = None,
        notices: RoleNotices | None = None,
    ):
        self.store, self.writer, self.restarts = store, writer, restarts
        self.role_bindings, self.notices = role_bindings, notices

    async def _role_binding(self, instance_id: str) -> agent_pb2.RoleBinding | None:
        """The instance's role binding now, for the agent to drop credentials it no longer
        has (revocation); None when this auditor serves no credentials or cannot tell."""
        if self.role_bindings is None:
            return None
        try:
            bindings = await asyncio.to_thread(self.role_bindings.bindings, [instance_id])
        except Exception:  # the ack matters more; the notices or the next snapshot tell it
            log.exception("cannot read the role binding of %s", instance_id)
            return None
        return binding_message(bindings.get(instance_id, ("", 0)))

    async def Report(self, request_iterator, context: grpc.aio.ServicerContext):
        peer = await authenticated_peer(self.store, context)
        # Messages are read and submitted ahead of their acknowledgements (up to WINDOW),
        # so one agent's backlog shares commits instead of waiting one fsync per message;
        # acknowledgements still go out in order, each after its own commit.
        pending: asyncio.Queue = asyncio.Queue(maxsize=WINDOW)
        reader = asyncio.create_task(self._read(peer, request_iterator, pending))
        unsubscribe = None
        if self.notices is not None:  # role binding changes, sent between the acks

            def deliver(binding: agent_pb2.RoleBinding) -> bool:
                try:
                    pending.put_nowait(_RoleNotice(binding))
                except asyncio.QueueFull:
                    return False  # acks are flowing: the next round tries again
                return True

            unsubscribe = self.notices.subscribe(peer.instance_id, deliver)
        try:
            while True:
                item = await pending.get()
                if item is None:
                    break
                if isinstance(item, _Refusal):
                    await context.abort(item.code, item.details)
                if isinstance(item, _RoleNotice):  # an Ack without a message id: a notice only
                    yield agent_pb2.Ack(role=item.binding)
                    continue
                message, result = item
                try:
                    stored = await result
                except StoreError as exc:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION, f"{exc.code}: {exc.message}"
                    )
                if stored.restarted_at_boot_time and self.restarts is not None:
                    await asyncio.to_thread(
                        self.restarts.restarted, peer.instance_id, stored.restarted_at_boot_time
                    )
                ack = agent_pb2.Ack(
                    message_id=message.message_id,
                    duplicate=not stored.stored and not stored.need_full_snapshot,
                    need_full_snapshot=stored.need_full_snapshot,
                )
                if message.WhichOneof("payload") in ("snapshot", "delta"):  # once an interval
                    binding = await self._role_binding(peer.instance_id)
                    if binding is not None:
                        ack.role.CopyFrom(binding)
                yield ack
        finally:
            reader.cancel()
            if unsubscribe is not None:
                unsubscribe()

    async def _read(self, peer: PeerIdentity, request_iterator, pending: asyncio.Queue) -> None:
        try:
            async for message in request_iterator:
                refusal = _check_message(peer, message)
                if refusal is not None:
                    await pending.put(refusal)
                    return
                result = self.writer.enqueue(message)
                await pending.put((message, result))
        except grpc.aio.AioRpcError:
            pass  # the stream broke; the handler ends with it
        await pending.put(None)


@dataclass(frozen=True)
class _Refusal:
    code: grpc.StatusCode
    details: str


@dataclass(frozen=True)
class _RoleNotice:
    binding: agent_pb2.RoleBinding


def _check_message(peer: PeerIdentity, message) -> _Refusal | None:
    if isinstance(message, Undecodable):
        return _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the request bytes are not a valid {message.type_name}",
        )
    if message.instance_id != peer.instance_id:
        log.warning("instance %s sent a report for %r", peer.instance_id, message.instance_id[:128])
        return _Refusal(
            grpc.StatusCode.PERMISSION_DENIED,
            f"this certificate belongs to {peer.instance_id}; it cannot "
            f"report for {message.instance_id[:128]!r}",
        )
    if not message.message_id or len(message.message_id) > MAX_MESSAGE_ID_LEN:
        return _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"message_id must be 1..{MAX_MESSAGE_ID_LEN} characters",
        )
    if message.WhichOneof("payload") is None:
        return _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT, "a message carries a snapshot or an event"
        )
    return None


class RoleCredentialSource(Protocol):
    def issue(self, instance_id: str, role_name: str | None = None) -> tuple[str, RoleCredentials]:
        """(role name, credentials) for the instance's role; RamError when it has none."""

    def bindings(self, instance_ids: list[str]) -> dict[str, tuple[str, int]]:
        """(role name, binding generation) of each instance's role; ("", 0) when none."""


class MetadataService(agent_pb2_grpc.MetadataServicer):
    """STS credentials for the role of the certificate's instance, and of no other."""

    def __init__(self, store: Database, source: RoleCredentialSource):
        self.store, self.source = store, source

    async def GetRoleCredentials(
        self, request: agent_pb2.RoleCredentialsRequest, context: grpc.aio.ServicerContext
    ):
        await _refuse_undecodable(request, context)
        peer = await authenticated_peer(self.store, context)
        if len(request.role_name) > MAX_ROLE_NAME_LEN:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"role_name must be at most {MAX_ROLE_NAME_LEN} characters",
            )
        try:
            role, creds = await asyncio.to_thread(
                self.source.issue, peer.instance_id, request.role_name or None
            )
        except RamError as exc:
            status = (
                grpc.StatusCode.NOT_FOUND
                if exc.code == "InvalidRamRole.NotAttached"
                else grpc.StatusCode.FAILED_PRECONDITION
            )
            await context.abort(status, f"{exc.code}: {exc.message}")
        log.info(
            "issued STS credentials of role %s to instance %s until %s",
            role,
            peer.instance_id,
            creds.expiration.isoformat(),
        )
        return agent_pb2.RoleCredentialsResponse(
            role_name=role,
            access_key_id=creds.access_key_id,
            access_key_secret=creds.access_key_secret,
            security_token=creds.security_token,
            expiration_ms=int(creds.expiration.timestamp() * 1000),
            last_updated_ms=int(creds.last_updated.timestamp() * 1000),
            binding_generation=creds.binding_generation,
        )


def _credentials(ca: CertificateAuthority, key_pem: bytes, chain_pem: bytes, mutual: bool):
    # gRPC can only require client certificates or not ask for them at all, so
    # enrolment (the agent has no certificate yet) gets its own port.
    return grpc.ssl_server_credentials(
        [(key_pem, chain_pem)],
        root_certificates=ca.cert_pem if mutual else None,
        require_client_auth=mutual,
    )


def _options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


async def start_grpc(
    store: Database,
    ca: CertificateAuthority,
    key_pem: bytes,
    chain_pem: bytes,
    ingest_address: str,
    enroll_address: str,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    role_credentials: RoleCredentialSource | None = None,
    on_restart: RestartListener | None = None,
    on_committed: Callable[[list[str]], None] | None = None,
):
    """Starts the ingest (mutual TLS) and enrolment (server TLS) servers; returns their ports.

    With `role_credentials`, the mutual-TLS server also answers Metadata.GetRoleCredentials,
    and the report streams tell each agent its instance's role binding whenever it changes
    (role_notices.py) and with each snapshot's acknowledgement.
    """
    ingest_server = grpc.aio.server(options=_options(max_message_bytes))
    writer = GroupCommitWriter(store, on_committed=on_committed)
    writer.start()
    notices = RoleNotices(role_credentials).start() if role_credentials is not None else None
    handlers = [
        grpc.method_handlers_generic_handler(
            "palisade.v1.Ingest",
            {
                "Report": grpc.stream_stream_rpc_method_handler(
                    IngestService(
                        store,
                        writer,
                        RestartWatch(on_restart) if on_restart else None,
                        role_credentials,
                        notices,
                    ).Report,
                    request_deserializer=_lenient(agent_pb2.AgentMessage),
                    response_serializer=agent_pb2.Ack.SerializeToString,
                ),
                "Revoke": grpc.unary_unary_rpc_method_handler(
                    RevokeService(store).Revoke,
                    request_deserializer=_lenient(agent_pb2.RevokeRequest),
                    response_serializer=agent_pb2.RevokeResponse.SerializeToString,
                ),
            },
        )
    ]
    if role_credentials is not None:
        handlers.append(
            grpc.method_handlers_generic_handler(
                "palisade.v1.Metadata",
                {
                    "GetRoleCredentials": grpc.unary_unary_rpc_method_handler(
                        MetadataService(store, role_credentials).GetRoleCredentials,
                        request_deserializer=_lenient(agent_pb2.RoleCredentialsRequest),
                        response_serializer=agent_pb2.RoleCredentialsResponse.SerializeToString,
                    )
                },
            )
        )
    ingest_server.add_generic_rpc_handlers(handlers)
    ingest_port = ingest_server.add_secure_port(
        ingest_address, _credentials(ca, key_pem, chain_pem, True)
    )
    enroll_server = grpc.aio.server(options=_options(64 * 1024))
    enroll_server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "palisade.v1.Enrollment",
                {
                    "Enroll": grpc.unary_unary_rpc_method_handler(
                        EnrollmentService(store, ca).Enroll,
                        request_deserializer=_lenient(agent_pb2.EnrollRequest),
                        response_serializer=agent_pb2.EnrollResponse.SerializeToString,
                    )
                },
            )
        ]
    )
    enroll_port = enroll_server.add_secure_port(
        enroll_address, _credentials(ca, key_pem, chain_pem, False)
    )
    if ingest_port == 0 or enroll_port == 0:
        raise OSError(f"cannot listen on {ingest_address} and {enroll_address}")
    await ingest_server.start()
    await enroll_server.start()
    # the writer is stopped with the servers (after them: in-flight reports finish first)
    stoppable = [ingest_server, enroll_server, writer, *([notices] if notices else [])]
    return stoppable, ingest_port, enroll_port
