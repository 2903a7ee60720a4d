"""Applies the sshd pattern table to one sshd message (the text after the syslog header)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.source_address import split_source
from palisade.agent.collectors.logins.sshd_patterns import SSHD_PATTERNS, SshdPattern

# Program names sshd logs under: "sshd" (the listener, and everything before OpenSSH 9.8),
# "sshd-session" (9.8+ per-connection process), "sshd-auth" (10.0+ pre-auth process); and
# Dropbear's. Old RHEL wrote PAM's lines as "sshd(pam_unix)[pid]: ..." (`program_name()`).
SSHD_PROGRAMS = frozenset(("sshd", "sshd-session", "sshd-auth", "dropbear"))
# Solaris/illumos syslog's message id: "sshd[1]: [ID 800047 auth.info] Failed password ..."
_SOLARIS_ID = re.compile(r"\[ID \d+ [\w.]+\] ")
# Dropbear writing to stderr (captured by a supervisor into syslog): "[pid] Mon dd hh:mm:ss "
_DROPBEAR_STAMP = re.compile(r"\[\d+\] [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")


def program_name(program: str) -> str | None:
    """The canonical program of a syslog tag, or None when it is not one we read."""
    if program in SSHD_PROGRAMS:
        return program
    if program.startswith("sshd(") and program.endswith(")"):
        return "sshd"
    return None


_PREAUTH = " [preauth]"
_LEVEL_PREFIXES = ("error: ", "fatal: ")
_PREFIX_LEN = 3
_PREFIX_META = set(".^$*+?{}[]\\|()")


# The named groups a row may fill, in the order `_Compiled.fields` holds their indices.
_FIELDS = ("user", "src", "port", "method", "key_type", "fp")
_NAMED_GROUP = re.compile(r"\(\?P([<=])(\w+)")


class _Compiled(NamedTuple):
    """One row inside its prefix group's combined regex: where its groups are."""

    row: SshdPattern
    # the combined regex's groups of the _FIELDS (the never-matching group where the row has
    # no such field): match.group(*fields) is the six values
    fields: tuple[int, ...]
    names: tuple[tuple[str, int], ...]  # every named group of the row, for classify()
    src_group: int  # the combined regex's group of `src`; 0: the row has none
    port_group: int  # ... of `port`
    user_group: int  # ... of `user`


class _PrefixGroup(NamedTuple):
    regex: re.Pattern[str]  # (?:(row1)|(row2)|...): one C-level match per message
    rows: dict[int, _Compiled]  # the outer group's index -> its row


def _combine(rows: list[SshdPattern]) -> _PrefixGroup:
    """The rows of one prefix as one alternation, in table order.

    fullmatch of `(A)|(B)` finds the first alternative that can match the whole message, with
    the same captures as fullmatch(A), then fullmatch(B): the table semantics, without a
    Python-level loop. `lastindex` is the wrapping group of the alternative that matched (it
    closes last). Group names are made unique per row.
    """
    parts: list[str] = []
    for number, row in enumerate(rows):
        re.compile(row.regex)  # a bad row fails here with its own regex in the message
        parts.append("(" + _NAMED_GROUP.sub(rf"(?P\1r{number}_\2", row.regex) + ")")
    # A last alternative that never matches: its group is None whatever matched, so a row's
    # missing fields can point at it and one match.group(*indices) call gives all six.
    parts.append("((?!))")
    regex = re.compile("|".join(parts))
    index = regex.groupindex
    never = regex.groups
    compiled: dict[int, _Compiled] = {}
    outer = 1
    for number, row in enumerate(rows):
        own = re.compile(row.regex)
        names = tuple((name, index[f"r{number}_{name}"]) for name in own.groupindex)
        by_name = dict(names)
        fields = tuple(by_name.get(name, never) for name in _FIELDS)
        compiled[outer] = _Compiled(
            row,
            fields,
            names,
            by_name.get("src", 0),
            by_name.get("port", 0),
            by_name.get("user", 0),
        )
        outer += own.groups + 1
    return _PrefixGroup(regex, compiled)


class SshdMessageParser:
    """The compiled table; `parse()` is the hot path (called for every sshd line).

    Rows are grouped by their first three characters (a dict lookup picks the only rows that
    can match) and each group is one combined regex (see `_combine`)."""

    def __init__(self, patterns: Iterable[SshdPattern] = SSHD_PATTERNS) -> None:
        grouped: dict[str, list[SshdPattern]] = {}
        for row in patterns:
            prefix = row.regex[:_PREFIX_LEN]
            if len(prefix) < _PREFIX_LEN or _PREFIX_META & set(prefix):
                raise ValueError(f"pattern {row.name!r} must start with 3 literal characters")
            grouped.setdefault(prefix, []).append(row)
        self._by_prefix = {prefix: _combine(rows) for prefix, rows in grouped.items()}

    def parse(
        self,
        message: str,
        *,
        time: datetime,
        raw: str,
        hostname: str | None = None,
        pid: int | None = None,
    ) -> LoginEvent | None:
        """The event one sshd message reports, or None."""
        found = self.match(message)
        if found is None or not found[0].row.event:
            return None
        return make_event(found, time, raw, hostname, pid)

    def match(self, message: str) -> tuple[_Compiled, re.Match[str], bool] | None:
        """The matching row, its match and whether the message carried [preauth]; no event
        built yet (so callers can skip timestamp work for lines that are not login messages)."""
        preauth = message.endswith(_PREAUTH)
        if preauth:
            message = message[: -len(_PREAUTH)]
        if message.startswith(_LEVEL_PREFIXES):
            message = message[7:]
        elif message.startswith("["):
            prefix = _SOLARIS_ID.match(message) or _DROPBEAR_STAMP.match(message)
            if prefix is not None:
                message = message[prefix.end() :]
                if message.startswith(_LEVEL_PREFIXES):
                    message = message[7:]
        group = self._by_prefix.get(message[:_PREFIX_LEN])
        if group is None:
            return None
        found = group.regex.fullmatch(message.rstrip())
        if found is None:
            return None
        return group.rows[found.lastindex], found, preauth  # type: ignore[index]

    def classify(self, message: str) -> SshdMatch | None:
        """Which row matches the message, and its named groups."""
        found = self.match(message)
        if found is None:
            return None
        compiled, match, preauth = found
        groups = {name: match.group(index) for name, index in compiled.names}
        return SshdMatch(compiled.row, groups, preauth)


class SshdMatch(NamedTuple):
    row: SshdPattern
    groups: dict[str, str | None]
    preauth: bool


def event_fields(
    found: tuple[_Compiled, re.Match[str], bool],
) -> tuple[str, str | None, str | None, str | None, int | None, str | None, str | None, str | None]:
    """(result, user, source_ip, source_host, source_port, method, key_type, fp) of a
    `SshdMessageParser.match()` result: what the line itself says."""
    compiled, match, preauth = found
    row = compiled.row
    user, src, port_text, method, key_type, fp = match.group(*compiled.fields)
    source_ip = source_host = None
    if src:
        source_ip, source_host = split_source(src)
    port = None
    if port_text and len(port_text) <= 5:
        port = int(port_text)
        if port > 65535:
            port = None
    if user is None:
        user = row.user
    elif not user:
        user = None  # "Invalid user  from ..." (empty name): nothing to report
    result = row.result_preauth if preauth and row.result_preauth else row.result
    return result, user, source_ip, source_host, port, method or row.method, key_type, fp


def make_event(
    found: tuple[_Compiled, re.Match[str], bool],
    time: datetime,
    raw: str,
    hostname: str | None,
    pid: int | None,
) -> LoginEvent:
    """The event of a `SshdMessageParser.match()` result, on its own (no session)."""
    result, user, source_ip, source_host, port, method, key_type, fp = event_fields(found)
    return LoginEvent(
        time,
        result,
        "sshd",
        raw,
        user,
        source_ip,
        port,
        method,
        key_type,
        fp,
        hostname,
        pid,
        source_host,
    )


DEFAULT_SSHD_PARSER = SshdMessageParser()
