"""Custom policies and their versions; system and custom policies as listed by the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import CustomPolicy, PolicyVersion
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.evaluation import PolicyType
from palisade.auditor.model.ram.policy_language import parse_policy
from palisade.auditor.model.ram.system_policies import SYSTEM_POLICIES

MAX_POLICY_VERSIONS = 5


@dataclass(frozen=True)
class PolicySummary:
    policy_name: str
    policy_type: PolicyType
    description: str
    default_version: str
    attachment_count: int
    document_text: str
    create_date: datetime | None = None


def policy_type_of(value: PolicyType | str) -> PolicyType:
    if isinstance(value, PolicyType):
        return value
    for policy_type in PolicyType:
        if value == policy_type.value:
            return policy_type
    raise RamError(
        "InvalidParameter.PolicyType", f"PolicyType must be System or Custom, not {value!r}"
    )


class PolicyOperations(AccountState):
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
        self.changes.touch(K.RAM_POLICY, policy_name)
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
        self.changes.touch(K.RAM_POLICY, policy_name)

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
        self.changes.touch(K.RAM_POLICY, policy_name)
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
        self.changes.touch(K.RAM_POLICY, policy_name)

    def delete_policy_version(self, policy_name: str, version_id: str) -> None:
        self.get_policy_version(policy_name, version_id)
        policy = self.policies[policy_name]
        if policy.default_version == version_id:
            raise RamError(
                "DeleteConflict.Policy.DefaultVersion",
                f"{version_id} is the default version of {policy_name}",
            )
        del policy.versions[version_id]
        self.changes.touch(K.RAM_POLICY, policy_name)
