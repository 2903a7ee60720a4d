"""IPv6 rules (issue 20: Ipv6SourceCidrIp / Ipv6DestCidrIp): the engine decides IPv6 flows by
the IPv6 rules only (an IPv4 rule never matches one, an IPv6 rule never an IPv4 flow), the
compiled policy equals the scan, the black hole and the SMTP block cover the IPv6 internet,
explain answers per piece of an IPv6 block, nftables renders `ip6`."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import (
    BLACK_HOLE,
    CompiledPolicy,
    Flow,
    NicPolicy,
    naive_decide,
    resolve_rule,
)
from palisade.auditor.model.network.nft_render import render_policy_nft
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NetworkType,
    NicType,
    PortRange,
    RulePolicy,
    SecurityGroupRule,
)

from .test_engine import flows, rules

V6_BLOCKS = ["::/0", "2001:db8::/32", "2001:db8:1::/48", "2400:3200::1/128", "fd00::/8"]
V6_ADDRS = ["2001:db8::1", "2001:db8:1::5", "2400:3200::1", "fd00::1", "fe80::1", "::1", "::a00:1"]


@st.composite
def mixed_policies(draw):
    drawn = []
    for i, r in enumerate(draw(st.lists(rules(NetworkType.VPC), max_size=30))):
        if draw(st.booleans()):
            r = replace(r, peer_cidr=None, peer_ipv6_cidr=draw(st.sampled_from(V6_BLOCKS)))
        drawn.append(replace(r, rule_id=f"sgr-{i}"))
    resolved = tuple(resolve_rule(i, r, "sg-a", NetworkType.VPC, {}) for i, r in enumerate(drawn))
    inner = frozenset({ipv4.parse_ip("10.0.0.1") or 0})  # == ::a00:1 as an int: must not match
    return NicPolicy(
        resolved,
        NetworkType.VPC,
        inner,
        draw(st.sampled_from(list(RulePolicy))),
        black_holed=draw(st.booleans()),
    )


@st.composite
def v6_flows(draw):
    flow = draw(flows())
    return Flow(
        flow.direction,
        flow.protocol,
        draw(st.sampled_from(V6_ADDRS)),
        draw(st.sampled_from(V6_ADDRS)),
        flow.port,
        NicType.INTRANET,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=mixed_policies(), batch=st.lists(st.one_of(flows(), v6_flows()), max_size=20))
def test_compiled_equals_naive_with_ipv6_rules_and_flows(policy, batch):
    engine = CompiledPolicy(policy)
    for flow in batch:
        decision = engine.decide(flow)
        assert decision == naive_decide(policy, flow), flow
        if decision.rule is not None:  # a rule of the flow's family decided
            assert (decision.rule.peer_ipv6_cidr is not None) == flow.ipv6


def _rule(policy, priority, v6, rid, direction=Direction.INGRESS, port=22):
    return SecurityGroupRule(
        rid,
        direction,
        policy,
        IpProtocol.TCP,
        PortRange(port, port),
        priority,
        NicType.INTRANET,
        peer_ipv6_cidr=v6,
    )


def _policy(*rs, **kw):
    resolved = tuple(resolve_rule(i, r, "sg-a", NetworkType.VPC, {}) for i, r in enumerate(rs))
    return NicPolicy(resolved, NetworkType.VPC, **kw)


def _in(src, port=22):
    return Flow(Direction.INGRESS, IpProtocol.TCP, src, "2001:db8:ffff::10", port)


def test_ipv6_rules_decide_ipv6_flows_only():
    engine = CompiledPolicy(
        _policy(
            _rule(RulePolicy.DROP, 1, "2001:db8:1::/48", "drop"),
            _rule(RulePolicy.ACCEPT, 2, "2001:db8::/32", "office"),
        )
    )
    assert engine.decide(_in("2001:db8:2::1")).rule.rule_id == "office"
    assert engine.decide(_in("2001:db8:1::1")).rule.rule_id == "drop"
    assert not engine.decide(_in("2400:3200::1")).allowed  # the default
    v4 = Flow(Direction.INGRESS, IpProtocol.TCP, "32.1.13.184", "10.0.0.5", 22)
    assert engine.decide(v4).rule is None


def test_the_black_hole_and_the_smtp_block_cover_the_ipv6_internet():
    accept = _rule(RulePolicy.ACCEPT, 1, "::/0", "all")
    engine = CompiledPolicy(_policy(accept, black_holed=True))
    assert engine.decide(_in("2400:3200::1")).kind == BLACK_HOLE
    assert engine.decide(_in("fd00::1")).allowed  # unique-local: not the internet
    out = Flow(Direction.EGRESS, IpProtocol.TCP, "2001:db8:ffff::10", "2400:3200::1", 25)
    assert not CompiledPolicy(_policy()).decide(out).allowed


def test_nftables_renders_ipv6_rules_in_the_inet_table():
    text = render_policy_nft(_policy(_rule(RulePolicy.ACCEPT, 1, "2001:db8::/32", "a")))
    assert "table inet" in text
    assert "ip6 saddr 2001:db8::/32 tcp dport 22 accept" in text
