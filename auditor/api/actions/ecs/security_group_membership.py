"""Instances in security groups: JoinSecurityGroup, LeaveSecurityGroup. Each change records
the instance's attributes before and after in the audit log."""

from __future__ import annotations

from palisade.auditor.api.actions.ecs.common import (
    both,
    get_group,
    get_instance,
    group_resource,
    instance_arn,
    instance_resource,
    instance_view,
)
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


def _membership(ctx: ActionContext, p: Params, join: bool) -> dict:
    instance = get_instance(ctx, p)
    group = get_group(ctx, p)
    before = instance_view(ctx.state, instance)
    change = ctx.state.cloud.join if join else ctx.state.cloud.leave
    change(instance.instance_id, group.group_id, p.str("NetworkInterfaceId"))
    ctx.record(instance_arn(instance), before, instance_view(ctx.state, instance))
    return {}


_MEMBERSHIP = both(instance_resource, group_resource)


@action(
    "JoinSecurityGroup",
    writes=True,
    resources=_MEMBERSHIP,
    params=("InstanceId", "SecurityGroupId", "NetworkInterfaceId"),
)
def join_security_group(ctx: ActionContext, p: Params) -> dict:
    return _membership(ctx, p, join=True)


@action(
    "LeaveSecurityGroup",
    writes=True,
    resources=_MEMBERSHIP,
    params=("InstanceId", "SecurityGroupId", "NetworkInterfaceId"),
)
def leave_security_group(ctx: ActionContext, p: Params) -> dict:
    return _membership(ctx, p, join=False)
