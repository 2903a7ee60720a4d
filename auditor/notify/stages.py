"""The notification pipeline, as Alertmanager's, in this order:

    route -> group -> inhibit -> silence -> window -> rate cap -> send (with retries)

`PIPELINE` names them; the dispatcher (`Dispatcher._plan`) runs them for a channel's rows
each time they are due, so every decision is taken again when a message is about to go,
on the alerts as they are then:

- route: the alert is still open (pending or handling: not handled, resolved, accepted,
  ignored or expired since it was queued) and the channel still subscribes to it;
- group: the rows of one group (account, instance and source) due together go as one
  message (`outbox.enqueue` timed them with group_wait / group_interval);
- inhibit: no firing alert inhibits it (inhibition.py);
- silence: no silence in force now matches it;
- window, rate cap: held until the window opens / a slot frees, then one digest;
- send: the transport, with backoff (dispatcher).

A row a stage stops is dropped (final) with the stage's reason; the message of its group,
or the next digest of its channel, lists what was dropped and why. This module holds the
filtering stages (route, inhibit, silence) as pure functions over a `SendContext`, and
`context()`, which reads what they judge from the store in the dispatcher's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from palisade.auditor.alerts.lifecycle import AlertKey, Silence
from palisade.auditor.alerts.user_rules import silences_in_force
from palisade.auditor.checks.taxonomy import OPEN_STATUSES, AlertStatus
from palisade.auditor.notify import inhibition, routing
from palisade.auditor.notify.models import NotificationSettings, NotifyEvent
from palisade.auditor.store import schema

PIPELINE: tuple[str, ...] = ("route", "group", "inhibit", "silence", "window", "rate_cap", "send")


@dataclass(frozen=True)
class AlertNow:
    """What the store says of an alert when its message is about to go."""

    status: str
    still_present: bool = False


@dataclass(frozen=True)
class SendContext:
    now_ms: int
    settings: NotificationSettings
    channel_id: str
    alerts: Mapping[str, AlertNow]  # alert id -> now; an id the store lacks is not judged
    silences: Sequence[Silence] = ()
    firing: Sequence[NotifyEvent] = ()  # open alerts that may inhibit others
    rules: Sequence[inhibition.InhibitRule] = inhibition.RULES


Stage = Callable[[NotifyEvent, SendContext], str | None]  # the reason to drop, or None


def route(event: NotifyEvent, ctx: SendContext) -> str | None:
    now = ctx.alerts.get(event.alert_id)
    if now is not None and now.status not in OPEN_STATUSES:
        shown = "handled, still present" if now.still_present else now.status
        if now.status == AlertStatus.HANDLED and not now.still_present:
            shown = "resolved (handled)"
        return f"the alert is {shown} now"
    if ctx.channel_id not in routing.route(event, ctx.settings):
        return "the channel no longer subscribes to it"
    return None


def inhibit(event: NotifyEvent, ctx: SendContext) -> str | None:
    found = inhibition.inhibitor(event, ctx.firing, ctx.rules)
    if found is None:
        return None
    rule, source = found
    return f"inhibited by {source.label} ({rule.name}: same {' and '.join(rule.equal)})"


def silence(event: NotifyEvent, ctx: SendContext) -> str | None:
    key = AlertKey(event.account_id, event.instance_id, event.check_id, event.subject)
    for s in ctx.silences:
        if s.active(ctx.now_ms) and s.matches(key, event.category, event.level):
            comment = f": {s.comment}" if s.comment else ""
            return f"silenced by silence {s.id}{comment}"
    return None


# the filtering stages, in PIPELINE order (group sits between route and inhibit: it does not
# drop anything, the dispatcher forms the groups from what these keep)
FILTERS: tuple[tuple[str, Stage], ...] = (
    ("route", route),
    ("inhibit", inhibit),
    ("silence", silence),
)


def verdict(event: NotifyEvent, ctx: SendContext) -> str | None:
    """Why `event` must not be sent now (the first stage that stops it), or None."""
    for _name, stage in FILTERS:
        why = stage(event, ctx)
        if why is not None:
            return why
    return None


def context(
    conn: Connection,
    settings: NotificationSettings,
    channel_id: str,
    events: Iterable[NotifyEvent],
    now_ms: int,
    rules: Sequence[inhibition.InhibitRule] = inhibition.RULES,
) -> SendContext:
    """Reads the alerts, silences and inhibiting alerts the stages judge `events` by."""
    events = list(events)
    a = schema.alerts
    ids = sorted({int(e.alert_id) for e in events if e.alert_id.isdigit()})
    alerts: dict[str, AlertNow] = {}
    if ids:
        for row in conn.execute(
            select(a.c.id, a.c.status, a.c.live_key, a.c.event_like).where(a.c.id.in_(ids))
        ):
            present = row.status == AlertStatus.HANDLED and row.live_key is not None
            alerts[str(row.id)] = AlertNow(row.status, present and not row.event_like)
    firing: list[NotifyEvent] = []
    instances = sorted({e.instance_id for e in events})
    sources = inhibition.source_checks(rules)
    if sources and instances and any(e.check_id in _targets(rules) for e in events):
        from palisade.auditor.notify.outbox import as_notify_event

        rows = conn.execute(
            select(a).where(
                a.c.account_id == settings.account_id,
                a.c.instance_id.in_(instances),
                a.c.check_id.in_(sorted(sources)),
                a.c.status.in_(sorted(OPEN_STATUSES)),
            )
        ).all()
        for row in rows:
            found = as_notify_event(
                {**row._asdict(), "alert_id": str(row.id), "details": json.loads(row.details)}
            )
            if found is not None:
                firing.append(found)
    silences = silences_in_force(conn, settings.account_id, now_ms)
    return SendContext(now_ms, settings, channel_id, alerts, silences, firing, rules)


def _targets(rules: Sequence[inhibition.InhibitRule]) -> frozenset[str]:
    return frozenset(c for rule in rules for c in rule.target_checks)
