"""Regions: DescribeRegions, and AddRegion (Palisade's own: a region to model; the real
cloud has its regions already)."""

from __future__ import annotations

from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


@action("DescribeRegions", writes=False, resources=lambda ctx, p: [ctx.arn("ecs", "*", "region/*")])
def describe_regions(ctx: ActionContext, p: Params) -> dict:
    regions = sorted(ctx.state.cloud.regions)
    return {"Regions": {"Region": [{"RegionId": r, "LocalName": r} for r in regions]}}


@action(
    "AddRegion",
    writes=True,
    resources=lambda ctx, p: [ctx.arn("ecs", p.str("RegionId") or "*", "region/*")],
    params=("RegionId",),
)
def add_region(ctx: ActionContext, p: Params) -> dict:
    region = p.req("RegionId")
    cloud = ctx.state.cloud
    created = region not in cloud.regions
    if created:
        cloud.add_region(region)
        ctx.record(ctx.arn("ecs", region, f"region/{region}"), None, {"RegionId": region})
    return {"RegionId": region, "Created": created}
