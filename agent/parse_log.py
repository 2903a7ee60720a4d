"""`palisade-agent parse-log [FILE]`: the login events in a log file, like fail2ban-regex.

    parse-log FILE [--format auto|syslog|journal-json|windows-xml|utmp] [--year Y] [--json]
    parse-log [--directory DIR] [--json]

Without FILE it reads journald (`journalctl -o json`, through the same reader as a saved
journal-json file; `--directory`: a journal copied from another host), else the first of
/var/log/auth.log and /var/log/secure that exists; when there is none of them it says so.

With --json, one JSON object a line with the contract fields (time, user, source_ip,
source_port, method, result, service, key_fingerprint, raw); otherwise a table. Notes about the
file (a truncated record, a damaged event) go to stderr. Exit status: 0 when the file was read
(even with no events), 2 for a usage error or a file that cannot be read or has no known format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from palisade.agent.collectors.logins import (
    FORMATS,
    LogFileResult,
    LogFormatError,
    LoginEvent,
    NoJournalError,
    read_journald,
    read_log_file,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2

# Read when no FILE is given and there is no journal (Debian/Ubuntu, then RHEL's name).
SYSLOG_FILES = ("/var/log/auth.log", "/var/log/secure")

_COLUMNS = ("time", "result", "method", "user", "source", "port", "service", "key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palisade-agent parse-log",
        description="Print the login events found in a log file, or in journald.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        help="auth.log / secure, journalctl -o json output, wevtutil XML, or wtmp/btmp "
        "(default: journald, else /var/log/auth.log or /var/log/secure)",
    )
    parser.add_argument(
        "--directory",
        metavar="DIR",
        help="read the journal files in DIR (journalctl --directory) instead of this host's",
    )
    parser.add_argument("--format", choices=("auto", *FORMATS), default="auto")
    parser.add_argument(
        "--year",
        type=int,
        default=None,
        help="year of the first line, for syslog timestamps without one "
        "(default: inferred from the file's modification time)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error
        return EXIT_OK if exc.code == 0 else EXIT_BAD_INPUT
    if args.year is not None and not 1 <= args.year <= 9998:
        print(f"parse-log: --year {args.year} is out of range", file=err)
        return EXIT_BAD_INPUT
    if args.file is not None and args.directory is not None:
        print("parse-log: give a FILE or --directory, not both", file=err)
        return EXIT_BAD_INPUT
    name = args.file
    try:
        if name is None:
            name, result = _default_source(args)
        else:
            result = read_log_file(name, format=args.format, year=args.year)
    except _NothingToRead as exc:
        print(f"parse-log: {exc}", file=err)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"parse-log: cannot read {name}: {exc.strerror or exc}", file=err)
        return EXIT_BAD_INPUT
    except LogFormatError as exc:
        print(f"parse-log: {name}: {exc}", file=err)
        return EXIT_BAD_INPUT
    for note in result.errors:
        print(f"parse-log: {name}: {note}", file=err)
    if args.json:
        for event in result.events:
            out.write(json.dumps(event.to_json_dict()) + "\n")
    else:
        _print_table(result.events, out)
        print(f"{len(result.events)} events ({result.format})", file=err)
    return EXIT_OK


class _NothingToRead(Exception):
    """No FILE given, and neither a journal nor a syslog file to read."""


def _default_source(args: argparse.Namespace) -> tuple[str, LogFileResult]:
    """journald, else the first syslog file there is: (what was read, its events)."""
    if args.format not in ("auto", "journal-json"):
        raise _NothingToRead(f"--format {args.format} needs a FILE")
    try:
        return "journald", read_journald(args.directory)
    except (NoJournalError, FileNotFoundError) as exc:
        if args.directory is not None:
            raise _NothingToRead(f"cannot read the journal in {args.directory}: {exc}") from exc
        journal_problem = str(exc) if isinstance(exc, NoJournalError) else "no journalctl"
    for path in SYSLOG_FILES:
        if os.path.exists(path):
            return path, read_log_file(path, format=args.format, year=args.year)
    raise _NothingToRead(
        f"no FILE given, and this host has no journal to read ({journal_problem}) and no "
        f"{' or '.join(SYSLOG_FILES)}; name a log file: parse-log FILE"
    )


def _print_table(events: list[LoginEvent], out: TextIO) -> None:
    rows = [_COLUMNS]
    for event in events:
        data = event.to_json_dict()
        rows.append(
            (
                str(data["time"]),
                event.result,
                event.method or "-",
                _printable(event.user) or "-",
                str(data["source_ip"] or "-"),
                str(event.source_port or "-"),
                event.service,
                event.key_fingerprint or "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")


def _printable(text: str | None) -> str | None:
    """User names come from the remote party: keep control characters off the terminal."""
    if text is None:
        return None
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


if __name__ == "__main__":
    sys.exit(main())
