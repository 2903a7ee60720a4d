"""The security-group engine: which flows the groups of a NIC let through, and why.

Semantics (the ECS security guide, sections 1.1 and 1.6):
- the rules of all groups of a NIC form one rule set; of the rules matching a flow, the one
  with the smallest priority number decides; on equal priority drop beats accept;
- no matching rule: ingress is dropped, egress is accepted (enterprise egress: a setting);
- members of a normal group with InnerAccessPolicy Accept reach each other over private IPs,
  whatever the user rules say; with Drop the user rules decide;
- group authorisation matches the private IPs of the other group's members;
- classic groups distinguish internet/intranet NIC types, VPC groups do not;
- the platform blocks outbound TCP 25 to the internet unless the instance has an unblock;
- stateful: replies to allowed flows pass (see `SessionTable`, 910 s);
- DDoS black hole: while an instance is black-holed (an input: `black_holed`, from the
  instance's protection state) every inbound packet from the internet is dropped, before
  sessions and rules.

`resolve_nic_policy` turns model objects into a `NicPolicy` (rules with peers as address
intervals); `CompiledPolicy` answers `decide(flow)` in O(log n) through per-(direction, NIC
type, protocol) port segments, each with a sorted address map of the strongest rule;
`naive_decide` scans every rule and is the oracle for tests and the benchmark's baseline.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.limits import DEFAULT_LIMITS, Limits
from palisade.auditor.model.network import ipv4, ipv6
from palisade.auditor.model.network.security_group import (
    PORTED_PROTOCOLS,
    Direction,
    GroupType,
    InnerAccessPolicy,
    IpProtocol,
    NetworkType,
    NicType,
    RulePolicy,
    SecurityGroupRule,
)

# Decision kinds (stable strings for callers and tests).
RULE = "rule"
SYSTEM_RULE = "system-rule"
INNER_ACCEPT = "inner-accept"
DEFAULT_INGRESS_DROP = "default-ingress-drop"
DEFAULT_EGRESS_ACCEPT = "default-egress-accept"
DEFAULT_EGRESS_DROP = "default-egress-drop"
PLATFORM_SMTP = "platform-smtp"
SESSION = "session"
BLACK_HOLE = "ddos-black-hole"


@dataclass(frozen=True)
class Flow:
    """One packet's worth of flow as seen at the instance's NIC. `port` is the destination port
    (TCP/UDP only); for ingress `dst_ip` is the instance's, for egress `src_ip` is.
    `src_port` 0 is a source port not known (what explain and exposure ask): a rule limited to
    some source ports then decides as the sender could make it, an accept rule matching (any
    sender picks its source port) and a drop rule not."""

    direction: Direction
    protocol: IpProtocol
    src_ip: str
    dst_ip: str
    port: int = 0
    nic_type: NicType = NicType.INTRANET
    src_port: int = 0
    src: int = field(init=False, repr=False, compare=False)
    dst: int = field(init=False, repr=False, compare=False)
    ipv6: bool = field(init=False, repr=False, compare=False)  # an IPv6 flow (else IPv4)

    def __post_init__(self) -> None:
        src, dst = ipv4.parse_ip(self.src_ip), ipv4.parse_ip(self.dst_ip)
        v6 = src is None and dst is None
        if v6:
            src, dst = ipv6.parse_ip(self.src_ip), ipv6.parse_ip(self.dst_ip)
        if src is None or dst is None:
            raise ModelError(
                "InvalidIpAddress.Malformed",
                f"Flow addresses {self.src_ip!r} -> {self.dst_ip!r} must be both IPv4 or both "
                "IPv6.",
            )
        object.__setattr__(self, "ipv6", v6)
        if self.protocol is IpProtocol.ALL:
            raise ModelError(
                "InvalidIpProtocol.Malformed",
                "A flow has one protocol: tcp, udp, icmp, gre or icmpv6.",
            )
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)

    @property
    def peer(self) -> int:
        return self.src if self.direction is Direction.INGRESS else self.dst

    def from_internet(self) -> bool:
        """Is the remote side (source of ingress, destination of egress) an internet address?"""
        peer = self.peer
        return ipv6.is_internet(peer) if self.ipv6 else ipv4.is_internet(peer)

    @property
    def lookup_port(self) -> int:
        return self.port if self.protocol in PORTED_PROTOCOLS else 0


@dataclass(frozen=True)
class Decision:
    verdict: RulePolicy
    kind: str
    reason: str
    rule: SecurityGroupRule | None = None
    group_id: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.verdict is RulePolicy.ACCEPT


BLACK_HOLE_DECISION = Decision(
    RulePolicy.DROP,
    BLACK_HOLE,
    "DDoS black hole: all inbound traffic from the internet is dropped until the black hole ends",
)


@dataclass(frozen=True)
class ResolvedRule:
    """A rule with its peer as merged address intervals (a CIDR, or the members' private IPs)."""

    index: int  # position in the NIC's rule set: ties of equal strength go to the earlier rule
    rule: SecurityGroupRule
    group_id: str
    peers: tuple[ipv4.Interval, ...]
    port_lo: int
    port_hi: int
    nic_type: NicType | None  # None: any (VPC groups do not distinguish)
    peers6: tuple[ipv6.Interval, ...] = ()  # an IPv6 rule's peer block (its `peers` are empty)

    @property
    def order(self) -> tuple[int, int]:
        return (self.rule.strength, self.index)


@dataclass(frozen=True)
class NicPolicy:
    """Everything the engine needs to decide for one NIC, resolved from the model."""

    rules: tuple[ResolvedRule, ...]
    network_type: NetworkType = NetworkType.VPC
    inner_accept: frozenset[int] = frozenset()  # private IPs of Accept-group co-members
    egress_default: RulePolicy = RulePolicy.ACCEPT
    smtp_unblocked: bool = False
    limits: Limits = DEFAULT_LIMITS
    instance_id: str = ""
    nic_id: str = ""
    black_holed: bool = False  # DDoS black hole: public inbound traffic is dropped


def resolve_rule(
    index: int,
    rule: SecurityGroupRule,
    group_id: str,
    network: NetworkType,
    member_ips: dict[str, list[int]],
) -> ResolvedRule:
    peers: tuple[ipv4.Interval, ...]
    lo, hi = rule.port_range.interval()
    nic_type = rule.nic_type if network is NetworkType.CLASSIC else None
    if rule.peer_ipv6_cidr is not None:  # matches IPv6 flows only
        v6 = (ipv6.interval(rule.peer_ipv6_cidr),)
        return ResolvedRule(index, rule, group_id, (), lo, hi, nic_type, v6)
    if rule.peer_cidr is not None:
        peers = (ipv4.cidr_text_interval(rule.peer_cidr),)
    else:
        peers = tuple(ipv4.merge([(ip, ip) for ip in member_ips.get(rule.peer_group_id or "", [])]))
    return ResolvedRule(index, rule, group_id, peers, lo, hi, nic_type)


def resolve_nic_policy(
    model,
    instance_id: str,
    nic_id: str | None = None,
    member_ips: dict[str, list[int]] | None = None,
    black_holed: bool = False,
) -> NicPolicy:
    """The NIC's groups as one rule set. `member_ips` (group id -> private IPs as ints) may be
    passed in to share the work across many NICs (see `member_ip_index`). `black_holed`: the
    instance is in a DDoS black hole now (its protection state, CloudState.ddos)."""
    instance = model.get_instance(instance_id)
    nic = instance.nic(nic_id)
    if nic is None:
        raise ModelError(
            "InvalidNetworkInterfaceId.NotFound", f"NIC {nic_id!r} is not on {instance_id}."
        )
    groups = [model.groups[g] for g in nic.security_group_ids]
    if member_ips is None:
        wanted = {r.peer_group_id for g in groups for r in g.rules if r.peer_group_id}
        wanted |= {g.group_id for g in groups}
        member_ips = {g: [ipv4.ip_value(ip) for ip in model.member_private_ips(g)] for g in wanted}
    rules: list[ResolvedRule] = []
    for group in groups:
        for rule in group.rules:
            rules.append(
                resolve_rule(len(rules), rule, group.group_id, instance.network_type, member_ips)
            )
    inner = frozenset(
        ip
        for g in groups
        if g.group_type is GroupType.NORMAL and g.inner_access_policy is InnerAccessPolicy.ACCEPT
        for ip in member_ips.get(g.group_id, [])
    )
    enterprise = bool(groups) and all(g.group_type is GroupType.ENTERPRISE for g in groups)
    limits = model.limits
    egress = (
        RulePolicy.DROP
        if enterprise and not limits.enterprise_egress_default_accept
        else RulePolicy.ACCEPT
    )
    return NicPolicy(
        tuple(rules),
        instance.network_type,
        inner,
        egress,
        instance.smtp_unblocked,
        limits,
        instance.instance_id,
        nic.nic_id,
        black_holed,
    )


def member_ip_index(model) -> dict[str, list[int]]:
    """group id -> private IPs (ints) of its members, for the whole model at once."""
    out: dict[str, list[int]] = {g: [] for g in model.groups}
    for instance in model.instances.values():
        for nic in instance.nics:
            ips = [ipv4.ip_value(ip) for ip in nic.private_ips]
            for gid in nic.security_group_ids:
                out[gid].extend(ips)
    return out


# ------------------------------------------------------------------ shared semantics


def black_hole(policy: NicPolicy, flow: Flow) -> Decision | None:
    """The DDoS black hole's drop, if it applies: inbound from the internet while black-holed."""
    if policy.black_holed and flow.direction is Direction.INGRESS and flow.from_internet():
        return BLACK_HOLE_DECISION
    return None


def _before_rules(policy: NicPolicy, flow: Flow) -> Decision | None:
    """Decisions taken before any user rule: the DDoS black hole, the platform's SMTP block,
    same-group access."""
    if policy.black_holed:
        dropped = black_hole(policy, flow)
        if dropped is not None:
            return dropped
    if (
        flow.direction is Direction.EGRESS
        and flow.protocol is IpProtocol.TCP
        and flow.port == policy.limits.smtp_port
        and not policy.smtp_unblocked
        and flow.from_internet()
    ):
        return Decision(
            RulePolicy.DROP,
            PLATFORM_SMTP,
            "platform: TCP 25 egress blocked (apply for the port 25 unblock)",
        )
    if (
        not flow.ipv6
        and flow.peer in policy.inner_accept
        and (policy.network_type is NetworkType.VPC or flow.nic_type is NicType.INTRANET)
    ):
        return Decision(RulePolicy.ACCEPT, INNER_ACCEPT, "same group (InnerAccessPolicy Accept)")
    return None


def decision_from_rule(policy: NicPolicy, flow: Flow, best: ResolvedRule | None) -> Decision:
    """What `best`, the strongest rule matching `flow`, decides (None: no rule matches, the
    direction's default decides)."""
    notes: tuple[str, ...] = ()
    if (
        flow.direction is Direction.INGRESS
        and flow.protocol in PORTED_PROTOCOLS
        and flow.port in policy.limits.carrier_blocked_ports
    ):
        notes = (
            f"some carriers block port {flow.port}; it may be unreachable from parts of the "
            "internet",
        )
    if best is None:
        if flow.direction is Direction.INGRESS:
            return Decision(
                RulePolicy.DROP,
                DEFAULT_INGRESS_DROP,
                "default ingress drop (no rule matches)",
                notes=notes,
            )
        if policy.egress_default is RulePolicy.ACCEPT:
            return Decision(
                RulePolicy.ACCEPT, DEFAULT_EGRESS_ACCEPT, "default egress accept (no rule matches)"
            )
        return Decision(
            RulePolicy.DROP, DEFAULT_EGRESS_DROP, "default egress drop (enterprise groups)"
        )
    rule = best.rule
    system = rule.priority > policy.limits.priority_max
    kind = SYSTEM_RULE if system else RULE
    prefix = f"priority {rule.priority} system rule" if system else "rule"
    verdict_notes = notes if rule.policy is RulePolicy.ACCEPT else ()
    return Decision(
        rule.policy,
        kind,
        f"{prefix} {rule.describe()} in {best.group_id}",
        rule,
        best.group_id,
        verdict_notes,
    )


def _matches(r: ResolvedRule, flow: Flow, port: int, peer: int) -> bool:
    rule = r.rule
    if rule.direction is not flow.direction:
        return False
    if r.nic_type is not None and r.nic_type is not flow.nic_type:
        return False
    if rule.ip_protocol is not IpProtocol.ALL and rule.ip_protocol is not flow.protocol:
        return False
    if not r.port_lo <= port <= r.port_hi:
        return False
    if rule.source_port_range is not None and not source_port_matches(rule, flow.src_port):
        return False
    return any(lo <= peer <= hi for lo, hi in (r.peers6 if flow.ipv6 else r.peers))


def source_port_matches(rule: SecurityGroupRule, src_port: int) -> bool:
    """Does a rule with a SourcePortRange match a flow from `src_port` (0: not known, the
    sender's choice: an accept rule matches, a drop rule does not)?"""
    source = rule.source_port_range
    if source is None:
        return True
    if src_port == 0:
        return rule.policy is RulePolicy.ACCEPT
    return source.start <= src_port <= source.end


def naive_decide(policy: NicPolicy, flow: Flow) -> Decision:
    """The reference: scan every rule."""
    early = _before_rules(policy, flow)
    if early is not None:
        return early
    port, peer = flow.lookup_port, flow.peer
    best = None
    for r in policy.rules:
        if _matches(r, flow, port, peer) and (best is None or r.order < best.order):
            best = r
    return decision_from_rule(policy, flow, best)


# ------------------------------------------------------------------ compiled form


class AddressMap:
    """Elementary address intervals -> the strongest rule covering each (or None)."""

    __slots__ = ("starts", "best")

    def __init__(self, ordered: list[ResolvedRule]) -> None:
        cuts = {0}
        for r in ordered:
            for lo, hi in r.peers:
                cuts.add(lo)
                if hi < 0xFFFFFFFF:
                    cuts.add(hi + 1)
        starts = sorted(cuts)
        index = {s: i for i, s in enumerate(starts)}
        n = len(starts)
        best: list[ResolvedRule | None] = [None] * n
        nxt = list(range(n + 1))  # next unassigned slot (path-halving skip list)

        def find(i: int) -> int:
            while nxt[i] != i:
                nxt[i] = nxt[nxt[i]]
                i = nxt[i]
            return i

        for r in ordered:
            for lo, hi in r.peers:
                end = index[hi + 1] if hi < 0xFFFFFFFF else n
                i = find(index[lo])
                while i < end:
                    best[i] = r
                    nxt[i] = i + 1
                    i = find(i + 1)
        # Merge neighbours with the same winner: fewer, larger intervals.
        self.starts: list[int] = []
        self.best: list[ResolvedRule | None] = []
        for s, b in zip(starts, best, strict=False):
            if self.best and self.best[-1] is b:
                continue
            self.starts.append(s)
            self.best.append(b)

    def lookup(self, address: int) -> ResolvedRule | None:
        return self.best[bisect_right(self.starts, address) - 1]

    def pieces(self) -> list[tuple[int, int, ResolvedRule | None]]:
        ends = self.starts[1:] + [0x100000000]
        return [(s, e - 1, b) for s, e, b in zip(self.starts, ends, self.best, strict=False)]


class PortTable:
    """Rules of one (direction, NIC type, protocol) in decision order, with elementary port
    segments; each segment gets the `AddressMap` of the rules covering it on first use
    (shared between segments covered by the same rules)."""

    def __init__(self, rules: list[ResolvedRule]) -> None:
        self.ordered = sorted(rules, key=lambda r: r.order)
        cuts = {0}
        for r in self.ordered:
            cuts.add(r.port_lo)
            if r.port_hi < 65535:
                cuts.add(r.port_hi + 1)
        self.starts = sorted(cuts)
        self.ends = self.starts[1:] + [65536]
        self.maps: list[AddressMap | None] = [None] * len(self.starts)
        self._shared: dict[tuple[int, ...], AddressMap] = {}

    def covering(self, seg: int) -> list[ResolvedRule]:
        s, e = self.starts[seg], self.ends[seg] - 1
        return [r for r in self.ordered if r.port_lo <= s and e <= r.port_hi]

    def segment(self, port: int) -> int:
        return bisect_right(self.starts, port) - 1

    def address_map(self, seg: int) -> AddressMap:
        m = self.maps[seg]
        if m is None:
            rules = self.covering(seg)
            key = tuple(r.index for r in rules)
            m = self._shared.get(key)
            if m is None:
                m = self._shared[key] = AddressMap(rules)
            self.maps[seg] = m
        return m

    def lookup(self, port: int, address: int) -> ResolvedRule | None:
        seg = bisect_right(self.starts, port) - 1
        m = self.maps[seg] or self.address_map(seg)
        return m.lookup(address)

    def segments(self) -> list[tuple[int, int, AddressMap]]:
        bounds = zip(self.starts, self.ends, strict=True)
        return [(s, e - 1, self.address_map(i)) for i, (s, e) in enumerate(bounds)]


FLOW_PROTOCOLS = (
    IpProtocol.TCP,
    IpProtocol.UDP,
    IpProtocol.ICMP,
    IpProtocol.GRE,
    IpProtocol.ICMPV6,
)


class CompiledPolicy:
    """`decide(flow)` without scanning rules."""

    def __init__(self, policy: NicPolicy) -> None:
        self.policy = policy
        nic_types: tuple[NicType | None, ...] = (
            (NicType.INTRANET, NicType.INTERNET)
            if policy.network_type is NetworkType.CLASSIC
            else (None,)
        )
        grouped: dict[tuple, list[ResolvedRule]] = {}
        # The tables hold what a flow of an unknown source port meets (`source_port_matches`):
        # no drop rule limited to some source ports. A flow from a known source port is
        # decided by the scan when such rules exist (rare; the tables stay as fast).
        self._source_ports = any(r.rule.source_port_range is not None for r in policy.rules)
        for r in policy.rules:
            if not source_port_matches(r.rule, 0):
                continue
            protocols = (
                FLOW_PROTOCOLS if r.rule.ip_protocol is IpProtocol.ALL else (r.rule.ip_protocol,)
            )
            for nt in nic_types:
                if r.nic_type is not None and r.nic_type is not nt:
                    continue
                for p in protocols:
                    grouped.setdefault((r.rule.direction, nt, p), []).append(r)
        self._classic = policy.network_type is NetworkType.CLASSIC
        self.tables: dict[tuple, PortTable] = {k: PortTable(v) for k, v in grouped.items()}
        self._decisions: dict[tuple, Decision] = {}

    def table(
        self, direction: Direction, protocol: IpProtocol, nic_type: NicType | None
    ) -> PortTable | None:
        return self.tables.get((direction, nic_type if self._classic else None, protocol))

    def decide(self, flow: Flow) -> Decision:
        policy = self.policy
        if flow.ipv6 or (self._source_ports and flow.src_port):
            # IPv6 flows (the tables are IPv4's; IPv6 rules are few) and flows from a known
            # source port when rules are limited to some: the scan
            return naive_decide(policy, flow)
        peer = flow.src if flow.direction is Direction.INGRESS else flow.dst
        if (
            (flow.direction is Direction.EGRESS and flow.port == policy.limits.smtp_port)
            or peer in policy.inner_accept
            or policy.black_holed
        ):
            early = _before_rules(policy, flow)
            if early is not None:
                return early
        table = self.tables.get(
            (flow.direction, flow.nic_type if self._classic else None, flow.protocol)
        )
        best = (
            table.lookup(flow.port if flow.protocol in PORTED_PROTOCOLS else 0, peer)
            if table
            else None
        )
        # Decisions depend only on the rule, the direction and whether a carrier note applies.
        key = (
            best.index if best else -1,
            flow.direction,
            flow.protocol in PORTED_PROTOCOLS and flow.port in policy.limits.carrier_blocked_ports,
        )
        hit = self._decisions.get(key)
        if hit is None or key[2]:
            hit = decision_from_rule(policy, flow, best)
            if not key[2]:
                self._decisions[key] = hit
        return hit


def compile_nic(
    model, instance_id: str, nic_id: str | None = None, black_holed: bool = False
) -> CompiledPolicy:
    return CompiledPolicy(resolve_nic_policy(model, instance_id, nic_id, black_holed=black_holed))


# ------------------------------------------------------------------ statefulness


class SessionTable:
    """Connection tracking: once a flow is allowed, replies to it pass in the other direction
    for as long as the session is used, at most `timeout_s` (910 s) after its last packet.
    Pure: the caller passes `now` (seconds on any monotonic scale)."""

    def __init__(self, timeout_s: float = DEFAULT_LIMITS.session_timeout_s) -> None:
        self.timeout_s = timeout_s
        self._last_seen: dict[tuple, float] = {}

    @staticmethod
    def _key(flow: Flow) -> tuple:
        # (protocol, local address, local port, remote address, remote port)
        if flow.direction is Direction.INGRESS:
            return (flow.protocol, flow.dst, flow.port, flow.src, flow.src_port)
        return (flow.protocol, flow.src, flow.src_port, flow.dst, flow.port)

    def open(self, flow: Flow, now: float) -> None:
        self._last_seen[(flow.direction,) + self._key(flow)] = now

    def in_session(self, flow: Flow, now: float) -> bool:
        """Does `flow` belong to a live session (its reply, or more of the same), opened by a
        flow allowed in either direction? Using a session keeps it alive."""
        base = self._key(flow)
        for direction in (Direction.INGRESS, Direction.EGRESS):
            key = (direction,) + base
            seen = self._last_seen.get(key)
            if seen is None:
                continue
            if now - seen > self.timeout_s:
                del self._last_seen[key]
                continue
            self._last_seen[key] = now
            return True
        return False

    def expire(self, now: float) -> int:
        dead = [k for k, t in self._last_seen.items() if now - t > self.timeout_s]
        for k in dead:
            del self._last_seen[k]
        return len(dead)

    def __len__(self) -> int:
        return len(self._last_seen)


def decide_stateful(
    engine: CompiledPolicy, flow: Flow, sessions: SessionTable, now: float
) -> Decision:
    dropped = black_hole(engine.policy, flow)  # drops established sessions too
    if dropped is not None:
        return dropped
    if sessions.in_session(flow, now):
        return Decision(RulePolicy.ACCEPT, SESSION, "part of an allowed session (stateful)")
    decision = engine.decide(flow)
    if decision.allowed:
        sessions.open(flow, now)
    return decision
