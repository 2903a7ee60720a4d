"""Stage 1, subscriptions: which channels an event goes to (pure)."""

from __future__ import annotations

from palisade.auditor.notify.models import ACCOUNT_INBOX, NotificationSettings, NotifyEvent

# A check's category -> the notification category users subscribe to.
CATEGORY_OF_CHECK = {
    "login": "alerts",
    "exposure": "alerts",
    "keypair": "alerts",
    "ddos": "alerts",
    "ram": "alerts",
    "baseline": "baseline",
    "secrets": "accesskey_leak",
    "vulnerability": "vulnerabilities",
}


def notification_category(check_category: str) -> str:
    """Unknown check categories notify as "alerts": a new check is never silently dropped."""
    return CATEGORY_OF_CHECK.get(check_category, "alerts")


def route(event: NotifyEvent, settings: NotificationSettings) -> list[str]:
    """The channel ids `event` goes to, in a stable order, each once.

    The account inbox is always on; other channels get what a subscription for the event's
    category and level names them in. A subscription naming a deleted channel is ignored."""
    category = notification_category(event.category)
    out = [ACCOUNT_INBOX]
    for sub in settings.subscriptions:
        if sub.category != category or event.level not in sub.levels:
            continue
        for channel_id in sub.channel_ids:
            if channel_id in settings.channels and channel_id not in out:
                out.append(channel_id)
    return out
