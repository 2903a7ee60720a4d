"""Security groups: create (with the console's templates), describe, modify, delete, rules
(authorize, revoke, modify), membership (join, leave), and Palisade's clone, restore (with a
preview), export and import (with a per-rule preview), plus the group's audit log.

Every change records the group's `DescribeSecurityGroupAttribute` document before and after
(or the instance's attributes for join/leave) in the audit log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from palisade.auditor.api.actions.ecs.common import (
    arn,
    both,
    ecs_time,
    get_group,
    get_instance,
    group_arn,
    group_resource,
    group_view,
    instance_arn,
    instance_resource,
    instance_view,
    new_resource,
    owner_account,
    region_id,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.rules_json import rule_to_permission
from palisade.auditor.model.network.security_group import (
    Direction,
    NetworkType,
    RuleRequest,
    SecurityGroup,
    SecurityGroupRule,
)

# -- groups -------------------------------------------------------------------------------------


@action(
    "CreateSecurityGroup",
    writes=True,
    resources=new_resource("securitygroup"),
    params=(
        "VpcId",
        "SecurityGroupName",
        "Description",
        "SecurityGroupType",
        "Template",
        "InnerAccessPolicy",
        "SecurityGroupId",
        "ResourceOwnerAccount",
    ),
)
def create_security_group(ctx: ActionContext, p: Params) -> dict:
    """`Template`: custom (default), web-server-linux or web-server-windows (the console's
    names "Web Server Linux" / "Web Server Windows" too). No VpcId: a classic-network group.
    `SecurityGroupId` keeps the id of a group loaded from the real cloud."""
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    vpc_id = p.str("VpcId")
    group = ctx.state.cloud.create_security_group(
        account,
        region,
        now=ctx.now,
        name=p.str("SecurityGroupName", "") or "",
        description=p.str("Description", "") or "",
        template=p.str("Template", "custom") or "custom",
        group_type=p.str("SecurityGroupType", "normal") or "normal",
        network_type=NetworkType.VPC if vpc_id else NetworkType.CLASSIC,
        vpc_id=vpc_id,
        inner_access_policy=p.str("InnerAccessPolicy", "Accept") or "Accept",
        group_id=p.str("SecurityGroupId"),
    )
    ctx.record(group_arn(group), None, group_view(group))
    return {"SecurityGroupId": group.group_id}


def _summary(ctx: ActionContext, group: SecurityGroup) -> dict:
    return {
        "SecurityGroupId": group.group_id,
        "SecurityGroupName": group.name,
        "Description": group.description,
        "VpcId": group.vpc_id or "",
        "SecurityGroupType": group.group_type.value,
        "NetworkType": group.network_type.value,
        "InnerAccessPolicy": group.inner_access_policy.value,
        "CreationTime": ecs_time(group.create_time),
        "RuleCount": len(group.rules),
        "EcsCount": len(ctx.state.cloud.members(group.group_id)),
        "IsDefault": group.is_default,
        "Tags": {"Tag": []},
    }


@action(
    "DescribeSecurityGroups",
    writes=False,
    resources=lambda ctx, p: [ctx.arn("ecs", p.str("RegionId") or "*", "securitygroup/*")],
    params=(
        "SecurityGroupIds",
        "SecurityGroupId",
        "VpcId",
        "SecurityGroupName",
        "NetworkType",
        "SecurityGroupType",
        "PageNumber",
        "PageSize",
        "ResourceOwnerAccount",
    ),
)
def describe_security_groups(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    number, size = p.page(default_size=10, max_size=50)
    ids = p.list("SecurityGroupIds", max_items=100) if "SecurityGroupIds" in p.raw else None
    if p.str("SecurityGroupId"):
        ids = [*(ids or []), p.req("SecurityGroupId")]
    network, kind = p.str("NetworkType"), p.str("SecurityGroupType")
    groups = [
        g
        for g in ctx.state.cloud.describe_security_groups(
            account, region, ids, p.str("VpcId"), p.str("SecurityGroupName")
        )
        if (network is None or g.network_type.value == network.lower())
        and (kind is None or g.group_type.value == kind.lower())
    ]
    groups.sort(key=lambda g: (g.create_time.isoformat() if g.create_time else "", g.group_id))
    return {
        "RegionId": region,
        "TotalCount": len(groups),
        "PageNumber": number,
        "PageSize": size,
        "SecurityGroups": {
            "SecurityGroup": [_summary(ctx, g) for g in paginate(groups, number, size)]
        },
    }


@action(
    "DescribeSecurityGroupAttribute",
    writes=False,
    resources=group_resource,
    params=("SecurityGroupId", "Direction", "NicType"),
)
def describe_security_group_attribute(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    direction = (p.str("Direction") or "all").lower()
    if direction not in ("all", "ingress", "egress"):
        raise ModelError("InvalidDirection.Malformed", "Direction must be all, ingress or egress.")
    nic_type = p.str("NicType")
    view = group_view(group)
    view["Permissions"]["Permission"] = [
        perm
        for perm in view["Permissions"]["Permission"]
        if direction in ("all", perm["Direction"])
        and (nic_type is None or perm["NicType"] == nic_type.lower())
    ]
    return view


@action(
    "ModifySecurityGroupAttribute",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupName", "Description"),
)
def modify_security_group_attribute(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    ctx.state.cloud.modify_security_group_attribute(
        group.group_id, p.raw.get("SecurityGroupName"), p.raw.get("Description")
    )
    _record_change(ctx, group, before)
    return {}


@action(
    "ModifySecurityGroupPolicy",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "InnerAccessPolicy"),
)
def modify_security_group_policy(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    ctx.state.cloud.modify_security_group_policy(group.group_id, p.req("InnerAccessPolicy"))
    _record_change(ctx, group, before)
    return {}


@action("DeleteSecurityGroup", writes=True, resources=group_resource, params=("SecurityGroupId",))
def delete_security_group(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    ctx.state.cloud.delete_security_group(group.group_id)
    ctx.record(group_arn(group), before, None)
    return {}


def _record_change(ctx: ActionContext, group: SecurityGroup, before: dict) -> None:
    after = group_view(group)
    if after != before:
        ctx.record(group_arn(group), before, after)


# -- rules --------------------------------------------------------------------------------------

_RULE_FIELDS = ("IpProtocol", "PortRange", "Policy", "Priority", "NicType", "Description")


def _rule_params(side: str) -> tuple[str, ...]:
    return _RULE_FIELDS + (f"{side}CidrIp", f"{side}GroupId", f"{side}GroupOwnerAccount")


def _default_nic_type(group: SecurityGroup, p: Params, side: str) -> str:
    """ECS's default is internet; VPC groups and group authorisation are intranet only."""
    if group.network_type is NetworkType.VPC or p.str(f"{side}GroupId"):
        return "intranet"
    return "internet"


def _request(group: SecurityGroup, p: Params, direction: Direction) -> RuleRequest:
    side = "Source" if direction is Direction.INGRESS else "Dest"
    return RuleRequest(
        direction=direction,
        ip_protocol=p.req("IpProtocol"),
        port_range=p.req("PortRange"),
        peer_cidr=p.str(f"{side}CidrIp"),
        peer_group_id=p.str(f"{side}GroupId"),
        peer_group_owner_account=p.str(f"{side}GroupOwnerAccount"),
        policy=p.str("Policy", "accept") or "accept",
        priority=p.str("Priority", "1") or "1",
        nic_type=p.str("NicType") or _default_nic_type(group, p, side),
        description=p.str("Description", "") or "",
    )


def _authorize(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    added = ctx.state.cloud.authorize(group.group_id, _request(group, p, direction), ctx.now)
    _record_change(ctx, group, before)
    return {"SecurityGroupRuleIds": {"SecurityGroupRuleId": [r.rule_id for r in added]}}


@action(
    "AuthorizeSecurityGroup",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", *_rule_params("Source")),
)
def authorize_security_group(ctx: ActionContext, p: Params) -> dict:
    return _authorize(ctx, p, Direction.INGRESS)


@action(
    "AuthorizeSecurityGroupEgress",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", *_rule_params("Dest")),
)
def authorize_security_group_egress(ctx: ActionContext, p: Params) -> dict:
    return _authorize(ctx, p, Direction.EGRESS)


def _revoke(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    group = get_group(ctx, p)
    cloud = ctx.state.cloud
    before = group_view(group)
    rule_ids = p.list("SecurityGroupRuleId", max_items=100)
    if rule_ids:
        side = "Source" if direction is Direction.INGRESS else "Dest"
        stray = [n for n in (*_RULE_FIELDS, f"{side}CidrIp", f"{side}GroupId") if p.str(n)]
        if stray:
            raise ApiError(
                "InvalidParameter.Conflict",
                f"Give SecurityGroupRuleId or the rule's fields, not both ({stray[0]}).",
            )
        for rule_id in rule_ids:  # all must exist, in this direction, before any goes
            rule = group.rule(rule_id)
            if rule is None or rule.direction is not direction:
                raise ModelError(
                    "InvalidSecurityGroupRuleId.NotFound",
                    f"Rule {rule_id[:64]!r} is not a {direction.value} rule of {group.group_id}.",
                )
        for rule_id in dict.fromkeys(rule_ids):
            cloud.revoke(group.group_id, rule_id=rule_id)
    else:
        cloud.revoke(group.group_id, request=_request(group, p, direction))
    _record_change(ctx, group, before)
    return {}


@action(
    "RevokeSecurityGroup",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Source")),
)
def revoke_security_group(ctx: ActionContext, p: Params) -> dict:
    return _revoke(ctx, p, Direction.INGRESS)


@action(
    "RevokeSecurityGroupEgress",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Dest")),
)
def revoke_security_group_egress(ctx: ActionContext, p: Params) -> dict:
    return _revoke(ctx, p, Direction.EGRESS)


def _modify_rule(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    """The fields given replace the rule's; the others stay as they are."""
    group = get_group(ctx, p)
    rule_id = p.req("SecurityGroupRuleId")
    old = group.rule(rule_id)
    if old is None or old.direction is not direction:
        raise ModelError(
            "InvalidSecurityGroupRuleId.NotFound",
            f"Rule {rule_id[:64]!r} is not a {direction.value} rule of {group.group_id}.",
        )
    side = "Source" if direction is Direction.INGRESS else "Dest"
    cidr, gid = p.str(f"{side}CidrIp"), p.str(f"{side}GroupId")
    peer_cidr, peer_group, owner = old.peer_cidr, old.peer_group_id, old.peer_group_owner_account
    if cidr is not None or gid is not None:  # a new peer replaces the old one entirely
        peer_cidr, peer_group, owner = cidr, gid, p.str(f"{side}GroupOwnerAccount")
    elif p.str(f"{side}GroupOwnerAccount") is not None:
        owner = p.str(f"{side}GroupOwnerAccount")
    request = RuleRequest(
        direction=direction,
        ip_protocol=p.str("IpProtocol") or old.ip_protocol,
        port_range=p.str("PortRange") or str(old.port_range),
        peer_cidr=peer_cidr,
        peer_group_id=peer_group,
        peer_group_owner_account=owner,
        policy=p.str("Policy") or old.policy,
        priority=p.str("Priority") or old.priority,
        nic_type=p.str("NicType") or old.nic_type,
        description=old.description if "Description" not in p.raw else p.raw["Description"],
    )
    before = group_view(group)
    ctx.state.cloud.modify_rule(group.group_id, rule_id, request)
    _record_change(ctx, group, before)
    return {}


@action(
    "ModifySecurityGroupRule",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Source")),
)
def modify_security_group_rule(ctx: ActionContext, p: Params) -> dict:
    return _modify_rule(ctx, p, Direction.INGRESS)


@action(
    "ModifySecurityGroupEgressRule",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Dest")),
)
def modify_security_group_egress_rule(ctx: ActionContext, p: Params) -> dict:
    return _modify_rule(ctx, p, Direction.EGRESS)


# -- membership ---------------------------------------------------------------------------------


def _membership(ctx: ActionContext, p: Params, join: bool) -> dict:
    instance = get_instance(ctx, p)
    group = get_group(ctx, p)
    before = instance_view(ctx.state, instance)
    change = ctx.state.cloud.join if join else ctx.state.cloud.leave
    change(instance.instance_id, group.group_id, p.str("NetworkInterfaceId"))
    ctx.record(instance_arn(instance), before, instance_view(ctx.state, instance))
    return {}


_MEMBERSHIP = both(instance_resource, group_resource)


@action(
    "JoinSecurityGroup",
    writes=True,
    resources=_MEMBERSHIP,
    params=("InstanceId", "SecurityGroupId", "NetworkInterfaceId"),
)
def join_security_group(ctx: ActionContext, p: Params) -> dict:
    return _membership(ctx, p, join=True)


@action(
    "LeaveSecurityGroup",
    writes=True,
    resources=_MEMBERSHIP,
    params=("InstanceId", "SecurityGroupId", "NetworkInterfaceId"),
)
def leave_security_group(ctx: ActionContext, p: Params) -> dict:
    return _membership(ctx, p, join=False)


# -- clone, restore, export, import -------------------------------------------------------------


def _skipped(items: list[tuple[SecurityGroupRule, str]]) -> dict:
    return {"Rule": [{**rule_to_permission(rule), "Reason": why} for rule, why in items]}


def _clone_target(ctx: ActionContext, p: Params) -> list[str]:
    group = ctx.state.cloud.groups.get(p.str("SecurityGroupId") or "")
    account = group.account_id if group else ctx.account_id
    region = p.str("DestinationRegionId") or p.str("RegionId") or "*"
    return [arn("ecs", region, account, "securitygroup/*")]


@action(
    "CloneSecurityGroup",
    writes=True,
    resources=both(group_resource, _clone_target),
    params=(
        "SecurityGroupId",
        "DestinationRegionId",
        "NetworkType",
        "VpcId",
        "SecurityGroupName",
        "Description",
    ),
)
def clone_security_group(ctx: ActionContext, p: Params) -> dict:
    """Palisade's clone (the console's): into `DestinationRegionId` (default: the same region)
    and/or another `NetworkType`; rules that cannot exist there are listed under Skipped."""
    group = get_group(ctx, p)
    result = ctx.state.cloud.clone_security_group(
        group.group_id,
        now=ctx.now,
        region_id=p.str("DestinationRegionId"),
        name=p.raw.get("SecurityGroupName"),
        network_type=p.str("NetworkType"),
        vpc_id=p.str("VpcId"),
        description=p.raw.get("Description"),
    )
    ctx.record(group_arn(result.group), None, group_view(result.group))
    return {
        "SecurityGroupId": result.group.group_id,
        "RegionId": result.group.region_id,
        "Skipped": _skipped(result.skipped),
    }


def _target_resource(ctx: ActionContext, p: Params) -> list[str]:
    found = ctx.state.cloud.groups.get(p.str("TargetSecurityGroupId") or "")
    if found is not None:
        return [group_arn(found)]
    region = p.str("RegionId") or "*"
    return [arn("ecs", region, ctx.account_id, f"securitygroup/{p.str('TargetSecurityGroupId')}")]


@action(
    "RestoreSecurityGroup",
    writes=True,
    resources=both(group_resource, _target_resource),
    params=("SecurityGroupId", "TargetSecurityGroupId", "Mode", "DryRun"),
)
def restore_security_group(ctx: ActionContext, p: Params) -> dict:
    """Make the group's rules those of `TargetSecurityGroupId`: `Mode=full` adds the target's
    extra rules and removes the group's own extras; `partial` only adds. `DryRun=true` answers
    the preview (Added = green, Removed = red) and changes nothing."""
    group = get_group(ctx, p)
    target = p.req("TargetSecurityGroupId")
    mode = (p.str("Mode") or "full").lower()
    cloud = ctx.state.cloud
    dry_run = p.bool("DryRun")
    before = group_view(group)
    if dry_run:
        preview = cloud.restore_preview(group.group_id, target, mode)
    else:
        preview = cloud.restore(group.group_id, target, mode, ctx.now)
        _record_change(ctx, group, before)
    return {
        "SecurityGroupId": group.group_id,
        "TargetSecurityGroupId": target,
        "Mode": mode,
        "DryRun": dry_run,
        "Added": {"Permission": [rule_to_permission(r) for r in preview.added]},
        "Removed": {"Permission": [rule_to_permission(r) for r in preview.removed]},
        "Skipped": _skipped(preview.skipped),
    }


@action(
    "ExportSecurityGroupRules",
    writes=False,
    resources=group_resource,
    params=("SecurityGroupId",),
)
def export_security_group_rules(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    exported = ctx.state.cloud.export_rules(group.group_id)
    return {"FileName": exported.filename, "Document": exported.document}


def _document(p: Params) -> object:
    text = p.req("Document")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(
            "InvalidParameter.Malformed",
            "Document is not JSON; give the file ExportSecurityGroupRules wrote.",
        ) from None


@action(
    "ImportSecurityGroupRules",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "Document", "DryRun"),
)
def import_security_group_rules(ctx: ActionContext, p: Params) -> dict:
    """Import an exported rule set (from any region); never overwrites a rule. Each permission
    gets a result: added, exists, or failed with the code and the reason. `DryRun=true`: the
    preview only."""
    group = get_group(ctx, p)
    document = _document(p)
    dry_run = p.bool("DryRun")
    cloud = ctx.state.cloud
    before = group_view(group)
    if dry_run:
        preview = cloud.import_preview(group.group_id, document)
    else:
        preview = cloud.import_rules(group.group_id, document, ctx.now)
        _record_change(ctx, group, before)
    results = []
    for r in preview.results:
        item = {"Index": r.index, "Status": r.status, "Code": r.code, "Reason": r.reason}
        if r.rule is not None:
            item["Permission"] = rule_to_permission(r.rule)
        results.append(item)
    return {
        "SecurityGroupId": group.group_id,
        "DryRun": dry_run,
        "TotalCount": preview.total,
        "AddedCount": sum(1 for r in preview.results if r.status == "added"),
        "ExistsCount": sum(1 for r in preview.results if r.status == "exists"),
        "FailedCount": len(preview.failed),
        "Results": {"Result": results},
    }


# -- the audit log ------------------------------------------------------------------------------


@action(
    "DescribeSecurityGroupAudit",
    writes=False,
    resources=group_resource,
    params=("SecurityGroupId", "MaxResults", "ResourceOwnerAccount"),
)
def describe_security_group_audit(ctx: ActionContext, p: Params) -> dict:
    """The append-only audit log of a group (newest first): who changed it, when, from where,
    with which action, and its rules before and after. Works for deleted groups too."""
    group_id = p.req("SecurityGroupId")
    limit = p.int("MaxResults", 100, minimum=1, maximum=1000)
    group = ctx.state.cloud.groups.get(group_id)
    if group is not None:
        resource = group_arn(group)
    else:
        resource = arn("ecs", region_id(ctx, p), owner_account(ctx, p), f"securitygroup/{group_id}")
    if ctx.audit_reader is None:
        raise ApiError("ServiceUnavailable", "the audit log is not available here", 503)
    rows = ctx.audit_reader(limit=limit, resource=resource)
    return {
        "SecurityGroupId": group_id,
        "TotalCount": len(rows),
        "AuditEntries": {
            "AuditEntry": [
                {
                    "Time": ecs_time_ms(r.at_ms),
                    "RequestId": r.request_id,
                    "Actor": r.actor,
                    "SourceIp": r.source_ip,
                    "Action": r.action,
                    "Resource": r.resource,
                    "Before": r.before,
                    "After": r.after,
                }
                for r in rows
            ]
        },
    }


def ecs_time_ms(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
