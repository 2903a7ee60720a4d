"""The account's notification window (when email and SMS hook messages go out):
ModifyNotificationWindow, DescribeNotificationWindow; and how its notifications are grouped
(Alertmanager's group_wait and group_interval): ModifyNotificationGrouping,
DescribeNotificationGrouping."""

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
from palisade.auditor.notify.models import NotificationGrouping, NotificationWindow


def _window_view(win: NotificationWindow) -> dict:
    return {"Start": win.start, "End": win.end, "TimeZone": win.time_zone}


@action(
    "ModifyNotificationWindow",
    service=SERVICE,
    writes="notifications",  # its own tables, not the cloud state
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


def _grouping_view(g: NotificationGrouping) -> dict:
    return {"GroupWait": g.group_wait_s, "GroupInterval": g.group_interval_s}


@action(
    "ModifyNotificationGrouping",
    service=SERVICE,
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("notification-window"),
    params=("GroupWait", "GroupInterval"),
)
def modify_notification_grouping(ctx: ActionContext, p: Params) -> dict:
    """The alerts of one instance and source are one group: its first message waits
    GroupWait seconds for the rest of it (a brute force, then its success), later ones wait
    until GroupInterval seconds after the group's previous message. 0..86400; a parameter
    not given keeps its value."""
    limit = NotificationGrouping.MAX_S
    with write_transaction(ctx) as conn:
        old = settings_repository.grouping(conn, ctx.account_id)
        new = NotificationGrouping(
            p.int("GroupWait", old.group_wait_s, minimum=0, maximum=limit) or 0,
            p.int("GroupInterval", old.group_interval_s, minimum=0, maximum=limit) or 0,
        )
        settings_repository.save_grouping(conn, ctx.account_id, new, now_ms(ctx))
        record_audit(
            conn,
            ctx,
            "ModifyNotificationGrouping",
            "notification-window/*",
            _grouping_view(old),
            _grouping_view(new),
        )
    return _grouping_view(new)


@action(
    "DescribeNotificationGrouping",
    service=SERVICE,
    writes=False,
    resources=resource("notification-window"),
)
def describe_notification_grouping(ctx: ActionContext, p: Params) -> dict:
    with read_connection(ctx) as conn:
        return _grouping_view(settings_repository.grouping(conn, ctx.account_id))
