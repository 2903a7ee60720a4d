"""What every family of RAM operations works on: one account's entities, and the look-ups
they share (an entity by name, else the RamError saying it does not exist)."""

from __future__ import annotations

import secrets

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Changes, compound
from palisade.auditor.model.ram.entities import (
    Attachment,
    CustomPolicy,
    Group,
    PrincipalKind,
    Role,
    User,
)
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.evaluation import PolicyType
from palisade.auditor.model.ram.policy_language import PolicyDocument
from palisade.auditor.model.ram.system_policies import SYSTEM_POLICIES
from palisade.auditor.model.ram.tokens import RandomBytes


class AccountState:
    """The users, groups, policies, roles and attachments of account `account_id`."""

    def __init__(self, account_id: str, *, random_bytes: RandomBytes = secrets.token_bytes):
        self.account_id = account_id
        self._random_bytes = random_bytes
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.policies: dict[str, CustomPolicy] = {}
        self.roles: dict[str, Role] = {}
        self.attachments: list[Attachment] = []
        self.changes = Changes()  # what a write touched (see model.changes)

    def get_user(self, user_name: str) -> User:
        user = self.users.get(user_name)
        if user is None:
            raise RamError("EntityNotExist.User", f"the user {user_name} does not exist")
        return user

    def get_group(self, group_name: str) -> Group:
        group = self.groups.get(group_name)
        if group is None:
            raise RamError("EntityNotExist.Group", f"the group {group_name} does not exist")
        return group

    def get_role(self, role_name: str) -> Role:
        role = self.roles.get(role_name)
        if role is None:
            raise RamError("EntityNotExist.Role", f"the role {role_name} does not exist")
        return role

    def list_groups_for_user(self, user_name: str) -> list[Group]:
        self.get_user(user_name)
        return [g for g in self.groups.values() if user_name in g.members]

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

    def _attached(self, principal_kind: PrincipalKind, principal_name: str) -> list[Attachment]:
        return [
            a
            for a in self.attachments
            if a.principal_kind is principal_kind and a.principal_name == principal_name
        ]

    def _rename_principal(self, principal_kind: PrincipalKind, old: str, new: str) -> None:
        """The principal's attachments follow its new name (each is a unit of its own, so
        both the old and the new one are touched)."""
        renamed = []
        for a in self.attachments:
            if a.principal_kind is principal_kind and a.principal_name == old:
                self._touch_attachment(a)
                a = Attachment(a.principal_kind, new, a.policy_type, a.policy_name)
                self._touch_attachment(a)
            renamed.append(a)
        self.attachments = renamed

    def _touch_attachment(self, attachment: Attachment) -> None:
        self.changes.touch(
            K.RAM_ATTACHMENT,
            compound(
                attachment.principal_kind.value,
                attachment.principal_name,
                attachment.policy_type.value,
                attachment.policy_name,
            ),
        )
