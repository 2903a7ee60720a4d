"""Console passwords: stored only as an scrypt hash, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

from palisade.auditor.model.ram.errors import RamError

_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 32


def check_password_policy(password: str) -> None:
    """RAM's default password policy: 8 to 32 characters, no control characters."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise RamError(
            "InvalidParameter.Password.Length",
            f"the password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in password):
        raise RamError("InvalidParameter.Password", "the password contains control characters")


def hash_password(password: str, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """`scrypt$N$r$p$salt$hash` (base64); the plaintext is never kept."""
    salt = random_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        actual = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
