"""Where the alert actions (alerts, findings, silences, whitelist) keep their changes: the
AlertRepository, and the audit-log row each change writes in the same transaction."""

from __future__ import annotations

from palisade.auditor.alerts.lifecycle import to_ms
from palisade.auditor.alerts.repository import AlertRepository, AuditInfo
from palisade.auditor.api.actions.sas.common import actor, arn
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.registry import ActionContext


def alert_repository(ctx: ActionContext) -> AlertRepository:
    service = ctx.services.get("alerts")
    if service is not None:
        return service
    store = ctx.services.get("store")
    if store is None:
        raise ApiError("ServiceUnavailable", "the alert store is not available", 503)
    return AlertRepository(store)


def audit_info(ctx: ActionContext, name: str) -> AuditInfo:
    return AuditInfo(
        ctx.request_id,
        actor(ctx),
        ctx.source_ip,
        name,
        to_ms(ctx.now),
        resource_prefix=arn(ctx, ""),
    )
