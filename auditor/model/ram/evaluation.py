"""Policy evaluation: an explicit Deny beats any Allow; nothing matching means deny."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from palisade.auditor.model.ram.policy_language import Effect, PolicyDocument, Statement
from palisade.auditor.model.ram.request_context import RequestContext


class PolicyType(enum.Enum):
    SYSTEM = "System"
    CUSTOM = "Custom"


@dataclass(frozen=True)
class NamedPolicy:
    """A parsed policy as it takes part in a decision; `attached_to` says via whom
    (e.g. `user/alice`, `group/SysAdmins`, `role/EcsRole`), for the explanation only."""

    name: str
    policy_type: PolicyType
    document: PolicyDocument
    attached_to: str = ""


@dataclass(frozen=True)
class StatementRef:
    policy_name: str
    policy_type: PolicyType
    statement_index: int
    attached_to: str = ""

    def describe(self) -> str:
        via = f" (attached to {self.attached_to})" if self.attached_to else ""
        return (
            f"{self.policy_type.value} policy {self.policy_name}{via} "
            f"statement {self.statement_index}"
        )


class DecisionReason(enum.Enum):
    EXPLICIT_DENY = "ExplicitDeny"
    ALLOWED = "Allowed"
    IMPLICIT_DENY = "ImplicitDeny"
    ACCOUNT_OWNER = "AccountOwner"  # the account itself: RAM policies do not bind it


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: DecisionReason
    action: str
    resource: str
    matched: StatementRef | None = None

    def message(self) -> str:
        """One line for an API error or an audit log."""
        subject = f"{self.action} on {self.resource}"
        if self.reason is DecisionReason.EXPLICIT_DENY and self.matched is not None:
            return f"{subject} denied by explicit Deny in {self.matched.describe()}"
        if self.reason is DecisionReason.ALLOWED and self.matched is not None:
            return f"{subject} allowed by {self.matched.describe()}"
        if self.reason is DecisionReason.ACCOUNT_OWNER:
            return f"{subject} allowed: the caller is the account owner"
        return f"{subject} denied: no policy allows it"


def statement_applies(
    statement: Statement, action: str, resource: str, context: RequestContext
) -> bool:
    return (
        statement.matches_action(action)
        and statement.matches_resource(resource)
        and all(clause.matches(context) for clause in statement.conditions)
    )


def evaluate(
    policies: Iterable[NamedPolicy], action: str, resource: str, context: RequestContext
) -> Decision:
    """Decide `action` on `resource`: the first applicable Deny wins, else the first Allow,
    else an implicit deny. Never raises for any action or resource string."""
    first_allow: StatementRef | None = None
    for policy in policies:
        for statement in policy.document.statements:
            if not statement_applies(statement, action, resource, context):
                continue
            ref = StatementRef(policy.name, policy.policy_type, statement.index, policy.attached_to)
            if statement.effect is Effect.DENY:
                return Decision(False, DecisionReason.EXPLICIT_DENY, action, resource, ref)
            if first_allow is None:
                first_allow = ref
    if first_allow is not None:
        return Decision(True, DecisionReason.ALLOWED, action, resource, first_allow)
    return Decision(False, DecisionReason.IMPLICIT_DENY, action, resource)
