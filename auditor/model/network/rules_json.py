"""The ECS JSON shape of a security group's rules (DescribeSecurityGroupAttribute's
`Permissions.Permission`), used by export, import and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.permission import read_permission
from palisade.auditor.model.network.security_group import (
    Direction,
    RuleRequest,
    SecurityGroup,
    SecurityGroupRule,
)
from palisade.auditor.model.schema import Schema, SchemaError, validate


def export_filename(region_id: str, group_id: str) -> str:
    return f"ecs_{region_id}_{group_id}.json"


def rule_to_permission(rule: SecurityGroupRule) -> dict[str, str]:
    ingress = rule.direction is Direction.INGRESS
    cidr = rule.peer_cidr or ""
    gid = rule.peer_group_id or ""
    owner = rule.peer_group_owner_account or ""
    v6 = rule.peer_ipv6_cidr or ""
    return {
        "Direction": rule.direction.value,
        "Policy": rule.policy.value.capitalize(),
        "IpProtocol": rule.ip_protocol.value.upper(),
        "PortRange": str(rule.port_range),
        "SourcePortRange": str(rule.source_port_range or ""),
        "SourceCidrIp": cidr if ingress else "",
        "SourceGroupId": gid if ingress else "",
        "SourceGroupOwnerAccount": owner if ingress else "",
        "DestCidrIp": "" if ingress else cidr,
        "DestGroupId": "" if ingress else gid,
        "DestGroupOwnerAccount": "" if ingress else owner,
        "Ipv6SourceCidrIp": v6 if ingress else "",
        "Ipv6DestCidrIp": "" if ingress else v6,
        "Priority": str(rule.priority),
        "NicType": rule.nic_type.value,
        "Description": rule.description,
        "CreateTime": rule.create_time.strftime("%Y-%m-%dT%H:%M:%SZ") if rule.create_time else "",
        "SecurityGroupRuleId": rule.rule_id,
    }


def group_document(group: SecurityGroup) -> dict:
    return {
        "RegionId": group.region_id,
        "SecurityGroupId": group.group_id,
        "SecurityGroupName": group.name,
        "Description": group.description,
        "VpcId": group.vpc_id or "",
        "InnerAccessPolicy": group.inner_access_policy.value,
        "Permissions": {"Permission": [rule_to_permission(r) for r in group.rules]},
    }


@dataclass(frozen=True)
class ExportedRules:
    filename: str
    document: dict


class _ExportedRules(Schema):
    """What ExportSecurityGroupRules writes (DescribeSecurityGroupAttribute's answer)."""

    Permissions: Any = None
    RegionId: Any = None
    SecurityGroupId: Any = None
    SecurityGroupName: Any = None
    Description: Any = None
    VpcId: Any = None
    InnerAccessPolicy: Any = None
    RequestId: Any = None
    NextToken: Any = None
    SnapshotPolicyIds: Any = None


def permissions_of(document: object) -> list:
    """The permission list of an exported/described group, or of a bare list."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        try:
            validate(_ExportedRules, document)
        except SchemaError as err:
            raise ModelError("InvalidParameter.Malformed", f"{err.where}: {err.message}") from None
        perms = document.get("Permissions")
        if isinstance(perms, dict) and set(perms) == {"Permission"}:
            if isinstance(perms["Permission"], list):
                return perms["Permission"]
        if isinstance(perms, list):
            return perms
    raise ModelError(
        "InvalidParameter.Malformed",
        'The file is not an exported rule set; expect {"Permissions": {"Permission": [...]}} or a '
        "list of permissions.",
    )


def permission_to_request(permission: object, where: str = "$") -> RuleRequest:
    """One exported permission -> a RuleRequest (validated later, against the target group).
    Read through the one `Permission` schema: an unknown key is an error naming it."""
    perm = read_permission(permission, where)
    return perm.request(perm.direction())


@dataclass(frozen=True)
class ImportResult:
    """One permission of an import: `added`, `exists` (identical rule already there; import
    never overwrites) or `failed` with the error code and the reason."""

    index: int
    status: str
    reason: str = ""
    code: str = ""
    rule: SecurityGroupRule | None = None


@dataclass(frozen=True)
class ImportPreview:
    group_id: str
    total: int
    results: list[ImportResult]

    @property
    def added(self) -> list[SecurityGroupRule]:
        return [r.rule for r in self.results if r.status == "added" and r.rule is not None]

    @property
    def failed(self) -> list[ImportResult]:
        return [r for r in self.results if r.status == "failed"]
