"""`RamAccount` <-> JSON document, written out field by field rather than through
model.document: the stored form uses the RAM API's own field names (`UserName`, a
`CreateDate` ending in `Z`), and each field is read back with the API's rules (names,
lengths, policy grammar), unknown fields refused and every reference checked, so a stored
account that loads is one the API could have built."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.documents import (
    DOCUMENT_FORMAT,
    DocumentReader,
    datetime_text,
    open_document,
    unique,
)
from palisade.auditor.model.ram.entities import (
    AccessKey,
    AccessKeyStatus,
    Attachment,
    CustomPolicy,
    Group,
    LoginProfile,
    PolicyVersion,
    PrincipalKind,
    Role,
    User,
)
from palisade.auditor.model.ram.evaluation import PolicyType
from palisade.auditor.model.ram.policy_language import parse_policy, parse_trust_policy
from palisade.auditor.model.ram.roles import check_session_duration
from palisade.auditor.model.ram.system_policies import SYSTEM_POLICIES
from palisade.auditor.model.ram.tokens import RandomBytes


def to_document(account: RamAccount) -> dict:
    """Everything the account holds, as plain JSON data (`from_document` reads it back).

    Lists keep the order of the account's dicts and lists, since the list_* results and
    the order policies are evaluated in follow it. Policy documents are kept as the text
    they were given, and parsed again on load.
    """
    return {
        **meta_document(account),
        "Users": [user_document(u) for u in account.users.values()],
        "Groups": [group_document(g) for g in account.groups.values()],
        "Policies": [policy_document(p) for p in account.policies.values()],
        "Roles": [role_document(r) for r in account.roles.values()],
        "Attachments": [attachment_document(a) for a in account.attachments],
    }


def meta_document(account: RamAccount) -> dict:
    """What the document holds besides its lists (the "ram" unit)."""
    return {"format": DOCUMENT_FORMAT, "AccountId": account.account_id}


def from_document(doc: dict, *, random_bytes: RandomBytes = secrets.token_bytes) -> RamAccount:
    """The account `to_document` wrote; ValueError naming the field if `doc` is not one
    (unknown format, a field missing or of the wrong type, a dangling reference)."""
    top = open_document(doc, "RAM account")
    account_id = top.string("AccountId")
    if not account_id:
        raise top.error("AccountId", "must not be empty")
    account = RamAccount(account_id, random_bytes=random_bytes)

    users = [_read_user(r) for r in top.objects("Users")]
    unique(top, "Users", [u.user_name for u in users], "the user")
    unique(
        top,
        "Users",
        [key_id for u in users for key_id in u.access_keys],
        "the AccessKey",
    )
    account.users = {u.user_name: u for u in users}

    groups = [_read_group(r, account.users) for r in top.objects("Groups")]
    unique(top, "Groups", [g.group_name for g in groups], "the group")
    account.groups = {g.group_name: g for g in groups}

    policies = [_read_policy(r) for r in top.objects("Policies")]
    unique(top, "Policies", [p.policy_name for p in policies], "the policy")
    account.policies = {p.policy_name: p for p in policies}

    roles = [_read_role(r) for r in top.objects("Roles")]
    unique(top, "Roles", [r.role_name for r in roles], "the role")
    account.roles = {r.role_name: r for r in roles}

    account.attachments = [_read_attachment(r, account) for r in top.objects("Attachments")]
    if len(set(account.attachments)) != len(account.attachments):
        raise top.error("Attachments", "the same attachment appears more than once")
    top.done()
    return account


_VERSION_ID = re.compile(r"v([0-9]+)")


def user_document(user: User) -> dict:
    profile = user.login_profile
    return {
        "UserName": user.user_name,
        "UserId": user.user_id,
        "DisplayName": user.display_name,
        "Comments": user.comments,
        "CreateDate": datetime_text(user.create_date),
        "LoginProfile": None
        if profile is None
        else {
            "PasswordHash": profile.password_hash,
            "PasswordResetRequired": profile.password_reset_required,
            "MFABindRequired": profile.mfa_bind_required,
            "CreateDate": datetime_text(profile.create_date),
        },
        "AccessKeys": [
            {
                "AccessKeyId": key.access_key_id,
                "AccessKeySecret": key.secret,
                "Status": key.status.value,
                "CreateDate": datetime_text(key.create_date),
            }
            for key in user.access_keys.values()
        ],
    }


def _read_user(reader: DocumentReader) -> User:
    user = User(
        user_name=reader.name("UserName", names.USER_NAME),
        user_id=reader.string("UserId"),
        display_name=reader.name("DisplayName", names.DISPLAY_NAME),
        comments=reader.text("Comments", 128),
        create_date=reader.date_time("CreateDate"),
    )
    profile = reader.optional_object("LoginProfile")
    if profile is not None:
        user.login_profile = LoginProfile(
            password_hash=profile.string("PasswordHash"),
            password_reset_required=profile.boolean("PasswordResetRequired"),
            mfa_bind_required=profile.boolean("MFABindRequired"),
            create_date=profile.date_time("CreateDate"),
        )
        profile.done()
    keys = [_read_access_key(r) for r in reader.objects("AccessKeys")]
    unique(reader, "AccessKeys", [k.access_key_id for k in keys], "the AccessKey")
    user.access_keys = {k.access_key_id: k for k in keys}
    reader.done()
    return user


def _read_access_key(reader: DocumentReader) -> AccessKey:
    key_id = reader.string("AccessKeyId")
    if not key_id:
        raise reader.error("AccessKeyId", "must not be empty")
    key = AccessKey(
        access_key_id=key_id,
        secret=reader.string("AccessKeySecret"),
        status=reader.choice("Status", AccessKeyStatus),
        create_date=reader.date_time("CreateDate"),
    )
    reader.done()
    return key


def group_document(group: Group) -> dict:
    return {
        "GroupName": group.group_name,
        "Comments": group.comments,
        "CreateDate": datetime_text(group.create_date),
        "Members": list(group.members),
    }


def _read_group(reader: DocumentReader, users: dict[str, User]) -> Group:
    group = Group(
        group_name=reader.name("GroupName", names.GROUP_NAME),
        comments=reader.text("Comments", 128),
        create_date=reader.date_time("CreateDate"),
        members=reader.strings("Members"),
    )
    unique(reader, "Members", group.members, "the user")
    for member in group.members:
        if member not in users:
            raise reader.error("Members", f"the user {member!r} does not exist")
    reader.done()
    return group


def policy_document(policy: CustomPolicy) -> dict:
    return {
        "PolicyName": policy.policy_name,
        "Description": policy.description,
        "CreateDate": datetime_text(policy.create_date),
        "DefaultVersion": policy.default_version,
        "NextVersion": policy.next_version,
        "Versions": [
            {
                "VersionId": version.version_id,
                "PolicyDocument": version.document_text,
                "CreateDate": datetime_text(version.create_date),
            }
            for version in policy.versions.values()
        ],
    }


def _read_policy(reader: DocumentReader) -> CustomPolicy:
    policy_name = reader.name("PolicyName", names.POLICY_NAME)
    if policy_name in SYSTEM_POLICIES:
        raise reader.error("PolicyName", f"{policy_name!r} is the name of a system policy")
    description = reader.text("Description", 1024)
    create_date = reader.date_time("CreateDate")
    next_version = reader.integer("NextVersion")
    versions = [_read_policy_version(r, next_version) for r in reader.objects("Versions")]
    if not versions:
        raise reader.error("Versions", "a policy has at least one version")
    unique(reader, "Versions", [v.version_id for v in versions], "the version")
    default_version = reader.string("DefaultVersion")
    by_id = {v.version_id: v for v in versions}
    if default_version not in by_id:
        raise reader.error("DefaultVersion", f"the policy has no version {default_version!r}")
    reader.done()
    return CustomPolicy(policy_name, description, create_date, by_id, default_version, next_version)


def _read_policy_version(reader: DocumentReader, next_version: int) -> PolicyVersion:
    version_id = reader.string("VersionId")
    number = _VERSION_ID.fullmatch(version_id)
    if number is None:
        raise reader.error("VersionId", f"{version_id!r} is not a version id like 'v1'")
    # create_policy_version names the next version v<NextVersion>: it must not exist yet.
    if int(number.group(1)) >= next_version:
        raise reader.error(
            "VersionId", f"{version_id} is not below the policy's NextVersion {next_version}"
        )
    text = reader.string("PolicyDocument")
    version = PolicyVersion(
        version_id=version_id,
        document_text=text,
        document=reader.parsed("PolicyDocument", text, parse_policy),
        create_date=reader.date_time("CreateDate"),
    )
    reader.done()
    return version


def role_document(role: Role) -> dict:
    return {
        "RoleName": role.role_name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "Description": role.description,
        "AssumeRolePolicyDocument": role.assume_role_policy_document,
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": datetime_text(role.create_date),
    }


def _read_role(reader: DocumentReader) -> Role:
    trust_text = reader.string("AssumeRolePolicyDocument")
    max_session_duration = reader.integer("MaxSessionDuration")
    reader.parsed("MaxSessionDuration", max_session_duration, check_session_duration)
    role = Role(
        role_name=reader.name("RoleName", names.ROLE_NAME),
        role_id=reader.string("RoleId"),
        arn=reader.string("Arn"),
        description=reader.text("Description", 1024),
        assume_role_policy_document=trust_text,
        trust=reader.parsed("AssumeRolePolicyDocument", trust_text, parse_trust_policy),
        max_session_duration=max_session_duration,
        create_date=reader.date_time("CreateDate"),
    )
    reader.done()
    return role


def attachment_document(attachment: Attachment) -> dict:
    return {
        "PrincipalType": attachment.principal_kind.value,
        "PrincipalName": attachment.principal_name,
        "PolicyType": attachment.policy_type.value,
        "PolicyName": attachment.policy_name,
    }


def _read_attachment(reader: DocumentReader, account: RamAccount) -> Attachment:
    attachment = Attachment(
        principal_kind=reader.choice("PrincipalType", PrincipalKind),
        principal_name=reader.string("PrincipalName"),
        policy_type=reader.choice("PolicyType", PolicyType),
        policy_name=reader.string("PolicyName"),
    )
    principals_by_kind: dict[PrincipalKind, Mapping[str, object]] = {
        PrincipalKind.USER: account.users,
        PrincipalKind.GROUP: account.groups,
        PrincipalKind.ROLE: account.roles,
    }
    principals = principals_by_kind[attachment.principal_kind]
    if attachment.principal_name not in principals:
        raise reader.error(
            "PrincipalName",
            f"the {attachment.principal_kind.value.lower()} "
            f"{attachment.principal_name!r} does not exist",
        )
    policies = SYSTEM_POLICIES if attachment.policy_type is PolicyType.SYSTEM else account.policies
    if attachment.policy_name not in policies:
        raise reader.error(
            "PolicyName",
            f"the {attachment.policy_type.value} policy {attachment.policy_name!r} does not exist",
        )
    reader.done()
    return attachment
