"""RAM roles: CreateRole, GetRole, ListRoles, UpdateRole, DeleteRole."""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, marker_page, ram_arn, ts
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import Role


def role_view(role: Role) -> dict:
    return {
        "RoleId": role.role_id,
        "RoleName": role.role_name,
        "Arn": role.arn,
        "Description": role.description,
        "AssumeRolePolicyDocument": role.assume_role_policy_document,
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": ts(role.create_date),
    }


@action(
    "CreateRole",
    service="ram",
    writes=True,
    resources=entity(("role", "RoleName")),
    params=("RoleName", "AssumeRolePolicyDocument", "Description", "MaxSessionDuration"),
)
def create_role(ctx: ActionContext, p: Params) -> dict:
    duration = p.int("MaxSessionDuration", 3600, minimum=0, maximum=10**6)
    assert duration is not None
    role = ctx.state.ram.create_role(
        p.req("RoleName"),
        p.req("AssumeRolePolicyDocument"),
        ctx.now,
        p.str("Description", "") or "",
        duration,
    )
    ctx.record(ram_arn(ctx, "role", role.role_name), None, role_view(role))
    return {"Role": role_view(role)}


@action(
    "GetRole",
    service="ram",
    writes=False,
    resources=entity(("role", "RoleName")),
    params=("RoleName",),
)
def get_role(ctx: ActionContext, p: Params) -> dict:
    return {"Role": role_view(ctx.state.ram.get_role(p.req("RoleName")))}


@action(
    "ListRoles",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "role", None)],
    params=("Marker", "MaxItems"),
)
def list_roles(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_roles(), lambda r: r.role_name)
    return {**paging, "Roles": {"Role": [role_view(r) for r in page]}}


@action(
    "UpdateRole",
    service="ram",
    writes=True,
    resources=entity(("role", "RoleName")),
    params=(
        "RoleName",
        "NewAssumeRolePolicyDocument",
        "NewDescription",
        "NewMaxSessionDuration",
    ),
)
def update_role(ctx: ActionContext, p: Params) -> dict:
    """RAM's UpdateRole: a new trust policy, description or longest session; what is not given
    stays. Sessions already issued keep their expiry, as on RAM."""
    name = p.req("RoleName")
    before = role_view(ctx.state.ram.get_role(name))
    role = ctx.state.ram.update_role(
        name,
        new_assume_role_policy_document=p.str("NewAssumeRolePolicyDocument"),
        new_max_session_duration=p.int("NewMaxSessionDuration", None, minimum=0, maximum=10**6),
        new_description=p.raw.get("NewDescription"),  # given empty: cleared
    )
    after = role_view(role)
    if after != before:
        ctx.record(ram_arn(ctx, "role", name), before, after)
    return {"Role": after}


@action(
    "DeleteRole",
    service="ram",
    writes=True,
    resources=entity(("role", "RoleName")),
    params=("RoleName",),
)
def delete_role(ctx: ActionContext, p: Params) -> dict:
    name = p.req("RoleName")
    before = role_view(ctx.state.ram.get_role(name))
    ctx.state.ram.delete_role(name)
    ctx.record(ram_arn(ctx, "role", name), before, None)
    # instances that had it lose it now: their next credential refresh is refused
    for instance_id in ctx.state.instance_roles.forget_role(name):
        instance = ctx.state.cloud.instances.get(instance_id)
        region = instance.region_id if instance is not None else "*"
        ctx.record(ctx.arn("ecs", region, f"instance/{instance_id}"), {"RamRoleName": name}, None)
    return {}
