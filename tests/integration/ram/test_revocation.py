"""Revocation end to end: three real auditor replicas on one PostgreSQL database, a real
agent serving the metadata endpoint, and a program on the "VM" polling it every second.
Detaching the role (through another replica than the agent's) makes the endpoint answer 404
within one report interval, and the last credentials it served are refused by the API on
each of the three replicas at the first request after the detach. A user's AccessKey and
dashboard session end the same way when the key is set Inactive or deleted and when the
console password is deleted."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time

import pytest

from palisade.auditor.api.client import Credentials, call
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from palisade.auditor.web.app import SESSION_COOKIE
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import auditor_replicas
from tests.helpers.metadata_agent import http_get, metadata_agent
from tests.helpers.polling import wait_for
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)
from tests.helpers.ram_policies import ECS_TRUST

pytestmark = [pytest.mark.integration, pytest.mark.needs_db]

INTERVAL = 3  # the agent's report interval, seconds
ROLE = "RevokedReader"
INSTANCE = "i-revoke"
# a program on the VM: one GET a second, one JSON line per answer
POLLER = """
import json, sys, time, urllib.error, urllib.request
url = sys.argv[1]
while True:
    started = time.time()
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            status, key = r.status, json.loads(r.read())["AccessKeyId"]
    except urllib.error.HTTPError as err:
        status, key = err.code, ""
    except OSError:
        status, key = 0, ""
    print(json.dumps({"t": started, "status": status, "key": key}), flush=True)
    time.sleep(max(0.0, 1.0 - (time.time() - started)))
"""


@pytest.fixture
def replicas(tmp_path):
    require_postgres()
    url = create_postgres_database()
    try:
        # a long lifetime: without revocation the credentials would be served for 30 minutes
        with auditor_replicas(tmp_path / "auditors", url, 3, "--sts-ttl", "3600") as started:
            yield started
    finally:
        drop_postgres_database(url)


def admin_call(replica, action: str, **params: str) -> dict:
    status, body = call(
        replica.http, Credentials.resolve(replica.data_dir.parent / "r0"), action, params
    )
    assert status == 200, body
    return body


def test_a_detached_role_is_404_within_an_interval_and_refused_on_every_replica(replicas, tmp_path):
    first, second, third = replicas
    vpc = admin_call(first, "CreateVpc", RegionId=DEFAULT_REGION, CidrBlock="10.8.0.0/16")
    admin_call(
        second,
        "RunInstances",
        RegionId=DEFAULT_REGION,
        VpcId=vpc["VpcId"],
        PrivateIpAddress="10.8.0.10",
        InstanceId=INSTANCE,
    )
    admin_call(third, "CreateRole", RoleName=ROLE, AssumeRolePolicyDocument=ECS_TRUST)
    admin_call(
        first,
        "CreatePolicy",
        PolicyName="revocation-regions",
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
        second,
        "AttachPolicyToRole",
        PolicyType="Custom",
        PolicyName="revocation-regions",
        RoleName=ROLE,
    )
    admin_call(
        third,
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds=f'["{INSTANCE}"]',
        RamRoleName=ROLE,
    )

    state = enroll_agent(first, tmp_path / "agent", INSTANCE)  # the agent reports to `first`
    agent_log = tmp_path / "agent.log"
    with metadata_agent(state.directory, agent_log, interval=INTERVAL) as base:
        url = f"{base}/ram/security-credentials/{ROLE}"
        status, text = http_get(url)
        assert status == 200, text
        served = json.loads(text)
        session = Credentials(
            served["AccessKeyId"], served["AccessKeySecret"], served["SecurityToken"]
        )
        for replica in replicas:
            status, body = call(replica.http, session, "DescribeRegions", {})
            assert status == 200, body

        polls_path = tmp_path / "polls.jsonl"
        with open(polls_path, "w") as out:
            poller = subprocess.Popen([sys.executable, "-c", POLLER, url], stdout=out)
        try:

            def polls() -> list[dict]:
                lines = polls_path.read_text().splitlines()
                return [json.loads(line) for line in lines if line.endswith("}")]

            wait_for(lambda: len(polls()) >= 2, 30, what="the poller's first answers")
            assert all(p["status"] == 200 for p in polls())
            assert {p["key"] for p in polls()} == {session.access_key_id}

            admin_call(
                second,
                "DetachInstanceRamRole",
                RegionId=DEFAULT_REGION,
                InstanceIds=f'["{INSTANCE}"]',
            )
            detached = time.time()
            # the first request on each replica after the detach is refused
            refused_after = []
            for replica in replicas:
                status, body = call(replica.http, session, "DescribeRegions", {})
                assert (status, body.get("Code")) == (400, "InvalidSecurityToken.Revoked"), body
                refused_after.append(time.time() - detached)

            wait_for(
                lambda: any(p["status"] == 404 and p["t"] > detached for p in polls()),
                INTERVAL * 4 + 10,
                what="404 on the metadata endpoint after the detach",
            )
        finally:
            poller.terminate()
            poller.wait(timeout=10)
        after = [p for p in polls() if p["t"] > detached]
        still_served = [p for p in after if p["status"] == 200]
        first_404 = next(p for p in after if p["status"] == 404)
        # one poll a second: at most one interval's worth of polls still saw the credentials
        # (the auditor tells the agent within about a second; snapshots' acks are a backstop)
        assert len(still_served) <= INTERVAL, still_served
        assert all(p["status"] == 404 for p in after[after.index(first_404) :])
        print(
            f"\nrevocation: 404 on the metadata endpoint {first_404['t'] - detached:.2f} s "
            f"after the detach ({len(still_served)} poll(s) still served the credentials, "
            f"report interval {INTERVAL} s); refused on the three replicas "
            + ", ".join(f"{s:.3f} s" for s in refused_after)
            + " after it"
        )
        assert http_get(f"{base}/ram/security-credentials/")[0] == 404  # no role listed
    assert "SecurityToken" not in agent_log.read_text()
    assert session.security_token not in agent_log.read_text()


def dashboard(replica, method: str, path: str, cookie: str = "", form: str = ""):
    """(status, headers) of one dashboard request, redirects not followed."""
    host, port = replica.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=form or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        connection.close()


def test_a_disabled_users_keys_and_sessions_are_refused_on_every_replica(replicas):
    first, second, third = replicas
    admin_call(first, "CreateUser", UserName="leaver")
    admin_call(
        second,
        "AttachPolicyToUser",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        UserName="leaver",
    )
    key = admin_call(third, "CreateAccessKey", UserName="leaver")["AccessKey"]
    keys = Credentials(key["AccessKeyId"], key["AccessKeySecret"])
    admin_call(first, "CreateLoginProfile", UserName="leaver", Password="a-long-password")

    status, headers = dashboard(
        second, "POST", "/ui/login", form="user=leaver&password=a-long-password"
    )
    assert status == 303 and "/login" not in headers["Location"], headers
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert cookie.startswith(SESSION_COOKIE + "=")
    for replica in replicas:
        assert call(replica.http, keys, "DescribeRegions", {})[0] == 200
        assert dashboard(replica, "GET", "/ui/", cookie)[0] == 200

    admin_call(third, "DeleteLoginProfile", UserName="leaver")
    for replica in replicas:
        status, headers = dashboard(replica, "GET", "/ui/", cookie)
        assert status == 303 and headers["Location"].startswith("/ui/login"), headers

    admin_call(
        first,
        "UpdateAccessKey",
        UserName="leaver",
        UserAccessKeyId=keys.access_key_id,
        Status="Inactive",
    )
    for replica in replicas:
        status, body = call(replica.http, keys, "DescribeRegions", {})
        assert body.get("Code") == "InvalidAccessKeyId.Inactive", body
    admin_call(second, "DeleteAccessKey", UserName="leaver", UserAccessKeyId=keys.access_key_id)
    for replica in replicas:
        status, body = call(replica.http, keys, "DescribeRegions", {})
        assert body.get("Code") == "InvalidAccessKeyId.NotFound", body
