"""VPCs, instances and group membership through `palisade api`: every action and its error
codes.

The CLI runs in-process (`cli.main`); one auditor serves the module, and each test works in its
own VPC or region so that the tests do not see each other's resources.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.palisade_cli import ok
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


def test_vpcs_create_describe_delete(auditor):
    vpc = ok(auditor, "CreateVpc", R, "CidrBlock=192.168.0.0/16", "VpcName=vpc-test-a")["VpcId"]
    (v,) = ok(auditor, "DescribeVpcs", R, "VpcName=vpc-test-a")["Vpcs"]["Vpc"]
    assert (v["VpcId"], v["CidrBlock"], v["Status"]) == (vpc, "192.168.0.0/16", "Available")
    assert refused(auditor, "CreateVpc", R, "CidrBlock=8.8.0.0/16") == "InvalidCidrBlock.Malformed"
    g = group(auditor, vpc)
    assert refused(auditor, "DeleteVpc", R, f"VpcId={vpc}") == "DependencyViolation"
    ok(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={g}")
    ok(auditor, "DeleteVpc", R, f"VpcId={vpc}")
    assert ok(auditor, "DescribeVpcs", R, "VpcName=vpc-test-a")["TotalCount"] == 0
    assert refused(auditor, "DeleteVpc", R, f"VpcId={vpc}") == "InvalidVpcId.NotFound"


def test_instances_state_machine_and_describe(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    ip = ip_of(auditor, vpc, 10)
    i = instance(
        auditor,
        vpc,
        [g],
        ip,
        "PublicIpAddress=47.8.0.10",
        "InstanceName=sm-1",
        "OsType=windows",
        "InstanceType=ecs.g6.large",
    )
    (view,) = ok(auditor, "DescribeInstances", R, "InstanceName=sm-1")["Instances"]["Instance"]
    assert view["InstanceId"] == i and view["Status"] == "Running" and view["OSType"] == "windows"
    assert view["SecurityGroupIds"]["SecurityGroupId"] == [g]
    assert view["VpcAttributes"]["VpcId"] == vpc
    assert view["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == [ip]
    assert view["PublicIpAddress"]["IpAddress"] == ["47.8.0.10"]
    assert view["KeyPairName"] == "" and view["CreationTime"]
    assert refused(auditor, "StartInstance", R, f"InstanceId={i}") == "IncorrectInstanceStatus"
    assert refused(auditor, "DeleteInstance", R, f"InstanceId={i}") == "IncorrectInstanceStatus"
    ok(auditor, "RebootInstance", R, f"InstanceId={i}")
    ok(auditor, "StopInstance", R, f"InstanceId={i}")
    assert refused(auditor, "StopInstance", R, f"InstanceId={i}") == "IncorrectInstanceStatus"
    ok(auditor, "StartInstance", R, f"InstanceId={i}")
    ok(auditor, "StopInstance", R, f"InstanceId={i}")
    ok(auditor, "DeleteInstance", R, f"InstanceId={i}")
    assert refused(auditor, "StartInstance", R, f"InstanceId={i}") == "InvalidInstanceId.NotFound"
    # CreateInstance leaves it Stopped; Force deletes a running one; the IP is free again.
    created = ok(
        auditor,
        "CreateInstance",
        R,
        f"VpcId={vpc}",
        f"PrivateIpAddress={ip}",
        f"SecurityGroupId={g}",
    )["InstanceId"]
    listed = ok(auditor, "DescribeInstances", R, f"InstanceIds={json.dumps([created])}")
    assert listed["Instances"]["Instance"][0]["Status"] == "Stopped"
    assert (
        refused(
            auditor,
            "RunInstances",
            R,
            f"VpcId={vpc}",
            f"PrivateIpAddress={ip}",
            f"SecurityGroupId={g}",
        )
        == "InvalidPrivateIpAddress.Duplicated"
    )
    ok(auditor, "StartInstance", R, f"InstanceId={created}")
    ok(auditor, "DeleteInstance", R, f"InstanceId={created}", "Force=true")
    # errors of creation
    for extra, code in (
        ((f"VpcId={vpc}", "PrivateIpAddress=172.16.0.1"), "InvalidPrivateIpAddress.Mismatch"),
        ((f"VpcId={vpc}", "PrivateIpAddress=nope"), "InvalidIpAddress.Malformed"),
        ((f"VpcId={vpc}",), "MissingParameter"),
        (
            (f"VpcId={vpc}", f"PrivateIpAddress={ip}", "SecurityGroupId=sg-nothere"),
            "InvalidSecurityGroupId.NotFound",
        ),
        (
            (f"VpcId={vpc}", f"PrivateIpAddress={ip}", f"SecurityGroupId={g}", "KeyPairName=nokey"),
            "InvalidKeyPairName.NotFound",
        ),
        (
            (f"PrivateIpAddress={ip}", f"SecurityGroupId={g}", "InstanceNetworkType=classic"),
            "InvalidSecurityGroupId.NetworkTypeMismatch",
        ),
        (
            (f"VpcId={vpc}", f"PrivateIpAddress={ip}", f"SecurityGroupId={g}", "InstanceId=bad id"),
            "InvalidInstanceId.Malformed",
        ),
    ):
        assert refused(auditor, "RunInstances", R, *extra) == code, extra


def test_addresses_in_other_scripts_digits_are_refused(auditor):
    """Issue 18: `1٧2.16.0.10` (an Arabic-Indic seven) was a second NIC on 172.16.0.10."""
    assert (
        refused(auditor, "CreateVpc", R, "CidrBlock=1٧2.16.0.0/16") == "InvalidCidrBlock.Malformed"
    )
    vpc = ok(auditor, "CreateVpc", R, "CidrBlock=172.16.0.0/16")["VpcId"]
    g = group(auditor, vpc)
    instance(auditor, vpc, [g], "172.16.0.10")
    twin = (f"VpcId={vpc}", "PrivateIpAddress=1٧2.16.0.10", f"SecurityGroupId={g}")
    assert refused(auditor, "RunInstances", R, *twin) == "InvalidIpAddress.Malformed"
    for action, side in (
        ("AuthorizeSecurityGroup", "Source"),
        ("AuthorizeSecurityGroupEgress", "Dest"),
    ):
        code = refused(
            auditor,
            action,
            R,
            f"SecurityGroupId={g}",
            "IpProtocol=tcp",
            "PortRange=22/22",
            f"{side}CidrIp=1٧2.16.0.0/16",
        )
        assert code == f"Invalid{side}CidrIp.Malformed"
    listed = ok(auditor, "DescribeInstances", R, f"VpcId={vpc}")["Instances"]["Instance"]
    assert [i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] for i in listed] == [
        ["172.16.0.10"]
    ]


def test_key_pair_and_ram_role_at_creation(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    ok(auditor, "CreateKeyPair", R, "KeyPairName=sg-test-key")
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 3), "KeyPairName=sg-test-key")
    listed = ok(auditor, "DescribeInstances", R, f"InstanceIds={json.dumps([i])}")
    assert listed["Instances"]["Instance"][0]["KeyPairName"] == "sg-test-key"
    assert (
        refused(
            auditor,
            "RunInstances",
            R,
            f"VpcId={vpc}",
            f"SecurityGroupId={g}",
            f"PrivateIpAddress={ip_of(auditor, vpc, 4)}",
            "KeyPairName=sg-test-key",
            "OsType=windows",
        )
        == "DependencyViolation.WindowsInstance"
    )
    # A role that does not exist refuses the whole RunInstances: no instance is left behind.
    before = ok(auditor, "DescribeInstances", R, f"VpcId={vpc}")["TotalCount"]
    ip5 = ip_of(auditor, vpc, 5)
    assert refused(
        auditor,
        "RunInstances",
        R,
        f"VpcId={vpc}",
        f"SecurityGroupId={g}",
        f"PrivateIpAddress={ip5}",
        "RamRoleName=NoSuchRole",
    ) == ("InvalidRamRole.NotFound")
    assert ok(auditor, "DescribeInstances", R, f"VpcId={vpc}")["TotalCount"] == before
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["ecs.aliyuncs.com"]},
                }
            ],
        }
    )
    ok(auditor, "CreateRole", "RoleName=SgTestRole", f"AssumeRolePolicyDocument={trust}")
    j = instance(auditor, vpc, [g], ip5, "RamRoleName=SgTestRole")
    roles = ok(auditor, "DescribeInstanceRamRole", R, f"InstanceIds={json.dumps([j])}")
    assert roles["InstanceRamRoleSets"]["InstanceRamRoleSet"] == [
        {"InstanceId": j, "RamRoleName": "SgTestRole"}
    ]


def test_join_and_leave(auditor):
    vpc = new_vpc(auditor)
    a, b = group(auditor, vpc), group(auditor, vpc)
    i = instance(auditor, vpc, [a], ip_of(auditor, vpc, 7))
    ok(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={b}")
    assert refused(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={b}") == (
        "InvalidInstanceId.AlreadyExists"
    )
    other_vpc = new_vpc(auditor)
    c = group(auditor, other_vpc)
    assert refused(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={c}") == (
        "InvalidSecurityGroupId.VpcMismatch"
    )
    ent = group(auditor, vpc, "SecurityGroupType=enterprise")
    assert (
        refused(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={ent}")
        == "InvalidSecurityGroupType.Mismatch"
    )
    extra = [group(auditor, vpc) for _ in range(3)]
    for gid in extra:
        ok(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={gid}")
    sixth = group(auditor, vpc)
    assert (
        refused(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={sixth}")
        == "InstanceSecurityGroupLimitExceeded"
    )
    for gid in [a, *extra]:
        ok(auditor, "LeaveSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={gid}")
    assert refused(auditor, "LeaveSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={b}") == (
        "InvalidOperation.LastSecurityGroup"
    )
    assert refused(auditor, "LeaveSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={a}") == (
        "InvalidInstanceId.NotInSecurityGroup"
    )
    assert (
        refused(
            auditor,
            "JoinSecurityGroup",
            R,
            f"InstanceId={i}",
            f"SecurityGroupId={a}",
            "NetworkInterfaceId=eni-nothere",
        )
        == "InvalidNetworkInterfaceId.NotFound"
    )


def test_delete_group_refused_while_instances_are_in_it_or_rules_reference_it(auditor):
    vpc = new_vpc(auditor)
    g, keep, referrer = group(auditor, vpc), group(auditor, vpc), group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 9))
    assert (
        refused(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={g}") == "DependencyViolation"
    )
    ok(auditor, "JoinSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={keep}")
    ok(auditor, "LeaveSecurityGroup", R, f"InstanceId={i}", f"SecurityGroupId={g}")
    (rid,) = authorize(auditor, referrer, "tcp", "22/22", f"SourceGroupId={g}")
    assert refused(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={g}") == (
        "DependencyViolation.ReferencedBySecurityGroup"
    )
    ok(
        auditor,
        "RevokeSecurityGroup",
        R,
        f"SecurityGroupId={referrer}",
        f"SecurityGroupRuleId.1={rid}",
    )
    ok(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={g}")
    assert refused(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={g}") == (
        "InvalidSecurityGroupId.NotFound"
    )
    # the audit log of a deleted group is still there, newest first
    audit = ok(auditor, "DescribeSecurityGroupAudit", R, f"SecurityGroupId={g}")
    actions = [e["Action"] for e in audit["AuditEntries"]["AuditEntry"]]
    assert actions == ["DeleteSecurityGroup", "CreateSecurityGroup"]
    deleted = audit["AuditEntries"]["AuditEntry"][0]
    assert deleted["After"] is None and deleted["Before"]["SecurityGroupId"] == g
    assert deleted["Actor"] == "user/admin"


def test_default_group_appears_on_a_regions_first_instance(auditor):
    region = "cn-qingdao"
    ok(auditor, "AddRegion", f"RegionId={region}")
    vpc = ok(auditor, "CreateVpc", f"RegionId={region}", "CidrBlock=172.16.0.0/12")["VpcId"]
    assert ok(auditor, "DescribeSecurityGroups", f"RegionId={region}")["TotalCount"] == 0
    body = ok(
        auditor,
        "RunInstances",
        f"RegionId={region}",
        f"VpcId={vpc}",
        "PrivateIpAddress=172.16.0.2",
        "PublicIpAddress=47.7.0.2",
    )
    i = body["InstanceIdSets"]["InstanceIdSet"][0]
    (default,) = ok(auditor, "DescribeSecurityGroups", f"RegionId={region}")["SecurityGroups"][
        "SecurityGroup"
    ]
    assert default["IsDefault"] and default["SecurityGroupName"] == "default"
    perms = ok(
        auditor,
        "DescribeSecurityGroupAttribute",
        f"RegionId={region}",
        f"SecurityGroupId={default['SecurityGroupId']}",
    )["Permissions"]["Permission"]
    assert {(p["Direction"], p["IpProtocol"], p["PortRange"], p["Priority"]) for p in perms} == {
        ("ingress", "ICMP", "-1/-1", "110"),
        ("ingress", "TCP", "22/22", "110"),
        ("ingress", "TCP", "3389/3389", "110"),
        ("egress", "ALL", "-1/-1", "110"),
    }
    ssh = explain(auditor, i, "internet", "tcp", 22)
    assert ssh["Reachable"] and ssh["Paths"]["Path"][0]["Ingress"]["Kind"] == "system-rule"
    assert not explain(auditor, i, "internet", "tcp", 80)["Reachable"]
    # the second instance needs a group: the account has one in the region now
    assert (
        refused(
            auditor,
            "RunInstances",
            f"RegionId={region}",
            f"VpcId={vpc}",
            "PrivateIpAddress=172.16.0.3",
        )
        == "MissingParameter.SecurityGroupId"
    )
    audit = ok(
        auditor,
        "DescribeSecurityGroupAudit",
        f"RegionId={region}",
        f"SecurityGroupId={default['SecurityGroupId']}",
    )
    assert [e["Action"] for e in audit["AuditEntries"]["AuditEntry"]] == ["RunInstances"]
