"""RAM state as a JSON document: what is restored behaves like what was stored."""

import copy
import functools
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.ram import (
    AccessKeyStatus,
    Caller,
    InMemoryNonceRegistry,
    InstanceRamRoles,
    InstanceRef,
    PolicyType,
    RamAccount,
    RamError,
    RequestContext,
    account_document,
    authenticate,
    passwords,
    sign_request,
)

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
ACCOUNT_ID = "1234567890123456"
STS_KEY = b"sts-signing-key-for-persistence-tests"
PASSWORD = "Correct-Horse-9"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


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
USER_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:root"]},
            }
        ],
    }
)
OFFICE_ONLY = policy(
    allow(
        ["ecs:Describe*", "ecs:StartInstance"],
        "acs:ecs:*:*:instance/*",
        Condition={"IpAddress": {"acs:SourceIp": "42.120.74.0/24"}},
    )
)
NO_STOP = policy(deny("ecs:Stop*"))
# A stored policy document keeps its own spacing and key order: the text is what is stored.
OSS_READ = '{"Statement": [{"Action": ["oss:Get*", "oss:List*"], "Resource": "*", "Effect": "Allow"}], "Version": "1"}'  # noqa: E501


def rich_account() -> tuple[RamAccount, dict[str, str]]:
    """One of every kind of entity, after the kinds of edits that leave traces (renames,
    deleted versions, disabled keys); and the AccessKey secrets by user. A fresh copy for each
    test, of one built once: building hashes passwords, which is slow on purpose."""
    return copy.deepcopy(_built_rich_account())


@functools.cache
def _built_rich_account() -> tuple[RamAccount, dict[str, str]]:
    account = RamAccount(ACCOUNT_ID, random_bytes=random.Random(11).randbytes)
    t = iter(NOW + timedelta(minutes=i, microseconds=i * 7) for i in range(100))

    account.create_user("alice@corp", next(t), display_name="Alice 张", comments="ops lead")
    account.create_user("bob", next(t))
    account.create_user("temp", next(t), comments="contractor")
    account.update_user("temp", new_user_name="carol", new_display_name="Carol")
    account.create_user("dave", next(t))

    account.create_login_profile("alice@corp", PASSWORD, next(t), mfa_bind_required=True)
    account.create_login_profile("carol", "Another-Pass-1", next(t), password_reset_required=True)
    secrets = {
        "alice@corp": account.create_access_key("alice@corp", next(t)).access_key_secret,
        "bob": account.create_access_key("bob", next(t)).access_key_secret,
    }
    disabled = account.create_access_key("alice@corp", next(t))
    account.update_access_key("alice@corp", disabled.access_key_id, "Inactive")
    account.import_access_key("dave", "LTAI5tImportedKey0000000", "imported-secret", next(t))
    secrets["dave"] = "imported-secret"

    account.create_group("Admins", next(t), comments="full ECS")
    account.create_group("Old", next(t))
    account.update_group("Old", new_group_name="Auditors", new_comments="read only")
    account.create_group("Empty", next(t))
    for user, group in [("alice@corp", "Admins"), ("bob", "Admins"), ("carol", "Auditors")]:
        account.add_user_to_group(user, group)
    account.add_user_to_group("alice@corp", "Auditors")

    account.create_policy("OfficeEcs", OFFICE_ONLY, next(t), description="from the office")
    account.create_policy_version("OfficeEcs", policy(allow("ecs:*")), next(t))
    account.create_policy_version("OfficeEcs", OFFICE_ONLY, next(t), set_as_default=True)
    account.create_policy_version("OfficeEcs", policy(allow("ram:*")), next(t))
    account.delete_policy_version("OfficeEcs", "v2")
    account.create_policy("NoStop", NO_STOP, next(t))
    account.create_policy("OssRead", OSS_READ, next(t))
    account.create_policy("Unattached", policy(allow("vpc:*")), next(t))

    account.create_role("EcsOss", ECS_TRUST, next(t), description="for instances")
    account.create_role("Admin", USER_TRUST, next(t), max_session_duration=7200)
    account.update_role("Admin", new_max_session_duration=10800)

    account.attach_policy_to_group("System", "AliyunECSFullAccess", "Admins")
    account.attach_policy_to_group("System", "AliyunECSReadOnlyAccess", "Auditors")
    account.attach_policy_to_user("Custom", "NoStop", "bob")
    account.attach_policy_to_user("Custom", "OfficeEcs", "carol")
    account.attach_policy_to_user("System", "AliyunRAMReadOnlyAccess", "alice@corp")
    account.attach_policy_to_role("Custom", "OssRead", "EcsOss")
    account.attach_policy_to_role("System", "AliyunRAMFullAccess", "Admin")
    account.attach_policy_to_role("Custom", "NoStop", "Admin")
    return account, secrets


def restored(account: RamAccount) -> RamAccount:
    """Through JSON text, as a store would keep it."""
    text = json.dumps(account_document.to_document(account))
    return account_document.from_document(
        json.loads(text), random_bytes=random.Random(99).randbytes
    )


def only_json_types(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_json_types(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


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
CONTEXTS = [
    RequestContext(current_time=NOW, source_ip="42.120.74.10", secure_transport=True),
    RequestContext(current_time=NOW, source_ip="8.8.8.8"),
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
        request = authenticate(back, params, NOW, InMemoryNonceRegistry(), sts_signing_key=STS_KEY)
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


# --- random histories round trip ----------------------------------------------------------

USER_NAMES = ["alice", "bob", "carol", "dave"]
GROUP_NAMES = ["Admins", "Ops", "Audit"]
CUSTOM_NAMES = ["PolA", "PolB"]
ROLE_NAMES = ["EcsRole", "OtherRole"]
SYSTEM_NAMES = ["AliyunECSFullAccess", "AliyunRAMFullAccess"]
DOCUMENTS = [OFFICE_ONLY, NO_STOP, OSS_READ, policy(allow("ecs:*"))]
TRUSTS = [ECS_TRUST, USER_TRUST]
PRINCIPAL_KINDS = ["user", "group", "role"]

# Listed as often as they should be drawn: growing more often than shrinking, so that
# histories reach rich states (members, attachments, keys, versions).
KINDS = [
    *["create_user", "add_user_to_group"] * 5,
    *["create_group", "create_policy", "create_role", "attach"] * 3,
    *["create_access_key", "create_policy_version"] * 2,
    "create_login_profile",
    "update_login_profile",
    "delete_login_profile",
    "rename_user",
    "update_user",
    "delete_user",
    "disable_access_key",
    "delete_access_key",
    "rename_group",
    "delete_group",
    "remove_user_from_group",
    "set_default_policy_version",
    "delete_policy_version",
    "delete_policy",
    "update_role",
    "delete_role",
    "detach",
]
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("张"), max_size=6)
# An operation's kind, the seed it picks its arguments with (`Picks`), a flag and a text.
OPERATIONS = st.tuples(st.sampled_from(KINDS), st.integers(0, 2**32), st.booleans(), TEXT)


class Picks:
    """Arguments for one operation, chosen with its seed: entity names mostly among those that
    exist (so that most operations do something), sometimes from the fixed pools (so that some
    are refused, as in real use). Hypothesis' own integers lean too hard on 0 to pick with."""

    def __init__(self, account: RamAccount, seed: str):
        self.account = account
        self.random = random.Random(seed)

    def of(self, choices: list):
        return self.random.choice(choices)

    def name(self, existing, pool: list[str]) -> str:
        if existing and self.random.random() < 0.9:
            return self.random.choice(sorted(existing))
        return self.random.choice(pool)

    def user(self) -> str:
        return self.name(self.account.users, USER_NAMES)

    def group(self) -> str:
        return self.name(self.account.groups, GROUP_NAMES)

    def custom(self) -> str:
        return self.name(self.account.policies, CUSTOM_NAMES)

    def role(self) -> str:
        return self.name(self.account.roles, ROLE_NAMES)


def apply(account: RamAccount, operation: tuple, step: int, now: datetime) -> None:
    """Perform one drawn operation, the `step`th; a refusal raises RamError, as the API would."""
    kind, seed, flag, text = operation
    # With the step in it, a seed hypothesis repeats (it likes 0) still picks differently.
    pick = Picks(account, f"{seed}/{step}")
    if kind == "create_user":
        account.create_user(pick.of(USER_NAMES), now, display_name=text or None, comments=text)
    elif kind == "rename_user":
        account.update_user(pick.user(), new_user_name=pick.of(USER_NAMES))
    elif kind == "update_user":
        account.update_user(pick.user(), new_display_name=text or "x", new_comments=text)
    elif kind == "delete_user":
        account.delete_user(pick.user())
    elif kind == "create_login_profile":
        account.create_login_profile(pick.user(), PASSWORD, now, flag, not flag)
    elif kind == "update_login_profile":
        account.update_login_profile(pick.user(), None, flag, pick.of([True, False]))
    elif kind == "delete_login_profile":
        account.delete_login_profile(pick.user())
    elif kind == "create_access_key":
        account.create_access_key(pick.user(), now)
    elif kind in ("disable_access_key", "delete_access_key"):
        user = pick.user()
        keys = account.list_access_keys(user)
        if keys:
            key = pick.of(keys)
            if kind == "disable_access_key":
                account.update_access_key(user, key.access_key_id, AccessKeyStatus.INACTIVE)
            else:
                account.delete_access_key(user, key.access_key_id)
    elif kind == "create_group":
        account.create_group(pick.of(GROUP_NAMES), now, comments=text)
    elif kind == "rename_group":
        account.update_group(pick.group(), new_group_name=pick.of(GROUP_NAMES))
    elif kind == "delete_group":
        account.delete_group(pick.group())
    elif kind == "add_user_to_group":
        account.add_user_to_group(pick.user(), pick.group())
    elif kind == "remove_user_from_group":
        account.remove_user_from_group(pick.user(), pick.group())
    elif kind == "create_policy":
        account.create_policy(pick.of(CUSTOM_NAMES), pick.of(DOCUMENTS), now, description=text)
    elif kind == "create_policy_version":
        account.create_policy_version(pick.custom(), pick.of(DOCUMENTS), now, flag)
    elif kind in ("set_default_policy_version", "delete_policy_version"):
        name = pick.custom()
        version = pick.of([f"v{n}" for n in range(1, 6)])
        getattr(account, kind)(name, version)
    elif kind == "delete_policy":
        account.delete_policy(pick.custom())
    elif kind == "create_role":
        account.create_role(pick.of(ROLE_NAMES), pick.of(TRUSTS), now, description=text)
    elif kind == "update_role":
        account.update_role(pick.role(), new_max_session_duration=pick.random.randint(3600, 43200))
    elif kind == "delete_role":
        account.delete_role(pick.role())
    elif kind in ("attach", "detach"):
        principal_kind = pick.of(PRINCIPAL_KINDS)
        principal = {"user": pick.user, "group": pick.group, "role": pick.role}[principal_kind]()
        if flag:
            policy_type, policy_name = "Custom", pick.custom()
        else:
            policy_type, policy_name = "System", pick.of(SYSTEM_NAMES)
        joint = "to" if kind == "attach" else "from"
        method = getattr(account, f"{kind}_policy_{joint}_{principal_kind}")
        method(policy_type, policy_name, principal)
    else:  # pragma: no cover - OPERATIONS draws only the kinds above
        raise AssertionError(kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operations=st.lists(OPERATIONS, min_size=20, max_size=80),
    seed=st.integers(0, 2**32),
    offset=st.integers(-12, 14),
)
def test_any_history_round_trips(operations, seed, offset):
    account = RamAccount(ACCOUNT_ID, random_bytes=random.Random(seed).randbytes)
    zone = timezone(timedelta(hours=offset))
    # A cheap scrypt: the hashes are only stored and compared here, and the real cost
    # parameter would make the password hashing most of this test's time.
    with mock.patch.object(passwords, "_N", 2):
        for step, operation in enumerate(operations):
            now = (NOW + timedelta(seconds=step, microseconds=step)).astimezone(zone)
            try:
                apply(account, operation, step, now)
            except RamError:
                pass  # refused operations are part of a history too
    doc = account_document.to_document(account)
    assert only_json_types(doc)
    back = account_document.from_document(json.loads(json.dumps(doc)))
    assert account_document.to_document(back) == doc
    assert back.list_users() == account.list_users()
    assert back.list_groups() == account.list_groups()
    assert back.list_roles() == account.list_roles()
    assert back.list_policies() == account.list_policies()
    assert back.attachments == account.attachments


# --- documents that are not an account ----------------------------------------------------


RICH = account_document.to_document(rich_account()[0])


def edited(edit) -> dict:
    doc = copy.deepcopy(RICH)
    edit(doc)
    return doc


def user(doc: dict, name: str) -> dict:
    return next(u for u in doc["Users"] if u["UserName"] == name)


def custom(doc: dict, name: str) -> dict:
    return next(p for p in doc["Policies"] if p["PolicyName"] == name)


BAD_DOCUMENTS = {
    "format unknown": lambda doc: doc.update(format=2),
    "format missing": lambda doc: doc.pop("format"),
    "format as text": lambda doc: doc.update(format="1"),
    "format as boolean": lambda doc: doc.update(format=True),
    "account id missing": lambda doc: doc.pop("AccountId"),
    "account id empty": lambda doc: doc.update(AccountId=""),
    "users missing": lambda doc: doc.pop("Users"),
    "users not a list": lambda doc: doc.update(Users={"alice": {}}),
    "user not an object": lambda doc: doc["Users"].append("alice"),
    "user name missing": lambda doc: doc["Users"][0].pop("UserName"),
    "user name invalid": lambda doc: doc["Users"][0].update(UserName="bad name"),
    "user name twice": lambda doc: doc["Users"].append(copy.deepcopy(doc["Users"][1])),
    "user id a number": lambda doc: doc["Users"][0].update(UserId=123),
    "comments too long": lambda doc: doc["Users"][0].update(Comments="x" * 129),
    "unknown user field": lambda doc: doc["Users"][0].update(Admin=True),
    "unknown top field": lambda doc: doc.update(Federation=[]),
    "date not a date": lambda doc: doc["Users"][0].update(CreateDate="yesterday"),
    "date without offset": lambda doc: doc["Users"][0].update(CreateDate="2019-09-18T08:00:00"),
    "date a number": lambda doc: doc["Users"][0].update(CreateDate=1568793600),
    "date out of range in UTC": lambda doc: doc["Users"][0].update(
        CreateDate="0001-01-01T00:00:00+01:00"
    ),
    "field name not a string": lambda doc: doc.update({1: "one"}),
    "login profile a string": lambda doc: user(doc, "alice@corp").update(LoginProfile="x"),
    "login profile flag a string": lambda doc: user(doc, "alice@corp")["LoginProfile"].update(
        MFABindRequired="true"
    ),
    "password hash missing": lambda doc: user(doc, "carol")["LoginProfile"].pop("PasswordHash"),
    "access key status unknown": lambda doc: user(doc, "bob")["AccessKeys"][0].update(
        Status="Enabled"
    ),
    "access key secret missing": lambda doc: user(doc, "bob")["AccessKeys"][0].pop(
        "AccessKeySecret"
    ),
    "access key id shared": lambda doc: user(doc, "bob")["AccessKeys"][0].update(
        AccessKeyId=user(doc, "dave")["AccessKeys"][0]["AccessKeyId"]
    ),
    "group member unknown": lambda doc: doc["Groups"][0]["Members"].append("mallory"),
    "group member twice": lambda doc: doc["Groups"][0]["Members"].append("bob"),
    "group member not a string": lambda doc: doc["Groups"][0]["Members"].append(7),
    "policy document invalid JSON": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        PolicyDocument="{not json"
    ),
    "policy document not RAM's": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        PolicyDocument='{"Version": "2", "Statement": []}'
    ),
    "policy default version absent": lambda doc: custom(doc, "OfficeEcs").update(
        DefaultVersion="v2"
    ),
    "policy without versions": lambda doc: custom(doc, "NoStop").update(Versions=[]),
    "policy version ahead of counter": lambda doc: custom(doc, "OfficeEcs").update(NextVersion=4),
    "policy version id odd": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        VersionId="latest"
    ),
    "policy named like a system policy": lambda doc: custom(doc, "NoStop").update(
        PolicyName="AliyunECSFullAccess"
    ),
    "role trust not a trust policy": lambda doc: doc["Roles"][0].update(
        AssumeRolePolicyDocument=NO_STOP
    ),
    "role session duration out of range": lambda doc: doc["Roles"][0].update(MaxSessionDuration=60),
    "attachment to unknown user": lambda doc: doc["Attachments"][0].update(
        PrincipalType="User", PrincipalName="mallory"
    ),
    "attachment of unknown system policy": lambda doc: doc["Attachments"][0].update(
        PolicyType="System", PolicyName="AliyunEverything"
    ),
    "attachment of deleted custom policy": lambda doc: doc["Policies"].pop(
        doc["Policies"].index(custom(doc, "OssRead"))
    ),
    "attachment principal type unknown": lambda doc: doc["Attachments"][0].update(
        PrincipalType="Account"
    ),
    "attachment twice": lambda doc: doc["Attachments"].append(dict(doc["Attachments"][0])),
}


@pytest.mark.parametrize("edit", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_bad_document_is_a_value_error(edit):
    with pytest.raises(ValueError):
        account_document.from_document(edited(edit))


@pytest.mark.parametrize("doc", [None, [], "{}", 1, {}])
def test_something_other_than_a_document_is_a_value_error(doc):
    with pytest.raises(ValueError):
        account_document.from_document(doc)
    with pytest.raises(ValueError):
        InstanceRamRoles.from_document(doc)


def test_errors_name_the_format_and_the_field():
    with pytest.raises(ValueError, match="format 2.*reads only format 1"):
        account_document.from_document(edited(lambda doc: doc.update(format=2)))
    with pytest.raises(ValueError, match=r"^Users\[0\]\.UserName is missing"):
        account_document.from_document(edited(lambda doc: doc["Users"][0].pop("UserName")))
    with pytest.raises(ValueError, match=r"Policies\[\d\]\.Versions\[0\]\.PolicyDocument: "):
        account_document.from_document(edited(BAD_DOCUMENTS["policy document invalid JSON"]))
    with pytest.raises(ValueError, match=r"Groups\[0\]\.Members: the user 'mallory'"):
        account_document.from_document(edited(BAD_DOCUMENTS["group member unknown"]))


def test_every_missing_field_is_a_value_error():
    """Drop each field of the document in turn, at every depth."""

    def paths(value, at=()):
        if isinstance(value, dict):
            for key, item in value.items():
                yield (*at, key)
                yield from paths(item, (*at, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from paths(item, (*at, i))

    dropped = 0
    for path in paths(RICH):
        if not isinstance(path[-1], str):
            continue
        doc = copy.deepcopy(RICH)
        holder = doc
        for step in path[:-1]:
            holder = holder[step]
        del holder[path[-1]]
        with pytest.raises(ValueError):
            account_document.from_document(doc)
        dropped += 1
    assert dropped > 100


# --- instance RAM roles -------------------------------------------------------------------


def test_instance_roles_round_trip():
    account, _ = rich_account()
    roles = InstanceRamRoles()
    for instance_id in ("i-bp1", "i-bp2", "i-bp3"):
        roles.attach(
            account, Caller.root(), InstanceRef(instance_id, "cn-hangzhou"), "EcsOss", CONTEXTS[0]
        )
    doc = roles.to_document()
    assert doc == {
        "format": 1,
        "Bindings": [
            {"InstanceId": "i-bp1", "RoleName": "EcsOss"},
            {"InstanceId": "i-bp2", "RoleName": "EcsOss"},
            {"InstanceId": "i-bp3", "RoleName": "EcsOss"},
        ],
    }
    back = InstanceRamRoles.from_document(json.loads(json.dumps(doc)))
    assert back == roles
    assert back.describe() == roles.describe()
    credentials = back.issue_credentials(
        restored(account), "i-bp2", "EcsOss", NOW, 3600, signing_key=STS_KEY
    )
    assert credentials.access_key_id


def test_empty_instance_roles_round_trip():
    assert InstanceRamRoles.from_document(InstanceRamRoles().to_document()) == InstanceRamRoles()


@pytest.mark.parametrize(
    "doc",
    [
        {"format": 2, "Bindings": []},
        {"Bindings": []},
        {"format": 1},
        {"format": 1, "Bindings": {"i-bp1": "EcsOss"}},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1"}]},
        {"format": 1, "Bindings": [{"InstanceId": "", "RoleName": "EcsOss"}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": 5}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "bad role"}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "A", "Extra": 1}]},
        {
            "format": 1,
            "Bindings": [
                {"InstanceId": "i-bp1", "RoleName": "A"},
                {"InstanceId": "i-bp1", "RoleName": "B"},
            ],
        },
        {"format": 1, "Bindings": [], "Other": []},
    ],
)
def test_a_bad_instance_roles_document_is_a_value_error(doc):
    with pytest.raises(ValueError):
        InstanceRamRoles.from_document(doc)
