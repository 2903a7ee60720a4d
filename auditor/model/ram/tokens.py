"""Random identifiers and secrets, drawn from an entropy source the caller passes in."""

from __future__ import annotations

from collections.abc import Callable

RandomBytes = Callable[[int], bytes]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


def random_token(alphabet: str, length: int, random_bytes: RandomBytes) -> str:
    """`length` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias)."""
    limit = 256 - 256 % len(alphabet)
    out: list[str] = []
    while len(out) < length:
        for byte in random_bytes(length - len(out) + 8):
            if byte < limit:
                out.append(alphabet[byte % len(alphabet)])
                if len(out) == length:
                    break
    return "".join(out)


def new_access_key_id(random_bytes: RandomBytes) -> str:
    """`LTAI5t` plus 18 characters, like RAM's current AccessKey ids (24 characters)."""
    return "LTAI5t" + random_token(BASE62, 18, random_bytes)


def new_access_key_secret(random_bytes: RandomBytes) -> str:
    return random_token(BASE62, 30, random_bytes)


def new_numeric_id(length: int, random_bytes: RandomBytes) -> str:
    return random_token("123456789", 1, random_bytes) + random_token(
        DIGITS, length - 1, random_bytes
    )
