"""Where an SMS hook may send: the guard against server-side request forgery.

A hook URL is http:// or https://, carries no user name or password, and its host must
resolve only to public addresses: never loopback, link-local, a cloud metadata address
(169.254.169.254; Alibaba Cloud's 100.100.100.200), a private or shared range, or anything
else that is not globally routable. If any one of a name's addresses is refused, the URL is.

The operator may allow named hosts (`palisade serve --allow-hook-host NAME`, or
`$PALISADE_ALLOW_HOOK_HOSTS`): a host written exactly so in the URL is not checked.

The URL is checked when a channel is created or changed (the API action) and again before
every send (the transport), which then connects to the very addresses it checked, so a name
that resolves differently a moment later (DNS rebinding) cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

ALLOW_ENV = "PALISADE_ALLOW_HOOK_HOSTS"

METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # the common cloud metadata address
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud's metadata service
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class HookUrlError(ValueError):
    """`field` says which check failed: "Url" (the URL itself) or "UrlDestination"."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HookUrl:
    scheme: str  # http or https
    host: str  # as written, lower case, without brackets or a trailing dot
    port: int
    target: str  # path and query, what goes on the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def normalise_host(host: str) -> str:
    """Lower case, no brackets or trailing dot, in its ASCII (IDNA) form; UnicodeError if the
    name cannot be one (an empty or over-long label)."""
    return host.strip().strip("[]").rstrip(".").lower().encode("idna").decode("ascii")


def parse_allowed(values: Iterable[str]) -> frozenset[str]:
    """Host names from flags or a comma-separated variable, normalised; blanks dropped.
    ValueError names one that is not a host name."""
    names = set()
    for value in values:
        for name in value.split(","):
            if name.strip():
                try:
                    names.add(normalise_host(name))
                except UnicodeError:
                    raise ValueError(f"{name.strip()!r} is not a host name") from None
    return frozenset(names)


def parse(url: str) -> HookUrl:
    """The URL's parts, or HookUrlError("Url", why)."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise HookUrlError("Url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise HookUrlError("Url", "not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise HookUrlError("Url", "an http:// or https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise HookUrlError(
            "Url",
            "must not carry a user name or password; "
            "send a secret with SecretHeaderName and SecretHeaderValue",
        )
    if port == 0:
        raise HookUrlError("Url", "port 0 is not a port")
    try:
        # what goes on the wire (DNS, TLS server name, Host header) is the ASCII form
        host = normalise_host(parts.hostname)
    except UnicodeError:
        raise HookUrlError("Url", "the host is not a valid name") from None
    if not host:
        raise HookUrlError("Url", "an http:// or https:// URL")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return HookUrl(scheme, host, port or (443 if scheme == "https" else 80), target)


def refusal(address: IpAddress) -> str | None:
    """Why a hook may not reach `address` ("is a loopback address", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address in _IPV4_COMPATIBLE and int(address) > 1:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded)
    if address in METADATA:
        return "is the cloud metadata address"
    if address.is_loopback:
        return "is a loopback address"
    if address.is_link_local:
        return "is a link-local address"
    if address.is_unspecified:
        return "is the unspecified address"
    if address.is_multicast:
        return "is a multicast address"
    if address.is_private:
        return "is a private address"
    if not address.is_global:
        return "is not a public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _address(text: str) -> IpAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone is not part of it


@dataclass(frozen=True)
class HookPolicy:
    allowed_hosts: frozenset[str] = frozenset()
    resolve: Resolver = field(default=system_resolver, compare=False)

    def allows_host(self, host: str) -> bool:
        try:
            return normalise_host(host) in self.allowed_hosts
        except UnicodeError:
            return False

    def addresses(self, url: HookUrl) -> list[str]:
        """The addresses to connect to, each one checked; HookUrlError if any is refused.
        OSError (socket.gaierror) when the name does not resolve."""
        try:
            addresses, literal = [str(_address(url.host))], True  # no look-up needed
        except ValueError:
            addresses, literal = list(self.resolve(url.host, url.port)), False
        if not addresses:
            raise socket.gaierror(f"{url.host} has no address")
        for text in addresses:
            try:
                why = refusal(_address(text))
            except ValueError:
                why = "not an address"
            if why is not None:
                where = url.host if literal else f"{url.host} resolves to {text}, which"
                raise HookUrlError(
                    "UrlDestination",
                    f"{where} {why}; a hook may only reach public addresses unless the "
                    "auditor allows its host (palisade serve --allow-hook-host)",
                )
        return addresses

    def check(self, url: str, *, require_resolution: bool) -> HookUrl:
        """HookUrlError if `url` is refused. A name that does not resolve is an OSError when
        `require_resolution`, else accepted (the transport checks again before each send)."""
        parsed = parse(url)
        if self.allows_host(parsed.host):
            return parsed
        try:
            self.addresses(parsed)
        except (OSError, UnicodeError):
            if require_resolution:
                raise
        return parsed
