"""`palisade keypair pubkey|verify` and the key-pair part of `palisade instance show`.

The CLI reads the auditor's database directly (no request to the auditor): the cloud state
document holds the instances and their key-pair bindings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.tools import ssh_private_keys

_UNREAD = object()  # instance_key_pair's `state` not given (None is "no state yet")


def load_state(d: DataDir):
    """The cloud state as the API last saved it; None before the first `palisade serve`."""
    from palisade.auditor.model.cloud_state import CloudState
    from palisade.auditor.store.cloud_state_repository import CloudStateRepository

    loaded = CloudStateRepository(d.store()).load()
    return None if loaded is None else CloudState.from_document(loaded[1])


def instance_key_pair(d: DataDir, instance_id: str, state=_UNREAD) -> dict:
    """The instance's key pair as the cloud sees it: active or pending, and whether the key
    pair itself still exists (a deleted one keeps showing its name). `state`: the cloud state
    when the caller has read it already."""
    from palisade.auditor.model.keypairs.service import binding_view

    if state is _UNREAD:
        state = load_state(d)
    if state is None:
        return binding_view(None)
    view = binding_view(state.keypairs.binding(instance_id))
    inst = state.cloud.instances.get(instance_id)
    for which in ("active", "pending"):
        bound = view[which]
        if bound is not None and inst is not None:
            key = (inst.account_id, inst.region_id, bound["name"])
            bound["deleted"] = key not in state.keypairs.pairs
    return view


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
    state = load_state(d)
    inst = state.cloud.instances.get(args.instance) if state else None
    if inst is None:
        return _fail(
            f"instance {args.instance!r} is not in the auditor's model (--data-dir {d.path})"
        )
    host = args.host
    if host is None:
        candidates = [inst.primary_nic.public_ip or "", *inst.private_ips]
        host, failed = ssh_login_probe.first_reachable(
            candidates, args.port, min(args.timeout, 5.0)
        )
        if host is None:
            tried = "; ".join(f"{h}: {why}" for h, why in failed) or "it has no address"
            return _fail(
                f"cannot reach {inst.instance_id} on port {args.port} ({tried}); "
                "give the address to use with --host"
            )
    key_pair = instance_key_pair(d, args.instance)
    report = ssh_login_probe.probe(
        host, args.port, args.user, args.key, args.password, timeout=args.timeout
    )
    expected = key_pair["pending"] or key_pair["active"]
    out = {
        "instance_id": inst.instance_id,
        **report.to_dict(),
        "key_fingerprint": fingerprint,
        "key_pair": key_pair,
        "key_matches_key_pair": bool(expected and expected["fingerprint"] == fingerprint),
        "replacement_worked": report.key_login.result == "accepted",
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{inst.instance_id} {report.user}@{host}:{args.port} {report.host_key_sha256}")
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
