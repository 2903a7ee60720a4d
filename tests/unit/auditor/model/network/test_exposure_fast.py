"""`exposure` (the fleet-speed sweep) equals a naive computation of the same report: every
source address class decided by scanning every rule, for every port segment."""

from __future__ import annotations

import random
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import ResolvedRule, resolve_nic_policy
from palisade.auditor.model.network.exposure import ExposureReport, exposure, exposure_fleet
from palisade.auditor.model.network.exposure_index import ExposureEntry, ExposureIndex
from palisade.auditor.model.network.rule_sweep import deciding_rules
from palisade.auditor.model.network.security_group import (
    FLOW_PROTOCOLS,
    PORTED_PROTOCOLS,
    Direction,
    GroupType,
    InnerAccessPolicy,
    IpProtocol,
    NetworkType,
    NicType,
    RulePolicy,
    RuleRequest,
)

NOW = datetime(2024, 1, 1)
REGION = "cn-hangzhou"
SAME_GROUP = "same group (InnerAccessPolicy Accept)"

# ------------------------------------------------------------------ the naive oracle


def _winner(rules: list[ResolvedRule], port: int, address: int) -> ResolvedRule | None:
    """The deciding user rule for one source address and port: scan them all."""
    best = None
    for r in rules:
        if r.port_lo <= port <= r.port_hi and any(lo <= address <= hi for lo, hi in r.peers):
            if best is None or r.order < best.order:
                best = r
    return best


def _table(rules, protocol: IpProtocol, nic_type: NicType | None) -> list[ResolvedRule]:
    return [
        r
        for r in rules
        if r.rule.direction is Direction.INGRESS
        and r.rule.ip_protocol in (IpProtocol.ALL, protocol)
        and (nic_type is None or r.nic_type is None or r.nic_type is nic_type)
    ]


def _segments(rules: list[ResolvedRule]) -> list[tuple[int, int]]:
    cuts = {0} | {r.port_lo for r in rules} | {r.port_hi + 1 for r in rules if r.port_hi < 65535}
    starts = sorted(cuts)
    return list(zip(starts, [s - 1 for s in starts[1:]] + [65535], strict=True))


def _entries(protocol: IpProtocol, segs: list[tuple[int, int, frozenset]]) -> list:
    runs: list[tuple[int, int, frozenset]] = []
    for lo, hi, rules in segs:
        if rules and runs and runs[-1][2] == rules and runs[-1][1] + 1 == lo:
            runs[-1] = (runs[-1][0], hi, rules)
        elif rules:
            runs.append((lo, hi, rules))
    ported = protocol in PORTED_PROTOCOLS
    return [
        ExposureEntry(
            protocol,
            max(lo, 1) if ported else -1,
            hi if ported else -1,
            tuple(sorted(rules, key=lambda r: (r.strength, r.rule_id))),
        )
        for lo, hi, rules in runs
    ]


def _reached(rules, nic_type, sources: list[int]) -> list[ExposureEntry]:
    """Entries, protocol by protocol, for the ports some of `sources` reach."""
    out: list[ExposureEntry] = []
    for protocol in FLOW_PROTOCOLS:
        table = _table(rules, protocol, nic_type)
        if not table:
            continue
        segs = []
        for lo, hi in _segments(table):
            winners = (_winner(table, lo, x) for x in sources)
            accepted = frozenset(
                w.rule for w in winners if w is not None and w.rule.policy is RulePolicy.ACCEPT
            )
            segs.append((lo, hi, accepted))
        out += _entries(protocol, segs)
    return out


def _internet_points(rules: list[ResolvedRule]) -> list[int]:
    """One address per piece of the internet that every rule either wholly covers or misses."""
    cuts = {0}
    for lo, hi in [iv for r in rules for iv in r.peers] + ipv4.INTERNET_SPACE:
        cuts.update((lo, hi + 1))
    return [c for c in sorted(cuts) if c <= 0xFFFFFFFF and ipv4.is_internet(c)]


def _network(inst) -> tuple:
    if inst.network_type is NetworkType.VPC:
        return ("vpc", inst.vpc_id)
    return ("classic", inst.region_id)


def _inner_accept(group) -> bool:
    return (
        group.group_type is GroupType.NORMAL
        and group.inner_access_policy is InnerAccessPolicy.ACCEPT
    )


def naive_exposure(model, instance_id: str) -> ExposureReport:
    inst = model.get_instance(instance_id)
    nic = inst.primary_nic
    policy = resolve_nic_policy(model, instance_id)
    classic = inst.network_type is NetworkType.CLASSIC
    private_nt = NicType.INTRANET if classic else None
    internet: tuple = ()
    notes = []
    if nic.public_ip is None:
        notes.append("no public IP: not reachable from the internet")
    else:
        rules = list(policy.rules)
        nt = NicType.INTERNET if classic else None
        internet = tuple(_reached(rules, nt, _internet_points(rules)))
        for e in internet:
            if e.protocol in PORTED_PROTOCOLS:
                for p in sorted(model.limits.carrier_blocked_ports):
                    if e.port_lo <= p <= e.port_hi:
                        notes.append(
                            f"{e.protocol.value} {p} is open to the internet; "
                            "some carriers block it"
                        )
    member_ips = {
        g: [ipv4.parse_ip(ip) for ip in model.member_private_ips(g)] for g in model.groups
    }
    own = list(nic.security_group_ids)
    same_group: set[str] = set()
    for g in own:
        if _inner_accept(model.groups[g]):
            for _, n in model.members(g):
                same_group.update(n.security_group_ids)
    all_same = tuple(
        ExposureEntry(
            p,
            1 if p in PORTED_PROTOCOLS else -1,
            65535 if p in PORTED_PROTOCOLS else -1,
            (),
            (SAME_GROUP,),
        )
        for p in FLOW_PROTOCOLS
    )
    groups: dict[str, tuple] = {}
    for g in model.groups:
        if g in own:
            continue
        if g in same_group:
            groups[g] = all_same
            continue
        sources = sorted(
            {
                ipv4.parse_ip(ip)
                for other in model.instances.values()
                if _network(other) == _network(inst)
                for n in other.nics
                if g in n.security_group_ids
                for ip in n.private_ips
            }
            - policy.inner_accept
        )
        entries = _reached(list(policy.rules), private_nt, sources)
        if entries:
            groups[g] = tuple(entries)
    my_ips = {ipv4.parse_ip(ip) for ip in nic.private_ips}
    for g in own:
        if len(member_ips[g]) <= len(nic.private_ips):
            continue
        if g in same_group:
            groups[g] = all_same
            continue
        others = sorted(set(member_ips[g]) - my_ips)
        if others:
            groups[g] = tuple(_reached(list(policy.rules), private_nt, others))
    return ExposureReport(instance_id, internet, dict(sorted(groups.items())), tuple(notes))


# ------------------------------------------------------------------ random small fleets

CIDRS = [
    "0.0.0.0/0",
    "47.0.0.0/8",
    "47.0.0.1/32",
    "47.0.0.2/31",
    "8.8.8.8/32",
    "172.16.0.0/12",
    "172.16.0.0/29",
    "172.16.0.3/32",
    "192.168.0.0/16",
    "192.168.0.2/32",
    "10.100.0.0/16",
    "10.100.0.2/32",
    "10.100.0.4/30",
]
PORT_EDGES = [1, 2, 3, 5, 8, 22, 65535]


def random_fleet(seed: int) -> CloudModel:
    rng = random.Random(seed)
    model = CloudModel()
    model.add_account("1001")
    model.add_region(REGION)
    networks: list[str | None] = []
    if rng.random() < 0.8:
        networks.append(model.create_vpc("1001", REGION, "172.16.0.0/12").vpc_id)
    if rng.random() < 0.4:
        networks.append(model.create_vpc("1001", REGION, "192.168.0.0/16").vpc_id)
    if not networks or rng.random() < 0.3:
        networks.append(None)  # the classic network
    groups: list[tuple[str, str | None]] = []
    for _ in range(rng.randint(1, 5)):
        vpc = rng.choice(networks)
        kind = "enterprise" if rng.random() < 0.2 else "normal"
        inner = "Drop" if kind == "normal" and rng.random() < 0.4 else "Accept"
        try:
            g = model.create_security_group(
                "1001",
                REGION,
                now=NOW,
                vpc_id=vpc,
                network_type="vpc" if vpc else "classic",
                group_type=kind,
                inner_access_policy=inner,
            )
        except ModelError:
            continue
        groups.append((g.group_id, vpc))
    ids = [g for g, _ in groups]
    for gid, vpc in groups:
        for _ in range(rng.randint(0, 7)):
            proto = rng.choice(["tcp", "tcp", "udp", "icmp", "gre", "all"])
            if proto in ("tcp", "udp"):
                a, b = sorted(rng.sample(PORT_EDGES, 2))
                ports = f"{a}/{a if rng.random() < 0.3 else b}"
            else:
                ports = "-1/-1"
            peer: dict = (
                {"peer_group_id": rng.choice(ids)}
                if rng.random() < 0.3
                else {"peer_cidr": rng.choice(CIDRS)}
            )
            request = RuleRequest(
                "ingress" if rng.random() < 0.85 else "egress",
                proto,
                ports,
                policy="accept" if rng.random() < 0.7 else "drop",
                priority=rng.randint(1, 3),
                nic_type="internet" if vpc is None and rng.random() < 0.4 else "intranet",
                **peer,
            )
            try:
                model.authorize(gid, request, NOW)
            except ModelError:
                pass
    for n in range(rng.randint(1, 8)):
        vpc = rng.choice(networks)
        mine = [g for g, v in groups if v == vpc]
        if not mine:
            continue
        prefix = {None: "10.100.0."}.get(vpc) or (
            "172.16.0." if model.vpcs[vpc].cidr.startswith("172") else "192.168.0."
        )
        try:
            model.create_instance(
                "1001",
                REGION,
                created_at=NOW,
                vpc_id=vpc,
                network_type="vpc" if vpc else "classic",
                private_ips=[prefix + str(rng.randint(1, 6))],
                public_ip=f"47.0.0.{n + 1}" if rng.random() < 0.6 else None,
                security_group_ids=rng.sample(mine, rng.randint(1, min(3, len(mine)))),
            )
        except ModelError:
            continue
    return model


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_fleet_exposure_equals_the_naive_scan_on_random_small_fleets(seed):
    model = random_fleet(seed)
    fleet = exposure_fleet(model)
    assert set(fleet) == set(model.instances)
    for iid in model.instances:
        assert fleet[iid] == naive_exposure(model, iid), f"seed {seed}, instance {iid}"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_exposure_of_one_instance_equals_the_fleet_computation(seed):
    model = random_fleet(seed)
    index = ExposureIndex(model)
    for iid in model.instances:
        assert exposure(model, iid) == exposure(model, iid, index)


def test_random_fleets_exercise_every_path():
    """The generator reaches what the oracle compares: internet entries, other groups' rule
    entries, same-group access, isolated own groups and classic instances."""
    seen = set()
    for seed in range(300):
        model = random_fleet(seed)
        for iid, report in exposure_fleet(model).items():
            inst = model.instances[iid]
            own = set(inst.primary_nic.security_group_ids)
            if report.internet:
                seen.add("internet")
            if inst.network_type is NetworkType.CLASSIC and report.internet:
                seen.add("classic")
            for g, entries in report.groups.items():
                if any(e.rules for e in entries):
                    seen.add("own-isolated" if g in own else "other-group-rules")
                if any(SAME_GROUP in e.reasons for e in entries):
                    seen.add("same-group")
    assert seen == {
        "internet",
        "classic",
        "other-group-rules",
        "same-group",
        "own-isolated",
    }


# ------------------------------------------------------------------ the sweep on its own

_sweep_rule = st.tuples(
    st.sampled_from([0, 1, 2, 3, 5, 8, 65535]),
    st.sampled_from([0, 1, 2, 4, 7, 65534, 65535]),
    st.integers(min_value=0, max_value=15),  # classes matched (4 classes)
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_sweep_rule, max_size=8), st.integers(min_value=1, max_value=15))
def test_deciding_rules_equals_deciding_each_class_on_each_port(raw, everyone):
    ordered = [(lo, hi, m, accept, key) for key, (lo, hi, m, accept) in enumerate(raw) if lo <= hi]
    ranges = deciding_rules(ordered, everyone)
    assert ranges[0][0] == 0 and ranges[-1][1] == 65535
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    for port in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 65534, 65535]:
        expected: dict[int, int] = {}
        for c in range(4):
            if not everyone >> c & 1:
                continue
            for lo, hi, m, accept, key in ordered:  # the first covering rule decides
                if lo <= port <= hi and m >> c & 1:
                    if accept:
                        expected[key] = expected.get(key, 0) | 1 << c
                    break
        (found,) = [f for lo, hi, f in ranges if lo <= port <= hi]
        assert dict(found) == expected
        assert [k for k, _ in found] == sorted(expected)
