"""The instance metadata credential endpoint, served by the agent inside the VM.

ECS answers `GET /latest/meta-data/ram/security-credentials/<role>` on its metadata address
with STS credentials for the instance's RAM role, so no long-lived AccessKey is kept on the
machine. Here the agent answers it on a local address (default 127.0.0.1:51100) with
credentials the auditor issues over the agent's mutual-TLS connection: the auditor decides
which role, from the client certificate's instance, never from anything the agent says.

Credentials are cached and fetched again at half their lifetime, so a program always gets
ones with a good margin left. Revocation: the auditor says on the report stream which role
binding the instance has now (`Ack.role`: in a notice as soon as it changes, and with each
snapshot's acknowledgement); cached credentials of another binding (the role was detached,
replaced or deleted) are dropped, so the endpoint asks again and answers 404 (or serves the
new role's) about a second after the change, within one report interval at the latest.

Tokens work as on ECS: `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds`,
then the `X-aliyun-ecs-metadata-token` header; a token is always checked when sent, and
required in hardened mode (`require_token`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import grpc

from palisade.agent.enrolment import EnrolmentError, split_address
from palisade.agent.state import AgentState
from palisade.agent.transport import CHANNEL_OPTIONS
from palisade.shared.proto import agent_pb2, agent_pb2_grpc

log = logging.getLogger("palisade.agent.metadata")

DEFAULT_ADDRESS = "127.0.0.1:51100"
CREDENTIALS_PREFIX = "/latest/meta-data/ram/security-credentials/"
TOKEN_PATH = "/latest/api/token"
TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"
MAX_TOKEN_TTL = 21600
MAX_TOKENS = 4096
FETCH_TIMEOUT = 10.0
_ROLE_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RoleCredentials:
    role_name: str
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: datetime
    last_updated: datetime
    binding_generation: int = 0  # which attachment of the role they derive from

    @property
    def refresh_at(self) -> datetime:
        """Half-way through the lifetime: the margin left is never less than half."""
        return self.last_updated + (self.expiration - self.last_updated) / 2

    def to_metadata(self) -> dict[str, str]:
        """The JSON object ECS's metadata service returns for security-credentials/<role>."""
        return {
            "AccessKeyId": self.access_key_id,
            "AccessKeySecret": self.access_key_secret,
            "Expiration": _timestamp(self.expiration),
            "SecurityToken": self.security_token,
            "LastUpdated": _timestamp(self.last_updated),
            "Code": "Success",
        }

    def __repr__(self) -> str:  # keep the secret and token out of logs and tracebacks
        return (
            f"RoleCredentials({self.role_name!r}, {self.access_key_id!r}, until {self.expiration})"
        )


class NoRole(Exception):
    """The auditor says the instance has no (usable) RAM role."""


class AuditorUnavailable(Exception):
    """No auditor answered."""


Fetch = Callable[[], RoleCredentials]


class CredentialCache:
    """The instance's current role credentials: fetched on first use, again at half-life."""

    def __init__(self, fetch: Fetch, clock: Callable[[], datetime] = utcnow):
        self.fetch = fetch
        self.clock = clock
        self.current: RoleCredentials | None = None
        self.lock = threading.Lock()  # held while fetching: never taken on the event loop
        # (role name, generation) the auditor last announced; set by one assignment from the
        # report stream's task, read under `lock`
        self.announced: tuple[str, int] | None = None

    def on_ack(self, ack: agent_pb2.Ack) -> None:
        """The report stream's acknowledgement: note the role binding it announces, if any."""
        if not ack.HasField("role"):  # an auditor that serves no credentials
            return
        announced = (ack.role.role_name, ack.role.generation)
        cached = self.current
        if cached is not None and not _is(cached, announced) and announced != self.announced:
            log.info(
                "role %s was detached or replaced: its credentials are dropped", cached.role_name
            )
        self.announced = announced

    def _stale(self, cached: RoleCredentials) -> bool:
        """Whether the auditor has announced another binding than the one `cached` is of."""
        announced = self.announced
        return announced is not None and not _is(cached, announced)

    def get(self, role_name: str | None = None) -> RoleCredentials:
        """The credentials of the instance's role (which must be `role_name`, if given);
        NoRole when it has none, AuditorUnavailable when the auditor cannot be asked and
        nothing valid is cached."""
        with self.lock:
            now = self.clock()
            cached = self.current
            if cached is not None and self._stale(cached):
                cached = self.current = None  # revoked: never served again, even in an outage
            wanted = role_name is None or (cached is not None and cached.role_name == role_name)
            if cached is not None and wanted and now < cached.refresh_at:
                return cached
            try:
                fresh = self.fetch()
            except NoRole:
                self.current = None
                raise
            except AuditorUnavailable:
                # an outage is no reason to stop a program whose credentials are still good
                if cached is not None and wanted and now < cached.expiration:
                    log.warning(
                        "auditor unreachable; serving credentials valid until %s",
                        _timestamp(cached.expiration),
                    )
                    return cached
                raise
            self.current = fresh
            # newer news than the last acknowledgement (a stale one is corrected by the next)
            self.announced = (fresh.role_name, fresh.binding_generation)
            log.info(
                "fetched credentials of role %s, valid until %s",
                fresh.role_name,
                _timestamp(fresh.expiration),
            )
            if role_name is not None and fresh.role_name != role_name:
                raise NoRole(f"the instance's role is {fresh.role_name}, not {role_name}")
            return fresh


def _is(credentials: RoleCredentials, binding: tuple[str, int]) -> bool:
    return (credentials.role_name, credentials.binding_generation) == binding


class GrpcRoleFetcher:
    """Asks the auditors (in turn) over the agent's mutual-TLS identity."""

    def __init__(self, state: AgentState, timeout: float = FETCH_TIMEOUT):
        self.state = state
        self.timeout = timeout
        self.channels: dict[str, grpc.Channel] = {}
        self.lock = threading.Lock()

    def _stub(self, address: str) -> agent_pb2_grpc.MetadataStub:
        with self.lock:
            channel = self.channels.get(address)
            if channel is None:
                channel = grpc.secure_channel(
                    address, self.state.credentials(), options=CHANNEL_OPTIONS
                )
                self.channels[address] = channel
        return agent_pb2_grpc.MetadataStub(channel)

    def __call__(self) -> RoleCredentials:
        failures = []
        for address in self.state.auditors:
            try:
                reply = self._stub(address).GetRoleCredentials(
                    agent_pb2.RoleCredentialsRequest(), timeout=self.timeout
                )
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                    raise NoRole(exc.details()) from None
                failures.append(f"{address}: {code.name if code else '?'} {exc.details()}")
                continue
            return RoleCredentials(
                role_name=reply.role_name,
                access_key_id=reply.access_key_id,
                access_key_secret=reply.access_key_secret,
                security_token=reply.security_token,
                expiration=datetime.fromtimestamp(reply.expiration_ms / 1000, UTC),
                last_updated=datetime.fromtimestamp(reply.last_updated_ms / 1000, UTC),
                binding_generation=reply.binding_generation,
            )
        raise AuditorUnavailable("; ".join(failures) or "no auditor configured")

    def close(self) -> None:
        with self.lock:
            for channel in self.channels.values():
                channel.close()
            self.channels.clear()


class TokenBook:
    """Session tokens handed out by PUT /latest/api/token, until they expire."""

    def __init__(self, clock: Callable[[], datetime] = utcnow):
        self.clock = clock
        self.tokens: dict[str, datetime] = {}
        self.lock = threading.Lock()

    def issue(self, ttl_seconds: int) -> str:
        with self.lock:
            now = self.clock()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            if len(self.tokens) >= MAX_TOKENS:  # drop the one expiring first
                del self.tokens[min(self.tokens, key=self.tokens.__getitem__)]
            token = secrets.token_urlsafe(32)
            self.tokens[token] = now + timedelta(seconds=ttl_seconds)
            return token

    def valid(self, token: str) -> bool:
        with self.lock:
            expires = self.tokens.get(token)
            return expires is not None and self.clock() < expires


@dataclass
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class MetadataEndpoint:
    """What the HTTP server answers, without the socket (so it is testable alone)."""

    def __init__(
        self,
        cache: CredentialCache,
        instance_id: str,
        require_token: bool = False,
        tokens: TokenBook | None = None,
    ):
        self.cache = cache
        self.instance_id = instance_id
        self.require_token = require_token
        self.tokens = tokens or TokenBook(cache.clock)

    def answer(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        if method == "PUT":
            if path != TOKEN_PATH:
                return Answer(405, "Method Not Allowed")
            return self._issue_token(headers)
        if method not in ("GET", "HEAD"):
            return Answer(405, "Method Not Allowed")
        token = headers.get(TOKEN_HEADER)
        if token is not None and not self.tokens.valid(token):
            return Answer(401, "Unauthorized: the metadata token is invalid or expired")
        if token is None and self.require_token:
            return Answer(401, f"Unauthorized: PUT {TOKEN_PATH} first, then send {TOKEN_HEADER}")
        if path in ("/latest/meta-data/instance-id", "/latest/meta-data/instance-id/"):
            return Answer(200, self.instance_id)
        if not path.lower().startswith(CREDENTIALS_PREFIX):
            return Answer(404, "Not Found")
        # the ECS security guide writes Ram/, ECS itself serves ram/: take both
        role = path[len(CREDENTIALS_PREFIX) :].rstrip("/")
        if role and not _ROLE_NAME.fullmatch(role):
            return Answer(404, "Not Found")
        try:
            credentials = self.cache.get(role or None)
        except NoRole:
            return Answer(404, "Not Found")
        except AuditorUnavailable as exc:
            log.warning("cannot fetch role credentials: %s", exc)
            return Answer(503, "Service Unavailable: the auditor cannot be reached")
        if not role:
            return Answer(200, credentials.role_name)
        return Answer(
            200,
            json.dumps(credentials.to_metadata(), indent=2) + "\n",
            "application/json; charset=utf-8",
        )

    def _issue_token(self, headers: dict[str, str]) -> Answer:
        # a request relayed by a proxy (the usual SSRF path) carries X-Forwarded-For
        if "x-forwarded-for" in headers:
            return Answer(403, "Forbidden: token requests through a proxy are refused")
        text = headers.get(TOKEN_TTL_HEADER, "")
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_TOKEN_TTL:
            return Answer(400, f"Bad Request: {TOKEN_TTL_HEADER} must be 1 to {MAX_TOKEN_TTL}")
        return Answer(200, self.tokens.issue(int(text)))


MAX_REQUEST_BYTES = 16 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _read_request(rfile) -> tuple[str, str, dict[str, str]] | None:
    """Request line and headers of one HTTP/1.x request (a plain reader: http.server would
    pull the email package into the agent, megabytes of memory for three paths)."""
    line = rfile.readline(MAX_REQUEST_BYTES)
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers: dict[str, str] = {}
    total = len(line)
    while True:
        raw = rfile.readline(MAX_REQUEST_BYTES)
        total += len(raw)
        if not raw or raw in (b"\r\n", b"\n") or total > MAX_REQUEST_BYTES or len(headers) > 100:
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return parts[0].upper(), parts[1], headers


class _Handler(socketserver.StreamRequestHandler):
    endpoint: MetadataEndpoint

    def handle(self) -> None:
        self.connection.settimeout(10)
        try:
            request = _read_request(self.rfile)
        except OSError:
            return
        if request is None:
            answer, method = Answer(400, "Bad Request"), "GET"
        else:
            method, target, headers = request
            try:
                answer = self.endpoint.answer(method, urlsplit(target).path, headers)
            except Exception:
                log.exception("metadata request failed")
                answer = Answer(500, "Internal Server Error")
        body = answer.body.encode()
        head = (
            f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Error')}\r\n"
            f"Server: palisade-metadata\r\nContent-Type: {answer.content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        ).encode("latin-1")
        try:
            self.wfile.write(head + (b"" if method == "HEAD" else body))
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class MetadataServer:
    """The endpoint on a socket, served from a background thread."""

    def __init__(self, endpoint: MetadataEndpoint, address: str = DEFAULT_ADDRESS):
        host, port = split_address(address)
        handler = type("Handler", (_Handler,), {"endpoint": endpoint})
        self.httpd = _Server((host, port), handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="metadata", daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self.httpd.socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> MetadataServer:
        self.thread.start()
        log.info("metadata endpoint on http://%s%s", self.address, CREDENTIALS_PREFIX)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class RunningMetadata:
    server: MetadataServer
    fetcher: GrpcRoleFetcher

    def stop(self) -> None:
        self.server.stop()
        self.fetcher.close()


def credential_cache(state: AgentState) -> tuple[CredentialCache, GrpcRoleFetcher]:
    """The cache `palisade-agent run` keeps for the whole run (the report stream feeds it
    `on_ack`), and the fetcher it asks through (channels reopen after `close`)."""
    fetcher = GrpcRoleFetcher(state)
    return CredentialCache(fetcher), fetcher


def start_for_agent(
    state: AgentState,
    address: str | None = DEFAULT_ADDRESS,
    require_token: bool = False,
    cache: tuple[CredentialCache, GrpcRoleFetcher] | None = None,
) -> RunningMetadata | None:
    """The endpoint `palisade-agent run` serves, from `cache` (a new one if None); None when
    off (`address` None) or when it cannot listen: reporting matters more than the endpoint,
    so the agent runs on."""
    if not address:
        return None
    credentials, fetcher = cache or credential_cache(state)
    endpoint = MetadataEndpoint(credentials, state.instance_id, require_token)
    try:
        server = MetadataServer(endpoint, address).start()
    except (OSError, EnrolmentError) as exc:
        log.error("cannot serve instance metadata on %s: %s", address, exc)
        fetcher.close()
        return None
    return RunningMetadata(server, fetcher)
