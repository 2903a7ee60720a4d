"""The whitelist (a finding a live entry matches raises no alert): CreateWhitelistEntry,
DescribeWhitelist, DeleteWhitelistEntry."""

from __future__ import annotations

from palisade.auditor.alerts.lifecycle import WHITELIST_KINDS, WhitelistEntry, to_ms
from palisade.auditor.api.actions.sas.alert_params import (
    account_param,
    comment_param,
    end_time,
    positive_id,
)
from palisade.auditor.api.actions.sas.alert_repository import alert_repository, audit_info
from palisade.auditor.api.actions.sas.common import SERVICE, actor, iso, resource
from palisade.auditor.api.params import Params, invalid, paginate
from palisade.auditor.api.registry import ActionContext, action


def whitelist_view(w: WhitelistEntry) -> dict:
    return {
        "WhitelistEntryId": w.id,
        "AccountId": w.account_id,
        "Kind": w.kind,
        "Value": w.value,
        "CheckId": w.check_id,
        "InstanceId": w.instance_id,
        "Category": w.category,
        "EndTime": iso(w.expires_at_ms),
        "CreatedBy": w.created_by,
        "CreationTime": iso(w.created_at_ms),
        "Comment": w.comment,
    }


@action(
    "CreateWhitelistEntry",
    service=SERVICE,
    writes="whitelist",  # its own tables, not the cloud state
    resources=resource("whitelist"),
    params=(
        "AccountId",
        "Kind",
        "Value",
        "CheckId",
        "InstanceId",
        "Category",
        "EndTime",
        "Duration",
        "Comment",
    ),
)
def create_whitelist_entry(ctx: ActionContext, p: Params) -> dict:
    kind = p.req("Kind")
    if kind not in WHITELIST_KINDS:
        raise invalid("Kind", f"{kind[:32]!r} is not one of {', '.join(WHITELIST_KINDS)}")
    end = end_time(p, ctx.now, required=False)
    if end is not None and end <= ctx.now:
        raise invalid("EndTime", "the entry would already be over")
    entry = WhitelistEntry(
        id=None,
        account_id=account_param(ctx, p),
        kind=kind,
        value=p.req("Value"),
        created_by=actor(ctx),
        comment=comment_param(p, True),
        created_at_ms=to_ms(ctx.now),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        category=p.str("Category"),
        expires_at_ms=None if end is None else to_ms(end),
    )
    saved = alert_repository(ctx).add_whitelist_entry(
        entry, audit_info(ctx, "CreateWhitelistEntry")
    )
    return {"WhitelistEntryId": saved.id, "WhitelistEntry": whitelist_view(saved)}


@action(
    "DescribeWhitelist",
    service=SERVICE,
    writes=False,
    resources=resource("whitelist"),
    params=("Active", "PageNumber", "PageSize"),
)
def describe_whitelist(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=50, max_size=500)
    found = alert_repository(ctx).whitelist(active_at=ctx.now if p.bool("Active") else None)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "WhitelistEntries": {
            "WhitelistEntry": [whitelist_view(w) for w in paginate(found, number, size)]
        },
    }


@action(
    "DeleteWhitelistEntry",
    service=SERVICE,
    writes="whitelist",  # its own tables, not the cloud state
    resources=resource("whitelist", "WhitelistEntryId"),
    params=("WhitelistEntryId",),
)
def delete_whitelist_entry(ctx: ActionContext, p: Params) -> dict:
    alert_repository(ctx).delete_whitelist_entry(
        positive_id(p, "WhitelistEntryId"), audit_info(ctx, "DeleteWhitelistEntry")
    )
    return {}
