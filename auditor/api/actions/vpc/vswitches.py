"""vSwitches: CreateVSwitch, DescribeVSwitches, ModifyVSwitchAttribute, DeleteVSwitch (the
`vpc` product's RAM actions). A vSwitch is a zone's block of a VPC's CIDR; RunInstances with
VSwitchId puts the instance in its zone and takes the private address from its block.

`VSwitchId` on CreateVSwitch keeps the id of a vSwitch loaded from the real cloud.
"""

from __future__ import annotations

import re

from palisade.auditor.api.actions.ecs.common import (
    arn,
    given_id,
    new_resource,
    owner_account,
    region_id,
    vpc_tags,
    vswitch_resource,
)
from palisade.auditor.api.actions.ecs.tags import tag_filter, tags_given
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import VSwitch
from palisade.auditor.model.network import ipv4

_VSWITCH_ID = re.compile(r"^vsw-[0-9A-Za-z]{1,40}$")
RESERVED_PER_BLOCK = 4  # ECS keeps the first address and the last three of every vSwitch


def vswitch_arn(vswitch: VSwitch) -> str:
    return arn("vpc", vswitch.region_id, vswitch.account_id, f"vswitch/{vswitch.vswitch_id}")


def vswitch_view(state: CloudState, vswitch: VSwitch) -> dict:
    """One vSwitch as DescribeVSwitches answers it."""
    lo, hi = ipv4.cidr_text_interval(vswitch.cidr)
    used = sum(
        len(nic.private_ips)
        for i in state.cloud.instances.values()
        if i.vswitch_id == vswitch.vswitch_id
        for nic in i.nics
    )
    return {
        "VSwitchId": vswitch.vswitch_id,
        "VpcId": vswitch.vpc_id,
        "ZoneId": vswitch.zone_id,
        "CidrBlock": vswitch.cidr,
        "VSwitchName": vswitch.name,
        "Description": vswitch.description,
        "Status": "Available",
        "IsDefault": False,
        "AvailableIpAddressCount": max(0, hi - lo + 1 - RESERVED_PER_BLOCK - used),
        "CreationTime": vswitch.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if vswitch.created_at
        else "",
        "OwnerId": vswitch.account_id,
        "ResourceGroupId": "",
        "Tags": vpc_tags(vswitch.tags),
    }


def _text(p: Params, name: str, limit: int, code: str) -> str:
    value = p.str(name, "") or ""
    if len(value) > limit:
        raise ModelError(code, f"{name} is at most {limit} characters.")
    return value


@action(
    "CreateVSwitch",
    service="vpc",
    writes=True,
    resources=new_resource("vswitch", "vpc"),
    params=(
        "VpcId",
        "ZoneId",
        "CidrBlock",
        "VSwitchName",
        "Description",
        "Tag",
        "VSwitchId",
        "ResourceOwnerAccount",
    ),
)
def create_vswitch(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    cloud = ctx.state.cloud
    vpc = cloud.get_vpc(p.req("VpcId"))
    if vpc.region_id != region or vpc.account_id != account:
        raise ModelError(
            "InvalidVpcId.NotFound", f"VPC {vpc.vpc_id} is not in {region} of account {account}."
        )
    vswitch = cloud.create_vswitch(
        vpc.vpc_id,
        p.req("ZoneId"),
        p.req("CidrBlock"),
        created_at=ctx.now,
        name=_text(p, "VSwitchName", 128, "InvalidVSwitchName.Malformed"),
        description=_text(p, "Description", 256, "InvalidDescription.Malformed"),
        vswitch_id=given_id(p, "VSwitchId", _VSWITCH_ID, "vsw-xxxxxxxx"),
        tags=tags_given(p),
    )
    ctx.record(vswitch_arn(vswitch), None, vswitch_view(ctx.state, vswitch))
    return {"VSwitchId": vswitch.vswitch_id}


@action(
    "DescribeVSwitches",
    service="vpc",
    writes=False,
    resources=lambda ctx, p: [ctx.arn("vpc", p.str("RegionId") or "*", "vswitch/*")],
    params=(
        "VpcId",
        "VSwitchId",
        "ZoneId",
        "VSwitchName",
        "Tag",
        "PageNumber",
        "PageSize",
        "ResourceOwnerAccount",
    ),
)
def describe_vswitches(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    number, size = p.page(default_size=10, max_size=50)
    ids = set(p.list("VSwitchId", max_items=20)) if p.str("VSwitchId") else None
    vpc, zone, name = p.str("VpcId"), p.str("ZoneId"), p.str("VSwitchName")
    wanted = tag_filter(p)
    found = sorted(
        (
            s
            for s in ctx.state.cloud.vswitches.values()
            if s.account_id == account
            and s.region_id == region
            and (ids is None or s.vswitch_id in ids)
            and (vpc is None or s.vpc_id == vpc)
            and (zone is None or s.zone_id == zone)
            and (name is None or s.name == name)
            and tag_rules.matches(s.tags, wanted)
        ),
        key=lambda s: s.vswitch_id,
    )
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "VSwitches": {
            "VSwitch": [vswitch_view(ctx.state, s) for s in paginate(found, number, size)]
        },
    }


@action(
    "ModifyVSwitchAttribute",
    service="vpc",
    writes=True,
    resources=vswitch_resource,
    params=("VSwitchId", "VSwitchName", "Description"),
)
def modify_vswitch_attribute(ctx: ActionContext, p: Params) -> dict:
    """The VPC API's ModifyVSwitchAttribute: a new name or description (not given: kept)."""
    cloud = ctx.state.cloud
    vswitch = _requested_vswitch(ctx, p)
    name = (
        _text(p, "VSwitchName", 128, "InvalidVSwitchName.Malformed")
        if "VSwitchName" in p.raw
        else None
    )
    description = (
        _text(p, "Description", 256, "InvalidDescription.Malformed")
        if "Description" in p.raw
        else None
    )
    before = vswitch_view(ctx.state, vswitch)
    cloud.modify_vswitch(vswitch.vswitch_id, name, description)
    after = vswitch_view(ctx.state, vswitch)
    if after != before:
        ctx.record(vswitch_arn(vswitch), before, after)
    return {}


@action(
    "DeleteVSwitch", service="vpc", writes=True, resources=vswitch_resource, params=("VSwitchId",)
)
def delete_vswitch(ctx: ActionContext, p: Params) -> dict:
    cloud = ctx.state.cloud
    vswitch = _requested_vswitch(ctx, p)
    before = vswitch_view(ctx.state, vswitch)
    cloud.delete_vswitch(vswitch.vswitch_id)
    ctx.record(vswitch_arn(vswitch), before, None)
    return {}


def _requested_vswitch(ctx: ActionContext, p: Params):
    """The vSwitch `VSwitchId` names, in the `RegionId` given (if one is)."""
    vswitch = ctx.state.cloud.get_vswitch(p.req("VSwitchId"))
    region = p.str("RegionId")
    if region is not None and vswitch.region_id != region:
        raise ModelError(
            "InvalidVSwitchId.NotFound", f"vSwitch {vswitch.vswitch_id} is not in {region[:64]}."
        )
    return vswitch
