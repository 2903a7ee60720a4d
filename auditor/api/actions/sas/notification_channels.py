"""Notification channels (email, SMS hook, per-user inbox; the account inbox is built in and
always on) and their hourly caps: CreateNotificationChannel, DescribeNotificationChannels,
ModifyNotificationChannel, DeleteNotificationChannel, ModifyNotificationCap.

Secrets (the SMTP password, the hook's secret header value, a CA bundle) are write-only:
no response and no audit row carries them, only whether each is set.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from palisade.auditor.api.actions.sas.common import SERVICE, iso, resource
from palisade.auditor.api.actions.sas.notification_database import (
    now_ms,
    read_connection,
    record_audit,
    write_transaction,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import hook_targets, settings_repository, templates
from palisade.auditor.notify.models import (
    ACCOUNT_INBOX,
    Channel,
    EmailConfig,
    InboxConfig,
    SmsHookConfig,
)

MAX_CAP = 100_000

_EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")  # an HTTP token
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")
_NAME_MAX = 128

_EMAIL_PARAMS = ("SmtpHost", "SmtpPort", "Security", "Username", "Password", "From", "To", "CaPem")
_HOOK_PARAMS = ("Url", "SecretHeaderName", "SecretHeaderValue", "BodyTemplate")
_CHANNEL_PARAMS = ("Name", "MaxPerHour", "UserName") + _EMAIL_PARAMS + _HOOK_PARAMS


def _channel_view(channel: Channel) -> dict:
    config = settings_repository.public_config(channel.config)
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
        try:
            hook_targets.parse(_no_crlf("Url", url))
        except hook_targets.HookUrlError as exc:
            raise invalid("Url", exc.message) from None
        out["url"] = url
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


def _check_hook_destination(ctx: ActionContext, changes: dict[str, Any]) -> None:
    """A new hook URL must reach only public addresses, unless the auditor allows its host
    (`palisade serve --allow-hook-host`). A name that does not resolve yet is accepted: the
    transport checks again before every send."""
    if "url" not in changes:
        return
    policy = ctx.services.get("hook_policy") or hook_targets.HookPolicy()
    try:
        policy.check(changes["url"], require_resolution=False)
    except hook_targets.HookUrlError as exc:
        raise ApiError(
            f"InvalidParameter.{exc.field}", f"The parameter Url is refused: {exc.message}"
        ) from None


def _cap(p: Params) -> int | None:
    """MaxPerHour: 1..100000; 0 removes the cap. Absent: unchanged (None)."""
    return p.int("MaxPerHour", minimum=0, maximum=MAX_CAP)


def get_channel(conn: Connection, ctx: ActionContext, channel_id: str) -> Channel:
    found = settings_repository.channel(conn, ctx.account_id, channel_id)
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
    writes="notifications",  # its own tables, not the cloud state
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
    _check_hook_destination(ctx, changes)
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
        settings_repository.new_id("nc"), ctx.account_id, name or "", kind, config, cap, now_ms(ctx)
    )
    with write_transaction(ctx) as conn:
        settings_repository.add_channel(conn, channel, now_ms(ctx))
        view = _channel_view(channel)
        record_audit(
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
    with read_connection(ctx) as conn:
        found = settings_repository.channels(conn, ctx.account_id)
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
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId",) + _CHANNEL_PARAMS,
)
def modify_notification_channel(ctx: ActionContext, p: Params) -> dict:
    channel_id = p.req("ChannelId")
    if channel_id == ACCOUNT_INBOX:
        raise ApiError("OperationDenied.BuiltIn", "the account inbox cannot be changed")
    with write_transaction(ctx) as conn:
        old = get_channel(conn, ctx, channel_id)
        _refuse_other_kinds_params(p, old.kind)
        name = _name(p, required=False)
        changes = _CHANGES[old.kind](p)
        _check_hook_destination(ctx, changes)
        config = settings_repository.merge_config(old.config, changes)
        _check_complete(config)
        cap = _cap(p)
        new = replace(
            old,
            name=name if name is not None else old.name,
            config=config,
            max_per_hour=old.max_per_hour if cap is None else (cap or None),
        )
        settings_repository.save_channel(conn, new, now_ms(ctx))
        record_audit(
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
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId",),
)
def delete_notification_channel(ctx: ActionContext, p: Params) -> dict:
    """Subscriptions stop naming it; its queued notifications fail ("channel deleted")."""
    channel_id = p.req("ChannelId")
    if channel_id == ACCOUNT_INBOX:
        raise ApiError("OperationDenied.BuiltIn", "the account inbox is always on")
    with write_transaction(ctx) as conn:
        old = get_channel(conn, ctx, channel_id)
        settings_repository.remove_channel(conn, ctx.account_id, channel_id)
        for sub in settings_repository.subscriptions(conn, ctx.account_id):
            if channel_id in sub.channel_ids:
                settings_repository.remove_subscription(conn, ctx.account_id, sub.subscription_id)
                rest = tuple(c for c in sub.channel_ids if c != channel_id)
                if rest:
                    settings_repository.add_subscription(
                        conn, replace(sub, channel_ids=rest), sub.created_at_ms
                    )
        record_audit(
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
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("notification-channel", "ChannelId"),
    params=("ChannelId", "MaxPerHour"),
)
def modify_notification_cap(ctx: ActionContext, p: Params) -> dict:
    """At most MaxPerHour messages an hour on the channel (0: no cap); the rest are held
    and sent as one digest when the hour allows."""
    channel_id = p.req("ChannelId")
    cap = p.int("MaxPerHour", minimum=0, maximum=MAX_CAP, required=True)
    with write_transaction(ctx) as conn:
        old = get_channel(conn, ctx, channel_id)
        if not old.paced:
            raise ApiError("OperationDenied.Inbox", "the inbox takes every message; it has no cap")
        new = replace(old, max_per_hour=cap or None)
        settings_repository.save_channel(conn, new, now_ms(ctx))
        record_audit(
            conn,
            ctx,
            "ModifyNotificationCap",
            f"notification-channel/{channel_id}",
            {"MaxPerHour": old.max_per_hour or 0},
            {"MaxPerHour": cap},
        )
    return {}
