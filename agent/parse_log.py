"""`palisade-agent parse-log FILE`: the login events in a log file, like fail2ban-regex.

    parse-log FILE [--format auto|syslog|journal-json|windows-xml|utmp] [--year Y] [--json]

With --json, one JSON object a line with the contract fields (time, user, source_ip,
source_port, method, result, service, key_fingerprint, raw); otherwise a table. Notes about the
file (a truncated record, a damaged event) go to stderr. Exit status: 0 when the file was read
(even with no events), 2 for a usage error or a file that cannot be read or has no known format.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from palisade.agent.collectors.logins import FORMATS, LogFormatError, LoginEvent, read_log_file

EXIT_OK = 0
EXIT_BAD_INPUT = 2

_COLUMNS = ("time", "result", "method", "user", "source", "port", "service", "key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palisade-agent parse-log",
        description="Print the login events found in a log file.",
    )
    parser.add_argument(
        "file", help="auth.log / secure, journalctl -o json output, wevtutil XML, or wtmp/btmp"
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
    try:
        result = read_log_file(args.file, format=args.format, year=args.year)
    except OSError as exc:
        print(f"parse-log: cannot read {args.file}: {exc.strerror or exc}", file=err)
        return EXIT_BAD_INPUT
    except LogFormatError as exc:
        print(f"parse-log: {args.file}: {exc}", file=err)
        return EXIT_BAD_INPUT
    for note in result.errors:
        print(f"parse-log: {args.file}: {note}", file=err)
    if args.json:
        for event in result.events:
            out.write(json.dumps(event.to_json_dict()) + "\n")
    else:
        _print_table(result.events, out)
        print(f"{len(result.events)} events ({result.format})", file=err)
    return EXIT_OK


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
