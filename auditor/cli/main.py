"""`palisade`: the auditor's command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
import time
from pathlib import Path

from google.protobuf import json_format

from palisade.auditor.api.instance_credentials import DEFAULT_TTL as DEFAULT_STS_TTL
from palisade.auditor.api.instance_credentials import MAX_TTL, MIN_TTL
from palisade.auditor.cli import alerts as alerts_cli
from palisade.auditor.cli import fleet as fleet_cli
from palisade.auditor.cli import keypairs as keypair_cli
from palisade.auditor.server.serve import DataDir, serve

DEFAULT_TOKEN_TTL = "1h"


def _data_dir(args) -> DataDir:
    return DataDir(Path(args.data_dir or os.environ.get("PALISADE_DATA_DIR") or "palisade-data"))


def _sts_ttl(text: str) -> int:
    low, high = int(MIN_TTL.total_seconds()), int(MAX_TTL.total_seconds())
    if not text.isdigit() or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(f"must be {low} to {high} seconds")
    return int(text)


def _duration(text: str) -> int:
    """'90s', '15m', '1h', '7d' -> milliseconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 1h or 7d")
    return int(text[:-1]) * units[text[-1]] * 1000


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


def cmd_serve(args) -> int:
    asyncio.run(
        serve(
            Path(args.data_dir or os.environ.get("PALISADE_DATA_DIR") or "palisade-data"),
            args.grpc,
            args.http,
            args.db,
            args.max_message_bytes,
            args.enroll,
            sts_ttl=dt.timedelta(seconds=args.sts_ttl),
            check_period_s=args.check_period,
        )
    )
    return 0


def cmd_token_create(args) -> int:
    d = _data_dir(args)
    instance_id = args.instance_id
    if (
        not instance_id
        or len(instance_id) > 128
        or not all(c.isalnum() or c in "-_." for c in instance_id)
    ):
        print(
            "error: --instance-id must be 1..128 letters, digits, '-', '_' or '.'", file=sys.stderr
        )
        return 2
    store = d.store()
    token = store.create_token(instance_id, int(time.time() * 1000), args.ttl)
    print(f"{token}.{d.ca().pin}")
    return 0


def cmd_instances(args) -> int:
    store = _data_dir(args).store()
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


def cmd_instance_show(args) -> int:
    store = _data_dir(args).store()
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
    view["key_pair"] = keypair_cli.instance_key_pair(_data_dir(args), args.instance_id)
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


def _error(code: str, message: str) -> int:
    print(json.dumps({"Code": code, "Message": message, "RequestId": ""}, indent=2))
    return 1


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`Name=Value` pairs; `Name=@FILE` reads the value from FILE (`@@` for a literal @)."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"{item!r} is not Name=Value")
        if value.startswith("@@"):
            value = value[1:]
        elif value.startswith("@"):
            value = Path(value[1:]).read_text()
        if name in params:
            raise ValueError(f"{name} is given twice")
        params[name] = value
    return params


def cmd_api(args) -> int:
    from palisade.auditor.api.client import Credentials, call

    d = _data_dir(args)
    try:
        params = parse_assignments(args.params)
    except (ValueError, OSError) as exc:
        return _error("InvalidParameter", str(exc))
    endpoint = d.state().get("http")
    if not endpoint:
        return _error(
            "AuditorNotFound",
            f"no auditor has written {d.state_file}: is "
            "`palisade serve` running with this --data-dir?",
        )
    try:
        credentials = Credentials.resolve(d.path)
    except LookupError as exc:
        return _error("MissingCredentials", str(exc))
    try:
        status, body = call(endpoint, credentials, args.action, params)
    except OSError as exc:
        return _error("AuditorUnreachable", f"cannot reach the auditor at {endpoint}: {exc}")
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0 if status == 200 else 1


def cmd_up(args) -> int:
    from palisade.auditor.server.local_stack import up

    return up(_data_dir(args).path, args.grpc, args.http, args.interval)


def cmd_down(args) -> int:
    from palisade.auditor.server.local_stack import down

    return down(_data_dir(args).path)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="palisade", description="The Palisade auditor.")
    p.add_argument(
        "--data-dir",
        help="the auditor's data dir (default $PALISADE_DATA_DIR, else ./palisade-data)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the auditor")
    s.add_argument("--data-dir", default=argparse.SUPPRESS)
    s.add_argument("--grpc", default="127.0.0.1:50051", help="agent port (HOST:PORT, port 0 = any)")
    s.add_argument("--enroll", help="enrolment port (HOST:PORT; default: the --grpc port + 1)")
    s.add_argument("--http", default="127.0.0.1:8080", help="API and dashboard port")
    s.add_argument(
        "--db",
        help="database URL (default: SQLite in the data dir; "
        "postgresql://... for several replicas)",
    )
    s.add_argument("--max-message-bytes", type=int, default=8 * 1024 * 1024)
    s.add_argument(
        "--check-period",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how often every instance is re-checked (they are also checked on every report)",
    )
    s.add_argument(
        "--sts-ttl",
        type=_sts_ttl,
        default=int(DEFAULT_STS_TTL.total_seconds()),
        metavar="SECONDS",
        help="lifetime of the STS credentials instances get for their RAM role "
        "(default 3600; 15 to 43200)",
    )
    s.set_defaults(func=cmd_serve)

    t = sub.add_parser("token", help="enrolment tokens")
    tsub = t.add_subparsers(dest="token_command", required=True)
    tc = tsub.add_parser("create", help="print a single-use enrolment token for one instance")
    tc.add_argument("--data-dir", default=argparse.SUPPRESS)
    tc.add_argument("--instance-id", required=True)
    tc.add_argument(
        "--ttl",
        type=_duration,
        default=_duration(DEFAULT_TOKEN_TTL),
        help="how long the token stays valid (default 1h)",
    )
    tc.set_defaults(func=cmd_token_create)

    i = sub.add_parser("instances", help="list the instances the auditor knows")
    i.add_argument("--data-dir", default=argparse.SUPPRESS)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_instances)

    inst = sub.add_parser("instance", help="one instance")
    isub = inst.add_subparsers(dest="instance_command", required=True)
    show = isub.add_parser("show", help="an instance's facts and history")
    show.add_argument("--data-dir", default=argparse.SUPPRESS)
    show.add_argument("instance_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_instance_show)
    a = sub.add_parser(
        "api",
        help="call one ECS-style action, e.g. "
        "`palisade api DescribeSecurityGroups RegionId=cn-hangzhou`",
    )
    a.add_argument("--data-dir", default=argparse.SUPPRESS)
    a.add_argument("action")
    a.add_argument("params", nargs="*", metavar="Name=Value")
    a.set_defaults(func=cmd_api)

    u = sub.add_parser("up", help="start an auditor and an agent on this host (make run)")
    u.add_argument("--data-dir", default=argparse.SUPPRESS)
    u.add_argument("--grpc", default="127.0.0.1:50051")
    u.add_argument("--http", default="127.0.0.1:8080")
    u.add_argument("--interval", type=float, default=10.0, help="agent snapshot interval (s)")
    u.set_defaults(func=cmd_up)
    dn = sub.add_parser("down", help="stop what `palisade up` started")
    dn.add_argument("--data-dir", default=argparse.SUPPRESS)
    dn.set_defaults(func=cmd_down)
    keypair_cli.add_commands(sub, _data_dir)
    alerts_cli.add_commands(sub, _data_dir)
    fleet_cli.add_commands(sub, _data_dir)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The data dir holds the CA key, the store (AccessKey secrets) and credentials:
    # nothing the auditor creates is readable by other users.
    os.umask(0o077)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
