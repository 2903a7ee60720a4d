"""Instance RAM roles: which role each ECS instance has, and who may give it one.

Rules from the ECS security guide: only VPC instances, one role per instance (granting another
replaces it), revocable; a RAM user granting a role needs the ECS action *and* `ram:PassRole`
on that role, since the instance will then act with the role's permissions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.arns import instance_arn
from palisade.auditor.model.ram.authorisation import Caller
from palisade.auditor.model.ram.documents import DOCUMENT_FORMAT, open_document, unique
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.request_context import RequestContext
from palisade.auditor.model.ram.sts import MIN_DURATION, RoleCredentials, issue_role_credentials
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


@dataclass
class InstanceRamRoles:
    """instance id -> the name of its role."""

    bindings: dict[str, str] = field(default_factory=dict)

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
        self.bindings[instance.instance_id] = role.role_name
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
        del self.bindings[instance.instance_id]
        return InstanceRoleChange(instance.instance_id, current)

    def to_document(self) -> dict:
        """The bindings as plain JSON data, in the order they were made."""
        return {
            "format": DOCUMENT_FORMAT,
            "Bindings": [
                {"InstanceId": instance_id, "RoleName": role_name}
                for instance_id, role_name in self.bindings.items()
            ],
        }

    @classmethod
    def from_document(cls, doc: dict) -> InstanceRamRoles:
        """The bindings `to_document` wrote; ValueError naming the field if `doc` is not one.
        Roles are not looked up here: the account is stored apart, and a binding to a role
        that has gone is already refused when credentials are asked for."""
        top = open_document(doc, "instance RAM roles")
        bindings: dict[str, str] = {}
        instance_ids: list[str] = []
        for binding in top.objects("Bindings"):
            instance_id = binding.string("InstanceId")
            if not instance_id:
                raise binding.error("InstanceId", "must not be empty")
            instance_ids.append(instance_id)
            bindings[instance_id] = binding.name("RoleName", names.ROLE_NAME)
            binding.done()
        unique(top, "Bindings", instance_ids, "the instance")
        top.done()
        return cls(bindings)

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
            del self.bindings[instance_id]
        return gone

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
        )
