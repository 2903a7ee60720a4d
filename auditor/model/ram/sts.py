"""Temporary credentials for a role (what STS hands an ECS instance through its metadata).

The SecurityToken is self-contained and HMAC-signed with the auditor's `signing_key`: any
replica holding the key can check it without a lookup. The session's AccessKeySecret is
derived from the key id with the same key, so it never has to be stored either.

A token also names what it was derived from: the role's RoleId and the generation of the
instance's binding to it (instance_roles.py). Signature and expiry are checked here;
whether that binding still stands is checked against the current state by
`InstanceRamRoles.check_session`, which is what revokes a detached, replaced or deleted role's
credentials at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from palisade.auditor.model.ram.entities import Role
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.signing import format_timestamp
from palisade.auditor.model.ram.tokens import BASE62, RandomBytes, random_token

STS_KEY_PREFIX = "STS."
MIN_DURATION = timedelta(minutes=15)
MAX_DURATION = timedelta(hours=12)
_TOKEN_PREFIX = "PAL1"


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: datetime
    last_updated: datetime
    binding_generation: int = 0  # the instance binding they derive from

    def to_metadata(self) -> dict[str, str]:
        """The JSON object ECS's metadata service returns for security-credentials/<role>."""
        return {
            "AccessKeyId": self.access_key_id,
            "AccessKeySecret": self.access_key_secret,
            "Expiration": format_timestamp(self.expiration),
            "SecurityToken": self.security_token,
            "LastUpdated": format_timestamp(self.last_updated),
            "Code": "Success",
        }


@dataclass(frozen=True)
class SessionClaims:
    """What a verified SecurityToken says: which role, for whom, until when."""

    access_key_id: str
    account_id: str
    role_name: str
    role_arn: str
    session_name: str  # the instance id for instance roles
    issued_at: datetime
    expiration: datetime
    role_id: str = ""  # empty in tokens issued before revocation existed
    binding_generation: int = 0  # the instance binding's; 0 in those older tokens
    # what the session derives from: INSTANCE_SESSION (an instance's role binding: revoked with
    # the binding) or ASSUMED_SESSION (sts:AssumeRole: revoked with the role); tokens from
    # before AssumeRole existed are instance sessions
    kind: str = "instance"


INSTANCE_SESSION = "instance"
ASSUMED_SESSION = "assumed"


def _subkey(signing_key: bytes, purpose: bytes) -> bytes:
    return hmac.new(signing_key, b"palisade-sts/" + purpose, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_sts_secret(signing_key: bytes, access_key_id: str) -> str:
    digest = hmac.new(_subkey(signing_key, b"secret"), access_key_id.encode(), hashlib.sha256)
    return _b64(digest.digest())[:30]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def issue_role_credentials(
    role: Role,
    now: datetime,
    ttl: timedelta | int,
    *,
    signing_key: bytes,
    session_name: str = "",
    random_bytes: RandomBytes = secrets.token_bytes,
    min_duration: timedelta = MIN_DURATION,
    binding_generation: int = 0,
    kind: str = INSTANCE_SESSION,
) -> RoleCredentials:
    """Credentials for `role`, valid from `now` for `ttl` (15 minutes to 12 hours; the
    operator's instance-role setting may allow a shorter `min_duration`), derived from the
    instance binding `binding_generation`."""
    duration = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if not min_duration <= duration <= MAX_DURATION:
        raise RamError(
            "InvalidParameter.DurationSeconds",
            f"the credentials' lifetime must be {int(min_duration.total_seconds())} to "
            f"{int(MAX_DURATION.total_seconds())} seconds",
        )
    issued = _as_utc(now).replace(microsecond=0)
    expiration = issued + duration
    key_id = STS_KEY_PREFIX + random_token(BASE62, 28, random_bytes)
    account_id = role.arn.split(":")[3] if role.arn.count(":") >= 4 else ""
    payload = {
        "k": key_id,
        "a": account_id,
        "r": role.role_name,
        "rid": role.role_id,
        "g": binding_generation,
        "t": kind,
        "arn": role.arn,
        "s": session_name,
        "iat": int(issued.timestamp()),
        "exp": int(expiration.timestamp()),
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_subkey(signing_key, b"token"), body.encode(), hashlib.sha256).digest()
    return RoleCredentials(
        access_key_id=key_id,
        access_key_secret=derive_sts_secret(signing_key, key_id),
        security_token=f"{_TOKEN_PREFIX}.{body}.{_b64(mac)}",
        expiration=expiration,
        last_updated=issued,
        binding_generation=binding_generation,
    )


def _malformed(why: str) -> RamError:
    return RamError("InvalidSecurityToken.Malformed", f"The security token is malformed: {why}")


def verify_security_token(
    token: str, signing_key: bytes, now: datetime, access_key_id: str | None = None
) -> SessionClaims:
    """The claims of a token this auditor issued, if it is intact, unexpired and (when
    `access_key_id` is given) issued together with that AccessKeyId."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != _TOKEN_PREFIX:
        raise _malformed("not a Palisade STS token")
    body, mac_text = parts[1], parts[2]
    try:
        mac = _unb64(mac_text)
    except ValueError:
        raise _malformed("bad signature encoding") from None
    expected = hmac.new(_subkey(signing_key, b"token"), body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise _malformed("the signature does not verify")
    try:
        payload = json.loads(_unb64(body))
        claims = SessionClaims(
            access_key_id=str(payload["k"]),
            account_id=str(payload["a"]),
            role_name=str(payload["r"]),
            role_arn=str(payload["arn"]),
            session_name=str(payload["s"]),
            issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expiration=datetime.fromtimestamp(int(payload["exp"]), UTC),
            role_id=str(payload.get("rid", "")),
            binding_generation=int(payload.get("g", 0)),
            kind=str(payload.get("t", INSTANCE_SESSION)),
        )
    except (ValueError, KeyError, TypeError, OverflowError, AttributeError):
        raise _malformed("bad claims") from None
    if _as_utc(now) >= claims.expiration:
        raise RamError(
            "InvalidSecurityToken.Expired",
            f"The security token expired at {format_timestamp(claims.expiration)}",
        )
    if access_key_id is not None and access_key_id != claims.access_key_id:
        raise RamError(
            "InvalidSecurityToken.MismatchWithAccessKey",
            "The security token does not belong to the AccessKeyId",
        )
    return claims
