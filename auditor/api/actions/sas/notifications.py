"""Notification settings, the in-site inbox and the outbox: Security Center ("sas") style.

Channels (email, SMS hook, per-user inbox; the account inbox is built in and always on),
subscriptions (category + levels -> channels), the account's time window, per-channel
hourly caps; DescribeInbox / MarkInboxRead; DescribeOutbox for operators.

Secrets (the SMTP password, the hook's secret header value, a CA bundle) are write-only:
no response and no audit row carries them, only whether each is set.

Like the alert actions, these change their own tables, not the cloud state document, so
they are declared `writes=False` and write their audit row in the same transaction as the
change (the pipeline would otherwise replay them after a state conflict).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from palisade.auditor.api.actions.sas.common import SERVICE, actor, arn, iso, resource
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import inbox, outbox, templates, window
from palisade.auditor.notify import settings_repository as settings_store
from palisade.auditor.notify.models import (
    ACCOUNT_INBOX,
    CATEGORIES,
    LEVELS,
    Channel,
    EmailConfig,
    InboxConfig,
    NotificationWindow,
    SmsHookConfig,
    Subscription,
)
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

MAX_CAP = 100_000

_EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")  # an HTTP token
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")
_NAME_MAX = 128

_EMAIL_PARAMS = ("SmtpHost", "SmtpPort", "Security", "Username", "Password", "From", "To", "CaPem")
_HOOK_PARAMS = ("Url", "SecretHeaderName", "SecretHeaderValue", "BodyTemplate")
_CHANNEL_PARAMS = ("Name", "MaxPerHour", "UserName") + _EMAIL_PARAMS + _HOOK_PARAMS


# -- plumbing -----------------------------------------------------------------------------------


def _store(ctx: ActionContext) -> Database:
    store = ctx.services.get("store")
    if store is None:
        raise ApiError("ServiceUnavailable", "the notification store is not available", 503)
    return store


@contextmanager
def _writing(ctx: ActionContext) -> Iterator[Connection]:
    store = _store(ctx)
    with store.write_transaction() as conn:
        yield conn


def _reading(ctx: ActionContext):
    return _store(ctx).engine.connect()


def _now_ms(ctx: ActionContext) -> int:
    return int(ctx.now.timestamp() * 1000)


def _audit(
    conn: Connection, ctx: ActionContext, action_name: str, resource: str, before, after
) -> None:
    conn.execute(
        insert(schema.audit_log).values(
            at_ms=_now_ms(ctx),
            request_id=ctx.request_id,
            actor=actor(ctx),
            source_ip=ctx.source_ip,
            action=action_name,
            resource=arn(ctx, resource),
            before=None if before is None else json.dumps(before, sort_keys=True),
            after=None if after is None else json.dumps(after, sort_keys=True),
        )
    )


def _inbox_user(ctx: ActionContext) -> str:
    """Whose inbox the caller reads: the account-wide one, and a RAM user's own."""
    return "" if ctx.caller.kind == "root" else ctx.caller.name


# -- channels ------------------------------------------------------------------------------------


def _channel_view(channel: Channel) -> dict:
    config = settings_store.public_config(channel.config)
    return {
        "ChannelId": channel.channel_id,
        "Name": channel.name,
        "Kind": channel.kind,
        "MaxPerHour": channel.max_per_hour or 0,
        "Config": {_pascal(k): v for k, v in config.items()},
        "CreationTime": iso(channel.created_at_ms),
    }


def _pascal(name: str) -> str:
    special = {"sender": "From", "recipients": "To", "timeout_s": "TimeoutSeconds"}
    if name in special:
        return special[name]
    return "".join(part.capitalize() for part in name.split("_"))


def _name(p: Params, required: bool) -> str | None:
    name = p.str("Name", required=required)
    if name is not None and (len(name) > _NAME_MAX or not name.strip()):
        raise invalid("Name", f"1..{_NAME_MAX} characters")
    return name


def _no_crlf(name: str, value: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise invalid(name, "must not contain line breaks")
    return value


def _email_changes(p: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if (host := p.str("SmtpHost")) is not None:
        if not _HOST.fullmatch(host):
            raise invalid("SmtpHost", f"{host[:64]!r} is not a host name or address")
        out["host"] = host
    if (port := p.int("SmtpPort", minimum=1, maximum=65535)) is not None:
        out["port"] = port
    if (security := p.str("Security")) is not None:
        if security not in ("starttls", "tls", "none"):
            raise invalid("Security", "one of starttls, tls, none")
        out["security"] = security
    if (user := p.str("Username")) is not None:
        out["username"] = _no_crlf("Username", user)
    if (password := p.str("Password")) is not None:
        out["password"] = _no_crlf("Password", password)
    if (sender := p.str("From")) is not None:
        if not _EMAIL.fullmatch(sender):
            raise invalid("From", f"{sender[:64]!r} is not an email address")
        out["sender"] = sender
    recipients = [r.strip() for item in p.list("To", max_items=50) for r in item.split(",")]
    recipients = [r for r in recipients if r]
    if recipients:
        for r in recipients:
            if not _EMAIL.fullmatch(r):
                raise invalid("To", f"{r[:64]!r} is not an email address")
        out["recipients"] = tuple(dict.fromkeys(recipients))
    if (ca := p.str("CaPem")) is not None:
        if "-----BEGIN CERTIFICATE-----" not in ca:
            raise invalid("CaPem", "not a PEM certificate")
        out["ca_pem"] = ca
    return out


def _hook_changes(p: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if (url := p.str("Url")) is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid("Url", "an http:// or https:// URL")
        out["url"] = _no_crlf("Url", url)
    if (name := p.str("SecretHeaderName")) is not None:
        if not _HEADER_NAME.fullmatch(name):
            raise invalid("SecretHeaderName", "an HTTP header name")
        out["secret_header"] = name
    if (value := p.str("SecretHeaderValue")) is not None:
        out["secret_value"] = _no_crlf("SecretHeaderValue", value)
    if (template := p.str("BodyTemplate")) is not None:
        try:
            templates.validate(template)
        except templates.TemplateError as exc:
            raise invalid("BodyTemplate", str(exc)) from None
        out["body_template"] = template
    return out


def _inbox_changes(p: Params) -> dict[str, Any]:
    user = p.str("UserName")
    return {} if user is None else {"user_name": user[:128]}


_CHANGES = {"email": _email_changes, "sms_hook": _hook_changes, "inbox": _inbox_changes}
_KIND_PARAMS = {"email": _EMAIL_PARAMS, "sms_hook": _HOOK_PARAMS, "inbox": ("UserName",)}


def _refuse_other_kinds_params(p: Params, kind: str) -> None:
    mine = set(_KIND_PARAMS[kind])
    stray = [
        name
        for other, names in _KIND_PARAMS.items()
        if other != kind
        for name in names
        if name not in mine and any(k == name or k.startswith(name + ".") for k in p.raw)
    ]
    if stray:
        raise ApiError("InvalidParameter", f"a {kind} channel does not take {', '.join(stray)}")


def _check_complete(config) -> None:
    if isinstance(config, EmailConfig):
        if not config.sender or not config.recipients:
            raise ApiError("MissingParameter", "an email channel needs From and To")
        if bool(config.username) != bool(config.password):
            raise ApiError("InvalidParameter", "give Username and Password together")
    if isinstance(config, SmsHookConfig) and bool(config.secret_header) != bool(
        config.secret_value
    ):
        raise ApiError("InvalidParameter", "give SecretHeaderName and SecretHeaderValue together")


def _cap(p: Params) -> int | None:
    """MaxPerHour: 1..100000; 0 removes the cap. Absent: unchanged (None)."""
    return p.int("MaxPerHour", minimum=0, maximum=MAX_CAP)


def _get_channel(conn: Connection, ctx: ActionContext, channel_id: str) -> Channel:
    found = settings_store.channel(conn, ctx.account_id, channel_id)
    if found is None:
        raise ApiError(
            "InvalidChannelId.NotFound",
            f"the notification channel {channel_id[:64]} does not exist",
            404,
        )
    return found


@action(
    "CreateNotificationChannel",
    service=SERVICE,
    writes=False,  # its own tables, its own audit row (see the module docstring)
    resources=resource("notification-channel"),
    params=("Kind",) + _CHANNEL_PARAMS,
)
def create_notification_channel(ctx: ActionContext, p: Params) -> dict:
    kind = p.req("Kind")
    if kind not in _CHANGES:
        raise invalid("Kind", "one of email, sms_hook, inbox (the account inbox is built in)")
    _refuse_other_kinds_params(p, kind)
    name = _name(p, required=True)
    changes = _CHANGES[kind](p)
    if kind == "email":
        if "host" not in changes:
            raise ApiError("MissingParameter", "an email channel needs SmtpHost")
        config = EmailConfig(**changes)
    elif kind == "sms_hook":
        if "url" not in changes:
            raise ApiError("MissingParameter", "an SMS hook channel needs Url")
        config = SmsHookConfig(**changes)
    else:
        config = InboxConfig(**changes)
    _check_complete(config)
    cap = _cap(p) or None
    channel = Channel(
        settings_store.new_id("nc"), ctx.account_id, name or "", kind, config, cap, _now_ms(ctx)
    )
    with _writing(ctx) as conn:
        settings_store.add_channel(conn, channel, _now_ms(ctx))
        view = _channel_view(channel)
        _audit(
            conn,
            ctx,
            "CreateNotificationChannel",
            f"notification-channel/{channel.channel_id}",
            None,
            view,
        )
    return {"ChannelId": channel.channel_id}


@action(
    "DescribeNotificationChannels",
    service=SERVICE,
    writes=False,
    resources=resource("notification-channel"),
    params=("ChannelIds", "PageNumber", "PageSize"),
)
def describe_notification_channels(ctx: ActionContext, p: Params) -> dict:
    wanted = set(p.list("ChannelIds"))
    number, size = p.page(default_size=50, max_size=100)
    with _reading(ctx) as conn:
        found = settings_store.channels(conn, ctx.account_id)
    if wanted:
        found = [c for c in found if c.channel_id in wanted]
    page = found[(number - 1) * size : number * size]
    return {
        "Channels": {"Channel": [_channel_view(c) for c in page]},
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
    }


@action(
    "ModifyNotificationChannel",
    service=SERVICE,
    writes=False,
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId",) + _CHANNEL_PARAMS,
)
def modify_notification_channel(ctx: ActionContext, p: Params) -> dict:
    channel_id = p.req("ChannelId")
    if channel_id == ACCOUNT_INBOX:
        raise ApiError("OperationDenied.BuiltIn", "the account inbox cannot be changed")
    with _writing(ctx) as conn:
        old = _get_channel(conn, ctx, channel_id)
        _refuse_other_kinds_params(p, old.kind)
        name = _name(p, required=False)
        config = settings_store.merge_config(old.config, _CHANGES[old.kind](p))
        _check_complete(config)
        cap = _cap(p)
        new = replace(
            old,
            name=name if name is not None else old.name,
            config=config,
            max_per_hour=old.max_per_hour if cap is None else (cap or None),
        )
        settings_store.save_channel(conn, new, _now_ms(ctx))
        _audit(
            conn,
            ctx,
            "ModifyNotificationChannel",
            f"notification-channel/{channel_id}",
            _channel_view(old),
            _channel_view(new),
        )
    return {}


@action(
    "DeleteNotificationChannel",
    service=SERVICE,
    writes=False,
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId",),
)
def delete_notification_channel(ctx: ActionContext, p: Params) -> dict:
    """Subscriptions stop naming it; its queued notifications fail ("channel deleted")."""
    channel_id = p.req("ChannelId")
    if channel_id == ACCOUNT_INBOX:
        raise ApiError("OperationDenied.BuiltIn", "the account inbox is always on")
    with _writing(ctx) as conn:
        old = _get_channel(conn, ctx, channel_id)
        settings_store.remove_channel(conn, ctx.account_id, channel_id)
        for sub in settings_store.subscriptions(conn, ctx.account_id):
            if channel_id in sub.channel_ids:
                settings_store.remove_subscription(conn, ctx.account_id, sub.subscription_id)
                rest = tuple(c for c in sub.channel_ids if c != channel_id)
                if rest:
                    settings_store.add_subscription(
                        conn, replace(sub, channel_ids=rest), sub.created_at_ms
                    )
        _audit(
            conn,
            ctx,
            "DeleteNotificationChannel",
            f"notification-channel/{channel_id}",
            _channel_view(old),
            None,
        )
    return {}


@action(
    "ModifyNotificationCap",
    service=SERVICE,
    writes=False,
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId", "MaxPerHour"),
)
def modify_notification_cap(ctx: ActionContext, p: Params) -> dict:
    """At most MaxPerHour messages an hour on the channel (0: no cap); the rest are held
    and sent as one digest when the hour allows."""
    channel_id = p.req("ChannelId")
    cap = p.int("MaxPerHour", minimum=0, maximum=MAX_CAP, required=True)
    with _writing(ctx) as conn:
        old = _get_channel(conn, ctx, channel_id)
        if not old.paced:
            raise ApiError("OperationDenied.Inbox", "the inbox takes every message; it has no cap")
        new = replace(old, max_per_hour=cap or None)
        settings_store.save_channel(conn, new, _now_ms(ctx))
        _audit(
            conn,
            ctx,
            "ModifyNotificationCap",
            f"notification-channel/{channel_id}",
            {"MaxPerHour": old.max_per_hour or 0},
            {"MaxPerHour": cap},
        )
    return {}


# -- subscriptions -------------------------------------------------------------------------------


def _subscription_view(sub: Subscription) -> dict:
    return {
        "SubscriptionId": sub.subscription_id,
        "Category": sub.category,
        "Levels": [lv for lv in LEVELS if lv in sub.levels],
        "ChannelIds": list(sub.channel_ids),
        "CreationTime": iso(sub.created_at_ms),
    }


def _values(p: Params, name: str) -> list[str]:
    """A list parameter whose items may also be comma-separated."""
    return [v.strip() for item in p.list(name) for v in item.split(",") if v.strip()]


@action(
    "CreateSubscription",
    service=SERVICE,
    writes=False,
    resources=resource("subscription"),
    params=("Category", "Levels", "ChannelIds"),
)
def create_subscription(ctx: ActionContext, p: Params) -> dict:
    category = p.req("Category")
    if category not in CATEGORIES:
        raise invalid("Category", f"one of {', '.join(CATEGORIES)}")
    levels = _values(p, "Levels") or list(LEVELS)
    for level in levels:
        if level not in LEVELS:
            raise invalid("Levels", f"{level[:32]!r} is not one of {', '.join(LEVELS)}")
    channel_ids = list(dict.fromkeys(_values(p, "ChannelIds")))
    if not channel_ids:
        raise ApiError("MissingParameter", 'The input parameter "ChannelIds" is not supplied.')
    with _writing(ctx) as conn:
        for channel_id in channel_ids:
            _get_channel(conn, ctx, channel_id)
        sub = Subscription(
            settings_store.new_id("ns"),
            ctx.account_id,
            category,
            frozenset(levels),
            tuple(channel_ids),
            _now_ms(ctx),
        )
        settings_store.add_subscription(conn, sub, _now_ms(ctx))
        _audit(
            conn,
            ctx,
            "CreateSubscription",
            f"subscription/{sub.subscription_id}",
            None,
            _subscription_view(sub),
        )
    return {"SubscriptionId": sub.subscription_id}


@action(
    "DescribeSubscriptions",
    service=SERVICE,
    writes=False,
    resources=resource("subscription"),
    params=("Category", "PageNumber", "PageSize"),
)
def describe_subscriptions(ctx: ActionContext, p: Params) -> dict:
    category = p.str("Category")
    number, size = p.page(default_size=50, max_size=100)
    with _reading(ctx) as conn:
        found = settings_store.subscriptions(conn, ctx.account_id)
    if category:
        found = [s for s in found if s.category == category]
    page = found[(number - 1) * size : number * size]
    return {
        "Subscriptions": {"Subscription": [_subscription_view(s) for s in page]},
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
    }


@action(
    "DeleteSubscription",
    service=SERVICE,
    writes=False,
    resources=resource("subscription", "SubscriptionId"),
    params=("SubscriptionId",),
)
def delete_subscription(ctx: ActionContext, p: Params) -> dict:
    subscription_id = p.req("SubscriptionId")
    with _writing(ctx) as conn:
        old = next(
            (
                s
                for s in settings_store.subscriptions(conn, ctx.account_id)
                if s.subscription_id == subscription_id
            ),
            None,
        )
        if old is None:
            raise ApiError(
                "InvalidSubscriptionId.NotFound",
                f"the subscription {subscription_id[:64]} does not exist",
                404,
            )
        settings_store.remove_subscription(conn, ctx.account_id, subscription_id)
        _audit(
            conn,
            ctx,
            "DeleteSubscription",
            f"subscription/{subscription_id}",
            _subscription_view(old),
            None,
        )
    return {}


# -- the time window -----------------------------------------------------------------------------


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
    with _writing(ctx) as conn:
        old = settings_store.window(conn, ctx.account_id)
        settings_store.save_window(conn, ctx.account_id, win, _now_ms(ctx))
        _audit(
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
    with _reading(ctx) as conn:
        win = settings_store.window(conn, ctx.account_id)
    return {**_window_view(win), "OpenNow": window.is_open(win, ctx.now)}


# -- the inbox -----------------------------------------------------------------------------------


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
    with _reading(ctx) as conn:
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
    writes=False,
    resources=resource("inbox"),
    params=("MessageIds", "All"),
)
def mark_inbox_read(ctx: ActionContext, p: Params) -> dict:
    everything = p.bool("All")
    ids: list[int] | None = None
    if not everything:
        raw = _values(p, "MessageIds")
        if not raw:
            raise ApiError("MissingParameter", "give MessageIds, or All=true")
        if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in raw):
            raise invalid("MessageIds", "message ids are integers")
        ids = [int(v) for v in raw]
    with _writing(ctx) as conn:
        changed = inbox.mark_read(conn, ctx.account_id, _inbox_user(ctx), ids, _now_ms(ctx))
    return {"MarkedCount": changed}


# -- the outbox (operators) ----------------------------------------------------------------------


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
    with _reading(ctx) as conn:
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
