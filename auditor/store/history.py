"""What changed between two snapshots of one host (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from palisade.shared.proto import facts_pb2


@dataclass(frozen=True)
class Change:
    kind: str  # listener_added, listener_removed, key_added, key_removed, ...
    subject: str  # a short human-readable identity of what changed
    detail: str  # JSON


def _listener_id(lis: facts_pb2.Listener) -> str:
    who = lis.process_name or (f"pid {lis.pid}" if lis.pid else "unknown process")
    return f"{lis.protocol} {lis.address}:{lis.port} ({who})"


def _key_ids(snapshot: facts_pb2.Snapshot) -> dict[str, dict]:
    keys: dict[str, dict] = {}
    for f in snapshot.authorized_keys:
        for k in f.keys:
            if k.malformed:
                subject = f"{f.user} {f.path}:{k.line_number} malformed line"
                keys[subject] = {"user": f.user, "path": f.path, "error": k.error}
            else:
                subject = f"{f.user} {f.path} {k.key_type} {k.fingerprint_sha256}"
                keys[subject] = {
                    "user": f.user,
                    "path": f.path,
                    "key_type": k.key_type,
                    "fingerprint_sha256": k.fingerprint_sha256,
                    "fingerprint_md5": k.fingerprint_md5,
                    "comment": k.comment,
                    "options": k.options,
                }
    return keys


def diff(old: facts_pb2.Snapshot | None, new: facts_pb2.Snapshot) -> list[Change]:
    """Changes from old to new; the first snapshot of a host is recorded as one change."""
    if old is None:
        return [
            Change(
                "first_snapshot",
                new.host.hostname,
                json.dumps(
                    {
                        "listeners": len(new.listeners),
                        "authorized_keys": sum(len(f.keys) for f in new.authorized_keys),
                    }
                ),
            )
        ]
    out: list[Change] = []
    before = {_listener_id(x): x for x in old.listeners}
    after = {_listener_id(x): x for x in new.listeners}
    for subject in sorted(after.keys() - before.keys()):
        lis = after[subject]
        out.append(
            Change(
                "listener_added",
                subject,
                json.dumps(
                    {
                        "protocol": lis.protocol,
                        "address": lis.address,
                        "port": lis.port,
                        "pid": lis.pid,
                        "process_name": lis.process_name,
                        "exe": lis.exe,
                        "user": lis.user,
                    }
                ),
            )
        )
    for subject in sorted(before.keys() - after.keys()):
        lis = before[subject]
        out.append(
            Change(
                "listener_removed",
                subject,
                json.dumps(
                    {
                        "protocol": lis.protocol,
                        "address": lis.address,
                        "port": lis.port,
                        "process_name": lis.process_name,
                    }
                ),
            )
        )
    kb, ka = _key_ids(old), _key_ids(new)
    for subject in sorted(ka.keys() - kb.keys()):
        out.append(Change("key_added", subject, json.dumps(ka[subject])))
    for subject in sorted(kb.keys() - ka.keys()):
        out.append(Change("key_removed", subject, json.dumps(kb[subject])))
    modes_before = {(f.user, f.path): f for f in old.authorized_keys}
    for f in new.authorized_keys:
        prev = modes_before.get((f.user, f.path))
        if prev is not None and (prev.mode, prev.owner) != (f.mode, f.owner):
            out.append(
                Change(
                    "key_file_permissions_changed",
                    f"{f.user} {f.path}",
                    json.dumps(
                        {
                            "before": {"owner": prev.owner, "mode": oct(prev.mode)},
                            "after": {"owner": f.owner, "mode": oct(f.mode)},
                        }
                    ),
                )
            )
    if old.host.boot_time and new.host.boot_time and old.host.boot_time != new.host.boot_time:
        out.append(
            Change(
                "rebooted",
                new.host.hostname,
                json.dumps({"before": old.host.boot_time, "after": new.host.boot_time}),
            )
        )
    if (old.host.os_name, old.host.os_version) != (new.host.os_name, new.host.os_version):
        out.append(
            Change(
                "os_changed",
                new.host.hostname,
                json.dumps(
                    {
                        "before": f"{old.host.os_name} {old.host.os_version}",
                        "after": f"{new.host.os_name} {new.host.os_version}",
                    }
                ),
            )
        )
    return out
