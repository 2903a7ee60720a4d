"""An instance's RAM role end to end: the role attached through `palisade api`, its credentials
served by the instance's agent on the metadata endpoint, and the session held to the role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from palisade.agent.metadata import GrpcRoleFetcher, NoRole
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.metadata_agent import http_get, metadata_agent
from tests.helpers.ram_cli import ok, refused
from tests.helpers.ram_policies import ECS_TRUST, policy
from tests.helpers.stored_state import add_vpc_instances

pytestmark = pytest.mark.integration

DESCRIBE_ROLES = policy(
    {"Effect": "Allow", "Action": "ecs:DescribeInstanceRamRole", "Resource": "*"}
)


@pytest.fixture
def agent_with_metadata(auditor, tmp_path):
    add_vpc_instances(auditor, "i-role1", "i-role2")
    state = enroll_agent(auditor, tmp_path / "agent", "i-role1")
    with metadata_agent(state.directory, tmp_path / "agent.log", interval=5) as base:
        yield base, tmp_path
    text = (tmp_path / "agent.log").read_text()
    assert "SecurityToken" not in text and "PAL1." not in text  # no credentials in its log


def test_instance_gets_role_credentials_from_its_agent_and_is_held_to_the_role(
    auditor, agent_with_metadata
):
    base, tmp_path = agent_with_metadata
    credentials_path = f"{base}/ram/security-credentials/"
    assert http_get(credentials_path)[0] == 404  # no role yet

    ok(auditor, "CreateRole", "RoleName=InstanceReader", f"AssumeRolePolicyDocument={ECS_TRUST}")
    ok(auditor, "CreatePolicy", "PolicyName=describe-roles", f"PolicyDocument={DESCRIBE_ROLES}")
    ok(
        auditor,
        "AttachPolicyToRole",
        "PolicyType=Custom",
        "PolicyName=describe-roles",
        "RoleName=InstanceReader",
    )
    ok(
        auditor,
        "AttachInstanceRamRole",
        f"RegionId={DEFAULT_REGION}",
        'InstanceIds=["i-role1"]',
        "RamRoleName=InstanceReader",
    )
    described = ok(
        auditor, "DescribeInstanceRamRole", f"RegionId={DEFAULT_REGION}", 'InstanceIds=["i-role1"]'
    )
    assert described["InstanceRamRoleSets"]["InstanceRamRoleSet"] == [
        {"InstanceId": "i-role1", "RamRoleName": "InstanceReader"}
    ]

    assert http_get(credentials_path) == (200, "InstanceReader")
    assert http_get(credentials_path + "Other")[0] == 404
    status, text = http_get(credentials_path + "InstanceReader")
    assert status == 200
    metadata = json.loads(text)
    assert set(metadata) == {
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
        "Code",
    }
    assert metadata["AccessKeyId"].startswith("STS.") and metadata["Code"] == "Success"
    expiration = datetime.strptime(metadata["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expiration - datetime.now(UTC) > timedelta(minutes=30)
    # the ECS security guide's spelling of the path (Ram/) works too
    assert http_get(f"{base}/Ram/security-credentials/InstanceReader")[0] == 200

    session = (metadata["AccessKeyId"], metadata["AccessKeySecret"], metadata["SecurityToken"])
    allowed = ok(auditor, "DescribeInstanceRamRole", f"RegionId={DEFAULT_REGION}", creds=session)
    assert allowed["TotalCount"] >= 1
    code, message = refused(auditor, "DescribeRegions", creds=session)
    assert code == "Forbidden.RAM" and "role/InstanceReader" in message
    assert refused(auditor, "CreateUser", "UserName=from-vm", creds=session)[0] == "Forbidden.RAM"
    code, message = refused(
        auditor,
        "DetachInstanceRamRole",
        f"RegionId={DEFAULT_REGION}",
        'InstanceIds=["i-role1"]',
        creds=session,
    )
    assert code == "Forbidden.RAM" and "ecs:DetachInstanceRamRole" in message
    # without the token the STS key is nothing
    assert refused(auditor, "DescribeRegions", creds=session[:2])[0] == "MissingSecurityToken"

    # the auditor gives an agent its own instance's role only: i-role2's certificate gets none
    other = enroll_agent(auditor, tmp_path / "agent2", "i-role2")
    fetcher = GrpcRoleFetcher(other)
    try:
        with pytest.raises(NoRole):
            fetcher()
        ok(
            auditor,
            "AttachInstanceRamRole",
            f"RegionId={DEFAULT_REGION}",
            'InstanceIds=["i-role2"]',
            "RamRoleName=InstanceReader",
        )
        assert fetcher().role_name == "InstanceReader"
        ok(
            auditor,
            "DetachInstanceRamRole",
            f"RegionId={DEFAULT_REGION}",
            'InstanceIds=["i-role2"]',
        )
        with pytest.raises(NoRole):  # revoked: the next refresh is refused
            fetcher()
    finally:
        fetcher.close()
