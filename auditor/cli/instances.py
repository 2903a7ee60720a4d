"""`palisade instances` and `palisade instance show`: what the agents reported, read from
the auditor's store."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable

from google.protobuf import json_format

from palisade.auditor.cli.keypairs import instance_key_pair
from palisade.auditor.server.data_dir import DataDir


def _fmt_ms(ms: int) -> str:
    if not ms:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _instance_view(store, row: dict) -> dict:
    snap = store.latest_snapshot(row["instance_id"])
    view = dict(row)
    if snap is None:
        view["listeners"], view["authorized_keys"], view["sshd"] = [], [], None
        return view
    as_dict = json_format.MessageToDict(
        snap, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    view["listeners"] = as_dict.get("listeners", [])
    view["authorized_keys"] = as_dict.get("authorized_keys", [])
    view["sshd"] = as_dict.get("sshd")
    view["collector_errors"] = as_dict.get("errors", [])
    return view


def cmd_instances(d: DataDir, args) -> int:
    store = d.store()
    rows = [_instance_view(store, r) for r in store.instances()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'INSTANCE':<24} {'HOSTNAME':<20} {'OS':<22} {'LISTENERS':>9} {'KEYS':>5}  LAST SEEN")
    for r in rows:
        keys = sum(len(f.get("keys", [])) for f in r["authorized_keys"])
        os_name = f"{r['os_name']} {r['os_version']}".strip()
        print(
            f"{r['instance_id']:<24} {r['hostname'][:20]:<20} {os_name[:22]:<22} "
            f"{len(r['listeners']):>9} {keys:>5}  {_fmt_ms(r['last_seen_ms'])}"
        )
    return 0


def cmd_instance_show(d: DataDir, args) -> int:
    store = d.store()
    row = store.instance(args.instance_id)
    if row is None:
        print(
            json.dumps(
                {
                    "Code": "InvalidInstanceId.NotFound",
                    "Message": f"The specified instance {args.instance_id!r} does not exist.",
                }
            ),
            file=sys.stderr,
        )
        return 1
    view = _instance_view(store, row)
    view["history"] = store.history(args.instance_id)
    view["key_pair"] = instance_key_pair(d, args.instance_id)
    view["logins"] = store.recent_logins(args.instance_id)
    if args.json:
        print(json.dumps(view, indent=2))
        return 0
    print(f"{view['instance_id']}  {view['hostname']}  {view['os_name']} {view['os_version']}")
    print(f"  last seen {_fmt_ms(view['last_seen_ms'])}, agent {view['agent_version']}")
    print("  listeners:")
    for lis in view["listeners"]:
        print(
            f"    {lis['protocol']:<4} {lis['address']}:{lis['port']:<6} "
            f"{lis.get('process_name') or '?'} (pid {lis.get('pid') or '?'})"
        )
    print("  authorized keys:")
    for f in view["authorized_keys"]:
        for k in f.get("keys", []):
            what = (
                f"MALFORMED: {k.get('error')}"
                if k.get("malformed")
                else (f"{k['key_type']} {k['fingerprint_sha256']} {k.get('comment', '')}")
            )
            print(f"    {f['user']} {f['path']}:{k['line_number']} {what}")
    print("  recent logins:")
    for ev in view["logins"][:20]:
        print(
            f"    {_fmt_ms(ev['time_ms'])} {ev.get('result', '?'):<12} {ev.get('user', '?')} "
            f"from {ev.get('source_ip', '?')} ({ev.get('method', '?')})"
        )
    kp = view["key_pair"]
    for which in ("active", "pending"):
        if kp[which]:
            print(f"  key pair ({which}): {kp[which]['name']} {kp[which]['fingerprint']}")
    print("  history:")
    for c in view["history"][:30]:
        print(f"    {_fmt_ms(c['at_ms'])} {c['kind']:<22} {c['subject']}")
    return 0


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `instances` and `instance show` on the `palisade` parser."""
    i = sub.add_parser("instances", help="list the instances the auditor knows")
    i.add_argument("--data-dir", default=argparse.SUPPRESS)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=lambda args: cmd_instances(data_dir(args), args))

    inst = sub.add_parser("instance", help="one instance")
    isub = inst.add_subparsers(dest="instance_command", required=True)
    show = isub.add_parser("show", help="an instance's facts and history")
    show.add_argument("--data-dir", default=argparse.SUPPRESS)
    show.add_argument("instance_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=lambda args: cmd_instance_show(data_dir(args), args))
