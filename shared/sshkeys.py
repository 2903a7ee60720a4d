"""OpenSSH public keys and authorized_keys lines: parsing, bit sizes and fingerprints.

Both the agent (authorized_keys collector) and the auditor (key-pair cross-checks) use this,
so fingerprints must be exactly what `ssh-keygen -lf` prints. The parser follows OpenSSH's
sshkey.c: the blob's embedded type must equal the declared one, every field must be present
and nothing may follow the last one.

The line parsers never raise: a malformed line becomes an `AuthorizedKeyLine` with `error`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography costs ~14 MB of RSS; the agent's collectors never need it
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa


class KeyParseError(ValueError):
    """A public key, its blob or an options string is not valid OpenSSH syntax."""


@dataclass(frozen=True)
class PublicKey:
    key_type: str  # as declared, e.g. "ssh-ed25519-cert-v01@openssh.com"
    blob_b64: str  # base64 exactly as written
    comment: str
    bits: int
    fingerprint_sha256: str  # "SHA256:..." as `ssh-keygen -lf` prints it
    fingerprint_md5: str  # "aa:bb:..." (ssh-keygen -E md5 adds an "MD5:" prefix)
    is_certificate: bool


@dataclass(frozen=True)
class KeyOption:
    name: str  # as written; sshd compares names case-insensitively
    value: str | None  # dequoted; None for flags such as no-pty


@dataclass(frozen=True)
class AuthorizedKeyLine:
    line_number: int
    options: str  # raw options text, "" when there are none
    key: PublicKey | None  # None when the line is malformed
    error: str | None
    raw: str


_PLAIN_TYPES = {
    "ssh-rsa": "rsa",
    "ssh-dss": "dss",
    "ecdsa-sha2-nistp256": "ecdsa",
    "ecdsa-sha2-nistp384": "ecdsa",
    "ecdsa-sha2-nistp521": "ecdsa",
    "ssh-ed25519": "ed25519",
    "sk-ecdsa-sha2-nistp256@openssh.com": "sk-ecdsa",
    "sk-ssh-ed25519@openssh.com": "sk-ed25519",
}


def _cert_name(plain: str, version: str) -> str:
    base, _, domain = plain.partition("@")
    return f"{base}-cert-{version}@{domain or 'openssh.com'}"


# certificate type -> (plain type, legacy v00 layout)
_CERT_TYPES = {_cert_name(p, "v01"): (p, False) for p in _PLAIN_TYPES}
_CERT_TYPES.update({_cert_name(p, "v00"): (p, True) for p in ("ssh-rsa", "ssh-dss")})

KEY_TYPES = frozenset(_PLAIN_TYPES) | frozenset(_CERT_TYPES)

# NIST prime curves y^2 = x^3 - 3x + b (mod p): (p, b), from FIPS 186-4 D.1.2.
_P256 = (
    0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
)
_P384 = (
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF,
    0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
)
_P521 = (
    2**521 - 1,
    0x0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00,
)
_CURVES: dict[str, tuple[str, tuple[int, int], int]] = {
    # key type -> (curve name in the blob, (p, b), bits)
    "ecdsa-sha2-nistp256": ("nistp256", _P256, 256),
    "ecdsa-sha2-nistp384": ("nistp384", _P384, 384),
    "ecdsa-sha2-nistp521": ("nistp521", _P521, 521),
    "sk-ecdsa-sha2-nistp256@openssh.com": ("nistp256", _P256, 256),
}


def _on_curve(point: bytes, curve: tuple[int, int], bits: int) -> bool:
    """An uncompressed point's coordinates lie on the curve (pure Python: no cryptography
    import, which would cost the agent ~14 MB of RSS)."""
    size = (bits + 7) // 8
    if len(point) != 1 + 2 * size:
        return False
    p, b = curve
    x = int.from_bytes(point[1 : 1 + size], "big")
    y = int.from_bytes(point[1 + size :], "big")
    if x >= p or y >= p:
        return False
    return (y * y - (x * x * x - 3 * x + b)) % p == 0


_MAX_BIGNUM_BYTES = 16384 // 8  # OpenSSH's SSHBUF_MAX_BIGNUM
_CERT_TYPE_USER, _CERT_TYPE_HOST = 1, 2
_SPACE = " \t"
# Options without a value, used only to word errors (the first field was options).
_FLAG_OPTIONS = frozenset(
    "agent-forwarding cert-authority no-agent-forwarding no-port-forwarding no-pty "
    "no-touch-required no-user-rc no-x11-forwarding port-forwarding pty restrict "
    "user-rc verify-required x11-forwarding".split()
)


def _u32(n: int) -> bytes:
    return struct.pack(">I", n)


def _string(data: bytes) -> bytes:
    return _u32(len(data)) + data


def _mpint(n: int) -> bytes:
    # Canonical SSH mpint: minimal big-endian bytes, a 0x00 prefix keeps the sign bit clear.
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big") if n else b""
    return _string(raw)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _take(self, n: int, what: str) -> bytes:
        if n > self.remaining():
            raise KeyParseError(
                f"truncated key blob: {what} needs {n} bytes, {self.remaining()} left"
            )
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u32(self, what: str) -> int:
        return struct.unpack(">I", self._take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack(">Q", self._take(8, what))[0]

    def string(self, what: str) -> bytes:
        return self._take(self.u32(f"length of {what}"), what)

    def mpint(self, what: str) -> int:
        raw = self.string(what)
        if raw and raw[0] & 0x80:
            raise KeyParseError(f"{what} is negative")
        if len(raw) > _MAX_BIGNUM_BYTES + 1 or (len(raw) > _MAX_BIGNUM_BYTES and raw[0]):
            raise KeyParseError(f"{what} is larger than {_MAX_BIGNUM_BYTES * 8} bits")
        return int.from_bytes(raw, "big")


def _ec_point(r: _Reader, key_type: str) -> tuple[bytes, int]:
    curve_name, curve, bits = _CURVES[key_type]
    got = r.string("curve name")
    if got != curve_name.encode():
        raise KeyParseError(f"curve {got[:32]!r} does not match key type {key_type}")
    point = r.string("EC point")
    # OpenSSH accepts only uncompressed points (sshbuf_get_ec).
    if not point or point[0] != 0x04:
        raise KeyParseError("EC point is not in uncompressed form")
    if not _on_curve(point, curve, bits):
        raise KeyParseError("EC point is not on the curve")
    return _string(curve_name.encode()) + _string(point), bits


def _ed25519(r: _Reader) -> bytes:
    pk = r.string("Ed25519 public key")
    if len(pk) != 32:
        raise KeyParseError(f"Ed25519 public key is {len(pk)} bytes, not 32")
    return _string(pk)


def _read_key_fields(r: _Reader, plain: str) -> tuple[bytes, int]:
    """Reads the public-key fields of `plain`; returns their canonical encoding and bits.

    ssh-keygen fingerprints the key re-serialised from its parsed values, so the canonical
    encoding (not the bytes as written) is what gets hashed.
    """
    kind = _PLAIN_TYPES[plain]
    if kind == "rsa":
        e, n = r.mpint("RSA exponent"), r.mpint("RSA modulus")
        if n == 0 or e == 0:
            raise KeyParseError("RSA modulus or exponent is zero")
        # sshd refuses RSA keys under 1024 bits, but such keys are still worth reporting.
        return _mpint(e) + _mpint(n), n.bit_length()
    if kind == "dss":
        p, q, g, y = (r.mpint(f"DSA {name}") for name in ("p", "q", "g", "y"))
        if p == 0:
            raise KeyParseError("DSA p is zero")
        return _mpint(p) + _mpint(q) + _mpint(g) + _mpint(y), p.bit_length()
    if kind == "ecdsa":
        return _ec_point(r, plain)
    if kind == "ed25519":
        return _ed25519(r), 256
    if kind == "sk-ecdsa":
        fields, bits = _ec_point(r, plain)
        return fields + _string(r.string("application")), bits
    # sk-ed25519
    fields = _ed25519(r)
    return fields + _string(r.string("application")), 256


def _check_string_list(data: bytes, what: str, pairs: bool) -> None:
    inner = _Reader(data)
    while inner.remaining():
        inner.string(what)
        if pairs:
            inner.string(f"{what} data")


def _read_certificate_tail(r: _Reader, legacy: bool) -> None:
    if not legacy:
        r.u64("serial")
    cert_type = r.u32("certificate type")
    r.string("key id")
    _check_string_list(r.string("valid principals"), "principal", pairs=False)
    r.u64("valid after")
    r.u64("valid before")
    _check_string_list(r.string("critical options"), "critical option", pairs=True)
    if legacy:
        r.string("nonce")
    else:
        _check_string_list(r.string("extensions"), "extension", pairs=True)
    r.string("reserved")
    ca_blob = r.string("signature key")
    r.string("signature")
    if cert_type not in (_CERT_TYPE_USER, _CERT_TYPE_HOST):
        raise KeyParseError(f"unknown certificate type {cert_type}")
    try:
        ca_type, _, _ = _parse_blob(ca_blob)
    except KeyParseError as exc:
        raise KeyParseError(f"invalid CA key: {exc}") from exc
    if ca_type in _CERT_TYPES:
        raise KeyParseError("CA key is itself a certificate")


def _parse_blob(blob: bytes) -> tuple[str, bytes, int]:
    """Returns (embedded type, canonical plain-key blob, bits); raises KeyParseError."""
    r = _Reader(blob)
    embedded = r.string("key type").decode("utf-8", errors="replace")
    if embedded in _PLAIN_TYPES:
        fields, bits = _read_key_fields(r, embedded)
        plain = embedded
    elif embedded in _CERT_TYPES:
        plain, legacy = _CERT_TYPES[embedded]
        if not legacy:
            r.string("nonce")
        fields, bits = _read_key_fields(r, plain)
        _read_certificate_tail(r, legacy)
    else:
        raise KeyParseError(f"unsupported key type {embedded[:64]!r} in key blob")
    if r.remaining():
        raise KeyParseError(f"{r.remaining()} bytes of trailing data after the key")
    return embedded, _string(plain.encode()) + fields, bits


def fingerprint_sha256(blob: bytes) -> str:
    """`SHA256:` + unpadded base64 of the digest, as `ssh-keygen -lf` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def fingerprint_md5(blob: bytes) -> str:
    """Colon-separated hex pairs (the cloud's key-pair fingerprint)."""
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest())


def key_from_blob(key_type: str, blob_b64: str, comment: str = "") -> PublicKey:
    """A key from its declared type and base64 blob; raises KeyParseError."""
    if key_type not in KEY_TYPES:
        raise KeyParseError(f"unknown key type {key_type[:64]!r}")
    try:
        blob = base64.b64decode(blob_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise KeyParseError("key data is not valid base64") from exc
    if not blob:
        raise KeyParseError("key data is empty")
    embedded, plain_blob, bits = _parse_blob(blob)
    if embedded != key_type:
        raise KeyParseError(f"key type {key_type} does not match the blob's type {embedded}")
    return PublicKey(
        key_type=key_type,
        blob_b64=blob_b64,
        comment=comment,
        bits=bits,
        fingerprint_sha256=fingerprint_sha256(plain_blob),
        fingerprint_md5=fingerprint_md5(plain_blob),
        is_certificate=key_type in _CERT_TYPES,
    )


def _split_token(text: str) -> tuple[str, str]:
    """The first space/tab-delimited token and the rest with leading blanks removed."""
    for i, ch in enumerate(text):
        if ch in _SPACE:
            return text[:i], text[i:].lstrip(_SPACE)
    return text, ""


def parse_public_key(text: str | bytes) -> PublicKey:
    """Parses `type base64 [comment]` (one line of a .pub file); raises KeyParseError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip(_SPACE + "\r\n")
    key_type, rest = _split_token(text)
    if not key_type:
        raise KeyParseError("empty key")
    blob_b64, comment = _split_token(rest)
    if not blob_b64:
        raise KeyParseError("missing key data after the key type")
    return key_from_blob(key_type, blob_b64, comment.rstrip(_SPACE + "\r\n"))


def _options_end(text: str) -> int:
    """Index where a leading options field ends (sshkey_advance_past_options); -1 if a
    quote is left open."""
    quoted = False
    i = 0
    while i < len(text) and (quoted or text[i] not in _SPACE):
        if text[i] == "\\" and text[i + 1 : i + 2] == '"':
            i += 1
        elif text[i] == '"':
            quoted = not quoted
        i += 1
    return -1 if quoted else i


_OPTION_NAME = re.compile(r"[A-Za-z0-9_-]+")  # every option sshd knows fits


def parse_options(text: str) -> list[KeyOption]:
    """Splits an authorized_keys options field (`a,b="x,y"`) the way sshd does.

    Raises KeyParseError on syntax errors; unknown option names are not errors here.
    """
    out: list[KeyOption] = []
    i = 0
    while i < len(text):
        m = _OPTION_NAME.match(text, i)
        if not m:
            raise KeyParseError(f"bad option syntax at offset {i}")
        name, i = m.group(), m.end()
        value = None
        if text.startswith("=", i):
            if not text.startswith('"', i + 1):
                raise KeyParseError(f"option {name[:64]}: missing start quote")
            i += 2
            chars: list[str] = []
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and text[i + 1 : i + 2] == '"':
                    i += 1  # only \" is an escape; other backslashes stay literal
                chars.append(text[i])
                i += 1
            if i >= len(text):
                raise KeyParseError(f"option {name[:64]}: missing end quote")
            i += 1
            value = "".join(chars)
        out.append(KeyOption(name, value))
        if i == len(text):
            break
        if text[i] != ",":
            raise KeyParseError(f"unexpected {text[i]!r} after option {name[:64]}")
        i += 1
        if i == len(text):
            raise KeyParseError("unexpected end of options")
    return out


def parse_authorized_key_line(line: str | bytes, line_number: int = 0) -> AuthorizedKeyLine | None:
    """One authorized_keys line; None for blank and `#` comment lines. Never raises."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    raw = line.rstrip("\r\n")
    text = raw.strip(_SPACE)
    if not text or text.startswith("#"):
        return None
    options = ""
    rest = text
    first, _ = _split_token(text)
    if first not in KEY_TYPES:
        # Not a key type, so (as in sshd) the first field must be options.
        end = _options_end(text)
        if end < 0:
            return _malformed(line_number, raw, "unterminated quote in options")
        options, rest = text[:end], text[end:].lstrip(_SPACE)
        second, _ = _split_token(rest)
        if second not in KEY_TYPES:
            looks_like_options = "=" in first or "," in first or first.lower() in _FLAG_OPTIONS
            bad = second if looks_like_options and second else first
            return _malformed(line_number, raw, f"unknown key type {bad[:64]!r}", options)
    try:
        if options:
            parse_options(options)
        key = parse_public_key(rest)
    except KeyParseError as exc:
        return _malformed(line_number, raw, str(exc), options)
    return AuthorizedKeyLine(line_number, options, key, None, raw)


def _malformed(line_number: int, raw: str, error: str, options: str = "") -> AuthorizedKeyLine:
    return AuthorizedKeyLine(line_number, options, None, error, raw)


def parse_authorized_keys(data: str | bytes) -> list[AuthorizedKeyLine]:
    """Every key or malformed line of an authorized_keys file (1-based line numbers)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    out = []
    for number, line in enumerate(data.split("\n"), start=1):
        parsed = parse_authorized_key_line(line, number)
        if parsed is not None:
            out.append(parsed)
    return out


if TYPE_CHECKING:
    SshPublicKeyTypes = (
        rsa.RSAPublicKey | dsa.DSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    )
    SshPrivateKeyTypes = (
        rsa.RSAPrivateKey
        | dsa.DSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
    )


def public_key_from_cryptography(
    key: SshPublicKeyTypes | SshPrivateKeyTypes, comment: str = ""
) -> str:
    """The OpenSSH public key line of a cryptography key (what `ssh-keygen -y` prints).

    A private key is accepted too; its public half is rendered.
    """
    from cryptography.hazmat.primitives import serialization

    public = key.public_key() if hasattr(key, "public_key") else key
    line = public.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")
    return f"{line} {comment}" if comment else line
