"""RAM entities: users, login profiles, AccessKeys, groups, policies, roles, attachments."""

import json

import pytest

from palisade.auditor.model.ram import (
    AccessKeyStatus,
    Caller,
    PolicyError,
    RamError,
    RequestContext,
    users_with_password_and_access_keys,
)

ALLOW_ECS = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)
DENY_STOP = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "ecs:Stop*", "Resource": "*"}]}
)
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
CTX = RequestContext()


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(RamError) as err:
        fn(*args, **kwargs)
    return err.value.code


# --- users ------------------------------------------------------------------------------


def test_create_and_get_user(account, now):
    user = account.create_user("alice@corp", now, display_name="Alice 张")
    assert account.get_user("alice@corp") is user
    assert user.display_name == "Alice 张" and user.create_date == now
    assert user.user_id.isdigit() and len(user.user_id) == 16
    assert [u.user_name for u in account.list_users()] == ["alice@corp"]


@pytest.mark.parametrize(
    "name, code",
    [
        ("", "MissingParameter.UserName"),
        ("a" * 65, "InvalidParameter.UserName.Length"),
        ("bad name", "InvalidParameter.UserName.InvalidChars"),
        ("bad/name", "InvalidParameter.UserName.InvalidChars"),
        ("名字", "InvalidParameter.UserName.InvalidChars"),
    ],
)
def test_user_names_are_validated_like_ram(account, now, name, code):
    assert code_of(account.create_user, name, now) == code


def test_user_name_limits_accepted(account, now):
    account.create_user("a" * 64, now)
    account.create_user("A.b_c@d-e9", now)


def test_duplicate_and_missing_users(account, now):
    account.create_user("alice", now)
    assert code_of(account.create_user, "alice", now) == "EntityAlreadyExists.User"
    assert code_of(account.get_user, "bob") == "EntityNotExist.User"
    assert code_of(account.delete_user, "bob") == "EntityNotExist.User"


def test_rename_user_keeps_groups_and_policies(account, now):
    account.create_user("alice", now)
    account.create_group("Ops", now)
    account.add_user_to_group("alice", "Ops")
    account.attach_policy_to_user("System", "AliyunECSReadOnlyAccess", "alice")
    account.update_user("alice", new_user_name="alice2", new_display_name="A")
    assert [g.group_name for g in account.list_groups_for_user("alice2")] == ["Ops"]
    assert [p.policy_name for p in account.list_policies_for_user("alice2")] == [
        "AliyunECSReadOnlyAccess"
    ]
    assert code_of(account.get_user, "alice") == "EntityNotExist.User"


def test_delete_user_refused_while_it_has_things(account, now):
    account.create_user("alice", now)
    key = account.create_access_key("alice", now)
    assert code_of(account.delete_user, "alice") == "DeleteConflict.User.AccessKey"
    account.delete_access_key("alice", key.access_key_id)
    account.create_login_profile("alice", "Secr3t-pass", now)
    assert code_of(account.delete_user, "alice") == "DeleteConflict.User.LoginProfile"
    account.delete_login_profile("alice")
    account.create_group("Ops", now)
    account.add_user_to_group("alice", "Ops")
    assert code_of(account.delete_user, "alice") == "DeleteConflict.User.Group"
    account.remove_user_from_group("alice", "Ops")
    account.attach_policy_to_user("System", "AdministratorAccess", "alice")
    assert code_of(account.delete_user, "alice") == "DeleteConflict.User.Policy"
    account.detach_policy_from_user("System", "AdministratorAccess", "alice")
    account.delete_user("alice")
    assert account.list_users() == []


# --- console password -------------------------------------------------------------------


def test_console_password_is_hashed_never_stored(account, now):
    account.create_user("alice", now)
    profile = account.create_login_profile("alice", "Correct-Horse-9", now)
    assert "Correct-Horse-9" not in profile.password_hash
    assert profile.password_hash.startswith("scrypt$")
    assert account.check_console_password("alice", "Correct-Horse-9")
    assert not account.check_console_password("alice", "correct-horse-9")
    assert not account.check_console_password("nobody", "Correct-Horse-9")
    account.update_login_profile("alice", password="Another-Pass-1")
    assert account.check_console_password("alice", "Another-Pass-1")
    assert not account.check_console_password("alice", "Correct-Horse-9")


def test_login_profile_errors(account, now):
    account.create_user("alice", now)
    assert code_of(account.create_login_profile, "alice", "short", now) == (
        "InvalidParameter.Password.Length"
    )
    assert code_of(account.get_login_profile, "alice") == "EntityNotExist.User.LoginProfile"
    account.create_login_profile("alice", "Long-enough-1", now)
    assert code_of(account.create_login_profile, "alice", "Long-enough-2", now) == (
        "EntityAlreadyExists.User.LoginProfile"
    )


# --- AccessKeys -------------------------------------------------------------------------


def test_access_key_secret_is_returned_once_and_kept_for_verification(account, now):
    account.create_user("alice", now)
    new = account.create_access_key("alice", now)
    assert new.access_key_id.startswith("LTAI") and len(new.access_key_id) == 24
    assert len(new.access_key_secret) == 30
    user, key = account.find_access_key(new.access_key_id)
    assert user.user_name == "alice" and key.secret == new.access_key_secret
    listed = account.list_access_keys("alice")
    assert [k.access_key_id for k in listed] == [new.access_key_id]


def test_access_key_limit_status_and_deletion(account, now):
    account.create_user("alice", now)
    first = account.create_access_key("alice", now)
    account.create_access_key("alice", now)
    assert code_of(account.create_access_key, "alice", now) == "LimitExceeded.User.AccessKey"
    account.update_access_key("alice", first.access_key_id, "Inactive")
    assert code_of(account.find_access_key, first.access_key_id) == "InvalidAccessKeyId.Inactive"
    assert code_of(account.update_access_key, "alice", first.access_key_id, "Off") == (
        "InvalidParameter.Status"
    )
    account.update_access_key("alice", first.access_key_id, AccessKeyStatus.ACTIVE)
    account.find_access_key(first.access_key_id)
    account.delete_access_key("alice", first.access_key_id)
    assert code_of(account.find_access_key, first.access_key_id) == "InvalidAccessKeyId.NotFound"
    assert code_of(account.delete_access_key, "alice", first.access_key_id) == (
        "EntityNotExist.User.AccessKey"
    )


def test_import_access_key_keeps_the_given_secret(account, now):
    account.create_user("admin", now)
    account.import_access_key("admin", "LTAI5tFirstAdmin0000000", "s3cr3t", now)
    assert account.find_access_key("LTAI5tFirstAdmin0000000")[1].secret == "s3cr3t"
    assert code_of(account.import_access_key, "admin", "LTAI5tFirstAdmin0000000", "x", now) == (
        "EntityAlreadyExists.User.AccessKey"
    )


def test_finding_user_with_password_and_access_key(account, now):
    account.create_user("both", now)
    account.create_user("console", now)
    account.create_user("program", now)
    account.create_login_profile("both", "Long-enough-1", now)
    key = account.create_access_key("both", now)
    account.create_login_profile("console", "Long-enough-1", now)
    account.create_access_key("program", now)
    findings = users_with_password_and_access_keys(account)
    assert [(f.user_name, f.access_key_ids) for f in findings] == [("both", (key.access_key_id,))]
    assert "one of the two is enough" in findings[0].advice
    account.update_access_key("both", key.access_key_id, "Inactive")
    assert users_with_password_and_access_keys(account) == []


# --- groups -----------------------------------------------------------------------------


def test_group_membership(account, now):
    account.create_user("alice", now)
    account.create_group("Developers", now)
    account.create_group("SysAdmins", now)
    account.add_user_to_group("alice", "Developers")
    assert code_of(account.add_user_to_group, "alice", "Developers") == (
        "EntityAlreadyExists.User.Group"
    )
    assert code_of(account.add_user_to_group, "alice", "Nope") == "EntityNotExist.Group"
    assert code_of(account.add_user_to_group, "bob", "Developers") == "EntityNotExist.User"
    assert [u.user_name for u in account.list_users_for_group("Developers")] == ["alice"]
    account.move_user_between_groups("alice", "Developers", "SysAdmins")
    assert [g.group_name for g in account.list_groups_for_user("alice")] == ["SysAdmins"]
    assert code_of(account.move_user_between_groups, "alice", "Developers", "SysAdmins") == (
        "EntityNotExist.User.Group"
    )
    assert code_of(account.remove_user_from_group, "alice", "Developers") == (
        "EntityNotExist.User.Group"
    )


def test_failed_move_leaves_the_user_in_place(account, now):
    account.create_user("alice", now)
    account.create_group("A", now)
    account.create_group("B", now)
    account.add_user_to_group("alice", "A")
    account.add_user_to_group("alice", "B")
    assert code_of(account.move_user_between_groups, "alice", "A", "B") == (
        "EntityAlreadyExists.User.Group"
    )
    assert {g.group_name for g in account.list_groups_for_user("alice")} == {"A", "B"}


def test_group_names_and_deletion(account, now):
    assert (
        code_of(account.create_group, "bad_name", now) == "InvalidParameter.GroupName.InvalidChars"
    )
    account.create_group("Ops", now)
    assert code_of(account.create_group, "Ops", now) == "EntityAlreadyExists.Group"
    account.create_user("alice", now)
    account.add_user_to_group("alice", "Ops")
    assert code_of(account.delete_group, "Ops") == "DeleteConflict.Group.User"
    account.remove_user_from_group("alice", "Ops")
    account.attach_policy_to_group("System", "AdministratorAccess", "Ops")
    assert code_of(account.delete_group, "Ops") == "DeleteConflict.Group.Policy"
    account.detach_policy_from_group("System", "AdministratorAccess", "Ops")
    account.update_group("Ops", new_group_name="Operations")
    account.delete_group("Operations")
    assert code_of(account.get_group, "Operations") == "EntityNotExist.Group"


# --- policies ---------------------------------------------------------------------------


def test_create_get_list_policies(account, now):
    account.create_policy("EcsAll", ALLOW_ECS, now, description="all of ECS")
    got = account.get_policy("EcsAll", "Custom")
    assert (got.default_version, got.document_text, got.attachment_count) == ("v1", ALLOW_ECS, 0)
    assert account.get_policy("AliyunECSFullAccess", "System").description
    names = {(p.policy_name, p.policy_type.value) for p in account.list_policies()}
    assert ("EcsAll", "Custom") in names and ("AliyunECSReadOnlyAccess", "System") in names
    assert [p.policy_name for p in account.list_policies("Custom")] == ["EcsAll"]


def test_policy_errors(account, now):
    assert code_of(account.create_policy, "Bad Name", ALLOW_ECS, now) == (
        "InvalidParameter.PolicyName.InvalidChars"
    )
    with pytest.raises(PolicyError) as err:
        account.create_policy("Broken", '{"Version": "1"', now)
    assert err.value.code == "MalformedPolicyDocument" and err.value.line == 1
    assert code_of(account.get_policy, "Broken", "Custom") == "EntityNotExist.Policy"
    account.create_policy("EcsAll", ALLOW_ECS, now)
    assert code_of(account.create_policy, "EcsAll", ALLOW_ECS, now) == "EntityAlreadyExists.Policy"
    assert code_of(account.create_policy, "AdministratorAccess", ALLOW_ECS, now) == (
        "EntityAlreadyExists.Policy"
    )
    assert code_of(account.get_policy, "EcsAll", "System") == "EntityNotExist.Policy"
    assert code_of(account.get_policy, "EcsAll", "Managed") == "InvalidParameter.PolicyType"
    assert code_of(account.delete_policy, "AliyunECSFullAccess") == "EntityNotExist.Policy"


def test_delete_policy_refused_while_attached_or_versioned(account, now):
    account.create_policy("EcsAll", ALLOW_ECS, now)
    account.create_group("Ops", now)
    account.attach_policy_to_group("Custom", "EcsAll", "Ops")
    assert account.get_policy("EcsAll", "Custom").attachment_count == 1
    assert code_of(account.delete_policy, "EcsAll") == "DeleteConflict.Policy.Group"
    account.detach_policy_from_group("Custom", "EcsAll", "Ops")
    account.create_policy_version("EcsAll", DENY_STOP, now)
    assert code_of(account.delete_policy, "EcsAll") == "DeleteConflict.Policy.Version"
    account.delete_policy_version("EcsAll", "v2")
    account.delete_policy("EcsAll")
    assert code_of(account.get_policy, "EcsAll", "Custom") == "EntityNotExist.Policy"


def test_policy_versions_and_default_switch_take_effect_at_once(account, now):
    account.create_user("alice", now)
    account.create_policy("P", ALLOW_ECS, now)
    account.attach_policy_to_user("Custom", "P", "alice")
    alice = Caller.user("alice")
    assert account.authorize(alice, "ecs:StopInstance", "*", CTX).allowed
    v2 = account.create_policy_version("P", DENY_STOP, now, set_as_default=True)
    assert v2.version_id == "v2"
    assert not account.authorize(alice, "ecs:StopInstance", "*", CTX).allowed
    assert (
        code_of(account.delete_policy_version, "P", "v2") == "DeleteConflict.Policy.DefaultVersion"
    )
    account.set_default_policy_version("P", "v1")
    assert account.authorize(alice, "ecs:StopInstance", "*", CTX).allowed
    assert code_of(account.get_policy_version, "P", "v9") == "EntityNotExist.Policy.Version"
    for _ in range(3):
        account.create_policy_version("P", ALLOW_ECS, now)
    assert [v.version_id for v in account.list_policy_versions("P")] == [
        "v1",
        "v2",
        "v3",
        "v4",
        "v5",
    ]
    assert code_of(account.create_policy_version, "P", ALLOW_ECS, now) == (
        "LimitExceeded.Policy.Version"
    )
    account.delete_policy_version("P", "v5")
    with pytest.raises(PolicyError):
        account.create_policy_version("P", "{}", now)


def test_attach_and_detach_errors(account, now):
    account.create_user("alice", now)
    assert code_of(account.attach_policy_to_user, "System", "NoSuch", "alice") == (
        "EntityNotExist.Policy"
    )
    assert code_of(account.attach_policy_to_user, "Custom", "AdministratorAccess", "alice") == (
        "EntityNotExist.Policy"
    )
    assert code_of(account.attach_policy_to_user, "System", "AdministratorAccess", "bob") == (
        "EntityNotExist.User"
    )
    account.attach_policy_to_user("System", "AdministratorAccess", "alice")
    assert code_of(account.attach_policy_to_user, "System", "AdministratorAccess", "alice") == (
        "EntityAlreadyExists.User.Policy"
    )
    assert code_of(account.detach_policy_from_user, "System", "AliyunRAMFullAccess", "alice") == (
        "EntityNotExist.User.Policy"
    )
    entities = account.list_entities_for_policy("System", "AdministratorAccess")
    assert [(e.principal_kind.value, e.principal_name) for e in entities] == [("User", "alice")]


def test_effective_policies_are_the_users_and_its_groups(account, now):
    account.create_user("alice", now)
    account.create_group("Ops", now)
    account.add_user_to_group("alice", "Ops")
    account.attach_policy_to_user("System", "AliyunECSReadOnlyAccess", "alice")
    account.attach_policy_to_group("System", "AliyunRAMReadOnlyAccess", "Ops")
    effective = account.effective_policies("alice")
    assert [(p.name, p.attached_to) for p in effective] == [
        ("AliyunECSReadOnlyAccess", "user/alice"),
        ("AliyunRAMReadOnlyAccess", "group/Ops"),
    ]
    decision = account.authorize(Caller.user("alice"), "ram:ListUsers", "*", CTX)
    assert decision.allowed and "group/Ops" in decision.message()


def test_unknown_callers_get_nothing_and_the_owner_everything(account):
    assert not account.authorize(Caller.user("ghost"), "ecs:DescribeInstances", "*", CTX).allowed
    assert not account.authorize(Caller.role("ghost"), "ecs:DescribeInstances", "*", CTX).allowed
    assert account.authorize(Caller.root(), "ram:DeleteUser", "*", CTX).allowed


def test_require_raises_with_the_decision(account, now):
    account.create_user("alice", now)
    with pytest.raises(RamError) as err:
        account.require(Caller.user("alice"), "ecs:StopInstance", "*", CTX, "Forbidden.RAM")
    assert err.value.code == "Forbidden.RAM"
    assert "ecs:StopInstance on * denied: no policy allows it" in err.value.message


# --- roles ------------------------------------------------------------------------------


def test_create_role_with_ecs_trust(account, now):
    role = account.create_role("EcsRamRoleDocumentTesting", ECS_TRUST, now)
    assert role.arn == "acs:ram::1234567890123456:role/EcsRamRoleDocumentTesting"
    assert role.trusts_service("ecs.aliyuncs.com")
    assert account.ecs_role("EcsRamRoleDocumentTesting") is role
    assert code_of(account.create_role, "EcsRamRoleDocumentTesting", ECS_TRUST, now) == (
        "EntityAlreadyExists.Role"
    )
    assert code_of(account.get_role, "Nope") == "EntityNotExist.Role"


def test_role_errors(account, now):
    with pytest.raises(PolicyError) as err:
        account.create_role("R", ALLOW_ECS, now)  # a permission policy is not a trust policy
    assert err.value.position == "Statement[0].Resource"
    assert code_of(account.create_role, "bad_name", ECS_TRUST, now) == (
        "InvalidParameter.RoleName.InvalidChars"
    )
    assert code_of(account.create_role, "R", ECS_TRUST, now, max_session_duration=60) == (
        "InvalidParameter.MaxSessionDuration"
    )
    fc_trust = ECS_TRUST.replace("ecs.aliyuncs.com", "fc.aliyuncs.com")
    account.create_role("FcRole", fc_trust, now)
    assert code_of(account.ecs_role, "FcRole") == "InvalidRamRole.NotEcsRole"
    assert code_of(account.ecs_role, "Nope") == "InvalidRamRole.NotFound"
    account.update_role("FcRole", new_assume_role_policy_document=ECS_TRUST)
    assert account.ecs_role("FcRole").trusts_service("ecs.aliyuncs.com")


def test_deny_in_trust_policy_wins(account, now):
    trust = json.loads(ECS_TRUST)
    trust["Statement"].append(
        {"Effect": "Deny", "Action": "sts:*", "Principal": {"Service": "*.aliyuncs.com"}}
    )
    account.create_role("R", json.dumps(trust), now)
    assert code_of(account.ecs_role, "R") == "InvalidRamRole.NotEcsRole"


def test_role_policies_and_deletion(account, now):
    account.create_role("R", ECS_TRUST, now)
    account.create_policy("P", ALLOW_ECS, now)
    account.attach_policy_to_role("Custom", "P", "R")
    assert account.authorize(Caller.role("R"), "ecs:StopInstance", "*", CTX).allowed
    assert code_of(account.delete_role, "R") == "DeleteConflict.Role.Policy"
    assert code_of(account.delete_policy, "P") == "DeleteConflict.Policy.Role"
    account.detach_policy_from_role("Custom", "P", "R")
    assert not account.authorize(Caller.role("R"), "ecs:StopInstance", "*", CTX).allowed
    account.delete_role("R")
    assert account.list_roles() == []
