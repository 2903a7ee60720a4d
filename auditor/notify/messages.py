"""What a delivery says (pure): one notification; a group's message (the alerts of one
instance and source that were due together); or a digest of the messages a window or a cap
held. Each also lists what the pipeline dropped since and why (stages.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from palisade.auditor.notify.models import DIGEST_PREFIX, LEVEL_RANK, Channel, NotifyEvent
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
    dropped: tuple[tuple[NotifyEvent, str], ...] = ()  # not sent, and why

    @property
    def held(self) -> bool:
        """What a window or a cap held, sent together when it may go (a digest's id)."""
        return self.delivery_id.startswith(DIGEST_PREFIX)

    @property
    def is_digest(self) -> bool:
        return self.held and (len(self.events) > 1 or bool(self.dropped))

    @property
    def is_group(self) -> bool:
        return not self.held and len(self.events) > 1

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
    if delivery.is_group:
        first = min(delivery.events, key=lambda e: LEVEL_RANK.get(e.level, 99))
        more = len(delivery.events) - 1
        return f"[Palisade][{first.level}] {_one_line(first)} (+{more} related)"[:250]
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


def _dropped_text(delivery: Delivery) -> list[str]:
    if not delivery.dropped:
        return []
    lines = ["", "Not sent on their own (decided when this message was sent):"]
    lines += [f"- {event.label}: {why}" for event, why in delivery.dropped]
    return lines


def text_body(delivery: Delivery) -> str:
    if delivery.is_group:
        first = delivery.events[0]
        where = f" on {first.instance_id}" if first.instance_id else ""
        source = f" from {first.source}" if first.source else ""
        head = [f"{len(delivery.events)} related alerts{where}{source}:", ""]
        head += [f"- {e.label}" for e in delivery.events]
        head += _dropped_text(delivery)
        details = ["", "-" * 60, ""] + [
            _event_text(e) + "\n\n" + "-" * 60 + "\n" for e in delivery.events
        ]
        return "\n".join(head + details)
    if not delivery.is_digest:
        return "\n".join([_event_text(delivery.events[0]), *_dropped_text(delivery)]) + "\n"
    head = [
        f"{len(delivery.events)} notifications were held (outside the notification window "
        "or over the hourly cap) and are sent together:",
        "",
    ]
    head += [f"- [{e.level}] {_one_line(e)} (x{e.count})" for e in delivery.events]
    head += _dropped_text(delivery)
    details = ["", "-" * 60, ""] + [
        _event_text(e) + "\n\n" + "-" * 60 + "\n" for e in delivery.events
    ]
    return "\n".join(head + details)


def template_values(delivery: Delivery) -> dict[str, Any]:
    """The SMS hook template's placeholders."""
    events = delivery.events
    if len(events) == 1:
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
        "title": f"{len(events)} notifications (digest)"
        if delivery.is_digest
        else f"{len(events)} related alerts ({_one_line(events[0])})",
        "level": delivery.level,
        "instance_id": ",".join(instances),
        "message": "\n".join(f"[{e.level}] {_one_line(e)} (x{e.count})" for e in events),
        "count": len(events),
        "category": "digest" if delivery.is_digest else notification_category(events[0].category),
        "alert_id": ",".join(e.alert_id for e in events),
        "check_id": "",
        "account_id": events[0].account_id,
        "subject": "",
        "time": _iso(max(e.last_seen_ms for e in events)),
    }
