"""One snapshot of a host: every collector, each failure recorded, never fatal."""

from __future__ import annotations

import logging
import time
import uuid

from palisade.agent.collectors import (
    access_keys,
    authorized_keys,
    baseline,
    host,
    listeners,
    packages,
    sshd_facts,
    traffic,
)
from palisade.shared.proto import facts_pb2

log = logging.getLogger("palisade.agent")


def collect_snapshot(instance_id: str = "", host_root: str = "/") -> facts_pb2.Snapshot:
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=int(time.time() * 1000),
    )
    steps = [
        ("host", lambda: snap.host.CopyFrom(host.collect(instance_id, host_root))),
        ("listeners", lambda: snap.listeners.extend(listeners.collect())),
        (
            "authorized_keys",
            lambda: snap.authorized_keys.extend(authorized_keys.collect(host_root)),
        ),
        ("sshd", lambda: snap.sshd.CopyFrom(sshd_facts.collect(host_root))),
        ("baseline", lambda: snap.baseline.CopyFrom(baseline.collect(host_root))),
        # the live host's interfaces, whatever the host root (like listeners)
        ("traffic", lambda: snap.traffic.CopyFrom(traffic.collect())),
        # cached against the package database: unchanged, it costs a few stat calls
        ("packages", lambda: snap.MergeFromString(packages.serialized(host_root))),
        (
            "access_keys",
            lambda: snap.plaintext_access_keys.extend(access_keys.collect(host_root)),
        ),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:
            log.exception("collector %s failed", name)
            snap.errors.append(facts_pb2.CollectorError(collector=name, message=str(exc)[:500]))
    return snap
