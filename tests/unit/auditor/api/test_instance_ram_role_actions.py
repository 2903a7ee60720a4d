"""Instance RAM roles through the in-process API pipeline: attaching, describing, detaching, and
the credentials an instance gets for its role, with a clock the tests move."""

from __future__ import annotations

import json

import pytest

from palisade.auditor.api.instance_credentials import InstanceRoleCredentials
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from palisade.auditor.model.ram import RamError
from tests.helpers.in_process_ram import ATTACH_ONLY, add_instances, reader_role, user_with_key
from tests.helpers.ram_policies import ECS_TRUST

PASS_ROLE = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "acs:ram:*:*:role/reader"}
        ],
    }
)


def test_attach_describe_detach_instance_ram_role(h):
    add_instances(h)
    reader_role(h)
    attached = h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        **{"InstanceIds.1": "i-vpc1", "InstanceIds.2": "i-vpc2"},
        RamRoleName="reader",
    )
    assert attached["TotalCount"] == 2 and attached["FailCount"] == 0
    described = h.ok("DescribeInstanceRamRole", RegionId=DEFAULT_REGION)
    assert described["TotalCount"] == 2
    assert {s["InstanceId"] for s in described["InstanceRamRoleSets"]["InstanceRamRoleSet"]} == {
        "i-vpc1",
        "i-vpc2",
    }
    one = h.ok("DescribeInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc2"]')
    assert one["InstanceRamRoleSets"]["InstanceRamRoleSet"] == [
        {"InstanceId": "i-vpc2", "RamRoleName": "reader"}
    ]
    assert h.ok("DescribeInstanceRamRole", RegionId="cn-beijing")["TotalCount"] == 0
    detached = h.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc2"]')
    result = detached["DetachInstanceRamRoleResults"]["DetachInstanceRamRoleResult"][0]
    assert result["InstanceRamRoleSets"]["InstanceRamRoleSet"][0]["RamRoleName"] == "reader"
    assert (
        h.error("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc2"]')[1]
        == "InvalidRamRole.NotAttached"
    )
    assert h.state.instance_roles.bindings == {"i-vpc1": "reader"}


def test_attach_refusals_change_nothing(h):
    add_instances(h)
    reader_role(h)
    h.ok(
        "CreateRole",
        RoleName="not-ecs",
        AssumeRolePolicyDocument=ECS_TRUST.replace("ecs.aliyuncs.com", "oss.aliyuncs.com"),
    )
    # one classic instance among VPC ones: the whole request is refused
    status, code, _ = h.error(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1", "i-classic"]',
        RamRoleName="reader",
    )
    assert code == "InvalidInstance.NotVpc"
    assert h.state.instance_roles.bindings == {}
    cases = {
        "InvalidRamRole.NotFound": dict(InstanceIds='["i-vpc1"]', RamRoleName="nosuch"),
        "InvalidRamRole.NotEcsRole": dict(InstanceIds='["i-vpc1"]', RamRoleName="not-ecs"),
        "InvalidInstanceId.NotFound": dict(InstanceIds='["i-nosuch"]', RamRoleName="reader"),
        "InvalidInstanceIds.Duplicate": dict(
            InstanceIds='["i-vpc1", "i-vpc1"]', RamRoleName="reader"
        ),
        "MissingParameter": dict(RamRoleName="reader"),
    }
    for expected, params in cases.items():
        assert h.error("AttachInstanceRamRole", RegionId=DEFAULT_REGION, **params)[1] == expected
    assert h.error("AttachInstanceRamRole", InstanceIds='["i-vpc1"]', RamRoleName="reader")[1] == (
        "MissingParameter"
    )
    assert (
        h.error(
            "AttachInstanceRamRole",
            RegionId="cn-beijing",
            InstanceIds='["i-vpc1"]',
            RamRoleName="reader",
        )[1]
        == "InvalidInstanceId.NotFound"
    )
    assert h.state.instance_roles.bindings == {}
    # granting another role replaces the first
    h.ok("CreateRole", RoleName="other", AssumeRolePolicyDocument=ECS_TRUST)
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="other",
    )
    assert h.state.instance_roles.bindings == {"i-vpc1": "other"}


def test_attaching_a_role_needs_pass_role_on_that_role(h):
    add_instances(h)
    reader_role(h)
    h.ok("CreatePolicy", PolicyName="attach-only", PolicyDocument=ATTACH_ONLY)
    h.ok("CreatePolicy", PolicyName="pass-reader", PolicyDocument=PASS_ROLE)
    grace = user_with_key(h, "grace", ("Custom", "attach-only"))
    status, code, message = h.error(
        "AttachInstanceRamRole",
        grace,
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    assert (status, code) == (403, "Forbidden.RAM")
    assert "ram:PassRole" in message and "role/reader" in message
    assert h.state.instance_roles.bindings == {}
    h.ok("AttachPolicyToUser", PolicyType="Custom", PolicyName="pass-reader", UserName="grace")
    h.ok(
        "AttachInstanceRamRole",
        grace,
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    # PassRole is for that role only
    h.ok("CreateRole", RoleName="admin-role", AssumeRolePolicyDocument=ECS_TRUST)
    assert (
        h.error(
            "AttachInstanceRamRole",
            grace,
            RegionId=DEFAULT_REGION,
            InstanceIds='["i-vpc2"]',
            RamRoleName="admin-role",
        )[1]
        == "Forbidden.RAM"
    )
    # without the ECS action, PassRole alone is not enough
    henry = user_with_key(h, "henry", ("Custom", "pass-reader"))
    status, code, message = h.error(
        "AttachInstanceRamRole",
        henry,
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc2"]',
        RamRoleName="reader",
    )
    assert code == "Forbidden.RAM" and "ecs:AttachInstanceRamRole" in message
    assert "instance/i-vpc2" in message


def test_instance_role_credentials_are_the_roles_permissions_until_they_expire_or_are_revoked(h):
    add_instances(h)
    reader_role(h)
    issuer = InstanceRoleCredentials(h.api)
    with pytest.raises(RamError) as no_role:
        issuer.issue("i-vpc1")
    assert no_role.value.code == "InvalidRamRole.NotAttached"
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    role, creds = issuer.issue("i-vpc1")
    assert role == "reader" and creds.access_key_id.startswith("STS.")
    with pytest.raises(RamError):
        issuer.issue("i-vpc1", "someone-else")
    with pytest.raises(RamError):
        issuer.issue("i-vpc2")  # another instance gets nothing
    session = (creds.access_key_id, creds.access_key_secret, creds.security_token)
    assert h.ok("DescribeInstanceRamRole", session, RegionId=DEFAULT_REGION)["TotalCount"] == 1
    status, code, message = h.error("CreateUser", session, UserName="mallory")
    assert (status, code) == (403, "Forbidden.RAM") and "role/reader" in message
    assert "ram:CreateUser" in message
    # policy changes on the role apply to live sessions at once
    h.ok("DetachPolicyFromRole", PolicyType="Custom", PolicyName="describe-only", RoleName="reader")
    assert h.error("DescribeInstanceRamRole", session, RegionId=DEFAULT_REGION)[1] == (
        "Forbidden.RAM"
    )
    h.ok("AttachPolicyToRole", PolicyType="Custom", PolicyName="describe-only", RoleName="reader")
    # while the role stays attached, credentials work until they expire
    h.advance(1800)
    assert h.ok("DescribeInstanceRamRole", session, RegionId=DEFAULT_REGION)
    h.advance(1801)
    assert h.error("DescribeInstanceRamRole", session, RegionId=DEFAULT_REGION)[1] == (
        "InvalidSecurityToken.Expired"
    )
    # detached: the next refresh is refused, and credentials already handed out at once
    _, live = issuer.issue("i-vpc1")
    live_session = (live.access_key_id, live.access_key_secret, live.security_token)
    assert h.ok("DescribeInstanceRamRole", live_session, RegionId=DEFAULT_REGION)
    h.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc1"]')
    with pytest.raises(RamError):
        issuer.issue("i-vpc1")
    assert h.error("DescribeInstanceRamRole", live_session, RegionId=DEFAULT_REGION)[1] == (
        "InvalidSecurityToken.Revoked"
    )
    # the session's secret is what signs: anything else is refused
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    _, fresh = issuer.issue("i-vpc1")
    forged = (fresh.access_key_id, "x" * 30, fresh.security_token)
    assert h.error("DescribeInstanceRamRole", forged, RegionId=DEFAULT_REGION)[1] == (
        "SignatureDoesNotMatch"
    )
