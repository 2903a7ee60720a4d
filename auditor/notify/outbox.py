"""The durable outbox: rows added in the caller's transaction, claimed under a lease.

States: queued (due at next_attempt_at) -> sending (claimed: lease_owner until
lease_expires_at) -> sent; held (window closed or over the cap; due when it may go, then
sent with every other held row of its channel as one digest); failed (final: the channel
was deleted or refused the message for good). A failed try goes back to queued (a digest:
held) with a backoff; an expired lease (a replica killed mid-send) does the same at once;
dropped (final: a stage decided when it was due that it must not go - stages.py - with the
reason in drop_reason; delivery_id names the message that reported the drop, once one did).

Grouping: a row of an alert with a source gets its group's key (account, instance, source)
and is due with the rest of its group: at the group's first row + group_wait, or, when the
group had a message within group_interval, group_interval after that one (Alertmanager's
timers). Rows without a source are not grouped ("") and are due at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from palisade.auditor.checks.base import Evidence
from palisade.auditor.notify import routing, settings_repository
from palisade.auditor.notify.models import DIGEST_PREFIX, NotifyEvent
from palisade.auditor.store import schema

QUEUED, HELD, SENDING, SENT, FAILED = "queued", "held", "sending", "sent", "failed"
DROPPED = "dropped"
STATES = (QUEUED, HELD, SENDING, SENT, FAILED, DROPPED)
HOUR_MS = 3_600_000

_o = schema.notify_outbox


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- enqueue --------------------------------------------------------------------------------


def _field(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def as_notify_event(event: Any) -> NotifyEvent | None:
    """A NotifyEvent from what the alerts side hands over: a NotifyEvent, or an alert
    event (`.kind`, `.alert`) of which only "opened" notifies, or an alert itself."""
    if isinstance(event, NotifyEvent):
        return event
    kind = _field(event, "kind")
    alert = _field(event, "alert")
    if alert is not None:
        if kind not in (None, "opened", "reopened"):
            return None  # a count going up or a resolution sends nothing
    else:
        alert = event
    details = _field(alert, "details", default={}) or {}
    if isinstance(details, str):
        details = json.loads(details)
    return NotifyEvent(
        account_id=str(_field(alert, "account_id", default="")),
        alert_id=str(_field(alert, "alert_id", "id", default="")),
        instance_id=str(_field(alert, "instance_id", default="") or ""),
        check_id=str(_field(alert, "check_id", default="")),
        category=str(_field(alert, "category", default="")),
        level=str(_field(alert, "level", "severity", default="remind")),
        title=str(_field(alert, "title", default="")),
        message=str(_field(alert, "message", default="")),
        count=int(_field(alert, "count", default=1) or 1),
        first_seen_ms=int(_field(alert, "first_seen_ms", default=0) or 0),
        last_seen_ms=int(_field(alert, "last_seen_ms", default=0) or 0),
        subject=str(_field(alert, "subject", default="")),
        details=dict(details),
        source=source_of(details),
    )


def source_of(details: dict) -> str:
    """The address an alert is about (its evidence's source_ip), "" when none."""
    return Evidence.from_json(details).source_ip or ""


def group_key(event: NotifyEvent) -> str:
    """The event's group: its account, instance and source; "" (not grouped) without one."""
    if not event.source:
        return ""
    text = json.dumps([event.account_id, event.instance_id, event.source])
    return hashlib.sha256(text.encode()).hexdigest()


def _group_due_ms(
    conn: Connection, ev: NotifyEvent, channel_id: str, key: str, at_ms: int, settings
) -> int:
    """When a new row of group `key` on `channel_id` is due (see the module docstring)."""
    if not key:
        return at_ms
    mine = [_o.c.account_id == ev.account_id, _o.c.channel_id == channel_id, _o.c.group_key == key]
    waiting = conn.execute(
        # the group's message not tried yet (one in a retry's backoff is not waited for)
        select(func.min(_o.c.next_attempt_at_ms)).where(
            *mine, _o.c.state == QUEUED, _o.c.attempts == 0
        )
    ).scalar()
    if waiting is not None:
        return max(int(waiting), at_ms)  # join the group's message
    last = conn.execute(
        select(func.max(_o.c.claimed_at_ms)).where(*mine, _o.c.state.in_((SENDING, SENT)))
    ).scalar()
    interval_ms = settings.grouping.group_interval_s * 1000
    if last is not None and at_ms < int(last) + interval_ms:
        return int(last) + interval_ms
    return at_ms + settings.grouping.group_wait_s * 1000


def enqueue(conn: Connection, event: Any, now: datetime | None = None) -> list[int]:
    """Queues `event` for every channel its subscriptions name (and the account inbox),
    in the caller's transaction: committed with the alert, or not at all. Returns the
    outbox row ids; call `Dispatcher.notify_new()` after the commit for a prompt send.

    `event`: a NotifyEvent or an alert event (see as_notify_event); `now` defaults to the
    alert's last-seen time."""
    ev = as_notify_event(event)
    if ev is None:
        return []
    at_ms = _ms(now) if now is not None else ev.last_seen_ms
    settings = settings_repository.load(conn, ev.account_id)
    payload = json.dumps(ev.to_payload(), sort_keys=True, default=str)
    key = group_key(ev)
    ids = []
    for channel_id in routing.route(ev, settings):
        due_ms = _group_due_ms(conn, ev, channel_id, key, at_ms, settings)
        ids.append(
            conn.execute(
                insert(_o)
                .values(
                    account_id=ev.account_id,
                    alert_id=ev.alert_id,
                    channel_id=channel_id,
                    payload=payload,
                    state=QUEUED,
                    attempts=0,
                    next_attempt_at_ms=due_ms,
                    created_at_ms=at_ms,
                    group_key=key,
                )
                .returning(_o.c.id)
            ).scalar_one()
        )
    return ids


# -- claiming -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    account_id: str
    alert_id: str
    channel_id: str
    state: str
    attempts: int
    next_attempt_at_ms: int
    delivery_id: str | None
    event: NotifyEvent
    group_key: str = ""
    drop_reason: str | None = None


def _row(r) -> OutboxRow:
    return OutboxRow(
        r.id,
        r.account_id,
        r.alert_id,
        r.channel_id,
        r.state,
        r.attempts,
        r.next_attempt_at_ms,
        r.delivery_id,
        NotifyEvent.from_payload(json.loads(r.payload)),
        r.group_key or "",
        r.drop_reason,
    )


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def reap_expired_leases(conn: Connection, now_ms: int) -> int:
    """Rows a replica claimed and never finished (it died): due again now."""
    expired = [_o.c.state == SENDING, _o.c.lease_expires_at_ms < now_ms]
    n = 0
    for digest, state in ((True, HELD), (False, QUEUED)):
        kind = _o.c.delivery_id.like(DIGEST_PREFIX + "%")
        done = conn.execute(
            update(_o)
            .where(*expired, kind if digest else ~kind)
            .values(
                state=state,
                next_attempt_at_ms=now_ms,
                lease_owner=None,
                lease_expires_at_ms=None,
                claimed_at_ms=None,
            )
        )
        n += done.rowcount
    return n


def due_channels(conn: Connection, now_ms: int) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(_o.c.account_id, _o.c.channel_id)
        .where(_o.c.state.in_((QUEUED, HELD)), _o.c.next_attempt_at_ms <= now_ms)
        .group_by(_o.c.account_id, _o.c.channel_id)
        .order_by(func.min(_o.c.next_attempt_at_ms))
    ).all()
    return [(r.account_id, r.channel_id) for r in rows]


def next_due_ms(conn: Connection) -> int | None:
    """When something next becomes due (a queued/held row, or a lease expiring)."""
    due = conn.execute(
        select(func.min(_o.c.next_attempt_at_ms)).where(_o.c.state.in_((QUEUED, HELD)))
    ).scalar()
    lease = conn.execute(
        select(func.min(_o.c.lease_expires_at_ms)).where(_o.c.state == SENDING)
    ).scalar()
    found = [t for t in (due, lease) if t is not None]
    return min(found) if found else None


def lock_channel(conn: Connection, account_id: str, channel_id: str) -> bool:
    """One replica at a time decides a channel's window, cap and digest (its transaction
    holds this; PostgreSQL advisory lock, SQLite's single writer does it there)."""
    if not is_postgres(conn):
        return True
    digest = hashlib.sha256(f"palisade.notify:{account_id}:{channel_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    return bool(conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({key})").scalar())


def due_rows(
    conn: Connection, account_id: str, channel_id: str, now_ms: int, limit: int
) -> list[OutboxRow]:
    q = (
        select(_o)
        .where(
            _o.c.account_id == account_id,
            _o.c.channel_id == channel_id,
            _o.c.state.in_((QUEUED, HELD)),
            _o.c.next_attempt_at_ms <= now_ms,
        )
        .order_by(_o.c.id)
        .limit(limit)
    )
    if is_postgres(conn):
        q = q.with_for_update(skip_locked=True)
    return [_row(r) for r in conn.execute(q).all()]


def recent_deliveries_ms(conn: Connection, account_id: str, channel_id: str, now_ms: int) -> list:
    """When the channel's deliveries of the last hour were made (a digest counts once)."""
    rows = conn.execute(
        select(_o.c.delivery_id, func.min(_o.c.claimed_at_ms))
        .where(
            _o.c.account_id == account_id,
            _o.c.channel_id == channel_id,
            _o.c.state.in_((SENDING, SENT)),
            _o.c.claimed_at_ms > now_ms - HOUR_MS,
        )
        .group_by(_o.c.delivery_id)
    ).all()
    return [r[1] for r in rows]


def hold(conn: Connection, ids: list[int], until_ms: int) -> None:
    if ids:
        conn.execute(
            update(_o).where(_o.c.id.in_(ids)).values(state=HELD, next_attempt_at_ms=until_ms)
        )


def claim(
    conn: Connection,
    ids: list[int],
    delivery_id: str,
    owner: str,
    now_ms: int,
    lease_ms: int,
) -> None:
    conn.execute(
        update(_o)
        .where(_o.c.id.in_(ids))
        .values(
            state=SENDING,
            lease_owner=owner,
            lease_expires_at_ms=now_ms + lease_ms,
            claimed_at_ms=now_ms,
            delivery_id=delivery_id,
            attempts=_o.c.attempts + 1,
        )
    )


def fail(conn: Connection, ids: list[int], error: str) -> None:
    if ids:
        conn.execute(
            update(_o)
            .where(_o.c.id.in_(ids))
            .values(state=FAILED, last_error=error[:1000], lease_owner=None)
        )


def drop(conn: Connection, reasons: list[tuple[int, str]]) -> None:
    """Final: a stage stopped these rows when they were due (stages.py)."""
    for row_id, reason in reasons:
        conn.execute(
            update(_o)
            .where(_o.c.id == row_id)
            .values(state=DROPPED, drop_reason=reason[:1000], lease_owner=None)
        )


def unreported_drops(conn: Connection, account_id: str, channel_id: str) -> list[OutboxRow]:
    """The channel's dropped rows no message has reported yet (oldest first)."""
    rows = conn.execute(
        select(_o)
        .where(
            _o.c.account_id == account_id,
            _o.c.channel_id == channel_id,
            _o.c.state == DROPPED,
            _o.c.delivery_id.is_(None),
        )
        .order_by(_o.c.id)
        .limit(1000)
    ).all()
    return [_row(r) for r in rows]


def mark_reported(conn: Connection, ids: list[int], delivery_id: str) -> None:
    if ids:
        conn.execute(update(_o).where(_o.c.id.in_(ids)).values(delivery_id=delivery_id))


def attempts(conn: Connection, ids: list[int]) -> int:
    return int(conn.execute(select(func.max(_o.c.attempts)).where(_o.c.id.in_(ids))).scalar() or 1)


# -- after a try ------------------------------------------------------------------------------


def mark_sent(conn: Connection, ids: list[int], now_ms: int) -> None:
    conn.execute(
        update(_o)
        .where(_o.c.id.in_(ids), _o.c.state != SENT)
        .values(state=SENT, sent_at_ms=now_ms, lease_owner=None, lease_expires_at_ms=None)
    )


def mark_retry(
    conn: Connection, ids: list[int], owner: str, digest: bool, retry_at_ms: int, error: str
) -> None:
    """Back to queued (a digest: held, so it goes out as one again) unless another replica
    took the rows over meanwhile."""
    conn.execute(
        update(_o)
        .where(_o.c.id.in_(ids), _o.c.state == SENDING, _o.c.lease_owner == owner)
        .values(
            state=HELD if digest else QUEUED,
            next_attempt_at_ms=retry_at_ms,
            lease_owner=None,
            lease_expires_at_ms=None,
            claimed_at_ms=None,
            last_error=error[:1000],
        )
    )


def mark_failed(conn: Connection, ids: list[int], owner: str, error: str) -> None:
    conn.execute(
        update(_o)
        .where(_o.c.id.in_(ids), _o.c.state == SENDING, _o.c.lease_owner == owner)
        .values(state=FAILED, lease_owner=None, lease_expires_at_ms=None, last_error=error[:1000])
    )


# -- for operators ------------------------------------------------------------------------


def describe(
    conn: Connection, account_id: str, state: str | None, offset: int, limit: int
) -> tuple[int, list[dict]]:
    where = [_o.c.account_id == account_id]
    if state:
        where.append(_o.c.state == state)
    total = conn.execute(select(func.count()).select_from(_o).where(*where)).scalar() or 0
    rows = conn.execute(
        select(_o).where(*where).order_by(_o.c.id.desc()).offset(offset).limit(limit)
    ).all()
    return int(total), [r._asdict() for r in rows]
