"""RAM roles: who may assume them (the trust policy) and for how long."""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.ram import arns, names
from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import PrincipalKind, Role
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.policy_language import parse_trust_policy
from palisade.auditor.model.ram.tokens import new_numeric_id

MIN_SESSION_DURATION = 3600
MAX_SESSION_DURATION = 43200


def check_session_duration(seconds: int) -> None:
    if not MIN_SESSION_DURATION <= seconds <= MAX_SESSION_DURATION:
        raise RamError(
            "InvalidParameter.MaxSessionDuration",
            f"MaxSessionDuration must be {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION}",
        )


class RoleOperations(AccountState):
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
        check_session_duration(max_session_duration)
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
        self.changes.touch(K.RAM_ROLE, role_name)
        return role

    def list_roles(self) -> list[Role]:
        return list(self.roles.values())

    def update_role(
        self,
        role_name: str,
        new_assume_role_policy_document: str | None = None,
        new_max_session_duration: int | None = None,
        new_description: str | None = None,
    ) -> Role:
        """UpdateRole: every value is checked before any changes."""
        role = self.get_role(role_name)
        if new_max_session_duration is not None:
            check_session_duration(new_max_session_duration)
        if new_description is not None:
            names.check_text("Description", new_description, 1024)
        trust = None
        if new_assume_role_policy_document is not None:
            trust = parse_trust_policy(new_assume_role_policy_document)
        if trust is not None and new_assume_role_policy_document is not None:
            role.trust = trust
            role.assume_role_policy_document = new_assume_role_policy_document
        if new_max_session_duration is not None:
            role.max_session_duration = new_max_session_duration
        if new_description is not None:
            role.description = new_description
        if (new_assume_role_policy_document, new_max_session_duration, new_description) != (
            None,
            None,
            None,
        ):
            self.changes.touch(K.RAM_ROLE, role_name)
        return role

    def delete_role(self, role_name: str) -> None:
        self.get_role(role_name)
        if self._attached(PrincipalKind.ROLE, role_name):
            raise RamError(
                "DeleteConflict.Role.Policy", f"the role {role_name} still has policies attached"
            )
        del self.roles[role_name]
        self.changes.touch(K.RAM_ROLE, role_name)
