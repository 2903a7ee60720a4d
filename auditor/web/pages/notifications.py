"""The notification pages: channels, subscriptions and the quiet window, and the inbox.
They run the API actions themselves, so RAM decides exactly as it does for `palisade api`."""

from __future__ import annotations

from palisade.auditor.notify.models import CATEGORIES, LEVELS
from palisade.auditor.web.pages.common import (
    PAGE_SIZE,
    api_or_forbidden,
    message_query,
    page_number,
    run_form,
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
        categories=CATEGORIES,
        levels=LEVELS,
        can_create_channel=p.can("sas:CreateNotificationChannel", _arn(p, "notification-channel")),
        can_delete_channel=p.can("sas:DeleteNotificationChannel", _arn(p, "notification-channel")),
        can_subscribe=p.can("sas:CreateSubscription", _arn(p, "subscription")),
        can_unsubscribe=p.can("sas:DeleteSubscription", _arn(p, "subscription")),
        message=p.params.get("message", ""),
    )


def _arn(p, kind: str) -> str:
    return p.arn("sas", "*", f"{kind}/*")


BACK = "/ui/notifications"
_EMAIL_FIELDS = {
    "smtp_host": "SmtpHost",
    "smtp_port": "SmtpPort",
    "security": "Security",
    "username": "Username",
    "password": "Password",
    "sender": "From",
    "recipients": "To",
}


@page("POST", "/notifications/channels")
def create_channel(p):
    f = p.form
    kind = f.get("kind", "")
    params = {"Kind": kind, "Name": f.get("name", ""), "MaxPerHour": f.get("max_per_hour") or None}
    if kind == "email":
        params.update({api: f.get(field) or None for field, api in _EMAIL_FIELDS.items()})
    elif kind == "sms_hook":
        params["Url"] = f.get("url", "")
    return run_form(p, BACK, "Channel created.", "CreateNotificationChannel", **params)


@page("POST", "/notifications/channels/([A-Za-z0-9._-]{1,64})/delete")
def delete_channel(p, channel_id: str):
    return run_form(
        p, BACK, f"Channel {channel_id} deleted.", "DeleteNotificationChannel", ChannelId=channel_id
    )


@page("POST", "/notifications/subscriptions")
def create_subscription(p):
    levels = [lv for lv in LEVELS if p.form.get(f"level_{lv}")]
    return run_form(
        p,
        BACK,
        "Subscribed.",
        "CreateSubscription",
        Category=p.form.get("category", ""),
        Levels=",".join(levels) or None,
        ChannelIds=p.form.get("channel", ""),
    )


@page("POST", "/notifications/subscriptions/([A-Za-z0-9._-]{1,64})/delete")
def delete_subscription(p, subscription_id: str):
    return run_form(
        p,
        BACK,
        f"Subscription {subscription_id} deleted.",
        "DeleteSubscription",
        SubscriptionId=subscription_id,
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
