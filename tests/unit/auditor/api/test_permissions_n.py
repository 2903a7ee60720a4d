"""`Permissions.N.*` on Authorize/Revoke(Egress) as the SDKs send them (issue 20): several
rules in one call beside the flat form, all or nothing, an error naming the permission's
index (through the signed pipeline, in-process)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.in_process_api import ApiHarness

R = {"RegionId": "cn-hangzhou"}


def _perms(*rules: dict[str, str]) -> dict[str, str]:
    return {f"Permissions.{i}.{k}": v for i, rule in enumerate(rules, 1) for k, v in rule.items()}


SSH = {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8"}
WEB = {"IpProtocol": "tcp", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0", "Priority": "5"}


@pytest.fixture
def api(tmp_path):
    h = ApiHarness(tmp_path)
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    group = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    return h, group


def _rules(h, group: str) -> list[dict]:
    body = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=group)
    return body["Permissions"]["Permission"]


def test_permissions_n_authorizes_every_rule_and_revokes_them(api):
    h, group = api
    body = h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH, WEB))
    assert len(body["SecurityGroupRuleIds"]["SecurityGroupRuleId"]) == 2
    rules = {(r["PortRange"], r["SourceCidrIp"], r["Priority"]) for r in _rules(h, group)}
    assert rules == {("22/22", "10.0.0.0/8", "1"), ("443/443", "0.0.0.0/0", "5")}
    h.ok("RevokeSecurityGroup", **R, SecurityGroupId=group, **_perms(WEB, SSH))
    assert _rules(h, group) == []


def test_permissions_n_egress(api):
    h, group = api
    out = {"IpProtocol": "udp", "PortRange": "53/53", "DestCidrIp": "10.1.0.0/16"}
    h.ok("AuthorizeSecurityGroupEgress", **R, SecurityGroupId=group, **_perms(out))
    [rule] = _rules(h, group)
    assert (rule["Direction"], rule["DestCidrIp"]) == ("egress", "10.1.0.0/16")
    h.ok("RevokeSecurityGroupEgress", **R, SecurityGroupId=group, **_perms(out))
    assert _rules(h, group) == []


@pytest.mark.parametrize(
    ("second", "code", "where"),
    [
        ({**SSH, "PortRange": "22/21"}, "InvalidPortRange.Malformed", "Permissions.2"),
        ({"IpProtocol": "tcp", "SourceCidrIp": "1.2.3.4"}, "MissingParameter", "Permissions.2"),
        ({**SSH, "Policy": "maybe"}, None, "Permissions.2"),
        ({**SSH, "SourceCidrIp": "", "SourcePrefixListId": "pl-1"}, None, "Permissions.2"),
        ({**SSH, "Colour": "red"}, "InvalidParameter", "Permissions.2.Colour"),
    ],
)
def test_one_bad_permission_stores_nothing_and_is_named(api, second, code, where):
    h, group = api
    version = h.api.version
    status, got, message = h.error(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(WEB, second)
    )
    assert status in (400, 404)
    assert code is None or got == code or got.startswith(code), (got, message)
    assert where in message, message
    assert h.api.version == version and _rules(h, group) == []


def test_a_revoke_whose_one_permission_matches_nothing_revokes_nothing(api):
    h, group = api
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH, WEB))
    _, code, message = h.error(
        "RevokeSecurityGroup", **R, SecurityGroupId=group,
        **_perms(SSH, {**WEB, "PortRange": "8443/8443"}),
    )  # fmt: skip
    assert code == "InvalidPermission.NotFound" and "Permissions.2" in message
    assert len(_rules(h, group)) == 2


@pytest.mark.parametrize(
    "extra",
    [
        {"IpProtocol": "tcp"},  # the flat form beside Permissions.N
        {"Permissions.0.IpProtocol": "tcp"},
        {"Permissions.101.IpProtocol": "tcp"},
        {"Permissions.².IpProtocol": "tcp"},
    ],
)
def test_bad_permission_keys_are_refused(api, extra):
    h, group = api
    _, code, message = h.error(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH), **extra
    )
    assert code.startswith("InvalidParameter"), (code, message)
    assert _rules(h, group) == []


def test_revoke_by_rule_id_and_permissions_together_is_a_conflict(api):
    h, group = api
    [rule_id] = h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH))[
        "SecurityGroupRuleIds"
    ]["SecurityGroupRuleId"]
    _, code, _ = h.error(
        "RevokeSecurityGroup", **R, SecurityGroupId=group, SecurityGroupRuleId=rule_id,
        **_perms(SSH),
    )  # fmt: skip
    assert code == "InvalidParameter.Conflict"
    assert len(_rules(h, group)) == 1


def test_source_port_range_is_stored_answered_and_part_of_the_rule(api):
    h, group = api
    flat = {**SSH, "SourcePortRange": "1024/65535"}
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **flat)
    # the same rule with other source ports is another rule; Permissions.N takes it too
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH))
    h.ok("AuthorizeSecurityGroupEgress", **R, SecurityGroupId=group, **_perms(
        {"IpProtocol": "udp", "PortRange": "53/53", "DestCidrIp": "10.0.0.0/8",
         "SourcePortRange": "53/53"}
    ))  # fmt: skip
    other = h.via(h.replica())  # read back from the database
    got = sorted((r["Direction"], r["SourcePortRange"]) for r in _rules(other, group))
    assert got == [("egress", "53/53"), ("ingress", ""), ("ingress", "1024/65535")]
    # revoked by its fields, source ports included
    h.ok("RevokeSecurityGroup", **R, SecurityGroupId=group, **flat)
    assert sorted(r["SourcePortRange"] for r in _rules(h, group)) == ["", "53/53"]


@pytest.mark.parametrize(
    "fields",
    [
        {**SSH, "SourcePortRange": "0/10"},
        {**SSH, "SourcePortRange": "22"},
        {"IpProtocol": "icmp", "PortRange": "-1/-1", "SourceCidrIp": "1.2.3.4",
         "SourcePortRange": "1/2"},
    ],
)  # fmt: skip
def test_a_bad_source_port_range_is_refused_with_its_code(api, fields):
    h, group = api
    _, code, message = h.error("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **fields)
    assert code == "InvalidSourcePortRange.Malformed" and "SourcePortRange" in message
    _, code, message = h.error(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH, fields)
    )
    assert code == "InvalidSourcePortRange.Malformed" and "Permissions.2" in message
    assert _rules(h, group) == []


V6 = {"IpProtocol": "tcp", "PortRange": "22/22", "Ipv6SourceCidrIp": "2001:DB8::/32"}


def test_ipv6_rules_are_stored_answered_explained_and_rendered(api):
    h, group = api
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **V6, Priority="2")
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(
        {"IpProtocol": "tcp", "PortRange": "22/22", "Ipv6SourceCidrIp": "2001:db8:1::/48",
         "Policy": "drop"},
    ))  # fmt: skip
    h.ok("AuthorizeSecurityGroupEgress", **R, SecurityGroupId=group, **_perms(
        {"IpProtocol": "udp", "PortRange": "53/53", "Ipv6DestCidrIp": "2400:3200::1"},
    ))  # fmt: skip
    other = h.via(h.replica())  # read back from the database
    got = sorted(
        (r["Direction"], r["Ipv6SourceCidrIp"], r["Ipv6DestCidrIp"], r["SourceCidrIp"])
        for r in _rules(other, group)
    )
    assert got == [
        ("egress", "", "2400:3200::1/128", ""),
        ("ingress", "2001:db8:1::/48", "", ""),
        ("ingress", "2001:db8::/32", "", ""),
    ]
    vpc = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=group)["VpcId"]
    instance = h.ok(
        "RunInstances", **R, VpcId=vpc, PrivateIpAddress="172.16.0.10", SecurityGroupId=group
    )["InstanceIdSets"]["InstanceIdSet"][0]
    explained = h.ok(
        "ExplainSecurityGroupDecision", **R, InstanceId=instance, Source="2001:db8::/32",
        IpProtocol="tcp", Port="22",
    )  # fmt: skip
    assert explained["Reachable"] is False and "IPv6" in explained["Reason"]
    decided = {p["Sources"]: p["Allowed"] for p in explained["Paths"]["Path"]}
    assert decided["2001:db8:1::/48"] is False and decided["2001:db8::/48"] is True
    nft = h.ok("RenderNftables", **R, InstanceId=instance)
    text = json.dumps(nft)
    assert "ip6 saddr 2001:db8::/32 tcp dport 22 accept" in text
    assert "ip6 daddr 2400:3200::1/128 udp dport 53 accept" in text
    # revoked by its fields (any spelling of the block)
    h.ok("RevokeSecurityGroup", **R, SecurityGroupId=group, **V6, Priority="2")
    assert len(_rules(h, group)) == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({**V6, "Ipv6SourceCidrIp": "2001:db8::1/32"}, "InvalidIpv6SourceCidrIp.Malformed"),
        ({**V6, "Ipv6SourceCidrIp": "10.0.0.0/8"}, "InvalidIpv6SourceCidrIp.Malformed"),
        ({**V6, "SourceCidrIp": "10.0.0.0/8"}, "InvalidParameter.Conflict"),
        ({**V6, "SourceGroupId": "sg-other"}, "InvalidParameter.Conflict"),
        ({**SSH, "SourceCidrIp": "", "SourcePrefixListId": "pl-1"},
         "InvalidSourcePrefixListId.NotSupported"),
    ],
)  # fmt: skip
def test_bad_ipv6_rules_get_their_codes(api, fields, code):
    h, group = api
    _, got, message = h.error("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **fields)
    assert got == code, message
    assert _rules(h, group) == []


def test_ipv6_rules_are_for_vpc_groups(tmp_path):
    h = ApiHarness(tmp_path)
    classic = h.ok("CreateSecurityGroup", **R)["SecurityGroupId"]
    _, code, _ = h.error(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=classic, **V6, NicType="intranet"
    )
    assert code == "InvalidIpv6SourceCidrIp.ValueNotSupported"


def test_modify_security_group_rule_keeps_the_address_family_and_takes_source_ports(api):
    # ECS: "You cannot change the IP address family of an existing authorization object";
    # "You cannot delete the value of a non-empty parameter".
    h, group = api
    ids = h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, **_perms(SSH, V6))[
        "SecurityGroupRuleIds"
    ]["SecurityGroupRuleId"]
    v4_id, v6_id = ids
    h.ok(
        "ModifySecurityGroupRule", **R, SecurityGroupId=group, SecurityGroupRuleId=v6_id,
        Ipv6SourceCidrIp="2001:db8:5::/48", SourcePortRange="1024/65535",
    )  # fmt: skip
    h.ok(
        "ModifySecurityGroupRule", **R, SecurityGroupId=group, SecurityGroupRuleId=v6_id,
        SourcePortRange="", Description="kept",
    )  # fmt: skip
    rules = {r["SecurityGroupRuleId"]: r for r in _rules(h, group)}
    assert rules[v6_id]["Ipv6SourceCidrIp"] == "2001:db8:5::/48"
    assert rules[v6_id]["SourcePortRange"] == "1024/65535"
    family_changes = ((v4_id, {"Ipv6SourceCidrIp": "::/0"}), (v6_id, {"SourceCidrIp": "1.2.3.4"}))
    for rule_id, peer in family_changes:
        _, code, _ = h.error(
            "ModifySecurityGroupRule", **R, SecurityGroupId=group, SecurityGroupRuleId=rule_id,
            **peer,
        )  # fmt: skip
        assert code == "InvalidParameter.Conflict"
    assert {r["SecurityGroupRuleId"]: r for r in _rules(h, group)} == rules
