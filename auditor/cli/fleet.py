"""`palisade apply FILE`, `palisade import-ecs FILE...`, `palisade sg explain` and
`palisade sg render-nft`.

Everything goes through the auditor's API (signed, authorised by RAM, audited). `apply` and
`import-ecs` first have the auditor run the whole plan on a copy of its current model
(DescribeFleetPlan: every step authorised for the caller, nothing stored): a file with a problem
anywhere changes nothing. None of them reads the auditor's database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from palisade.auditor.fleetspec.apply import ApiCallError, ApplyResult, Change, apply_fleet
from palisade.auditor.fleetspec.documents import load_document
from palisade.auditor.fleetspec.ecs_import import looks_like_ecs, parse_ecs
from palisade.auditor.fleetspec.fleet_file import parse_fleet
from palisade.auditor.fleetspec.spec import FleetSpec, SpecError
from palisade.auditor.server.data_dir import DataDir


def _fail(code: str, message: str, **extra: str) -> int:
    print(json.dumps({"Code": code, "Message": message, **extra}, indent=2, ensure_ascii=False))
    return 1


PLAN_TIMEOUT = 600.0  # seconds: a plan runs every step of a fleet before it answers


def remote_api(d: DataDir, timeout: float = 30.0):
    """`api(action, params) -> body` through signed requests to the auditor of `d`, each
    answered within `timeout` seconds."""
    from palisade.auditor.api.client import Credentials, call

    endpoint = d.state().get("http")
    if not endpoint:
        raise ApiCallError(
            "-", "AuditorNotFound", f"no auditor has written {d.state_file}: is it running?"
        )
    try:
        credentials = Credentials.resolve(d.path)
    except LookupError as exc:
        raise ApiCallError("-", "MissingCredentials", str(exc)) from None

    def api(action: str, params: dict[str, str]) -> dict:
        try:
            status, body = call(endpoint, credentials, action, params, timeout=timeout)
        except OSError as exc:
            raise ApiCallError(action, "AuditorUnreachable", f"{endpoint}: {exc}") from None
        if status != 200:
            # a plan names the step that failed (FailedAction)
            failed = body.get("FailedAction") or action
            raise ApiCallError(failed, body.get("Code", "Error"), body.get("Message", ""), status)
        return body

    return api


def remote_plan(d: DataDir, action: str, name: str, value: object) -> ApplyResult:
    """What the auditor of `d` answers to a plan action (DescribeFleetPlan with the fleet spec in
    `Fleet.N`, DescribeSyncPlan with a sync snapshot in `Snapshot.N`): the changes the steps would
    make, computed on a copy of its model. ApiCallError names the step that was refused."""
    from palisade.auditor.api.actions.ecs.plans import pack_params

    body = remote_api(d, PLAN_TIMEOUT)(action, pack_params(name, value))
    return ApplyResult(
        [Change(c["Action"], c["Resource"], c["Detail"]) for c in body["Changes"]["Change"]],
        list(body["Notes"]["Note"]),
    )


def own_account(d: DataDir) -> str:
    """The account the auditor of `d` models as its own (STS GetCallerIdentity)."""
    return str(remote_api(d)("GetCallerIdentity", {})["AccountId"])


def not_changed(err: ApiCallError) -> int:
    """A refused plan: nothing was changed. The auditor's absence or the caller's credentials
    are said as they are; a step names its action."""
    if err.action == "-":
        return _fail(err.code, err.message)
    return _fail(err.code, f"{err.action}: {err.message} (nothing was changed)", Action=err.action)


def _read(paths: list[str]) -> list[object]:
    docs = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError("$", f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
        docs.append(load_document(text, path))
    return docs


def _print_result(result: ApplyResult, as_json: bool, dry_run: bool) -> None:
    if as_json:
        out = {
            "DryRun": dry_run,
            "Changes": [
                {"Action": c.action, "Resource": c.resource, "Detail": c.detail}
                for c in result.changes
            ],
            "Notes": result.notes,
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    verb = "planned (dry run)" if dry_run else "made"
    for c in result.changes:
        print(f"{'plan' if dry_run else 'done'}: {c}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"{len(result.changes)} change(s) {verb}" if result.changes else "no changes")


def run_apply(d: DataDir, spec: FleetSpec, as_json: bool, dry_run: bool) -> int:
    try:
        planned = remote_plan(d, "DescribeFleetPlan", "Fleet", spec)
    except ApiCallError as err:
        return not_changed(err)
    if dry_run:
        _print_result(planned, as_json, True)
        return 0
    try:
        done = apply_fleet(spec, remote_api(d), own_account(d))
    except ApiCallError as err:
        return _fail(err.code, f"{err.action}: {err.message}", Action=err.action)
    _print_result(done, as_json, False)
    return 0


def cmd_apply(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    try:
        (document,) = _read([args.file])
        spec = parse_ecs([document]) if looks_like_ecs(document) else parse_fleet(document)
    except SpecError as err:
        return _fail("InvalidFleet.Malformed", str(err))
    return run_apply(data_dir(args), spec, args.json, args.dry_run)


def cmd_import_ecs(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    try:
        spec = parse_ecs(_read(args.files))
    except SpecError as err:
        return _fail("InvalidEcsDocument.Malformed", str(err))
    return run_apply(data_dir(args), spec, args.json, args.dry_run)


def _decision_text(d: dict | None) -> str:
    if d is None:
        return "-"
    text = f"{d['Verdict']} ({d['Kind']}): {d['Reason']}"
    for note in d.get("Notes") or []:
        text += f"; note: {note}"
    return text


def cmd_sg_explain(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    params = {"InstanceId": args.instance, "Source": args.source, "IpProtocol": args.proto}
    if args.port is not None:
        params["Port"] = str(args.port)
    try:
        body = remote_api(data_dir(args))("ExplainSecurityGroupDecision", params)
    except ApiCallError as err:
        return _fail(err.code, err.message)
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    if body["Reachable"]:
        verdict = "ALLOWED" if body["Complete"] else "PARTLY ALLOWED"
    else:
        verdict = "DENIED"
    port = f"/{body['Port']}" if body["IpProtocol"] in ("tcp", "udp") else ""
    print(f"{verdict}: {body['IpProtocol']}{port} from {body['Source']} to {body['InstanceId']}")
    if body["Reason"]:
        print(f"  ({body['Reason']})")
    for path in body["Paths"]["Path"]:
        outcome = "allowed" if path["Allowed"] else "denied"
        print(f"  {path['Sources']} -> {path['TargetIp']}: {outcome}")
        print(f"    ingress: {_decision_text(path['Ingress'])}")
        if path["Egress"] is not None:
            print(f"    source egress: {_decision_text(path['Egress'])}")
    return 0


def cmd_sg_render_nft(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    params = {"InstanceId": args.instance}
    for name, value in (
        ("NetworkInterfaceId", args.nic),
        ("InternetInterface", args.internet_iface),
        ("IntranetInterface", args.intranet_iface),
    ):
        if value:
            params[name] = value
    try:
        body = remote_api(data_dir(args))("RenderNftables", params)
    except ApiCallError as err:
        return _fail(err.code, err.message)
    sys.stdout.write(body["Ruleset"])
    return 0


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `apply`, `import-ecs` and `sg explain|render-nft` on the `palisade` parser."""
    a = sub.add_parser(
        "apply", help="make the auditor's model hold a declarative fleet (YAML or JSON)"
    )
    a.add_argument("--data-dir", default=argparse.SUPPRESS)
    a.add_argument("file", help="fleet file (see auditor/fleetspec/spec.py), or ECS API JSON")
    a.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=lambda args: cmd_apply(args, data_dir))

    i = sub.add_parser(
        "import-ecs",
        help="load groups and instances from the JSON the real ECS API returns "
        "(DescribeSecurityGroups, DescribeSecurityGroupAttribute, DescribeInstances)",
    )
    i.add_argument("--data-dir", default=argparse.SUPPRESS)
    i.add_argument("files", nargs="+", metavar="FILE")
    i.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=lambda args: cmd_import_ecs(args, data_dir))

    sg = sub.add_parser("sg", help="security-group questions")
    ssub = sg.add_subparsers(dest="sg_command", required=True)
    e = ssub.add_parser(
        "explain", help="can SRC reach an instance on a protocol/port, and which rule decides"
    )
    e.add_argument("--data-dir", default=argparse.SUPPRESS)
    e.add_argument("--instance", required=True)
    e.add_argument(
        "--from",
        dest="source",
        required=True,
        help="an IP, a CIDR, 'internet', an instance id or a security group id",
    )
    e.add_argument("--proto", default="tcp", help="tcp, udp, icmp, gre or icmpv6")
    e.add_argument("--port", type=int, help="destination port (tcp/udp)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=lambda args: cmd_sg_explain(args, data_dir))

    r = ssub.add_parser(
        "render-nft", help="the nftables ruleset enforcing an instance's security groups"
    )
    r.add_argument("--data-dir", default=argparse.SUPPRESS)
    r.add_argument("--instance", required=True)
    r.add_argument("--nic", help="network interface id (default: the primary NIC)")
    r.add_argument("--internet-iface", help="host interface of the internet NIC (classic)")
    r.add_argument("--intranet-iface", help="host interface of the intranet NIC (classic)")
    r.set_defaults(func=lambda args: cmd_sg_render_nft(args, data_dir))
