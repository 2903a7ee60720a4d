"""Changing a group's rules: authorize (ingress, egress), revoke, modify."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.rule_building import RuleBuilding
from palisade.auditor.model.network.security_group import (
    Direction,
    RuleRequest,
    SecurityGroupRule,
)


class RuleOperations(RuleBuilding):
    def authorize(
        self, group_id: str, request: RuleRequest, now: datetime
    ) -> list[SecurityGroupRule]:
        """AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress (direction in the request).
        Returns the rules added; an identical rule already present is not added again."""
        return self.authorize_all(group_id, [request], now)

    def authorize_all(
        self,
        group_id: str,
        requests: Sequence[RuleRequest],
        now: datetime,
        where: Callable[[int], str] | None = None,
    ) -> list[SecurityGroupRule]:
        """Several rules at once (`Permissions.N`), all or nothing: every request is built
        and the group's capacity checked before any rule is added. `where(i)` names request
        `i` in an error (the API's `Permissions.N`)."""
        group = self.get_group(group_id)
        known = {r.key() for r in group.rules}
        new: list[SecurityGroupRule] = []
        for i, request in enumerate(requests):
            with _named(where, i):
                candidates = self._build_rules(group, request, self.groups)
            for rule in candidates:
                if rule.key() not in known:
                    known.add(rule.key())
                    new.append(rule)
        self._check_capacity(group, group.rules + new)
        added = [replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in new]
        if added:
            group.rules.extend(added)
            self.changes.touch(K.GROUP, group_id)
        return added

    def authorize_egress(
        self, group_id: str, request: RuleRequest, now: datetime
    ) -> list[SecurityGroupRule]:
        return self.authorize(group_id, replace(request, direction=Direction.EGRESS), now)

    def revoke(
        self, group_id: str, rule_id: str | None = None, request: RuleRequest | None = None
    ) -> list[SecurityGroupRule]:
        """RevokeSecurityGroup(Egress): by rule id, or by the rule's fields."""
        group = self.get_group(group_id)
        if rule_id is not None:
            doomed = [r for r in group.rules if r.rule_id == rule_id]
            if not doomed:
                raise ModelError(
                    "InvalidSecurityGroupRuleId.NotFound",
                    f"Rule {rule_id!r} is not in {group_id}; check the SecurityGroupRuleId.",
                )
        elif request is not None:
            return self.revoke_all(group_id, [request])
        else:
            raise ModelError("MissingParameter", "Give SecurityGroupRuleId or the rule's fields.")
        gone = {id(r) for r in doomed}
        group.rules = [r for r in group.rules if id(r) not in gone]
        self.changes.touch(K.GROUP, group_id)
        return doomed

    def revoke_all(
        self,
        group_id: str,
        requests: Sequence[RuleRequest],
        where: Callable[[int], str] | None = None,
    ) -> list[SecurityGroupRule]:
        """RevokeSecurityGroup(Egress) by the rules' fields, all or nothing: each request
        must match a rule of the group before any goes (`where` as for `authorize_all`)."""
        group = self.get_group(group_id)
        keys: set[tuple] = set()
        for i, request in enumerate(requests):
            with _named(where, i):
                mine = {r.key() for r in self._build_rules(group, request, self.groups)}
                if not any(r.key() in mine for r in group.rules):
                    raise ModelError(
                        "InvalidPermission.NotFound",
                        f"No rule of {group_id} matches the given fields; nothing to revoke.",
                    )
            keys |= mine
        doomed = [r for r in group.rules if r.key() in keys]
        group.rules = [r for r in group.rules if r.key() not in keys]
        if doomed:
            self.changes.touch(K.GROUP, group_id)
        return doomed

    def modify_rule(self, group_id: str, rule_id: str, request: RuleRequest) -> SecurityGroupRule:
        """ModifySecurityGroupRule: replace a rule's fields (id and creation time stay)."""
        group = self.get_group(group_id)
        old = group.rule(rule_id)
        if old is None:
            raise ModelError(
                "InvalidSecurityGroupRuleId.NotFound",
                f"Rule {rule_id!r} is not in {group_id}; check the SecurityGroupRuleId.",
            )
        built = self._build_rules(group, request, self.groups)
        if len(built) != 1:
            raise ModelError(
                "InvalidParameter.AuthorizationObjectCountExceeded",
                "A modified rule takes one authorisation object; add the others as new rules.",
            )
        new = replace(built[0], rule_id=old.rule_id, create_time=old.create_time)
        if any(r.key() == new.key() for r in group.rules if r.rule_id != rule_id):
            raise ModelError(
                "InvalidPermission.Duplicate",
                f"{group_id} already has this rule; revoke {rule_id} instead.",
            )
        after = [new if r.rule_id == rule_id else r for r in group.rules]
        self._check_capacity(group, after)
        if after != group.rules:
            group.rules = after
            self.changes.touch(K.GROUP, group_id)
        return new


@contextmanager
def _named(where: Callable[[int], str] | None, i: int) -> Iterator[None]:
    """A ModelError raised inside names request `i` (`where(i)`: "Permissions.2")."""
    try:
        yield
    except ModelError as err:
        if where is None:
            raise
        raise ModelError(err.code, f"{where(i)}: {err.message}") from None
