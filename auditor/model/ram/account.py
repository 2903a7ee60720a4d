"""The RAM state of one account: users, groups, policies, roles and who has which policy.

Methods mirror the RAM API (CreateUser -> create_user, ...) and raise `RamError` with its
error codes. Nothing is cached: authorisation reads the current state, so every change
(a policy attached, a user moved to another group, a new default policy version) takes
effect at the next decision.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from palisade.auditor.model.ram import arns, names
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.evaluation import (
    Decision,
    DecisionReason,
    NamedPolicy,
    PolicyType,
    evaluate,
)
from palisade.auditor.model.ram.passwords import (
    check_password_policy,
    hash_password,
    verify_password,
)
from palisade.auditor.model.ram.policy_language import (
    PolicyDocument,
    parse_policy,
    parse_trust_policy,
    trusts_service,
)
from palisade.auditor.model.ram.request_context import RequestContext
from palisade.auditor.model.ram.system_policies import SYSTEM_POLICIES
from palisade.auditor.model.ram.tokens import (
    RandomBytes,
    new_access_key_id,
    new_access_key_secret,
    new_numeric_id,
)

MAX_ACCESS_KEYS_PER_USER = 2
MAX_POLICY_VERSIONS = 5
MIN_SESSION_DURATION = 3600
MAX_SESSION_DURATION = 43200
ECS_SERVICE = "ecs.aliyuncs.com"


class AccessKeyStatus(enum.Enum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class PrincipalKind(enum.Enum):
    USER = "User"
    GROUP = "Group"
    ROLE = "Role"


@dataclass
class AccessKey:
    access_key_id: str
    # Kept as given: verifying an HMAC signature needs it (encryption at rest is the store's job).
    secret: str
    status: AccessKeyStatus
    create_date: datetime


@dataclass(frozen=True)
class NewAccessKey:
    """What CreateAccessKey returns: the only time the secret is shown."""

    access_key_id: str
    access_key_secret: str
    status: AccessKeyStatus
    create_date: datetime


@dataclass
class LoginProfile:
    password_hash: str
    password_reset_required: bool
    mfa_bind_required: bool
    create_date: datetime


@dataclass
class User:
    user_name: str
    user_id: str
    display_name: str
    comments: str
    create_date: datetime
    login_profile: LoginProfile | None = None
    access_keys: dict[str, AccessKey] = field(default_factory=dict)


@dataclass
class Group:
    group_name: str
    comments: str
    create_date: datetime
    members: list[str] = field(default_factory=list)


@dataclass
class PolicyVersion:
    version_id: str
    document_text: str
    document: PolicyDocument
    create_date: datetime


@dataclass
class CustomPolicy:
    policy_name: str
    description: str
    create_date: datetime
    versions: dict[str, PolicyVersion]
    default_version: str
    next_version: int = 2

    @property
    def default(self) -> PolicyVersion:
        return self.versions[self.default_version]


@dataclass
class Role:
    role_name: str
    role_id: str
    arn: str
    description: str
    assume_role_policy_document: str
    trust: PolicyDocument
    max_session_duration: int
    create_date: datetime

    def trusts_service(self, service: str) -> bool:
        return trusts_service(self.trust, service)


@dataclass(frozen=True)
class PolicySummary:
    policy_name: str
    policy_type: PolicyType
    description: str
    default_version: str
    attachment_count: int
    document_text: str
    create_date: datetime | None = None


@dataclass(frozen=True)
class Attachment:
    principal_kind: PrincipalKind
    principal_name: str
    policy_type: PolicyType
    policy_name: str


@dataclass(frozen=True)
class Caller:
    """Who is asking: the account owner, a RAM user, or a role session (e.g. an instance)."""

    kind: str  # "root" | "user" | "role"
    name: str = ""

    @classmethod
    def root(cls) -> Caller:
        return cls("root")

    @classmethod
    def user(cls, user_name: str) -> Caller:
        return cls("user", user_name)

    @classmethod
    def role(cls, role_name: str) -> Caller:
        return cls("role", role_name)


def policy_type_of(value: PolicyType | str) -> PolicyType:
    if isinstance(value, PolicyType):
        return value
    for policy_type in PolicyType:
        if value == policy_type.value:
            return policy_type
    raise RamError(
        "InvalidParameter.PolicyType", f"PolicyType must be System or Custom, not {value!r}"
    )


class RamAccount:
    """RAM of one Alibaba Cloud account (`account_id`, the digits in ARNs)."""

    def __init__(self, account_id: str, *, random_bytes: RandomBytes = secrets.token_bytes):
        self.account_id = account_id
        self._random_bytes = random_bytes
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.policies: dict[str, CustomPolicy] = {}
        self.roles: dict[str, Role] = {}
        self.attachments: list[Attachment] = []

    # ---- users -------------------------------------------------------------------------

    def create_user(
        self, user_name: str, now: datetime, display_name: str | None = None, comments: str = ""
    ) -> User:
        names.USER_NAME.check(user_name)
        display = names.DISPLAY_NAME.check(display_name if display_name else user_name)
        names.check_text("Comments", comments, 128)
        if user_name in self.users:
            raise RamError("EntityAlreadyExists.User", f"the user {user_name} already exists")
        user = User(user_name, new_numeric_id(16, self._random_bytes), display, comments, now)
        self.users[user_name] = user
        return user

    def get_user(self, user_name: str) -> User:
        user = self.users.get(user_name)
        if user is None:
            raise RamError("EntityNotExist.User", f"the user {user_name} does not exist")
        return user

    def list_users(self) -> list[User]:
        return list(self.users.values())

    def update_user(
        self,
        user_name: str,
        new_user_name: str | None = None,
        new_display_name: str | None = None,
        new_comments: str | None = None,
    ) -> User:
        user = self.get_user(user_name)
        if new_display_name is not None:
            names.DISPLAY_NAME.check(new_display_name)
        if new_comments is not None:
            names.check_text("Comments", new_comments, 128)
        if new_user_name is not None and new_user_name != user_name:
            names.USER_NAME.check(new_user_name)
            if new_user_name in self.users:
                raise RamError(
                    "EntityAlreadyExists.User", f"the user {new_user_name} already exists"
                )
            del self.users[user_name]
            user.user_name = new_user_name
            self.users[new_user_name] = user
            for group in self.groups.values():
                group.members = [new_user_name if m == user_name else m for m in group.members]
            self._rename_principal(PrincipalKind.USER, user_name, new_user_name)
        if new_display_name is not None:
            user.display_name = new_display_name
        if new_comments is not None:
            user.comments = new_comments
        return user

    def delete_user(self, user_name: str) -> None:
        user = self.get_user(user_name)
        if user.access_keys:
            raise RamError(
                "DeleteConflict.User.AccessKey", f"the user {user_name} still has AccessKeys"
            )
        if user.login_profile is not None:
            raise RamError(
                "DeleteConflict.User.LoginProfile",
                f"the user {user_name} still has a console password",
            )
        if self.list_groups_for_user(user_name):
            raise RamError("DeleteConflict.User.Group", f"the user {user_name} is still in groups")
        if self._attached(PrincipalKind.USER, user_name):
            raise RamError(
                "DeleteConflict.User.Policy", f"the user {user_name} still has policies attached"
            )
        del self.users[user_name]

    # ---- console password (login profile) ------------------------------------------------

    def create_login_profile(
        self,
        user_name: str,
        password: str,
        now: datetime,
        password_reset_required: bool = False,
        mfa_bind_required: bool = False,
    ) -> LoginProfile:
        user = self.get_user(user_name)
        if user.login_profile is not None:
            raise RamError(
                "EntityAlreadyExists.User.LoginProfile",
                f"the user {user_name} already has a console password",
            )
        check_password_policy(password)
        user.login_profile = LoginProfile(
            hash_password(password, self._random_bytes),
            password_reset_required,
            mfa_bind_required,
            now,
        )
        return user.login_profile

    def update_login_profile(
        self,
        user_name: str,
        password: str | None = None,
        password_reset_required: bool | None = None,
        mfa_bind_required: bool | None = None,
    ) -> LoginProfile:
        profile = self.get_login_profile(user_name)
        if password is not None:
            check_password_policy(password)
            profile.password_hash = hash_password(password, self._random_bytes)
        if password_reset_required is not None:
            profile.password_reset_required = password_reset_required
        if mfa_bind_required is not None:
            profile.mfa_bind_required = mfa_bind_required
        return profile

    def get_login_profile(self, user_name: str) -> LoginProfile:
        profile = self.get_user(user_name).login_profile
        if profile is None:
            raise RamError(
                "EntityNotExist.User.LoginProfile", f"the user {user_name} has no console password"
            )
        return profile

    def delete_login_profile(self, user_name: str) -> None:
        self.get_login_profile(user_name)
        self.users[user_name].login_profile = None

    def check_console_password(self, user_name: str, password: str) -> bool:
        user = self.users.get(user_name)
        if user is None or user.login_profile is None:
            return False
        return verify_password(password, user.login_profile.password_hash)

    # ---- AccessKeys --------------------------------------------------------------------

    def create_access_key(self, user_name: str, now: datetime) -> NewAccessKey:
        user = self.get_user(user_name)
        if len(user.access_keys) >= MAX_ACCESS_KEYS_PER_USER:
            raise RamError(
                "LimitExceeded.User.AccessKey",
                f"a user has at most {MAX_ACCESS_KEYS_PER_USER} AccessKeys",
            )
        key_id = new_access_key_id(self._random_bytes)
        while self._find_key(key_id) is not None:
            key_id = new_access_key_id(self._random_bytes)
        secret = new_access_key_secret(self._random_bytes)
        user.access_keys[key_id] = AccessKey(key_id, secret, AccessKeyStatus.ACTIVE, now)
        return NewAccessKey(key_id, secret, AccessKeyStatus.ACTIVE, now)

    def import_access_key(
        self, user_name: str, access_key_id: str, secret: str, now: datetime
    ) -> AccessKey:
        """Restore a key from the store (or seed the first administrator's) verbatim."""
        user = self.get_user(user_name)
        if self._find_key(access_key_id) is not None:
            raise RamError(
                "EntityAlreadyExists.User.AccessKey", f"AccessKey {access_key_id} already exists"
            )
        key = AccessKey(access_key_id, secret, AccessKeyStatus.ACTIVE, now)
        user.access_keys[access_key_id] = key
        return key

    def list_access_keys(self, user_name: str) -> list[AccessKey]:
        return list(self.get_user(user_name).access_keys.values())

    def update_access_key(
        self, user_name: str, access_key_id: str, status: AccessKeyStatus | str
    ) -> AccessKey:
        key = self._user_key(user_name, access_key_id)
        try:
            key.status = AccessKeyStatus(status)
        except ValueError:
            raise RamError(
                "InvalidParameter.Status", f"Status must be Active or Inactive, not {status!r}"
            ) from None
        return key

    def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        self._user_key(user_name, access_key_id)
        del self.users[user_name].access_keys[access_key_id]

    def find_access_key(self, access_key_id: str) -> tuple[User, AccessKey]:
        """The active key `access_key_id` and its user, for authenticating a request."""
        found = self._find_key(access_key_id)
        if found is None:
            raise RamError(
                "InvalidAccessKeyId.NotFound", f"the AccessKey {access_key_id} does not exist"
            )
        if found[1].status is not AccessKeyStatus.ACTIVE:
            raise RamError(
                "InvalidAccessKeyId.Inactive", f"the AccessKey {access_key_id} is disabled"
            )
        return found

    def _find_key(self, access_key_id: str) -> tuple[User, AccessKey] | None:
        for user in self.users.values():
            key = user.access_keys.get(access_key_id)
            if key is not None:
                return user, key
        return None

    def _user_key(self, user_name: str, access_key_id: str) -> AccessKey:
        key = self.get_user(user_name).access_keys.get(access_key_id)
        if key is None:
            raise RamError(
                "EntityNotExist.User.AccessKey",
                f"the user {user_name} has no AccessKey {access_key_id}",
            )
        return key

    # ---- groups ------------------------------------------------------------------------

    def create_group(self, group_name: str, now: datetime, comments: str = "") -> Group:
        names.GROUP_NAME.check(group_name)
        names.check_text("Comments", comments, 128)
        if group_name in self.groups:
            raise RamError("EntityAlreadyExists.Group", f"the group {group_name} already exists")
        group = Group(group_name, comments, now)
        self.groups[group_name] = group
        return group

    def get_group(self, group_name: str) -> Group:
        group = self.groups.get(group_name)
        if group is None:
            raise RamError("EntityNotExist.Group", f"the group {group_name} does not exist")
        return group

    def list_groups(self) -> list[Group]:
        return list(self.groups.values())

    def update_group(
        self, group_name: str, new_group_name: str | None = None, new_comments: str | None = None
    ) -> Group:
        group = self.get_group(group_name)
        if new_comments is not None:
            names.check_text("Comments", new_comments, 128)
        if new_group_name is not None and new_group_name != group_name:
            names.GROUP_NAME.check(new_group_name)
            if new_group_name in self.groups:
                raise RamError(
                    "EntityAlreadyExists.Group", f"the group {new_group_name} already exists"
                )
            del self.groups[group_name]
            group.group_name = new_group_name
            self.groups[new_group_name] = group
            self._rename_principal(PrincipalKind.GROUP, group_name, new_group_name)
        if new_comments is not None:
            group.comments = new_comments
        return group

    def delete_group(self, group_name: str) -> None:
        group = self.get_group(group_name)
        if group.members:
            raise RamError("DeleteConflict.Group.User", f"the group {group_name} still has users")
        if self._attached(PrincipalKind.GROUP, group_name):
            raise RamError(
                "DeleteConflict.Group.Policy", f"the group {group_name} still has policies attached"
            )
        del self.groups[group_name]

    def add_user_to_group(self, user_name: str, group_name: str) -> None:
        self.get_user(user_name)
        group = self.get_group(group_name)
        if user_name in group.members:
            raise RamError(
                "EntityAlreadyExists.User.Group",
                f"the user {user_name} is already in the group {group_name}",
            )
        group.members.append(user_name)

    def remove_user_from_group(self, user_name: str, group_name: str) -> None:
        self.get_user(user_name)
        group = self.get_group(group_name)
        if user_name not in group.members:
            raise RamError(
                "EntityNotExist.User.Group",
                f"the user {user_name} is not in the group {group_name}",
            )
        group.members.remove(user_name)

    def move_user_between_groups(self, user_name: str, from_group: str, to_group: str) -> None:
        """Remove then add, all checked first so a failure leaves the user where it was."""
        self.get_user(user_name)
        source = self.get_group(from_group)
        target = self.get_group(to_group)
        if user_name not in source.members:
            raise RamError(
                "EntityNotExist.User.Group",
                f"the user {user_name} is not in the group {from_group}",
            )
        if user_name in target.members:
            raise RamError(
                "EntityAlreadyExists.User.Group",
                f"the user {user_name} is already in the group {to_group}",
            )
        source.members.remove(user_name)
        target.members.append(user_name)

    def list_groups_for_user(self, user_name: str) -> list[Group]:
        self.get_user(user_name)
        return [g for g in self.groups.values() if user_name in g.members]

    def list_users_for_group(self, group_name: str) -> list[User]:
        return [self.users[name] for name in self.get_group(group_name).members]

    # ---- policies ----------------------------------------------------------------------

    def create_policy(
        self, policy_name: str, policy_document: str, now: datetime, description: str = ""
    ) -> CustomPolicy:
        names.POLICY_NAME.check(policy_name)
        names.check_text("Description", description, 1024)
        if policy_name in self.policies or policy_name in SYSTEM_POLICIES:
            raise RamError("EntityAlreadyExists.Policy", f"the policy {policy_name} already exists")
        document = parse_policy(policy_document)
        policy = CustomPolicy(
            policy_name,
            description,
            now,
            {"v1": PolicyVersion("v1", policy_document, document, now)},
            "v1",
        )
        self.policies[policy_name] = policy
        return policy

    def get_policy(self, policy_name: str, policy_type: PolicyType | str) -> PolicySummary:
        kind = policy_type_of(policy_type)
        count = sum(
            1 for a in self.attachments if a.policy_type is kind and a.policy_name == policy_name
        )
        if kind is PolicyType.SYSTEM:
            system = SYSTEM_POLICIES.get(policy_name)
            if system is None:
                raise RamError("EntityNotExist.Policy", f"the policy {policy_name} does not exist")
            return PolicySummary(
                policy_name, kind, system.description, "v1", count, system.document_text
            )
        policy = self._custom(policy_name)
        return PolicySummary(
            policy_name,
            kind,
            policy.description,
            policy.default_version,
            count,
            policy.default.document_text,
            policy.create_date,
        )

    def list_policies(self, policy_type: PolicyType | str | None = None) -> list[PolicySummary]:
        kinds = [policy_type_of(policy_type)] if policy_type is not None else list(PolicyType)
        out = []
        for kind in kinds:
            source = SYSTEM_POLICIES if kind is PolicyType.SYSTEM else self.policies
            out += [self.get_policy(name, kind) for name in source]
        return out

    def delete_policy(self, policy_name: str) -> None:
        policy = self._custom(policy_name)
        for attachment in self.attachments:
            if (
                attachment.policy_type is PolicyType.CUSTOM
                and attachment.policy_name == policy_name
            ):
                raise RamError(
                    f"DeleteConflict.Policy.{attachment.principal_kind.value}",
                    f"the policy {policy_name} is still attached to "
                    f"{attachment.principal_kind.value.lower()} {attachment.principal_name}",
                )
        if len(policy.versions) > 1:
            raise RamError(
                "DeleteConflict.Policy.Version",
                f"the policy {policy_name} still has non-default versions",
            )
        del self.policies[policy_name]

    def create_policy_version(
        self, policy_name: str, policy_document: str, now: datetime, set_as_default: bool = False
    ) -> PolicyVersion:
        policy = self._custom(policy_name)
        if len(policy.versions) >= MAX_POLICY_VERSIONS:
            raise RamError(
                "LimitExceeded.Policy.Version",
                f"a policy has at most {MAX_POLICY_VERSIONS} versions",
            )
        document = parse_policy(policy_document)
        version = PolicyVersion(f"v{policy.next_version}", policy_document, document, now)
        policy.next_version += 1
        policy.versions[version.version_id] = version
        if set_as_default:
            policy.default_version = version.version_id
        return version

    def get_policy_version(self, policy_name: str, version_id: str) -> PolicyVersion:
        version = self._custom(policy_name).versions.get(version_id)
        if version is None:
            raise RamError(
                "EntityNotExist.Policy.Version",
                f"the policy {policy_name} has no version {version_id}",
            )
        return version

    def list_policy_versions(self, policy_name: str) -> list[PolicyVersion]:
        return list(self._custom(policy_name).versions.values())

    def set_default_policy_version(self, policy_name: str, version_id: str) -> None:
        self.get_policy_version(policy_name, version_id)
        self.policies[policy_name].default_version = version_id

    def delete_policy_version(self, policy_name: str, version_id: str) -> None:
        self.get_policy_version(policy_name, version_id)
        policy = self.policies[policy_name]
        if policy.default_version == version_id:
            raise RamError(
                "DeleteConflict.Policy.DefaultVersion",
                f"{version_id} is the default version of {policy_name}",
            )
        del policy.versions[version_id]

    def _custom(self, policy_name: str) -> CustomPolicy:
        policy = self.policies.get(policy_name)
        if policy is None:
            raise RamError("EntityNotExist.Policy", f"the policy {policy_name} does not exist")
        return policy

    def _document(self, policy_type: PolicyType, policy_name: str) -> PolicyDocument:
        if policy_type is PolicyType.SYSTEM:
            system = SYSTEM_POLICIES.get(policy_name)
            if system is None:
                raise RamError("EntityNotExist.Policy", f"the policy {policy_name} does not exist")
            return system.document
        return self._custom(policy_name).default.document

    # ---- attachments -------------------------------------------------------------------

    def attach_policy_to_user(
        self, policy_type: PolicyType | str, policy_name: str, user_name: str
    ) -> None:
        self.get_user(user_name)
        self._attach(PrincipalKind.USER, user_name, policy_type, policy_name)

    def attach_policy_to_group(
        self, policy_type: PolicyType | str, policy_name: str, group_name: str
    ) -> None:
        self.get_group(group_name)
        self._attach(PrincipalKind.GROUP, group_name, policy_type, policy_name)

    def attach_policy_to_role(
        self, policy_type: PolicyType | str, policy_name: str, role_name: str
    ) -> None:
        self.get_role(role_name)
        self._attach(PrincipalKind.ROLE, role_name, policy_type, policy_name)

    def detach_policy_from_user(
        self, policy_type: PolicyType | str, policy_name: str, user_name: str
    ) -> None:
        self.get_user(user_name)
        self._detach(PrincipalKind.USER, user_name, policy_type, policy_name)

    def detach_policy_from_group(
        self, policy_type: PolicyType | str, policy_name: str, group_name: str
    ) -> None:
        self.get_group(group_name)
        self._detach(PrincipalKind.GROUP, group_name, policy_type, policy_name)

    def detach_policy_from_role(
        self, policy_type: PolicyType | str, policy_name: str, role_name: str
    ) -> None:
        self.get_role(role_name)
        self._detach(PrincipalKind.ROLE, role_name, policy_type, policy_name)

    def list_policies_for_user(self, user_name: str) -> list[PolicySummary]:
        self.get_user(user_name)
        return self._policies_for(PrincipalKind.USER, user_name)

    def list_policies_for_group(self, group_name: str) -> list[PolicySummary]:
        self.get_group(group_name)
        return self._policies_for(PrincipalKind.GROUP, group_name)

    def list_policies_for_role(self, role_name: str) -> list[PolicySummary]:
        self.get_role(role_name)
        return self._policies_for(PrincipalKind.ROLE, role_name)

    def list_entities_for_policy(
        self, policy_type: PolicyType | str, policy_name: str
    ) -> list[Attachment]:
        kind = policy_type_of(policy_type)
        self._document(kind, policy_name)
        return [
            a for a in self.attachments if a.policy_type is kind and a.policy_name == policy_name
        ]

    def _attach(
        self,
        principal_kind: PrincipalKind,
        principal_name: str,
        policy_type: PolicyType | str,
        policy_name: str,
    ) -> None:
        kind = policy_type_of(policy_type)
        self._document(kind, policy_name)
        attachment = Attachment(principal_kind, principal_name, kind, policy_name)
        if attachment in self.attachments:
            raise RamError(
                f"EntityAlreadyExists.{principal_kind.value}.Policy",
                f"the policy {policy_name} is already attached to "
                f"{principal_kind.value.lower()} {principal_name}",
            )
        self.attachments.append(attachment)

    def _detach(
        self,
        principal_kind: PrincipalKind,
        principal_name: str,
        policy_type: PolicyType | str,
        policy_name: str,
    ) -> None:
        kind = policy_type_of(policy_type)
        self._document(kind, policy_name)
        attachment = Attachment(principal_kind, principal_name, kind, policy_name)
        if attachment not in self.attachments:
            raise RamError(
                f"EntityNotExist.{principal_kind.value}.Policy",
                f"the policy {policy_name} is not attached to "
                f"{principal_kind.value.lower()} {principal_name}",
            )
        self.attachments.remove(attachment)

    def _attached(self, principal_kind: PrincipalKind, principal_name: str) -> list[Attachment]:
        return [
            a
            for a in self.attachments
            if a.principal_kind is principal_kind and a.principal_name == principal_name
        ]

    def _policies_for(self, principal_kind: PrincipalKind, name: str) -> list[PolicySummary]:
        return [
            self.get_policy(a.policy_name, a.policy_type)
            for a in self._attached(principal_kind, name)
        ]

    def _rename_principal(self, principal_kind: PrincipalKind, old: str, new: str) -> None:
        self.attachments = [
            Attachment(a.principal_kind, new, a.policy_type, a.policy_name)
            if a.principal_kind is principal_kind and a.principal_name == old
            else a
            for a in self.attachments
        ]

    # ---- roles -------------------------------------------------------------------------

    def role_arn(self, role_name: str) -> str:
        return arns.role_arn(self.account_id, role_name)

    def create_role(
        self,
        role_name: str,
        assume_role_policy_document: str,
        now: datetime,
        description: str = "",
        max_session_duration: int = MIN_SESSION_DURATION,
    ) -> Role:
        names.ROLE_NAME.check(role_name)
        names.check_text("Description", description, 1024)
        self._check_session_duration(max_session_duration)
        if role_name in self.roles:
            raise RamError("EntityAlreadyExists.Role", f"the role {role_name} already exists")
        trust = parse_trust_policy(assume_role_policy_document)
        role = Role(
            role_name,
            new_numeric_id(19, self._random_bytes),
            self.role_arn(role_name),
            description,
            assume_role_policy_document,
            trust,
            max_session_duration,
            now,
        )
        self.roles[role_name] = role
        return role

    def get_role(self, role_name: str) -> Role:
        role = self.roles.get(role_name)
        if role is None:
            raise RamError("EntityNotExist.Role", f"the role {role_name} does not exist")
        return role

    def list_roles(self) -> list[Role]:
        return list(self.roles.values())

    def update_role(
        self,
        role_name: str,
        new_assume_role_policy_document: str | None = None,
        new_max_session_duration: int | None = None,
    ) -> Role:
        role = self.get_role(role_name)
        if new_max_session_duration is not None:
            self._check_session_duration(new_max_session_duration)
        if new_assume_role_policy_document is not None:
            role.trust = parse_trust_policy(new_assume_role_policy_document)
            role.assume_role_policy_document = new_assume_role_policy_document
        if new_max_session_duration is not None:
            role.max_session_duration = new_max_session_duration
        return role

    def delete_role(self, role_name: str) -> None:
        self.get_role(role_name)
        if self._attached(PrincipalKind.ROLE, role_name):
            raise RamError(
                "DeleteConflict.Role.Policy", f"the role {role_name} still has policies attached"
            )
        del self.roles[role_name]

    @staticmethod
    def _check_session_duration(seconds: int) -> None:
        if not MIN_SESSION_DURATION <= seconds <= MAX_SESSION_DURATION:
            raise RamError(
                "InvalidParameter.MaxSessionDuration",
                f"MaxSessionDuration must be {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION}",
            )

    # ---- authorisation -----------------------------------------------------------------

    def effective_policies(self, user_name: str) -> list[NamedPolicy]:
        """The user's own policies, then those of each of its groups, as they are now."""
        self.get_user(user_name)
        principals = [(PrincipalKind.USER, user_name)] + [
            (PrincipalKind.GROUP, g.group_name) for g in self.list_groups_for_user(user_name)
        ]
        return [policy for kind, name in principals for policy in self._named(kind, name)]

    def role_policies(self, role_name: str) -> list[NamedPolicy]:
        self.get_role(role_name)
        return self._named(PrincipalKind.ROLE, role_name)

    def _named(self, principal_kind: PrincipalKind, name: str) -> list[NamedPolicy]:
        via = f"{principal_kind.value.lower()}/{name}"
        return [
            NamedPolicy(
                a.policy_name, a.policy_type, self._document(a.policy_type, a.policy_name), via
            )
            for a in self._attached(principal_kind, name)
        ]

    def authorize(
        self, caller: Caller, action: str, resource: str, context: RequestContext
    ) -> Decision:
        """Decide a request: the account owner may do anything; users and role sessions
        get what their policies allow (an unknown user or role gets nothing)."""
        if caller.kind == "root":
            return Decision(True, DecisionReason.ACCOUNT_OWNER, action, resource)
        if caller.kind == "user" and caller.name in self.users:
            return evaluate(self.effective_policies(caller.name), action, resource, context)
        if caller.kind == "role" and caller.name in self.roles:
            return evaluate(self.role_policies(caller.name), action, resource, context)
        return Decision(False, DecisionReason.IMPLICIT_DENY, action, resource)

    def require(
        self, caller: Caller, action: str, resource: str, context: RequestContext, code: str
    ) -> Decision:
        """`authorize`, raising RamError(`code`) with the decision's explanation on denial."""
        decision = self.authorize(caller, action, resource, context)
        if not decision.allowed:
            raise RamError(code, decision.message())
        return decision

    def ecs_role(self, role_name: str) -> Role:
        """A role an ECS instance may take: it must exist and trust ecs.aliyuncs.com."""
        role = self.roles.get(role_name)
        if role is None:
            raise RamError("InvalidRamRole.NotFound", f"the RAM role {role_name} does not exist")
        if not role.trusts_service(ECS_SERVICE):
            raise RamError(
                "InvalidRamRole.NotEcsRole",
                f"the RAM role {role_name} does not let {ECS_SERVICE} assume it",
            )
        return role
