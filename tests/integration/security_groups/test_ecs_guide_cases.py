"""The ECS security guide's eight application cases (section 1.3) set up through `palisade api`
and checked with `palisade sg explain`; the text form of `sg explain` and `sg render-nft`.

The CLI runs in-process (`cli.main`); one auditor serves the module, and each test works in its
own VPC or region so that the tests do not see each other's resources.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.palisade_cli import ok, run
from tests.helpers.security_group_cli import (
    R,
    authorize,
    explain,
    group,
    instance,
    ip_of,
    new_vpc,
    refused,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def peer(auditor):
    """Account 3001 next to ours, with a classic group and an instance in it."""
    ok(auditor, "AddAccount", "AccountId=3001", "AccountName=partner")
    owner = "ResourceOwnerAccount=3001"
    g = ok(auditor, "CreateSecurityGroup", R, owner, "SecurityGroupName=partner-ops")[
        "SecurityGroupId"
    ]
    i = ok(
        auditor,
        "RunInstances",
        R,
        owner,
        "InstanceNetworkType=classic",
        "PrivateIpAddress=10.200.0.9",
        f"SecurityGroupId={g}",
    )["InstanceIdSets"]["InstanceIdSet"][0]
    return g, i


def test_case1_same_account_private_access(auditor):
    vpc = new_vpc(auditor)
    ga, gb = group(auditor, vpc), group(auditor, vpc)
    a = instance(auditor, vpc, [ga], ip_of(auditor, vpc, 11))
    a2 = instance(auditor, vpc, [ga], ip_of(auditor, vpc, 12))
    b = instance(auditor, vpc, [gb], ip_of(auditor, vpc, 13))
    same = explain(auditor, a2, a, "tcp", 8080)
    assert same["Reachable"] and same["Paths"]["Path"][0]["Ingress"]["Kind"] == "inner-accept"
    assert not explain(auditor, b, a, "tcp", 22)["Reachable"]
    authorize(auditor, gb, "tcp", "22/22", f"SourceGroupId={ga}")
    r = explain(auditor, b, a, "tcp", 22)
    assert r["Reachable"] and r["Paths"]["Path"][0]["Ingress"]["Rule"]["SourceGroupId"] == ga
    assert not explain(auditor, a, b, "tcp", 22)["Reachable"]  # the other way needs its own rule


def test_case2_cross_account_private_access(auditor, peer):
    theirs, their_instance = peer
    mine = group(auditor, None)
    mine_i = instance(auditor, None, [mine], "10.200.0.21")
    assert not explain(auditor, mine_i, their_instance, "tcp", 3306)["Reachable"]
    authorize(
        auditor, mine, "tcp", "3306/3306", f"SourceGroupId={theirs}", "SourceGroupOwnerAccount=3001"
    )
    r = explain(auditor, mine_i, their_instance, "tcp", 3306)
    assert r["Reachable"]
    assert r["Paths"]["Path"][0]["Ingress"]["Rule"]["SourceGroupOwnerAccount"] == "3001"
    assert refused(
        auditor,
        "AuthorizeSecurityGroup",
        R,
        f"SecurityGroupId={mine}",
        "IpProtocol=tcp",
        "PortRange=22/22",
        f"SourceGroupId={theirs}",
    ) == (
        "InvalidSourceGroupId.NotFound"
    )  # without the owner account it is not this account's group


def test_case3_ssh_and_rdp_only_from_given_ips(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 14), "PublicIpAddress=47.6.0.14")
    authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=203.0.113.5")
    authorize(auditor, g, "tcp", "3389/3389", "SourceCidrIp=203.0.113.5")
    for port in (22, 3389):
        assert explain(auditor, i, "203.0.113.5", "tcp", port)["Reachable"]
        assert not explain(auditor, i, "198.51.100.1", "tcp", port)["Reachable"]
    internet = explain(auditor, i, "internet", "tcp", 22)
    assert internet["Reachable"] and not internet["Complete"]


def _egress_setup(auditor):
    vpc = new_vpc(auditor)
    src_group, dst_group = group(auditor, vpc), group(auditor, vpc)
    authorize(auditor, dst_group, "tcp", "443/443", "SourceCidrIp=0.0.0.0/0")
    src = instance(auditor, vpc, [src_group], ip_of(auditor, vpc, 20))
    allowed_ip, other_ip = ip_of(auditor, vpc, 21), ip_of(auditor, vpc, 22)
    t1 = instance(auditor, vpc, [dst_group], allowed_ip)
    t2 = instance(auditor, vpc, [dst_group], other_ip)
    return src_group, src, (t1, allowed_ip), (t2, other_ip)


def test_case4_egress_only_to_given_ips(auditor):
    g, src, (t1, ip1), (t2, _) = _egress_setup(auditor)
    authorize(
        auditor, g, "all", "-1/-1", "DestCidrIp=0.0.0.0/0", "Policy=drop", "Priority=2", egress=True
    )
    authorize(auditor, g, "tcp", "443/443", f"DestCidrIp={ip1}", "Priority=1", egress=True)
    assert explain(auditor, t1, src, "tcp", 443)["Reachable"]
    r = explain(auditor, t2, src, "tcp", 443)
    assert not r["Reachable"]
    assert r["Paths"]["Path"][0]["Egress"]["Verdict"] == "drop"
    assert r["Paths"]["Path"][0]["Ingress"]["Verdict"] == "accept"  # it is the source's egress


def test_case5_deny_egress_to_given_ips(auditor):
    g, src, (t1, _), (t2, ip2) = _egress_setup(auditor)
    authorize(auditor, g, "all", "-1/-1", f"DestCidrIp={ip2}", "Policy=drop", egress=True)
    assert explain(auditor, t1, src, "tcp", 443)["Reachable"]
    r = explain(auditor, t2, src, "tcp", 443)
    assert not r["Reachable"] and r["Paths"]["Path"][0]["Egress"]["Kind"] == "rule"


def test_case6_public_remote_access(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 15), "PublicIpAddress=47.6.0.15")
    authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=0.0.0.0/0")
    authorize(auditor, g, "tcp", "3389/3389", "SourceCidrIp=0.0.0.0/0")
    for port in (22, 3389):
        r = explain(auditor, i, "internet", "tcp", port)
        assert r["Reachable"] and r["Complete"]
    assert not explain(auditor, i, "internet", "tcp", 23)["Reachable"]
    no_public = instance(auditor, vpc, [g], ip_of(auditor, vpc, 16))
    r = explain(auditor, no_public, "internet", "tcp", 22)
    assert not r["Reachable"] and "no public IP" in r["Reason"]


def test_case7_remote_access_from_another_accounts_group(auditor, peer):
    theirs, admin = peer
    mine = group(auditor, None)
    target = instance(auditor, None, [mine], "10.200.0.31")
    authorize(
        auditor, mine, "tcp", "22/22", f"SourceGroupId={theirs}", "SourceGroupOwnerAccount=3001"
    )
    assert explain(auditor, target, admin, "tcp", 22)["Reachable"]
    assert explain(auditor, target, theirs, "tcp", 22)["Reachable"]
    assert not explain(auditor, target, admin, "tcp", 3389)["Reachable"]


def test_case8_public_http_and_https(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 17), "PublicIpAddress=47.6.0.17")
    authorize(auditor, g, "tcp", "80/80", "SourceCidrIp=0.0.0.0/0")
    authorize(auditor, g, "tcp", "443/443", "SourceCidrIp=0.0.0.0/0")
    for port in (80, 443):
        assert explain(auditor, i, "internet", "tcp", port)["Complete"]
    assert not explain(auditor, i, "internet", "tcp", 8080)["Reachable"]


def test_sg_explain_text_and_render_nft(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 18), "PublicIpAddress=47.6.0.18")
    (rid,) = authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=203.0.113.0/24")
    rc, text = run(
        auditor,
        "sg",
        "explain",
        "--instance",
        i,
        "--from",
        "203.0.113.7",
        "--proto",
        "tcp",
        "--port",
        "22",
    )
    assert rc == 0 and text.startswith("ALLOWED: tcp/22 from 203.0.113.7")
    assert rid in text
    rc, text = run(auditor, "sg", "explain", "--instance", i, "--from", "8.8.8.8", "--port", "22")
    assert rc == 0 and text.startswith("DENIED") and "default-ingress-drop" in text
    rc, text = run(auditor, "sg", "explain", "--instance", "i-nothere", "--from", "8.8.8.8")
    assert rc == 1 and json.loads(text)["Code"] == "InvalidInstanceId.NotFound"
    rc, text = run(auditor, "sg", "explain", "--instance", i, "--from", "nowhere", "--port", "22")
    assert rc == 1 and json.loads(text)["Code"] == "InvalidParameter.Source"
    rc, ruleset = run(auditor, "sg", "render-nft", "--instance", i)
    assert rc == 0 and ruleset.startswith("table inet palisade {")
    assert f'ip saddr 203.0.113.0/24 tcp dport 22 accept comment "{rid} {g} p1"' in ruleset
    rc, text = run(auditor, "sg", "render-nft", "--instance", i, "--internet-iface", "eth0;drop")
    assert rc == 1 and json.loads(text)["Code"] == "InvalidInternetInterface.Malformed"
