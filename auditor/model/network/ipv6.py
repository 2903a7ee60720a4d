"""IPv6 addresses and CIDR blocks as integers and closed intervals, read by the standard
`ipaddress` module (the IPv4 side is `ipv4.py`). A rule's IPv6 peer (`Ipv6SourceCidrIp` /
`Ipv6DestCidrIp`) is stored as canonical text (`2001:db8::/32`), so that two spellings of one
block are one block."""

from __future__ import annotations

import ipaddress

Interval = tuple[int, int]
BITS = 128


def parse_ip(text: object) -> int | None:
    """An IPv6 address as an int, or None (IPv4 text, garbage, a zone index)."""
    if not isinstance(text, str) or not text.isascii() or "%" in text:
        return None
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def parse_cidr(text: object) -> tuple[ipaddress.IPv6Network, bool] | None:
    """(network, host bits set) for an IPv6 address or block, or None. A bare address is /128."""
    if not isinstance(text, str) or not text.isascii() or "%" in text:
        return None
    try:
        net = ipaddress.IPv6Network(text, strict=False)
    except ValueError:
        return None
    return net, int(net.network_address) != int(ipaddress.IPv6Interface(text).ip)


def interval(cidr: str) -> Interval:
    net = ipaddress.IPv6Network(cidr)
    return int(net.network_address), int(net.broadcast_address)


# The internet's IPv6 addresses: global unicast, 2000::/3 (RFC 4291's allocation; what is
# not in it is link-local, unique-local, loopback, multicast or unassigned). One block, so
# that the engine and the nftables ruleset (`ip6 saddr 2000::/3`) say the same.
INTERNET = "2000::/3"
_INTERNET_LO, _INTERNET_HI = (
    int(ipaddress.IPv6Address("2000::")),
    int(ipaddress.IPv6Address("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
)


def is_internet(ip: int) -> bool:
    return _INTERNET_LO <= ip <= _INTERNET_HI


def to_cidrs(lo: int, hi: int) -> list[str]:
    first, last = ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi)
    return [str(n) for n in ipaddress.summarize_address_range(first, last)]
