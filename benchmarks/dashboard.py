"""Server time of every dashboard page with a large fleet in the store.

Builds 10,000 modelled instances (VPC, 20 security groups of 20 rules), enrols them as
agents with a snapshot each, and stores 1,000,000 login events over 30 days; then renders
each page repeatedly in-process (the same code the HTTP server runs) and prints the median
and worst server time per page. Target: every page under 300 ms.

    .venv/bin/python benchmarks/dashboard.py [--instances 10000] [--events 1000000]
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from palisade.auditor.api.http import Request
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.model.network.security_group import RuleRequest
from palisade.auditor.store.database import Database
from palisade.auditor.web.app import SESSION_COOKIE, Dashboard
from palisade.shared.proto import agent_pb2, facts_pb2

NOW = datetime.now(UTC)


def build(url: str, n_instances: int, n_events: int) -> tuple[Database, ApiService, str]:
    store = Database(url)
    api = ApiService(store)
    admin = api.initialise()
    state = api.current()
    cloud, acct, region = state.cloud, state.account_id, "cn-hangzhou"
    vpc = cloud.create_vpc(acct, region, "10.0.0.0/8")
    groups = []
    for g in range(20):
        group = cloud.create_security_group(
            acct, region, now=NOW, name=f"group-{g}", vpc_id=vpc.vpc_id
        )
        for r in range(20):
            cloud.authorize(
                group.group_id,
                RuleRequest(
                    ip_protocol="tcp",
                    port_range=f"{1000 + r}/{1000 + r}",
                    peer_cidr=f"{(g * 7 + r) % 200 + 1}.0.0.0/8",
                    priority=r % 100 + 1,
                ),
                NOW,
            )
        groups.append(group.group_id)
    for i in range(n_instances):
        cloud.create_instance(
            acct,
            region,
            created_at=NOW,
            vpc_id=vpc.vpc_id,
            private_ips=[str(ipaddress.IPv4Address(0x0A000101 + i))],
            public_ip=str(ipaddress.IPv4Address(0x2F000101 + i)),
            security_group_ids=random.Random(i).sample(groups, 2),
            instance_id=f"i-{i:06d}",
            name=f"web-{i}",
        )
    api.version = api.states.save(api.version, state.to_document(), [], NOW)
    now_ms = int(NOW.timestamp() * 1000)
    for i in range(n_instances):
        iid = f"i-{i:06d}"
        store.record_enrolment(iid, f"host-{i}", i + 1, now_ms)
        snap = facts_pb2.Snapshot(
            snapshot_id=f"s{i}",
            instance_id=iid,
            collected_at_ms=now_ms,
            host=facts_pb2.HostInfo(
                hostname=f"host-{i}", os_family="linux", os_name="Debian", os_version="12"
            ),
        )
        for port in (22, 80, 5432):
            snap.listeners.add(
                protocol="tcp", family="ipv4", address="0.0.0.0", port=port, process_name="svc"
            )
        store.apply(
            agent_pb2.AgentMessage(message_id=f"m{i}", instance_id=iid, snapshot=snap), now_ms
        )
    rng = random.Random(7)
    batch = []
    span = 30 * 86400 * 1000
    for k in range(n_events):
        iid = f"i-{rng.randrange(n_instances):06d}"
        result = "failure" if rng.random() < 0.8 else "success"
        ev = facts_pb2.Event(
            event_id=f"e{k}",
            instance_id=iid,
            time_ms=now_ms - rng.randrange(span),
            login=facts_pb2.LoginEvent(
                user="root",
                result=result,
                source_ip=f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
                method="password",
                service="sshd",
            ),
        )
        batch.append(agent_pb2.AgentMessage(message_id=f"b{k}", instance_id=iid, event=ev))
        if len(batch) == 5000:
            store.apply_many(batch, now_ms)
            batch = []
    if batch:
        store.apply_many(batch, now_ms)
    return store, api, admin.user_name


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=10_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--db", help="postgresql://... (default: SQLite in a temporary folder)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        store, api, user = build(url, args.instances, args.events)
        print(
            f"built {args.instances:,} instances and {args.events:,} login events "
            f"in {time.perf_counter() - t0:.0f} s"
        )
        dash = Dashboard(api, store)
        # a session as the login page opens it: bound to the user's console credential where
        # sessions keep one (they end when it changes)
        ram = api.current().ram
        credential = (
            (ram.console_credential(user) or "",) if hasattr(ram, "console_credential") else ()
        )
        token, _ = dash.sessions.create(user, int(time.time() * 1000), *credential)
        group = sorted(api.current().cloud.groups)[1]
        pages = {
            "overview": "/ui/",
            "instances": "/ui/instances",
            "instances (search)": "/ui/instances?q=web-99&state=",
            "instances (page 100)": "/ui/instances?page=100",
            "instance": "/ui/instances/i-000042",
            "security groups": "/ui/security-groups",
            "instances (state=red)": "/ui/instances?state=red",
            "instances (state=grey)": "/ui/instances?state=grey",
            "security group": f"/ui/security-groups/{group}",
            "security group (explain)": f"/ui/security-groups/{group}?instance=i-000042"
            "&from=internet&proto=tcp&port=1005",
            "key pairs": "/ui/key-pairs",
            "key pairs (page 2)": "/ui/key-pairs?page=2",
            "alerts": "/ui/alerts",
            "alerts (serious, pending)": "/ui/alerts?level=serious&status=pending",
            "notifications": "/ui/notifications",
            "ram": "/ui/ram",
            "ram groups and roles": "/ui/ram/principals",
            "inbox": "/ui/inbox",
        }
        print(f"{'page':<28} {'median':>9} {'worst':>9}   (target < 300 ms)")
        worst_all = 0.0
        for name, path in pages.items():
            path_only, _, query = path.partition("?")
            times = []
            for _ in range(args.rounds):
                req = Request(
                    "GET",
                    path_only,
                    query,
                    {"cookie": f"{SESSION_COOKIE}={token}"},
                    b"",
                    "127.0.0.1",
                )
                t = time.perf_counter()
                reply = dash(req)
                times.append((time.perf_counter() - t) * 1000)
                assert reply.status == 200, (name, reply.status, reply.body[:300])
            worst_all = max(worst_all, max(times))
            print(f"{name:<28} {statistics.median(times):>7.1f} ms {max(times):>7.1f} ms")
        print(f"slowest page render: {worst_all:.1f} ms")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
