"""Instances: RunInstances / CreateInstance, DescribeInstances, StartInstance, StopInstance,
RebootInstance, DeleteInstance.

`InstanceId` and `CreationTime` on the create actions keep the id and date of an instance
loaded from the real cloud (`palisade import-ecs`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from palisade.auditor.api.actions.ecs.common import (
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
from palisade.auditor.api.actions.ecs.instance_params import (
    MAX_AMOUNT,
    check_host_name,
    check_text,
    instance_type,
    os_family,
    system_disk,
)
from palisade.auditor.api.actions.ecs.tags import tag_filter, tags_given
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import OsFamily
from palisade.auditor.model.keypairs.service import InstanceView
from palisade.auditor.model.ram import InstanceRef

_INSTANCE_ID = re.compile(r"^i-[0-9A-Za-z]{1,40}$")

_RUN_PARAMS = (
    "InstanceType",
    "ImageId",  # kept and shown; a public image's name gives OSName and, without OsType, the OS
    "OsType",
    "InstanceNetworkType",
    "VpcId",
    "VSwitchId",
    "ZoneId",
    "SystemDisk",
    "HostName",
    "Description",
    "Tag",
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


def _create(ctx: ActionContext, p: Params, amount: int) -> tuple[list[str], list[str]]:
    """The instances (and the default group if the first needed one); returns their ids and
    the new groups."""
    region = region_id(ctx, p)
    account = owner_account(ctx, p)
    state, cloud = ctx.state, ctx.state.cloud
    groups = p.list("SecurityGroupIds", max_items=5)
    if p.str("SecurityGroupId"):
        groups = [p.req("SecurityGroupId"), *groups]
    vpc_like = p.str("VpcId") or p.str("VSwitchId")
    network = p.str("InstanceNetworkType") or ("vpc" if vpc_like else "classic")
    image = p.str("ImageId", "") or ""
    os_type = os_family(p.str("OsType"), image)
    key_pair = p.str("KeyPairName")
    if key_pair is not None:
        state.keypairs.get(account, region, key_pair)
        if os_type != OsFamily.LINUX.value:
            raise ModelError(
                "DependencyViolation.WindowsInstance",
                "SSH key pairs are for Linux instances only; drop KeyPairName or use OsType linux.",
            )
    name = check_text(p, "InstanceName", 128, "InvalidInstanceName.Malformed")
    description = check_text(p, "Description", 256, "InvalidDescription.Malformed")
    host_name = p.str("HostName")
    if host_name is not None:
        check_host_name(host_name, os_type)
    private_ip = p.str("PrivateIpAddress")
    given = given_id(p, "InstanceId", _INSTANCE_ID, "i-xxxxxxxx")
    one_only = ("PrivateIpAddress", "PublicIpAddress", "InstanceId")
    if amount > 1 and any(p.str(n) is not None for n in one_only):
        raise ApiError(
            "InvalidParameter.Amount",
            "PrivateIpAddress, PublicIpAddress and InstanceId name one instance: with them "
            "Amount must be 1 (on a vSwitch each instance gets an address of its own).",
        )
    if private_ip is None and not p.str("VSwitchId"):
        private_ip = p.req("PrivateIpAddress")  # only a vSwitch gives out addresses
    kind = instance_type(p)
    disk = system_disk(p, image, os_type)
    tags = tags_given(p)
    created_at = _creation_time(ctx, p)
    groups_before = set(cloud.groups)
    ids: list[str] = []
    for _ in range(amount):
        instance = cloud.create_instance(
            account,
            region,
            created_at=created_at,
            instance_type=kind,
            os_family=os_type,
            network_type=network.lower(),
            vpc_id=p.str("VpcId"),
            private_ips=[private_ip] if private_ip else [],
            public_ip=p.str("PublicIpAddress"),
            security_group_ids=groups or _new(cloud, groups_before),  # a 2nd joins the default
            instance_id=given,
            name=name,
            vswitch_id=p.str("VSwitchId"),
            zone_id=p.str("ZoneId"),
            image_id=image,
            host_name=host_name or "",
            system_disk=disk,
            description=description,
            tags=tags,
        )
        if not instance.host_name:  # ECS names a host after its instance: iZ<id>Z
            cloud.set_host_name(
                instance.instance_id, f"iZ{instance.instance_id.removeprefix('i-')}Z"
            )
        ids.append(instance.instance_id)
        _bind(ctx, p, account, region, instance.instance_id, instance.network_type.value)
    return ids, _new(cloud, groups_before)


def _new(cloud, before: set[str]) -> list[str]:
    return sorted(set(cloud.groups) - before)


def _bind(ctx: ActionContext, p: Params, account: str, region: str, instance_id: str, network):
    """The key pair and RAM role given at creation."""
    state = ctx.state
    key_pair = p.str("KeyPairName")
    if key_pair is not None:
        # A key pair given at creation is in the image's first boot: active at once.
        view = InstanceView(
            instance_id, account, region, is_linux=True, is_running=False, is_stopped=True
        )
        state.keypairs.attach(account, region, key_pair, [instance_id], lambda _: view, ctx.now)
    role = p.str("RamRoleName")
    if role is not None:
        state.instance_roles.attach(
            state.ram,
            ctx.caller,
            InstanceRef(instance_id, region, network),
            role,
            ctx.request_context(),
        )


def _run(ctx: ActionContext, p: Params, stopped: bool, amount: int = 1) -> list[str]:
    """Creates the instances; a refusal part-way undoes the earlier ones with the rest of the
    write (store/live_state.py)."""
    instance_ids, new_groups = _create(ctx, p, amount)
    cloud = ctx.state.cloud
    for gid in new_groups:  # the region's default group, made for its first instance
        ctx.record(group_arn(cloud.groups[gid]), None, group_view(cloud.groups[gid]))
    for instance_id in instance_ids:
        if stopped:
            cloud.stop_instance(instance_id)
        instance = cloud.instances[instance_id]
        ctx.record(instance_arn(instance), None, instance_view(ctx.state, instance))
    return instance_ids


@action(
    "RunInstances",
    writes=True,
    resources=new_resource("instance"),
    params=_RUN_PARAMS + ("Amount",),
)
def run_instances(ctx: ActionContext, p: Params) -> dict:
    amount = p.int("Amount", 1, minimum=1, maximum=MAX_AMOUNT)
    assert amount is not None
    return {"InstanceIdSets": {"InstanceIdSet": _run(ctx, p, stopped=False, amount=amount)}}


@action("CreateInstance", writes=True, resources=new_resource("instance"), params=_RUN_PARAMS)
def create_instance(ctx: ActionContext, p: Params) -> dict:
    """ECS's CreateInstance leaves the instance Stopped (RunInstances starts it)."""
    return {"InstanceId": _run(ctx, p, stopped=True)[0]}


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
        "VSwitchId",
        "ZoneId",
        "ImageId",
        "Tag",
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
    vswitch, zone, image = p.str("VSwitchId"), p.str("ZoneId"), p.str("ImageId")
    wanted = tag_filter(p)
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
        and (vswitch is None or i.vswitch_id == vswitch)
        and (zone is None or i.zone_id == zone)
        and (image is None or i.image_id == image)
        and tag_rules.matches(i.tags, wanted)
    ]
    found.sort(key=lambda i: (i.created_at, i.instance_id))
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Instances": {
            "Instance": [
                instance_view(ctx.state, i, ctx.now) for i in paginate(found, number, size)
            ]
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
    state.keypairs.forget_instance(instance.instance_id)
    state.instance_roles.release(instance.instance_id)  # revokes its role credentials
    state.ddos.forget({instance.instance_id})  # a reload would drop it too
    ctx.record(instance_arn(instance), before, None)
    return {}
