"""`palisade instances` and `palisade instance show`: every instance the auditor knows, the
ones it models (RunInstances, an applied fleet spec, an ECS import) and the ones whose agent
reports, with what the agents reported. The model is read through the auditor's API
(DescribeInstances, keypairs.py), the agents' reports from its store."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable

from google.protobuf import json_format

from palisade.auditor.cli.keypairs import (
    find_instance,
    key_pair_view,
    model_api,
    modelled_instances,
)
from palisade.auditor.fleetspec.apply import ApiCallError
from palisade.auditor.server.data_dir import DataDir


def _fmt_ms(ms: int) -> str:
    if not ms:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# the agent's fields of an instance no agent has reported for
_NO_AGENT = {
    "hostname": "",
    "os_family": "",
    "os_name": "",
    "os_version": "",
    "agent_version": "",
    "boot_time": 0,
    "enrolled_at_ms": 0,
    "last_seen_ms": 0,
    "snapshot_at_ms": 0,
}


def _no_auditor(err: ApiCallError) -> int:
    """The model cannot be read (no auditor running, no credentials, a refusal): said as the
    API says it, on stderr, exit 1."""
    print(json.dumps({"Code": err.code, "Message": err.message}), file=sys.stderr)
    return 1


def _instance_view(store, row: dict | None, instance_id: str, model: dict | None) -> dict:
    """What the agent reported (`row`, None when no agent has) beside the modelled instance."""
    view = {**(row or {"instance_id": instance_id, **_NO_AGENT}), "enrolled": row is not None}
    view["model"] = model
    snap = store.latest_snapshot(instance_id) if row is not None else None
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
    try:
        modelled = modelled_instances(model_api(d))
    except ApiCallError as err:
        return _no_auditor(err)
    store = d.store()
    reported = {r["instance_id"]: r for r in store.instances()}
    rows = [
        _instance_view(store, reported.get(iid), iid, modelled.get(iid))
        for iid in sorted(reported.keys() | modelled.keys())
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'INSTANCE':<24} {'REGION':<14} {'STATUS':<9} {'HOSTNAME':<20} {'OS':<22} "
        f"{'LISTENERS':>9} {'KEYS':>5}  AGENT LAST SEEN"
    )
    for r in rows:
        keys = sum(len(f.get("keys", [])) for f in r["authorized_keys"])
        os_name = f"{r['os_name']} {r['os_version']}".strip()
        model = r["model"] or {}
        seen = _fmt_ms(r["last_seen_ms"]) if r["enrolled"] else "no agent"
        print(
            f"{r['instance_id']:<24} {model.get('RegionId', '-'):<14} "
            f"{model.get('Status', 'unmodelled'):<9} {r['hostname'][:20]:<20} {os_name[:22]:<22} "
            f"{len(r['listeners']):>9} {keys:>5}  {seen}"
        )
    return 0


def cmd_instance_show(d: DataDir, args) -> int:
    try:
        model = find_instance(model_api(d), args.instance_id)
    except ApiCallError as err:
        return _no_auditor(err)
    store = d.store()
    row = store.instance(args.instance_id)
    if row is None and model is None:
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
    view = _instance_view(store, row, args.instance_id, model)
    view["history"] = store.history(args.instance_id)
    view["key_pair"] = key_pair_view(model)
    view["logins"] = store.recent_logins(args.instance_id)
    if args.json:
        print(json.dumps(view, indent=2))
        return 0
    print(f"{view['instance_id']}  {view['hostname']}  {view['os_name']} {view['os_version']}")
    if model is not None:
        addresses = (
            model["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
            or model["InnerIpAddress"]["IpAddress"]
        )
        print(
            f"  modelled: {model['RegionId']} {model['InstanceType']} {model['Status']}, "
            f"VPC {model['VpcAttributes']['VpcId'] or '-'}, "
            f"private {', '.join(addresses) or '-'}, "
            f"public {', '.join(model['PublicIpAddress']['IpAddress']) or '-'}, "
            f"groups {', '.join(model['SecurityGroupIds']['SecurityGroupId']) or '-'}"
        )
    else:
        print("  not modelled: no RunInstances, fleet spec or ECS import names it")
    if view["enrolled"]:
        print(f"  last seen {_fmt_ms(view['last_seen_ms'])}, agent {view['agent_version']}")
    else:
        print("  no agent has reported for this instance")
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
