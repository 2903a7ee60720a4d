"""`palisade-agent`: the VM-side command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from palisade.shared import closed_pipe


def cmd_collect(args) -> int:
    from palisade.agent.snapshot import collect_snapshot

    snap = collect_snapshot(host_root=args.host_root)
    if args.json:
        from google.protobuf import json_format

        print(
            json.dumps(json_format.MessageToDict(snap, preserving_proto_field_name=True), indent=2)
        )
        return 0
    h = snap.host
    print(f"{h.hostname}  {h.os_name} {h.os_version}  kernel {h.kernel}  agent {h.agent_version}")
    print(f"listeners ({len(snap.listeners)}):")
    for lis in snap.listeners:
        who = lis.process_name or "?"
        print(
            f"  {lis.protocol:<4} {lis.address}:{lis.port:<6} {who} pid={lis.pid or '?'} "
            f"user={lis.user or '?'}"
        )
    print("authorized keys:")
    for f in snap.authorized_keys:
        print(f"  {f.path} (user {f.user}, owner {f.owner}, mode {oct(f.mode)}) {f.error}")
        for k in f.keys:
            what = (
                f"MALFORMED ({k.error})"
                if k.malformed
                else (f"{k.key_type} {k.bits} {k.fingerprint_sha256} {k.comment}")
            )
            print(f"    line {k.line_number}: {what}")
    for err in snap.errors:
        print(f"collector {err.collector} failed: {err.message}", file=sys.stderr)
    return 0


def cmd_enroll(args) -> int:
    from palisade.agent.enrolment import EnrolmentError, enroll

    auditors = [a.strip() for item in args.auditor for a in item.split(",") if a.strip()]
    ca_pem = Path(args.ca_file).read_bytes() if args.ca_file else None
    try:
        state = enroll(Path(args.state_dir), auditors, args.token, ca_pem, args.enroll_address)
    except EnrolmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"enrolled as {state.instance_id}; run `palisade-agent run --state-dir {args.state_dir}`")
    return 0


def cmd_run(args) -> int:
    from palisade.agent.runner import TaskFailed, run
    from palisade.agent.state import AgentState, EnrolmentError

    try:
        state = AgentState.load(Path(args.state_dir))
    except EnrolmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(
            run(
                state,
                args.interval,
                args.host_root,
                login_logs=args.login_log,
                event_interval=args.event_interval,
                spool_max_bytes=args.spool_max_mb * 1024 * 1024,
                metadata_address=None
                if args.metadata_address.lower() == "none"
                else args.metadata_address,
                metadata_require_token=args.metadata_require_token,
            )
        )
    except TaskFailed as exc:  # a task kept dying (agent/supervisor.py)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_status(args) -> int:
    from palisade.agent.health import report

    code, facts, lines = report(Path(args.state_dir))
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print("\n".join(lines))
    return code


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="palisade-agent", description="The Palisade host agent.")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("collect", help="print one snapshot of this host")
    c.add_argument("--json", action="store_true")
    c.add_argument("--host-root", default="/", help="inspect a filesystem mounted here")
    c.set_defaults(func=cmd_collect)

    e = sub.add_parser("enroll", help="exchange an enrolment token for a client certificate")
    e.add_argument(
        "--auditor",
        action="append",
        required=True,
        help="HOST:PORT of an auditor (repeat, or comma-separate, for replicas)",
    )
    e.add_argument("--token", required=True)
    e.add_argument("--state-dir", required=True)
    e.add_argument(
        "--enroll-address",
        help="the auditor's enrolment HOST:PORT (default: the first --auditor's port + 1)",
    )
    e.add_argument("--ca-file", help="the auditor's CA certificate, instead of fetching it")
    e.set_defaults(func=cmd_enroll)

    r = sub.add_parser("run", help="report to the auditor until stopped")
    r.add_argument("--state-dir", required=True)
    r.add_argument("--interval", type=float, default=30.0, help="seconds between snapshots")
    r.add_argument("--host-root", default="/")
    r.add_argument(
        "--login-log",
        action="append",
        metavar="PATH",
        help="follow this log for logins instead of the defaults "
        "(/var/log/auth.log or secure, else the journal; wtmp, btmp); `journald` is the "
        "journal, `journald:DIR` a journal directory; repeatable",
    )
    r.add_argument(
        "--metadata-address",
        default="127.0.0.1:51100",
        help="HOST:PORT to serve the instance's RAM role credentials on "
        "(/latest/meta-data/ram/security-credentials/); `none` turns it off",
    )
    r.add_argument(
        "--metadata-require-token",
        action="store_true",
        help="hardened mode: answer only requests with a token from PUT /latest/api/token",
    )
    r.add_argument(
        "--spool-max-mb",
        type=int,
        default=256,
        help="bound of the on-disk outbox; when full the oldest events are dropped (and counted)",
    )
    r.add_argument(
        "--event-interval", type=float, default=2.0, help="seconds between reads of the login logs"
    )
    r.set_defaults(func=cmd_run)

    s = sub.add_parser(
        "status", help="is the agent enrolled and running; its spool; last send and error"
    )
    s.add_argument("--state-dir", required=True)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    from palisade.agent.uninstall import add_command as add_uninstall

    add_uninstall(sub)

    sub.add_parser(
        "parse-log", help="the login events in a log file or journald (see parse-log --help)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    return closed_pipe.run(lambda: _main(sys.argv[1:] if argv is None else argv))


def _main(argv: list[str]) -> int:
    if argv[:1] == ["parse-log"]:  # its own parser: same options as fail2ban-regex style tools
        from palisade.agent import parse_log

        return parse_log.main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
