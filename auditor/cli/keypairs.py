"""`palisade keypair pubkey|verify`, and the reads of the modelled instances that `verify`,
`palisade instances` and `palisade instance show` share.

The model is read through the auditor's signed API as any other command reads it (the data
dir's credentials, RAM, the running auditor): DescribeAccounts, DescribeRegions and
DescribeInstances, whose answer carries the instance's key pair binding (`KeyPairBinding`:
the active key pair, the one pending until the next restart). None of it reads the auditor's
database."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator

from palisade.auditor.fleetspec.apply import Api, ApiCallError
from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.tools import ssh_private_keys

INSTANCE_PAGE = 100  # DescribeInstances' largest page


def model_api(d: DataDir) -> Api:
    """Signed calls to the auditor of `d`; ApiCallError when there is none running
    (AuditorNotFound, AuditorUnreachable) or no credentials for it (MissingCredentials)."""
    from palisade.auditor.cli.fleet import remote_api

    return remote_api(d)


def _places(api: Api) -> Iterator[dict[str, str]]:
    """Every (account, region) the model has, as DescribeInstances' parameters."""
    regions = [r["RegionId"] for r in api("DescribeRegions", {})["Regions"]["Region"]]
    for account in api("DescribeAccounts", {})["Accounts"]["Account"]:
        for region in regions:
            yield {"RegionId": region, "ResourceOwnerAccount": account["AccountId"]}


def modelled_instances(api: Api) -> dict[str, dict]:
    """instance id -> the instance as DescribeInstances answers it, for every instance of every
    modelled account and region."""
    out: dict[str, dict] = {}
    for place in _places(api):
        number = 1
        while True:
            body = api(
                "DescribeInstances",
                {**place, "PageNumber": str(number), "PageSize": str(INSTANCE_PAGE)},
            )
            page = body["Instances"]["Instance"]
            out.update((i["InstanceId"], i) for i in page)
            if len(page) < INSTANCE_PAGE or number * INSTANCE_PAGE >= int(body["TotalCount"]):
                break
            number += 1
    return out


def find_instance(api: Api, instance_id: str) -> dict | None:
    """The instance as DescribeInstances answers it, None when the model has no such one."""
    ids = json.dumps([instance_id])
    for place in _places(api):
        found = api("DescribeInstances", {**place, "InstanceIds": ids})["Instances"]["Instance"]
        if found:
            return found[0]
    return None


def key_pair_view(instance: dict | None) -> dict:
    """The instance's key pair as the cloud sees it, from its DescribeInstances answer: active
    or pending, and whether the key pair itself still exists (a deleted one keeps showing its
    name). None (not modelled): no key pair."""
    from palisade.auditor.model.keypairs.service import binding_view

    binding = (instance or {}).get("KeyPairBinding")
    if not binding:
        return binding_view(None)

    def bound(key: dict | None) -> dict | None:
        if key is None:
            return None
        return {
            "name": key["KeyPairName"],
            "fingerprint": key["KeyPairFingerPrint"],
            "deleted": key["Deleted"],
        }

    return {
        "status": binding["Status"],
        "active": bound(binding["Active"]),
        "pending": bound(binding["Pending"]),
        "pending_detach": binding["PendingDetach"],
        "password_login_enabled": binding["PasswordLoginEnabled"],
        "requested_at": binding["RequestedAt"],
    }


def instance_key_pair(d: DataDir, instance_id: str) -> dict:
    """The key pair of the instance `instance_id` as the auditor of `d` answers it."""
    return key_pair_view(find_instance(model_api(d), instance_id))


def addresses(instance: dict) -> list[str]:
    """Where to reach an instance (DescribeInstances' answer): its public address, then every
    private address of its network interfaces."""
    private = [
        ip["PrivateIpAddress"]
        for nic in instance["NetworkInterfaces"]["NetworkInterface"]
        for ip in nic["PrivateIpSets"]["PrivateIpSet"]
    ]
    return [*instance["PublicIpAddress"]["IpAddress"], *private]


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_pubkey(args) -> int:
    try:
        with open(args.file, "rb") as f:
            data = f.read(1 << 20)
        print(ssh_private_keys.public_key_line(data))
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror or exc}")
    except ssh_private_keys.PrivateKeyError as exc:
        return _fail(f"{args.file}: {exc}", 1)
    return 0


def cmd_verify(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    from palisade.auditor.tools import ssh_login_probe
    from palisade.shared import sshkeys

    try:
        with open(args.key, "rb") as f:
            public_line = ssh_private_keys.public_key_line(f.read(1 << 20))
    except OSError as exc:
        return _fail(f"{args.key}: {exc.strerror or exc}")
    except ssh_private_keys.PrivateKeyError as exc:
        return _fail(f"{args.key}: {exc}")
    fingerprint = sshkeys.parse_public_key(public_line).fingerprint_md5
    d = data_dir(args)
    try:
        inst = find_instance(model_api(d), args.instance)
    except ApiCallError as err:
        return _fail(f"{err.code}: {err.message}")
    if inst is None:
        return _fail(
            f"instance {args.instance!r} is not in the auditor's model (--data-dir {d.path})"
        )
    instance_id = inst["InstanceId"]
    host = args.host
    if host is None:
        host, failed = ssh_login_probe.first_reachable(
            addresses(inst), args.port, min(args.timeout, 5.0)
        )
        if host is None:
            tried = "; ".join(f"{h}: {why}" for h, why in failed) or "it has no address"
            return _fail(
                f"cannot reach {instance_id} on port {args.port} ({tried}); "
                "give the address to use with --host"
            )
    key_pair = key_pair_view(inst)
    report = ssh_login_probe.probe(
        host, args.port, args.user, args.key, args.password, timeout=args.timeout
    )
    expected = key_pair["pending"] or key_pair["active"]
    out = {
        "instance_id": instance_id,
        **report.to_dict(),
        "key_fingerprint": fingerprint,
        "key_pair": key_pair,
        "key_matches_key_pair": bool(expected and expected["fingerprint"] == fingerprint),
        "replacement_worked": report.key_login.result == "accepted",
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{instance_id} {report.user}@{host}:{args.port} {report.host_key_sha256}")
        for attempt in (report.key_login, report.password_login):
            print(f"  {attempt.method:<9} {attempt.result:<8} {attempt.detail}")
        if expected:
            state_word = "pending" if key_pair["pending"] else "active"
            match = "matches" if out["key_matches_key_pair"] else "does NOT match"
            print(f"  the key {match} key pair {expected['name']} ({state_word})")
    return 0 if out["replacement_worked"] else 1


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `keypair pubkey` and `keypair verify` on the `palisade` parser."""
    k = sub.add_parser("keypair", help="SSH key pair tools")
    ksub = k.add_subparsers(dest="keypair_command", required=True)
    pub = ksub.add_parser("pubkey", help="print a private key's OpenSSH public key (ssh-keygen -y)")
    pub.add_argument("file", help="private key: PKCS#8, traditional PEM or OpenSSH format")
    pub.set_defaults(func=cmd_pubkey)
    v = ksub.add_parser(
        "verify", help="log in to an instance with a private key; report password login too"
    )
    v.add_argument("--data-dir", default=argparse.SUPPRESS)
    v.add_argument("--instance", required=True, help="instance id in the auditor's model")
    v.add_argument("--key", required=True, help="private key file (e.g. from CreateKeyPair)")
    v.add_argument(
        "--host",
        help="address to connect to (default: the instance's public address, else the first "
        "of its private ones that accepts a connection)",
    )
    v.add_argument("--port", type=int, default=22)
    v.add_argument("--user", default="root")
    v.add_argument("--password", help="also try this password (else: is password login offered)")
    v.add_argument("--timeout", type=float, default=10.0)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=lambda args: cmd_verify(args, data_dir))
