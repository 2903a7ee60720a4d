"""Request signing as Alibaba Cloud's OpenAPI does it, in its two forms.

RPC signature (V1/V2: `SignatureVersion=1.0`, the parameters carry the signature):

    canonical query = sorted `enc(name)=enc(value)` joined by `&` (Signature excluded)
    string to sign  = METHOD & enc(path) & enc(canonical query) [& enc(x-acs-* headers)]
    Signature       = base64(HMAC-<digest>(secret + "&", string to sign))

with `SignatureMethod=HMAC-SHA1` (what the official SDKs send: tea-openapi's
`Utils.get_rpcsignature`, aliyun-python-sdk-core's `rpc_signature_composer`) or
`HMAC-SHA256` (what Palisade's own `palisade api` client sends). `enc` is RFC 3986
percent-encoding over UTF-8 (`A-Za-z0-9-_.~` kept, space as `%20`). The signed parameters
are the query and the form body together. The `x-acs-*` header part is Palisade's own
extension; the SDKs never send headers to an RPC-signed call's string to sign.

V3 (`Authorization: ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex`), as
tea-openapi's `Utils.get_authorization` builds it:

    canonical request = METHOD \n path \n canonical query \n canonical headers \n
                        signed headers \n hex(sha256(body))
    string to sign    = "ACS3-HMAC-SHA256" \n hex(sha256(canonical request))
    signature         = hex(HMAC-SHA256(secret, string to sign))

where the canonical query is the URL query alone (the body is covered by its hash), and
the canonical headers are the signed ones, `name:trimmed value\n` each, names lower-cased
and sorted. `x-acs-date` and `x-acs-signature-nonce` play the parts of `Timestamp` and
`SignatureNonce`; `x-acs-security-token` carries an STS token.

Either way a request carries a UTC time within 15 minutes of the server's clock and a nonce
never accepted twice, so a captured request cannot be replayed. Pure: the clock reading and
the nonce store are passed in.
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

SIGNATURE_METHOD = "HMAC-SHA256"  # what `sign_request` (Palisade's own client) uses
SIGNATURE_METHODS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
SIGNATURE_VERSION = "1.0"
V3_ALGORITHM = "ACS3-HMAC-SHA256"
# headers a V3 request must sign (besides every x-acs-* header it sends)
V3_REQUIRED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
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


def sign(secret: str, string_to_sign: str, method: str = SIGNATURE_METHOD) -> str:
    key = (secret + "&").encode("utf-8", "surrogatepass")
    digest = hmac.new(
        key, string_to_sign.encode("utf-8", "surrogatepass"), SIGNATURE_METHODS[method]
    )
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
    signature_method: str = SIGNATURE_METHOD,
) -> dict[str, str]:
    """`params` plus the authentication parameters and their Signature (the client side)."""
    signed = dict(params)
    signed.update(
        AccessKeyId=access_key_id,
        SignatureMethod=signature_method,
        SignatureVersion=SIGNATURE_VERSION,
        SignatureNonce=nonce,
        Timestamp=format_timestamp(now),
    )
    if security_token is not None:
        signed["SecurityToken"] = security_token
    signed.pop("Signature", None)
    signed["Signature"] = sign(
        secret, canonical_request(method, path, signed, headers), signature_method
    )
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
    signature_method = params["SignatureMethod"]
    if signature_method not in SIGNATURE_METHODS:
        raise RamError(
            "InvalidSignatureMethod",
            f"SignatureMethod must be one of {', '.join(SIGNATURE_METHODS)}, "
            f"not {signature_method[:32]!r}",
        )
    if params.get("SignatureVersion", SIGNATURE_VERSION) != SIGNATURE_VERSION:
        raise RamError("InvalidSignatureVersion", f"SignatureVersion must be {SIGNATURE_VERSION}")
    timestamp = _fresh_timestamp(params["Timestamp"], now)
    string_to_sign = canonical_request(method, path, params, headers)
    expected = sign(secret, string_to_sign, signature_method)
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode("utf-8", "replace")):
        raise RamError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. "
            f"server string to sign is:{string_to_sign}",
        )
    nonce = params["SignatureNonce"]
    _record_nonce(nonces, nonce, timestamp)
    return VerifiedRequest(access_key_id, nonce, timestamp, params.get("SecurityToken"))


def _fresh_timestamp(text: str, now: datetime) -> datetime:
    try:
        timestamp = parse_timestamp(text)
    except ValueError as exc:
        raise RamError("InvalidTimeStamp.Format", str(exc)) from None
    now_utc = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if abs(now_utc - timestamp) > TIMESTAMP_WINDOW:
        raise RamError(
            "InvalidTimeStamp.Expired",
            f"Specified time stamp or date value is expired: {text} is more than "
            f"{int(TIMESTAMP_WINDOW.total_seconds() // 60)} minutes from the server time "
            f"{format_timestamp(now_utc)}",
        )
    return timestamp


def _record_nonce(nonces: NonceRegistry, nonce: str, timestamp: datetime) -> None:
    if nonces.seen(nonce) or nonces.add(nonce, timestamp + TIMESTAMP_WINDOW) is False:
        raise RamError(
            "SignatureNonceUsed", f"Specified signature nonce {nonce[:128]} was used already"
        )


# -- V3: the Authorization header ------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """What a V3 signature covers: the URL query alone (not the form body, which the payload
    hash covers), the headers with lower-cased names, and the body as received."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def authorization(self) -> str | None:
        """The V3 Authorization header, if the request carries one."""
        value = self.headers.get("authorization", "")
        return value if value.startswith("ACS3-") else None


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> Authorization:
    """`ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex`."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != V3_ALGORITHM:
        raise RamError(
            "InvalidSignatureMethod",
            f"the Authorization algorithm must be {V3_ALGORITHM}, not {algorithm[:32]!r}",
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq or name in fields:
            raise RamError("IncompleteSignature", "the Authorization header is malformed")
        fields[name] = value.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"} or not all(fields.values()):
        raise RamError(
            "IncompleteSignature",
            "the Authorization header must give Credential, SignedHeaders and Signature",
        )
    signed = tuple(fields["SignedHeaders"].split(";"))
    return Authorization(algorithm, fields["Credential"], signed, fields["Signature"])


def v3_canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(query.items()))


def v3_canonical_request(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    headers = "".join(
        f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed_headers
    )
    path = quote(request.path or "/", safe="/-_.~", encoding="utf-8", errors="surrogatepass")
    return "\n".join(
        [
            request.method.upper(),
            path,
            v3_canonical_query(request.query),
            headers,
            ";".join(signed_headers),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )


def v3_string_to_sign(canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{V3_ALGORITHM}\n{digest}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    key = secret.encode("utf-8", "surrogatepass")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_v3(
    request: HttpRequest,
    access_key_id: str,
    secret: str,
    now: datetime,
    nonce: str,
    *,
    action: str,
    version: str,
    security_token: str | None = None,
) -> dict[str, str]:
    """The headers of `request` plus the x-acs-* ones and the Authorization (the client side,
    for Palisade's tests and tools; the SDKs sign for themselves)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.update(
        {
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": format_timestamp(now),
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": hashlib.sha256(request.body).hexdigest(),
        }
    )
    if security_token is not None:
        headers["x-acs-security-token"] = security_token
    headers.pop("authorization", None)
    signed = tuple(sorted(headers))
    unsigned = HttpRequest(request.method, request.path, request.query, headers, request.body)
    signature = v3_signature(secret, v3_string_to_sign(v3_canonical_request(unsigned, signed)))
    headers["authorization"] = (
        f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(signed)},"
        f"Signature={signature}"
    )
    return headers


def verify_v3(
    secret: str | None, request: HttpRequest, now: datetime, nonces: NonceRegistry
) -> VerifiedRequest:
    """Check a V3-signed request (`secret` None when its AccessKeyId is unknown); the nonce
    is recorded only once the signature is proven."""
    header = request.authorization
    if header is None:
        raise RamError("MissingAuthorization", "the Authorization header is mandatory")
    auth = parse_authorization(header)
    if secret is None:
        raise RamError(
            "InvalidAccessKeyId.NotFound", f"Specified access key {auth.access_key_id} is not found"
        )
    signed = auth.signed_headers
    if list(signed) != sorted(set(signed)):
        raise RamError("IncompleteSignature", "SignedHeaders must be lower-case, sorted, unique")
    must_sign = set(V3_REQUIRED_HEADERS) | {h for h in request.headers if h.startswith("x-acs-")}
    unsigned = sorted(must_sign - set(signed))
    if unsigned:
        raise RamError(
            "IncompleteSignature", f"these headers must be signed: {', '.join(unsigned[:8])}"
        )
    missing_values = [h for h in V3_REQUIRED_HEADERS if not request.headers.get(h)]
    if missing_values:
        raise RamError("IncompleteSignature", f"the header {missing_values[0]} is missing")
    timestamp = _fresh_timestamp(request.headers["x-acs-date"], now)
    payload_hash = hashlib.sha256(request.body).hexdigest()
    if request.headers["x-acs-content-sha256"].strip().lower() != payload_hash:
        raise RamError(
            "SignatureDoesNotMatch", "x-acs-content-sha256 is not the SHA-256 of the body"
        )
    string_to_sign = v3_string_to_sign(v3_canonical_request(request, signed))
    expected = v3_signature(secret, string_to_sign)
    if not hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "replace")):
        raise RamError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. "
            f"server string to sign is:{string_to_sign}",
        )
    nonce = request.headers["x-acs-signature-nonce"]
    _record_nonce(nonces, nonce, timestamp)
    return VerifiedRequest(
        auth.access_key_id, nonce, timestamp, request.headers.get("x-acs-security-token")
    )


def read_credentials(
    params: Mapping[str, str], http: HttpRequest | None = None
) -> tuple[str, str | None]:
    """The AccessKeyId and SecurityToken a request claims, from the V3 Authorization header
    and `x-acs-security-token` when it has one, else from its parameters."""
    if http is not None and http.authorization is not None:
        auth = parse_authorization(http.authorization)
        return auth.access_key_id, http.headers.get("x-acs-security-token") or None
    return read_access_key_id(params), params.get("SecurityToken") or None


def verify_any(
    secret: str | None,
    params: Mapping[str, str],
    now: datetime,
    nonces: NonceRegistry,
    *,
    method: str = "GET",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    http: HttpRequest | None = None,
) -> VerifiedRequest:
    """V3 when the request carries an ACS3 Authorization header, else the RPC signature."""
    if http is not None and http.authorization is not None:
        return verify_v3(secret, http, now, nonces)
    return verify(secret, params, now, nonces, method=method, path=path, headers=headers)
