"""Enrolment: the agent trades a one-time token for its certificate and saves its state.

Enrolment trusts no public CA: the token carries a pin of the auditor's CA
certificate, the agent reads the certificate chain the auditor presents, keeps
the CA certificate whose hash equals the pin, and verifies everything after
that against it.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import grpc

from palisade.agent.state import AgentState, EnrolmentError
from palisade.agent.transport import CHANNEL_OPTIONS
from palisade.agent.version import AGENT_VERSION
from palisade.shared import tls
from palisade.shared.proto import agent_pb2, agent_pb2_grpc

__all__ = [
    "EnrolmentError",
    "default_enroll_address",
    "enroll",
    "fetch_pinned_ca",
    "parse_token",
    "split_address",
]


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
