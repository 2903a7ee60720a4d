"""The in-site inbox: DescribeInbox, MarkInboxRead. A RAM user reads the account-wide inbox
and its own."""

from __future__ import annotations

from palisade.auditor.api.actions.sas.common import SERVICE, iso, list_values, resource
from palisade.auditor.api.actions.sas.notification_database import (
    now_ms,
    read_connection,
    write_transaction,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import inbox


def _inbox_user(ctx: ActionContext) -> str:
    """Whose inbox the caller reads: the account-wide one, and a RAM user's own."""
    return "" if ctx.caller.kind == "root" else ctx.caller.name


@action(
    "DescribeInbox",
    service=SERVICE,
    writes=False,
    resources=resource("inbox"),
    params=("Unread", "PageNumber", "PageSize"),
)
def describe_inbox(ctx: ActionContext, p: Params) -> dict:
    unread_only = p.bool("Unread")
    number, size = p.page(default_size=20, max_size=100)
    with read_connection(ctx) as conn:
        total, unread, page = inbox.messages(
            conn, ctx.account_id, _inbox_user(ctx), unread_only, (number - 1) * size, size
        )
    return {
        "Messages": {
            "Message": [
                {
                    "MessageId": m.message_id,
                    "Title": m.title,
                    "Content": m.content,
                    "Level": m.level,
                    "Category": m.category,
                    "InstanceId": m.instance_id,
                    "AlertIds": list(m.alert_ids),
                    "Scope": "user" if m.user_name else "account",
                    "Read": m.read,
                    "CreationTime": iso(m.created_at_ms),
                }
                for m in page
            ]
        },
        "TotalCount": total,
        "UnreadCount": unread,
        "PageNumber": number,
        "PageSize": size,
    }


@action(
    "MarkInboxRead",
    service=SERVICE,
    writes="inbox",  # its own tables, not the cloud state
    resources=resource("inbox"),
    params=("MessageIds", "All"),
)
def mark_inbox_read(ctx: ActionContext, p: Params) -> dict:
    everything = p.bool("All")
    ids: list[int] | None = None
    if not everything:
        raw = list_values(p, "MessageIds")
        if not raw:
            raise ApiError("MissingParameter", "give MessageIds, or All=true")
        if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in raw):
            raise invalid("MessageIds", "message ids are integers")
        ids = [int(v) for v in raw]
    with write_transaction(ctx) as conn:
        changed = inbox.mark_read(conn, ctx.account_id, _inbox_user(ctx), ids, now_ms(ctx))
    return {"MarkedCount": changed}
