"""The account's notification window (when email and SMS hook messages go out):
ModifyNotificationWindow, DescribeNotificationWindow."""

from __future__ import annotations

from palisade.auditor.api.actions.sas.common import SERVICE, resource
from palisade.auditor.api.actions.sas.notification_database import (
    now_ms,
    read_connection,
    record_audit,
    write_transaction,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import settings_repository, window
from palisade.auditor.notify.models import NotificationWindow


def _window_view(win: NotificationWindow) -> dict:
    return {"Start": win.start, "End": win.end, "TimeZone": win.time_zone}


@action(
    "ModifyNotificationWindow",
    service=SERVICE,
    writes=False,
    resources=resource("notification-window"),
    params=("Start", "End", "TimeZone"),
)
def modify_notification_window(ctx: ActionContext, p: Params) -> dict:
    """Email and SMS hook messages go out between Start and End (HH:MM, local to TimeZone,
    an IANA name); the rest are held and sent as one digest per channel when it opens.
    Start == End: all day. The inbox is never held."""
    win = NotificationWindow(p.req("Start"), p.req("End"), p.req("TimeZone"))
    try:
        window.validate(win)
    except ValueError as exc:
        raise ApiError("InvalidParameter", str(exc)) from None
    with write_transaction(ctx) as conn:
        old = settings_repository.window(conn, ctx.account_id)
        settings_repository.save_window(conn, ctx.account_id, win, now_ms(ctx))
        record_audit(
            conn,
            ctx,
            "ModifyNotificationWindow",
            "notification-window/*",
            _window_view(old),
            _window_view(win),
        )
    return {}


@action(
    "DescribeNotificationWindow",
    service=SERVICE,
    writes=False,
    resources=resource("notification-window"),
)
def describe_notification_window(ctx: ActionContext, p: Params) -> dict:
    with read_connection(ctx) as conn:
        win = settings_repository.window(conn, ctx.account_id)
    return {**_window_view(win), "OpenNow": window.is_open(win, ctx.now)}
