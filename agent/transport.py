"""The agent's link to the auditor: enrolment, the mutual-TLS report stream, backoff.

Enrolment trusts no public CA: the token carries a pin of the auditor's CA
certificate, the agent reads the certificate chain the auditor presents, keeps
the CA certificate whose hash equals the pin, and verifies everything after
that against it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import ssl
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from palisade.agent.spool import Spool
from palisade.agent.version import AGENT_VERSION
from palisade.shared import tls
from palisade.shared.proto import agent_pb2, agent_pb2_grpc

log = logging.getLogger("palisade.agent.transport")

CHANNEL_OPTIONS = [
    ("grpc.ssl_target_name_override", tls.AUDITOR_TLS_NAME),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
]
MAX_IN_FLIGHT = 256


class EnrolmentError(Exception):
    pass


@dataclass
class AgentState:
    """What `enroll` leaves in the state dir and `run` reads back."""

    directory: Path
    instance_id: str
    auditors: list[str]

    @property
    def key_path(self) -> Path:
        return self.directory / "agent.key"

    @property
    def cert_path(self) -> Path:
        return self.directory / "agent.crt"

    @property
    def ca_path(self) -> Path:
        return self.directory / "ca.crt"

    @classmethod
    def load(cls, directory: Path) -> AgentState:
        directory = Path(directory)
        try:
            data = json.loads((directory / "agent.json").read_text())
        except FileNotFoundError:
            raise EnrolmentError(
                f"{directory} holds no enrolment: run `palisade-agent enroll` first"
            ) from None
        return cls(directory, data["instance_id"], list(data["auditors"]))

    def save(self) -> None:
        tls.write_public(
            self.directory / "agent.json",
            (
                json.dumps({"instance_id": self.instance_id, "auditors": self.auditors}, indent=2)
                + "\n"
            ).encode(),
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_path.read_bytes(),
            private_key=self.key_path.read_bytes(),
            certificate_chain=self.cert_path.read_bytes(),
        )


def parse_token(token: str) -> tuple[str, str]:
    """'<id>.<secret>.<pin>' -> ('<id>.<secret>', pin)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise EnrolmentError(
            "the token must look like ID.SECRET.PIN, as `palisade token create` prints it"
        )
    return f"{parts[0]}.{parts[1]}", parts[2]


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise EnrolmentError(f"{address!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def fetch_pinned_ca(address: str, pin: str, timeout: float = 10.0) -> bytes:
    """The auditor's CA certificate (PEM), taken from its TLS chain and checked against pin."""
    host, port = split_address(address)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # trust is established by the pin below, not by a CA store
    ctx.set_alpn_protocols(["h2"])
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=tls.AUDITOR_TLS_NAME) as conn,
        ):
            # SSLSocket.get_unverified_chain() is public from Python 3.13 only
            sslobj = conn._sslobj  # type: ignore[attr-defined]  # noqa: SLF001
            der = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]  # noqa: SLF001
            ders = [c.public_bytes(der) for c in sslobj.get_unverified_chain()]
    except (OSError, ssl.SSLError) as exc:
        raise EnrolmentError(f"cannot reach the auditor at {address}: {exc}") from None
    for der in ders:
        if tls.certificate_pin(der) == pin:
            return ssl.DER_cert_to_PEM_cert(der).encode()
    raise EnrolmentError(
        f"the auditor at {address} does not present the CA the token names "
        "(wrong address, or a machine in the middle)"
    )


def default_enroll_address(auditor: str) -> str:
    """The auditor's enrolment port is its report port + 1 unless told otherwise."""
    host, port = split_address(auditor)
    return f"{host}:{port + 1}" if ":" not in host else f"[{host}]:{port + 1}"


def enroll(
    state_dir: Path,
    auditors: list[str],
    token: str,
    ca_pem: bytes | None = None,
    enroll_address: str | None = None,
    timeout: float = 15.0,
) -> AgentState:
    secret_part, pin = parse_token(token)
    enroll_address = enroll_address or default_enroll_address(auditors[0])
    if ca_pem is None:
        ca_pem = fetch_pinned_ca(enroll_address, pin, timeout)
    elif tls.pem_pin(ca_pem) != pin:
        raise EnrolmentError("the CA file does not match the token's pin")
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = tls.new_private_key()
    request = agent_pb2.EnrollRequest(
        token=secret_part,
        csr_pem=tls.make_csr(key, "agent"),
        hostname=socket.gethostname(),
        agent_version=AGENT_VERSION,
    )
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    with grpc.secure_channel(enroll_address, creds, options=CHANNEL_OPTIONS) as channel:
        try:
            reply = agent_pb2_grpc.EnrollmentStub(channel).Enroll(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise EnrolmentError(f"enrolment refused: {exc.details()}") from None
    state = AgentState(state_dir, reply.instance_id, auditors)
    tls.write_secret(state.key_path, tls.private_key_pem(key))
    tls.write_public(state.cert_path, reply.certificate_pem)
    tls.write_public(state.ca_path, reply.ca_certificate_pem)
    state.save()
    return state


@dataclass
class Backoff:
    """Exponential backoff with jitter, so a fleet does not reconnect in lock-step."""

    initial: float = 0.5
    maximum: float = 60.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2**self.attempt))
        self.attempt += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


class Sender:
    """Streams the spool to the auditor; deletes what is acknowledged; reconnects forever."""

    def __init__(
        self, state: AgentState, spool: Spool, backoff: Backoff | None = None, on_ack=None
    ):
        self.state, self.spool = state, spool
        self.on_ack = on_ack
        self.backoff = backoff or Backoff()
        self.wakeup = asyncio.Event()
        self.connected = False
        self.acked = 0

    async def run(self, stop: asyncio.Event) -> None:
        # Each instance starts at its own replica (a stable hash of its id), so a fleet
        # spreads over the auditors instead of all dialling the first one.
        turn = zlib.crc32(self.state.instance_id.encode()) % len(self.state.auditors)
        while not stop.is_set():
            address = self.state.auditors[turn % len(self.state.auditors)]
            try:
                await self._stream(address, stop)
            except grpc.aio.AioRpcError as exc:
                log.warning("auditor %s: %s %s", address, exc.code().name, exc.details())
            except (TimeoutError, OSError, asyncio.InvalidStateError) as exc:
                # InvalidStateError: a write raced the stream's end ("RPC already finished")
                log.warning("auditor %s: %s", address, exc or type(exc).__name__)
            except Exception:
                log.exception("auditor %s: unexpected error; reconnecting", address)
            self.connected = False
            turn += 1
            delay = self.backoff.next_delay()
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _stream(self, address: str, stop: asyncio.Event) -> None:
        async with grpc.aio.secure_channel(
            address, self.state.credentials(), options=CHANNEL_OPTIONS
        ) as channel:
            call = agent_pb2_grpc.IngestStub(channel).Report()
            in_flight: set[str] = set()
            progress = asyncio.Event()

            async def read_acks():
                async for ack in call:
                    self.spool.ack(ack.message_id)
                    if self.on_ack is not None:
                        self.on_ack(ack)
                    in_flight.discard(ack.message_id)
                    self.acked += 1
                    if not self.connected:
                        self.connected = True
                        log.info("connected to auditor %s", address)
                    self.backoff.reset()
                    progress.set()

            reader = asyncio.create_task(read_acks())
            try:
                while not stop.is_set() and not reader.done():
                    for _entry, msg in self.spool.pending():
                        if len(in_flight) >= MAX_IN_FLIGHT:
                            break
                        if msg.message_id in in_flight:
                            continue
                        in_flight.add(msg.message_id)
                        await call.write(msg)
                    self.wakeup.clear()
                    progress.clear()
                    waiters = [
                        asyncio.create_task(self.wakeup.wait()),
                        asyncio.create_task(progress.wait()),
                        asyncio.create_task(stop.wait()),
                    ]
                    await asyncio.wait(
                        waiters + [reader], timeout=5, return_when=asyncio.FIRST_COMPLETED
                    )
                    for w in waiters:
                        w.cancel()
                if reader.done():
                    reader.result()  # raises the stream's error, if any
                    raise OSError("the auditor closed the stream")
                await call.done_writing()
            finally:
                reader.cancel()
