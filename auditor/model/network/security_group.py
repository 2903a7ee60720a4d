"""Security groups and their rules: the data, and the validation of every field.

Field parsers take whatever a caller sends (API strings, YAML values, imported JSON) and either
return a typed value or raise `ModelError` with an ECS-style code and a message that says what
to change. Nothing here mutates a group; `fleet.CloudModel` does, after validating everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network import ipv4, ipv6


class Direction(str, Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


class RulePolicy(str, Enum):
    ACCEPT = "accept"
    DROP = "drop"


class IpProtocol(str, Enum):
    ALL = "all"
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    GRE = "gre"
    ICMPV6 = "icmpv6"


PORTED_PROTOCOLS = (IpProtocol.TCP, IpProtocol.UDP)
FLOW_PROTOCOLS = (
    IpProtocol.TCP,
    IpProtocol.UDP,
    IpProtocol.ICMP,
    IpProtocol.GRE,
    IpProtocol.ICMPV6,
)


class NicType(str, Enum):
    INTERNET = "internet"
    INTRANET = "intranet"


class NetworkType(str, Enum):
    VPC = "vpc"
    CLASSIC = "classic"


class GroupType(str, Enum):
    NORMAL = "normal"
    ENTERPRISE = "enterprise"


class InnerAccessPolicy(str, Enum):
    ACCEPT = "Accept"
    DROP = "Drop"


class Template(str, Enum):
    CUSTOM = "custom"
    WEB_SERVER_LINUX = "web-server-linux"
    WEB_SERVER_WINDOWS = "web-server-windows"


ALL_PORTS = (-1, -1)


@dataclass(frozen=True)
class PortRange:
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start}/{self.end}"

    @property
    def is_any(self) -> bool:
        return (self.start, self.end) == ALL_PORTS

    def interval(self) -> tuple[int, int]:
        """Ports covered; -1/-1 covers everything (0..65535 so ICMP/GRE flows with port 0 match)."""
        return (0, 65535) if self.is_any else (self.start, self.end)


@dataclass(frozen=True)
class SecurityGroupRule:
    """One rule. The peer is the source for ingress and the destination for egress: either a
    CIDR block (`peer_cidr`) or a security group (`peer_group_id`, maybe of another account)."""

    rule_id: str
    direction: Direction
    policy: RulePolicy
    ip_protocol: IpProtocol
    port_range: PortRange
    priority: int
    nic_type: NicType
    peer_cidr: str | None = None
    peer_group_id: str | None = None
    peer_group_owner_account: str | None = None
    description: str = ""
    create_time: datetime | None = None
    # ECS's SourcePortRange (TCP/UDP): the rule matches flows from these source ports only;
    # None: any source port
    source_port_range: PortRange | None = None
    # ECS's Ipv6SourceCidrIp / Ipv6DestCidrIp: an IPv6 peer block (canonical text), the rule's
    # one peer when set (peer_cidr and peer_group_id are then None)
    peer_ipv6_cidr: str | None = None

    def key(self) -> tuple:
        """What makes two rules the same rule (authorising it again adds nothing)."""
        return (
            self.direction,
            self.policy,
            self.ip_protocol,
            self.port_range,
            self.priority,
            self.nic_type,
            self.peer_cidr,
            self.peer_group_id,
            self.peer_group_owner_account,
            self.source_port_range,
            self.peer_ipv6_cidr,
        )

    def content(self) -> tuple:
        """`key()` plus the description: what "identical" means for restore and import."""
        return self.key() + (self.description,)

    @property
    def strength(self) -> int:
        """Smaller decides first: priority, then drop before accept on equal priority."""
        return self.priority * 2 + (0 if self.policy is RulePolicy.DROP else 1)

    @property
    def peer(self) -> str:
        if self.peer_cidr is not None:
            return self.peer_cidr
        if self.peer_ipv6_cidr is not None:
            return self.peer_ipv6_cidr
        owner = (
            f" (account {self.peer_group_owner_account})" if self.peer_group_owner_account else ""
        )
        return f"{self.peer_group_id}{owner}"

    def describe(self) -> str:
        side = "from" if self.direction is Direction.INGRESS else "to"
        source_ports = f" source ports {self.source_port_range}" if self.source_port_range else ""
        return (
            f"{self.rule_id}: {self.direction.value} {self.policy.value} {self.ip_protocol.value} "
            f"{self.port_range}{source_ports} {side} {self.peer} priority {self.priority}"
        )


@dataclass
class SecurityGroup:
    group_id: str
    account_id: str
    region_id: str
    network_type: NetworkType
    group_type: GroupType = GroupType.NORMAL
    vpc_id: str | None = None
    name: str = ""
    description: str = ""
    inner_access_policy: InnerAccessPolicy = InnerAccessPolicy.ACCEPT
    rules: list[SecurityGroupRule] = field(default_factory=list)
    create_time: datetime | None = None
    is_default: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def copy(self) -> SecurityGroup:
        return replace(self, rules=list(self.rules), tags=dict(self.tags))

    def rule(self, rule_id: str) -> SecurityGroupRule | None:
        return next((r for r in self.rules if r.rule_id == rule_id), None)


@dataclass(frozen=True)
class RuleRequest:
    """A rule as a caller asks for it (API parameters). Strings are validated as they come.

    `peer_cidr` may hold up to `Limits.objects_per_rule` comma-separated IPs/CIDRs; each becomes
    a rule of its own (as the console does). Give either `peer_cidr` or `peer_group_id`."""

    direction: str | Direction = Direction.INGRESS
    ip_protocol: str | IpProtocol = ""
    port_range: str = ""
    peer_cidr: str | None = None
    peer_group_id: str | None = None
    peer_group_owner_account: str | None = None
    policy: str | RulePolicy = RulePolicy.ACCEPT
    priority: str | int = 1
    nic_type: str | NicType = NicType.INTRANET
    description: str = ""
    source_port_range: str = ""  # "" or -1/-1: any source port
    peer_ipv6_cidr: str | None = None  # Ipv6SourceCidrIp / Ipv6DestCidrIp


# ---------------------------------------------------------------- field parsers


def _side(direction: Direction) -> str:
    return "Source" if direction is Direction.INGRESS else "Dest"


def _text(value: object) -> object:
    """An enum member's value; anything else as it is (the parsers check it is a string)."""
    return value.value if isinstance(value, Enum) else value


def parse_direction(value: object) -> Direction:
    text = _text(value)
    if isinstance(text, str) and text.lower() in ("ingress", "egress"):
        return Direction(text.lower())
    raise ModelError(
        "InvalidDirection.Malformed", f"Direction {value!r} is not valid; use ingress or egress."
    )


def parse_policy(value: object) -> RulePolicy:
    text = _text(value)
    if isinstance(text, str) and text.lower() in ("accept", "drop"):
        return RulePolicy(text.lower())
    raise ModelError(
        "InvalidPolicy.Malformed", f"Policy {value!r} is not valid; use accept or drop."
    )


def parse_protocol(value: object) -> IpProtocol:
    text = _text(value)
    if isinstance(text, str) and text.lower() in {p.value for p in IpProtocol}:
        return IpProtocol(text.lower())
    raise ModelError(
        "InvalidIpProtocol.Malformed",
        f"IpProtocol {value!r} is not valid; use one of all, tcp, udp, icmp, gre, icmpv6.",
    )


_PORT_RANGE = re.compile(r"^(-1|\d{1,5})/(-1|\d{1,5})$")


def parse_port_range(value: object, protocol: IpProtocol) -> PortRange:
    text = value if isinstance(value, str) else None
    m = _PORT_RANGE.match(text) if text is not None and text.isascii() else None
    if protocol in PORTED_PROTOCOLS:
        hint = (
            f"for {protocol.value} use start/end with 1 <= start <= end <= 65535, "
            "e.g. 22/22 or 1024/65535"
        )
        if m is None:
            raise ModelError(
                "InvalidPortRange.Malformed", f"PortRange {value!r} is not valid; {hint}."
            )
        start, end = int(m.group(1)), int(m.group(2))
        if not (1 <= start <= end <= 65535):
            raise ModelError(
                "InvalidPortRange.Malformed", f"PortRange {value!r} is out of range; {hint}."
            )
        return PortRange(start, end)
    if m is None or (m.group(1), m.group(2)) != ("-1", "-1"):
        raise ModelError(
            "InvalidPortRange.Malformed",
            f"PortRange {value!r} is not valid for protocol {protocol.value}; it must be -1/-1.",
        )
    return PortRange(-1, -1)


def parse_source_port_range(value: object, protocol: IpProtocol) -> PortRange | None:
    """ECS's SourcePortRange: as PortRange (start/end for TCP/UDP, -1/-1 otherwise); absent
    ("") or -1/-1 is any source port (None)."""
    if value in (None, "", "-1/-1"):
        return None
    try:
        return parse_port_range(value, protocol)
    except ModelError as err:
        message = err.message.replace("PortRange", "SourcePortRange", 1)
        raise ModelError("InvalidSourcePortRange.Malformed", message) from None


def parse_priority(value: object, limits: Limits) -> int:
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        number = int(value)
    else:
        number = None
    if number is None or not (limits.priority_min <= number <= limits.priority_max):
        raise ModelError(
            "InvalidPriority.Malformed",
            f"Priority {value!r} is not valid; use a whole number from {limits.priority_min} "
            f"to {limits.priority_max} (smaller is stronger).",
        )
    return number


def parse_nic_type(value: object) -> NicType:
    text = _text(value)
    if isinstance(text, str) and text.lower() in ("internet", "intranet"):
        return NicType(text.lower())
    raise ModelError(
        "InvalidNicType.ValueNotSupported",
        f"NicType {value!r} is not valid; use internet or intranet.",
    )


def parse_cidr_list(value: object, direction: Direction, limits: Limits) -> list[str]:
    """Comma-separated IPs/CIDRs -> normalised `a.b.c.d/n` strings."""
    field_name = f"{_side(direction)}CidrIp"
    code = f"Invalid{field_name}.Malformed"
    if not isinstance(value, str) or not value.strip():
        raise ModelError(
            code,
            f"{field_name} {value!r} is not valid; give an IPv4 address or CIDR block such as "
            "1.2.3.4/32 or 10.0.0.0/8.",
        )
    parts = [p.strip() for p in value.split(",")]
    if len(parts) > limits.objects_per_rule:
        raise ModelError(
            "InvalidParameter.AuthorizationObjectCountExceeded",
            f"{field_name} lists {len(parts)} objects; at most {limits.objects_per_rule} per "
            "rule. Split it into several rules.",
        )
    out: list[str] = []
    for part in parts:
        parsed = ipv4.parse_cidr(part)
        if parsed is None:
            raise ModelError(
                code,
                f"{field_name} {part!r} is not valid; give an IPv4 address or CIDR block such as "
                "1.2.3.4/32 or 10.0.0.0/8.",
            )
        net, length = parsed
        if ipv4.host_bits_set(net, length):
            lo, _ = ipv4.cidr_interval(net, length)
            raise ModelError(
                code,
                f"{field_name} {part!r} has host bits set; use {ipv4.format_cidr(lo, length)}.",
            )
        text = ipv4.format_cidr(net, length)
        if text not in out:
            out.append(text)
    return out


def parse_ipv6_cidr(value: object, direction: Direction) -> str:
    """Ipv6SourceCidrIp / Ipv6DestCidrIp: one IPv6 address or block -> canonical `addr/n`."""
    field_name = f"Ipv6{_side(direction)}CidrIp"
    parsed = ipv6.parse_cidr(value)
    if parsed is None:
        raise ModelError(
            f"Invalid{field_name}.Malformed",
            f"{field_name} {str(value)[:64]!r} is not valid; give an IPv6 address or CIDR block "
            "such as 2001:db8::/32 or ::/0.",
        )
    net, host_bits = parsed
    if host_bits:
        raise ModelError(
            f"Invalid{field_name}.Malformed",
            f"{field_name} {str(value)[:64]!r} has host bits set; use {net}.",
        )
    return str(net)


_GROUP_ID = re.compile(r"^sg-[0-9a-zA-Z]{1,40}$")
_ACCOUNT_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def check_group_id_format(value: object, field_name: str = "SecurityGroupId") -> str:
    if isinstance(value, str) and value.isascii() and _GROUP_ID.match(value):
        return value
    raise ModelError(
        f"Invalid{field_name}.Malformed",
        f"{field_name} {value!r} is not valid; it looks like sg-xxxxxxxx.",
    )


def check_account_id_format(value: object, field_name: str) -> str:
    if isinstance(value, str) and value.isascii() and _ACCOUNT_ID.match(value):
        return value
    raise ModelError(
        f"Invalid{field_name}.Malformed", f"{field_name} {value!r} is not a valid account id."
    )


_NAME_SPECIALS = set("._-:")


def check_name(value: object, limits: Limits, field_name: str = "SecurityGroupName") -> str:
    """2..128 characters, starting with a letter, then letters, digits and `.` `_` `-` `:`.
    Empty = no name."""
    code = f"Invalid{field_name}.Malformed"
    rule = (
        f"{limits.name_min}-{limits.name_max} characters, starting with a letter, containing only "
        "letters, digits and . _ - :"
    )
    if not isinstance(value, str):
        raise ModelError(code, f"{field_name} must be text: {rule}.")
    if value == "":
        return value
    if not (limits.name_min <= len(value) <= limits.name_max):
        raise ModelError(code, f"{field_name} is {len(value)} characters long; use {rule}.")
    if not value[0].isalpha():
        raise ModelError(
            code,
            f"{field_name} {value[:20]!r} must start with a letter, not a digit or special "
            f"character; use {rule}.",
        )
    bad = sorted({c for c in value if not (c.isalnum() or c in _NAME_SPECIALS)})
    if bad:
        raise ModelError(code, f"{field_name} contains {''.join(bad)[:10]!r}; use {rule}.")
    return value


def check_description(value: object, limits: Limits, field_name: str = "Description") -> str:
    """2..256 printable characters, not starting with http:// or https://.
    Empty = no description."""
    code = f"Invalid{field_name}.Malformed"
    rule = (
        f"{limits.description_min}-{limits.description_max} characters, "
        "not starting with http:// or https://"
    )
    if not isinstance(value, str):
        raise ModelError(code, f"{field_name} must be text: {rule}.")
    if value == "":
        return value
    if not (limits.description_min <= len(value) <= limits.description_max):
        raise ModelError(code, f"{field_name} is {len(value)} characters long; use {rule}.")
    if value.lower().startswith(("http://", "https://")):
        raise ModelError(code, f"{field_name} must not start with http:// or https://; use {rule}.")
    if not value.isprintable():
        raise ModelError(
            code, f"{field_name} contains control characters; use printable text ({rule})."
        )
    return value


# ---------------------------------------------------------------- templates


def template_rules(template: Template) -> list[RuleRequest]:
    """Ingress rules of the console's templates (priority 1, 0.0.0.0/0)."""
    ports = {
        Template.CUSTOM: [],
        Template.WEB_SERVER_LINUX: ["80/80", "443/443", "22/22"],
        Template.WEB_SERVER_WINDOWS: ["80/80", "443/443", "3389/3389"],
    }[template]
    out = [RuleRequest(Direction.INGRESS, IpProtocol.TCP, p, peer_cidr="0.0.0.0/0") for p in ports]
    if template is not Template.CUSTOM:
        out.append(RuleRequest(Direction.INGRESS, IpProtocol.ICMP, "-1/-1", peer_cidr="0.0.0.0/0"))
    return out


def parse_template(value: object) -> Template:
    text = _text(value)
    aliases = {
        "custom": Template.CUSTOM,
        "web-server-linux": Template.WEB_SERVER_LINUX,
        "web server linux": Template.WEB_SERVER_LINUX,
        "web-server-windows": Template.WEB_SERVER_WINDOWS,
        "web server windows": Template.WEB_SERVER_WINDOWS,
    }
    if isinstance(text, str) and text.lower() in aliases:
        return aliases[text.lower()]
    raise ModelError(
        "InvalidTemplate.ValueNotSupported",
        f"Template {value!r} is not valid; use custom, web-server-linux or web-server-windows.",
    )
