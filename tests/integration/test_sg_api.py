"""Security groups, VPCs and instances through `palisade api` against a real auditor: every
action and its error codes, the ECS security guide's eight application cases (section 1.3)
checked with `palisade sg explain`, clone/export/import/restore, the audit log, `palisade
apply` (idempotent) and `palisade import-ecs` (nothing stored on error).

The CLI runs in-process (`cli.main`); one auditor serves the module, and each test works in its
own VPC or region so that the tests do not see each other's resources.
"""

from __future__ import annotations

import itertools
import json
import os

import pytest

from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.auditor_process import start_auditor
from tests.helpers.palisade_cli import api, ok, run

pytestmark = pytest.mark.integration

R = "RegionId=cn-hangzhou"
_cidr = itertools.count(1)


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("sg") / "auditor")
    yield proc
    proc.stop()


def refused(auditor, action: str, *assignments: str) -> str:
    rc, body = api(auditor, action, *assignments)
    assert rc == 1, body
    assert set(body) == {"Code", "Message", "RequestId"}
    return body["Code"]


def version(auditor) -> int:
    if os.environ.get("PALISADE_TEST_DB", "").startswith("postgresql"):
        return CloudStateRepository(Database(auditor.database)).version()
    return CloudStateRepository(Database(sqlite_url(auditor.data_dir))).version()


def explain(auditor, instance: str, source: str, proto: str = "tcp", port: int = 0) -> dict:
    args = ["sg", "explain", "--instance", instance, "--from", source, "--proto", proto]
    rc, text = run(auditor, *args, "--port", str(port), "--json")
    assert rc == 0, text
    return json.loads(text)


def new_vpc(auditor, *extra: str) -> str:
    """A VPC of its own for a test (10.N.0.0/16 keeps addresses apart)."""
    cidr = f"10.{next(_cidr)}.0.0/16"
    return ok(auditor, "CreateVpc", R, f"CidrBlock={cidr}", *extra)["VpcId"]


def ip_of(auditor, vpc: str, host: int) -> str:
    block = next(
        v["CidrBlock"] for v in ok(auditor, "DescribeVpcs", R, f"VpcId={vpc}")["Vpcs"]["Vpc"]
    )
    a, b = block.split(".")[:2]
    return f"{a}.{b}.0.{host}"


def group(auditor, vpc: str | None, *extra: str) -> str:
    args = [R, *extra] + ([f"VpcId={vpc}"] if vpc else [])
    return ok(auditor, "CreateSecurityGroup", *args)["SecurityGroupId"]


def instance(auditor, vpc: str | None, groups: list[str], private_ip: str, *extra: str) -> str:
    args = [R, f"PrivateIpAddress={private_ip}", f"SecurityGroupIds={json.dumps(groups)}", *extra]
    if vpc:
        args.append(f"VpcId={vpc}")
    else:
        args.append("InstanceNetworkType=classic")
    return ok(auditor, "RunInstances", *args)["InstanceIdSets"]["InstanceIdSet"][0]


def authorize(auditor, gid: str, proto: str, ports: str, *extra: str, egress=False) -> list:
    action = "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroup"
    body = ok(
        auditor,
        action,
        R,
        f"SecurityGroupId={gid}",
        f"IpProtocol={proto}",
        f"PortRange={ports}",
        *extra,
    )
    return body["SecurityGroupRuleIds"]["SecurityGroupRuleId"]


def permissions(auditor, gid: str, *extra: str) -> list[dict]:
    body = ok(auditor, "DescribeSecurityGroupAttribute", R, f"SecurityGroupId={gid}", *extra)
    return body["Permissions"]["Permission"]


def content(perms: list[dict]) -> list[tuple]:
    """Rules without ids and times: what "identical rules" means across groups."""
    drop = {"SecurityGroupRuleId", "CreateTime"}
    return sorted(tuple(sorted((k, v) for k, v in p.items() if k not in drop)) for p in perms)


# -- groups --


def test_create_with_the_three_templates_and_describe_with_filters_and_paging(auditor):
    vpc = new_vpc(auditor)
    linux = group(auditor, vpc, "Template=Web Server Linux", "SecurityGroupName=tmpl-linux")
    windows = group(auditor, vpc, "Template=web-server-windows", "SecurityGroupName=tmpl-win")
    custom = group(auditor, vpc, "SecurityGroupName=tmpl-custom", "Description=no rules")
    ports = {
        g: sorted((p["IpProtocol"], p["PortRange"]) for p in permissions(auditor, g))
        for g in (linux, windows, custom)
    }
    assert ports[linux] == [
        ("ICMP", "-1/-1"),
        ("TCP", "22/22"),
        ("TCP", "443/443"),
        ("TCP", "80/80"),
    ]
    assert ports[windows] == [
        ("ICMP", "-1/-1"),
        ("TCP", "3389/3389"),
        ("TCP", "443/443"),
        ("TCP", "80/80"),
    ]
    assert ports[custom] == []
    # the custom group denies all ingress: nothing reaches its instance from the internet
    i = instance(auditor, vpc, [custom], ip_of(auditor, vpc, 5), "PublicIpAddress=47.9.0.5")
    assert explain(auditor, i, "internet", "tcp", 22)["Reachable"] is False

    by_vpc = ok(auditor, "DescribeSecurityGroups", R, f"VpcId={vpc}", "PageSize=2")
    assert by_vpc["TotalCount"] == 3 and len(by_vpc["SecurityGroups"]["SecurityGroup"]) == 2
    page2 = ok(auditor, "DescribeSecurityGroups", R, f"VpcId={vpc}", "PageSize=2", "PageNumber=2")
    seen = by_vpc["SecurityGroups"]["SecurityGroup"] + page2["SecurityGroups"]["SecurityGroup"]
    assert {g["SecurityGroupId"] for g in seen} == {linux, windows, custom}
    by_ids = ok(
        auditor, "DescribeSecurityGroups", R, f"SecurityGroupIds={json.dumps([linux, custom])}"
    )
    assert {g["SecurityGroupId"] for g in by_ids["SecurityGroups"]["SecurityGroup"]} == {
        linux,
        custom,
    }
    by_name = ok(auditor, "DescribeSecurityGroups", R, "SecurityGroupName=tmpl-win")
    (only,) = by_name["SecurityGroups"]["SecurityGroup"]
    assert only["SecurityGroupId"] == windows and only["VpcId"] == vpc
    assert only["EcsCount"] == 0 and only["RuleCount"] == 4

    assert refused(auditor, "CreateSecurityGroup", R, f"VpcId={vpc}", "Template=db") == (
        "InvalidTemplate.ValueNotSupported"
    )
    assert refused(auditor, "CreateSecurityGroup", R, f"VpcId={vpc}", "SecurityGroupName=1abc") == (
        "InvalidSecurityGroupName.Malformed"
    )
    assert refused(
        auditor, "CreateSecurityGroup", R, f"VpcId={vpc}", "Description=http://x.example"
    ) == ("InvalidDescription.Malformed")
    assert refused(auditor, "CreateSecurityGroup", R, "SecurityGroupType=enterprise") == (
        "InvalidSecurityGroupType.ClassicNotSupported"
    )
    assert (
        refused(auditor, "CreateSecurityGroup", R, "VpcId=vpc-nothere") == "InvalidVpcId.NotFound"
    )
    assert refused(auditor, "CreateSecurityGroup", R, f"VpcId={vpc}", "Colour=red") == (
        "InvalidParameter"
    )


def test_attribute_has_the_ecs_shape_and_filters_by_direction(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc, "SecurityGroupName=shape")
    (rid,) = authorize(
        auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4", "Priority=5", "Description=ops ssh"
    )
    authorize(auditor, g, "udp", "53/53", "DestCidrIp=8.8.8.8/32", egress=True)
    body = ok(auditor, "DescribeSecurityGroupAttribute", R, f"SecurityGroupId={g}")
    assert (
        body["SecurityGroupId"] == g and body["VpcId"] == vpc and body["RegionId"] == "cn-hangzhou"
    )
    assert body["InnerAccessPolicy"] == "Accept"
    ingress = permissions(auditor, g, "Direction=ingress")
    assert len(ingress) == 1
    perm = ingress[0]
    for field in (
        "IpProtocol",
        "PortRange",
        "SourceCidrIp",
        "DestCidrIp",
        "SourceGroupId",
        "DestGroupId",
        "SourceGroupOwnerAccount",
        "Policy",
        "Priority",
        "NicType",
        "Description",
        "CreateTime",
        "Direction",
        "SecurityGroupRuleId",
    ):
        assert field in perm
    assert (perm["IpProtocol"], perm["PortRange"], perm["SourceCidrIp"]) == (
        "TCP",
        "22/22",
        "1.2.3.4/32",
    )
    assert (perm["Priority"], perm["Policy"], perm["NicType"]) == ("5", "Accept", "intranet")
    assert perm["Description"] == "ops ssh" and perm["SecurityGroupRuleId"] == rid
    egress = permissions(auditor, g, "Direction=egress")
    assert [(p["DestCidrIp"], p["PortRange"]) for p in egress] == [("8.8.8.8/32", "53/53")]
    assert len(permissions(auditor, g)) == 2
    assert (
        refused(
            auditor,
            "DescribeSecurityGroupAttribute",
            R,
            f"SecurityGroupId={g}",
            "Direction=sideways",
        )
        == "InvalidDirection.Malformed"
    )
    assert refused(auditor, "DescribeSecurityGroupAttribute", R, "SecurityGroupId=sg-none") == (
        "InvalidSecurityGroupId.NotFound"
    )
    assert (
        refused(
            auditor,
            "DescribeSecurityGroupAttribute",
            "RegionId=cn-shanghai",
            f"SecurityGroupId={g}",
        )
        == "InvalidSecurityGroupId.NotFound"
    )


def test_modify_attribute_and_policy(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc, "SecurityGroupName=before")
    ok(
        auditor,
        "ModifySecurityGroupAttribute",
        R,
        f"SecurityGroupId={g}",
        "SecurityGroupName=after",
        "Description=renamed",
    )
    ok(auditor, "ModifySecurityGroupPolicy", R, f"SecurityGroupId={g}", "InnerAccessPolicy=Drop")
    body = ok(auditor, "DescribeSecurityGroupAttribute", R, f"SecurityGroupId={g}")
    assert (body["SecurityGroupName"], body["Description"]) == ("after", "renamed")
    assert body["InnerAccessPolicy"] == "Drop"
    assert (
        refused(
            auditor,
            "ModifySecurityGroupAttribute",
            R,
            f"SecurityGroupId={g}",
            "SecurityGroupName=-bad",
        )
        == "InvalidSecurityGroupName.Malformed"
    )
    assert (
        refused(
            auditor,
            "ModifySecurityGroupPolicy",
            R,
            f"SecurityGroupId={g}",
            "InnerAccessPolicy=Maybe",
        )
        == "InvalidInnerAccessPolicy.ValueNotSupported"
    )
    ent = group(auditor, vpc, "SecurityGroupType=enterprise")
    assert (
        refused(
            auditor,
            "ModifySecurityGroupPolicy",
            R,
            f"SecurityGroupId={ent}",
            "InnerAccessPolicy=Accept",
        )
        == "InvalidSecurityGroupType.NotSupported"
    )


# -- rules --


def test_authorize_revoke_and_modify_rules_with_the_models_error_codes(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    other = group(auditor, vpc)
    first = authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4/32")
    assert len(first) == 1
    assert authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4") == []  # identical: nothing
    assert len(permissions(auditor, g)) == 1
    assert len(authorize(auditor, g, "tcp", "80/80", "SourceCidrIp=1.1.1.1,2.2.2.0/24")) == 2
    authorize(auditor, g, "tcp", "3306/3306", f"SourceGroupId={other}")
    before = version(auditor)
    cases = [
        (("tcp", "22"), ("SourceCidrIp=1.2.3.4",), "InvalidPortRange.Malformed"),
        (("tcp", "0/22"), ("SourceCidrIp=1.2.3.4",), "InvalidPortRange.Malformed"),
        (("icmp", "22/22"), ("SourceCidrIp=1.2.3.4",), "InvalidPortRange.Malformed"),
        (("tcp", "22/22"), ("SourceCidrIp=1.2.3.4", "Priority=0"), "InvalidPriority.Malformed"),
        (("tcp", "22/22"), ("SourceCidrIp=1.2.3.4", "Priority=101"), "InvalidPriority.Malformed"),
        (("tcp", "22/22"), ("SourceCidrIp=1.2.3.4", "Policy=maybe"), "InvalidPolicy.Malformed"),
        (("smtp", "25/25"), ("SourceCidrIp=1.2.3.4",), "InvalidIpProtocol.Malformed"),
        (("tcp", "22/22"), ("SourceCidrIp=1.2.3.400",), "InvalidSourceCidrIp.Malformed"),
        (("tcp", "22/22"), ("SourceCidrIp=1.2.3.4/24",), "InvalidSourceCidrIp.Malformed"),
        (
            ("tcp", "22/22"),
            ("SourceCidrIp=" + ",".join(f"1.1.1.{i}" for i in range(11)),),
            "InvalidParameter.AuthorizationObjectCountExceeded",
        ),
        (("tcp", "22/22"), (), "MissingParameter.SourceCidrIp"),
        (("tcp", "22/22"), ("SourceGroupId=sg-nothere",), "InvalidSourceGroupId.NotFound"),
        (
            ("tcp", "22/22"),
            ("SourceCidrIp=1.2.3.4", "NicType=internet"),
            "InvalidNicType.ValueNotSupported",
        ),
        (
            ("tcp", "22/22"),
            ("SourceCidrIp=1.2.3.4", "Description=https://x"),
            "InvalidDescription.Malformed",
        ),
    ]
    for (proto, ports), extra, code in cases:
        got = refused(
            auditor,
            "AuthorizeSecurityGroup",
            R,
            f"SecurityGroupId={g}",
            f"IpProtocol={proto}",
            f"PortRange={ports}",
            *extra,
        )
        assert got == code, (proto, ports, extra)
    assert refused(
        auditor,
        "AuthorizeSecurityGroup",
        R,
        "SecurityGroupId=sg-nothere",
        "IpProtocol=tcp",
        "PortRange=22/22",
        "SourceCidrIp=1.2.3.4",
    ) == ("InvalidSecurityGroupId.NotFound")
    assert version(auditor) == before  # nothing stored on error
    assert len(permissions(auditor, g)) == 4

    # Revoke by fields, then by id (several at once, all or nothing).
    ok(
        auditor,
        "RevokeSecurityGroup",
        R,
        f"SecurityGroupId={g}",
        "IpProtocol=tcp",
        "PortRange=22/22",
        "SourceCidrIp=1.2.3.4",
    )
    assert (
        refused(
            auditor,
            "RevokeSecurityGroup",
            R,
            f"SecurityGroupId={g}",
            "IpProtocol=tcp",
            "PortRange=22/22",
            "SourceCidrIp=1.2.3.4",
        )
        == "InvalidPermission.NotFound"
    )
    ids = [p["SecurityGroupRuleId"] for p in permissions(auditor, g) if p["PortRange"] == "80/80"]
    assert refused(
        auditor,
        "RevokeSecurityGroup",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId.1={ids[0]}",
        "SecurityGroupRuleId.2=sgr-nothere",
    ) == ("InvalidSecurityGroupRuleId.NotFound")
    assert len(permissions(auditor, g)) == 3
    ok(
        auditor,
        "RevokeSecurityGroup",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId.1={ids[0]}",
        f"SecurityGroupRuleId.2={ids[1]}",
    )
    assert [p["PortRange"] for p in permissions(auditor, g)] == ["3306/3306"]

    # Egress: authorize, modify (fields not given stay), revoke by id.
    (eid,) = authorize(auditor, g, "tcp", "443/443", "DestCidrIp=9.9.9.9", egress=True)
    assert (
        refused(
            auditor,
            "RevokeSecurityGroup",
            R,
            f"SecurityGroupId={g}",
            f"SecurityGroupRuleId.1={eid}",
        )
        == "InvalidSecurityGroupRuleId.NotFound"
    )
    ok(
        auditor,
        "ModifySecurityGroupEgressRule",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId={eid}",
        "Policy=drop",
        "Priority=3",
    )
    (e,) = permissions(auditor, g, "Direction=egress")
    assert (e["Policy"], e["Priority"], e["DestCidrIp"], e["PortRange"]) == (
        "Drop",
        "3",
        "9.9.9.9/32",
        "443/443",
    )
    assert e["SecurityGroupRuleId"] == eid
    assert refused(
        auditor,
        "ModifySecurityGroupEgressRule",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId={eid}",
        "PortRange=99999/99999",
    ) == ("InvalidPortRange.Malformed")
    ok(
        auditor,
        "RevokeSecurityGroupEgress",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId.1={eid}",
    )
    assert permissions(auditor, g, "Direction=egress") == []
    (ssh,) = [p["SecurityGroupRuleId"] for p in permissions(auditor, g)]
    ok(
        auditor,
        "ModifySecurityGroupRule",
        R,
        f"SecurityGroupId={g}",
        f"SecurityGroupRuleId={ssh}",
        "SourceCidrIp=5.6.7.0/24",
        "Description=moved",
    )
    (moved,) = permissions(auditor, g)
    assert (moved["SourceCidrIp"], moved["SourceGroupId"], moved["Description"]) == (
        "5.6.7.0/24",
        "",
        "moved",
    )


def test_rule_limit_per_group(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    for n in range(10):
        cidrs = ",".join(f"3.{n}.{i}.0/24" for i in range(10))
        authorize(auditor, g, "tcp", "22/22", f"SourceCidrIp={cidrs}")
    assert len(permissions(auditor, g)) == 100
    assert refused(
        auditor,
        "AuthorizeSecurityGroup",
        R,
        f"SecurityGroupId={g}",
        "IpProtocol=tcp",
        "PortRange=22/22",
        "SourceCidrIp=4.4.4.4",
    ) == ("QuotaExceed.RulePerGroup")


# -- instances, VPCs, membership --


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


# -- the ECS security guide's eight application cases --


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


# -- clone, export/import, restore, audit --


def _rich_group(auditor, vpc: str) -> str:
    g = group(auditor, vpc, "SecurityGroupName=prod-web", "Description=production web")
    authorize(auditor, g, "tcp", "80/80", "SourceCidrIp=0.0.0.0/0", "Description=http")
    authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=203.0.113.0/24", "Priority=5")
    authorize(auditor, g, "all", "-1/-1", "SourceCidrIp=198.51.100.0/24", "Policy=drop")
    authorize(auditor, g, "udp", "53/53", "DestCidrIp=8.8.8.8", egress=True)
    return g


def test_export_then_import_into_another_region_gives_identical_rules(auditor):
    vpc = new_vpc(auditor)
    source = _rich_group(auditor, vpc)
    exported = ok(auditor, "ExportSecurityGroupRules", R, f"SecurityGroupId={source}")
    assert exported["FileName"] == f"ecs_cn-hangzhou_{source}.json"
    ok(auditor, "AddRegion", "RegionId=cn-beijing")
    bj = ok(auditor, "CreateVpc", "RegionId=cn-beijing", "CidrBlock=192.168.0.0/16")["VpcId"]
    target = ok(auditor, "CreateSecurityGroup", "RegionId=cn-beijing", f"VpcId={bj}")[
        "SecurityGroupId"
    ]
    doc = json.dumps(exported["Document"])
    preview = ok(
        auditor,
        "ImportSecurityGroupRules",
        "RegionId=cn-beijing",
        f"SecurityGroupId={target}",
        f"Document={doc}",
        "DryRun=true",
    )
    assert preview["AddedCount"] == 4 and preview["FailedCount"] == 0
    assert (
        ok(
            auditor,
            "DescribeSecurityGroupAttribute",
            "RegionId=cn-beijing",
            f"SecurityGroupId={target}",
        )["Permissions"]["Permission"]
        == []
    )
    done = ok(
        auditor,
        "ImportSecurityGroupRules",
        "RegionId=cn-beijing",
        f"SecurityGroupId={target}",
        f"Document={doc}",
    )
    assert [r["Status"] for r in done["Results"]["Result"]] == [
        r["Status"] for r in preview["Results"]["Result"]
    ]
    imported = ok(
        auditor,
        "DescribeSecurityGroupAttribute",
        "RegionId=cn-beijing",
        f"SecurityGroupId={target}",
    )["Permissions"]["Permission"]
    assert content(imported) == content(permissions(auditor, source))
    again = ok(
        auditor,
        "ImportSecurityGroupRules",
        "RegionId=cn-beijing",
        f"SecurityGroupId={target}",
        f"Document={doc}",
    )
    assert again["AddedCount"] == 0 and again["ExistsCount"] == 4  # never overwrites
    # a bad rule fails alone, with its reason; a document that is not JSON fails whole
    bad = json.dumps(
        [
            {
                "Direction": "ingress",
                "IpProtocol": "TCP",
                "PortRange": "1/99999",
                "SourceCidrIp": "1.1.1.1/32",
            }
        ]
    )
    result = ok(
        auditor,
        "ImportSecurityGroupRules",
        "RegionId=cn-beijing",
        f"SecurityGroupId={target}",
        f"Document={bad}",
        "DryRun=true",
    )
    (r,) = result["Results"]["Result"]
    assert r["Status"] == "failed" and r["Code"] == "InvalidPortRange.Malformed" and r["Reason"]
    assert (
        refused(
            auditor,
            "ImportSecurityGroupRules",
            "RegionId=cn-beijing",
            f"SecurityGroupId={target}",
            "Document={nope",
        )
        == "InvalidParameter.Malformed"
    )


def test_clone_to_another_region_and_network_type(auditor):
    vpc = new_vpc(auditor)
    source = _rich_group(auditor, vpc)
    ok(auditor, "AddRegion", "RegionId=cn-shenzhen")
    sz = ok(auditor, "CreateVpc", "RegionId=cn-shenzhen", "CidrBlock=192.168.0.0/16")["VpcId"]
    clone = ok(
        auditor,
        "CloneSecurityGroup",
        R,
        f"SecurityGroupId={source}",
        "DestinationRegionId=cn-shenzhen",
        f"VpcId={sz}",
        "SecurityGroupName=prod-web-copy",
    )
    assert clone["RegionId"] == "cn-shenzhen" and clone["Skipped"]["Rule"] == []
    copied = ok(
        auditor,
        "DescribeSecurityGroupAttribute",
        "RegionId=cn-shenzhen",
        f"SecurityGroupId={clone['SecurityGroupId']}",
    )
    assert copied["SecurityGroupName"] == "prod-web-copy"
    assert content(copied["Permissions"]["Permission"]) == content(permissions(auditor, source))
    classic = ok(
        auditor, "CloneSecurityGroup", R, f"SecurityGroupId={source}", "NetworkType=classic"
    )
    perms = permissions(auditor, classic["SecurityGroupId"])
    assert len(perms) == 4 and {p["NicType"] for p in perms} == {"internet"}


def test_restore_full_and_partial_previews_match_what_happens(auditor):
    vpc = new_vpc(auditor)
    target = _rich_group(auditor, vpc)
    for mode in ("full", "partial"):
        g = group(auditor, vpc)
        authorize(auditor, g, "tcp", "80/80", "SourceCidrIp=0.0.0.0/0", "Description=http")
        authorize(auditor, g, "tcp", "8080/8080", "SourceCidrIp=0.0.0.0/0")  # not in the target
        before = permissions(auditor, g)
        v0 = version(auditor)
        preview = ok(
            auditor,
            "RestoreSecurityGroup",
            R,
            f"SecurityGroupId={g}",
            f"TargetSecurityGroupId={target}",
            f"Mode={mode}",
            "DryRun=true",
        )
        assert permissions(auditor, g) == before  # a preview changes nothing
        added = preview["Added"]["Permission"]
        removed = preview["Removed"]["Permission"]
        assert len(added) == 3  # the target's rules that g lacks (green)
        if mode == "full":
            assert [p["PortRange"] for p in removed] == ["8080/8080"]  # red
        else:
            assert removed == []
        done = ok(
            auditor,
            "RestoreSecurityGroup",
            R,
            f"SecurityGroupId={g}",
            f"TargetSecurityGroupId={target}",
            f"Mode={mode}",
        )
        assert content(done["Added"]["Permission"]) == content(added)
        assert content(done["Removed"]["Permission"]) == content(removed)
        after = permissions(auditor, g)
        removed_ids = {p["SecurityGroupRuleId"] for p in removed}
        expected = [p for p in before if p["SecurityGroupRuleId"] not in removed_ids] + added
        assert content(after) == content(expected)
        if mode == "full":
            assert content(after) == content(permissions(auditor, target))  # identical now
        assert version(auditor) > v0
    assert refused(
        auditor,
        "RestoreSecurityGroup",
        R,
        f"SecurityGroupId={target}",
        f"TargetSecurityGroupId={target}",
        "Mode=sideways",
    ) == ("InvalidParameter.RestoreMode")


def test_every_change_is_in_the_groups_audit_log(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc, "SecurityGroupName=audited")
    (rid,) = authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4")
    ok(auditor, "ModifySecurityGroupAttribute", R, f"SecurityGroupId={g}", "Description=changed")
    ok(auditor, "RevokeSecurityGroup", R, f"SecurityGroupId={g}", f"SecurityGroupRuleId.1={rid}")
    authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4")
    authorize(auditor, g, "tcp", "22/22", "SourceCidrIp=1.2.3.4")  # nothing added: no entry
    entries = ok(auditor, "DescribeSecurityGroupAudit", R, f"SecurityGroupId={g}")["AuditEntries"][
        "AuditEntry"
    ]
    assert [e["Action"] for e in entries] == [
        "AuthorizeSecurityGroup",
        "RevokeSecurityGroup",
        "ModifySecurityGroupAttribute",
        "AuthorizeSecurityGroup",
        "CreateSecurityGroup",
    ]
    revoke = entries[1]
    assert [p["SecurityGroupRuleId"] for p in revoke["Before"]["Permissions"]["Permission"]] == [
        rid
    ]
    assert revoke["After"]["Permissions"]["Permission"] == []
    assert all(e["Resource"].endswith(f":securitygroup/{g}") for e in entries)
    assert entries[-1]["Before"] is None and entries[-1]["After"]["SecurityGroupName"] == "audited"


# -- apply and import-ecs --

FLEET = """
region: cn-hangzhou
regions: [cn-chengdu]
vpcs:
  - {name: apply-prod, cidr: 192.168.0.0/16}
security_groups:
  - name: apply-bastion
    vpc: apply-prod
    rules:
      - {protocol: tcp, ports: 22, cidr: "203.0.113.0/24,198.51.100.7"}
  - name: apply-web
    vpc: apply-prod
    description: Web servers
    rules:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22/22, group: apply-bastion}
      - {direction: egress, protocol: all, cidr: 10.0.0.0/8, policy: drop, priority: 5}
instances:
  - {name: apply-bastion-1, vpc: apply-prod, private_ip: 192.168.0.5, public_ip: 47.5.0.5,
     security_groups: [apply-bastion]}
  - {name: apply-web-1, vpc: apply-prod, private_ip: 192.168.0.10,
     security_groups: [apply-web], status: Stopped}
"""


def test_apply_creates_the_fleet_and_applying_again_changes_nothing(auditor, tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    rc, text = run(auditor, "apply", str(path), "--dry-run", "--json")
    assert rc == 0, text
    plan = json.loads(text)
    assert (
        plan["DryRun"] and ok(auditor, "DescribeVpcs", R, "VpcName=apply-prod")["TotalCount"] == 0
    )
    rc, text = run(auditor, "apply", str(path), "--json")
    assert rc == 0, text
    done = json.loads(text)
    assert [c["Action"] for c in done["Changes"]] == [c["Action"] for c in plan["Changes"]]
    actions = [c["Action"] for c in done["Changes"]]
    assert actions.count("CreateSecurityGroup") == 2 and actions.count("Authorize") == 5
    assert "RunInstances" in actions and "CreateInstance" in actions and "AddRegion" in actions
    v = version(auditor)
    rc, text = run(auditor, "apply", str(path))
    assert rc == 0 and text.strip() == "no changes", text
    assert version(auditor) == v  # the second apply wrote nothing
    web = ok(auditor, "DescribeInstances", R, "InstanceName=apply-web-1")["Instances"]["Instance"][
        0
    ]
    bastion = ok(auditor, "DescribeInstances", R, "InstanceName=apply-bastion-1")["Instances"][
        "Instance"
    ][0]
    assert web["Status"] == "Stopped"
    assert explain(auditor, web["InstanceId"], bastion["InstanceId"], "tcp", 22)["Reachable"]
    assert not explain(auditor, web["InstanceId"], bastion["InstanceId"], "tcp", 80)["Reachable"]
    # a change in the file: only the difference is applied
    path.write_text(
        FLEET.replace("ports: 443", "ports: 8443").replace("status: Stopped", "status: Running")
    )
    rc, text = run(auditor, "apply", str(path), "--json")
    assert rc == 0, text
    changes = sorted((c["Action"], c["Detail"][:30]) for c in json.loads(text)["Changes"])
    assert [a for a, _ in changes] == ["Authorize", "Revoke", "StartInstance"]


def test_apply_refuses_a_bad_file_and_changes_nothing(auditor, tmp_path):
    v = version(auditor)
    for text, code in (
        ("vpcs: [{name: x, colour: red}]", "InvalidFleet.Malformed"),
        ("security_groups: {}", "InvalidFleet.Malformed"),
        ("[unclosed", "InvalidFleet.Malformed"),
        (
            FLEET.replace("apply-", "bad-").replace("ports: 22/22", "ports: 22/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            FLEET.replace("apply-", "bad2-").replace("192.168.0.10", "10.0.0.1"),
            "InvalidPrivateIpAddress.Mismatch",
        ),
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        rc, out = run(auditor, "apply", str(path))
        assert rc == 1 and json.loads(out)["Code"] == code, out
    assert version(auditor) == v
    assert ok(auditor, "DescribeVpcs", R, "VpcName=bad-prod")["TotalCount"] == 0


def test_import_ecs_loads_real_responses_keeping_ids(auditor, tmp_path):
    """The JSON the real ECS API answers, with its ids, PascalCase fields and extra fields."""
    groups = {
        "RegionId": "cn-hangzhou",
        "TotalCount": 2,
        "SecurityGroups": {
            "SecurityGroup": [
                {
                    "SecurityGroupId": "sg-bp1real0web",
                    "SecurityGroupName": "real-web",
                    "VpcId": "vpc-bp1real0001",
                    "SecurityGroupType": "normal",
                    "Description": "imported",
                    "CreationTime": "2019-01-01T00:00Z",
                    "Tags": {"Tag": []},
                },
                {
                    "SecurityGroupId": "sg-bp1real0ops",
                    "SecurityGroupName": "real-ops",
                    "VpcId": "vpc-bp1real0001",
                    "SecurityGroupType": "normal",
                },
            ]
        },
        "RequestId": "X",
    }
    attribute = {
        "RegionId": "cn-hangzhou",
        "SecurityGroupId": "sg-bp1real0web",
        "VpcId": "vpc-bp1real0001",
        "InnerAccessPolicy": "Accept",
        "Permissions": {
            "Permission": [
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "443/443",
                    "SourceCidrIp": "0.0.0.0/0",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                    "SourcePortRange": "",
                    "Ipv6SourceCidrIp": "",
                    "CreateTime": "2019-01-01T00:00:00Z",
                    "Description": "",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "22/22",
                    "SourceGroupId": "sg-bp1real0ops",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "22/22",
                    "Ipv6SourceCidrIp": "::/0",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "ICMP",
                    "PortRange": "-1/-1",
                    "SourceCidrIp": "0.0.0.0/0",
                    "Policy": "Accept",
                    "Priority": 110,
                    "NicType": "intranet",
                },
            ]
        },
    }
    instances = {
        "Instances": {
            "Instance": [
                {
                    "InstanceId": "i-bp1real0web1",
                    "InstanceName": "real-web-1",
                    "RegionId": "cn-hangzhou",
                    "InstanceType": "ecs.g6.large",
                    "OSType": "linux",
                    "InstanceNetworkType": "vpc",
                    "Status": "Running",
                    "CreationTime": "2019-01-01T00:00Z",
                    "VpcAttributes": {
                        "VpcId": "vpc-bp1real0001",
                        "PrivateIpAddress": {"IpAddress": ["172.31.0.10"]},
                    },
                    "PublicIpAddress": {"IpAddress": ["47.4.0.10"]},
                    "SecurityGroupIds": {"SecurityGroupId": ["sg-bp1real0web"]},
                    "KeyPairName": "ops-key",
                },
            ]
        },
        "TotalCount": 1,
    }
    files = []
    for name, doc in (("g", groups), ("a", attribute), ("i", instances)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(doc))
    rc, text = run(auditor, "import-ecs", *map(str, files), "--json")
    assert rc == 0, text
    out = json.loads(text)
    assert any("IPv6" in n for n in out["Notes"]) and any("priority-110" in n for n in out["Notes"])
    assert any("ops-key" in n for n in out["Notes"])
    (web,) = ok(auditor, "DescribeInstances", R, 'InstanceIds=["i-bp1real0web1"]')["Instances"][
        "Instance"
    ]
    assert web["VpcAttributes"]["VpcId"] == "vpc-bp1real0001"
    assert web["CreationTime"] == "2019-01-01T00:00Z"
    perms = permissions(auditor, "sg-bp1real0web")
    assert {(p["PortRange"], p["SourceCidrIp"] or p["SourceGroupId"]) for p in perms} == {
        ("443/443", "0.0.0.0/0"),
        ("22/22", "sg-bp1real0ops"),
    }
    assert explain(auditor, "i-bp1real0web1", "internet", "tcp", 443)["Complete"]
    v = version(auditor)
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 0 and "no changes" in text
    assert version(auditor) == v
    # a broken response changes nothing and says where the problem is
    instances["Instances"]["Instance"][0]["InstanceId"] = "i-bp1real0web2"
    instances["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"] = {"IpAddress": 7}
    files[2].write_text(json.dumps(instances))
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 1 and "PrivateIpAddress" in json.loads(text)["Message"]
    instances["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"] = {
        "IpAddress": ["172.31.0.10"]  # taken by i-bp1real0web1
    }
    files[2].write_text(json.dumps(instances))
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 1 and json.loads(text)["Code"] == "InvalidPrivateIpAddress.Duplicated"
    assert version(auditor) == v
