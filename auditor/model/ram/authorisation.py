"""Deciding a request from the account's current policies: nothing is cached, so a change
(a policy attached, a user moved to another group, a new default version) counts at once."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import PrincipalKind, Role
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.evaluation import (
    Decision,
    DecisionReason,
    NamedPolicy,
    evaluate,
)
from palisade.auditor.model.ram.request_context import RequestContext

ECS_SERVICE = "ecs.aliyuncs.com"


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


class Authorisation(AccountState):
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
