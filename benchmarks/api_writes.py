"""What one API write costs as the fleet grows (issue 15): the latency of signed HTTP writes
on a model of 10,000 instances (2,000 groups, 100,000 rules) and on one of 100 instances
(20 groups, 1,000 rules), on SQLite and on PostgreSQL.

The model is built in memory on `ApiService.current()` with the model's own methods and
saved through the store (`CloudStateRepository.load()` / `save()`), not through the API, so
that it starts in seconds. Then an `ApiService` on that database serves the HTTP API on
loopback (the same `HttpApp` and waitress server `palisade serve` runs) and each of
AuthorizeSecurityGroup, RevokeSecurityGroup, ModifySecurityGroupAttribute, RunInstances,
JoinSecurityGroup and CreateUser is timed `--writes` times through the signed client of
`palisade api` (auditor/api/client.py), one request at a time, round robin over the six
actions. What a write adds is taken away after it, untimed (DeleteInstance,
LeaveSecurityGroup, DeleteUser; a revoke takes back the rule authorised before it), so the
model keeps its size while it is measured.

    .venv/bin/python benchmarks/api_writes.py [--instances 10000] [--writes 1000]
        [--backend sqlite|postgres|both]          (quick: --instances 1000 --writes 50)

Prints per-action lines, then one line per backend:
    api writes BACKEND: p50 X ms, p99 Y ms at N instances; p50 at N / p50 at 100 = R
Targets (SQLite): p50 <= 20 ms, p99 <= 50 ms, R <= 1.5. PostgreSQL is the server on
PALISADE_TEST_PG (default 127.0.0.1:5432), on a throwaway database; it is skipped, saying
why, when it cannot be reached.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sg_engine import load, random_rule  # the exposure benchmark's rule generator, load average

from palisade.auditor.api.client import Credentials, call
from palisade.auditor.api.http import HttpApp, start_http
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database
from tests.helpers.postgres import (
    PG_SERVER,
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
)

NOW = datetime.now(UTC)
REGION = "cn-hangzhou"
SMALL = 100  # the fleet the large one is compared with
GROUPS_PER_INSTANCE = 2
ACTIONS = (
    "AuthorizeSecurityGroup",
    "RevokeSecurityGroup",
    "ModifySecurityGroupAttribute",
    "RunInstances",
    "JoinSecurityGroup",
    "CreateUser",
)
FIRST_IP = int(ipaddress.IPv4Address("10.0.0.1"))  # the built instances
NEW_IP = int(ipaddress.IPv4Address("10.128.0.1"))  # RunInstances' instances
PEER_IP = int(ipaddress.IPv4Address("198.18.0.1"))  # the peers of the authorised rules


@dataclass
class Fleet:
    vpc_id: str
    groups: list[str]
    instances: list[str]
    member_of: dict[str, set[str]]


def sizes(instances: int) -> tuple[int, int]:
    """Groups and rules for a fleet of `instances`: the issue's 10,000 / 2,000 / 100,000
    (a group per 5 instances, 50 rules a group)."""
    groups = max(2, instances // 5)
    return groups, groups * 50


def build(url: str, n_instances: int, seed: int = 1) -> tuple[Credentials, Fleet]:
    """The fleet built on `ApiService.current()` and saved through the store; returns the
    first administrator's key."""
    store = Database(url)
    api = ApiService(store)
    admin = api.initialise()
    assert admin is not None, "the database is not new"
    state = api.current()
    cloud, account = state.cloud, state.account_id
    n_groups, n_rules = sizes(n_instances)
    rng = random.Random(seed)
    vpc = cloud.create_vpc(account, REGION, "10.0.0.0/8")
    groups = [
        cloud.create_security_group(
            account, REGION, now=NOW, name=f"group-{g}", vpc_id=vpc.vpc_id
        ).group_id
        for g in range(n_groups)
    ]
    per_group = n_rules // n_groups
    for gid in groups:
        rules = cloud.groups[gid].rules
        while len(rules) < per_group:
            request = random_rule(rng, groups)
            with contextlib.suppress(Exception):  # a duplicate drawn twice: draw again
                cloud.authorize(gid, request, NOW)
    member_of: dict[str, set[str]] = {}
    instances = []
    for i in range(n_instances):
        chosen = rng.sample(groups, GROUPS_PER_INSTANCE)
        instance = cloud.create_instance(
            account,
            REGION,
            created_at=NOW,
            vpc_id=vpc.vpc_id,
            private_ips=[str(ipaddress.IPv4Address(FIRST_IP + i))],
            public_ip=str(ipaddress.IPv4Address(0x2F000101 + i)),
            security_group_ids=chosen,
            instance_id=f"i-bench{i:06d}",
            name=f"web-{i}",
        )
        instances.append(instance.instance_id)
        member_of[instance.instance_id] = set(chosen)
    states = CloudStateRepository(store)
    loaded = states.load()
    assert loaded is not None
    version, _ = loaded
    states.save(version, state.to_document(), [], NOW)
    store.close()
    return Credentials(admin.access_key_id, admin.access_key_secret), Fleet(
        vpc.vpc_id, groups, instances, member_of
    )


@contextlib.contextmanager
def serving(url: str) -> Iterator[str]:
    """An ApiService that loads the saved model from the database, serving the HTTP API on a
    loopback port (what `palisade serve` mounts at /); yields its address."""
    store = Database(url)
    api = ApiService(store)
    assert api.initialise() is None  # the state exists: loaded, not created
    server = start_http(HttpApp(api), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        store.close()


@dataclass
class Writer:
    """Sends the writes, times the measured ones, and fails loudly on any refusal."""

    endpoint: str
    credentials: Credentials
    times: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})
    # this process's CPU time over each timed write (the server runs in it, the client waits):
    # what the write costs whatever else the machine is doing
    cpu: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})

    def send(self, action: str, **params: str) -> dict:
        status, body = call(self.endpoint, self.credentials, action, params, timeout=120)
        if status != 200:
            raise SystemExit(f"{action} {params} answered {status}: {body}")
        return body

    def timed(self, action: str, **params: str) -> dict:
        start, cpu = time.perf_counter(), time.process_time()
        body = self.send(action, **params)
        self.times[action].append((time.perf_counter() - start) * 1000)
        self.cpu[action].append((time.process_time() - cpu) * 1000)
        return body


def run_writes(writer: Writer, fleet: Fleet, writes: int) -> None:
    groups, instances = fleet.groups, fleet.instances
    # the first request loads the model: not a write's cost
    writer.send("ModifySecurityGroupAttribute", SecurityGroupId=groups[0], Description="warm")
    for i in range(writes):
        group = groups[i % len(groups)]
        peer = ipaddress.IPv4Address(PEER_IP + i)
        added = writer.timed(
            "AuthorizeSecurityGroup",
            SecurityGroupId=group,
            IpProtocol="tcp",
            PortRange=f"{20000 + i % 40000}/{20000 + i % 40000}",
            SourceCidrIp=f"{peer}/32",
            Priority="1",
        )
        rule_id = added["SecurityGroupRuleIds"]["SecurityGroupRuleId"][0]
        writer.timed("RevokeSecurityGroup", SecurityGroupId=group, SecurityGroupRuleId=rule_id)
        writer.timed(
            "ModifySecurityGroupAttribute", SecurityGroupId=group, Description=f"bench write {i}"
        )
        new = writer.timed(
            "RunInstances",
            RegionId=REGION,
            VpcId=fleet.vpc_id,
            SecurityGroupId=group,
            PrivateIpAddress=str(ipaddress.IPv4Address(NEW_IP + i)),
            InstanceName=f"bench-{i}",
        )["InstanceIdSets"]["InstanceIdSet"][0]
        writer.send("DeleteInstance", InstanceId=new, Force="true")
        instance = instances[i % len(instances)]
        other = next(
            g for g in groups[i % len(groups) :] + groups if g not in fleet.member_of[instance]
        )
        writer.timed("JoinSecurityGroup", InstanceId=instance, SecurityGroupId=other)
        writer.send("LeaveSecurityGroup", InstanceId=instance, SecurityGroupId=other)
        user = f"bench-user-{i}"
        writer.timed("CreateUser", UserName=user)
        writer.send("DeleteUser", UserName=user)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # nearest rank


def measure(url: str, n_instances: int, writes: int) -> list[float]:
    """Builds the fleet on `url`, times the writes; prints a line per action; returns every
    timed write's milliseconds."""
    n_groups, n_rules = sizes(n_instances)
    t0 = time.perf_counter()
    credentials, fleet = build(url, n_instances)
    print(
        f"  {n_instances:,} instances, {n_groups:,} groups, {n_rules:,} rules: built and "
        f"saved in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    t0 = time.perf_counter()
    with serving(url) as endpoint:
        writer = Writer(endpoint, credentials)
        run_writes(writer, fleet, writes)
    print(
        f"  {writes * len(ACTIONS):,} timed writes in {time.perf_counter() - t0:.0f} s ({load()})"
    )
    for action, times in writer.times.items():
        print(
            f"    {action:<30} p50 {statistics.median(times):8.1f} ms   "
            f"p99 {percentile(times, 0.99):8.1f} ms   max {max(times):8.1f} ms   "
            f"(CPU p50 {statistics.median(writer.cpu[action]):7.1f} ms)"
        )
    return [t for times in writer.times.values() for t in times]


def bench_backend(name: str, new_url: Callable[[], str], drop: Callable[[str], None], args):
    figures = {}
    for n in (args.instances, SMALL):
        print(f"{name}:", flush=True)
        url = new_url()
        try:
            figures[n] = measure(url, n, args.writes)
        finally:
            drop(url)
    large, small = figures[args.instances], figures[SMALL]
    p50 = statistics.median(large)
    print(
        f"api writes {name}: p50 {p50:.1f} ms, p99 {percentile(large, 0.99):.1f} ms at "
        f"{args.instances} instances; p50 at {args.instances} / p50 at {SMALL} = "
        f"{p50 / statistics.median(small):.2f}",
        flush=True,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=10_000)
    p.add_argument("--writes", type=int, default=1000, help="timed writes of each action")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = p.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            count = iter(range(1_000_000))
            bench_backend(
                "sqlite",
                lambda: f"sqlite:///{Path(tmp) / f'bench{next(count)}.db'}",
                lambda url: Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True),
                args,
            )
    if args.backend in ("postgres", "both"):
        if postgres_available():
            bench_backend("postgres", create_postgres_database, drop_postgres_database, args)
        else:
            print(f"api writes postgres: skipped, PostgreSQL is not reachable at {PG_SERVER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
