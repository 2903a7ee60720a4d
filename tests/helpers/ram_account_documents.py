"""A RAM account with one of every kind of entity, and its trip through the JSON document a
store keeps: for the tests of that document."""

import copy
import functools
import json
import random
from datetime import UTC, datetime, timedelta

from palisade.auditor.model.ram import RamAccount, RequestContext, account_document
from tests.helpers.ram_policies import ECS_TRUST, policy

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
ACCOUNT_ID = "1234567890123456"
STS_KEY = b"sts-signing-key-for-persistence-tests"
PASSWORD = "Correct-Horse-9"


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


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


# A request from the office network, and one from outside it.
CONTEXTS = [
    RequestContext(current_time=NOW, source_ip="42.120.74.10", secure_transport=True),
    RequestContext(current_time=NOW, source_ip="8.8.8.8"),
]
