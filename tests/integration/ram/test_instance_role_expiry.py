"""An instance's role credentials over time, with a real auditor (`--sts-ttl 15`) and a real
agent serving the metadata endpoint: refreshed at half-life, refused by the API once they
expire, and, once the role is detached, refused at once and gone from the endpoint."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from palisade.auditor.api.client import Credentials, call
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.metadata_agent import http_get, metadata_agent
from tests.helpers.ram_policies import ECS_TRUST

pytestmark = pytest.mark.integration

TTL = 15  # seconds, the shortest `palisade serve --sts-ttl` takes
ROLE = "ExpiringReader"


def admin_call(auditor, action: str, **params: str) -> dict:
    status, body = call(auditor.http, Credentials.resolve(auditor.data_dir), action, params)
    assert status == 200, body
    return body


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def session(metadata: dict) -> Credentials:
    return Credentials(
        metadata["AccessKeyId"], metadata["AccessKeySecret"], metadata["SecurityToken"]
    )


@pytest.fixture
def auditor(tmp_path):
    proc = start_auditor(tmp_path / "auditor", "--sts-ttl", str(TTL))
    yield proc
    proc.stop()


@pytest.fixture
def metadata_url(auditor, tmp_path):
    vpc = admin_call(auditor, "CreateVpc", RegionId=DEFAULT_REGION, CidrBlock="10.7.0.0/16")
    admin_call(
        auditor,
        "RunInstances",
        RegionId=DEFAULT_REGION,
        VpcId=vpc["VpcId"],
        PrivateIpAddress="10.7.0.10",
        InstanceId="i-expiry",
    )
    state = enroll_agent(auditor, tmp_path / "agent", "i-expiry")
    with metadata_agent(state.directory, tmp_path / "agent.log", interval=30) as base:
        yield f"{base}/ram/security-credentials/{ROLE}"
    assert "SecurityToken" not in (tmp_path / "agent.log").read_text()


def fetch(url: str) -> dict:
    status, text = http_get(url)
    assert status == 200, (status, text)
    return json.loads(text)


def test_role_credentials_refresh_at_half_life_expire_and_end_when_the_role_is_detached(
    auditor, metadata_url
):
    admin_call(auditor, "CreateRole", RoleName=ROLE, AssumeRolePolicyDocument=ECS_TRUST)
    admin_call(
        auditor,
        "CreatePolicy",
        PolicyName="regions-only",
        PolicyDocument=json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {"Effect": "Allow", "Action": "ecs:DescribeRegions", "Resource": "*"}
                ],
            }
        ),
    )
    admin_call(
        auditor, "AttachPolicyToRole", PolicyType="Custom", PolicyName="regions-only", RoleName=ROLE
    )
    admin_call(
        auditor,
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-expiry"]',
        RamRoleName=ROLE,
    )

    first = fetch(metadata_url)
    issued, expires = parse_time(first["LastUpdated"]), parse_time(first["Expiration"])
    assert expires - issued == timedelta(seconds=TTL)  # the auditor's --sts-ttl
    assert call(auditor.http, session(first), "DescribeRegions", {})[0] == 200
    status, body = call(auditor.http, session(first), "ListUsers", {})
    assert (status, body["Code"]) == (403, "Forbidden.RAM")

    # the same credentials until half their lifetime, new ones after it
    half_life = issued + timedelta(seconds=TTL / 2)
    while True:
        now = datetime.now(UTC)
        current = fetch(metadata_url)
        if current["AccessKeyId"] != first["AccessKeyId"]:
            break
        assert now < half_life + timedelta(seconds=2), "not refreshed at half-life"
        time.sleep(0.25)
    assert now >= half_life - timedelta(seconds=1)  # issue times are whole seconds
    second = current
    assert parse_time(second["Expiration"]) > expires
    assert call(auditor.http, session(second), "DescribeRegions", {})[0] == 200

    # while the role stays attached, credentials handed out live until they expire, as on
    # ECS, and not a moment longer
    expiration = parse_time(first["Expiration"])
    time.sleep(max(0.0, (expiration - datetime.now(UTC)).total_seconds()) + 0.5)
    status, body = call(auditor.http, session(first), "DescribeRegions", {})
    assert (status, body["Code"]) == (400, "InvalidSecurityToken.Expired"), body
    assert datetime.now(UTC) < parse_time(second["Expiration"]) - timedelta(seconds=2)
    assert call(auditor.http, session(second), "DescribeRegions", {})[0] == 200

    # detached: the credentials already handed out are revoked at once, and the endpoint
    # (past the second credentials' half-life, so it asks the auditor) answers 404
    admin_call(
        auditor, "DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-expiry"]'
    )
    status, body = call(auditor.http, session(second), "DescribeRegions", {})
    assert (status, body["Code"]) == (400, "InvalidSecurityToken.Revoked"), body
    assert datetime.now(UTC) >= parse_time(second["LastUpdated"]) + timedelta(seconds=TTL / 2)
    assert http_get(metadata_url)[0] == 404
    assert http_get(metadata_url.rsplit("/", 1)[0] + "/")[0] == 404  # no role listed either
