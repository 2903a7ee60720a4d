"""What the ECS actions on regions, instances and security groups (and the VPC actions) share:
resource ARNs, the ECS response shapes, the owning account, ids kept from the real cloud, and
all-or-nothing changes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, Resources
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import (
    Instance,
    image_os_name,
    instance_type_capacity,
)
from palisade.auditor.model.keypairs.service import binding_view
from palisade.auditor.model.network.rules_json import group_document
from palisade.auditor.model.network.security_group import SecurityGroup

T = TypeVar("T")


def ecs_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ") if moment else ""


def arn(service: str, region: str, account: str, resource: str) -> str:
    return f"acs:{service}:{region or '*'}:{account}:{resource}"


def group_arn(group: SecurityGroup) -> str:
    return arn("ecs", group.region_id, group.account_id, f"securitygroup/{group.group_id}")


def instance_arn(instance: Instance) -> str:
    return arn("ecs", instance.region_id, instance.account_id, f"instance/{instance.instance_id}")


def owner_account(ctx: ActionContext, p: Params) -> str:
    """The account whose resources an action lists or creates: this auditor's account, or a
    peer account modelled next to it (`ResourceOwnerAccount`, e.g. for cross-account rules)."""
    account = p.str("ResourceOwnerAccount") or ctx.account_id
    ctx.state.cloud.get_account(account)
    return account


def region_id(ctx: ActionContext, p: Params) -> str:
    region = p.req("RegionId")
    ctx.state.cloud.get_region(region)
    return region


def given_id(p: Params, name: str, pattern: re.Pattern, example: str) -> str | None:
    """An id kept from the real cloud (import); the model makes its own otherwise."""
    value = p.str(name)
    if value is not None and not pattern.match(value):
        raise ModelError(
            f"Invalid{name}.Malformed",
            f"{name} {value[:64]!r} is not valid; it looks like {example}.",
        )
    return value


# -- resources (the pipeline authorises the action on every one) -------------------------------


def _existing_or_param(kind: str, id_param: str, service: str = "ecs") -> Resources:
    """The ARN of the resource named by `id_param`: from the model when it exists (its real
    region and account), else from RegionId and this account."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        ident = p.str(id_param) or "*"
        cloud = ctx.state.cloud
        found = {
            "securitygroup": cloud.groups,
            "instance": cloud.instances,
            "vpc": cloud.vpcs,
            "vswitch": cloud.vswitches,
        }[kind].get(ident)
        if found is not None:
            return [arn(service, found.region_id, found.account_id, f"{kind}/{ident}")]
        return [arn(service, p.str("RegionId") or "*", ctx.account_id, f"{kind}/{ident}")]

    return arns


group_resource = _existing_or_param("securitygroup", "SecurityGroupId")
instance_resource = _existing_or_param("instance", "InstanceId")
vpc_resource = _existing_or_param("vpc", "VpcId", service="vpc")
vswitch_resource = _existing_or_param("vswitch", "VSwitchId", service="vpc")


def both(*parts: Resources) -> Resources:
    def arns(ctx: ActionContext, p: Params) -> list[str]:
        return [a for part in parts for a in part(ctx, p)]

    return arns


def new_resource(kind: str, service: str = "ecs") -> Resources:
    """`<kind>/*` in RegionId of the owner account: what a create action makes."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        account = p.str("ResourceOwnerAccount") or ctx.account_id
        return [arn(service, p.str("RegionId") or "*", account, f"{kind}/*")]

    return arns


# -- lookups that also check the region named in the request -----------------------------------


def get_group(ctx: ActionContext, p: Params, id_param: str = "SecurityGroupId") -> SecurityGroup:
    group = ctx.state.cloud.get_group(p.req(id_param))
    region = p.str("RegionId")
    if region is not None and group.region_id != region:
        raise ModelError(
            "InvalidSecurityGroupId.NotFound",
            f"Security group {group.group_id} is in {group.region_id}, not {region[:64]}; "
            "check the RegionId.",
        )
    return group


def get_instance(ctx: ActionContext, p: Params) -> Instance:
    instance = ctx.state.cloud.get_instance(p.req("InstanceId"))
    region = p.str("RegionId")
    if region is not None and instance.region_id != region:
        raise ModelError(
            "InvalidInstanceId.NotFound",
            f"Instance {instance.instance_id} is in {instance.region_id}, not {region[:64]}; "
            "check the RegionId.",
        )
    return instance


# -- views (ECS response shapes; also the audit log's before/after) ----------------------------


def group_view(group: SecurityGroup) -> dict:
    """DescribeSecurityGroupAttribute's shape: the group and its `Permissions.Permission`."""
    doc = group_document(group)
    doc["SecurityGroupType"] = group.group_type.value
    doc["NetworkType"] = group.network_type.value
    return doc


def ecs_tags(tags: dict[str, str]) -> dict:
    """`Tags` as the ECS product answers it."""
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}


def vpc_tags(tags: dict[str, str]) -> dict:
    """`Tags` as the VPC product answers it (its models name the fields Key and Value)."""
    return {"Tag": [{"Key": k, "Value": v} for k, v in tags.items()]}


def instance_view(state: CloudState, instance: Instance, now: datetime | None = None) -> dict:
    """One instance as DescribeInstances answers it; `DdosStatus` (Palisade's: normal, defense,
    blackhole) is the Anti-DDoS Basic state at `now` (without it, as last stored)."""
    nic = instance.primary_nic
    ddos = state.ddos.get(instance.instance_id)
    binding = state.keypairs.binding(instance.instance_id)
    key = binding and (binding.pending or binding.active)
    vpc = instance.vpc_id is not None
    cpus, memory = instance_type_capacity(instance.instance_type)
    os_name = image_os_name(instance.image_id)
    return {
        "InstanceId": instance.instance_id,
        "InstanceName": instance.name,
        "Description": instance.description,
        "RegionId": instance.region_id,
        "ZoneId": instance.zone_id,
        "InstanceType": instance.instance_type,
        "InstanceTypeFamily": instance.instance_type.rpartition(".")[0],
        "Cpu": cpus,
        "Memory": memory,
        "ImageId": instance.image_id,
        "HostName": instance.host_name,
        "OSType": instance.os_family.value,
        "OSName": os_name,
        "OSNameEn": os_name,
        "InstanceNetworkType": instance.network_type.value,
        "Status": instance.state.value,
        "CreationTime": ecs_time(instance.created_at),
        "SecurityGroupIds": {"SecurityGroupId": list(nic.security_group_ids)},
        "VpcAttributes": {
            "VpcId": instance.vpc_id or "",
            "VSwitchId": instance.vswitch_id or "",
            "NatIpAddress": "",
            "PrivateIpAddress": {"IpAddress": list(nic.private_ips) if vpc else []},
        },
        "InnerIpAddress": {"IpAddress": [] if vpc else list(nic.private_ips)},
        "PublicIpAddress": {"IpAddress": [nic.public_ip] if nic.public_ip else []},
        "KeyPairName": key.name if key else "",
        "KeyPairBinding": key_pair_binding(state, instance),
        "RamRoleName": state.instance_roles.role_of(instance.instance_id) or "",
        "DdosStatus": (ddos.effective_status(now) if now else ddos.status).value,
        "Tags": ecs_tags(instance.tags),
        "NetworkInterfaces": {
            "NetworkInterface": [
                {
                    "NetworkInterfaceId": n.nic_id,
                    "PrimaryIpAddress": n.private_ips[0] if n.private_ips else "",
                    "Type": "Primary" if n.primary else "Secondary",
                    "PrivateIpSets": {
                        "PrivateIpSet": [
                            {"PrivateIpAddress": ip, "Primary": k == 0}
                            for k, ip in enumerate(n.private_ips)
                        ]
                    },
                    "SecurityGroupIds": {"SecurityGroupId": list(n.security_group_ids)},
                }
                for n in instance.nics
            ]
        },
    }


def key_pair_binding(state: CloudState, instance: Instance) -> dict:
    """Palisade's: the instance's key pair as the running system has it (`Active`) and the
    change that waits for its next restart (`Pending` / `PendingDetach`); `KeyPairName` (ECS's
    field) is the pending one, else the active one. `Deleted`: the key pair itself no longer
    exists (the instance keeps its key). `RequestedAt`: when the pending change was asked for
    (ISO 8601)."""
    binding = state.keypairs.binding(instance.instance_id)
    view = binding_view(binding)

    def bound(key) -> dict | None:
        if key is None:
            return None
        where = (instance.account_id, instance.region_id, key.name)
        return {
            "KeyPairName": key.name,
            "KeyPairFingerPrint": key.fingerprint,
            "Deleted": where not in state.keypairs.pairs,
        }

    return {
        "Status": view["status"],
        "Active": bound(binding.active if binding else None),
        "Pending": bound(binding.pending if binding else None),
        "PendingDetach": view["pending_detach"],
        "PasswordLoginEnabled": view["password_login_enabled"],
        "RequestedAt": view["requested_at"],
    }


def record_group_change(ctx: ActionContext, group: SecurityGroup, before: dict) -> None:
    """The group's `DescribeSecurityGroupAttribute` document before and after, in the audit
    log, when the change changed it."""
    after = group_view(group)
    if after != before:
        ctx.record(group_arn(group), before, after)


def refuse(code: str, message: str, status: int = 400) -> ApiError:
    return ApiError(code, message, status)
