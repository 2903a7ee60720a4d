"""Copying security group rules, Palisade's (the console's) way: CloneSecurityGroup (into a
new group), RestoreSecurityGroup (from another group, with a preview),
ExportSecurityGroupRules / ImportSecurityGroupRules (through a file, with a per-rule preview).
"""

from __future__ import annotations

import json

from palisade.auditor.api.actions.ecs.common import (
    arn,
    both,
    get_group,
    group_arn,
    group_resource,
    group_view,
    record_group_change,
)
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.rules_json import rule_to_permission
from palisade.auditor.model.network.security_group import SecurityGroupRule


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
        record_group_change(ctx, group, before)
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
        record_group_change(ctx, group, before)
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
