"""Can this source reach that instance (`reachable`): per source address range, the deciding
rule of the instance's NIC policy (and, for a source instance, its own egress). Pure functions
of the model."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import Instance
from palisade.auditor.model.network import ipv4, ipv6
from palisade.auditor.model.network.engine import (
    BLACK_HOLE_DECISION,
    INNER_ACCEPT,
    CompiledPolicy,
    Decision,
    Flow,
    ResolvedRule,
    decision_from_rule,
    resolve_nic_policy,
)
from palisade.auditor.model.network.security_group import (
    PORTED_PROTOCOLS,
    Direction,
    IpProtocol,
    NetworkType,
    NicType,
    RulePolicy,
    parse_protocol,
)

INTERNET = "internet"


# ------------------------------------------------------------------ decisions over address ranges


def decide_space(
    engine: CompiledPolicy,
    protocol: IpProtocol,
    port: int,
    nic_type: NicType,
    space: list[ipv4.Interval],
) -> list[tuple[int, int, Decision]]:
    """Ingress decisions for every source address in `space` (merged intervals), as pieces."""
    policy = engine.policy
    lookup_port = port if protocol in PORTED_PROTOCOLS else 0
    table = engine.table(Direction.INGRESS, protocol, nic_type)
    pieces: list[tuple[int, int, ResolvedRule | None]]
    if table is None:
        pieces = [(lo, hi, None) for lo, hi in space]
    else:
        amap = table.address_map(table.segment(lookup_port))
        pieces = []
        for lo, hi, best in amap.pieces():
            for a, b in ipv4.intersect([(lo, hi)], space):
                pieces.append((a, b, best))
    inner_on = policy.network_type is NetworkType.VPC or nic_type is NicType.INTRANET
    inner = ipv4.merge([(ip, ip) for ip in policy.inner_accept]) if inner_on else []
    probe = Flow(Direction.INGRESS, protocol, "0.0.0.0", "0.0.0.0", lookup_port, nic_type)
    out = []
    for lo, hi, best in pieces:
        decision = decision_from_rule(policy, probe, best)
        for a, b in ipv4.subtract([(lo, hi)], inner):
            out.append((a, b, decision))
        for a, b in ipv4.intersect([(lo, hi)], inner):
            out.append(
                (
                    a,
                    b,
                    Decision(
                        RulePolicy.ACCEPT, INNER_ACCEPT, "same group (InnerAccessPolicy Accept)"
                    ),
                )
            )
    return sorted(out, key=lambda p: p[0])


@dataclass(frozen=True)
class Path:
    """One way in: the source addresses, the target address, and what decided."""

    sources: str
    target_ip: str
    ingress: Decision
    egress: Decision | None = None  # the source instance's own egress decision, when known

    @property
    def allowed(self) -> bool:
        return self.ingress.allowed and (self.egress is None or self.egress.allowed)


@dataclass(frozen=True)
class Reachability:
    reachable: bool  # some source address gets through
    complete: bool  # every source address gets through
    paths: list[Path]
    reason: str = ""


def _instance_nic_policy(
    model, instance: Instance, member_ips=None, black_holed: bool = False
) -> CompiledPolicy:
    return CompiledPolicy(
        resolve_nic_policy(model, instance.instance_id, None, member_ips, black_holed)
    )


def _same_private_network(a: Instance, b: Instance) -> bool:
    if a.network_type is not b.network_type or a.region_id != b.region_id:
        return False
    return a.network_type is NetworkType.CLASSIC or a.vpc_id == b.vpc_id


def _space_paths(
    model,
    engine: CompiledPolicy,
    target: Instance,
    protocol: IpProtocol,
    port: int,
    space: list[ipv4.Interval],
) -> tuple[list[Path], str]:
    """Paths for raw source addresses: private ones over the private network, the others via
    the target's public IP."""
    paths: list[Path] = []
    reasons = []
    nic = target.primary_nic
    private = ipv4.intersect(space, ipv4.PRIVATE_SPACE)
    public = ipv4.subtract(space, ipv4.PRIVATE_SPACE)
    if private:
        if target.network_type is NetworkType.VPC:
            vpc_space = [ipv4.cidr_text_interval(model.get_vpc(target.vpc_id).cidr)]
            outside = ipv4.subtract(private, vpc_space)
            private = ipv4.intersect(private, vpc_space)
            if outside:
                reasons.append(
                    "private addresses outside the instance's VPC are not connected to it"
                )
        for lo, hi, d in decide_space(engine, protocol, port, NicType.INTRANET, private):
            paths.append(Path(_fmt_range(lo, hi), nic.private_ips[0], d))
    if public:
        if nic.public_ip is None:
            reasons.append("the instance has no public IP; the internet cannot reach it")
        elif engine.policy.black_holed:  # all access from the public network is dropped
            for lo, hi in public:
                paths.append(Path(_fmt_range(lo, hi), nic.public_ip, BLACK_HOLE_DECISION))
        else:
            nic_type = (
                NicType.INTERNET if target.network_type is NetworkType.CLASSIC else NicType.INTRANET
            )
            for lo, hi, d in decide_space(engine, protocol, port, nic_type, public):
                paths.append(Path(_fmt_range(lo, hi), nic.public_ip, d))
    return paths, "; ".join(reasons)


NO_IPV6 = "(no IPv6 address)"


def _ipv6_reachability(
    engine: CompiledPolicy, protocol: IpProtocol, port: int, source: str
) -> Reachability:
    """An IPv6 source: what the NIC's IPv6 rules decide for each piece of the block (the
    engine's own decisions), and that nothing reaches the instance: Palisade's instances
    have IPv4 addresses only."""
    parsed = ipv6.parse_cidr(source)
    assert parsed is not None
    net = parsed[0]
    lo, hi = int(net.network_address), int(net.broadcast_address)
    cuts = {lo}
    for r in engine.policy.rules:
        if r.rule.direction is Direction.INGRESS:
            for a, b in r.peers6:
                cuts.update(c for c in (a, b + 1) if lo < c <= hi)
    starts = sorted(cuts)
    ends = [s - 1 for s in starts[1:]] + [hi]
    dport = port if protocol in PORTED_PROTOCOLS else 0
    paths = []
    for a, b in zip(starts, ends, strict=True):
        probe = Flow(Direction.INGRESS, protocol, str(ipaddress.IPv6Address(a)), "::", dport)
        blocks = ipv6.to_cidrs(a, b)
        label = ",".join(blocks) if len(blocks) <= 4 else f"{blocks[0]}..{blocks[-1]}"
        paths.append(Path(label, NO_IPV6, engine.decide(probe)))
    reason = "the instance has no IPv6 address; the paths say what its IPv6 rules decide"
    return Reachability(False, False, paths, reason)


def _fmt_range(lo: int, hi: int) -> str:
    cidrs = ipv4.to_cidrs(lo, hi)
    return ",".join(cidrs) if len(cidrs) <= 4 else f"{ipv4.format_ip(lo)}-{ipv4.format_ip(hi)}"


def reachable(
    model,
    source: str,
    instance_id: str,
    protocol: IpProtocol | str,
    port: int = 0,
    black_holed: bool = False,
) -> Reachability:
    """Can `source` open `protocol`/`port` to the instance? `source` is an IP, a CIDR,
    "internet", an instance id or a security group id. `black_holed`: the instance is in a
    DDoS black hole now (all its inbound traffic from the internet is dropped)."""
    target = model.get_instance(instance_id)
    proto = parse_protocol(protocol)
    if proto is IpProtocol.ALL:
        raise ModelError(
            "InvalidIpProtocol.Malformed", "Ask about one protocol: tcp, udp, icmp, gre or icmpv6."
        )
    if proto in PORTED_PROTOCOLS and not (isinstance(port, int) and 1 <= port <= 65535):
        raise ModelError(
            "InvalidPort.Malformed", f"Port {port!r} is not valid; use 1..65535 for {proto.value}."
        )
    engine = _instance_nic_policy(model, target, black_holed=black_holed)
    paths: list[Path] = []
    reason = ""
    if source == INTERNET:
        paths, reason = _space_paths(model, engine, target, proto, port, ipv4.INTERNET_SPACE)
    elif isinstance(source, str) and ipv4.parse_cidr(source) is not None:
        paths, reason = _space_paths(
            model, engine, target, proto, port, [ipv4.cidr_text_interval(source)]
        )
    elif isinstance(source, str) and ipv6.parse_cidr(source) is not None:
        return _ipv6_reachability(engine, proto, port, source)
    elif source in model.instances or source in model.groups:
        sources = (
            [model.instances[source]]
            if source in model.instances
            else [i for i, _ in model.members(source) if i.instance_id != instance_id]
        )
        if not sources:
            reason = f"{source} has no other members"
        for src in sources:
            paths += _instance_paths(model, src, target, engine, proto, port)
    else:
        raise ModelError(
            "InvalidParameter.Source",
            f"Source {source!r} is not valid; give an IP, a CIDR, 'internet', an instance id or a "
            "group id.",
        )
    ok = [p for p in paths if p.allowed]
    if not paths and not reason:
        reason = "no path"
    return Reachability(bool(ok), bool(paths) and len(ok) == len(paths), paths, reason)


def _instance_paths(
    model, src: Instance, target: Instance, engine: CompiledPolicy, proto: IpProtocol, port: int
) -> list[Path]:
    src_engine = _instance_nic_policy(model, src)
    src_nic, dst_nic = src.primary_nic, target.primary_nic
    if _same_private_network(src, target):
        pairs = [(s, dst_nic.private_ips[0], NicType.INTRANET) for s in src_nic.private_ips[:1]]
    elif dst_nic.public_ip and src_nic.public_ip:
        nic_type = (
            NicType.INTERNET if target.network_type is NetworkType.CLASSIC else NicType.INTRANET
        )
        pairs = [(src_nic.public_ip, dst_nic.public_ip, nic_type)]
    else:
        return [
            Path(
                src.instance_id,
                dst_nic.private_ips[0],
                Decision(
                    RulePolicy.DROP, "no-route", "not on the same private network and no public IPs"
                ),
            )
        ]
    out = []
    for s, d, nic_type in pairs:
        dport = port if proto in PORTED_PROTOCOLS else 0
        ingress = engine.decide(Flow(Direction.INGRESS, proto, s, d, dport, nic_type))
        src_nic_type = (
            NicType.INTERNET
            if (src.network_type is NetworkType.CLASSIC and nic_type is NicType.INTERNET)
            else NicType.INTRANET
        )
        egress = src_engine.decide(Flow(Direction.EGRESS, proto, s, d, dport, src_nic_type))
        out.append(Path(f"{src.instance_id} ({s})", d, ingress, egress))
    return out
