"""What a delivery says: one notification, or a digest of several held ones (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from palisade.auditor.notify.models import LEVEL_RANK, Channel, NotifyEvent
from palisade.auditor.notify.routing import notification_category


@dataclass(frozen=True)
class Delivery:
    """One message handed to one channel. `delivery_id` is stable across retries and
    replicas (Message-ID, the hook's delivery header, the inbox's idempotency)."""

    delivery_id: str
    channel: Channel
    events: tuple[NotifyEvent, ...]
    outbox_ids: tuple[int, ...]
    at_ms: int = 0  # when it was handed over (the dispatcher's clock)

    @property
    def is_digest(self) -> bool:
        return len(self.events) > 1

    @property
    def level(self) -> str:
        return min((e.level for e in self.events), key=lambda lv: LEVEL_RANK.get(lv, 99))


def _iso(ms: int) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(event: NotifyEvent) -> str:
    where = f" on {event.instance_id}" if event.instance_id else ""
    return f"{event.title}{where}"


def subject(delivery: Delivery) -> str:
    """`[Palisade][serious] Brute force on i-xxx`, or a digest's summary."""
    if not delivery.is_digest:
        event = delivery.events[0]
        return f"[Palisade][{event.level}] {_one_line(event)}"[:250]
    counts = Counter(e.level for e in delivery.events)
    parts = ", ".join(
        f"{counts[lv]} {lv}" for lv in sorted(counts, key=lambda lv: LEVEL_RANK.get(lv, 99))
    )
    return f"[Palisade][digest] {len(delivery.events)} notifications ({parts})"


def _event_text(event: NotifyEvent) -> str:
    lines = [
        f"[{event.level}] {_one_line(event)}",
        "",
        event.message,
        "",
        f"Category:  {notification_category(event.category)} ({event.category})",
        f"Check:     {event.check_id}",
        f"Instance:  {event.instance_id or '-'}",
        f"Alert:     {event.alert_id}",
        f"Count:     {event.count}",
        f"First seen: {_iso(event.first_seen_ms)}",
        f"Last seen:  {_iso(event.last_seen_ms)}",
    ]
    return "\n".join(lines)


def text_body(delivery: Delivery) -> str:
    if not delivery.is_digest:
        return _event_text(delivery.events[0]) + "\n"
    head = [
        f"{len(delivery.events)} notifications were held (outside the notification window "
        "or over the hourly cap) and are sent together:",
        "",
    ]
    head += [f"- [{e.level}] {_one_line(e)} (x{e.count})" for e in delivery.events]
    details = ["", "-" * 60, ""] + [
        _event_text(e) + "\n\n" + "-" * 60 + "\n" for e in delivery.events
    ]
    return "\n".join(head + details)


def template_values(delivery: Delivery) -> dict[str, Any]:
    """The SMS hook template's placeholders."""
    events = delivery.events
    if not delivery.is_digest:
        e = events[0]
        return {
            "title": e.title,
            "level": e.level,
            "instance_id": e.instance_id,
            "message": e.message,
            "count": e.count,
            "category": notification_category(e.category),
            "alert_id": e.alert_id,
            "check_id": e.check_id,
            "account_id": e.account_id,
            "subject": e.subject,
            "time": _iso(e.last_seen_ms),
        }
    instances = sorted({e.instance_id for e in events if e.instance_id})
    return {
        "title": f"{len(events)} notifications (digest)",
        "level": delivery.level,
        "instance_id": ",".join(instances),
        "message": "\n".join(f"[{e.level}] {_one_line(e)} (x{e.count})" for e in events),
        "count": len(events),
        "category": "digest",
        "alert_id": ",".join(e.alert_id for e in events),
        "check_id": "",
        "account_id": events[0].account_id,
        "subject": "",
        "time": _iso(max(e.last_seen_ms for e in events)),
    }
