"""SourcePortRange (issue 20) in the engine: a rule limited to some source ports matches a
flow from one of them; for a flow whose source port is not known (explain, exposure) it
decides as a sender could make it: an accept rule lets it in (any sender picks its source
port), a drop rule does not stop it. Compiled and naive decisions stay equal; nftables renders
`sport`."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.network.engine import (
    CompiledPolicy,
    Flow,
    NicPolicy,
    naive_decide,
    resolve_rule,
)
from palisade.auditor.model.network.nft_render import render_policy_nft
from palisade.auditor.model.network.rule_analysis import SHADOWED, analyze_rule_set
from palisade.auditor.model.network.security_group import (
    PORTED_PROTOCOLS,
    Direction,
    IpProtocol,
    NetworkType,
    NicType,
    PortRange,
    RulePolicy,
    SecurityGroupRule,
    parse_source_port_range,
)

from .test_engine import flows, rules

SOURCE_RANGES = [None, PortRange(1024, 65535), PortRange(53, 53), PortRange(1, 1023)]


@st.composite
def source_limited_policies(draw):
    network = draw(st.sampled_from(list(NetworkType)))
    drawn = []
    for i, r in enumerate(draw(st.lists(rules(network), max_size=30))):
        source = draw(st.sampled_from(SOURCE_RANGES)) if r.ip_protocol in PORTED_PROTOCOLS else None
        drawn.append(replace(r, rule_id=f"sgr-{i}", source_port_range=source))
    resolved = tuple(resolve_rule(i, r, "sg-a", network, {}) for i, r in enumerate(drawn))
    return NicPolicy(resolved, network, frozenset(), draw(st.sampled_from(list(RulePolicy))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=source_limited_policies(),
    batch=st.lists(flows(), min_size=1, max_size=20),
    src_ports=st.lists(st.sampled_from([0, 0, 53, 80, 1023, 1024, 40000]), min_size=20),
)
def test_compiled_equals_naive_with_source_ports(policy, batch, src_ports):
    engine = CompiledPolicy(policy)
    for flow, src_port in zip(batch, src_ports, strict=False):
        flow = replace(flow, src_port=src_port)
        assert engine.decide(flow) == naive_decide(policy, flow), flow


def _rule(policy, priority, source, rid):
    return SecurityGroupRule(
        rid,
        Direction.INGRESS,
        policy,
        IpProtocol.TCP,
        PortRange(22, 22),
        priority,
        NicType.INTRANET,
        peer_cidr="0.0.0.0/0",
        source_port_range=source,
    )


def _policy(*rs):
    resolved = (resolve_rule(i, r, "sg-a", NetworkType.VPC, {}) for i, r in enumerate(rs))
    return NicPolicy(tuple(resolved))


def _flow(src_port):
    return Flow(Direction.INGRESS, IpProtocol.TCP, "1.2.3.4", "172.16.0.5", 22, src_port=src_port)


def test_an_accept_rule_limited_to_source_ports():
    engine = CompiledPolicy(_policy(_rule(RulePolicy.ACCEPT, 1, PortRange(1024, 65535), "a")))
    assert engine.decide(_flow(40000)).allowed
    assert not engine.decide(_flow(80)).allowed  # the VPC default: ingress dropped
    assert engine.decide(_flow(0)).allowed  # not known: the sender may pick 40000


def test_a_drop_rule_limited_to_source_ports_does_not_protect_an_unknown_source_port():
    policy = _policy(
        _rule(RulePolicy.DROP, 1, PortRange(1, 1023), "d"),
        _rule(RulePolicy.ACCEPT, 2, None, "a"),
    )
    engine = CompiledPolicy(policy)
    assert engine.decide(_flow(80)).rule.rule_id == "d"
    assert engine.decide(_flow(40000)).rule.rule_id == "a"
    assert engine.decide(_flow(0)).rule.rule_id == "a"


def test_a_rule_limited_to_source_ports_shadows_only_what_it_covers():
    wide = _rule(RulePolicy.ACCEPT, 1, None, "wide")
    narrow = _rule(RulePolicy.ACCEPT, 2, PortRange(1024, 2048), "narrow")
    resolved = [
        resolve_rule(i, r, "sg-a", NetworkType.VPC, {}) for i, r in enumerate([wide, narrow])
    ]
    assert any(f.kind == SHADOWED and "narrow" in f.rule_ids for f in analyze_rule_set(resolved))
    resolved = [
        resolve_rule(i, r, "sg-a", NetworkType.VPC, {})
        for i, r in enumerate([replace(narrow, priority=1), replace(wide, priority=2)])
    ]
    assert not any(f.kind == SHADOWED and "wide" in f.rule_ids for f in analyze_rule_set(resolved))


def test_nftables_renders_the_source_ports():
    text = render_policy_nft(_policy(_rule(RulePolicy.ACCEPT, 1, PortRange(1024, 65535), "a")))
    assert "tcp sport 1024-65535 tcp dport 22 accept" in text


def test_source_port_range_parsing():
    assert parse_source_port_range("", IpProtocol.TCP) is None
    assert parse_source_port_range("-1/-1", IpProtocol.UDP) is None
    assert parse_source_port_range("53/53", IpProtocol.UDP) == PortRange(53, 53)
    for bad, proto in (("0/10", IpProtocol.TCP), ("1/2", IpProtocol.ICMP), ("x", IpProtocol.TCP)):
        try:
            parse_source_port_range(bad, proto)
        except Exception as err:
            assert getattr(err, "code", "") == "InvalidSourcePortRange.Malformed"
            assert "SourcePortRange" in str(err)
        else:
            raise AssertionError(bad)
