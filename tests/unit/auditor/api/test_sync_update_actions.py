"""The two update actions `palisade sync` needed (issue 19), named and shaped as the official
APIs have them: RAM's UpdateRole (a role's trust policy, description, longest session) and
the VPC API's ModifyVSwitchAttribute (a vSwitch's name and description), through the signed
pipeline in-process: RAM authorises each on its resource, the audit log records before and
after, a refused value changes nothing."""

from __future__ import annotations

import json

from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.in_process_ram import user_with_key
from tests.helpers.ram_policies import ECS_TRUST, policy

R = {"RegionId": DEFAULT_REGION}
ACCOUNT_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": ["acs:ram::1000:root"]},
            }
        ],
    }
)


def _may(h, name: str, action: str, resource: str) -> tuple[str, str]:
    """A user whose only permission is `action` on `resource`."""
    document = policy({"Effect": "Allow", "Action": action, "Resource": resource})
    h.ok("CreatePolicy", PolicyName=f"{name}-only", PolicyDocument=document)
    return user_with_key(h, name, ("Custom", f"{name}-only"))


def test_update_role_changes_what_is_given_and_is_audited(h):
    h.ok("CreateRole", RoleName="web", AssumeRolePolicyDocument=ECS_TRUST, Description="old")
    role = h.ok("UpdateRole", RoleName="web", NewAssumeRolePolicyDocument=ACCOUNT_TRUST)["Role"]
    assert role["AssumeRolePolicyDocument"] == ACCOUNT_TRUST
    assert role["Description"] == "old" and role["MaxSessionDuration"] == 3600  # not given: kept
    got = h.ok("GetRole", RoleName="web")["Role"]
    assert got["AssumeRolePolicyDocument"] == ACCOUNT_TRUST
    assert h.state.ram.roles["web"].trusts_service("ecs.aliyuncs.com") is False
    h.ok("UpdateRole", RoleName="web", NewDescription="", NewMaxSessionDuration="7200")
    got = h.ok("GetRole", RoleName="web")["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("", 7200)
    entries = [e for e in h.audit() if e.action == "UpdateRole"]
    assert len(entries) == 2
    assert entries[-1].before["AssumeRolePolicyDocument"] == ECS_TRUST
    assert entries[-1].after["AssumeRolePolicyDocument"] == ACCOUNT_TRUST


def test_update_role_refuses_bad_values_and_changes_nothing(h):
    h.ok("CreateRole", RoleName="web", AssumeRolePolicyDocument=ECS_TRUST)
    version = h.api.version
    bad = (
        ({"NewAssumeRolePolicyDocument": "{"}, "MalformedPolicyDocument"),
        (
            {"NewMaxSessionDuration": "60", "NewAssumeRolePolicyDocument": ACCOUNT_TRUST},
            "InvalidParameter.MaxSessionDuration",
        ),
        ({"NewDescription": "d" * 1025}, None),
        ({"NewRoleName": "other"}, "InvalidParameter"),
    )
    for params, code in bad:
        status, got, _ = h.error("UpdateRole", RoleName="web", **params)
        assert status == 400 and (code is None or got == code), (params, got)
    assert h.error("UpdateRole", RoleName="nobody", NewDescription="x")[1] == (
        "EntityNotExist.Role"
    )
    assert h.api.version == version
    assert h.ok("GetRole", RoleName="web")["Role"]["AssumeRolePolicyDocument"] == ECS_TRUST


def test_update_role_is_authorised_on_the_role(h):
    h.ok("CreateRole", RoleName="web", AssumeRolePolicyDocument=ECS_TRUST)
    h.ok("CreateRole", RoleName="db", AssumeRolePolicyDocument=ECS_TRUST)
    key = _may(h, "roleops", "ram:UpdateRole", "acs:ram:*:*:role/web")
    h.ok("UpdateRole", key, RoleName="web", NewDescription="ops may")
    status, code, _ = h.error("UpdateRole", key, RoleName="db", NewDescription="no")
    assert (status, code) == (403, "Forbidden.RAM")
    reader = _may(h, "reader", "ram:GetRole", "*")
    assert h.error("UpdateRole", reader, RoleName="web", NewDescription="no")[1] == (
        "Forbidden.RAM"
    )
    assert h.ok("GetRole", RoleName="db")["Role"]["Description"] == ""


def _vswitch(h) -> str:
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    return h.ok(
        "CreateVSwitch", **R, VpcId=vpc, ZoneId="cn-hangzhou-h", CidrBlock="172.16.1.0/24",
        VSwitchName="web", Description="old",
    )["VSwitchId"]  # fmt: skip


def test_modify_vswitch_attribute_renames_and_is_audited(h):
    sw = _vswitch(h)
    h.ok("ModifyVSwitchAttribute", **R, VSwitchId=sw, VSwitchName="web-h")
    (got,) = h.ok("DescribeVSwitches", **R, VSwitchId=sw)["VSwitches"]["VSwitch"]
    assert (got["VSwitchName"], got["Description"]) == ("web-h", "old")  # not given: kept
    h.ok("ModifyVSwitchAttribute", **R, VSwitchId=sw, Description="")
    (got,) = h.ok("DescribeVSwitches", **R, VSwitchId=sw)["VSwitches"]["VSwitch"]
    assert (got["VSwitchName"], got["Description"], got["CidrBlock"]) == (
        "web-h",
        "",
        "172.16.1.0/24",
    )
    entries = [e for e in h.audit() if e.action == "ModifyVSwitchAttribute"]
    assert [e.after["VSwitchName"] for e in entries] == ["web-h", "web-h"]
    assert entries[-1].before["VSwitchName"] == "web"


def test_modify_vswitch_attribute_refuses_and_is_authorised(h):
    sw = _vswitch(h)
    version = h.api.version
    assert h.error("ModifyVSwitchAttribute", **R, VSwitchId=sw, VSwitchName="n" * 129)[1] == (
        "InvalidVSwitchName.Malformed"
    )
    assert h.error("ModifyVSwitchAttribute", **R, VSwitchId="vsw-none", VSwitchName="x")[1] == (
        "InvalidVSwitchId.NotFound"
    )
    assert h.error("ModifyVSwitchAttribute", RegionId="cn-shanghai", VSwitchId=sw,
                   VSwitchName="x")[1] == "InvalidVSwitchId.NotFound"  # fmt: skip
    assert h.error("ModifyVSwitchAttribute", **R, VSwitchId=sw, CidrBlock="172.16.2.0/24")[1] == (
        "InvalidParameter"
    )
    assert h.api.version == version
    key = _may(h, "netops", "vpc:ModifyVSwitchAttribute", f"acs:vpc:*:*:vswitch/{sw}")
    h.ok("ModifyVSwitchAttribute", key, **R, VSwitchId=sw, VSwitchName="by-netops")
    other = _may(h, "viewer", "vpc:DescribeVSwitches", "*")
    status, code, _ = h.error("ModifyVSwitchAttribute", other, **R, VSwitchId=sw, VSwitchName="x")
    assert (status, code) == (403, "Forbidden.RAM")
    (got,) = h.ok("DescribeVSwitches", **R, VSwitchId=sw)["VSwitches"]["VSwitch"]
    assert got["VSwitchName"] == "by-netops"
