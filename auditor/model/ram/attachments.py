"""Attaching system and custom policies to users, groups and roles, and listing who has which."""

from __future__ import annotations

from palisade.auditor.model.ram.entities import Attachment, PrincipalKind
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.evaluation import PolicyType
from palisade.auditor.model.ram.policies import PolicyOperations, PolicySummary, policy_type_of


class AttachmentOperations(PolicyOperations):
    """Builds on PolicyOperations: listing a principal's policies summarises each."""

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
        self._touch_attachment(attachment)

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
        self._touch_attachment(attachment)

    def _policies_for(self, principal_kind: PrincipalKind, name: str) -> list[PolicySummary]:
        return [
            self.get_policy(a.policy_name, a.policy_type)
            for a in self._attached(principal_kind, name)
        ]
