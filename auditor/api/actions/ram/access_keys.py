"""AccessKeys of RAM users: CreateAccessKey, ListAccessKeys, UpdateAccessKey,
DeleteAccessKey.

The secret leaves the auditor once, in CreateAccessKey's answer; the audit log records a key
as its id and status only.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import ram_arn, ts
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import AccessKey, RamAccount, RamError


def access_key_owner(ctx: ActionContext, p: Params) -> list[str]:
    return [ram_arn(ctx, "user", key_user(ctx, p))]


def key_user(ctx: ActionContext, p: Params) -> str:
    """AccessKey actions without UserName act on the calling RAM user's own keys."""
    name = p.str("UserName")
    if name is not None:
        return name
    if ctx.caller.kind == "user":
        return ctx.caller.name
    raise ApiError(
        "MissingParameter.UserName",
        "UserName is required unless the caller is a RAM user acting on its own AccessKeys",
    )


def access_key_view(key: AccessKey) -> dict:
    return {
        "AccessKeyId": key.access_key_id,
        "Status": key.status.value,
        "CreateDate": ts(key.create_date),
    }


def user_key(ram: RamAccount, user_name: str, key_id: str) -> AccessKey:
    for key in ram.list_access_keys(user_name):
        if key.access_key_id == key_id:
            return key
    raise RamError(
        "EntityNotExist.User.AccessKey", f"the user {user_name} has no AccessKey {key_id[:64]}"
    )


@action(
    "CreateAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName",),
)
def create_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key = ctx.state.ram.create_access_key(name, ctx.now)
    stored = ctx.state.ram.get_user(name).access_keys[key.access_key_id]
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", None, access_key_view(stored))
    # the only time the secret leaves the auditor
    return {
        "AccessKey": {
            "AccessKeyId": key.access_key_id,
            "AccessKeySecret": key.access_key_secret,
            "Status": key.status.value,
            "CreateDate": ts(key.create_date),
        }
    }


@action(
    "ListAccessKeys",
    service="ram",
    writes=False,
    resources=access_key_owner,
    params=("UserName",),
)
def list_access_keys(ctx: ActionContext, p: Params) -> dict:
    keys = ctx.state.ram.list_access_keys(key_user(ctx, p))
    return {"AccessKeys": {"AccessKey": [access_key_view(k) for k in keys]}}


@action(
    "UpdateAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName", "UserAccessKeyId", "Status"),
)
def update_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key_id = p.req("UserAccessKeyId")
    status = p.req("Status")
    ram = ctx.state.ram
    before = access_key_view(user_key(ram, name, key_id))
    key = ram.update_access_key(name, key_id, status)
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", before, access_key_view(key))
    return {}


@action(
    "DeleteAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName", "UserAccessKeyId"),
)
def delete_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key_id = p.req("UserAccessKeyId")
    ram = ctx.state.ram
    before = access_key_view(user_key(ram, name, key_id))
    ram.delete_access_key(name, key_id)
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", before, None)
    return {}
