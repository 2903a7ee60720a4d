"""The notification pages: channels, subscriptions and the quiet window, and the inbox.
They run the API actions themselves, so RAM decides exactly as it does for `palisade api`."""

from __future__ import annotations

from palisade.auditor.web.pages.common import (
    PAGE_SIZE,
    api_or_forbidden,
    message_query,
    page_number,
)
from palisade.auditor.web.pages.router import page


@page("GET", "/notifications")
def notifications(p):
    channels = api_or_forbidden(p, "DescribeNotificationChannels")
    subs = api_or_forbidden(p, "DescribeSubscriptions")
    window = api_or_forbidden(p, "DescribeNotificationWindow")
    return p.app.render(
        "notifications.html",
        p,
        p.lang,
        channels=channels.get("Channels", {}).get("Channel", []),
        subscriptions=subs.get("Subscriptions", {}).get("Subscription", []),
        window=window,
        message=p.params.get("message", ""),
    )


@page("POST", "/notifications/window")
def notification_window(p):
    ok, body = p.call(
        "ModifyNotificationWindow",
        Start=p.form.get("start", ""),
        End=p.form.get("end", ""),
        TimeZone=p.form.get("tz", ""),
    )
    message = "Saved." if ok else f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect("/ui/notifications?message=" + message_query(message))


@page("GET", "/inbox")
def inbox(p):
    number = page_number(p)
    body = api_or_forbidden(p, "DescribeInbox", PageNumber=str(number), PageSize=str(PAGE_SIZE))
    rows = body.get("Messages", {}).get("Message", [])
    total = int(body.get("TotalCount", len(rows)))
    return p.app.render(
        "inbox.html",
        p,
        p.lang,
        rows=rows,
        number=number,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@page("POST", "/inbox/read")
def inbox_read(p):
    p.call("MarkInboxRead", All="true")
    return p.app.redirect("/ui/inbox")
