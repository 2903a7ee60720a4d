"""RAM through `palisade api` against a real auditor process: every RAM action, authorisation
of users and role sessions, request signatures, and an instance's role credentials served by
its agent's metadata endpoint.

`palisade api` runs in-process (its `main`, so each call does not pay the interpreter start),
except where the test is about the installed command itself.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from palisade.agent.metadata import GrpcRoleFetcher, NoRole
from palisade.auditor.api.client import Credentials
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.ram import sign_request
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers import palisade_cli
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.palisade_cli import credentials_env
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

PASSWORD = "Console-Passw0rd!"
ECS_TRUST = json.dumps(
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


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


DESCRIBE_ROLES = policy(
    {"Effect": "Allow", "Action": "ecs:DescribeInstanceRamRole", "Resource": "*"}
)


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("ram") / "auditor")
    yield proc
    proc.stop()


def api(auditor, action: str, *assignments: str, creds=None) -> tuple[int, dict]:
    """`palisade api ACTION Name=Value...`: (exit code, JSON printed), signed with `creds`
    (AccessKeyId, AccessKeySecret[, SecurityToken]) or, without them, as the account owner."""
    return palisade_cli.api(
        auditor, action, *assignments, env=credentials_env(creds), clear_credentials=True
    )


def ok(auditor, action: str, *assignments: str, creds=None) -> dict:
    return palisade_cli.ok(
        auditor, action, *assignments, env=credentials_env(creds), clear_credentials=True
    )


def refused(auditor, action: str, *assignments: str, creds=None) -> tuple[str, str]:
    rc, body = api(auditor, action, *assignments, creds=creds)
    assert rc == 1, body
    assert set(body) == {"Code", "Message", "RequestId"}
    return body["Code"], body["Message"]


def new_user(auditor, name: str, *policies: str) -> tuple[str, str]:
    """A RAM user with an AccessKey and `Type:Name` policies attached."""
    ok(auditor, "CreateUser", f"UserName={name}")
    for item in policies:
        kind, _, policy_name = item.partition(":")
        ok(
            auditor,
            "AttachPolicyToUser",
            f"PolicyType={kind}",
            f"PolicyName={policy_name}",
            f"UserName={name}",
        )
    key = ok(auditor, "CreateAccessKey", f"UserName={name}")["AccessKey"]
    return key["AccessKeyId"], key["AccessKeySecret"]


# ---- every action, happy path and refusals ----------------------------------------------------


def test_every_ram_action_through_palisade_api(auditor, tmp_path):
    u = ok(auditor, "CreateUser", "UserName=alice", "DisplayName=Alice", "Comments=ops")["User"]
    assert u["UserName"] == "alice" and u["DisplayName"] == "Alice"
    assert ok(auditor, "GetUser", "UserName=alice")["User"]["UserId"] == u["UserId"]
    assert (
        ok(auditor, "UpdateUser", "UserName=alice", "NewDisplayName=Alice L")["User"]["DisplayName"]
        == "Alice L"
    )
    assert "alice" in {x["UserName"] for x in ok(auditor, "ListUsers")["Users"]["User"]}
    assert refused(auditor, "GetUser", "UserName=nobody")[0] == "EntityNotExist.User"
    assert refused(auditor, "CreateUser", "UserName=alice")[0] == "EntityAlreadyExists.User"
    assert refused(auditor, "CreateUser")[0].startswith("MissingParameter")
    assert refused(auditor, "CreateUser", "UserName=x", "Colour=red")[0] == "InvalidParameter"

    profile = ok(
        auditor,
        "CreateLoginProfile",
        "UserName=alice",
        f"Password={PASSWORD}",
        "PasswordResetRequired=true",
    )["LoginProfile"]
    assert profile["PasswordResetRequired"] is True and "Password" not in profile
    ok(auditor, "UpdateLoginProfile", "UserName=alice", "PasswordResetRequired=false")
    assert (
        ok(auditor, "GetLoginProfile", "UserName=alice")["LoginProfile"]["PasswordResetRequired"]
        is False
    )
    assert refused(auditor, "CreateLoginProfile", "UserName=alice", "Password=short")[0] == (
        "EntityAlreadyExists.User.LoginProfile"
    )

    key = ok(auditor, "CreateAccessKey", "UserName=alice")["AccessKey"]
    assert set(key) == {"AccessKeyId", "AccessKeySecret", "Status", "CreateDate"}
    assert key["Status"] == "Active"
    keys = ok(auditor, "ListAccessKeys", "UserName=alice")["AccessKeys"]["AccessKey"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    assert "AccessKeySecret" not in keys[0]
    findings = ok(auditor, "ListRamFindings")["Findings"]["Finding"]
    alice = next(f for f in findings if f["UserName"] == "alice")
    assert alice["AccessKeyIds"]["AccessKeyId"] == [key["AccessKeyId"]]
    assert "one of the two is enough" in alice["Advice"]
    ok(
        auditor,
        "UpdateAccessKey",
        "UserName=alice",
        f"UserAccessKeyId={key['AccessKeyId']}",
        "Status=Inactive",
    )
    assert (
        refused(auditor, "ListUsers", creds=(key["AccessKeyId"], key["AccessKeySecret"]))[0]
        == "InvalidAccessKeyId.Inactive"
    )
    assert "alice" not in {
        f["UserName"] for f in ok(auditor, "ListRamFindings")["Findings"]["Finding"]
    }

    ok(auditor, "CreateGroup", "GroupName=SysAdmins", "Comments=all of ECS")
    assert ok(auditor, "GetGroup", "GroupName=SysAdmins")["Group"]["Comments"] == "all of ECS"
    assert "SysAdmins" in {g["GroupName"] for g in ok(auditor, "ListGroups")["Groups"]["Group"]}
    ok(auditor, "AddUserToGroup", "UserName=alice", "GroupName=SysAdmins")
    assert [
        g["GroupName"]
        for g in ok(auditor, "ListGroupsForUser", "UserName=alice")["Groups"]["Group"]
    ] == ["SysAdmins"]
    assert [
        x["UserName"]
        for x in ok(auditor, "ListUsersForGroup", "GroupName=SysAdmins")["Users"]["User"]
    ] == ["alice"]
    assert refused(auditor, "DeleteGroup", "GroupName=SysAdmins")[0] == "DeleteConflict.Group.User"

    document = tmp_path / "policy.json"
    document.write_text(policy({"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}))
    created = ok(
        auditor,
        "CreatePolicy",
        "PolicyName=ecs-all",
        f"PolicyDocument=@{document}",
        "Description=every ECS action",
    )["Policy"]
    assert created["PolicyType"] == "Custom" and created["DefaultVersion"] == "v1"
    code, message = refused(
        auditor,
        "CreatePolicy",
        "PolicyName=broken",
        'PolicyDocument={"Version": "1", "Statement": [}',
    )
    assert code == "MalformedPolicyDocument" and "line 1 column" in message
    code, message = refused(
        auditor,
        "CreatePolicy",
        "PolicyName=broken",
        'PolicyDocument={"Version": "1", "Statement": [{"Effect": "Allow", '
        '"Action": "ecs:*", "Resource": "*", "Condition": '
        '{"IpAddress": {"acs:SourceIp": "10.0.0.300"}}}]}',
    )
    assert code == "MalformedPolicyDocument"
    assert "at Statement[0].Condition.IpAddress.acs:SourceIp" in message
    got = ok(auditor, "GetPolicy", "PolicyName=ecs-all", "PolicyType=Custom")
    assert json.loads(got["Policy"]["PolicyDocument"])["Statement"][0]["Action"] == "ecs:*"
    assert (
        ok(auditor, "GetPolicy", "PolicyName=AliyunECSReadOnlyAccess", "PolicyType=System")[
            "Policy"
        ]["PolicyType"]
        == "System"
    )
    names = {
        p["PolicyName"] for p in ok(auditor, "ListPolicies", "MaxItems=1000")["Policies"]["Policy"]
    }
    assert {
        "ecs-all",
        "AliyunECSReadOnlyAccess",
        "AliyunECSFullAccess",
        "AliyunECSImageImportDefaultRole",
        "AliyunECSImageExportDefaultRole",
        "AliyunECSNetworkInterfaceManagementAccess",
    } <= names
    assert (
        ok(
            auditor,
            "CreatePolicyVersion",
            "PolicyName=ecs-all",
            f"PolicyDocument=@{document}",
            "SetAsDefault=true",
        )["PolicyVersion"]["VersionId"]
        == "v2"
    )
    for principal, name in (("User", "alice"), ("Group", "SysAdmins")):
        param = f"{principal}Name={name}"
        ok(auditor, f"AttachPolicyTo{principal}", "PolicyType=Custom", "PolicyName=ecs-all", param)
        assert (
            refused(
                auditor,
                f"AttachPolicyTo{principal}",
                "PolicyType=Custom",
                "PolicyName=ecs-all",
                param,
            )[0]
            == f"EntityAlreadyExists.{principal}.Policy"
        )
        listed = ok(auditor, f"ListPoliciesFor{principal}", param)["Policies"]["Policy"]
        assert [p["PolicyName"] for p in listed] == ["ecs-all"]
        ok(
            auditor,
            f"DetachPolicyFrom{principal}",
            "PolicyType=Custom",
            "PolicyName=ecs-all",
            param,
        )
    assert (
        refused(
            auditor,
            "AttachPolicyToUser",
            "PolicyType=Other",
            "PolicyName=ecs-all",
            "UserName=alice",
        )[0]
        == "InvalidParameter.PolicyType"
    )

    role = ok(
        auditor,
        "CreateRole",
        "RoleName=EcsReader",
        f"AssumeRolePolicyDocument={ECS_TRUST}",
        "Description=for instances",
    )["Role"]
    assert role["Arn"].endswith(":role/EcsReader")
    assert ok(auditor, "GetRole", "RoleName=EcsReader")["Role"]["RoleId"] == role["RoleId"]
    assert "EcsReader" in {r["RoleName"] for r in ok(auditor, "ListRoles")["Roles"]["Role"]}
    ok(
        auditor,
        "AttachPolicyToRole",
        "PolicyType=Custom",
        "PolicyName=ecs-all",
        "RoleName=EcsReader",
    )
    assert [
        p["PolicyName"]
        for p in ok(auditor, "ListPoliciesForRole", "RoleName=EcsReader")["Policies"]["Policy"]
    ] == ["ecs-all"]
    assert refused(auditor, "DeleteRole", "RoleName=EcsReader")[0] == "DeleteConflict.Role.Policy"
    ok(
        auditor,
        "DetachPolicyFromRole",
        "PolicyType=Custom",
        "PolicyName=ecs-all",
        "RoleName=EcsReader",
    )
    ok(auditor, "DeleteRole", "RoleName=EcsReader")
    assert refused(auditor, "GetRole", "RoleName=EcsReader")[0] == "EntityNotExist.Role"

    # tear down in the order RAM insists on
    assert refused(auditor, "DeleteUser", "UserName=alice")[0].startswith("DeleteConflict.User")
    ok(auditor, "DeleteAccessKey", "UserName=alice", f"UserAccessKeyId={key['AccessKeyId']}")
    ok(auditor, "DeleteLoginProfile", "UserName=alice")
    ok(auditor, "RemoveUserFromGroup", "UserName=alice", "GroupName=SysAdmins")
    ok(auditor, "DeleteGroup", "GroupName=SysAdmins")
    assert refused(auditor, "DeletePolicy", "PolicyName=ecs-all")[0] == (
        "DeleteConflict.Policy.Version"
    )
    ok(auditor, "DeleteUser", "UserName=alice")
    assert refused(auditor, "GetUser", "UserName=alice")[0] == "EntityNotExist.User"

    # the audit log has every change, never a secret or a password
    rows = CloudStateRepository(Database(sqlite_url(auditor.data_dir))).audit_log(limit=10_000)
    text = json.dumps([(r.action, r.resource, r.before, r.after) for r in rows])
    assert key["AccessKeyId"] in text and "CreateAccessKey" in text
    assert key["AccessKeySecret"] not in text and PASSWORD not in text


def test_installed_command_prints_the_new_secret_once(auditor):
    run = auditor.cli("api", "CreateUser", "UserName=cmd-user")
    assert json.loads(run.stdout)["User"]["UserName"] == "cmd-user"
    run = auditor.cli("api", "CreateAccessKey", "UserName=cmd-user")
    secret = json.loads(run.stdout)["AccessKey"]["AccessKeySecret"]
    listed = auditor.cli("api", "ListAccessKeys", "UserName=cmd-user").stdout
    assert secret not in listed
    assert secret not in (auditor.data_dir / "auditor.log").read_text()
    bad = auditor.cli("api", "GetUser", "UserName=nobody", check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["Code"] == "EntityNotExist.User"


# ---- authorisation ----------------------------------------------------------------------------


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


# ---- signatures -------------------------------------------------------------------------------


def post(auditor, params: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{auditor.http}/",
        data=urlencode(params).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def signed(auditor, when: datetime | None = None, secret: str | None = None, **params: str):
    admin = Credentials.resolve(auditor.data_dir)
    return sign_request(
        {"Action": "ListUsers", "Version": "2014-05-26", "Format": "JSON", **params},
        admin.access_key_id,
        secret or admin.access_key_secret,
        when or datetime.now(UTC),
        secrets.token_hex(16),
        method="POST",
        path="/",
    )


def test_signature_refusals(auditor):
    request = signed(auditor)
    assert post(auditor, request)[0] == 200
    status, body = post(auditor, request)  # the same request again: same nonce
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")

    stale = signed(auditor, when=datetime.now(UTC) - timedelta(hours=1))
    assert post(auditor, stale)[1]["Code"] == "InvalidTimeStamp.Expired"

    tampered = signed(auditor)
    tampered["Signature"] = tampered["Signature"][:-4] + "AAA="
    assert post(auditor, tampered)[1]["Code"] == "SignatureDoesNotMatch"

    changed = signed(auditor, MaxItems="1")
    changed["MaxItems"] = "2"
    assert post(auditor, changed)[1]["Code"] == "SignatureDoesNotMatch"

    wrong_secret = signed(auditor, secret="not-the-secret")
    assert post(auditor, wrong_secret)[1]["Code"] == "SignatureDoesNotMatch"

    unsigned = signed(auditor)
    del unsigned["Signature"]
    assert post(auditor, unsigned)[1]["Code"] == "MissingSignature"


# ---- instance RAM role, end to end ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_vpc_instances(auditor, *instance_ids: str) -> None:
    """Put VPC instances in the auditor's stored state (no RunInstances action yet); the
    auditor picks the new state version up at its next request."""
    states = CloudStateRepository(Database(sqlite_url(auditor.data_dir)))
    version, document = states.load()
    state = CloudState.from_document(document)
    now = datetime.now(UTC)
    vpc = state.cloud.create_vpc(state.account_id, DEFAULT_REGION, "192.168.0.0/16")
    group = None
    for n, instance_id in enumerate(instance_ids):
        state.cloud.create_instance(
            state.account_id,
            DEFAULT_REGION,
            created_at=now,
            vpc_id=vpc.vpc_id,
            private_ips=[f"192.168.0.{10 + n}"],
            instance_id=instance_id,
            security_group_ids=[group] if group else None,
        )
        group = group or state.cloud.instances[instance_id].nics[0].security_group_ids[0]
    states.save(version, state.to_document(), [], now)


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


@pytest.fixture
def agent_with_metadata(auditor, tmp_path):
    add_vpc_instances(auditor, "i-role1", "i-role2")
    state = enroll_agent(auditor, tmp_path / "agent", "i-role1")
    port = free_port()
    log = open(tmp_path / "agent.log", "ab")
    proc = subprocess.Popen(
        [
            str(BIN / "palisade-agent"),
            "run",
            "--state-dir",
            str(state.directory),
            "--interval",
            "5",
            "--metadata-address",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/latest/meta-data"
    wait_for(lambda: http_get(f"{base}/instance-id")[0] == 200, 30, what="metadata endpoint")
    yield base, tmp_path
    proc.terminate()
    proc.wait(timeout=15)
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
