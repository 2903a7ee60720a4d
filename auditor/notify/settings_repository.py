"""Notification settings in the store: channels, subscriptions, the time window.

Functions take a SQLAlchemy connection, so an API action changes settings and writes its
audit rows in one transaction; `NotificationSettingsCache` is the dispatcher's settings source.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, fields, replace
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from palisade.auditor.notify.models import (
    ACCOUNT_INBOX,
    ALWAYS_OPEN,
    DEFAULT_GROUPING,
    Channel,
    ChannelConfig,
    EmailConfig,
    InboxConfig,
    NotificationGrouping,
    NotificationSettings,
    NotificationWindow,
    SmsHookConfig,
    Subscription,
)
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

_CONFIG_TYPES: dict[str, type] = {
    "email": EmailConfig,
    "sms_hook": SmsHookConfig,
    "inbox": InboxConfig,
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def account_inbox(account_id: str) -> Channel:
    return Channel(ACCOUNT_INBOX, account_id, "Inbox", "inbox", InboxConfig())


# -- config codec -------------------------------------------------------------------------


def config_to_json(config: ChannelConfig) -> str:
    data = asdict(config)
    if "recipients" in data:
        data["recipients"] = list(data["recipients"])
    return json.dumps(data, sort_keys=True)


def config_from_json(kind: str, text: str) -> ChannelConfig:
    cls = _CONFIG_TYPES[kind]
    data = json.loads(text)
    known = {f.name for f in fields(cls)}
    data = {k: v for k, v in data.items() if k in known}
    if "recipients" in data:
        data["recipients"] = tuple(data["recipients"])
    return cls(**data)


def public_config(config: ChannelConfig) -> dict[str, Any]:
    """The config without its secrets (only whether each is set)."""
    data = asdict(config)
    for name in type(config).SECRET_FIELDS:
        data[name + "_set"] = bool(data.pop(name))
    if "ca_pem" in data:
        data["ca_pem_set"] = bool(data.pop("ca_pem"))
    if "recipients" in data:
        data["recipients"] = list(data["recipients"])
    return data


def merge_config(old: ChannelConfig, changes: dict[str, Any]) -> ChannelConfig:
    """`old` with the given fields changed; a secret not given keeps its value."""
    return replace(old, **changes)


# -- channels -----------------------------------------------------------------------------


def _channel(row) -> Channel:
    return Channel(
        channel_id=row.channel_id,
        account_id=row.account_id,
        name=row.name,
        kind=row.kind,
        config=config_from_json(row.kind, row.config),
        max_per_hour=row.max_per_hour,
        created_at_ms=row.created_at_ms,
    )


def add_channel(conn: Connection, channel: Channel, now_ms: int) -> None:
    conn.execute(
        insert(schema.notify_channels).values(
            channel_id=channel.channel_id,
            account_id=channel.account_id,
            name=channel.name,
            kind=channel.kind,
            config=config_to_json(channel.config),
            max_per_hour=channel.max_per_hour,
            created_at_ms=now_ms,
            updated_at_ms=now_ms,
        )
    )


def save_channel(conn: Connection, channel: Channel, now_ms: int) -> None:
    c = schema.notify_channels
    conn.execute(
        update(c)
        .where(c.c.channel_id == channel.channel_id, c.c.account_id == channel.account_id)
        .values(
            name=channel.name,
            config=config_to_json(channel.config),
            max_per_hour=channel.max_per_hour,
            updated_at_ms=now_ms,
        )
    )


def remove_channel(conn: Connection, account_id: str, channel_id: str) -> None:
    c = schema.notify_channels
    conn.execute(delete(c).where(c.c.channel_id == channel_id, c.c.account_id == account_id))


def channels(conn: Connection, account_id: str) -> list[Channel]:
    c = schema.notify_channels
    rows = conn.execute(
        select(c).where(c.c.account_id == account_id).order_by(c.c.created_at_ms, c.c.channel_id)
    ).all()
    return [account_inbox(account_id)] + [_channel(r) for r in rows]


def channel(conn: Connection, account_id: str, channel_id: str) -> Channel | None:
    if channel_id == ACCOUNT_INBOX:
        return account_inbox(account_id)
    c = schema.notify_channels
    row = conn.execute(
        select(c).where(c.c.channel_id == channel_id, c.c.account_id == account_id)
    ).first()
    return _channel(row) if row else None


# -- subscriptions ------------------------------------------------------------------------


def _subscription(row) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        category=row.category,
        levels=frozenset(json.loads(row.levels)),
        channel_ids=tuple(json.loads(row.channel_ids)),
        created_at_ms=row.created_at_ms,
    )


def add_subscription(conn: Connection, sub: Subscription, now_ms: int) -> None:
    conn.execute(
        insert(schema.notify_subscriptions).values(
            subscription_id=sub.subscription_id,
            account_id=sub.account_id,
            category=sub.category,
            levels=json.dumps(sorted(sub.levels)),
            channel_ids=json.dumps(list(sub.channel_ids)),
            created_at_ms=now_ms,
        )
    )


def remove_subscription(conn: Connection, account_id: str, subscription_id: str) -> bool:
    s = schema.notify_subscriptions
    done = conn.execute(
        delete(s).where(s.c.subscription_id == subscription_id, s.c.account_id == account_id)
    )
    return done.rowcount == 1


def subscriptions(conn: Connection, account_id: str) -> list[Subscription]:
    s = schema.notify_subscriptions
    rows = conn.execute(
        select(s)
        .where(s.c.account_id == account_id)
        .order_by(s.c.created_at_ms, s.c.subscription_id)
    ).all()
    return [_subscription(r) for r in rows]


# -- window -------------------------------------------------------------------------------


def window(conn: Connection, account_id: str) -> NotificationWindow:
    w = schema.notify_windows
    row = conn.execute(select(w).where(w.c.account_id == account_id)).first()
    if row is None:
        return ALWAYS_OPEN
    return NotificationWindow(row.start, row.end, row.time_zone)


def save_window(conn: Connection, account_id: str, win: NotificationWindow, now_ms: int) -> None:
    w = schema.notify_windows
    values = {
        "start": win.start,
        "end": win.end,
        "time_zone": win.time_zone,
        "updated_at_ms": now_ms,
    }
    done = conn.execute(update(w).where(w.c.account_id == account_id).values(**values))
    if done.rowcount == 0:
        conn.execute(insert(w).values(account_id=account_id, **values))


# -- grouping -------------------------------------------------------------------------------


def grouping(conn: Connection, account_id: str) -> NotificationGrouping:
    g = schema.notify_grouping
    row = conn.execute(select(g).where(g.c.account_id == account_id)).first()
    if row is None:
        return DEFAULT_GROUPING
    return NotificationGrouping(row.group_wait_s, row.group_interval_s)


def save_grouping(
    conn: Connection, account_id: str, value: NotificationGrouping, now_ms: int
) -> None:
    g = schema.notify_grouping
    values = {
        "group_wait_s": value.group_wait_s,
        "group_interval_s": value.group_interval_s,
        "updated_at_ms": now_ms,
    }
    done = conn.execute(update(g).where(g.c.account_id == account_id).values(**values))
    if done.rowcount == 0:
        conn.execute(insert(g).values(account_id=account_id, **values))


# -- the whole -----------------------------------------------------------------------------


def load(conn: Connection, account_id: str) -> NotificationSettings:
    return NotificationSettings(
        account_id=account_id,
        channels={c.channel_id: c for c in channels(conn, account_id)},
        subscriptions=tuple(subscriptions(conn, account_id)),
        window=window(conn, account_id),
        grouping=grouping(conn, account_id),
    )


class NotificationSettingsCache:
    """The dispatcher's settings source: reads the settings tables, cached briefly (a
    change made on any replica applies within `ttl_s`)."""

    def __init__(self, store: Database, ttl_s: float = 2.0):
        self.store = store
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, NotificationSettings]] = {}

    def settings(self, account_id: str, fresh: bool = False) -> NotificationSettings:
        """`fresh`: read the tables now (a channel created since the cached read)."""
        hit = self._cache.get(account_id)
        now = time.monotonic()
        if hit and not fresh and now - hit[0] < self.ttl_s:
            return hit[1]
        with self.store.engine.connect() as conn:
            found = load(conn, account_id)
        self._cache[account_id] = (now, found)
        return found
