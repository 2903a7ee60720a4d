"""RAM users: CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers."""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, marker_page, ram_arn, ts
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import User


def user_view(user: User) -> dict:
    return {
        "UserId": user.user_id,
        "UserName": user.user_name,
        "DisplayName": user.display_name,
        "Comments": user.comments,
        "CreateDate": ts(user.create_date),
    }


@action(
    "CreateUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName", "DisplayName", "Comments"),
)
def create_user(ctx: ActionContext, p: Params) -> dict:
    user = ctx.state.ram.create_user(
        p.req("UserName"), ctx.now, p.str("DisplayName"), p.str("Comments", "") or ""
    )
    ctx.record(ram_arn(ctx, "user", user.user_name), None, user_view(user))
    return {"User": user_view(user)}


@action(
    "GetUser",
    service="ram",
    writes=False,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def get_user(ctx: ActionContext, p: Params) -> dict:
    return {"User": user_view(ctx.state.ram.get_user(p.req("UserName")))}


@action(
    "UpdateUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName", "NewUserName", "NewDisplayName", "NewComments"),
)
def update_user(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    ram = ctx.state.ram
    before = user_view(ram.get_user(name))
    new_name = p.str("NewUserName")
    if new_name is not None and new_name != name:
        # renaming makes a new resource: the caller must be allowed to have that name too
        ctx.state.ram.require(
            ctx.caller,
            "ram:UpdateUser",
            ram_arn(ctx, "user", new_name),
            ctx.request_context(),
            "Forbidden.RAM",
        )
    user = ram.update_user(name, new_name, p.str("NewDisplayName"), p.raw.get("NewComments"))
    ctx.record(ram_arn(ctx, "user", name), before, user_view(user))
    return {"User": user_view(user)}


@action(
    "DeleteUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def delete_user(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    before = user_view(ctx.state.ram.get_user(name))
    ctx.state.ram.delete_user(name)
    ctx.record(ram_arn(ctx, "user", name), before, None)
    return {}


@action(
    "ListUsers",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "user", None)],
    params=("Marker", "MaxItems"),
)
def list_users(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_users(), lambda u: u.user_name)
    return {**paging, "Users": {"User": [user_view(u) for u in page]}}
