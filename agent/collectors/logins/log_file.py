"""Reads a whole log file of any supported format into login events (what `parse-log` runs).

Formats: "syslog" (auth.log / secure), "journal-json" (`journalctl -o json`), "windows-xml"
(`wevtutil qe Security /f:xml`), "utmp" (wtmp/utmp; a file named btmp* holds failures).
`detect_format()` decides from the first bytes. `read_journald()` reads the journal itself
through `journalctl -o json` and the same journal-json reader (Debian 12 logs to journald only).
"""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import IO

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.journal import parse_journal_lines
from palisade.agent.collectors.logins.sessions import SessionTracker, forgive
from palisade.agent.collectors.logins.syslog import SyslogLineParser
from palisade.agent.collectors.logins.utmp import UTMP_RECORD_SIZE, is_btmp_path, parse_utmp
from palisade.agent.collectors.logins.windows_security import parse_windows_events_xml
from palisade.agent.collectors.logins.year_inference import YearResolver

FORMATS = ("syslog", "journal-json", "windows-xml", "utmp")
_SNIFF_BYTES = 8192


class LogFormatError(ValueError):
    """The file is not in the format asked for, or in none we know."""


class NoJournalError(LogFormatError):
    """There is no journal to read (no journal files, or journalctl failed)."""


# Where journald keeps its files: volatile, then persistent (systemd-journald.service(8)).
JOURNAL_DIRECTORIES = ("/run/log/journal", "/var/log/journal")


@dataclass
class LogFileResult:
    format: str
    events: list[LoginEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def detect_format(head: bytes, path: str = "") -> str:
    """The format of a file from its first bytes (and name, for empty utmp files)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        return "windows-xml"  # UTF-16: how PowerShell saves wevtutil's output
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<Event", b"<?xml", b"<!--")):
        return "windows-xml"
    if text.startswith(b"{"):
        return "journal-json"
    if b"\0" in head:
        if len(head) >= UTMP_RECORD_SIZE and _looks_like_utmp(head):
            return "utmp"
        raise LogFormatError("binary data that is not utmp/wtmp/btmp records")
    if not head:
        name = os.path.basename(path)
        if name.startswith(("wtmp", "btmp", "utmp")):
            return "utmp"
    return "syslog"


def read_log_file(
    path: str,
    *,
    format: str = "auto",
    year: int | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> LogFileResult:
    """All login events in a file. Raises OSError (unreadable) or LogFormatError.

    Syslog years: `year` is the first line's year; without it they are inferred from the
    file's modification time. `tz` is the zone of syslog timestamps that carry no offset
    (None: this machine's)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory")
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        mtime = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
        if format == "auto":
            format = detect_format(head, path)
        elif format not in FORMATS:
            raise LogFormatError(f"unknown format {format!r}")
        handle.seek(0)
        result = LogFileResult(format=format)
        if format == "syslog":
            reference = min(mtime, now) if now is not None else mtime
            if year is not None:
                years = YearResolver(year=year, tz=tz)
            else:
                years = YearResolver(reference=reference, tz=tz)
            parser = SyslogLineParser(years=years, tz=tz, sessions=SessionTracker())
            for line in _lines(handle):
                event = parser.parse(line)
                if event is not None:
                    result.events.append(event)
            forgive(result.events)
        elif format == "journal-json":
            _read_journal_json(_lines(handle), result)
        elif format == "windows-xml":
            parsed = parse_windows_events_xml(handle.read())
            if (
                parsed.errors
                and not parsed.events
                and any(error.startswith(("refused", "no <Event>")) for error in parsed.errors)
            ):
                raise LogFormatError("; ".join(parsed.errors))
            result.events, result.errors = parsed.events, parsed.errors
        else:
            result.events, result.errors = parse_utmp(handle.read(), failed=is_btmp_path(path))
    return result


def _read_journal_json(lines: Iterator[str], result: LogFileResult) -> None:
    result.events.extend(parse_journal_lines(lines))
    forgive(result.events)


def read_journald(directory: str | None = None, journalctl: str = "journalctl") -> LogFileResult:
    """All login events in the journal: `journalctl -o json` (of `directory`, a journal copied
    from another host, else this host's), read line by line as it comes. Every entry is read:
    sshd's identifiers vary (`sshd`, `sshd-session`, `sshd(pam_unix)`) beyond what a journalctl
    match can say, and the reader skips other entries on a substring test before parsing.
    Raises NoJournalError when there are no journal files or journalctl fails, OSError when
    journalctl cannot be run."""
    directories = (directory,) if directory else JOURNAL_DIRECTORIES
    if directory and not os.path.isdir(directory):
        raise NoJournalError(f"{directory} is not a directory")
    if not any(glob.glob(os.path.join(d, "**", "*.journal*"), recursive=True) for d in directories):
        raise NoJournalError(f"no journal files in {' or '.join(directories)}")
    command = [journalctl, "-o", "json", "--no-pager"]
    if directory:
        command += ["--directory", directory]
    result = LogFileResult(format="journal-json")
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LC_ALL": "C", "SYSTEMD_PAGER": ""},
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        _read_journal_json(_lines(proc.stdout), result)
        problem = proc.stderr.read().decode("utf-8", "backslashreplace").strip()
    if proc.returncode != 0:
        raise NoJournalError(f"journalctl exited {proc.returncode}: {problem[:500]}")
    if problem:  # e.g. journals this user may not read
        result.errors.append(f"journalctl: {problem[:500]}")
    return result


def _lines(handle: IO[bytes]) -> Iterator[str]:
    for line in handle:
        yield line.decode("utf-8", "backslashreplace")


def _looks_like_utmp(head: bytes) -> bool:
    """The first record has a known ut_type and a plausible pid."""
    ut_type = int.from_bytes(head[0:2], "little", signed=True)
    padding = head[2:4]
    pid = int.from_bytes(head[4:8], "little", signed=True)
    return 0 <= ut_type <= 9 and padding == b"\0\0" and 0 <= pid < 1 << 22
