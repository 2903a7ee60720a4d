"""RAM groups: CreateGroup, GetGroup, ListGroups, DeleteGroup. (Their members:
group_members.py.)"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, marker_page, ram_arn, ts
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import Group


def group_view(group: Group) -> dict:
    return {
        "GroupName": group.group_name,
        "Comments": group.comments,
        "CreateDate": ts(group.create_date),
    }


@action(
    "CreateGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName")),
    params=("GroupName", "Comments"),
)
def create_group(ctx: ActionContext, p: Params) -> dict:
    group = ctx.state.ram.create_group(p.req("GroupName"), ctx.now, p.str("Comments", "") or "")
    ctx.record(ram_arn(ctx, "group", group.group_name), None, group_view(group))
    return {"Group": group_view(group)}


@action(
    "GetGroup",
    service="ram",
    writes=False,
    resources=entity(("group", "GroupName")),
    params=("GroupName",),
)
def get_group(ctx: ActionContext, p: Params) -> dict:
    return {"Group": group_view(ctx.state.ram.get_group(p.req("GroupName")))}


@action(
    "ListGroups",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "group", None)],
    params=("Marker", "MaxItems"),
)
def list_groups(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_groups(), lambda g: g.group_name)
    return {**paging, "Groups": {"Group": [group_view(g) for g in page]}}


@action(
    "DeleteGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName")),
    params=("GroupName",),
)
def delete_group(ctx: ActionContext, p: Params) -> dict:
    name = p.req("GroupName")
    before = group_view(ctx.state.ram.get_group(name))
    ctx.state.ram.delete_group(name)
    ctx.record(ram_arn(ctx, "group", name), before, None)
    return {}
