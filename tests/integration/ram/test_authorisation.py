"""RAM authorisation of users through a real auditor process: managed and custom policies,
explicit denies, source-IP conditions and group membership, each in force at the next request."""

from __future__ import annotations

import pytest

from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.ram_cli import new_user, ok, refused
from tests.helpers.ram_policies import policy

pytestmark = pytest.mark.integration


def test_read_only_user_describes_but_cannot_write(auditor):
    reader = new_user(auditor, "ro-user", "System:AliyunECSReadOnlyAccess")
    assert ok(auditor, "DescribeRegions", creds=reader)["Regions"]["Region"]
    code, message = refused(
        auditor,
        "AttachInstanceRamRole",
        f"RegionId={DEFAULT_REGION}",
        'InstanceIds=["i-anything"]',
        "RamRoleName=x",
        creds=reader,
    )
    assert code == "Forbidden.RAM"
    assert "ecs:AttachInstanceRamRole" in message and "instance/i-anything" in message
    assert "user/ro-user" in message
    code, message = refused(auditor, "CreateUser", "UserName=sneaky", creds=reader)
    assert code == "Forbidden.RAM" and "ram:CreateUser" in message and "user/sneaky" in message


def test_explicit_deny_beats_allow(auditor):
    ok(
        auditor,
        "CreatePolicy",
        "PolicyName=no-regions",
        "PolicyDocument="
        + policy({"Effect": "Deny", "Action": "ecs:DescribeRegions", "Resource": "*"}),
    )
    user = new_user(auditor, "denied", "System:AliyunECSFullAccess")
    assert ok(auditor, "DescribeRegions", creds=user)
    # a policy change is in force at the next request
    ok(
        auditor,
        "AttachPolicyToUser",
        "PolicyType=Custom",
        "PolicyName=no-regions",
        "UserName=denied",
    )
    code, message = refused(auditor, "DescribeRegions", creds=user)
    assert code == "Forbidden.RAM" and "explicit Deny" in message and "no-regions" in message
    ok(
        auditor,
        "DetachPolicyFromUser",
        "PolicyType=Custom",
        "PolicyName=no-regions",
        "UserName=denied",
    )
    assert ok(auditor, "DescribeRegions", creds=user)


def test_source_ip_condition_keeps_out_requests_from_outside_the_company_network(auditor):
    company_only = policy(
        {
            "Effect": "Allow",
            "Action": "ecs:Describe*",
            "Resource": "*",
            "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}},
        }
    )
    ok(auditor, "CreatePolicy", "PolicyName=company-network", f"PolicyDocument={company_only}")
    user = new_user(auditor, "office-user", "Custom:company-network")
    code, message = refused(auditor, "DescribeRegions", creds=user)
    assert code == "Forbidden.RAM" and "ecs:DescribeRegions" in message  # 127.0.0.1 is outside
    # the network grows to include loopback: the next request is allowed
    widened = company_only.replace('["10.0.0.0/8"]', '["10.0.0.0/8", "127.0.0.0/8"]')
    ok(
        auditor,
        "CreatePolicyVersion",
        "PolicyName=company-network",
        f"PolicyDocument={widened}",
        "SetAsDefault=true",
    )
    assert ok(auditor, "DescribeRegions", creds=user)
    # and a Deny for everything outside the network beats the Allow of a full-access policy
    ok(
        auditor,
        "CreatePolicy",
        "PolicyName=outside-denied",
        "PolicyDocument="
        + policy(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            }
        ),
    )
    strict = new_user(auditor, "strict-user", "System:AliyunECSFullAccess", "Custom:outside-denied")
    assert refused(auditor, "DescribeRegions", creds=strict)[0] == "Forbidden.RAM"


def test_moving_a_user_between_groups_changes_what_it_may_do_at_once(auditor):
    ok(auditor, "CreateGroup", "GroupName=Admins2")
    ok(auditor, "CreateGroup", "GroupName=Nobody2")
    ok(
        auditor,
        "AttachPolicyToGroup",
        "PolicyType=System",
        "PolicyName=AliyunECSFullAccess",
        "GroupName=Admins2",
    )
    user = new_user(auditor, "mover")
    assert refused(auditor, "DescribeRegions", creds=user)[0] == "Forbidden.RAM"
    ok(auditor, "AddUserToGroup", "UserName=mover", "GroupName=Admins2")
    assert ok(auditor, "DescribeRegions", creds=user)
    ok(auditor, "RemoveUserFromGroup", "UserName=mover", "GroupName=Admins2")
    ok(auditor, "AddUserToGroup", "UserName=mover", "GroupName=Nobody2")
    assert refused(auditor, "DescribeRegions", creds=user)[0] == "Forbidden.RAM"
