"""An nftables ruleset that enforces a NIC's security-group policy on a Linux host.

Same order as the engine: the DDoS black hole (an input: inbound from the internet dropped,
established connections too), conntrack (statefulness), the platform's TCP 25 block,
same-group access, then the rules strongest first (priority, drop before accept, then rule
order), and the engine's defaults as chain policies. Useful on hosts without a cloud
firewall, and the way the model is proven against the kernel (tests/integration)."""

from __future__ import annotations

from palisade.auditor.model.network import ipv4, ipv6
from palisade.auditor.model.network.engine import NicPolicy, ResolvedRule, resolve_nic_policy
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NetworkType,
    NicType,
    RulePolicy,
)

TABLE = "palisade"


def _addresses(intervals: list[ipv4.Interval] | tuple[ipv4.Interval, ...]) -> str:
    items = []
    for lo, hi in intervals:
        cidrs = ipv4.to_cidrs(lo, hi)
        items += cidrs if len(cidrs) <= 2 else [f"{ipv4.format_ip(lo)}-{ipv4.format_ip(hi)}"]
    items = [i[:-3] if i.endswith("/32") else i for i in items]
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _protocol_match(r: ResolvedRule) -> str:
    proto = r.rule.ip_protocol
    if proto is IpProtocol.ALL:
        return ""
    if proto in (IpProtocol.TCP, IpProtocol.UDP):
        ports = f"{r.port_lo}" if r.port_lo == r.port_hi else f"{r.port_lo}-{r.port_hi}"
        source = r.rule.source_port_range
        if source is None:
            return f"{proto.value} dport {ports}"
        sports = str(source.start) if source.start == source.end else f"{source.start}-{source.end}"
        return f"{proto.value} sport {sports} {proto.value} dport {ports}"
    return {
        IpProtocol.ICMP: "meta l4proto icmp",
        IpProtocol.GRE: "meta l4proto gre",
        IpProtocol.ICMPV6: "meta l4proto ipv6-icmp",
    }[proto]


def _rule_line(r: ResolvedRule, iface: str) -> str | None:
    side = "saddr" if r.rule.direction is Direction.INGRESS else "daddr"
    if r.peers6:  # an IPv6 rule: the inet table sees both families
        blocks = [c for lo, hi in r.peers6 for c in ipv6.to_cidrs(lo, hi)]
        peer = f"ip6 {side} {blocks[0] if len(blocks) == 1 else '{ ' + ', '.join(blocks) + ' }'}"
    elif r.peers:
        peer = f"ip {side} {_addresses(r.peers)}"
    else:
        return None  # group authorisation of an empty group matches nothing
    parts = [iface, peer, _protocol_match(r), r.rule.policy.value]
    text = " ".join(p for p in parts if p)
    return f'{text} comment "{r.rule.rule_id} {r.group_id} p{r.rule.priority}"'


def render_policy_nft(policy: NicPolicy, interfaces: dict[NicType, str] | None = None) -> str:
    """`interfaces` names the host interface of each NIC type (classic network only)."""
    interfaces = interfaces or {}
    classic = policy.network_type is NetworkType.CLASSIC
    lines = [f"table inet {TABLE} {{"]
    for direction, chain, hook, default, dev in (
        (Direction.INGRESS, "input", "input", RulePolicy.DROP, "iifname"),
        (Direction.EGRESS, "output", "output", policy.egress_default, "oifname"),
    ):
        lines.append(f"  chain {chain} {{")
        lines.append(f"    type filter hook {hook} priority 0; policy {default.value};")
        if direction is Direction.INGRESS and policy.black_holed:
            lines.append(
                f"    ip saddr {_addresses(ipv4.INTERNET_SPACE)} drop"
                ' comment "DDoS black hole: inbound from the internet dropped"'
            )
            lines.append(
                f"    ip6 saddr {ipv6.INTERNET} drop"
                ' comment "DDoS black hole: inbound from the internet dropped"'
            )
        lines.append("    ct state established,related accept")
        lines.append(f'    {dev} "lo" accept')
        if direction is Direction.EGRESS and not policy.smtp_unblocked:
            lines.append(
                f"    ip daddr {_addresses(ipv4.INTERNET_SPACE)} tcp dport "
                f"{policy.limits.smtp_port} drop"
                ' comment "platform: TCP 25 egress blocked"'
            )
            lines.append(
                f"    ip6 daddr {ipv6.INTERNET} tcp dport {policy.limits.smtp_port} drop"
                ' comment "platform: TCP 25 egress blocked"'
            )
        if policy.inner_accept:
            inner = _addresses(ipv4.merge([(ip, ip) for ip in policy.inner_accept]))
            side = "saddr" if direction is Direction.INGRESS else "daddr"
            scope = (
                f'{dev} "{interfaces[NicType.INTRANET]}" '
                if classic and NicType.INTRANET in interfaces
                else ""
            )
            lines.append(
                f'    {scope}ip {side} {inner} accept comment "same group (InnerAccessPolicy '
                'Accept)"'
            )
        for r in sorted(
            (r for r in policy.rules if r.rule.direction is direction), key=lambda r: r.order
        ):
            iface = ""
            if classic and r.nic_type is not None:
                name = interfaces.get(r.nic_type)
                if name is None:
                    continue  # that NIC type has no interface on this host
                iface = f'{dev} "{name}"'
            line = _rule_line(r, iface)
            if line:
                lines.append(f"    {line}")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_nft(
    model,
    instance_id: str,
    interfaces: dict[NicType, str] | None = None,
    nic_id: str | None = None,
    black_holed: bool = False,
) -> str:
    """The ruleset for one NIC of an instance (its primary NIC by default); `black_holed`: the
    instance is in a DDoS black hole now."""
    policy = resolve_nic_policy(model, instance_id, nic_id, black_holed=black_holed)
    return render_policy_nft(policy, interfaces)
