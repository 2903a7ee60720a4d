"""Silences (an alert a live silence matches opens without a notification): CreateSilence,
DescribeSilences, DeleteSilence."""

from __future__ import annotations

from palisade.auditor.alerts.lifecycle import Silence, to_ms
from palisade.auditor.api.actions.sas.alert_params import (
    account_param,
    comment_param,
    end_time,
    positive_id,
    time_param,
)
from palisade.auditor.api.actions.sas.alert_repository import alert_repository, audit_info
from palisade.auditor.api.actions.sas.common import SERVICE, actor, iso, resource
from palisade.auditor.api.params import Params, invalid, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.checks.taxonomy import SEVERITIES


def silence_view(s: Silence) -> dict:
    return {
        "SilenceId": s.id,
        "AccountId": s.account_id,
        "CheckId": s.check_id,
        "InstanceId": s.instance_id,
        "Subject": s.subject,
        "Category": s.category,
        "Level": s.severity,
        "StartTime": iso(s.starts_at_ms),
        "EndTime": iso(s.ends_at_ms),
        "CreatedBy": s.created_by,
        "CreationTime": iso(s.created_at_ms),
        "Comment": s.comment,
    }


@action(
    "CreateSilence",
    service=SERVICE,
    writes="alerts",  # its own tables, not the cloud state
    resources=resource("silence"),
    params=(
        "AccountId",
        "CheckId",
        "InstanceId",
        "Subject",
        "Category",
        "Level",
        "StartTime",
        "EndTime",
        "Duration",
        "Comment",
    ),
)
def create_silence(ctx: ActionContext, p: Params) -> dict:
    start = time_param(p, "StartTime") or ctx.now
    end = end_time(p, start, required=True)
    assert end is not None
    if end <= ctx.now:
        raise invalid("EndTime", "the silence would already be over")
    level = p.str("Level")
    if level is not None and level not in SEVERITIES:
        raise invalid("Level", f"{level[:32]!r} is not one of {', '.join(SEVERITIES)}")
    silence = Silence(
        id=None,
        account_id=account_param(ctx, p),
        starts_at_ms=to_ms(start),
        ends_at_ms=to_ms(end),
        created_by=actor(ctx),
        comment=comment_param(p, True),
        created_at_ms=to_ms(ctx.now),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        subject=p.str("Subject"),
        category=p.str("Category"),
        severity=level,
    )
    saved = alert_repository(ctx).create_silence(silence, audit_info(ctx, "CreateSilence"))
    return {"SilenceId": saved.id, "Silence": silence_view(saved)}


@action(
    "DescribeSilences",
    service=SERVICE,
    writes=False,
    resources=resource("silence"),
    params=("Active", "PageNumber", "PageSize"),
)
def describe_silences(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=50, max_size=500)
    found = alert_repository(ctx).silences(active_at=ctx.now if p.bool("Active") else None)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Silences": {"Silence": [silence_view(s) for s in paginate(found, number, size)]},
    }


@action(
    "DeleteSilence",
    service=SERVICE,
    writes="alerts",  # its own tables, not the cloud state
    resources=resource("silence", "SilenceId"),
    params=("SilenceId",),
)
def delete_silence(ctx: ActionContext, p: Params) -> dict:
    alert_repository(ctx).delete_silence(
        positive_id(p, "SilenceId"), audit_info(ctx, "DeleteSilence")
    )
    return {}
