"""Instances: RunInstances / CreateInstance, DescribeInstances, StartInstance, StopInstance,
RebootInstance, DeleteInstance.

`InstanceId` and `CreationTime` on the create actions keep the id and date of an instance
loaded from the real cloud (`palisade import-ecs`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from palisade.auditor.api.actions.ecs.common import (
    all_or_nothing,
    get_instance,
    given_id,
    group_arn,
    group_view,
    instance_arn,
    instance_resource,
    instance_view,
    new_resource,
    owner_account,
    region_id,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import OsFamily
from palisade.auditor.model.keypairs.service import InstanceView
from palisade.auditor.model.ram import InstanceRef

_INSTANCE_ID = re.compile(r"^i-[0-9A-Za-z]{1,40}$")

_RUN_PARAMS = (
    "InstanceType",
    "ImageId",  # accepted for scripts written for ECS; the model has no images
    "OsType",
    "InstanceNetworkType",
    "VpcId",
    "PrivateIpAddress",
    "PublicIpAddress",
    "SecurityGroupId",
    "SecurityGroupIds",
    "KeyPairName",
    "RamRoleName",
    "InstanceName",
    "InstanceId",
    "CreationTime",
    "ResourceOwnerAccount",
)


def _creation_time(ctx: ActionContext, p: Params) -> datetime:
    text = p.str("CreationTime")
    if text is None:
        return ctx.now
    for fmt in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if moment > ctx.now:
            break
        return moment
    raise ModelError(
        "InvalidCreationTime.Malformed",
        f"CreationTime {text[:40]!r} is not valid; use a past time like 2019-05-30T08:00Z.",
    )


def _create(ctx: ActionContext, p: Params) -> tuple[str, list[str]]:
    """The instance (and the default group if it needed one); returns its id and new groups."""
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    state, cloud = ctx.state, ctx.state.cloud
    groups = p.list("SecurityGroupIds", max_items=5)
    if p.str("SecurityGroupId"):
        groups = [p.req("SecurityGroupId"), *groups]
    network = p.str("InstanceNetworkType") or ("vpc" if p.str("VpcId") else "classic")
    os_type = (p.str("OsType") or "linux").lower()
    key_pair = p.str("KeyPairName")
    if key_pair is not None:
        state.keypairs.get(account, region, key_pair)
        if os_type != OsFamily.LINUX.value:
            raise ModelError(
                "DependencyViolation.WindowsInstance",
                "SSH key pairs are for Linux instances only; drop KeyPairName or use OsType linux.",
            )
    name = p.str("InstanceName", "") or ""
    if len(name) > 128:
        raise ModelError("InvalidInstanceName.Malformed", "InstanceName is at most 128 characters.")
    groups_before = set(cloud.groups)
    instance = cloud.create_instance(
        account,
        region,
        created_at=_creation_time(ctx, p),
        instance_type=p.str("InstanceType", "ecs.g6.large") or "ecs.g6.large",
        os_family=os_type,
        network_type=network.lower(),
        vpc_id=p.str("VpcId"),
        private_ips=[p.req("PrivateIpAddress")],
        public_ip=p.str("PublicIpAddress"),
        security_group_ids=groups,
        instance_id=given_id(p, "InstanceId", _INSTANCE_ID, "i-xxxxxxxx"),
        name=name,
    )
    new_groups = sorted(set(cloud.groups) - groups_before)
    if key_pair is not None:
        # A key pair given at creation is in the image's first boot: active at once.
        view = InstanceView(
            instance.instance_id, account, region, is_linux=True, is_running=False, is_stopped=True
        )
        state.keypairs.attach(
            account, region, key_pair, [instance.instance_id], lambda _: view, ctx.now
        )
    role = p.str("RamRoleName")
    if role is not None:
        state.instance_roles.attach(
            state.ram,
            ctx.caller,
            InstanceRef(instance.instance_id, region, instance.network_type.value),
            role,
            ctx.request_context(),
        )
    return instance.instance_id, new_groups


def _run(ctx: ActionContext, p: Params, stopped: bool) -> str:
    def change() -> str:
        instance_id, new_groups = _create(ctx, p)
        cloud = ctx.state.cloud
        if stopped:
            cloud.stop_instance(instance_id)
        for gid in new_groups:  # the region's default group, made for its first instance
            ctx.record(group_arn(cloud.groups[gid]), None, group_view(cloud.groups[gid]))
        instance = cloud.instances[instance_id]
        ctx.record(instance_arn(instance), None, instance_view(ctx.state, instance))
        return instance_id

    return all_or_nothing(ctx, change)


@action(
    "RunInstances",
    writes=True,
    resources=new_resource("instance"),
    params=_RUN_PARAMS + ("Amount",),
)
def run_instances(ctx: ActionContext, p: Params) -> dict:
    if p.int("Amount", 1, minimum=1, maximum=1) != 1:  # one private IP names one instance
        raise ApiError("InvalidParameter.Amount", "Amount must be 1.")
    return {"InstanceIdSets": {"InstanceIdSet": [_run(ctx, p, stopped=False)]}}


@action("CreateInstance", writes=True, resources=new_resource("instance"), params=_RUN_PARAMS)
def create_instance(ctx: ActionContext, p: Params) -> dict:
    """ECS's CreateInstance leaves the instance Stopped (RunInstances starts it)."""
    return {"InstanceId": _run(ctx, p, stopped=True)}


@action(
    "DescribeInstances",
    writes=False,
    resources=lambda ctx, p: [ctx.arn("ecs", p.str("RegionId") or "*", "instance/*")],
    params=(
        "InstanceIds",
        "VpcId",
        "SecurityGroupId",
        "InstanceName",
        "Status",
        "InstanceNetworkType",
        "PageNumber",
        "PageSize",
        "ResourceOwnerAccount",
    ),
)
def describe_instances(ctx: ActionContext, p: Params) -> dict:
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    number, size = p.page(default_size=10, max_size=100)
    ids = set(p.list("InstanceIds", max_items=100)) if "InstanceIds" in p.raw else None
    vpc, group = p.str("VpcId"), p.str("SecurityGroupId")
    name, status = p.str("InstanceName"), p.str("Status")
    network = p.str("InstanceNetworkType")
    found = [
        i
        for i in ctx.state.cloud.instances.values()
        if i.account_id == account
        and i.region_id == region
        and (ids is None or i.instance_id in ids)
        and (vpc is None or i.vpc_id == vpc)
        and (group is None or any(group in n.security_group_ids for n in i.nics))
        and (name is None or i.name == name)
        and (status is None or i.state.value.lower() == status.lower())
        and (network is None or i.network_type.value == network.lower())
    ]
    found.sort(key=lambda i: (i.created_at, i.instance_id))
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Instances": {
            "Instance": [instance_view(ctx.state, i) for i in paginate(found, number, size)]
        },
    }


def _transition(ctx: ActionContext, p: Params, change) -> dict:
    instance = get_instance(ctx, p)
    before = instance_view(ctx.state, instance)
    change(instance.instance_id)
    ctx.record(instance_arn(instance), before, instance_view(ctx.state, instance))
    return {}


@action("StartInstance", writes=True, resources=instance_resource, params=("InstanceId",))
def start_instance(ctx: ActionContext, p: Params) -> dict:
    return _transition(ctx, p, ctx.state.cloud.start_instance)


@action(
    "StopInstance", writes=True, resources=instance_resource, params=("InstanceId", "ForceStop")
)
def stop_instance(ctx: ActionContext, p: Params) -> dict:
    p.bool("ForceStop")
    return _transition(ctx, p, ctx.state.cloud.stop_instance)


@action(
    "RebootInstance", writes=True, resources=instance_resource, params=("InstanceId", "ForceStop")
)
def reboot_instance(ctx: ActionContext, p: Params) -> dict:
    p.bool("ForceStop")
    return _transition(ctx, p, ctx.state.cloud.reboot_instance)


@action("DeleteInstance", writes=True, resources=instance_resource, params=("InstanceId", "Force"))
def delete_instance(ctx: ActionContext, p: Params) -> dict:
    instance = get_instance(ctx, p)
    state = ctx.state
    before = instance_view(state, instance)
    state.cloud.delete_instance(instance.instance_id, force=p.bool("Force"))
    # Bindings of an instance that no longer exists would follow a reused id.
    state.keypairs.bindings.pop(instance.instance_id, None)
    state.instance_roles.release(instance.instance_id)  # revokes its role credentials
    ctx.record(instance_arn(instance), before, None)
    return {}
