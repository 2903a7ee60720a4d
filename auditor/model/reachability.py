"""Questions on top of the engine: can this source reach that instance (`reachable`), and what
does an instance expose to the internet and to other groups (`exposure`, like a
network-exposure report). Pure functions of the model."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from palisade.auditor.model import ipv4
from palisade.auditor.model.cloud import Instance
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.security_group import (
    PORTED_PROTOCOLS,
    Direction,
    GroupType,
    InnerAccessPolicy,
    IpProtocol,
    NetworkType,
    NicType,
    Policy,
    SecurityGroupRule,
    parse_protocol,
)
from palisade.auditor.model.security_group_engine import (
    INNER_ACCEPT,
    CompiledPolicy,
    Decision,
    Flow,
    ResolvedRule,
    _from_rule,
    member_ip_index,
    resolve_nic_policy,
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
        decision = _from_rule(policy, probe, best)
        for a, b in ipv4.subtract([(lo, hi)], inner):
            out.append((a, b, decision))
        for a, b in ipv4.intersect([(lo, hi)], inner):
            out.append(
                (
                    a,
                    b,
                    Decision(Policy.ACCEPT, INNER_ACCEPT, "same group (InnerAccessPolicy Accept)"),
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


def _instance_nic_policy(model, instance: Instance, member_ips=None) -> CompiledPolicy:
    return CompiledPolicy(resolve_nic_policy(model, instance.instance_id, None, member_ips))


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
        else:
            nic_type = (
                NicType.INTERNET if target.network_type is NetworkType.CLASSIC else NicType.INTRANET
            )
            for lo, hi, d in decide_space(engine, protocol, port, nic_type, public):
                paths.append(Path(_fmt_range(lo, hi), nic.public_ip, d))
    return paths, "; ".join(reasons)


def _fmt_range(lo: int, hi: int) -> str:
    cidrs = ipv4.to_cidrs(lo, hi)
    return ",".join(cidrs) if len(cidrs) <= 4 else f"{ipv4.format_ip(lo)}-{ipv4.format_ip(hi)}"


def reachable(
    model, source: str, instance_id: str, protocol: IpProtocol | str, port: int = 0
) -> Reachability:
    """Can `source` open `protocol`/`port` to the instance? `source` is an IP, a CIDR,
    "internet", an instance id or a security group id."""
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
    engine = _instance_nic_policy(model, target)
    paths: list[Path] = []
    reason = ""
    if source == INTERNET:
        paths, reason = _space_paths(model, engine, target, proto, port, ipv4.INTERNET_SPACE)
    elif isinstance(source, str) and ipv4.parse_cidr(source) is not None:
        net, length = ipv4.parse_cidr(source)  # type: ignore[misc]
        paths, reason = _space_paths(
            model, engine, target, proto, port, [ipv4.cidr_interval(net, length)]
        )
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
                    Policy.DROP, "no-route", "not on the same private network and no public IPs"
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


# ------------------------------------------------------------------ exposure


@dataclass(frozen=True)
class ExposureEntry:
    """Ports of one protocol that some source of the category reaches, and the rules (or the
    default) that let it through. For port-less protocols the range is -1/-1."""

    protocol: IpProtocol
    port_lo: int
    port_hi: int
    rules: tuple[SecurityGroupRule, ...]
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        ports = f"{self.port_lo}/{self.port_hi}"
        why = ", ".join([r.rule_id for r in self.rules] + list(self.reasons))
        return f"{self.protocol.value} {ports} via {why}"


@dataclass(frozen=True)
class ExposureReport:
    instance_id: str
    internet: tuple[ExposureEntry, ...]
    groups: dict[str, tuple[ExposureEntry, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


_SAME_GROUP = "same group (InnerAccessPolicy Accept)"


class _NetworkIndex:
    """Member IPs of one private network (a VPC, or a region's classic network), sorted, with
    an O(1) "which groups have members in [lo, hi]" (a sparse table of group bitmasks)."""

    def __init__(self, pairs: list[tuple[int, tuple[str, ...]]], bit: dict[str, int]) -> None:
        merged: dict[int, int] = {}
        for ip, groups in pairs:
            mask = 0
            for g in groups:
                mask |= 1 << bit[g]
            merged[ip] = merged.get(ip, 0) | mask
        self.ips = sorted(merged)
        level = [merged[ip] for ip in self.ips]
        self.table = [level]
        width = 1
        while 2 * width <= len(level):
            prev = self.table[-1]
            self.table.append([prev[i] | prev[i + width] for i in range(len(prev) - width)])
            width *= 2
        self.span = (self.ips[0], self.ips[-1]) if self.ips else (1, 0)

    def mask_in(self, lo: int, hi: int) -> int:
        i, j = bisect_left(self.ips, lo), bisect_right(self.ips, hi)
        if i >= j:
            return 0
        k = (j - i).bit_length() - 1
        row = self.table[k]
        return row[i] | row[j - (1 << k)]


class ExposureIndex:
    """Fleet-wide indexes shared by every instance's exposure (build once per model state)."""

    def __init__(self, model) -> None:
        self.model = model
        self.member_ips = member_ip_index(model)
        self.group_ids = sorted(model.groups)
        self.bit = {g: n for n, g in enumerate(self.group_ids)}
        pairs: dict[tuple, list] = {}
        for inst in model.instances.values():
            key = self.network_key(inst)
            for nic in inst.nics:
                for ip in nic.private_ips:
                    pairs.setdefault(key, []).append(
                        (ipv4.parse_ip(ip), tuple(nic.security_group_ids))
                    )
        self.networks = {key: _NetworkIndex(p, self.bit) for key, p in pairs.items()}
        # group -> groups its members are also in (for same-group access through multi-membership)
        self.co_groups: dict[str, set[str]] = {g: set() for g in model.groups}
        for inst in model.instances.values():
            for nic in inst.nics:
                for g in nic.security_group_ids:
                    self.co_groups[g].update(nic.security_group_ids)
        self._combo_cache: dict[tuple, tuple] = {}

    @staticmethod
    def network_key(inst: Instance) -> tuple:
        if inst.network_type is NetworkType.VPC:
            return ("vpc", inst.vpc_id)
        return ("classic", inst.region_id)

    def groups_of(self, mask: int) -> list[str]:
        out = []
        while mask:
            low = mask & -mask
            out.append(self.group_ids[low.bit_length() - 1])
            mask ^= low
        return out


def _merge_segments(
    per_segment: list[tuple[int, int, frozenset]],
    protocol: IpProtocol,
    rules_by_index: tuple[ResolvedRule, ...] = (),
) -> list[ExposureEntry]:
    """Adjacent port segments with the same deciding rules -> entries. Rules are given as
    rule objects, reason strings, or indices into `rules_by_index`."""
    out: list[ExposureEntry] = []
    cur = None
    for lo, hi, rules in per_segment:
        if not rules:
            cur = None
            continue
        if cur is not None and cur[2] == rules and cur[1] + 1 == lo:
            cur = (cur[0], hi, rules)
            out[-1] = cur  # type: ignore[assignment]
        else:
            cur = (lo, hi, rules)
            out.append(cur)  # type: ignore[arg-type]
    entries = []
    for lo, hi, rules in out:  # type: ignore[misc]
        rules = [rules_by_index[r].rule if isinstance(r, int) else r for r in rules]
        ported = protocol in PORTED_PROTOCOLS
        plo, phi = (max(lo, 1), hi) if ported else (-1, -1)
        rs = tuple(
            sorted(
                (r for r in rules if not isinstance(r, str)), key=lambda r: (r.strength, r.rule_id)
            )
        )
        reasons = tuple(sorted(r for r in rules if isinstance(r, str)))
        entries.append(ExposureEntry(protocol, plo, phi, rs, reasons))
    return entries


def _walk(ordered: list[ResolvedRule], lo: int, hi: int, space: list[ipv4.Interval]):
    """Rules covering ports [lo, hi] in decision order, each with the part of `space` it
    decides (what stronger rules left over), until `space` is used up."""
    remaining = list(space)
    for r in ordered:
        if r.port_lo > lo or r.port_hi < hi:
            continue
        if len(r.peers) == 1:
            # One block (a CIDR rule): cut it out of `remaining` in place.
            a, b = r.peers[0]
            i = bisect_left(remaining, (a, -1))
            if i and remaining[i - 1][1] >= a:
                i -= 1
            j = i
            while j < len(remaining) and remaining[j][0] <= b:
                j += 1
            if i == j:
                continue
            hit = [(max(x, a), min(y, b)) for x, y in remaining[i:j]]
            keep = []
            if remaining[i][0] < a:
                keep.append((remaining[i][0], a - 1))
            if remaining[j - 1][1] > b:
                keep.append((b + 1, remaining[j - 1][1]))
            remaining[i:j] = keep
            yield r, hit
        else:
            hit = ipv4.intersect(list(r.peers), remaining)
            if not hit:
                continue
            yield r, hit
            remaining = ipv4.subtract(remaining, list(r.peers))
        if not remaining:
            return


def _combo_exposure(index: ExposureIndex, engine: CompiledPolicy, inst: Instance) -> tuple:
    """Exposure of one rule set (shared by every instance with the same groups): internet
    entries and per-group entries, before per-instance adjustments."""
    classic = inst.network_type is NetworkType.CLASSIC
    net = index.networks.get(ExposureIndex.network_key(inst))
    inner = ipv4.merge([(ip, ip) for ip in engine.policy.inner_accept])
    private_space = ipv4.subtract([net.span], inner) if net is not None else []
    internet: list[ExposureEntry] = []
    by_group: dict[str, list[ExposureEntry]] = {}
    for protocol in (
        IpProtocol.TCP,
        IpProtocol.UDP,
        IpProtocol.ICMP,
        IpProtocol.GRE,
        IpProtocol.ICMPV6,
    ):
        inet_table = engine.table(
            Direction.INGRESS, protocol, NicType.INTERNET if classic else None
        )
        if inet_table is not None:
            segs = []
            for lo, hi in zip(inet_table.starts, inet_table.ends, strict=False):
                rules = frozenset(
                    r.index
                    for r, _ in _walk(inet_table.ordered, lo, hi - 1, ipv4.INTERNET_SPACE)
                    if r.rule.policy is Policy.ACCEPT
                )
                segs.append((lo, hi - 1, rules))
            internet += _merge_segments(segs, protocol, engine.policy.rules)
        priv_table = engine.table(
            Direction.INGRESS, protocol, NicType.INTRANET if classic else None
        )
        if priv_table is not None and private_space:
            per_group: dict[str, list] = {}
            for lo, hi in zip(priv_table.starts, priv_table.ends, strict=False):
                found: dict[str, set] = {}
                for r, hit in _walk(priv_table.ordered, lo, hi - 1, private_space):
                    if r.rule.policy is not Policy.ACCEPT:
                        continue
                    mask = 0
                    for a, b in hit:
                        mask |= net.mask_in(a, b)  # type: ignore[union-attr]
                    for g in index.groups_of(mask):
                        found.setdefault(g, set()).add(r.index)
                for g, rules in found.items():
                    per_group.setdefault(g, []).append((lo, hi - 1, frozenset(rules)))
            for g, segs in per_group.items():
                by_group.setdefault(g, []).extend(
                    _merge_segments(segs, protocol, engine.policy.rules)
                )
    return tuple(internet), by_group


def _all_protocols(reason: str) -> tuple[ExposureEntry, ...]:
    return tuple(
        ExposureEntry(
            p,
            1 if p in PORTED_PROTOCOLS else -1,
            65535 if p in PORTED_PROTOCOLS else -1,
            (),
            (reason,),
        )
        for p in (
            IpProtocol.TCP,
            IpProtocol.UDP,
            IpProtocol.ICMP,
            IpProtocol.GRE,
            IpProtocol.ICMPV6,
        )
    )


_ALL_SAME_GROUP = _all_protocols(_SAME_GROUP)


def exposure(model, instance_id: str, index: ExposureIndex | None = None) -> ExposureReport:
    """What the instance's primary NIC lets in: from the internet (if it has a public IP) and
    from the members of each other group on its private network, with the deciding rules.
    For the instance's own groups the "members" are the other members."""
    index = index or ExposureIndex(model)
    inst = model.get_instance(instance_id)
    nic = inst.primary_nic
    combo = (tuple(nic.security_group_ids), inst.network_type, ExposureIndex.network_key(inst))
    cached = index._combo_cache.get(combo)
    if cached is None:
        engine = CompiledPolicy(resolve_nic_policy(model, instance_id, None, index.member_ips))
        internet, by_group = _combo_exposure(index, engine, inst)
        cached = index._combo_cache[combo] = (engine, internet, by_group, {})
    engine, internet, by_group, reports = cached
    own = nic.security_group_ids
    n_own_ips = len(nic.private_ips)
    with_others = tuple(g for g in own if len(index.member_ips.get(g, ())) > n_own_ips)
    isolated = [g for g in with_others if not _inner_accept(model.groups[g])]
    key = (nic.public_ip is not None, with_others, tuple(nic.private_ips) if isolated else ())
    body = reports.get(key)
    if body is None:
        body = reports[key] = _report_body(
            model, index, engine, inst, internet, by_group, with_others
        )
    return ExposureReport(instance_id, *body)


def _inner_accept(group) -> bool:
    return (
        group.group_type is GroupType.NORMAL
        and group.inner_access_policy is InnerAccessPolicy.ACCEPT
    )


def _report_body(
    model,
    index: ExposureIndex,
    engine: CompiledPolicy,
    inst: Instance,
    internet,
    by_group,
    with_others: tuple[str, ...],
) -> tuple:
    nic = inst.primary_nic
    own = set(nic.security_group_ids)
    groups: dict[str, tuple[ExposureEntry, ...]] = {}
    same_group: set[str] = set()
    for gid in own:
        if _inner_accept(model.groups[gid]):
            same_group |= index.co_groups.get(gid, set())
    for gid, entries in by_group.items():
        if gid not in own:
            groups[gid] = tuple(entries)
    for gid in same_group - own:
        groups[gid] = _ALL_SAME_GROUP
    my_ips = {ipv4.parse_ip(ip) for ip in nic.private_ips}
    for gid in with_others:
        if gid in same_group:
            groups[gid] = _ALL_SAME_GROUP
        else:
            others = sorted({ip for ip in index.member_ips[gid] if ip not in my_ips})
            if others:
                groups[gid] = _exposure_from_ips(engine, inst, others)
    notes = []
    if nic.public_ip is None:
        internet = ()
        notes.append("no public IP: not reachable from the internet")
    for e in internet:
        if e.protocol in PORTED_PROTOCOLS:
            for p in sorted(model.limits.carrier_blocked_ports):
                if e.port_lo <= p <= e.port_hi:
                    notes.append(
                        f"{e.protocol.value} {p} is open to the internet; some carriers block it"
                    )
    return tuple(internet), dict(sorted(groups.items())), tuple(notes)


def _exposure_from_ips(
    engine: CompiledPolicy, inst: Instance, ips: list[int]
) -> tuple[ExposureEntry, ...]:
    """Ports some of `ips` reach (used for the other members of the instance's own groups)."""
    classic = inst.network_type is NetworkType.CLASSIC
    space = ipv4.merge([(ip, ip) for ip in ips])
    out: list[ExposureEntry] = []
    for protocol in (
        IpProtocol.TCP,
        IpProtocol.UDP,
        IpProtocol.ICMP,
        IpProtocol.GRE,
        IpProtocol.ICMPV6,
    ):
        table = engine.table(Direction.INGRESS, protocol, NicType.INTRANET if classic else None)
        if table is None:
            continue
        segs = []
        for lo, hi in zip(table.starts, table.ends, strict=False):
            rules = frozenset(
                r.rule
                for r, _ in _walk(table.ordered, lo, hi - 1, space)
                if r.rule.policy is Policy.ACCEPT
            )
            segs.append((lo, hi - 1, rules))
        out += _merge_segments(segs, protocol)
    return tuple(out)


def exposure_fleet(model) -> dict[str, ExposureReport]:
    """`exposure` for every instance, sharing indexes and the per-rule-set work."""
    index = ExposureIndex(model)
    return {iid: exposure(model, iid, index) for iid in model.instances}
