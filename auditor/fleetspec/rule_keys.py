"""Which rule a Describe answer's permission or an Authorize request stands for, as one
comparable key (canonical CIDRs, ports, source ports and IPv6 blocks), and a rule as one line
of a plan (`palisade apply` and `palisade sync`)."""

from __future__ import annotations

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network import ipv4, ipv6
from palisade.auditor.model.network.security_group import (
    parse_port_range,
    parse_protocol,
    parse_source_port_range,
)


def describe(p: dict) -> str:
    direction = p.get("Direction") or (
        "egress" if "DestCidrIp" in p or "DestGroupId" in p or "Ipv6DestCidrIp" in p else "ingress"
    )
    side = "Source" if direction == "ingress" else "Dest"
    peer = p.get(f"{side}CidrIp") or p.get(f"Ipv6{side}CidrIp") or p.get(f"{side}GroupId") or ""
    sport = p.get("SourcePortRange") or ""
    return (
        f"{direction} {p.get('Policy', 'accept').lower()} {p.get('IpProtocol', '').lower()} "
        f"{p.get('PortRange', '')} {'from' if side == 'Source' else 'to'} {peer} "
        + (f"source ports {sport} " if sport and sport != "-1/-1" else "")
        + f"priority {p.get('Priority', '1')}"
    )


def norm_cidr(text: str | None) -> str | None:
    if not text:
        return None
    parsed = ipv4.parse_cidr(text.strip())
    return ipv4.format_cidr(*parsed) if parsed else text


def _norm_ports(text: str, protocol: str) -> str:
    try:
        return str(parse_port_range(text, parse_protocol(protocol)))
    except ModelError:
        return text


def _norm_source_ports(text: str | None, protocol: str) -> str | None:
    try:
        parsed = parse_source_port_range(text or "", parse_protocol(protocol))
    except ModelError:
        return text
    return None if parsed is None else str(parsed)


def _norm_ipv6(text: str | None) -> str | None:
    if not text:
        return None
    parsed = ipv6.parse_cidr(text.strip())
    return str(parsed[0]) if parsed else text


def _key(
    direction, policy, protocol, ports, priority, nic, cidr, group, owner, sports, v6
) -> tuple:
    return (
        direction.lower(),
        policy.lower(),
        protocol.lower(),
        _norm_ports(ports, protocol),
        str(priority).lstrip("0") or "0",
        nic.lower(),
        norm_cidr(cidr),
        group or None,
        owner or None,
        _norm_source_ports(sports, protocol),
        _norm_ipv6(v6),
    )


def permission_key(perm: dict) -> tuple:
    side = "Source" if perm["Direction"] == "ingress" else "Dest"
    return _key(
        perm["Direction"],
        perm["Policy"],
        perm["IpProtocol"],
        perm["PortRange"],
        perm["Priority"],
        perm["NicType"],
        perm[f"{side}CidrIp"],
        perm[f"{side}GroupId"],
        perm[f"{side}GroupOwnerAccount"],
        perm.get("SourcePortRange"),
        perm.get(f"Ipv6{side}CidrIp"),
    )


def params_key(params: dict[str, str], group_account: str) -> tuple:
    """The rule a request stands for, as `permission_key` sees it (the model drops an owner
    account that is the group's own)."""
    side = (
        "Dest"
        if "DestCidrIp" in params or "DestGroupId" in params or "Ipv6DestCidrIp" in params
        else "Source"
    )
    owner = params.get(f"{side}GroupOwnerAccount")
    if owner == group_account:
        owner = None
    return _key(
        "ingress" if side == "Source" else "egress",
        params["Policy"],
        params["IpProtocol"],
        params["PortRange"],
        params["Priority"],
        params["NicType"],
        params.get(f"{side}CidrIp"),
        params.get(f"{side}GroupId"),
        owner,
        params.get("SourcePortRange"),
        params.get(f"Ipv6{side}CidrIp"),
    )
