"""Instance RAM roles: which role each ECS instance has, and who may give it one.

Rules from the ECS security guide: only VPC instances, one role per instance (granting another
replaces it), revocable; a RAM user granting a role needs the ECS action *and* `ram:PassRole`
on that role, since the instance will then act with the role's permissions.

Revocation: every binding gets a generation from a counter that only grows (persisted with
the bindings), and the STS credentials issued for it carry that generation and the role's
RoleId. `check_session` refuses credentials whose binding is no longer the instance's current
one: the role was detached, replaced by another (or attached again after a detach), deleted
(and perhaps made again under the same name), or the instance was deleted. Each API request
checks it against the state it has just re-read from the database, so a revocation saved by
one replica holds on every replica from its next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Changes
from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.arns import instance_arn
from palisade.auditor.model.ram.authorisation import Caller
from palisade.auditor.model.ram.documents import DOCUMENT_FORMAT, open_document, unique
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.request_context import RequestContext
from palisade.auditor.model.ram.sts import (
    ASSUMED_SESSION,
    MIN_DURATION,
    RoleCredentials,
    SessionClaims,
    issue_role_credentials,
)
from palisade.auditor.model.ram.tokens import RandomBytes

FORBIDDEN = "Forbidden.RAM"


@dataclass(frozen=True)
class InstanceRef:
    """What the role rules need to know about an ECS instance."""

    instance_id: str
    region_id: str
    network_type: str = "vpc"  # "vpc" or "classic"

    def arn(self, account_id: str) -> str:
        return instance_arn(self.region_id, account_id, self.instance_id)


@dataclass(frozen=True)
class InstanceRoleChange:
    instance_id: str
    role_name: str
    replaced_role: str | None = None


REVOKED = "InvalidSecurityToken.Revoked"


@dataclass
class InstanceRamRoles:
    """instance id -> the name of its role (`bindings`), and the generation of each binding."""

    bindings: dict[str, str] = field(default_factory=dict)
    # instance id -> its binding's generation; a binding missing here (stored before
    # generations existed) is generation 0, as are the tokens issued before then
    generations: dict[str, int] = field(default_factory=dict)
    next_generation: int = 1
    # what a write touched (see model.changes)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def _bind(self, instance_id: str, role_name: str) -> None:
        self.bindings[instance_id] = role_name
        self.generations[instance_id] = self.next_generation
        self.next_generation += 1
        self.changes.touch(K.INSTANCE_ROLE, instance_id)
        self.changes.touch(K.INSTANCE_ROLES, "")  # the next generation

    def release(self, instance_id: str) -> str | None:
        """Drop the instance's binding (its credentials are revoked with it); the role it had."""
        had_generation = self.generations.pop(instance_id, None) is not None
        role = self.bindings.pop(instance_id, None)
        if role is not None or had_generation:
            self.changes.touch(K.INSTANCE_ROLE, instance_id)
        return role

    def generation_of(self, instance_id: str) -> int | None:
        """The generation of the instance's current binding; None when it has no role."""
        if instance_id not in self.bindings:
            return None
        return self.generations.get(instance_id, 0)

    def attach(
        self,
        account: RamAccount,
        caller: Caller,
        instance: InstanceRef,
        role_name: str,
        context: RequestContext,
    ) -> InstanceRoleChange:
        """AttachInstanceRamRole: grant `role_name` to `instance`, replacing any other role."""
        account.require(
            caller,
            "ecs:AttachInstanceRamRole",
            instance.arn(account.account_id),
            context,
            FORBIDDEN,
        )
        account.require(caller, "ram:PassRole", account.role_arn(role_name), context, FORBIDDEN)
        role = account.ecs_role(role_name)
        if instance.network_type.lower() != "vpc":
            raise RamError(
                "InvalidInstance.NotVpc",
                f"{instance.instance_id} is not a VPC instance; only VPC instances can have "
                "an instance RAM role",
            )
        previous = self.bindings.get(instance.instance_id)
        if previous != role.role_name:  # the same role again changes nothing
            self._bind(instance.instance_id, role.role_name)
        return InstanceRoleChange(
            instance.instance_id, role.role_name, previous if previous != role_name else None
        )

    def detach(
        self,
        account: RamAccount,
        caller: Caller,
        instance: InstanceRef,
        context: RequestContext,
        role_name: str | None = None,
    ) -> InstanceRoleChange:
        """DetachInstanceRamRole: revoke the instance's role (`role_name`, if given, must be it)."""
        account.require(
            caller,
            "ecs:DetachInstanceRamRole",
            instance.arn(account.account_id),
            context,
            FORBIDDEN,
        )
        current = self.bindings.get(instance.instance_id)
        if current is None or (role_name is not None and role_name != current):
            raise RamError(
                "InvalidRamRole.NotAttached",
                f"the instance {instance.instance_id} does not have the role "
                f"{role_name or '(any)'}",
            )
        self.release(instance.instance_id)
        return InstanceRoleChange(instance.instance_id, current)

    def to_document(self) -> dict:
        """The bindings as plain JSON data, in the order they were made."""
        return {
            "format": DOCUMENT_FORMAT,
            "Bindings": [self.binding_document(instance_id) for instance_id in self.bindings],
            "NextGeneration": self.next_generation,
        }

    def binding_document(self, instance_id: str) -> dict | None:
        """One binding as the document holds it (the "instance_role" unit); None: unbound."""
        role_name = self.bindings.get(instance_id)
        if role_name is None:
            return None
        return {
            "InstanceId": instance_id,
            "RoleName": role_name,
            "Generation": self.generations.get(instance_id, 0),
        }

    def meta_document(self) -> dict:
        """What the document holds besides the bindings (the "instance_roles" unit)."""
        return {"format": DOCUMENT_FORMAT, "NextGeneration": self.next_generation}

    def apply_meta_document(self, doc: dict) -> None:
        """The stored counter read back (a replica catching up, a failed write undone)."""
        self.next_generation = int(doc["NextGeneration"])

    def apply_binding_document(self, instance_id: str, doc: dict | None) -> None:
        """A stored binding (None: none) read back into the live bindings."""
        if doc is None:
            self.bindings.pop(instance_id, None)
            self.generations.pop(instance_id, None)
            return
        self.bindings[instance_id] = str(doc["RoleName"])
        self.generations[instance_id] = int(doc.get("Generation", 0))

    @classmethod
    def from_document(cls, doc: dict) -> InstanceRamRoles:
        """The bindings `to_document` wrote; ValueError naming the field if `doc` is not one.
        Roles are not looked up here: the account is stored apart, and a binding to a role
        that has gone is already refused when credentials are asked for. Documents stored
        before generations existed have none: their bindings are generation 0."""
        top = open_document(doc, "instance RAM roles")
        bindings: dict[str, str] = {}
        generations: dict[str, int] = {}
        instance_ids: list[str] = []
        for binding in top.objects("Bindings"):
            instance_id = binding.string("InstanceId")
            if not instance_id:
                raise binding.error("InstanceId", "must not be empty")
            instance_ids.append(instance_id)
            bindings[instance_id] = binding.name("RoleName", names.ROLE_NAME)
            if binding.has("Generation"):
                generation = binding.integer("Generation")
                if generation < 0:
                    raise binding.error("Generation", "must not be negative")
                generations[instance_id] = generation
            binding.done()
        unique(top, "Bindings", instance_ids, "the instance")
        # never hand out a generation again: above every stored one, whatever the counter says
        next_generation = max([0, *generations.values()]) + 1
        if top.has("NextGeneration"):
            stored = top.integer("NextGeneration")
            if stored < 1:
                raise top.error("NextGeneration", "must be at least 1")
            next_generation = max(next_generation, stored)
        top.done()
        return cls(bindings, generations, next_generation)

    def role_of(self, instance_id: str) -> str | None:
        return self.bindings.get(instance_id)

    def describe(
        self, instance_ids: list[str] | None = None, role_name: str | None = None
    ) -> list[tuple[str, str]]:
        """DescribeInstanceRamRole: (instance id, role name) pairs, filtered."""
        return [
            (instance_id, role)
            for instance_id, role in self.bindings.items()
            if (instance_ids is None or instance_id in instance_ids)
            and (role_name is None or role == role_name)
        ]

    def forget_role(self, role_name: str) -> list[str]:
        """Drop a deleted role from every instance; the instance ids it was on."""
        gone = [i for i, r in self.bindings.items() if r == role_name]
        for instance_id in gone:
            self.release(instance_id)
        return gone

    def check_session(self, account: RamAccount, claims: SessionClaims) -> None:
        """Refuse (`InvalidSecurityToken.Revoked`) role credentials whose binding is not the
        instance's current one any more, or whose role is gone or another of the same name.
        An AssumeRole session has no binding: it lives as long as its role."""
        instance_id, role_name = claims.session_name, claims.role_name
        role = account.roles.get(role_name)
        if claims.kind == ASSUMED_SESSION:
            if role is None or claims.role_id != role.role_id:
                raise RamError(
                    REVOKED,
                    f"The security token was revoked: the role {role_name} it was issued for "
                    "was deleted",
                )
            return
        current = (
            self.bindings.get(instance_id) == role_name
            and self.generation_of(instance_id) == claims.binding_generation
            and role is not None
            and (not claims.role_id or claims.role_id == role.role_id)
        )
        if not current:
            raise RamError(
                REVOKED,
                f"The security token was revoked: the instance {instance_id} no longer has "
                f"the role {role_name} it was issued for",
            )

    def issue_credentials(
        self,
        account: RamAccount,
        instance_id: str,
        role_name: str,
        now: datetime,
        ttl: timedelta | int,
        *,
        signing_key: bytes,
        random_bytes: RandomBytes = secrets.token_bytes,
        min_ttl: timedelta = MIN_DURATION,
    ) -> RoleCredentials:
        """What the metadata path security-credentials/<role> serves to `instance_id`;
        refused once the role is revoked or replaced."""
        if self.bindings.get(instance_id) != role_name:
            raise RamError(
                "InvalidRamRole.NotAttached",
                f"the instance {instance_id} does not have the role {role_name}",
            )
        role = account.ecs_role(role_name)
        return issue_role_credentials(
            role,
            now,
            ttl,
            signing_key=signing_key,
            session_name=instance_id,
            random_bytes=random_bytes,
            min_duration=min_ttl,
            binding_generation=self.generations.get(instance_id, 0),
        )
