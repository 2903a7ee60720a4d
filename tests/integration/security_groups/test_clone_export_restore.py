"""Copying security groups through `palisade api`: export/import, clone, restore (previews
match what happens), and the group's audit log.

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
    content,
    group,
    new_vpc,
    permissions,
    refused,
    version,
)

pytestmark = pytest.mark.integration


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
