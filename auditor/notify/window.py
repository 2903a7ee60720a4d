"""Stage 2, the time window: may a message go out now, and if not, when (pure).

Wall-clock hours in the account's IANA time zone (zoneinfo), so daylight-saving changes
move the window with the clock on the wall, as a person expects.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from palisade.auditor.notify.models import NotificationWindow

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_hhmm(text: str) -> time:
    m = _HHMM.fullmatch(text or "")
    if not m:
        raise ValueError(f"{text!r} is not a time of day HH:MM (00:00..23:59)")
    return time(int(m.group(1)), int(m.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None


def validate(window: NotificationWindow) -> None:
    parse_hhmm(window.start)
    parse_hhmm(window.end)
    zone(window.time_zone)


def is_open(window: NotificationWindow, now: datetime) -> bool:
    start, end = parse_hhmm(window.start), parse_hhmm(window.end)
    if start == end:
        return True
    local = now.astimezone(zone(window.time_zone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight


def next_open(window: NotificationWindow, now: datetime) -> datetime:
    """`now` when the window is open, else the next moment it opens (aware UTC)."""
    if is_open(window, now):
        return now
    tz = zone(window.time_zone)
    start = parse_hhmm(window.start)
    day = now.astimezone(tz).date()
    for offset in range(3):
        local = datetime.combine(day + timedelta(days=offset), start, tzinfo=tz)
        # a start inside a DST gap does not exist: zoneinfo maps it past the gap
        at = local.astimezone(UTC)
        if at > now:
            return at
    raise AssertionError("a daily window opens within two days")  # pragma: no cover
