"""Every RAM action through `palisade api` against a real auditor process, its answers and
refusals; and the installed command itself.

`palisade api` runs in-process (its `main`, so each call does not pay the interpreter start),
except where the test is about the installed command itself.
"""

from __future__ import annotations

import json

import pytest

from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.ram_cli import ok, refused
from tests.helpers.ram_policies import ECS_TRUST, policy

pytestmark = pytest.mark.integration

PASSWORD = "Console-Passw0rd!"


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
