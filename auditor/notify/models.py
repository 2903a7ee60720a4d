"""What the notification pipeline works with: events, channels, subscriptions, windows.

Plain dataclasses; the stages (routing, window, cap, backoff, templates) are pure
functions over them, and the store/dispatcher/transports are the only I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from palisade.auditor.checks.taxonomy import SEVERITIES, Severity

Level = Severity
LEVELS: tuple[str, ...] = SEVERITIES
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}  # lower is more severe

# What a user subscribes to (the console's notification categories).
CATEGORIES: tuple[str, ...] = ("baseline", "alerts", "accesskey_leak", "vulnerabilities")

ChannelKind = Literal["email", "sms_hook", "inbox"]
CHANNEL_KINDS: tuple[str, ...] = ("email", "sms_hook", "inbox")

# A digest's delivery id starts with this (a message of what a window or a cap held).
DIGEST_PREFIX = "dg-"

# Every account has this inbox: always on, receives every notification, cannot be deleted.
ACCOUNT_INBOX = "inbox"


@dataclass(frozen=True)
class NotifyEvent:
    """An alert that should be notified (what `enqueue` is given): the alert's fields."""

    account_id: str
    alert_id: str
    instance_id: str
    check_id: str
    category: str  # the check's category: login, exposure, baseline, secrets, ...
    level: str  # serious / suspicious / remind
    title: str
    message: str
    count: int = 1
    first_seen_ms: int = 0
    last_seen_ms: int = 0
    subject: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the address the alert is about (a login's source), "" when none

    @property
    def label(self) -> str:
        """`[serious] Brute-force login attempts on i-1 (alert 7)`: one line naming it."""
        where = f" on {self.instance_id}" if self.instance_id else ""
        return f"[{self.level}] {self.title}{where} (alert {self.alert_id})"

    def to_payload(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "alert_id": self.alert_id,
            "instance_id": self.instance_id,
            "check_id": self.check_id,
            "category": self.category,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "count": self.count,
            "first_seen_ms": self.first_seen_ms,
            "last_seen_ms": self.last_seen_ms,
            "subject": self.subject,
            "details": self.details,
            "source": self.source,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> NotifyEvent:
        return cls(
            account_id=str(payload.get("account_id", "")),
            alert_id=str(payload.get("alert_id", "")),
            instance_id=str(payload.get("instance_id", "")),
            check_id=str(payload.get("check_id", "")),
            category=str(payload.get("category", "")),
            level=str(payload.get("level", "remind")),
            title=str(payload.get("title", "")),
            message=str(payload.get("message", "")),
            count=int(payload.get("count", 1)),
            first_seen_ms=int(payload.get("first_seen_ms", 0)),
            last_seen_ms=int(payload.get("last_seen_ms", 0)),
            subject=str(payload.get("subject", "")),
            details=dict(payload.get("details") or {}),
            source=str(payload.get("source", "")),
        )


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)  # write-only: never returned or logged
    sender: str = ""
    recipients: tuple[str, ...] = ()
    ca_pem: str = field(default="", repr=False)  # an extra CA to trust (a private relay)
    timeout_s: float = 10.0

    SECRET_FIELDS = ("password",)


@dataclass(frozen=True)
class SmsHookConfig:
    url: str
    secret_header: str = ""
    secret_value: str = field(default="", repr=False)  # write-only: never returned or logged
    body_template: str = ""  # JSON text with {placeholders}; "" means the default template
    timeout_s: float = 5.0

    SECRET_FIELDS = ("secret_value",)


@dataclass(frozen=True)
class InboxConfig:
    user_name: str = ""  # "" is the account-wide inbox; else a RAM user's own inbox

    SECRET_FIELDS = ()


ChannelConfig = EmailConfig | SmsHookConfig | InboxConfig


@dataclass(frozen=True)
class Channel:
    channel_id: str
    account_id: str
    name: str
    kind: str
    config: ChannelConfig
    max_per_hour: int | None = None  # None: no cap
    created_at_ms: int = 0

    @property
    def paced(self) -> bool:
        """Time windows and caps protect people from being woken or flooded; the inbox is
        silent, so it takes every message at once."""
        return self.kind != "inbox"


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    account_id: str
    category: str
    levels: frozenset[str]
    channel_ids: tuple[str, ...]
    created_at_ms: int = 0


@dataclass(frozen=True)
class NotificationWindow:
    """Local wall-clock hours during which notifications may go out, e.g. 08:00-22:00.

    `start == end` means all day; `start > end` wraps midnight (22:00-06:00)."""

    start: str = "00:00"
    end: str = "00:00"
    time_zone: str = "UTC"


ALWAYS_OPEN = NotificationWindow()


@dataclass(frozen=True)
class NotificationGrouping:
    """Alertmanager's timers for a group (one instance and source): the first message of a
    new group waits `group_wait_s` for the rest of it (a brute force and then its success,
    an inhibiting alert); later ones for the same group wait until `group_interval_s` after
    the group's previous message."""

    group_wait_s: int = 10
    # Alertmanager's default is 5 min; a security alert of a group that just had a message
    # (a success after its brute force was already sent) should not wait that long
    group_interval_s: int = 60

    MAX_S = 24 * 3600


DEFAULT_GROUPING = NotificationGrouping()


@dataclass(frozen=True)
class NotificationSettings:
    """One account's notification settings, as the dispatcher reads them."""

    account_id: str
    channels: dict[str, Channel]
    subscriptions: tuple[Subscription, ...] = ()
    window: NotificationWindow = ALWAYS_OPEN
    grouping: NotificationGrouping = DEFAULT_GROUPING
