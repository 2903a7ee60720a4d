"""What one account's RAM holds: users with their console password and AccessKeys, groups,
custom policies with their versions, roles, and which policy is attached to whom."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from palisade.auditor.model.ram.evaluation import PolicyType
from palisade.auditor.model.ram.policy_language import PolicyDocument, trusts_service


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
class Attachment:
    principal_kind: PrincipalKind
    principal_name: str
    policy_type: PolicyType
    policy_name: str
