"""Alert lifecycle: what one round of findings does to the alerts of one scope. Pure.

Terms
- **key**: (account_id, instance_id or "", check_id, subject): one condition.
- **scope**: (account_id, instance_id, the checks evaluated this round); instance_id None is a
  fleet-wide round (fleet checks, whose findings may name any instance or none).
- **live** alert: status pending, handling, accepted_risk, ignored or false_positive, or
  handled while its condition is still reported ("handled, still present"). At most one per
  key. **final** alert: handled and cleared, or expired; it never changes again.
  Statuses are `AlertStatus` (checks/taxonomy.py).

The rules of `reconcile` (in this order):
1. Whitelist. A finding an active whitelist entry matches is dropped as if the check had
   not reported it: no alert, no count (it is listed in `whitelisted`).
2. Repeat. A finding whose key has a live alert updates that alert: last_seen = now and the
   newest severity/title/message/details; nothing is notified. `count` counts occurrences,
   not evaluations: a condition still reported is the same occurrence (count unchanged,
   event "seen"); an event check's new burst is a new one (count + 1, event "count").
   The status stays - ignored, false_positive and "handled, still present" alike - except:
   an accepted risk whose expiry has passed, and a handled alert still present
   `handled_reopen_after` after it was handled (when that setting is set), go back to
   pending and are notified again (event "reopened").
3. New. A finding whose key has no live alert opens one: status pending, count 1 (event
   "opened"). It is notified unless an active silence matches it (then `silenced_by` names
   the silence and `notified` is False; it is listed in `suppressed`). A key whose last alert
   is final (cleared, expired) opens a new alert: the condition came back.
   Several findings with one key in a round are one occurrence (the first is used).
4. Auto-resolve. A pending, handling or accepted_risk alert of a check evaluated in this
   scope whose key was not reported this round becomes handled, resolution "auto"
   ("whitelist" when an active whitelist entry matches it now); a handled alert still present
   is released (final, still handled by its user). Alerts of event checks (`event_checks`:
   the checks whose CheckMeta.kind is "event" - a burst of failed logins rather than a
   standing condition) are not auto-resolved when the burst leaves the check's window - a
   new burst counts up instead of sending a second notification - unless a whitelist entry
   matches them; they end when a user handles them or they expire.
   Alerts of checks not evaluated this round are untouched, and so are ignored and
   false_positive alerts (a user's suppression stays on the key).
   A `palisade.check_error` finding naming a check (its subject, CheckErrorEvidence) takes that
   check out of the evaluated set: a check that crashed resolves nothing.
5. Expiry. A pending or handling alert of the scope not seen for `expire_after` (default
   7 days) becomes expired, resolution "expired" (what rule 4 leaves: event-like alerts,
   checks that are no longer evaluated); a handled one still present is released. `expire`
   does the same for a whole list.

User changes (`change_status`): a live alert may be set to handling, handled, accepted_risk
(with a comment and an expiry), ignored or false_positive. Handled = fixed (resolution
"manual"): an event alert becomes final at once (a burst already handled does not reopen
while it is still in its check's window, see `closed`); a condition alert stays the key's
alert while the condition is reported (rule 2: no new alert, no notification) and is released
when it clears (rule 4), so it reopens only when it clears and comes back - or after
`handled_reopen_after`. A final alert cannot change. Every change is kept in `history`
(status, when, who, comment).

Silences and whitelist entries belong to an account ("*": every account). Silences match on
check_id and subject (shell-style patterns), instance_id, category and
severity (a matcher left empty matches anything) during [starts_at, ends_at). Whitelist entries
match by kind - "ip" (an address or CIDR containing the evidence's source_ip, or its subject
when the subject is an address), "port" ("22" or "tcp/22" against the evidence's port and
protocol, or a "tcp/22" subject), "subject" (a pattern on the subject) - narrowed
by optional check_id (pattern), instance_id and category, until expires_at (none: forever).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal, Protocol

from palisade.auditor.checks.base import CheckErrorEvidence, Evidence
from palisade.auditor.checks.taxonomy import (
    ALERT_STATUSES,
    OPEN_STATUSES,
    USER_STATUSES,
    AlertStatus,
)
from palisade.auditor.model.errors import ModelError

Status = AlertStatus
STATUSES: tuple[str, ...] = ALERT_STATUSES
# the key's alert whatever the rounds report (a handled alert is too while its condition is
# still present: `Alert.live`)
LIVE_STATUSES = frozenset(
    {
        AlertStatus.PENDING,
        AlertStatus.HANDLING,
        AlertStatus.ACCEPTED_RISK,
        AlertStatus.IGNORED,
        AlertStatus.FALSE_POSITIVE,
    }
)
SUPPRESSED_STATUSES = frozenset({AlertStatus.IGNORED, AlertStatus.FALSE_POSITIVE})
FINAL_STATUSES = frozenset({AlertStatus.HANDLED, AlertStatus.EXPIRED})
WHITELIST_KINDS = ("ip", "port", "subject")
CHECK_ERROR = "palisade.check_error"
ANY_ACCOUNT = "*"  # a silence or whitelist entry for every account the auditor models


class FindingLike(Protocol):
    """What reconcile reads of a finding (`palisade.auditor.checks.base.Finding`)."""

    check_id: str
    instance_id: str | None
    subject: str
    severity: str
    category: str
    title: str
    message: str
    details: dict


@dataclass(frozen=True)
class LifecycleSettings:
    expire_after: timedelta = timedelta(days=7)
    # a handled condition still reported this long after it was handled reopens (None: it
    # stays "handled, still present" until it clears)
    handled_reopen_after: timedelta | None = None


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times must be aware (UTC)")
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, order=True)
class AlertKey:
    account_id: str
    instance_id: str  # "" when the finding names no instance
    check_id: str
    subject: str

    def digest(self) -> str:
        """Fixed-length form for the database's one-live-alert-per-key constraint."""
        text = json.dumps([self.account_id, self.instance_id, self.check_id, self.subject])
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class StatusChange:
    status: str
    at_ms: int
    actor: str
    comment: str = ""
    resolution: str | None = None

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "status": self.status,
            "at_ms": self.at_ms,
            "actor": self.actor,
            "comment": self.comment,
        }
        if self.resolution:
            out["resolution"] = self.resolution
        return out

    @classmethod
    def from_json(cls, data: dict) -> StatusChange:
        return cls(
            data["status"],
            int(data["at_ms"]),
            data.get("actor", ""),
            data.get("comment", ""),
            data.get("resolution"),
        )


@dataclass
class Alert:
    key: AlertKey
    status: str
    severity: str
    category: str
    title: str
    message: str
    details: dict
    event_like: bool
    count: int
    first_seen_ms: int
    last_seen_ms: int
    updated_at_ms: int
    id: int | None = None  # assigned by the store
    resolution: str | None = None
    resolved_at_ms: int | None = None
    notified: bool = False
    silenced_by: int | None = None
    history: list[StatusChange] = field(default_factory=list)
    accepted_until_ms: int | None = None  # accepted_risk: when the acceptance ends

    @property
    def live(self) -> bool:
        """The key's alert: rounds update it rather than open another."""
        return self.status in LIVE_STATUSES or self.still_present

    @property
    def still_present(self) -> bool:
        """Handled by a user while its condition is still reported: shown as "handled,
        still present"; released (final) when the condition clears."""
        return (
            self.status == AlertStatus.HANDLED
            and self.resolved_at_ms is None
            and not self.event_like
        )

    @property
    def display_status(self) -> str:
        return "handled, still present" if self.still_present else str(self.status)

    def handled_at_ms(self) -> int | None:
        for change in reversed(self.history):
            if change.status == AlertStatus.HANDLED:
                return change.at_ms
        return None

    @property
    def account_id(self) -> str:
        return self.key.account_id

    @property
    def check_id(self) -> str:
        return self.key.check_id

    @property
    def instance_id(self) -> str:
        return self.key.instance_id

    @property
    def subject(self) -> str:
        return self.key.subject


@dataclass(frozen=True)
class Silence:
    id: int | None
    account_id: str
    starts_at_ms: int
    ends_at_ms: int
    created_by: str
    comment: str
    created_at_ms: int = 0
    check_id: str | None = None  # pattern
    instance_id: str | None = None
    subject: str | None = None  # pattern
    category: str | None = None
    severity: str | None = None

    def active(self, now_ms: int) -> bool:
        return self.starts_at_ms <= now_ms < self.ends_at_ms

    def matches(self, key: AlertKey, category: str, severity: str) -> bool:
        return (
            self.account_id in (ANY_ACCOUNT, key.account_id)
            and (self.check_id is None or fnmatchcase(key.check_id, self.check_id))
            and (self.instance_id is None or self.instance_id == key.instance_id)
            and (self.subject is None or fnmatchcase(key.subject, self.subject))
            and (self.category is None or self.category == category)
            and (self.severity is None or self.severity == severity)
        )


@dataclass(frozen=True)
class WhitelistEntry:
    id: int | None
    account_id: str
    kind: str  # ip, port, subject
    value: str
    created_by: str
    comment: str
    created_at_ms: int = 0
    check_id: str | None = None  # pattern
    instance_id: str | None = None
    category: str | None = None
    expires_at_ms: int | None = None

    def active(self, now_ms: int) -> bool:
        return self.expires_at_ms is None or now_ms < self.expires_at_ms

    def matches(self, key: AlertKey, category: str, details: dict) -> bool:
        if self.account_id not in (ANY_ACCOUNT, key.account_id):
            return False
        if self.check_id is not None and not fnmatchcase(key.check_id, self.check_id):
            return False
        if self.instance_id is not None and self.instance_id != key.instance_id:
            return False
        if self.category is not None and self.category != category:
            return False
        if self.kind == "ip":
            return _ip_matches(self.value, Evidence.from_json(details).source_ip, key.subject)
        if self.kind == "port":
            return _port_matches(self.value, details, key.subject)
        if self.kind == "subject":
            return fnmatchcase(key.subject, self.value)
        return False


def validate_whitelist_value(kind: str, value: str) -> str:
    """The canonical form of a whitelist value; ModelError when it is not one."""
    if kind == "ip":
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ModelError(
                "InvalidParameter.Value", f"{value[:64]!r} is not an IP address or CIDR block"
            ) from None
    if kind == "port":
        parsed = _parse_port(value)
        if parsed is None:
            raise ModelError(
                "InvalidParameter.Value",
                f"{value[:64]!r} is not a port like 22 or tcp/22 (1..65535)",
            )
        proto, port = parsed
        return f"{proto}/{port}" if proto else str(port)
    if kind == "subject":
        if not value:
            raise ModelError("InvalidParameter.Value", "the subject pattern is empty")
        return value
    raise ModelError(
        "InvalidParameter.Kind", f"{kind[:32]!r} is not one of {', '.join(WHITELIST_KINDS)}"
    )


def _ip_matches(network_text: str, source_ip: Any, subject: str) -> bool:
    try:
        network = ipaddress.ip_network(network_text, strict=False)
    except ValueError:
        return False
    for candidate in (source_ip, subject):
        if not isinstance(candidate, str):
            continue
        try:
            if ipaddress.ip_address(candidate) in network:
                return True
        except ValueError:
            continue
    return False


def _parse_port(text: str) -> tuple[str | None, int] | None:
    proto, _, number = text.strip().lower().rpartition("/")
    if proto not in ("", "tcp", "udp") or not number.isascii() or not number.isdigit():
        return None
    port = int(number)
    if not 1 <= port <= 65535:
        return None
    return proto or None, port


def _port_matches(value: str, details: dict, subject: str) -> bool:
    wanted = _parse_port(value)
    if wanted is None:
        return False
    proto, port = wanted
    evidence = Evidence.from_json(details)
    found_port, found_proto = evidence.port, evidence.protocol
    if found_port is None:
        parsed = _parse_port(subject)
        if parsed is None:
            return False
        found_proto, found_port = parsed
    if found_port != port:
        return False
    return proto is None or str(found_proto or "").lower() == proto


@dataclass(frozen=True)
class Scope:
    account_id: str
    instance_id: str | None  # None: a fleet-wide round
    checks: frozenset[str]

    def covers(self, key: AlertKey) -> bool:
        return (
            key.account_id == self.account_id
            and (self.instance_id is None or key.instance_id == self.instance_id)
            and key.check_id in self.checks
        )

    def lock_name(self) -> str:
        """What replicas serialise on: one instance (or the fleet) of one account."""
        where = "*" if self.instance_id is None else self.instance_id
        return f"alerts:{self.account_id}:{where}"


@dataclass
class AlertEvent:
    kind: Literal["opened", "reopened", "count", "seen", "resolved"]
    alert: Alert
    notify: bool = False  # only opened/reopened alerts not muted by a silence are notified

    @property
    def notifies(self) -> bool:
        return self.kind in ("opened", "reopened") and self.notify


@dataclass
class AlertChanges:
    new: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)  # seen again (count: a new occurrence)
    reopened: list[Alert] = field(default_factory=list)  # back to pending (status written)
    resolved: list[Alert] = field(default_factory=list)  # handled (auto/whitelist) or expired
    suppressed: list[Alert] = field(default_factory=list)  # new but muted by a silence
    whitelisted: list[FindingLike] = field(default_factory=list)

    def events(self) -> list[AlertEvent]:
        return (
            [AlertEvent("opened", a, a.notified) for a in self.new]
            + [AlertEvent("reopened", a, a.notified) for a in self.reopened]
            + [AlertEvent("count" if a.event_like else "seen", a) for a in self.updated]
            + [AlertEvent("resolved", a) for a in self.resolved]
        )


def finding_key(account_id: str, finding: FindingLike) -> AlertKey:
    return AlertKey(account_id, finding.instance_id or "", finding.check_id, finding.subject)


def _evaluated(scope: Scope, findings: list[FindingLike]) -> frozenset[str]:
    checks = set(scope.checks) | {f.check_id for f in findings if f.check_id != CHECK_ERROR}
    for f in findings:
        if f.check_id == CHECK_ERROR:
            checks.discard(f.subject)  # the registry names the check that raised
            crashed = getattr(f, "evidence", None)
            if isinstance(crashed, CheckErrorEvidence):
                checks.discard(crashed.check_id)
            elif isinstance(f.details, dict) and isinstance(f.details.get("check_id"), str):
                checks.discard(f.details["check_id"])  # a finding stored before evidence
    return frozenset(checks)


def _burst_end(details: dict) -> int | None:
    return Evidence.from_json(details).last_ms


def reconcile(
    existing: list[Alert],
    findings: list[FindingLike],
    scope: Scope,
    now: datetime,
    silences: Sequence[Silence] = (),
    whitelist: Sequence[WhitelistEntry] = (),
    settings: LifecycleSettings = LifecycleSettings(),
    event_checks: frozenset[str] = frozenset(),
    closed: Sequence[Alert] = (),
) -> AlertChanges:
    """Applies one round of findings to the scope's live alerts (see the module docstring).

    `existing` are the live alerts the store holds for the scope (others are ignored); the
    returned alerts are new objects - `existing` is not modified. `closed`: recently final
    alerts of event checks, so that a burst a user already handled does not reopen just
    because it is still inside the check's window.

    An event check's finding that carries the burst's last event time (evidence `last_ms`)
    counts only when that time moved on: re-evaluating the same burst is not a repeat."""
    now_ms = to_ms(now)
    evaluated = replace(scope, checks=_evaluated(scope, findings))
    live_silences = [s for s in silences if s.active(now_ms)]
    live_whitelist = [w for w in whitelist if w.active(now_ms)]
    by_key: dict[AlertKey, Alert] = {}
    for alert in existing:
        in_scope = alert.key.account_id == scope.account_id and (
            scope.instance_id is None or alert.key.instance_id == scope.instance_id
        )
        if alert.live and in_scope:
            if alert.key in by_key:
                raise ValueError(f"two live alerts for {alert.key}")
            by_key[alert.key] = alert

    closed_by_key: dict[AlertKey, Alert] = {}
    for alert in closed:
        if not alert.live and (
            alert.key not in closed_by_key or (closed_by_key[alert.key].id or 0) < (alert.id or 0)
        ):
            closed_by_key[alert.key] = alert
    changes = AlertChanges()
    reported: set[AlertKey] = set()
    for finding in findings:
        key = finding_key(scope.account_id, finding)
        if scope.instance_id is not None and key.instance_id != scope.instance_id:
            # findings naming another instance, or none, belong to a fleet-wide round
            raise ValueError(
                f"a finding for instance {key.instance_id!r} in the scope of {scope.instance_id!r}"
            )
        if key in reported:
            continue  # rule 3: one occurrence per key and round
        details = finding.details if isinstance(finding.details, dict) else {}
        if any(w.matches(key, finding.category, details) for w in live_whitelist):
            changes.whitelisted.append(finding)
            continue
        reported.add(key)
        current = by_key.get(key)
        burst_end = _burst_end(details) if finding.check_id in event_checks else None
        if current is not None and burst_end is not None:
            seen_end = _burst_end(current.details)
            if seen_end is not None and burst_end <= seen_end:
                continue  # the same burst, evaluated again
        if current is None and burst_end is not None:
            done = closed_by_key.get(key)
            if done is not None and (_burst_end(done.details) or 0) >= burst_end:
                continue  # a burst already handled (or ignored): nothing new happened
        silence = next(
            (s for s in live_silences if s.matches(key, finding.category, finding.severity)),
            None,
        )
        if current is not None:
            seen = replace(
                current,
                # an event check's new burst is a new occurrence; a condition still reported
                # is the same one (rule 2)
                count=current.count + 1 if current.event_like else current.count,
                last_seen_ms=max(current.last_seen_ms, now_ms),
                updated_at_ms=now_ms,
                severity=finding.severity,
                title=finding.title,
                message=finding.message,
                details=dict(details),
                history=list(current.history),
            )
            why = _reopen_reason(seen, now_ms, settings)
            if why is None:
                changes.updated.append(seen)
            else:
                changes.reopened.append(_reopen(seen, why, now_ms, silence))
            continue
        alert = Alert(
            key=key,
            status="pending",
            severity=finding.severity,
            category=finding.category,
            title=finding.title,
            message=finding.message,
            details=dict(details),
            event_like=finding.check_id in event_checks,
            count=1,
            first_seen_ms=now_ms,
            last_seen_ms=now_ms,
            updated_at_ms=now_ms,
            notified=silence is None,
            silenced_by=None if silence is None else silence.id,
            history=[StatusChange("pending", now_ms, "system", "opened")],
        )
        changes.new.append(alert)
        if silence is not None:
            changes.suppressed.append(alert)

    expire_before = now_ms - int(settings.expire_after.total_seconds() * 1000)
    for key, alert in sorted(by_key.items()):
        if key in reported or not _clears(alert):
            continue
        whitelisted = any(w.matches(key, alert.category, alert.details) for w in live_whitelist)
        if evaluated.covers(key) and (whitelisted or not alert.event_like):
            if alert.still_present:
                changes.resolved.append(_release(alert, "the condition cleared", now_ms))
            else:
                resolution = "whitelist" if whitelisted else "auto"
                changes.resolved.append(_finish(alert, AlertStatus.HANDLED, resolution, now_ms))
        elif alert.last_seen_ms < expire_before:
            changes.resolved.append(_expire(alert, now_ms))
    return changes


def _clears(alert: Alert) -> bool:
    """Rule 4 applies: open alerts, accepted risks and handled ones still present (a user's
    ignore or false positive stays on the key)."""
    return (
        alert.status in OPEN_STATUSES
        or alert.status == AlertStatus.ACCEPTED_RISK
        or alert.still_present
    )


def _reopen_reason(alert: Alert, now_ms: int, settings: LifecycleSettings) -> str | None:
    """Why a live alert seen again goes back to pending, or None (rule 2)."""
    if alert.status == AlertStatus.ACCEPTED_RISK:
        until = alert.accepted_until_ms
        if until is not None and now_ms >= until:
            return "the accepted risk expired and the condition is still present"
        return None
    if alert.still_present and settings.handled_reopen_after is not None:
        handled = alert.handled_at_ms()
        delay = int(settings.handled_reopen_after.total_seconds() * 1000)
        if handled is not None and now_ms - handled >= delay:
            return "handled, but still present after the reopen delay"
    return None


def _reopen(alert: Alert, why: str, now_ms: int, silence: Silence | None) -> Alert:
    return replace(
        alert,
        status=AlertStatus.PENDING,
        resolution=None,
        resolved_at_ms=None,
        accepted_until_ms=None,
        updated_at_ms=now_ms,
        notified=silence is None,
        silenced_by=None if silence is None else silence.id,
        history=[*alert.history, StatusChange(AlertStatus.PENDING, now_ms, "system", why)],
    )


def _release(alert: Alert, note: str, now_ms: int) -> Alert:
    """A handled alert whose condition is gone: final, still handled by its user."""
    return replace(
        alert,
        resolved_at_ms=now_ms,
        updated_at_ms=now_ms,
        history=[
            *alert.history,
            StatusChange(AlertStatus.HANDLED, now_ms, "system", note, alert.resolution),
        ],
    )


def _expire(alert: Alert, now_ms: int) -> Alert:
    if alert.still_present:
        return _release(alert, "not seen for the expiry period", now_ms)
    return _finish(alert, AlertStatus.EXPIRED, "expired", now_ms)


def expire(alerts: list[Alert], now: datetime, settings: LifecycleSettings) -> list[Alert]:
    """The open alerts (pending, handling) not seen for `expire_after`, as expired; handled
    alerts still present that were not seen for it, released."""
    now_ms = to_ms(now)
    before = now_ms - int(settings.expire_after.total_seconds() * 1000)
    return [
        _expire(a, now_ms)
        for a in alerts
        if (a.status in OPEN_STATUSES or a.still_present) and a.last_seen_ms < before
    ]


def _finish(alert: Alert, status: str, resolution: str, now_ms: int) -> Alert:
    note = {
        "auto": "the condition cleared",
        "whitelist": "whitelisted",
        "expired": "not seen for the expiry period",
    }[resolution]
    return replace(
        alert,
        status=status,
        resolution=resolution,
        resolved_at_ms=now_ms,
        updated_at_ms=now_ms,
        history=[*alert.history, StatusChange(status, now_ms, "system", note, resolution)],
    )


def change_status(
    alert: Alert,
    status: str,
    actor: str,
    comment: str,
    now: datetime,
    until: datetime | None = None,
) -> Alert:
    """A user's decision about a live alert (see the module docstring). accepted_risk needs a
    comment and `until` (when the acceptance ends, later than now)."""
    if status not in USER_STATUSES:
        raise ModelError(
            "InvalidParameter.Status",
            f"{status[:32]!r} is not one of {', '.join(USER_STATUSES)}",
        )
    if not alert.live:
        raise ModelError(
            "IncorrectAlertStatus",
            f"alert {alert.id} is {alert.status} (final); a new occurrence opens a new alert",
        )
    now_ms = to_ms(now)
    accepted_until: int | None = None
    if status == AlertStatus.ACCEPTED_RISK:
        if not comment.strip():
            raise ModelError("MissingParameter", "accepting a risk needs a Comment (why)")
        if until is None:
            raise ModelError("MissingParameter", "accepting a risk needs an expiry (EndTime)")
        accepted_until = to_ms(until)
        if accepted_until <= now_ms:
            raise ModelError("InvalidParameter.EndTime", "the acceptance must end in the future")
    elif until is not None:
        raise ModelError("InvalidParameter.EndTime", "only an accepted risk has an expiry")
    handled = status == AlertStatus.HANDLED
    # a handled event is over; a handled condition stays the key's alert while it is still
    # reported ("handled, still present") and is released when it clears
    final = handled and alert.event_like
    resolution = "manual" if handled else None
    return replace(
        alert,
        status=AlertStatus(status),
        resolution=resolution,
        resolved_at_ms=now_ms if final else None,
        accepted_until_ms=accepted_until,
        updated_at_ms=now_ms,
        history=[*alert.history, StatusChange(status, now_ms, actor, comment, resolution)],
    )
