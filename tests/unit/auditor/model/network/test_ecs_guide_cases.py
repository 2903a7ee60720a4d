"""The ECS security guide's eight application cases (section 1.3) and the default/template
groups, each asserting the reachability the guide promises."""

from __future__ import annotations

from palisade.auditor.model.network.engine import (
    DEFAULT_INGRESS_DROP,
    INNER_ACCEPT,
    SYSTEM_RULE,
    Flow,
    compile_nic,
)
from palisade.auditor.model.network.reachability import reachable
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NicType,
    RuleRequest,
)

from .conftest import NOW

TCP, ICMP, UDP = IpProtocol.TCP, IpProtocol.ICMP, IpProtocol.UDP


def ingress(model, iid, src, proto, port=0, nic_type=NicType.INTRANET):
    inst = model.instances[iid]
    dst = (
        inst.primary_nic.public_ip
        if nic_type is NicType.INTERNET
        else inst.primary_nic.private_ips[0]
    )
    return compile_nic(model, iid).decide(Flow(Direction.INGRESS, proto, src, dst, port, nic_type))


def egress(model, iid, dst, proto, port=0, nic_type=NicType.INTRANET):
    src = model.instances[iid].primary_nic.private_ips[0]
    return compile_nic(model, iid).decide(Flow(Direction.EGRESS, proto, src, dst, port, nic_type))


def test_case1_same_account_same_group_reach_each_other_privately(fleet):
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    a, b = fleet.instance([g], vpc_id=vpc), fleet.instance([g], vpc_id=vpc)
    r = reachable(fleet.model, a, b, "tcp", 8080)
    assert r.reachable and r.paths[0].ingress.kind == INNER_ACCEPT


def test_case1_different_groups_isolated_until_a_group_rule_authorises(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    ga, gb = fleet.group(vpc_id=vpc), fleet.group(vpc_id=vpc)
    a, b = fleet.instance([ga], vpc_id=vpc), fleet.instance([gb], vpc_id=vpc)
    assert not reachable(m, a, b, "tcp", 22).reachable
    m.authorize(gb, RuleRequest("ingress", "tcp", "22/22", peer_group_id=ga), NOW)
    r = reachable(m, a, b, "tcp", 22)
    assert r.reachable and r.paths[0].ingress.rule.peer_group_id == ga
    assert not reachable(m, a, b, "tcp", 23).reachable
    assert not reachable(m, b, a, "tcp", 22).reachable  # the other direction needs its own rule


def test_case2_cross_account_classic_group_authorisation(fleet):
    m = fleet.model
    ga = fleet.group("2001")
    gb = fleet.group("3001")
    a = fleet.instance([ga], account_id="2001", public_ip="47.0.0.8")
    b = fleet.instance([gb], account_id="3001", public_ip="47.0.0.9")
    assert not reachable(m, a, b, "tcp", 3306).reachable
    m.authorize(
        ga,
        RuleRequest(
            "ingress", "tcp", "3306/3306", peer_group_id=gb, peer_group_owner_account="3001"
        ),
        NOW,
    )
    m.authorize(
        gb,
        RuleRequest(
            "ingress", "tcp", "3306/3306", peer_group_id=ga, peer_group_owner_account="2001"
        ),
        NOW,
    )
    assert reachable(m, a, b, "tcp", 3306).reachable
    assert reachable(m, b, a, "tcp", 3306).reachable
    # Group authorisation is private only: B's public address does not match it.
    assert not ingress(m, a, "47.0.0.9", TCP, 3306, NicType.INTERNET).allowed


def test_case3_ssh_only_from_given_ips(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc, public_ip="47.1.1.1")
    m.authorize(g, RuleRequest("ingress", "tcp", "22/22", peer_cidr="1.2.3.4/32,10.0.0.0/8"), NOW)
    assert reachable(m, "1.2.3.4", i, "tcp", 22).reachable
    outside_vpc = reachable(m, "10.9.9.9", i, "tcp", 22)  # 10/8 is not this VPC's private network
    assert not outside_vpc.reachable and "outside" in outside_vpc.reason
    assert not reachable(m, "1.2.3.5", i, "tcp", 22).reachable
    r = reachable(m, "internet", i, "tcp", 22)
    assert r.reachable and not r.complete
    assert not reachable(m, "1.2.3.4", i, "tcp", 3389).reachable


def test_case3_rdp_only_from_given_ips_windows(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc, public_ip="47.1.1.2", os_family="windows")
    m.authorize(g, RuleRequest("ingress", "tcp", "3389/3389", peer_cidr="1.2.3.4/32"), NOW)
    assert ingress(m, i, "1.2.3.4", TCP, 3389).allowed
    assert not ingress(m, i, "5.6.7.8", TCP, 3389).allowed


def test_case4_egress_only_to_given_ips(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc)
    m.authorize(
        g,
        RuleRequest("egress", "all", "-1/-1", peer_cidr="0.0.0.0/0", policy="drop", priority=2),
        NOW,
    )
    m.authorize(g, RuleRequest("egress", "tcp", "443/443", peer_cidr="1.2.3.4/32", priority=1), NOW)
    assert egress(m, i, "1.2.3.4", TCP, 443).allowed
    assert not egress(m, i, "1.2.3.4", TCP, 80).allowed
    assert not egress(m, i, "8.8.8.8", UDP, 53).allowed
    assert not egress(m, i, "8.8.8.8", ICMP).allowed


def test_case5_deny_egress_to_given_ips(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc)
    m.authorize(
        g, RuleRequest("egress", "all", "-1/-1", peer_cidr="1.2.3.0/24", policy="drop"), NOW
    )
    assert not egress(m, i, "1.2.3.4", TCP, 443).allowed
    assert not egress(m, i, "1.2.3.4", ICMP).allowed
    assert egress(m, i, "1.2.4.4", TCP, 443).allowed


def test_case6_public_remote_access(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc, public_ip="47.1.1.3")
    for ports in ("22/22", "3389/3389", "8080/8080"):
        m.authorize(g, RuleRequest("ingress", "tcp", ports, peer_cidr="0.0.0.0/0"), NOW)
    for port in (22, 3389, 8080):
        r = reachable(m, "internet", i, "tcp", port)
        assert r.reachable and r.complete
    assert not reachable(m, "internet", i, "tcp", 8081).reachable


def test_case6_classic_public_nic_rule_applies_to_the_internet_nic_only(fleet):
    m = fleet.model
    g = fleet.group()
    i = fleet.instance([g], public_ip="47.1.1.4")
    m.authorize(
        g, RuleRequest("ingress", "tcp", "22/22", peer_cidr="0.0.0.0/0", nic_type="internet"), NOW
    )
    assert ingress(m, i, "8.8.8.8", TCP, 22, NicType.INTERNET).allowed
    assert not ingress(m, i, "10.100.9.9", TCP, 22, NicType.INTRANET).allowed


def test_case7_remote_access_from_another_accounts_group(fleet):
    m = fleet.model
    mine = fleet.group("2001")
    theirs = fleet.group("3001")
    target = fleet.instance([mine], account_id="2001")
    admin = fleet.instance([theirs], account_id="3001")
    m.authorize(
        mine,
        RuleRequest(
            "ingress", "tcp", "22/22", peer_group_id=theirs, peer_group_owner_account="3001"
        ),
        NOW,
    )
    assert reachable(m, admin, target, "tcp", 22).reachable
    assert reachable(m, theirs, target, "tcp", 22).reachable
    assert not reachable(m, admin, target, "tcp", 3389).reachable


def test_case7_remote_access_from_another_accounts_instance_ip_classic_needs_32(fleet):
    m = fleet.model
    g = fleet.group("2001")
    target = fleet.instance([g], account_id="2001")
    m.authorize(g, RuleRequest("ingress", "tcp", "22/22", peer_cidr="10.100.0.99/32"), NOW)
    assert ingress(m, target, "10.100.0.99", TCP, 22).allowed
    assert not ingress(m, target, "10.100.0.98", TCP, 22).allowed


def test_case8_public_http_https(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc, public_ip="47.1.1.5")
    m.authorize(g, RuleRequest("ingress", "tcp", "80/80", peer_cidr="0.0.0.0/0"), NOW)
    m.authorize(g, RuleRequest("ingress", "tcp", "443/443", peer_cidr="1.2.3.0/24"), NOW)
    assert reachable(m, "internet", i, "tcp", 80).complete
    r = reachable(m, "internet", i, "tcp", 443)
    assert r.reachable and not r.complete
    assert ingress(m, i, "1.2.3.77", TCP, 443).allowed
    assert not ingress(m, i, "1.2.4.77", TCP, 443).allowed


def test_default_group_created_on_first_instance_opens_icmp_22_3389_at_110(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    i = fleet.instance([], vpc_id=vpc, public_ip="47.1.1.6")
    (gid,) = m.instances[i].primary_nic.security_group_ids
    assert m.groups[gid].is_default
    for proto, port in ((TCP, 22), (TCP, 3389), (ICMP, 0)):
        d = ingress(m, i, "8.8.8.8", proto, port)
        assert d.allowed and d.kind == SYSTEM_RULE and d.rule.priority == 110
    assert ingress(m, i, "8.8.8.8", TCP, 80).kind == DEFAULT_INGRESS_DROP
    assert egress(m, i, "8.8.8.8", UDP, 53).allowed
    # Any user rule beats the system rules: a priority-100 drop closes 22.
    m.authorize(
        gid,
        RuleRequest("ingress", "tcp", "22/22", peer_cidr="0.0.0.0/0", policy="drop", priority=100),
        NOW,
    )
    assert not ingress(m, i, "8.8.8.8", TCP, 22).allowed


def test_second_instance_does_not_get_another_default_group(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    fleet.instance([], vpc_id=vpc)
    import pytest

    from palisade.auditor.model.errors import ModelError

    with pytest.raises(ModelError) as err:
        fleet.instance([], vpc_id=vpc)
    assert err.value.code == "MissingParameter.SecurityGroupId"
    assert len(m.groups) == 1


def test_templates(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    linux = fleet.group(vpc_id=vpc, template="web-server-linux")
    windows = fleet.group(vpc_id=vpc, template="web-server-windows")
    custom = fleet.group(vpc_id=vpc)
    il = fleet.instance([linux], vpc_id=vpc)
    iw = fleet.instance([windows], vpc_id=vpc)
    ic = fleet.instance([custom], vpc_id=vpc)
    for port in (80, 443, 22):
        assert ingress(m, il, "8.8.8.8", TCP, port).allowed
    assert not ingress(m, il, "8.8.8.8", TCP, 3389).allowed
    for port in (80, 443, 3389):
        assert ingress(m, iw, "8.8.8.8", TCP, port).allowed
    assert not ingress(m, iw, "8.8.8.8", TCP, 22).allowed
    assert ingress(m, il, "8.8.8.8", ICMP).allowed and ingress(m, iw, "8.8.8.8", ICMP).allowed
    assert (
        not ingress(m, ic, "8.8.8.8", TCP, 80).allowed
        and not ingress(m, ic, "8.8.8.8", ICMP).allowed
    )
    assert egress(m, ic, "8.8.8.8", TCP, 443).allowed
