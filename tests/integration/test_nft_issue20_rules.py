"""Rules limited to source ports (SourcePortRange) and IPv6 rules (Ipv6SourceCidrIp /
Ipv6DestCidrIp), issue 20, as RenderNftables writes them are accepted by real nftables: the
ruleset (black-holed: the IPv6 internet's drop too) loads in a network namespace and the
kernel lists the `sport` and `ip6` matches back."""

from __future__ import annotations

import pytest

from palisade.auditor.model.network.engine import NicPolicy, resolve_rule
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
from tests.helpers.network_namespaces import Lab
from tests.helpers.system import require_binary, require_root

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]


def test_the_kernel_takes_source_port_and_ipv6_rules():
    require_root()
    nft = require_binary("nft")
    rules = [
        SecurityGroupRule(
            "sgr-src",
            Direction.INGRESS,
            RulePolicy.ACCEPT,
            IpProtocol.TCP,
            PortRange(22, 22),
            1,
            NicType.INTRANET,
            peer_cidr="10.0.0.0/8",
            source_port_range=PortRange(1024, 65535),
        ),
        SecurityGroupRule(
            "sgr-ntp",
            Direction.EGRESS,
            RulePolicy.DROP,
            IpProtocol.UDP,
            PortRange(123, 123),
            2,
            NicType.INTRANET,
            peer_cidr="0.0.0.0/0",
            source_port_range=PortRange(123, 123),
        ),
        SecurityGroupRule(
            "sgr-v6",
            Direction.INGRESS,
            RulePolicy.ACCEPT,
            IpProtocol.TCP,
            PortRange(443, 443),
            1,
            NicType.INTRANET,
            peer_ipv6_cidr="2001:db8::/32",
        ),
    ]
    policy = NicPolicy(
        tuple(resolve_rule(i, r, "sg-a", NetworkType.VPC, {}) for i, r in enumerate(rules)),
        black_holed=True,
    )
    ruleset = render_policy_nft(policy)
    with Lab("nftsport") as lab:
        ns = lab.namespace("inst")
        ns.run(nft, "-f", "-", input="flush ruleset\n" + ruleset)
        listed = ns.run(nft, "list", "ruleset").stdout
    assert "tcp sport 1024-65535 tcp dport 22 accept" in listed, listed
    assert "udp sport 123 udp dport 123 drop" in listed, listed
    assert "ip6 saddr 2001:db8::/32 tcp dport 443 accept" in listed, listed
    assert "ip6 saddr 2000::/3 drop" in listed, listed
    assert "ip6 daddr 2000::/3 tcp dport 25 drop" in listed, listed
