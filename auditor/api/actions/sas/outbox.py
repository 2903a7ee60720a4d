"""The outbox, for operators: DescribeOutbox (queued, sent and failed notifications)."""

from __future__ import annotations

import json

from palisade.auditor.api.actions.sas.common import SERVICE, iso, resource
from palisade.auditor.api.actions.sas.notification_database import read_connection
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import outbox


@action(
    "DescribeOutbox",
    service=SERVICE,
    writes=False,
    resources=resource("outbox"),
    params=("State", "PageNumber", "PageSize"),
)
def describe_outbox(ctx: ActionContext, p: Params) -> dict:
    state = p.str("State")
    if state is not None and state not in outbox.STATES:
        raise invalid("State", f"one of {', '.join(outbox.STATES)}")
    number, size = p.page(default_size=50, max_size=100)
    with read_connection(ctx) as conn:
        total, rows = outbox.describe(conn, ctx.account_id, state, (number - 1) * size, size)
    items = []
    for r in rows:
        payload = json.loads(r["payload"])
        items.append(
            {
                "Id": r["id"],
                "AlertId": r["alert_id"],
                "ChannelId": r["channel_id"],
                "State": r["state"],
                "Attempts": r["attempts"],
                "Level": payload.get("level", ""),
                "Title": payload.get("title", ""),
                "InstanceId": payload.get("instance_id", ""),
                "NextAttemptTime": iso(r["next_attempt_at_ms"]),
                "LastError": r["last_error"] or "",
                "DropReason": r["drop_reason"] or "",
                "ReportedIn": r["delivery_id"] or "" if r["state"] == outbox.DROPPED else "",
                "CreationTime": iso(r["created_at_ms"]),
                "SentTime": iso(r["sent_at_ms"]),
            }
        )
    return {
        "Notifications": {"Notification": items},
        "TotalCount": total,
        "PageNumber": number,
        "PageSize": size,
    }
