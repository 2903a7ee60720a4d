"""RAM users, groups, policies and roles through the in-process API pipeline (signature -> RAM ->
handler -> persisted state + audit log)."""

from __future__ import annotations

import json

from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.ram import account_document
from tests.helpers.in_process_ram import (
    ATTACH_ONLY,
    DESCRIBE_ONLY,
    add_instances,
    reader_role,
    user_with_key,
)
from tests.helpers.ram_policies import ECS_TRUST

PASSWORD = "Initial-Passw0rd!"


def test_user_lifecycle_with_ram_response_shapes(h):
    created = h.ok("CreateUser", UserName="alice", DisplayName="Alice", Comments="ops")["User"]
    assert created["UserName"] == "alice" and created["DisplayName"] == "Alice"
    assert h.ok("GetUser", UserName="alice")["User"]["UserId"] == created["UserId"]
    renamed = h.ok("UpdateUser", UserName="alice", NewUserName="alice2")["User"]
    assert renamed["UserName"] == "alice2"
    assert h.error("GetUser", UserName="alice")[:2] == (404, "EntityNotExist.User")
    users = h.ok("ListUsers")
    assert {u["UserName"] for u in users["Users"]["User"]} == {"admin", "alice2"}
    assert users["IsTruncated"] is False
    h.ok("DeleteUser", UserName="alice2")
    assert h.error("DeleteUser", UserName="alice2")[1] == "EntityNotExist.User"
    assert h.error("CreateUser", UserName="bad name!")[1] == (
        "InvalidParameter.UserName.InvalidChars"
    )
    assert h.error("CreateUser", UserName="admin")[1] == "EntityAlreadyExists.User"
    assert h.error("CreateUser")[1].startswith("MissingParameter")
    assert h.error("CreateUser", UserName="x", Email="x@example.com")[1] == "InvalidParameter"


def test_list_users_pages_with_marker(h):
    for name in ("u1", "u2", "u3"):
        h.ok("CreateUser", UserName=name)
    first = h.ok("ListUsers", MaxItems="2")
    assert first["IsTruncated"] is True
    second = h.ok("ListUsers", MaxItems="2", Marker=first["Marker"])
    names = [u["UserName"] for u in first["Users"]["User"] + second["Users"]["User"]]
    assert names == ["admin", "u1", "u2", "u3"]
    assert second["IsTruncated"] is False
    assert h.error("ListUsers", Marker="nobody")[1] == "InvalidParameter.Marker"


def test_login_profile_and_access_keys_never_leave_secrets_in_the_audit_log(h):
    h.ok("CreateUser", UserName="bob")
    profile = h.ok("CreateLoginProfile", UserName="bob", Password=PASSWORD)["LoginProfile"]
    assert profile == {
        "UserName": "bob",
        "PasswordResetRequired": False,
        "MFABindRequired": False,
        "CreateDate": "2019-09-18T08:00:00Z",
    }
    h.ok("UpdateLoginProfile", UserName="bob", Password="Another-Passw0rd", MFABindRequired="true")
    assert h.ok("GetLoginProfile", UserName="bob")["LoginProfile"]["MFABindRequired"] is True
    key = h.ok("CreateAccessKey", UserName="bob")["AccessKey"]
    assert set(key) == {"AccessKeyId", "AccessKeySecret", "Status", "CreateDate"}
    listed = h.ok("ListAccessKeys", UserName="bob")["AccessKeys"]["AccessKey"]
    assert listed == [{k: key[k] for k in ("AccessKeyId", "Status", "CreateDate")}]
    h.ok("UpdateAccessKey", UserName="bob", UserAccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert (
        h.error("UpdateAccessKey", UserName="bob", UserAccessKeyId=key["AccessKeyId"], Status="x")[
            1
        ]
        == "InvalidParameter.Status"
    )
    # an inactive key no longer authenticates
    assert h.error("ListUsers", (key["AccessKeyId"], key["AccessKeySecret"]))[1] == (
        "InvalidAccessKeyId.Inactive"
    )
    assert h.error("CreateLoginProfile", UserName="bob", Password=PASSWORD)[1] == (
        "EntityAlreadyExists.User.LoginProfile"
    )
    assert h.error("DeleteUser", UserName="bob")[1].startswith("DeleteConflict.User")
    h.ok("DeleteAccessKey", UserName="bob", UserAccessKeyId=key["AccessKeyId"])
    assert h.error("DeleteAccessKey", UserName="bob", UserAccessKeyId=key["AccessKeyId"])[1] == (
        "EntityNotExist.User.AccessKey"
    )
    h.ok("DeleteLoginProfile", UserName="bob")
    assert h.error("GetLoginProfile", UserName="bob")[1] == "EntityNotExist.User.LoginProfile"
    h.ok("DeleteUser", UserName="bob")

    audit = json.dumps([(a.action, a.resource, a.before, a.after) for a in h.audit()])
    assert key["AccessKeyId"] in audit
    for secret in (key["AccessKeySecret"], PASSWORD, "Another-Passw0rd", "scrypt$"):
        assert secret not in audit
    stored = json.dumps(account_document.to_document(h.state.ram))
    assert PASSWORD not in stored and "Another-Passw0rd" not in stored


def test_create_access_key_without_user_name_is_for_the_calling_user(h):
    carol = user_with_key(h, "carol")
    h.ok(
        "CreatePolicy",
        PolicyName="own-keys",
        PolicyDocument=json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ram:*AccessKey*",
                        "Resource": "acs:ram:*:*:user/carol",
                    }
                ],
            }
        ),
    )
    h.ok("AttachPolicyToUser", PolicyType="Custom", PolicyName="own-keys", UserName="carol")
    assert len(h.ok("ListAccessKeys", carol)["AccessKeys"]["AccessKey"]) == 1
    h.ok("CreateAccessKey", carol)
    assert len(h.state.ram.users["carol"].access_keys) == 2
    status, code, message = h.error("ListAccessKeys", carol, UserName="admin")
    assert (status, code) == (403, "Forbidden.RAM")
    assert "ram:ListAccessKeys" in message and "user/admin" in message


def test_groups_membership_and_moving_a_user_takes_effect_at_once(h):
    dave = user_with_key(h, "dave")
    h.ok("CreateGroup", GroupName="Developers", Comments="dev")
    h.ok("CreateGroup", GroupName="SysAdmins")
    h.ok(
        "AttachPolicyToGroup",
        PolicyType="System",
        PolicyName="AliyunRAMReadOnlyAccess",
        GroupName="SysAdmins",
    )
    assert h.error("ListUsers", dave)[1] == "Forbidden.RAM"
    h.ok("AddUserToGroup", UserName="dave", GroupName="SysAdmins")
    assert h.ok("ListUsers", dave)["Users"]["User"]
    assert [
        g["GroupName"] for g in h.ok("ListGroupsForUser", UserName="dave")["Groups"]["Group"]
    ] == ["SysAdmins"]
    assert (
        h.ok("ListUsersForGroup", GroupName="SysAdmins")["Users"]["User"][0]["UserName"] == "dave"
    )
    # move: Developers has no RAM read access
    h.ok("RemoveUserFromGroup", UserName="dave", GroupName="SysAdmins")
    h.ok("AddUserToGroup", UserName="dave", GroupName="Developers")
    assert h.error("ListUsers", dave)[1] == "Forbidden.RAM"
    assert h.error("AddUserToGroup", UserName="dave", GroupName="Developers")[1] == (
        "EntityAlreadyExists.User.Group"
    )
    assert h.error("RemoveUserFromGroup", UserName="dave", GroupName="SysAdmins")[1] == (
        "EntityNotExist.User.Group"
    )
    assert h.error("DeleteGroup", GroupName="Developers")[1] == "DeleteConflict.Group.User"
    assert h.error("DeleteGroup", GroupName="SysAdmins")[1] == "DeleteConflict.Group.Policy"
    assert {g["GroupName"] for g in h.ok("ListGroups")["Groups"]["Group"]} == {
        "Developers",
        "SysAdmins",
    }
    assert h.ok("GetGroup", GroupName="Developers")["Group"]["Comments"] == "dev"
    h.ok("RemoveUserFromGroup", UserName="dave", GroupName="Developers")
    h.ok("DeleteGroup", GroupName="Developers")
    assert h.error("GetGroup", GroupName="Developers")[1] == "EntityNotExist.Group"


def test_policies_versions_attachments(h):
    malformed = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*",}]}'
    status, code, message = h.error("CreatePolicy", PolicyName="bad", PolicyDocument=malformed)
    assert (status, code) == (400, "MalformedPolicyDocument")
    assert "line 1 column" in message
    assert "bad" not in h.state.ram.policies

    created = h.ok(
        "CreatePolicy", PolicyName="describe-only", PolicyDocument=DESCRIBE_ONLY, Description="d"
    )["Policy"]
    assert created["PolicyType"] == "Custom" and created["DefaultVersion"] == "v1"
    got = h.ok("GetPolicy", PolicyName="describe-only", PolicyType="Custom")
    assert got["Policy"]["PolicyDocument"] == DESCRIBE_ONLY
    assert got["DefaultPolicyVersion"]["IsDefaultVersion"] is True
    assert h.error("GetPolicy", PolicyName="describe-only", PolicyType="Sys")[1] == (
        "InvalidParameter.PolicyType"
    )
    assert (
        h.error("CreatePolicy", PolicyName="AliyunECSFullAccess", PolicyDocument=DESCRIBE_ONLY)[1]
        == "EntityAlreadyExists.Policy"
    )
    version = h.ok(
        "CreatePolicyVersion",
        PolicyName="describe-only",
        PolicyDocument=ATTACH_ONLY,
        SetAsDefault="true",
    )["PolicyVersion"]
    assert version["VersionId"] == "v2" and version["IsDefaultVersion"] is True
    for _ in range(3):
        h.ok("CreatePolicyVersion", PolicyName="describe-only", PolicyDocument=DESCRIBE_ONLY)
    assert (
        h.error("CreatePolicyVersion", PolicyName="describe-only", PolicyDocument=DESCRIBE_ONLY)[1]
        == "LimitExceeded.Policy.Version"
    )
    rotated = h.ok(
        "CreatePolicyVersion",
        PolicyName="describe-only",
        PolicyDocument=DESCRIBE_ONLY,
        RotateStrategy="DeleteOldestNonDefaultVersionWhenLimitExceeded",
    )
    assert rotated["PolicyVersion"]["VersionId"] == "v6"
    assert "v1" not in h.state.ram.policies["describe-only"].versions

    h.ok("CreateUser", UserName="erin")
    h.ok("AttachPolicyToUser", PolicyType="Custom", PolicyName="describe-only", UserName="erin")
    h.ok(
        "AttachPolicyToUser",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        UserName="erin",
    )
    assert (
        h.error(
            "AttachPolicyToUser",
            PolicyType="System",
            PolicyName="AliyunECSReadOnlyAccess",
            UserName="erin",
        )[1]
        == "EntityAlreadyExists.User.Policy"
    )
    assert (
        h.error("AttachPolicyToUser", PolicyType="System", PolicyName="NoSuch", UserName="erin")[1]
        == "EntityNotExist.Policy"
    )
    listed = h.ok("ListPoliciesForUser", UserName="erin")["Policies"]["Policy"]
    assert [(p["PolicyType"], p["PolicyName"]) for p in listed] == [
        ("Custom", "describe-only"),
        ("System", "AliyunECSReadOnlyAccess"),
    ]
    assert h.error("DeletePolicy", PolicyName="describe-only")[1] == "DeleteConflict.Policy.User"
    h.ok("DetachPolicyFromUser", PolicyType="Custom", PolicyName="describe-only", UserName="erin")
    assert (
        h.error(
            "DetachPolicyFromUser", PolicyType="Custom", PolicyName="describe-only", UserName="erin"
        )[1]
        == "EntityNotExist.User.Policy"
    )
    custom = h.ok("ListPolicies", PolicyType="Custom")["Policies"]["Policy"]
    assert [p["PolicyName"] for p in custom] == ["describe-only"]
    everything = h.ok("ListPolicies", MaxItems="1000")["Policies"]["Policy"]
    assert {"AliyunECSReadOnlyAccess", "AliyunECSNetworkInterfaceManagementAccess"} <= {
        p["PolicyName"] for p in everything
    }
    assert h.error("DeletePolicy", PolicyName="describe-only")[1] == (
        "DeleteConflict.Policy.Version"
    )


def test_roles_and_delete_role_revokes_it_from_instances(h):
    add_instances(h)
    role = h.ok("CreateRole", RoleName="reader", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    assert role["Arn"].endswith(":role/reader") and role["MaxSessionDuration"] == 3600
    assert h.error("CreateRole", RoleName="reader", AssumeRolePolicyDocument=ECS_TRUST)[1] == (
        "EntityAlreadyExists.Role"
    )
    assert h.error("CreateRole", RoleName="r2", AssumeRolePolicyDocument="{")[1] == (
        "MalformedPolicyDocument"
    )
    assert h.ok("GetRole", RoleName="reader")["Role"]["RoleId"] == role["RoleId"]
    assert [r["RoleName"] for r in h.ok("ListRoles")["Roles"]["Role"]] == ["reader"]
    h.ok(
        "AttachPolicyToRole",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        RoleName="reader",
    )
    assert (
        h.ok("ListPoliciesForRole", RoleName="reader")["Policies"]["Policy"][0]["PolicyName"]
        == "AliyunECSReadOnlyAccess"
    )
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    assert h.error("DeleteRole", RoleName="reader")[1] == "DeleteConflict.Role.Policy"
    h.ok(
        "DetachPolicyFromRole",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        RoleName="reader",
    )
    h.ok("DeleteRole", RoleName="reader")
    assert h.state.instance_roles.role_of("i-vpc1") is None
    assert h.error("GetRole", RoleName="reader")[1] == "EntityNotExist.Role"


def test_ram_findings_name_users_with_password_and_access_key(h):
    h.ok("CreateUser", UserName="both")
    h.ok("CreateLoginProfile", UserName="both", Password=PASSWORD)
    h.ok("CreateUser", UserName="keyonly")
    h.ok("CreateAccessKey", UserName="keyonly")
    key = h.ok("CreateAccessKey", UserName="both")["AccessKey"]["AccessKeyId"]
    findings = h.ok("ListRamFindings")["Findings"]["Finding"]
    both = [f for f in findings if f["UserName"] == "both"]
    assert both and both[0]["AccessKeyIds"]["AccessKeyId"] == [key]
    assert "one of the two is enough" in both[0]["Advice"]
    assert "keyonly" not in {f["UserName"] for f in findings}


def test_state_round_trips_after_ram_actions(h):
    add_instances(h)
    reader_role(h)
    h.ok("CreateUser", UserName="frank")
    h.ok("CreateLoginProfile", UserName="frank", Password=PASSWORD)
    h.ok("CreateGroup", GroupName="G")
    h.ok("AddUserToGroup", UserName="frank", GroupName="G")
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    doc = h.state.to_document()
    again = CloudState.from_document(json.loads(json.dumps(doc)))
    assert again.to_document() == doc
    assert again.instance_roles.role_of("i-vpc1") == "reader"
    assert again.ram.check_console_password("frank", PASSWORD)
