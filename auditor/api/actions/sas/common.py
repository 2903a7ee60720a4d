"""What the security-center actions (`sas`: alerts, notifications) share: their RAM
service name, ARNs, the caller as the audit log names it, times in the API's format, list
parameters whose items may be comma-separated."""

from __future__ import annotations

from datetime import UTC, datetime

from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, describe_caller

SERVICE = "sas"


def arn(ctx: ActionContext, resource: str) -> str:
    return ctx.arn(SERVICE, "*", resource)


def resource(kind: str, id_param: str | None = None):
    """The `resources` of an action on one `kind/<id>` (or `kind/*` without an id)."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        ident = (p.str(id_param) if id_param else None) or "*"
        return [arn(ctx, f"{kind}/{ident}")]

    return arns


def actor(ctx: ActionContext) -> str:
    return describe_caller(ctx.caller)


def iso(ms: int | None) -> str | None:
    """`2026-11-29T05:00:00Z`, or None for no time."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_values(p: Params, name: str) -> list[str]:
    """A list parameter whose items may also be comma-separated."""
    return [v.strip() for item in p.list(name) for v in item.split(",") if v.strip()]
