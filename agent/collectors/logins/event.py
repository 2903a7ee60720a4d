"""The login event record every login parser returns, and its two wire forms.

`to_json_dict()` is the `parse-log --json` contract (architecture note); `to_proto()` and
`to_event_proto()` are what the agent spools and sends. `event_id()` is a hash of what the
event *is* (host, time, the log line), never of where or when it was read, so reading the same
line again (after a restart, from a rotated copy, through `parse-log`) gives the same id and the
auditor stores it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from palisade.shared.proto import facts_pb2

# Field order of the JSON contract; `parse-log --json` prints exactly these keys.
CONTRACT_FIELDS = (
    "time",
    "user",
    "source_ip",
    "source_port",
    "method",
    "result",
    "service",
    "key_fingerprint",
    "raw",
    "session",
    "new_attempt",
    "forgiven",
)

# The `result` vocabulary (the package docstring says when each is used).
SUCCESS = "success"
FAILURE = "failure"
INVALID_USER = "invalid_user"
REFUSED = "refused"
TOO_MANY_FAILURES = "too_many_failures"
PARTIAL = "partial"
PREAUTH_CLOSE = "preauth_close"
DISCONNECT = "disconnect"
SCAN = "scan"
PROTOCOL_ERROR = "protocol_error"
NEGOTIATION_FAILURE = "negotiation_failure"
RESULTS = frozenset(
    (
        SUCCESS,
        FAILURE,
        INVALID_USER,
        REFUSED,
        TOO_MANY_FAILURES,
        PARTIAL,
        PREAUTH_CLOSE,
        DISCONNECT,
        SCAN,
        PROTOCOL_ERROR,
        NEGOTIATION_FAILURE,
    )
)
# Results that can be (part of) a failed authentication attempt.
ATTEMPT_RESULTS = frozenset((FAILURE, INVALID_USER, REFUSED))

# `attempt`: the proto enum LoginAttempt's values
ATTEMPT_UNSPECIFIED = 0  # not decided (no session tracker ran)
ATTEMPT_NEW = 1
ATTEMPT_SAME = 2
ATTEMPT_NONE = 3

# The `method` vocabulary: sshd's own method names, plus "pam" (a PAM module reported the
# failure) and the Windows authentication packages.
METHODS = frozenset(
    (
        "password",
        "publickey",
        "keyboard-interactive",
        "hostbased",
        "gssapi-with-mic",
        "gssapi-keyex",
        "none",
        "pam",
        "ntlm",
        "kerberos",
        "negotiate",
    )
)


@dataclass(slots=True)
class LoginEvent:
    """One authentication-related happening, as one log line (or record) reported it.

    Unknown values are None, never "" (the protobuf form turns None into "" / 0).
    `source_ip` is a normalised IP address (IPv4-mapped IPv6 becomes IPv4); when the log gave a
    host name instead (sshd with UseDNS, utmp ut_host) it is in `source_host` and `source_ip` is
    None. The Windows-only fields stay None for Linux sources.
    """

    time: datetime  # aware, UTC
    result: str  # see RESULTS
    service: str  # "sshd", "login", or the Windows logon type name ("rdp", "network", ...)
    raw: str  # the log line / record as read (a Windows event: its <Event> element)
    user: str | None = None
    source_ip: str | None = None
    source_port: int | None = None
    method: str | None = None  # see METHODS
    key_type: str | None = None  # as sshd logs it: "ED25519", "RSA", "ssh-ed25519", ...
    key_fingerprint: str | None = None  # "SHA256:..." as sshd logs it
    hostname: str | None = None  # the host that logged the line
    pid: int | None = None
    source_host: str | None = None  # a host name where the log gave one instead of an address
    repeat: int = 1  # syslog "message repeated N times": one event standing for N
    # Windows Security log (4624 / 4625)
    domain: str | None = None
    logon_type: int | None = None
    status: str | None = None  # "0xc000006d"
    sub_status: str | None = None  # "0xc000006a"
    process: str | None = None  # ProcessName
    # Sessions (sessions.py): the connection's key, whether this line starts a new attempt,
    # and whether a later success in the same session forgave this failure.
    session: str | None = None
    attempt: int = ATTEMPT_UNSPECIFIED
    forgiven: bool = False

    @property
    def new_attempt(self) -> bool | None:
        """True: counts as one more attempt (`repeat` of them); None: not decided."""
        if self.attempt == ATTEMPT_UNSPECIFIED:
            return None
        return self.attempt == ATTEMPT_NEW

    def to_json_dict(self) -> dict[str, object]:
        """The contract fields, in contract order; `source_ip` falls back to `source_host`."""
        return {
            "time": format_time(self.time),
            "user": self.user,
            "source_ip": self.source_ip if self.source_ip is not None else self.source_host,
            "source_port": self.source_port,
            "method": self.method,
            "result": self.result,
            "service": self.service,
            "key_fingerprint": self.key_fingerprint,
            "raw": self.raw,
            "session": self.session,
            "new_attempt": self.new_attempt,
            "forgiven": self.forgiven,
        }

    @property
    def time_ms(self) -> int:
        return int(self.time.timestamp() * 1000)

    def event_id(self) -> str:
        """Deterministic id: the same log line always gives the same id, on any reader."""
        text = "\x1f".join(("login/v1", self.hostname or "", format_time(self.time), self.raw))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def to_proto(self) -> facts_pb2.LoginEvent:
        source = self.source_ip if self.source_ip is not None else self.source_host
        return facts_pb2.LoginEvent(
            user=_proto_text(self.user),
            source_ip=_proto_text(source),
            source_port=self.source_port or 0,
            method=_proto_text(self.method),
            result=_proto_text(self.result),
            service=_proto_text(self.service),
            key_fingerprint=_proto_text(self.key_fingerprint),
            raw=_proto_text(self.raw),
            repeat=self.repeat or 1,
            key_type=_proto_text(self.key_type),
            pid=self.pid or 0,
            source_host=_proto_text(self.source_host),
            domain=_proto_text(self.domain),
            logon_type=self.logon_type or 0,
            status=_proto_text(self.status),
            sub_status=_proto_text(self.sub_status),
            process=_proto_text(self.process),
            session=_proto_text(self.session),
            attempt=self.attempt,  # type: ignore[arg-type]
            forgiven=self.forgiven,
        )

    def to_event_proto(self, instance_id: str = "") -> facts_pb2.Event:
        return facts_pb2.Event(
            event_id=self.event_id(),
            instance_id=instance_id,
            time_ms=self.time_ms,
            login=self.to_proto(),
        )


def format_time(when: datetime) -> str:
    """ISO-8601 in UTC with a `Z`; microseconds only when there are any."""
    text = when.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _proto_text(value: str | None) -> str:
    if value is None:
        return ""
    # protobuf strings must be valid UTF-8; parsers already decode with backslashreplace,
    # this guards values built elsewhere.
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
