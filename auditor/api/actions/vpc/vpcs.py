"""VPCs: CreateVpc, DescribeVpcs, DeleteVpc (the `vpc` product's RAM actions).

`VpcId` on CreateVpc keeps the id of a VPC loaded from the real cloud (`palisade import-ecs`).
VPCs live in the same cloud model as the ECS resources, so these actions share the ECS
actions' helpers (owning account, region, resource ARNs).
"""

from __future__ import annotations

import re

from palisade.auditor.api.actions.ecs.common import (
    arn,
    given_id,
    new_resource,
    owner_account,
    region_id,
    vpc_resource,
    vpc_tags,
)
from palisade.auditor.api.actions.ecs.tags import tag_filter, tags_given
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.fleet.resources import Vpc

_VPC_ID = re.compile(r"^vpc-[0-9A-Za-z]{1,40}$")


def vpc_arn(vpc: Vpc) -> str:
    return arn("vpc", vpc.region_id, vpc.account_id, f"vpc/{vpc.vpc_id}")


def vpc_view(cloud: CloudModel, vpc: Vpc) -> dict:
    vswitches = sorted(s.vswitch_id for s in cloud.vswitches.values() if s.vpc_id == vpc.vpc_id)
    return {
        "VpcId": vpc.vpc_id,
        "RegionId": vpc.region_id,
        "VpcName": vpc.name,
        "Description": vpc.description,
        "CidrBlock": vpc.cidr,
        "Status": "Available",
        "OwnerId": vpc.account_id,
        "VSwitchIds": {"VSwitchId": vswitches},
        "Tags": vpc_tags(vpc.tags),
    }


@action(
    "CreateVpc",
    service="vpc",
    writes=True,
    resources=new_resource("vpc", "vpc"),
    params=("CidrBlock", "VpcName", "Description", "Tag", "VpcId", "ResourceOwnerAccount"),
)
def create_vpc(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    name = p.str("VpcName", "") or ""
    if len(name) > 128:
        raise ModelError("InvalidVpcName.Malformed", "VpcName is at most 128 characters.")
    description = p.str("Description", "") or ""
    if len(description) > 256:
        raise ModelError("InvalidDescription.Malformed", "Description is at most 256 characters.")
    vpc = ctx.state.cloud.create_vpc(
        account,
        region,
        p.str("CidrBlock", "172.16.0.0/12") or "172.16.0.0/12",
        vpc_id=given_id(p, "VpcId", _VPC_ID, "vpc-xxxxxxxx"),
        name=name,
        description=description,
        tags=tags_given(p),
    )
    ctx.record(vpc_arn(vpc), None, vpc_view(ctx.state.cloud, vpc))
    return {"VpcId": vpc.vpc_id, "RegionId": region}


@action(
    "DescribeVpcs",
    service="vpc",
    writes=False,
    resources=lambda ctx, p: [ctx.arn("vpc", p.str("RegionId") or "*", "vpc/*")],
    params=("VpcId", "VpcName", "Tag", "PageNumber", "PageSize", "ResourceOwnerAccount"),
)
def describe_vpcs(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    number, size = p.page(default_size=10, max_size=50)
    ids = set(p.list("VpcId", max_items=20)) if p.str("VpcId") else None
    name = p.str("VpcName")
    wanted = tag_filter(p)
    vpcs = sorted(
        (
            v
            for v in ctx.state.cloud.vpcs.values()
            if v.account_id == account
            and v.region_id == region
            and (ids is None or v.vpc_id in ids)
            and (name is None or v.name == name)
            and tag_rules.matches(v.tags, wanted)
        ),
        key=lambda v: v.vpc_id,
    )
    return {
        "TotalCount": len(vpcs),
        "PageNumber": number,
        "PageSize": size,
        "Vpcs": {"Vpc": [vpc_view(ctx.state.cloud, v) for v in paginate(vpcs, number, size)]},
    }


@action("DeleteVpc", service="vpc", writes=True, resources=vpc_resource, params=("VpcId",))
def delete_vpc(ctx: ActionContext, p: Params) -> dict:
    cloud = ctx.state.cloud
    vpc = cloud.get_vpc(p.req("VpcId"))
    region = p.str("RegionId")
    if region is not None and vpc.region_id != region:
        raise ModelError("InvalidVpcId.NotFound", f"VPC {vpc.vpc_id} is not in {region[:64]}.")
    before = vpc_view(cloud, vpc)
    cloud.delete_vpc(vpc.vpc_id)
    ctx.record(vpc_arn(vpc), before, None)
    return {}
