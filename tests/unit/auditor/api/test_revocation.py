"""Revocation through the in-process API on three replicas sharing one database: detaching or
replacing an instance's role, deleting the role or the instance, deleting an AccessKey or
setting it Inactive refuse every credential derived from it at once, on every replica."""

from __future__ import annotations

import pytest

from palisade.auditor.api.instance_credentials import InstanceRoleCredentials
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from palisade.auditor.model.ram import RamError
from tests.helpers.in_process_api import ApiHarness
from tests.helpers.in_process_ram import DESCRIBE_ONLY, add_instances, reader_role, user_with_key
from tests.helpers.ram_policies import ECS_TRUST

REVOKED = "InvalidSecurityToken.Revoked"


@pytest.fixture
def replicas(h: ApiHarness) -> list[ApiHarness]:
    """The harness and two more replicas, each answering through its own ApiService."""
    add_instances(h)
    reader_role(h)
    return [h, h.via(h.replica()), h.via(h.replica())]


def attach(h: ApiHarness, role: str, instance: str = "i-vpc1") -> None:
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds=f'["{instance}"]',
        RamRoleName=role,
    )


def session(h: ApiHarness, instance: str = "i-vpc1") -> tuple[str, str, str]:
    _, creds = InstanceRoleCredentials(h.api).issue(instance)
    return creds.access_key_id, creds.access_key_secret, creds.security_token


def works_everywhere(replicas: list[ApiHarness], credentials) -> None:
    for r in replicas:
        assert r.ok("DescribeInstanceRamRole", credentials, RegionId=DEFAULT_REGION)


def refused_everywhere(replicas: list[ApiHarness], credentials, code: str) -> None:
    for n, r in enumerate(replicas):
        status, got, message = r.error(
            "DescribeInstanceRamRole", credentials, RegionId="cn-hangzhou"
        )
        assert (status, got) == (400 if code == REVOKED else status, code), (n, message)


def test_detaching_the_role_revokes_its_credentials_on_every_replica(replicas):
    h, second, third = replicas
    attach(h, "reader")
    creds = session(second)
    works_everywhere(replicas, creds)
    third.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc1"]')
    refused_everywhere(replicas, creds, REVOKED)
    # attached again: a new binding, whose new credentials work; the old ones stay revoked
    attach(second, "reader")
    fresh = session(h)
    works_everywhere(replicas, fresh)
    refused_everywhere(replicas, creds, REVOKED)


def test_replacing_the_role_revokes_the_old_roles_credentials(replicas):
    h, second, third = replicas
    h.ok("CreateRole", RoleName="other", AssumeRolePolicyDocument=ECS_TRUST)
    h.ok("AttachPolicyToRole", PolicyType="Custom", PolicyName="describe-only", RoleName="other")
    attach(h, "reader")
    creds = session(h)
    works_everywhere(replicas, creds)
    attach(third, "other")  # one role per instance: this replaces reader
    refused_everywhere(replicas, creds, REVOKED)
    works_everywhere(replicas, session(second))
    # attaching the role the instance already has changes nothing
    current = session(h)
    attach(second, "other")
    works_everywhere(replicas, current)


def test_deleting_the_role_revokes_its_credentials_even_if_one_of_that_name_returns(replicas):
    h, second, third = replicas
    attach(h, "reader")
    creds = session(h)
    h.ok("DetachPolicyFromRole", PolicyType="Custom", PolicyName="describe-only", RoleName="reader")
    second.ok("DeleteRole", RoleName="reader")
    refused_everywhere(replicas, creds, REVOKED)
    # the same name made again, with the same permissions, attached to the same instance
    third.ok("CreateRole", RoleName="reader", AssumeRolePolicyDocument=ECS_TRUST)
    third.ok(
        "AttachPolicyToRole", PolicyType="Custom", PolicyName="describe-only", RoleName="reader"
    )
    attach(third, "reader")
    works_everywhere(replicas, session(h))
    refused_everywhere(replicas, creds, REVOKED)


def test_deleting_the_instance_revokes_its_role_credentials(replicas):
    h, second, _ = replicas
    attach(h, "reader")
    creds = session(h)
    second.ok("DeleteInstance", InstanceId="i-vpc1", Force="true")
    refused_everywhere(replicas, creds, REVOKED)
    with pytest.raises(RamError):
        session(h)


def test_a_session_of_another_instance_survives_a_revocation(replicas):
    h, second, _ = replicas
    attach(h, "reader")
    attach(h, "reader", "i-vpc2")
    kept = session(h, "i-vpc2")
    second.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc1"]')
    works_everywhere(replicas, kept)


def test_deleting_an_access_key_refuses_it_on_every_replica(replicas):
    h, second, third = replicas
    h.ok("CreatePolicy", PolicyName="describe-and-keys", PolicyDocument=DESCRIBE_ONLY)
    key = user_with_key(h, "alice", ("Custom", "describe-and-keys"))
    works_everywhere(replicas, key)
    third.ok("DeleteAccessKey", UserName="alice", UserAccessKeyId=key[0])
    refused_everywhere(replicas, key, "InvalidAccessKeyId.NotFound")


def test_an_inactive_access_key_is_refused_on_every_replica(replicas):
    h, second, third = replicas
    key = user_with_key(h, "bob", ("Custom", "describe-only"))
    works_everywhere(replicas, key)
    second.ok("UpdateAccessKey", UserName="bob", UserAccessKeyId=key[0], Status="Inactive")
    refused_everywhere(replicas, key, "InvalidAccessKeyId.Inactive")
    third.ok("UpdateAccessKey", UserName="bob", UserAccessKeyId=key[0], Status="Active")
    works_everywhere(replicas, key)
