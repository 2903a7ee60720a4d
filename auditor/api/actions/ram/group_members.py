"""Users in RAM groups: AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser,
ListUsersForGroup.

An action that links a user to a group is authorised on both.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, marker_page, ram_arn
from palisade.auditor.api.actions.ram.groups import group_view
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


@action(
    "AddUserToGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName"), ("user", "UserName")),
    params=("UserName", "GroupName"),
)
def add_user_to_group(ctx: ActionContext, p: Params) -> dict:
    user, group = p.req("UserName"), p.req("GroupName")
    ctx.state.ram.add_user_to_group(user, group)
    ctx.record(ram_arn(ctx, "group", group), None, {"Member": user})
    return {}


@action(
    "RemoveUserFromGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName"), ("user", "UserName")),
    params=("UserName", "GroupName"),
)
def remove_user_from_group(ctx: ActionContext, p: Params) -> dict:
    user, group = p.req("UserName"), p.req("GroupName")
    ctx.state.ram.remove_user_from_group(user, group)
    ctx.record(ram_arn(ctx, "group", group), {"Member": user}, None)
    return {}


@action(
    "ListGroupsForUser",
    service="ram",
    writes=False,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def list_groups_for_user(ctx: ActionContext, p: Params) -> dict:
    groups = ctx.state.ram.list_groups_for_user(p.req("UserName"))
    return {"Groups": {"Group": [group_view(g) for g in groups]}}


@action(
    "ListUsersForGroup",
    service="ram",
    writes=False,
    resources=entity(("group", "GroupName")),
    params=("GroupName", "Marker", "MaxItems"),
)
def list_users_for_group(ctx: ActionContext, p: Params) -> dict:
    users = ctx.state.ram.list_users_for_group(p.req("GroupName"))
    page, paging = marker_page(p, users, lambda u: u.user_name)
    return {
        **paging,
        "Users": {"User": [{"UserName": u.user_name, "DisplayName": u.display_name} for u in page]},
    }
