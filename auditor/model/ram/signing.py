"""Request signing, ECS RPC style (signature version 1.0) with HMAC-SHA256.

    canonical query = sorted `enc(name)=enc(value)` joined by `&` (Signature excluded)
    string to sign  = METHOD & enc(path) & enc(canonical query) [& enc(x-acs-* headers)]
    Signature       = base64(HMAC-SHA256(secret + "&", string to sign))

`enc` is RFC 3986 percent-encoding over UTF-8 (`A-Za-z0-9-_.~` kept, space as `%20`), as
Alibaba's signature V1 does. A request also carries `Timestamp` (UTC, within 15 minutes of
the server's clock) and `SignatureNonce` (never accepted twice), so a captured request cannot
be replayed. Pure: the clock reading and the nonce store are passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from palisade.auditor.model.ram.errors import RamError

SIGNATURE_METHOD = "HMAC-SHA256"
SIGNATURE_VERSION = "1.0"
TIMESTAMP_WINDOW = timedelta(minutes=15)
_TIMESTAMP_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
_REQUIRED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp")


class NonceRegistry(Protocol):
    """Remembers the nonces of accepted requests until they could no longer be replayed.

    `add` may return False when the nonce was recorded concurrently (e.g. a database unique
    constraint fired); the request is then refused as a replay.
    """

    def seen(self, nonce: str) -> bool: ...

    def add(self, nonce: str, expires: datetime) -> bool | None: ...


class InMemoryNonceRegistry:
    """A NonceStore for one process (tests, the CLI); `purge(now)` forgets expired ones."""

    def __init__(self) -> None:
        self._expires: dict[str, datetime] = {}

    def seen(self, nonce: str) -> bool:
        return nonce in self._expires

    def add(self, nonce: str, expires: datetime) -> bool:
        if nonce in self._expires:
            return False
        self._expires[nonce] = expires
        return True

    def purge(self, now: datetime) -> None:
        self._expires = {n: e for n, e in self._expires.items() if e > now}


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~", encoding="utf-8", errors="surrogatepass")


def canonical_query(params: Mapping[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def canonical_headers(headers: Mapping[str, str] | None) -> str:
    """The `x-acs-*` headers, lower-cased and sorted; others are not signed."""
    if not headers:
        return ""
    picked = sorted(
        (name.strip().lower(), value.strip())
        for name, value in headers.items()
        if name.strip().lower().startswith("x-acs-")
    )
    return "\n".join(f"{name}:{value}" for name, value in picked)


def canonical_request(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> str:
    """The string to sign for a request."""
    parts = [method.upper(), percent_encode(path or "/"), percent_encode(canonical_query(params))]
    signed_headers = canonical_headers(headers)
    if signed_headers:
        parts.append(percent_encode(signed_headers))
    return "&".join(parts)


def sign(secret: str, string_to_sign: str) -> str:
    key = (secret + "&").encode("utf-8", "surrogatepass")
    digest = hmac.new(key, string_to_sign.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def format_timestamp(moment: datetime) -> str:
    """`2019-09-18T08:00:00Z`, the form requests, STS and the metadata service use."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a UTC timestamp YYYY-MM-DDThh:mm:ssZ: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def sign_request(
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    now: datetime,
    nonce: str,
    *,
    method: str = "GET",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    security_token: str | None = None,
) -> dict[str, str]:
    """`params` plus the authentication parameters and their Signature (the client side)."""
    signed = dict(params)
    signed.update(
        AccessKeyId=access_key_id,
        SignatureMethod=SIGNATURE_METHOD,
        SignatureVersion=SIGNATURE_VERSION,
        SignatureNonce=nonce,
        Timestamp=format_timestamp(now),
    )
    if security_token is not None:
        signed["SecurityToken"] = security_token
    signed.pop("Signature", None)
    signed["Signature"] = sign(secret, canonical_request(method, path, signed, headers))
    return signed


@dataclass(frozen=True)
class VerifiedRequest:
    access_key_id: str
    nonce: str
    timestamp: datetime
    security_token: str | None


def read_access_key_id(params: Mapping[str, str]) -> str:
    """The AccessKeyId a request claims (to look up its secret before `verify`)."""
    key_id = params.get("AccessKeyId")
    if not key_id:
        raise RamError("MissingAccessKeyId", "AccessKeyId is mandatory for this action")
    return key_id


def verify(
    secret: str | None,
    params: Mapping[str, str],
    now: datetime,
    nonces: NonceRegistry,
    *,
    method: str = "GET",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
) -> VerifiedRequest:
    """Check a signed request; `secret` is None when its AccessKeyId is unknown.

    Order matters: the nonce is recorded only once the signature is proven, so nobody can
    burn another caller's nonces with unsigned requests.
    """
    for name in _REQUIRED:
        if not params.get(name):
            raise RamError(f"Missing{name}", f"{name} is mandatory for this action")
    access_key_id = params["AccessKeyId"]
    if secret is None:
        raise RamError(
            "InvalidAccessKeyId.NotFound", f"Specified access key {access_key_id} is not found"
        )
    if params["SignatureMethod"] != SIGNATURE_METHOD:
        raise RamError(
            "InvalidSignatureMethod",
            f"SignatureMethod must be {SIGNATURE_METHOD}, not {params['SignatureMethod']!r}",
        )
    if params.get("SignatureVersion", SIGNATURE_VERSION) != SIGNATURE_VERSION:
        raise RamError("InvalidSignatureVersion", f"SignatureVersion must be {SIGNATURE_VERSION}")
    try:
        timestamp = parse_timestamp(params["Timestamp"])
    except ValueError as exc:
        raise RamError("InvalidTimeStamp.Format", str(exc)) from None
    now_utc = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if abs(now_utc - timestamp) > TIMESTAMP_WINDOW:
        raise RamError(
            "InvalidTimeStamp.Expired",
            f"Specified time stamp or date value is expired: {params['Timestamp']} is more than "
            f"{int(TIMESTAMP_WINDOW.total_seconds() // 60)} minutes from the server time "
            f"{format_timestamp(now_utc)}",
        )
    string_to_sign = canonical_request(method, path, params, headers)
    expected = sign(secret, string_to_sign)
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode("utf-8", "replace")):
        raise RamError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. "
            f"server string to sign is:{string_to_sign}",
        )
    nonce = params["SignatureNonce"]
    if nonces.seen(nonce) or nonces.add(nonce, timestamp + TIMESTAMP_WINDOW) is False:
        raise RamError("SignatureNonceUsed", f"Specified signature nonce {nonce} was used already")
    return VerifiedRequest(access_key_id, nonce, timestamp, params.get("SecurityToken"))
