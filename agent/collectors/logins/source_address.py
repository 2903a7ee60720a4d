"""Turns the peer a log names ("1.2.3.4", "::ffff:1.2.3.4", "fe80::1%eth0", "host.example")
into (ip, host): a normalised IP address, or else a host name."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

# What a DNS name (or a bare single-label host) may look like; anything else is junk.
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(_OCTET + r"(?:\." + _OCTET + r"){3}").fullmatch  # fast path


@lru_cache(maxsize=8192)
def split_source(text: str) -> tuple[str | None, str | None]:
    """(source_ip, source_host); both None for an empty, "UNKNOWN" or malformed value."""
    if _CANONICAL_IPV4(text):
        return text, None
    if not text or text in ("UNKNOWN", "unknown", "-"):
        return None, None
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        if _HOST_NAME.fullmatch(text) and not text.replace(".", "").isdigit():
            return None, text.lower().rstrip(".")
        return None, None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped), None
    return str(address), None
