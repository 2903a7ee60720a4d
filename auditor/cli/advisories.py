"""`palisade advisories import PATH...` (OSV records into the store, which every replica
shares) and `palisade advisories status` (how many records, how old the feed is)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from palisade.auditor.checks.vulnerabilities.osv import OsvError, parse_osv, read_feed
from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.store import advisories as feed_store

MAX_ERRORS_SHOWN = 20


def _records(path: Path, errors: list[str]) -> Iterator[feed_store.StoredAdvisory]:
    for item in read_feed(path):
        if item.error:
            errors.append(f"{item.where}: {item.error}")
            continue
        try:
            adv = parse_osv(item.doc)
        except OsvError as exc:
            errors.append(f"{item.where}: {exc}")
            continue
        yield feed_store.StoredAdvisory(
            adv.id,
            adv.modified,
            tuple(sorted({a.ecosystem for a in adv.affected})),
            json.dumps(item.doc, separators=(",", ":"), ensure_ascii=False),
        )


def cmd_import(d: DataDir, args) -> int:
    store = d.store()
    status = 0
    for path in args.paths:
        if not path.exists():
            print(f"error: {path}: no such file or directory", file=sys.stderr)
            status = 1
            continue
        errors: list[str] = []
        records = list(_records(path, errors))
        summary = feed_store.import_advisories(
            store, records, str(path), int(time.time() * 1000), rejected=len(errors)
        )
        for line in errors[:MAX_ERRORS_SHOWN]:
            print(f"skipped {line}", file=sys.stderr)
        if len(errors) > MAX_ERRORS_SHOWN:
            print(f"... and {len(errors) - MAX_ERRORS_SHOWN} more skipped", file=sys.stderr)
        print(
            f"{path}: {len(records)} records: {summary.added} added, {summary.updated} updated,"
            f" {summary.unchanged} unchanged, {summary.rejected} rejected"
        )
        if errors and not records:
            status = 1
    return status


def cmd_status(d: DataDir, args) -> int:
    s = feed_store.feed_status(d.store())
    now_ms = int(time.time() * 1000)
    if args.json:
        print(
            json.dumps(
                {
                    "Records": s.records,
                    "Imports": s.imports,
                    "LastImportMs": s.last_import_ms,
                    "LastSource": s.last_source,
                    "NewestModified": s.newest_modified,
                    "AgeSeconds": s.age_s(now_ms),
                }
            )
        )
        return 0
    if not s.imports:
        print("no advisory feed imported: the vulnerability check does not run")
        return 0
    last = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((s.last_import_ms or 0) / 1000))
    print(f"records:         {s.records}")
    print(f"newest record:   {s.newest_modified or '-'}")
    print(f"feed age:        {feed_store.describe_age(s.age_s(now_ms))}")
    print(f"last import:     {last} from {s.last_source} ({s.imports} imports)")
    return 0


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `advisories import` and `advisories status` on the `palisade` parser."""
    a = sub.add_parser("advisories", help="the OSV advisory feed of the vulnerability check")
    asub = a.add_subparsers(dest="advisories_command", required=True)
    imp = asub.add_parser(
        "import",
        help="store OSV records: .json files, directories, osv.dev's per-ecosystem all.zip",
    )
    imp.add_argument("--data-dir", default=argparse.SUPPRESS)
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    imp.set_defaults(func=lambda args: cmd_import(data_dir(args), args))
    st = asub.add_parser("status", help="how many records are stored and how old the feed is")
    st.add_argument("--data-dir", default=argparse.SUPPRESS)
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.set_defaults(func=lambda args: cmd_status(data_dir(args), args))
