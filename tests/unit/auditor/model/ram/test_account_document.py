"""RAM state as a JSON document: what is restored behaves like what was stored."""

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from palisade.auditor.model.ram import (
    AccessKeyStatus,
    Caller,
    InMemoryNonceRegistry,
    InstanceRamRoles,
    PolicyType,
    RamAccount,
    RamError,
    account_document,
    authenticate,
    sign_request,
)
from tests.helpers.ram_account_documents import (
    ACCOUNT_ID,
    CONTEXTS,
    NO_STOP,
    NOW,
    OSS_READ,
    PASSWORD,
    STS_KEY,
    only_json_types,
    restored,
    rich_account,
)

# --- the document -------------------------------------------------------------------------


def test_document_is_plain_json_data_with_a_format():
    account, _ = rich_account()
    doc = account_document.to_document(account)
    assert doc["format"] == 1
    assert only_json_types(doc)
    assert json.loads(json.dumps(doc)) == doc


def test_dates_are_iso_8601_in_utc():
    account = RamAccount(ACCOUNT_ID)
    plus8 = timezone(timedelta(hours=8))
    account.create_user("alice", datetime(2019, 9, 18, 16, 0, 0, 250, tzinfo=plus8))
    account.create_group("Admins", datetime(2019, 9, 18, 8, 0, 0))  # naive: taken as UTC
    doc = account_document.to_document(account)
    assert doc["Users"][0]["CreateDate"] == "2019-09-18T08:00:00.000250Z"
    assert doc["Groups"][0]["CreateDate"] == "2019-09-18T08:00:00Z"
    back = account_document.from_document(doc)
    assert back.get_user("alice").create_date == account.get_user("alice").create_date
    assert back.get_user("alice").create_date.tzinfo == UTC


def test_enums_are_stored_by_value_and_policy_text_verbatim():
    account, _ = rich_account()
    doc = account_document.to_document(account)
    alice = doc["Users"][0]
    assert [k["Status"] for k in alice["AccessKeys"]] == ["Active", "Inactive"]
    assert {a["PolicyType"] for a in doc["Attachments"]} == {"System", "Custom"}
    assert {a["PrincipalType"] for a in doc["Attachments"]} == {"User", "Group", "Role"}
    oss = next(p for p in doc["Policies"] if p["PolicyName"] == "OssRead")
    assert oss["Versions"][0]["PolicyDocument"] == OSS_READ


def test_document_holds_secrets_and_password_hashes_never_passwords():
    account, secrets = rich_account()
    text = json.dumps(account_document.to_document(account))
    assert all(secret in text for secret in secrets.values())
    assert PASSWORD not in text
    assert account.get_login_profile("alice@corp").password_hash in text


# --- the restored account behaves the same -----------------------------------------------


CALLERS = [
    Caller.root(),
    Caller.user("alice@corp"),
    Caller.user("bob"),
    Caller.user("carol"),
    Caller.user("dave"),
    Caller.user("nobody"),
    Caller.role("EcsOss"),
    Caller.role("Admin"),
    Caller.role("Gone"),
]
ACTIONS = [
    "ecs:DescribeInstances",
    "ecs:StartInstance",
    "ecs:StopInstance",
    "ecs:DeleteInstance",
    "ram:ListUsers",
    "ram:CreateUser",
    "ram:PassRole",
    "oss:GetObject",
    "vpc:DescribeVpcs",
]
RESOURCES = [
    "*",
    f"acs:ecs:cn-hangzhou:{ACCOUNT_ID}:instance/i-bp1",
    f"acs:ram:*:{ACCOUNT_ID}:role/ecsoss",
    "acs:oss:*:*:bucket/logs",
]


def test_restored_account_makes_the_same_decisions():
    account, _ = rich_account()
    back = restored(account)
    decisions = 0
    for caller in CALLERS:
        for action in ACTIONS:
            for resource in RESOURCES:
                for context in CONTEXTS:
                    expected = account.authorize(caller, action, resource, context)
                    assert back.authorize(caller, action, resource, context) == expected
                    decisions += expected.allowed
    assert decisions > 50  # the matrix exercises allows, not only implicit denies


def test_restored_account_lists_the_same_entities():
    account, _ = rich_account()
    back = restored(account)
    assert back.account_id == ACCOUNT_ID
    assert back.list_users() == account.list_users()
    assert back.list_groups() == account.list_groups()
    assert back.list_roles() == account.list_roles()
    assert back.list_policies() == account.list_policies()
    assert back.attachments == account.attachments
    for user in account.users:
        assert back.list_access_keys(user) == account.list_access_keys(user)
        assert back.list_groups_for_user(user) == account.list_groups_for_user(user)
        assert back.list_policies_for_user(user) == account.list_policies_for_user(user)
        assert back.effective_policies(user) == account.effective_policies(user)
    for group in account.groups:
        assert back.list_users_for_group(group) == account.list_users_for_group(group)
        assert back.list_policies_for_group(group) == account.list_policies_for_group(group)
    for role in account.roles:
        assert back.list_policies_for_role(role) == account.list_policies_for_role(role)
    for name in account.policies:
        assert back.list_policy_versions(name) == account.list_policy_versions(name)
        assert back.get_policy(name, "Custom") == account.get_policy(name, "Custom")
        assert back.list_entities_for_policy("Custom", name) == account.list_entities_for_policy(
            "Custom", name
        )
    assert back.list_entities_for_policy(
        PolicyType.SYSTEM, "AliyunECSFullAccess"
    ) == account.list_entities_for_policy(PolicyType.SYSTEM, "AliyunECSFullAccess")
    assert back.get_user("alice@corp").display_name == "Alice 张"
    assert back.get_user("carol").comments == "contractor"
    assert back.get_role("Admin").max_session_duration == 10800
    assert back.ecs_role("EcsOss").trusts_service("ecs.aliyuncs.com")


def test_restored_access_keys_still_authenticate():
    account, secrets = rich_account()
    back = restored(account)
    for user_name, secret in secrets.items():
        key = next(
            k for k in back.list_access_keys(user_name) if k.status is AccessKeyStatus.ACTIVE
        )
        params = sign_request({"Action": "DescribeInstances"}, key.access_key_id, secret, NOW, "n")
        request = authenticate(
            back,
            params,
            NOW,
            InMemoryNonceRegistry(),
            sts_signing_key=STS_KEY,
            instance_roles=InstanceRamRoles(),
        )
        assert request.caller == Caller.user(user_name)
    inactive = next(
        k for k in back.list_access_keys("alice@corp") if k.status is AccessKeyStatus.INACTIVE
    )
    with pytest.raises(RamError) as err:
        back.find_access_key(inactive.access_key_id)
    assert err.value.code == "InvalidAccessKeyId.Inactive"


def test_restored_console_passwords_still_check():
    account, _ = rich_account()
    back = restored(account)
    assert back.check_console_password("alice@corp", PASSWORD)
    assert not back.check_console_password("alice@corp", "Wrong-Pass-1")
    assert back.check_console_password("carol", "Another-Pass-1")
    assert not back.check_console_password("bob", PASSWORD)
    assert back.get_login_profile("alice@corp").mfa_bind_required
    assert back.get_login_profile("carol").password_reset_required


def test_restored_account_keeps_counting_policy_versions():
    account, _ = rich_account()
    back = restored(account)
    assert [v.version_id for v in back.list_policy_versions("OfficeEcs")] == ["v1", "v3", "v4"]
    assert back.get_policy("OfficeEcs", "Custom").default_version == "v3"
    assert back.create_policy_version("OfficeEcs", NO_STOP, NOW).version_id == "v5"
    assert account.create_policy_version("OfficeEcs", NO_STOP, NOW).version_id == "v5"


def test_restored_account_refuses_what_the_original_refuses():
    back = restored(rich_account()[0])
    with pytest.raises(RamError) as err:
        back.create_access_key("alice@corp", NOW)
    assert err.value.code == "LimitExceeded.User.AccessKey"
    with pytest.raises(RamError) as err:
        back.import_access_key("bob", "LTAI5tImportedKey0000000", "x", NOW)
    assert err.value.code == "EntityAlreadyExists.User.AccessKey"
    with pytest.raises(RamError) as err:
        back.delete_group("Admins")
    assert err.value.code == "DeleteConflict.Group.User"


def test_restored_account_uses_the_entropy_it_is_given():
    account, _ = rich_account()
    doc = account_document.to_document(account)
    one = account_document.from_document(doc, random_bytes=random.Random(1).randbytes)
    two = account_document.from_document(doc, random_bytes=random.Random(1).randbytes)
    assert one.create_user("erin", NOW).user_id == two.create_user("erin", NOW).user_id


def test_empty_account_round_trips():
    account = RamAccount(ACCOUNT_ID)
    assert account_document.to_document(restored(account)) == account_document.to_document(account)
