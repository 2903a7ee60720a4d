"""Security groups and their rules through `palisade api`: every action and its error codes.

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
    permissions,
    refused,
    version,
)

pytestmark = pytest.mark.integration


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
