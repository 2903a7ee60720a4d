"""sshd login events from syslog text lines (/var/log/auth.log, /var/log/secure).

Line shapes accepted (an optional "<PRI>" first):

- traditional BSD: `Nov 29 04:10:01 host sshd[123]: msg` (local time, no year: see
  year_inference.py);
- ISO-8601 / rsyslog high precision: `2026-11-29T04:10:01.123456+00:00 host sshd[123]: msg`
  (no offset: local time);
- RFC 5424 as sent on the wire: `<38>1 2026-11-29T04:10:01Z host sshd 123 - - msg`;
- macOS unified log: `2020-03-23 06:47:42.801612-0700  host sshd[1]: msg`;
- a facility.level between host and program (DD-WRT, OpenWrt's syslogd):
  `Jan 29 10:06:01 router authpriv.notice dropbear[815]: msg`.

Solaris's `[ID 800047 auth.info] ` before the message is removed by sshd.py. With a
`SessionTracker` (sessions.py) lines are grouped into sessions; without one each line stands
alone.

rsyslog's "message repeated N times: [ msg]" gives one event for msg with `repeat` = N.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.sessions import SessionTracker
from palisade.agent.collectors.logins.sshd import (
    DEFAULT_SSHD_PARSER,
    SshdMessageParser,
    make_event,
    program_name,
)
from palisade.agent.collectors.logins.year_inference import YearResolver

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_FACILITY = r"(?:[a-z0-9]+\.[a-z]+ )?"  # "authpriv.notice "
_TAIL = (
    r" {1,2}(?P<host>\S+) "
    + _FACILITY
    + r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d{1,10})\])?: ?(?P<msg>.*)"
)
_TRADITIONAL = re.compile(
    r"(?:<\d{1,3}>)?(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) "
    r"(?P<hms>\d\d:\d\d:\d\d)(?:\.\d{1,9})?" + _TAIL
)
_ISO_STAMP = (
    r"(?P<date>\d{4}-\d\d-\d\d)[T ](?P<time>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d\d:?\d\d)?"
)
_ISO = re.compile(r"(?:<\d{1,3}>)?" + _ISO_STAMP + _TAIL)
_RFC5424 = re.compile(
    r"<\d{1,3}>1 " + _ISO_STAMP + r" (?P<host>\S+) (?P<prog>\S+) (?P<pid>\S+) \S+"
    r" (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?:\ufeff)?(?P<msg>.*))?"
)
# The common case, a traditional line from sshd, in one match: the program alternatives are in
# the regex (a line from any other program fails inside the C matcher) and the time stamp is
# one group, the key of the time cache. Equivalent to _TRADITIONAL + the SSHD_PROGRAMS check.
_PROGRAMS = r"sshd-session|sshd-auth|sshd(?:\(\w+\))?|dropbear"  # program_name()'s
_TRADITIONAL_SSHD = re.compile(
    r"(?:<\d{1,3}>)?(?P<stamp>(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) "
    r"(?P<hms>\d\d:\d\d:\d\d))(?:\.\d{1,9})? (?P<host>\S+) "
    + _FACILITY
    + r"(?P<prog>"
    + _PROGRAMS
    + r")(?:\[(?P<pid>\d{1,10})\])?: ?(?P<msg>.*)"
)
_DAY_LAST_SECOND = timedelta(hours=23, minutes=59, seconds=59)
_REPEATED = re.compile(r"message repeated (?P<count>\d{1,9}) times: \[ ?(?P<msg>.*?)\]?")


def _plain_event(found, time: datetime, raw: str, host: str | None, pid: int | None):
    """Without a session tracker: lines that only inform a session give nothing."""
    if not found[0].row.event:
        return None
    return make_event(found, time, raw, host, pid)


class SyslogLineParser:
    """Parses one line at a time; keeps the year state a file needs (see YearResolver)."""

    def __init__(
        self,
        *,
        years: YearResolver | None = None,
        tz: tzinfo | None = None,
        sshd: SshdMessageParser = DEFAULT_SSHD_PARSER,
        sessions: SessionTracker | None = None,
    ) -> None:
        """`tz`: the zone of timestamps without an offset (None: this machine's local zone).
        `years` defaults to "the current year or the one before" relative to now."""
        self._tz = tz
        self._years = years or YearResolver(reference=datetime.now(UTC), tz=tz)
        self._sshd = sshd
        # the event of a matched line: through the session tracker, or on its own
        self._event = sessions.observe if sessions is not None else _plain_event
        # the last time stamp's text and its UTC time; the time is read only when the text matches
        self._last_stamp: str | None = None
        self._last_time = datetime.min
        self._day_key: str | None = None
        self._day_base: datetime | None = None

    def parse(self, line: str) -> LoginEvent | None:
        """The event a line reports, or None (not sshd, not a login message, malformed)."""
        if "sshd" not in line and "dropbear" not in line:  # cheap reject for a busy auth.log
            return None
        raw = line.rstrip("\r\n")
        first = raw[:1]
        if first.isdigit():
            match = _ISO.fullmatch(raw)
        elif first == "<":
            match = _RFC5424.fullmatch(raw) or _ISO.fullmatch(raw) or _TRADITIONAL.fullmatch(raw)
        else:
            return self._parse_traditional(raw)
        if match is None:
            return None
        program, message, host, pid_text = match.group("prog", "msg", "host", "pid")
        if message is None or program_name(program) is None:
            return None
        repeat = 1
        if message.startswith("message repeated "):
            repeated = _REPEATED.fullmatch(message)
            if repeated is not None:
                repeat = int(repeated["count"])
                message = repeated["msg"]
        found = self._sshd.match(message)
        if found is None:
            return None
        try:
            time = self._time(match)
        except (ValueError, OverflowError):
            return None
        if time is None:
            return None
        pid = int(pid_text) if pid_text and pid_text.isdigit() and len(pid_text) <= 10 else None
        event = self._event(found, time, raw, host, pid)
        if event is not None:
            event.repeat = repeat
        return event

    def _parse_traditional(self, raw: str) -> LoginEvent | None:
        """The hot path: `Mon dd hh:mm:ss host sshd[pid]: msg`, the bulk of an auth.log."""
        match = _TRADITIONAL_SSHD.fullmatch(raw)
        if match is None:
            return None
        stamp, host, pid_text, message = match.group(1, 5, 7, 8)
        repeat = 1
        if message.startswith("message repeated "):
            repeated = _REPEATED.fullmatch(message)
            if repeated is not None:
                repeat = int(repeated["count"])
                message = repeated["msg"]
        found = self._sshd.match(message)
        if found is None:
            return None
        if stamp != self._last_stamp:
            try:
                time = self._traditional_time(stamp, *match.group(2, 3, 4))
            except (ValueError, OverflowError):
                return None
            if time is None:
                return None
            self._last_stamp, self._last_time = stamp, time
        else:
            time = self._last_time
        event = self._event(found, time, raw, host, int(pid_text) if pid_text else None)
        if repeat != 1 and event is not None:
            event.repeat = repeat
        return event

    def _traditional_time(self, stamp: str, mon: str, day: str, hms: str) -> datetime | None:
        """UTC time of a traditional stamp. In reference mode a day's times are its midnight
        plus the seconds, cached, unless that day is not uniform (a DST change, the year
        boundary of the reference) and every stamp takes the full path."""
        month = _MONTHS.get(mon)
        if month is None:
            return None
        hour, minute, second = int(hms[0:2]), int(hms[3:5]), int(hms[6:8])
        if not self._years.stateless:
            return self._to_utc(self._years.resolve(month, int(day), hour, minute, second))
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError("time of day out of range")
        day_key = stamp[:-9]
        if day_key != self._day_key:
            self._day_key, self._day_base = day_key, self._uniform_day(month, int(day))
        if self._day_base is None:
            return self._to_utc(self._years.resolve(month, int(day), hour, minute, second))
        return self._day_base + timedelta(seconds=hour * 3600 + minute * 60 + second)

    def _uniform_day(self, month: int, day: int) -> datetime | None:
        """The UTC time of the day's midnight when the whole day maps to UTC by adding seconds
        (same year, no offset change); else None. Raises ValueError for an impossible date."""
        start = self._to_utc(self._years.resolve(month, day, 0, 0, 0))
        end = self._to_utc(self._years.resolve(month, day, 23, 59, 59))
        if end - start != _DAY_LAST_SECOND:
            return None
        return start

    def _time(self, match: re.Match[str]) -> datetime | None:
        if match.re is _TRADITIONAL:
            key = match.group(0)[: match.end("hms")]  # "<PRI>Mon dd hh:mm:ss"
            if key == self._last_stamp:
                return self._last_time
            stamp = match.group("mon", "day", "hms")
        else:
            stamp = None
        if stamp is not None:
            month = _MONTHS.get(stamp[0])
            if month is None:
                return None
            hour, minute, second = (int(part) for part in stamp[2].split(":"))
            wall = self._years.resolve(month, int(stamp[1]), hour, minute, second)
            time = self._to_utc(wall)
        else:
            key = match["date"] + match["time"] + (match["frac"] or "") + (match["zone"] or "")
            if key == self._last_stamp:
                return self._last_time
            time = self._iso_time(match)
        self._last_stamp, self._last_time = key, time
        return time

    def _iso_time(self, match: re.Match[str]) -> datetime:
        year, month, day = (int(part) for part in match["date"].split("-"))
        hour, minute, second = (int(part) for part in match["time"].split(":"))
        micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
        wall = datetime(year, month, day, hour, minute, second, micro)
        zone = match["zone"]
        if zone is None:
            return self._to_utc(wall)
        if zone == "Z":
            return wall.replace(tzinfo=UTC)
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= timedelta(hours=24):
            raise ValueError("offset out of range")
        return wall.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)

    def _to_utc(self, wall: datetime) -> datetime:
        if self._tz is None:
            return wall.astimezone(UTC)  # naive: taken as local time
        return wall.replace(tzinfo=self._tz).astimezone(UTC)
