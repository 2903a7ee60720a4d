"""IPv4 addresses and CIDR blocks as integers and closed intervals (fast, no objects
per address).

Text from users is read by the standard `ipaddress` module (ASCII digits only, no leading
zeros, no shorthand) and the model stores the canonical text (`canonical_ip`,
`canonical_cidr`), so that two spellings of one address can never be two addresses.
"""

from __future__ import annotations

import functools
import ipaddress
import unicodedata

Interval = tuple[int, int]

ALL_IPV4: Interval = (0, 0xFFFFFFFF)
_IPV4 = ipaddress.IPv4Address

# Addresses that never come from "the internet": RFC 1918, carrier-grade NAT (used for the
# classic network's intranet), loopback, link-local, "this network", multicast and reserved.
PRIVATE_BLOCKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
NON_INTERNET_BLOCKS = PRIVATE_BLOCKS + (
    "0.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/3",
)


def parse_ip(text: object) -> int | None:
    """Dotted quad to int as `ipaddress.IPv4Address` reads it, or None: ASCII digits only
    (not `\\d`, which takes any script's digits), no leading zeros, no shorthand."""
    if not isinstance(text, str):
        return None
    try:
        return int(_IPV4(text))
    except ValueError:  # ipaddress.AddressValueError
        return None


def canonical_ip(text: object) -> str | None:
    """The canonical text of an address (what the model stores), or None if not valid."""
    value = parse_ip(text)
    return None if value is None else format_ip(value)


def ip_value(text: str) -> int:
    """An address the model already holds (so valid) to int; ValueError if it is not valid.
    On the engine's hot paths: the model's addresses repeat, so their values are cached."""
    value = _cached_ip(text)
    if value is None:
        raise ValueError(f"not an IPv4 address: {text!r}")
    return value


_cached_ip = functools.lru_cache(maxsize=1 << 16)(parse_ip)


def format_ip(value: int) -> str:
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def parse_cidr(text: object) -> tuple[int, int] | None:
    """`a.b.c.d` or `a.b.c.d/n` -> (address, prefix length), else None. The address is read
    as `parse_ip` reads it; n is 0..32 in ASCII digits without a leading zero (no netmask
    form). Host bits may be set: callers check `host_bits_set` and say what to use."""
    if not isinstance(text, str):
        return None
    if "/" in text:
        addr, _, plen = text.partition("/")
        if (
            not plen.isascii()
            or not plen.isdigit()
            or len(plen) > 2
            or (len(plen) > 1 and plen[0] == "0")
        ):
            return None
        length = int(plen)
        if length > 32:
            return None
    else:
        addr, length = text, 32
    net = parse_ip(addr)
    if net is None:
        return None
    return net, length


def host_bits_set(net: int, length: int) -> bool:
    return net & ((1 << (32 - length)) - 1) != 0


def cidr_interval(net: int, length: int) -> Interval:
    size = 1 << (32 - length)
    start = net & ~(size - 1) & 0xFFFFFFFF
    return start, start + size - 1


def cidr_text_interval(text: str) -> Interval:
    parsed = parse_cidr(text)
    if parsed is None:
        raise ValueError(f"not a CIDR: {text!r}")
    return cidr_interval(*parsed)


def format_cidr(net: int, length: int) -> str:
    return f"{format_ip(net)}/{length}"


def canonical_cidr(text: object) -> str | None:
    """The canonical `a.b.c.d/n` of a CIDR (a bare address is /32), or None if not valid."""
    parsed = parse_cidr(text)
    return None if parsed is None else format_cidr(*parsed)


def _as_read_before(text: str) -> str:
    """What the reader before `ipaddress` took for the same text: any script's decimal
    digits, and a trailing newline (`$`)."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text).rstrip("\n")


def repair_ip(text: str) -> str:
    """An address stored before addresses were read by `ipaddress`, in canonical form (the
    text unchanged if it is not an address either way)."""
    return canonical_ip(text) or canonical_ip(_as_read_before(text)) or text


def repair_cidr(text: str) -> str:
    """A block stored before blocks were read by `ipaddress`, in canonical form."""
    return canonical_cidr(text) or canonical_cidr(_as_read_before(text)) or text


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-adjacent union."""
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """a minus b, both merged."""
    out: list[Interval] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return out


def size(intervals: list[Interval]) -> int:
    return sum(hi - lo + 1 for lo, hi in intervals)


def to_cidrs(lo: int, hi: int) -> list[str]:
    """The smallest list of CIDR blocks that covers exactly [lo, hi]."""
    out = []
    while lo <= hi:
        length = 32
        while length > 0:
            block = 1 << (32 - (length - 1))
            if lo % block or lo + block - 1 > hi:
                break
            length -= 1
        out.append(format_cidr(lo, length))
        lo += 1 << (32 - length)
    return out


PRIVATE_SPACE: list[Interval] = merge([cidr_text_interval(c) for c in PRIVATE_BLOCKS])
INTERNET_SPACE: list[Interval] = subtract(
    [ALL_IPV4], merge([cidr_text_interval(c) for c in NON_INTERNET_BLOCKS])
)


def is_internet(ip: int) -> bool:
    return any(lo <= ip <= hi for lo, hi in INTERNET_SPACE)
