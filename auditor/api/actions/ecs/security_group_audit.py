"""A security group's audit log: DescribeSecurityGroupAudit."""

from __future__ import annotations

from datetime import UTC, datetime

from palisade.auditor.api.actions.ecs.common import (
    arn,
    group_arn,
    group_resource,
    owner_account,
    region_id,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


@action(
    "DescribeSecurityGroupAudit",
    writes=False,
    resources=group_resource,
    params=("SecurityGroupId", "MaxResults", "ResourceOwnerAccount"),
)
def describe_security_group_audit(ctx: ActionContext, p: Params) -> dict:
    """The append-only audit log of a group (newest first): who changed it, when, from where,
    with which action, and its rules before and after. Works for deleted groups too."""
    group_id = p.req("SecurityGroupId")
    limit = p.int("MaxResults", 100, minimum=1, maximum=1000)
    group = ctx.state.cloud.groups.get(group_id)
    if group is not None:
        resource = group_arn(group)
    else:
        resource = arn("ecs", region_id(ctx, p), owner_account(ctx, p), f"securitygroup/{group_id}")
    if ctx.audit_reader is None:
        raise ApiError("ServiceUnavailable", "the audit log is not available here", 503)
    rows = ctx.audit_reader(limit=limit, resource=resource)
    return {
        "SecurityGroupId": group_id,
        "TotalCount": len(rows),
        "AuditEntries": {
            "AuditEntry": [
                {
                    "Time": ecs_time_ms(r.at_ms),
                    "RequestId": r.request_id,
                    "Actor": r.actor,
                    "SourceIp": r.source_ip,
                    "Action": r.action,
                    "Resource": r.resource,
                    "Before": r.before,
                    "After": r.after,
                }
                for r in rows
            ]
        },
    }


def ecs_time_ms(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
