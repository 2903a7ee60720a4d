"""The in-site inbox: messages per account (and per RAM user), read or unread."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection

from palisade.auditor.notify.messages import Delivery, subject, text_body
from palisade.auditor.notify.routing import notification_category
from palisade.auditor.store import schema

_i = schema.inbox


@dataclass(frozen=True)
class InboxMessage:
    message_id: int
    user_name: str  # "" account-wide
    alert_ids: tuple[str, ...]
    level: str
    category: str
    instance_id: str
    title: str
    content: str
    created_at_ms: int
    read_at_ms: int | None

    @property
    def read(self) -> bool:
        return self.read_at_ms is not None


def _insert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(_i).on_conflict_do_nothing(index_elements=["delivery_id"])


def write(conn: Connection, delivery: Delivery, user_name: str) -> None:
    """One message per delivery: a delivery written before (a re-send) changes nothing."""
    events = delivery.events
    first = events[0]
    title = subject(delivery).removeprefix("[Palisade]").strip()
    conn.execute(
        _insert(conn).values(
            account_id=first.account_id,
            user_name=user_name,
            delivery_id=delivery.delivery_id,
            alert_ids=json.dumps([e.alert_id for e in events]),
            level=delivery.level,
            category="digest" if delivery.is_digest else notification_category(first.category),
            instance_id="" if delivery.is_digest else first.instance_id,
            title=title,
            content=text_body(delivery),
            created_at_ms=delivery.at_ms or max(e.last_seen_ms for e in events),
        )
    )


def _visible(account_id: str, user_name: str):
    """A user sees the account-wide inbox and their own."""
    return [_i.c.account_id == account_id, or_(_i.c.user_name == "", _i.c.user_name == user_name)]


def messages(
    conn: Connection,
    account_id: str,
    user_name: str,
    unread_only: bool,
    offset: int,
    limit: int,
) -> tuple[int, int, list[InboxMessage]]:
    """(total matching, unread, the page), newest first."""
    where = _visible(account_id, user_name)
    unread = (
        conn.execute(
            select(func.count()).select_from(_i).where(*where, _i.c.read_at_ms.is_(None))
        ).scalar()
        or 0
    )
    if unread_only:
        where.append(_i.c.read_at_ms.is_(None))
    total = conn.execute(select(func.count()).select_from(_i).where(*where)).scalar() or 0
    rows = conn.execute(
        select(_i)
        .where(*where)
        .order_by(_i.c.created_at_ms.desc(), _i.c.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return (
        int(total),
        int(unread),
        [
            InboxMessage(
                r.id,
                r.user_name,
                tuple(json.loads(r.alert_ids)),
                r.level,
                r.category,
                r.instance_id,
                r.title,
                r.content,
                r.created_at_ms,
                r.read_at_ms,
            )
            for r in rows
        ],
    )


def mark_read(
    conn: Connection, account_id: str, user_name: str, message_ids: list[int] | None, now_ms: int
) -> int:
    """Marks the given messages (None: all) read; returns how many changed."""
    where = _visible(account_id, user_name) + [_i.c.read_at_ms.is_(None)]
    if message_ids is not None:
        where.append(_i.c.id.in_(message_ids))
    return conn.execute(update(_i).where(*where).values(read_at_ms=now_ms)).rowcount
