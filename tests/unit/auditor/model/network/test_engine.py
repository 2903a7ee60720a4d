"""The engine: compiled `decide` equals the naive scan on random rule sets and flows, and the
semantics the ECS security guide gives (priority, drop on ties, defaults, same-group,
statefulness, SMTP)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import (
    DEFAULT_EGRESS_DROP,
    INNER_ACCEPT,
    PLATFORM_SMTP,
    SESSION,
    CompiledPolicy,
    Flow,
    NicPolicy,
    SessionTable,
    compile_nic,
    decide_stateful,
    naive_decide,
    resolve_rule,
)
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NetworkType,
    NicType,
    PortRange,
    RulePolicy,
    RuleRequest,
    SecurityGroupRule,
)

from .conftest import NOW

ADDRS = [
    "0.0.0.0",
    "10.0.0.0",
    "10.1.0.0",
    "10.1.2.0",
    "10.1.2.3",
    "172.16.0.5",
    "8.8.8.8",
    "1.2.3.4",
    "255.255.255.255",
]


@st.composite
def rules(draw, network: NetworkType):
    proto = draw(st.sampled_from(list(IpProtocol)))
    if proto in (IpProtocol.TCP, IpProtocol.UDP):
        lo = draw(st.sampled_from([1, 20, 22, 80, 443, 1000, 65535]))
        hi = draw(st.sampled_from([lo, lo, min(65535, lo + 1), min(65535, lo + 100), 65535]))
        ports = PortRange(lo, max(lo, hi))
    else:
        ports = PortRange(-1, -1)
    base = ipv4.parse_ip(draw(st.sampled_from(ADDRS)))
    length = draw(st.sampled_from([0, 8, 16, 24, 30, 32]))
    lo, _ = ipv4.cidr_interval(base, length)
    return SecurityGroupRule(
        "",
        draw(st.sampled_from(list(Direction))),
        draw(st.sampled_from(list(RulePolicy))),
        proto,
        ports,
        draw(st.sampled_from([1, 1, 2, 5, 50, 100, 110])),
        draw(st.sampled_from(list(NicType)))
        if network is NetworkType.CLASSIC
        else NicType.INTRANET,
        peer_cidr=ipv4.format_cidr(lo, length),
    )


@st.composite
def policies(draw):
    network = draw(st.sampled_from(list(NetworkType)))
    drawn = draw(st.lists(rules(network), max_size=40))
    resolved = tuple(
        resolve_rule(
            i,
            SecurityGroupRule(**{**r.__dict__, "rule_id": f"sgr-{i}"}),
            f"sg-{i % 3}",
            network,
            {},
        )
        for i, r in enumerate(drawn)
    )
    inner = frozenset(ipv4.parse_ip(a) for a in draw(st.lists(st.sampled_from(ADDRS), max_size=2)))
    return NicPolicy(
        resolved, network, inner, draw(st.sampled_from(list(RulePolicy))), draw(st.booleans())
    )


@st.composite
def flows(draw):
    proto = draw(st.sampled_from([p for p in IpProtocol if p is not IpProtocol.ALL]))
    port = (
        draw(st.sampled_from([0, 1, 21, 22, 23, 25, 80, 81, 443, 999, 1000, 1100, 65535]))
        if proto in (IpProtocol.TCP, IpProtocol.UDP)
        else 0
    )

    def addr():
        return draw(
            st.one_of(st.sampled_from(ADDRS), st.integers(0, 2**32 - 1).map(ipv4.format_ip))
        )

    return Flow(
        draw(st.sampled_from(list(Direction))),
        proto,
        addr(),
        addr(),
        port,
        draw(st.sampled_from(list(NicType))),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), batch=st.lists(flows(), min_size=1, max_size=30))
def test_compiled_decide_equals_naive_decide(policy, batch):
    engine = CompiledPolicy(policy)
    for flow in batch:
        assert engine.decide(flow) == naive_decide(policy, flow), flow


def _one(rule_specs, network=NetworkType.VPC, **kw):
    resolved = tuple(resolve_rule(i, r, "sg-a", network, {}) for i, r in enumerate(rule_specs))
    return CompiledPolicy(NicPolicy(resolved, network, **kw))


def _rule(
    policy,
    priority,
    cidr="0.0.0.0/0",
    proto=IpProtocol.TCP,
    ports=None,
    direction=Direction.INGRESS,
    rid="r",
):
    ports = ports or PortRange(22, 22)
    return SecurityGroupRule(
        rid, direction, policy, proto, ports, priority, NicType.INTRANET, peer_cidr=cidr
    )


IN22 = Flow(Direction.INGRESS, IpProtocol.TCP, "1.2.3.4", "172.16.0.5", 22)


def test_smaller_priority_wins_regardless_of_policy():
    e = _one([_rule(RulePolicy.DROP, 2, rid="d"), _rule(RulePolicy.ACCEPT, 1, rid="a")])
    assert e.decide(IN22).rule.rule_id == "a"
    e = _one([_rule(RulePolicy.ACCEPT, 2, rid="a"), _rule(RulePolicy.DROP, 1, rid="d")])
    assert e.decide(IN22).rule.rule_id == "d"


def test_drop_wins_on_equal_priority():
    e = _one([_rule(RulePolicy.ACCEPT, 1, rid="a"), _rule(RulePolicy.DROP, 1, rid="d")])
    assert not e.decide(IN22).allowed


def test_defaults_and_enterprise_egress_setting():
    e = _one([])
    assert not e.decide(IN22).allowed
    out = Flow(Direction.EGRESS, IpProtocol.UDP, "172.16.0.5", "8.8.8.8", 53)
    assert e.decide(out).allowed
    e = _one([], egress_default=RulePolicy.DROP)
    assert e.decide(out).kind == DEFAULT_EGRESS_DROP


def test_enterprise_egress_default_follows_the_setting(fleet):
    vpc = fleet.vpc()
    ent = fleet.group(vpc_id=vpc, group_type="enterprise")
    i = fleet.instance([ent], vpc_id=vpc)
    out = Flow(Direction.EGRESS, IpProtocol.UDP, fleet.ip(i), "8.8.8.8", 53)
    # the ECS security guide: enterprise groups allow egress by default
    assert compile_nic(fleet.model, i).decide(out).allowed
    fleet.model.limits = Limits(enterprise_egress_default_accept=False)
    assert not compile_nic(fleet.model, i).decide(out).allowed


def test_smtp_egress_blocked_unless_unblocked(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc)
    m.authorize(g, RuleRequest("egress", "tcp", "25/25", peer_cidr="0.0.0.0/0"), NOW)
    out = Flow(Direction.EGRESS, IpProtocol.TCP, fleet.ip(i), "8.8.8.8", 25)
    assert compile_nic(m, i).decide(out).kind == PLATFORM_SMTP
    private = Flow(Direction.EGRESS, IpProtocol.TCP, fleet.ip(i), "172.16.9.9", 25)
    assert compile_nic(m, i).decide(private).allowed
    m.set_smtp_unblocked(i)
    assert compile_nic(m, i).decide(out).allowed


def test_carrier_blocked_ports_are_a_note():
    e = _one([_rule(RulePolicy.ACCEPT, 1, ports=PortRange(445, 445))])
    d = e.decide(Flow(Direction.INGRESS, IpProtocol.TCP, "1.2.3.4", "172.16.0.5", 445))
    assert d.allowed and "445" in d.notes[0]


def test_inner_access_policy(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    a, b = fleet.instance([g], vpc_id=vpc), fleet.instance([g], vpc_id=vpc)
    m.authorize(
        g, RuleRequest("ingress", "all", "-1/-1", peer_cidr="0.0.0.0/0", policy="drop"), NOW
    )
    flow = Flow(Direction.INGRESS, IpProtocol.TCP, fleet.ip(a), fleet.ip(b), 5432)
    assert compile_nic(m, b).decide(flow).kind == INNER_ACCEPT  # Accept overrides user rules
    m.modify_security_group_policy(g, "Drop")
    assert not compile_nic(m, b).decide(flow).allowed
    m.revoke(g, m.groups[g].rules[0].rule_id)
    assert not compile_nic(m, b).decide(flow).allowed  # Drop: isolated by default
    m.authorize(g, RuleRequest("ingress", "tcp", "5432/5432", peer_group_id=g), NOW)
    d = compile_nic(m, b).decide(flow)
    assert d.allowed and d.rule.peer_group_id == g  # a rule authorising the group re-opens it


def test_enterprise_members_not_connected_by_default(fleet):
    vpc = fleet.vpc()
    ent = fleet.group(vpc_id=vpc, group_type="enterprise")
    a, b = fleet.instance([ent], vpc_id=vpc), fleet.instance([ent], vpc_id=vpc)
    flow = Flow(Direction.INGRESS, IpProtocol.TCP, fleet.ip(a), fleet.ip(b), 22)
    assert not compile_nic(fleet.model, b).decide(flow).allowed


def test_classic_distinguishes_nic_types_vpc_does_not():
    rule = SecurityGroupRule(
        "r",
        Direction.INGRESS,
        RulePolicy.ACCEPT,
        IpProtocol.TCP,
        PortRange(80, 80),
        1,
        NicType.INTERNET,
        peer_cidr="0.0.0.0/0",
    )
    classic = _one([rule], NetworkType.CLASSIC)
    vpc = _one([rule], NetworkType.VPC)
    for nic_type, expect in ((NicType.INTERNET, True), (NicType.INTRANET, False)):
        f = Flow(Direction.INGRESS, IpProtocol.TCP, "8.8.8.8", "10.0.0.1", 80, nic_type)
        assert classic.decide(f).allowed is expect
        assert vpc.decide(f).allowed


def test_sessions_let_replies_through_for_910_seconds():
    e = _one([])  # ingress default drop, egress default accept
    sessions = SessionTable()
    out = Flow(Direction.EGRESS, IpProtocol.TCP, "172.16.0.5", "8.8.8.8", 443, src_port=40000)
    reply = Flow(Direction.INGRESS, IpProtocol.TCP, "8.8.8.8", "172.16.0.5", 40000, src_port=443)
    assert not decide_stateful(e, reply, sessions, 0.0).allowed  # no session yet
    assert decide_stateful(e, out, sessions, 0.0).allowed
    assert decide_stateful(e, reply, sessions, 900.0).kind == SESSION
    assert decide_stateful(e, reply, sessions, 1810.0).kind == SESSION  # kept alive by use
    assert not decide_stateful(e, reply, sessions, 2721.0).allowed  # idle > 910 s
    assert sessions.expire(10_000.0) >= 0


def test_ingress_allowed_flow_opens_a_session_for_its_replies():
    e = _one([_rule(RulePolicy.ACCEPT, 1)], egress_default=RulePolicy.DROP)
    sessions = SessionTable()
    inbound = Flow(Direction.INGRESS, IpProtocol.TCP, "1.2.3.4", "172.16.0.5", 22, src_port=50000)
    reply = Flow(Direction.EGRESS, IpProtocol.TCP, "172.16.0.5", "1.2.3.4", 50000, src_port=22)
    assert not e.decide(reply).allowed
    assert decide_stateful(e, inbound, sessions, 0).allowed
    assert decide_stateful(e, reply, sessions, 1).allowed


def test_group_authorisation_matches_member_private_ips(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    ga, gb = fleet.group(vpc_id=vpc), fleet.group(vpc_id=vpc)
    a = fleet.instance([ga], vpc_id=vpc, public_ip="47.0.0.1")
    b = fleet.instance([gb], vpc_id=vpc)
    m.authorize(gb, RuleRequest("ingress", "tcp", "80/80", peer_group_id=ga), NOW)
    e = compile_nic(m, b)
    assert e.decide(Flow(Direction.INGRESS, IpProtocol.TCP, fleet.ip(a), fleet.ip(b), 80)).allowed
    assert not e.decide(
        Flow(Direction.INGRESS, IpProtocol.TCP, "47.0.0.1", fleet.ip(b), 80)
    ).allowed
    assert datetime  # keep import
