"""Security groups: CreateSecurityGroup (with the console's templates),
DescribeSecurityGroups, DescribeSecurityGroupAttribute, ModifySecurityGroupAttribute,
ModifySecurityGroupPolicy, DeleteSecurityGroup.

Their rules: security_group_rules.py; their instances: security_group_membership.py; copying
their rules: security_group_copies.py; their audit log: security_group_audit.py.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ecs.common import (
    ecs_tags,
    ecs_time,
    get_group,
    group_arn,
    group_resource,
    group_view,
    new_resource,
    owner_account,
    record_group_change,
    region_id,
)
from palisade.auditor.api.actions.ecs.tags import tag_filter, tags_given
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.security_group import NetworkType, SecurityGroup


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
        "Tag",
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
    tags = tags_given(p)
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
        tags=tags,
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
        "Tags": ecs_tags(group.tags),
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
        "Tag",
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
    wanted = tag_filter(p)
    groups = [
        g
        for g in ctx.state.cloud.describe_security_groups(
            account, region, ids, p.str("VpcId"), p.str("SecurityGroupName")
        )
        if (network is None or g.network_type.value == network.lower())
        and (kind is None or g.group_type.value == kind.lower())
        and tag_rules.matches(g.tags, wanted)
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
    record_group_change(ctx, group, before)
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
    record_group_change(ctx, group, before)
    return {}


@action("DeleteSecurityGroup", writes=True, resources=group_resource, params=("SecurityGroupId",))
def delete_security_group(ctx: ActionContext, p: Params) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    ctx.state.cloud.delete_security_group(group.group_id)
    ctx.record(group_arn(group), before, None)
    return {}
