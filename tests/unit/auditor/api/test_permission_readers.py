"""One `Permission` schema for every reader of security group rules (issue 18): the API's rule
parameters (through the signed pipeline, in-process), `palisade import-ecs`'s responses and
ImportSecurityGroupRules' documents now decide IPv6 peers, prefix lists and priorities above
100 the same way, as ECS documents them (model/network/permission.py)."""

from __future__ import annotations

import json

import pytest

from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.spec import SpecError
from tests.helpers.in_process_api import ApiHarness

R = {"RegionId": "cn-hangzhou"}
# A Permission as DescribeSecurityGroupAttribute answers it (every documented key).
DESCRIBED = {
    "SecurityGroupRuleId": "sgr-bp1real0001",
    "Direction": "ingress",
    "IpProtocol": "TCP",
    "PortRange": "443/443",
    "SourcePortRange": "",
    "SourceCidrIp": "0.0.0.0/0",
    "Ipv6SourceCidrIp": "",
    "SourceGroupId": "",
    "SourceGroupName": "",
    "SourceGroupOwnerAccount": "",
    "SourcePrefixListId": "",
    "SourcePrefixListName": "",
    "DestCidrIp": "",
    "Ipv6DestCidrIp": "",
    "DestGroupId": "",
    "DestGroupName": "",
    "DestGroupOwnerAccount": "",
    "DestPrefixListId": "",
    "DestPrefixListName": "",
    "PortRangeListId": "",
    "PortRangeListName": "",
    "Policy": "Accept",
    "Priority": 1,
    "NicType": "intranet",
    "Description": "",
    "CreateTime": "2019-01-01T00:00:00Z",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    h = ApiHarness(tmp_path_factory.mktemp("permission"))
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    group = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    return h, group


def _refused(api, **params: str) -> str:
    h, group = api
    version = h.api.version
    status, code, message = h.error(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=group, IpProtocol="tcp",
        PortRange="22/22", **params,
    )  # fmt: skip
    assert status == 400 and message, (code, message)
    assert h.api.version == version  # nothing stored
    return code


def _imported(**changes) -> tuple[list, list[str]]:
    perm = {**DESCRIBED, **changes}
    doc = {"RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp1real0web"}
    doc["Permissions"] = {"Permission": [perm]}
    spec = parse_ecs([doc])
    return list(spec.groups[0].rules or ()), list(spec.warnings)


def test_an_ipv6_peer_is_a_rule_in_the_api_and_in_the_import(api):
    # before: the API called Ipv6SourceCidrIp an unknown parameter (a typo); the import left it
    # out. Issue 20: the API models IPv6 rules; issue 19: fleet specs carry them too, so the
    # import keeps the rule, with its IPv6 peer, and has nothing to say.
    h, group = api
    h.ok(
        "AuthorizeSecurityGroup", **R, SecurityGroupId=group, IpProtocol="tcp",
        PortRange="22/22", Ipv6SourceCidrIp="2001:db8::/32",
    )  # fmt: skip
    answered = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=group)
    assert [p["Ipv6SourceCidrIp"] for p in answered["Permissions"]["Permission"]] == [
        "2001:db8::/32"
    ]
    h.ok(
        "RevokeSecurityGroup", **R, SecurityGroupId=group, IpProtocol="tcp",
        PortRange="22/22", Ipv6SourceCidrIp="2001:db8::/32",
    )  # fmt: skip
    rules, notes = _imported(SourceCidrIp="", Ipv6SourceCidrIp="::/0")
    assert [(r.cidr, r.ipv6_cidr, r.ports) for r in rules] == [(None, "::/0", "443/443")]
    assert notes == []


def test_an_ipv4_and_an_ipv6_peer_together_are_refused_by_both(api):
    # ECS: "You cannot specify both this parameter and the SourceCidrIp parameter"; the import
    # used to keep the IPv4 half silently.
    assert _refused(api, SourceCidrIp="1.2.3.4", Ipv6SourceCidrIp="::/0") == (
        "InvalidParameter.Conflict"
    )
    with pytest.raises(SpecError) as err:
        _imported(Ipv6SourceCidrIp="::/0")
    assert err.value.where == "$[0].Permissions.Permission[0]"
    assert "InvalidParameter.Conflict" in err.value.message


def test_prefix_lists_are_ignored_beside_a_peer_and_not_supported_alone(api):
    # ECS: "If you specify SourceCidrIp, Ipv6SourceCidrIp, or SourceGroupId, this parameter is
    # ignored." Alone, a prefix list is a peer Palisade does not have.
    assert _refused(api, SourcePrefixListId="pl-x") == "InvalidSourcePrefixListId.NotSupported"
    h, group = api
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=group, IpProtocol="tcp",
         PortRange="25/25", SourceCidrIp="1.2.3.4", SourcePrefixListId="pl-x")  # fmt: skip
    rules, notes = _imported(SourceCidrIp="", SourcePrefixListId="pl-x")
    assert rules == [] and "prefix-list" in notes[0]
    rules, notes = _imported(SourcePrefixListId="pl-x")
    assert [r.cidr for r in rules] == ["0.0.0.0/0"] and notes == []


def test_priorities_outside_1_to_100(api):
    # ECS: "Valid values: 1 to 100". The API refuses 101; the import leaves a described system
    # rule (110) out with a note, and refuses a priority that is no priority at all, at its
    # path (it used to pass "abc" or 0 on and fail later, without a place).
    assert _refused(api, SourceCidrIp="1.2.3.4", Priority="101") == "InvalidPriority.Malformed"
    rules, notes = _imported(Priority=110)
    assert rules == [] and "priority-110" in notes[0]
    for bad in ("abc", 0, "-5"):
        with pytest.raises(SpecError) as err:
            _imported(Priority=bad)
        assert err.value.where == "$[0].Permissions.Permission[0].Priority"
        assert err.value.message.startswith("InvalidPriority.Malformed")


def test_unknown_permission_keys_are_errors_with_their_path(api):
    with pytest.raises(SpecError) as err:
        _imported(SourceCidrlp="1.2.3.4")
    assert err.value.where == "$[0].Permissions.Permission[0].SourceCidrlp"
    assert "unknown key" in err.value.message
    h, group = api
    document = json.dumps({"Permissions": {"Permission": [{**DESCRIBED, "Prio": "1"}]}})
    body = h.ok("ImportSecurityGroupRules", **R, SecurityGroupId=group, Document=document,
                DryRun="true")  # fmt: skip
    (result,) = body["Results"]["Result"]
    assert result["Status"] == "failed" and result["Code"] == "InvalidParameter.Malformed"
    assert "$.Permission[0].Prio: unknown key 'Prio'" in result["Reason"]


def test_an_exported_rule_set_with_a_misspelt_key_is_refused_naming_it(api):
    # before: refused as "not an exported rule set", without naming the key
    h, group = api
    version = h.api.version
    document = json.dumps({"SecurityGroupId": group, "Permission": [DESCRIBED]})
    status, code, message = h.error(
        "ImportSecurityGroupRules", **R, SecurityGroupId=group, Document=document
    )
    assert (status, code) == (400, "InvalidParameter.Malformed")
    assert "$.Permission: unknown key 'Permission'" in message
    assert h.api.version == version
