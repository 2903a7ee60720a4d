"""IPv4 addresses and CIDR blocks as integers and closed intervals (fast, no objects
per address)."""

from __future__ import annotations

import re

Interval = tuple[int, int]

ALL_IPV4: Interval = (0, 0xFFFFFFFF)
_DOTTED = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")

# Addresses that never come from "the internet": RFC 1918, carrier-grade NAT (used for the
# classic network's intranet), loopback, link-local, "this network", multicast and reserved.
PRIVATE_BLOCKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
NON_INTERNET_BLOCKS = PRIVATE_BLOCKS + (
    "0.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/3",
)


def parse_ip(text: str) -> int | None:
    """Dotted quad (no leading zeros, no shorthand) to int, or None."""
    if not isinstance(text, str) or not _DOTTED.match(text):
        return None
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def ip_value(text: str) -> int:
    """An address the model already holds (so valid) to int; ValueError if it is not valid."""
    value = parse_ip(text)
    if value is None:
        raise ValueError(f"not an IPv4 address: {text!r}")
    return value


def format_ip(value: int) -> str:
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def parse_cidr(text: str) -> tuple[int, int] | None:
    """`a.b.c.d` or `a.b.c.d/n` with no host bits set -> (network, prefix length), else None."""
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
