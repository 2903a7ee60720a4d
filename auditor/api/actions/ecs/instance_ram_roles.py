"""Instance RAM roles: AttachInstanceRamRole, DetachInstanceRamRole, DescribeInstanceRamRole.

Granting a role lets the instance act with the role's permissions, so besides
`ecs:AttachInstanceRamRole` on each instance (checked by the pipeline) the caller needs
`ram:PassRole` on the role (checked by the model's `InstanceRamRoles.attach`). Every instance
and the role are checked before any binding changes: a request changes all or nothing.
"""

from __future__ import annotations

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.fleet.resources import Instance
from palisade.auditor.model.ram import InstanceRef

MAX_INSTANCES = 100


def instance_resources(ctx: ActionContext, p: Params) -> list[str]:
    """`acs:ecs:<region>:<account>:instance/<id>` for each of InstanceIds (or `instance/*`)."""
    region = p.req("RegionId")
    ids = p.list("InstanceIds", max_items=MAX_INSTANCES) or ["*"]
    return [ctx.arn("ecs", region, f"instance/{i}") for i in ids]


def lookup_instance(ctx: ActionContext, region: str, instance_id: str) -> Instance:
    instance = ctx.state.cloud.instances.get(instance_id)
    if instance is None or instance.account_id != ctx.account_id or instance.region_id != region:
        raise ApiError(
            "InvalidInstanceId.NotFound",
            f"the instance {instance_id[:64]!r} does not exist in {region[:64]}",
            404,
        )
    return instance


def instance_ref(instance: Instance) -> InstanceRef:
    return InstanceRef(instance.instance_id, instance.region_id, instance.network_type.value)


def requested_instances(ctx: ActionContext, p: Params) -> list[Instance]:
    region = p.req("RegionId")
    ids = p.list("InstanceIds", max_items=MAX_INSTANCES)
    if not ids:
        raise ApiError("MissingParameter", 'The input parameter "InstanceIds" is not supplied.')
    if len(set(ids)) != len(ids):
        raise ApiError("InvalidInstanceIds.Duplicate", "an instance is named more than once")
    return [lookup_instance(ctx, region, i) for i in ids]


def role_set(instance_id: str, role_name: str) -> dict:
    return {
        "InstanceRamRoleSets": {
            "InstanceRamRoleSet": [{"InstanceId": instance_id, "RamRoleName": role_name}]
        }
    }


@action(
    "AttachInstanceRamRole",
    writes=True,
    resources=instance_resources,
    params=("InstanceIds", "RamRoleName"),
)
def attach_instance_ram_role(ctx: ActionContext, p: Params) -> dict:
    role_name = p.req("RamRoleName")
    instances = requested_instances(ctx, p)
    state, context = ctx.state, ctx.request_context()
    # a refusal for a later instance (PassRole, not an ECS role, a classic instance) undoes
    # the earlier ones with the rest of the write (store/live_state.py)
    results = []
    for instance in instances:
        before = state.instance_roles.role_of(instance.instance_id)
        change = state.instance_roles.attach(
            state.ram, ctx.caller, instance_ref(instance), role_name, context
        )
        ctx.record(
            ctx.arn("ecs", instance.region_id, f"instance/{instance.instance_id}"),
            None if before is None else {"RamRoleName": before},
            {"RamRoleName": change.role_name},
        )
        results.append(
            {"InstanceId": instance.instance_id, "Success": True, "Code": "200", "Message": ""}
        )
    return {
        "RamRoleName": role_name,
        "TotalCount": len(results),
        "FailCount": 0,
        "AttachInstanceRamRoleResults": {"AttachInstanceRamRoleResult": results},
    }


@action(
    "DetachInstanceRamRole",
    writes=True,
    resources=instance_resources,
    params=("InstanceIds", "RamRoleName"),
)
def detach_instance_ram_role(ctx: ActionContext, p: Params) -> dict:
    role_name = p.str("RamRoleName")
    instances = requested_instances(ctx, p)
    state, context = ctx.state, ctx.request_context()
    results = []
    for instance in instances:
        change = state.instance_roles.detach(
            state.ram, ctx.caller, instance_ref(instance), context, role_name
        )
        ctx.record(
            ctx.arn("ecs", instance.region_id, f"instance/{instance.instance_id}"),
            {"RamRoleName": change.role_name},
            None,
        )
        results.append(
            {
                "InstanceId": instance.instance_id,
                "Success": True,
                "Code": "200",
                "Message": "",
                **role_set(instance.instance_id, change.role_name),
            }
        )
    return {
        "RamRoleName": role_name or "",
        "TotalCount": len(results),
        "FailCount": 0,
        "DetachInstanceRamRoleResults": {"DetachInstanceRamRoleResult": results},
    }


@action(
    "DescribeInstanceRamRole",
    writes=False,
    resources=instance_resources,
    params=("InstanceIds", "RamRoleName", "PageNumber", "PageSize"),
)
def describe_instance_ram_role(ctx: ActionContext, p: Params) -> dict:
    region = p.req("RegionId")
    ids = p.list("InstanceIds", max_items=MAX_INSTANCES) or None
    number, size = p.page(default_size=10, max_size=50)
    in_region = {
        i.instance_id
        for i in ctx.state.cloud.instances.values()
        if i.region_id == region and i.account_id == ctx.account_id
    }
    pairs = [
        (instance_id, role)
        for instance_id, role in ctx.state.instance_roles.describe(ids, p.str("RamRoleName"))
        if instance_id in in_region
    ]
    return {
        "RegionId": region,
        "TotalCount": len(pairs),
        "InstanceRamRoleSets": {
            "InstanceRamRoleSet": [
                {"InstanceId": i, "RamRoleName": r} for i, r in paginate(pairs, number, size)
            ]
        },
    }
