"""A store, settings and recording transports for the dispatcher's tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from palisade.auditor.notify import outbox, settings_repository
from palisade.auditor.notify.dispatcher import Dispatcher
from palisade.auditor.notify.messages import Delivery
from palisade.auditor.notify.models import (
    Channel,
    EmailConfig,
    NotificationGrouping,
    NotificationWindow,
    NotifyEvent,
    SmsHookConfig,
    Subscription,
)
from palisade.auditor.notify.settings_repository import NotificationSettingsCache
from palisade.auditor.notify.transports.inbox import InboxTransport
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

ACCOUNT = "1000000000000001"
T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
_ids = itertools.count(1)


class Recorder:
    """A transport that records what it was given; `down` makes it fail like a dead server."""

    def __init__(self):
        self.sent: list[Delivery] = []
        self.down = False
        self.tries = 0

    def send(self, delivery: Delivery) -> None:
        self.tries += 1
        if self.down:
            raise ConnectionRefusedError("connection refused")
        self.sent.append(delivery)

    def alert_ids(self) -> list[list[str]]:
        return [[e.alert_id for e in d.events] for d in self.sent]


def event(alert_id: str | None = None, level: str = "serious", category: str = "login"):
    alert_id = alert_id or str(next(_ids))
    return NotifyEvent(
        account_id=ACCOUNT,
        alert_id=alert_id,
        instance_id="i-abc",
        check_id="login.brute_force",
        category=category,
        level=level,
        title=f"Brute force {alert_id}",
        message="failures",
        last_seen_ms=int(T0.timestamp() * 1000),
    )


class Bench:
    def __init__(self, url: str):
        self.store = Database(url)
        self.email = Recorder()
        self.hook = Recorder()
        self.transports = {
            "email": self.email,
            "sms_hook": self.hook,
            "inbox": InboxTransport(self.store),
        }
        with self.store.engine.begin() as conn:
            settings_repository.add_channel(
                conn, Channel("nc-mail", ACCOUNT, "mail", "email", EmailConfig("smtp")), 0
            )
            settings_repository.add_channel(
                conn, Channel("nc-hook", ACCOUNT, "hook", "sms_hook", SmsHookConfig("http://x")), 0
            )
            settings_repository.add_subscription(
                conn,
                Subscription(
                    "ns-1",
                    ACCOUNT,
                    "alerts",
                    frozenset({"serious", "suspicious"}),
                    ("nc-mail", "nc-hook"),
                ),
                0,
            )

    def dispatcher(self, **kw) -> Dispatcher:
        kw.setdefault("rand", lambda: 1.0)
        return Dispatcher(
            self.store, NotificationSettingsCache(self.store, ttl_s=0), self.transports, **kw
        )

    def enqueue(self, *events: NotifyEvent, now: datetime = T0) -> list[int]:
        with self.store.engine.begin() as conn:
            return [i for e in events for i in outbox.enqueue(conn, e, now)]

    def set_window(self, start: str, end: str, tz: str) -> None:
        with self.store.engine.begin() as conn:
            settings_repository.save_window(conn, ACCOUNT, NotificationWindow(start, end, tz), 0)

    def set_grouping(self, wait_s: int, interval_s: int) -> None:
        with self.store.engine.begin() as conn:
            settings_repository.save_grouping(
                conn, ACCOUNT, NotificationGrouping(wait_s, interval_s), 0
            )

    def set_cap(self, channel_id: str, cap: int | None) -> None:
        with self.store.engine.begin() as conn:
            found = settings_repository.channel(conn, ACCOUNT, channel_id)
            from dataclasses import replace

            settings_repository.save_channel(conn, replace(found, max_per_hour=cap), 0)

    def rows(self, channel_id: str | None = None) -> list:
        o = schema.notify_outbox
        q = select(o).order_by(o.c.id)
        if channel_id:
            q = q.where(o.c.channel_id == channel_id)
        with self.store.engine.connect() as conn:
            return conn.execute(q).all()

    def inbox_titles(self) -> list[str]:
        i = schema.inbox
        with self.store.engine.connect() as conn:
            return [r.title for r in conn.execute(select(i).order_by(i.c.id)).all()]

    def close(self) -> None:
        self.store.close()
