"""Alert lifecycle: what one round of findings does to the alerts of one scope. Pure.

Terms
- **key**: (account_id, instance_id or "", check_id, subject): one condition.
- **scope**: (account_id, instance_id, the checks evaluated this round); instance_id None is a
  fleet-wide round (fleet checks, whose findings may name any instance or none).
- **live** alert: status pending, handling, ignored or false_positive. At most one per key.
  **final** alert: handled or expired; it never changes again.

The rules of `reconcile` (in this order):
1. Whitelist. A finding an active whitelist entry matches is dropped as if the check had
   not reported it: no alert, no count (it is listed in `whitelisted`).
2. Repeat. A finding whose key has a live alert bumps that alert: count + 1, last_seen = now,
   and the newest severity/title/message/details. The status stays; nothing is notified
   (event "count"). This holds for ignored and false_positive alerts too: the user's
   decision stands for the key and the count records the repeats.
3. New. A finding whose key has no live alert opens one: status pending, count 1 (event
   "opened"). It is notified unless an active silence matches it (then `silenced_by` names
   the silence and `notified` is False; it is listed in `suppressed`). A key whose last alert
   is final (handled, expired) opens a new alert: the condition came back.
   Several findings with one key in a round are one occurrence (the first is used).
   `count` is thus the number of rounds in which the condition was reported.
4. Auto-resolve. A pending or handling alert of a check evaluated in this scope whose key
   was not reported this round becomes handled, resolution "auto" ("whitelist" when an active
   whitelist entry matches it now). Alerts of event checks (`event_checks`: the checks whose
   CheckMeta.kind is "event" - a burst of failed logins rather than a standing condition) are
   not auto-resolved when the burst leaves the check's window - a new burst counts up instead
   of sending a second notification - unless a whitelist entry matches them; they end when a
   user handles them or they expire.
   Alerts of checks not evaluated this round are untouched, and so are ignored and
   false_positive alerts (a user's suppression stays on the key).
   A `palisade.check_error` finding naming a check (subject or details["check_id"]) takes that
   check out of the evaluated set: a check that crashed resolves nothing.
5. Expiry. A pending or handling alert of the scope not seen for `expire_after` (default
   7 days) becomes expired, resolution "expired" (what rule 4 leaves: event-like alerts,
   checks that are no longer evaluated). `expire` does the same for a whole list.

User changes (`change_status`): a live alert may be set to handling, handled, ignored or
false_positive (handled makes it final, resolution "manual"; the next finding of its key opens
a new, notified alert). A final alert cannot change. Every change is kept in `history`
(status, when, who, comment).

Silences and whitelist entries belong to an account ("*": every account). Silences match on
check_id and subject (shell-style patterns), instance_id, category and
severity (a matcher left empty matches anything) during [starts_at, ends_at). Whitelist entries
match by kind - "ip" (an address or CIDR containing the finding's details["source_ip"], or its
subject when the subject is an address), "port" ("22" or "tcp/22" against details["port"] and
details["protocol"], or a "tcp/22" subject), "subject" (a pattern on the subject) - narrowed
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

from palisade.auditor.model.errors import ModelError

Status = Literal["pending", "handling", "handled", "ignored", "false_positive", "expired"]
STATUSES: tuple[str, ...] = (
    "pending",
    "handling",
    "handled",
    "ignored",
    "false_positive",
    "expired",
)
LIVE_STATUSES = frozenset({"pending", "handling", "ignored", "false_positive"})
OPEN_STATUSES = frozenset({"pending", "handling"})  # the condition is current and unanswered
SUPPRESSED_STATUSES = frozenset({"ignored", "false_positive"})
FINAL_STATUSES = frozenset({"handled", "expired"})
USER_STATUSES = ("handling", "handled", "ignored", "false_positive")
SEVERITIES = ("serious", "suspicious", "remind")
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

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

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
            return _ip_matches(self.value, details.get("source_ip"), key.subject)
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
    found_port, found_proto = details.get("port"), details.get("protocol")
    if not isinstance(found_port, int):
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
    kind: Literal["opened", "count", "resolved"]
    alert: Alert
    notify: bool = False  # only "opened" alerts not muted by a silence are notified


@dataclass
class AlertChanges:
    new: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)  # handled (auto/whitelist) or expired
    suppressed: list[Alert] = field(default_factory=list)  # new but muted by a silence
    whitelisted: list[FindingLike] = field(default_factory=list)

    def events(self) -> list[AlertEvent]:
        return (
            [AlertEvent("opened", a, a.notified) for a in self.new]
            + [AlertEvent("count", a) for a in self.updated]
            + [AlertEvent("resolved", a) for a in self.resolved]
        )


def finding_key(account_id: str, finding: FindingLike) -> AlertKey:
    return AlertKey(account_id, finding.instance_id or "", finding.check_id, finding.subject)


def _evaluated(scope: Scope, findings: list[FindingLike]) -> frozenset[str]:
    checks = set(scope.checks) | {f.check_id for f in findings if f.check_id != CHECK_ERROR}
    for f in findings:
        if f.check_id == CHECK_ERROR:
            crashed = f.details.get("check_id") if isinstance(f.details, dict) else None
            checks.discard(f.subject)
            if isinstance(crashed, str):
                checks.discard(crashed)
    return frozenset(checks)


def _burst_end(details: dict) -> int | None:
    value = details.get("last_ms") if isinstance(details, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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

    An event check's finding that carries the burst's last event time (`details["last_ms"]`)
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
        if current is not None:
            changes.updated.append(
                replace(
                    current,
                    count=current.count + 1,
                    last_seen_ms=max(current.last_seen_ms, now_ms),
                    updated_at_ms=now_ms,
                    severity=finding.severity,
                    title=finding.title,
                    message=finding.message,
                    details=dict(details),
                    history=list(current.history),
                )
            )
            continue
        silence = next(
            (s for s in live_silences if s.matches(key, finding.category, finding.severity)),
            None,
        )
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
        if key in reported or alert.status not in OPEN_STATUSES:
            continue
        whitelisted = any(w.matches(key, alert.category, alert.details) for w in live_whitelist)
        if evaluated.covers(key) and (whitelisted or not alert.event_like):
            resolution = "whitelist" if whitelisted else "auto"
            changes.resolved.append(_finish(alert, "handled", resolution, now_ms))
        elif alert.last_seen_ms < expire_before:
            changes.resolved.append(_finish(alert, "expired", "expired", now_ms))
    return changes


def expire(alerts: list[Alert], now: datetime, settings: LifecycleSettings) -> list[Alert]:
    """The open alerts (pending, handling) not seen for `expire_after`, as expired."""
    now_ms = to_ms(now)
    before = now_ms - int(settings.expire_after.total_seconds() * 1000)
    return [
        _finish(a, "expired", "expired", now_ms)
        for a in alerts
        if a.status in OPEN_STATUSES and a.last_seen_ms < before
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


def change_status(alert: Alert, status: str, actor: str, comment: str, now: datetime) -> Alert:
    """A user's decision about a live alert (see the module docstring)."""
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
    final = status in FINAL_STATUSES
    resolution = "manual" if final else None
    return replace(
        alert,
        status=status,
        resolution=resolution,
        resolved_at_ms=now_ms if final else None,
        updated_at_ms=now_ms,
        history=[*alert.history, StatusChange(status, now_ms, actor, comment, resolution)],
    )
