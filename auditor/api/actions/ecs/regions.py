"""Regions."""

from __future__ import annotations

from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


@action("DescribeRegions", writes=False, resources=lambda ctx, p: [ctx.arn("ecs", "*", "region/*")])
def describe_regions(ctx: ActionContext, p: Params) -> dict:
    regions = sorted(ctx.state.cloud.regions)
    return {"Regions": {"Region": [{"RegionId": r, "LocalName": r} for r in regions]}}
