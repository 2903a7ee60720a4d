"""Security-group engine figures (issue 3, item 5): decisions per second on a NIC with
5 groups x 100 rules (compiled vs a naive linear scan over the rules), and the time to compute
`exposure` for every instance of a fleet of 10,000 such instances (vs a naive linear scan),
both ratios measured in the same run.

Then the compiled fleet kept current (issue 15): the time to build the fleet's exposure index
whole, against the time to update it after one rule change and after one instance joining a
group, each followed by every instance's exposure again (what the next sweep pays).

Run: .venv/bin/python benchmarks/sg_engine.py   (the defaults are the issue's scenario)
     [--instances N] [--groups G] [--rule-sets K] [--isolated-groups D] [--seed S]
Targets: compiled decide >= 50x naive; fleet exposure <= 5 s.

Times are wall clock and CPU time of this process; the load average is printed with them
because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import datetime

from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import (
    CompiledPolicy,
    Flow,
    naive_decide,
    resolve_nic_policy,
)
from palisade.auditor.model.network.exposure import exposure
from palisade.auditor.model.network.exposure_index import ExposureIndex
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NicType,
    RuleRequest,
)

NOW = datetime(2024, 1, 1)
PROTOCOLS = ["tcp", "tcp", "tcp", "udp", "icmp", "all"]


def random_rule(rng: random.Random, group_ids: list[str]) -> RuleRequest:
    proto = rng.choice(PROTOCOLS)
    if proto in ("tcp", "udp"):
        start = (
            rng.choice([22, 80, 443, 3306, 3389, 6379, 8080])
            if rng.random() < 0.5
            else rng.randint(1, 65535)
        )
        end = start if rng.random() < 0.7 else min(65535, start + rng.randint(1, 2000))
        ports = f"{start}/{end}"
    else:
        ports = "-1/-1"
    direction = "ingress" if rng.random() < 0.8 else "egress"
    policy = "accept" if rng.random() < 0.75 else "drop"
    if group_ids and rng.random() < 0.1:
        return RuleRequest(
            direction,
            proto,
            ports,
            peer_group_id=rng.choice(group_ids),
            policy=policy,
            priority=rng.randint(1, 100),
        )
    length = rng.choice([0, 8, 16, 24, 32, 32])
    net = rng.getrandbits(32) & (((1 << length) - 1) << (32 - length)) if length else 0
    return RuleRequest(
        direction,
        proto,
        ports,
        peer_cidr=ipv4.format_cidr(net, length),
        policy=policy,
        priority=rng.randint(1, 100),
    )


def build_fleet(
    instances: int, rule_sets: int, groups: int, seed: int, isolated_groups: int = 0
) -> tuple[CloudModel, list[str]]:
    """`groups` groups of 100 rules in one VPC; `rule_sets` distinct 5-group combinations
    spread over `instances` instances (instances with the same role share their groups, as
    the ECS security guide advises). The first `isolated_groups` groups have
    InnerAccessPolicy Drop, so their members reach each other only through rules."""
    rng = random.Random(seed)
    limits = Limits(private_ips_per_normal_group=1_000_000)
    model = CloudModel(limits)
    model.add_account("1001")
    model.add_region("cn-hangzhou")
    vpc = model.create_vpc("1001", "cn-hangzhou", "10.0.0.0/8")
    gids: list[str] = []
    for n in range(groups):
        g = model.create_security_group(
            "1001",
            "cn-hangzhou",
            now=NOW,
            name=f"g{n}",
            vpc_id=vpc.vpc_id,
            inner_access_policy="Drop" if n < isolated_groups else "Accept",
        )
        gids.append(g.group_id)
    for gid in gids:
        group = model.groups[gid]
        while len(group.rules) < 100:
            model.authorize(gid, random_rule(rng, gids), NOW)
    combos = [rng.sample(gids, 5) for _ in range(rule_sets)]
    ids = []
    for n in range(instances):
        inst = model.create_instance(
            "1001",
            "cn-hangzhou",
            created_at=NOW,
            vpc_id=vpc.vpc_id,
            private_ips=[ipv4.format_ip(ipv4.parse_ip("10.0.0.0") + 1 + n)],
            public_ip=ipv4.format_ip(ipv4.parse_ip("47.0.0.0") + 1 + n),
            security_group_ids=combos[n % rule_sets],
        )
        ids.append(inst.instance_id)
    return model, ids


def random_flows(rng: random.Random, dst: str, n: int) -> list[Flow]:
    flows = []
    for _ in range(n):
        proto = rng.choice([IpProtocol.TCP, IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP])
        port = (
            rng.choice([22, 80, 443, 3306, 8080, rng.randint(1, 65535)])
            if proto in (IpProtocol.TCP, IpProtocol.UDP)
            else 0
        )
        peer = ipv4.format_ip(rng.getrandbits(32))
        if rng.random() < 0.8:
            flows.append(Flow(Direction.INGRESS, proto, peer, dst, port, NicType.INTRANET))
        else:
            flows.append(Flow(Direction.EGRESS, proto, dst, peer, port, NicType.INTRANET))
    return flows


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


class Stopwatch:
    """Wall clock and this process's CPU time."""

    def __enter__(self) -> Stopwatch:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bench_decide(model: CloudModel, instance_id: str, seed: int) -> None:
    policy = resolve_nic_policy(model, instance_id)
    rng = random.Random(seed)
    dst = model.instances[instance_id].primary_nic.private_ips[0]
    flows = random_flows(rng, dst, 20000)
    t = time.perf_counter()
    engine = CompiledPolicy(policy)
    compile_s = time.perf_counter() - t
    for f in flows:  # warm the lazily built address maps, as a long-running auditor would
        engine.decide(f)
    with Stopwatch() as compiled_t:
        for f in flows:
            engine.decide(f)
    sample = flows[:2000]
    with Stopwatch() as naive_t:
        for f in sample:
            naive_decide(policy, f)
    compiled = len(flows) / compiled_t.cpu
    naive = len(sample) / naive_t.cpu
    mismatches = sum(engine.decide(f) != naive_decide(policy, f) for f in sample)
    print(
        f"decide: NIC with {len(policy.rules)} rules in 5 groups; compile {compile_s * 1000:.1f} ms"
    )
    print(f"  compiled: {compiled:,.0f} decisions/s (CPU time; {load()})")
    print(f"  naive linear scan: {naive:,.0f} decisions/s")
    print(
        f"  ratio: {compiled / naive:.0f}x (target >= 50x); mismatches on {len(sample)} flows: "
        f"{mismatches}"
    )


def bench_exposure(
    instances: int, rule_sets: int, groups: int, isolated: int, seed: int
) -> tuple[CloudModel, list[str]]:
    t = time.perf_counter()
    model, ids = build_fleet(instances, rule_sets, groups, seed, isolated)
    print(
        f"\nexposure: fleet of {instances} instances, each NIC with 5 groups x 100 rules; "
        f"{groups} groups ({isolated} with InnerAccessPolicy Drop) in {rule_sets} distinct "
        f"5-group rule sets (built in {time.perf_counter() - t:.1f} s)"
    )
    with Stopwatch() as fleet_t:
        index = ExposureIndex(model)
        reports = {iid: exposure(model, iid, index) for iid in ids}
    exposed = sum(1 for r in reports.values() if r.internet)
    print(
        f"  all {instances} instances: {fleet_t.wall:.2f} s wall, {fleet_t.cpu:.2f} s CPU "
        f"(target <= 5 s; {load()})"
    )
    print(f"  {exposed} exposed to the internet")
    # Without sharing: no two instances share a rule set.
    n_sets = min(rule_sets, instances, 100)
    index2 = ExposureIndex(model)
    with Stopwatch() as per_set_t:
        for iid in ids[:n_sets]:
            exposure(model, iid, index2)
    per_set = per_set_t.cpu / n_sets
    print(
        f"  per distinct rule set (nothing shared): {per_set * 1000:.1f} ms CPU -> worst case "
        f"(every instance its own rule set) {per_set * instances:.0f} s"
    )
    # Baseline: a naive linear scan over the rules answering a smaller question (which ports
    # some internet address reaches, at most 64 probe addresses) for a few instances; its
    # time is a lower bound for a naive scan of the whole report.
    sample = ids[: max(1, min(3, instances))]
    with Stopwatch() as naive_t:
        for iid in sample:
            naive_internet_exposure(model, iid)
    naive_per = naive_t.cpu / len(sample)
    print(
        f"  naive linear scan (internet part only, a lower bound): {naive_per * 1000:.0f} ms "
        f"CPU per instance -> {naive_per * instances:.0f} s for the fleet"
    )
    print(
        f"  ratio: {naive_per * instances / fleet_t.cpu:.0f}x for the fleet, "
        f"{naive_per / per_set:.0f}x per instance without sharing (CPU time)"
    )
    return model, ids


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_updates(model: CloudModel, ids: list[str], seed: int) -> None:
    """The compiled fleet kept current: a whole build against an update after one change,
    each then followed by every instance's exposure (the next sweep)."""
    rng = random.Random(seed)
    print(f"\ncompiled fleet kept current ({len(ids)} instances, {len(model.groups)} groups):")
    builds = []
    for _ in range(3):
        with Stopwatch() as build_t:
            index = ExposureIndex(model)
        builds.append((build_t.wall, build_t.cpu))
    with Stopwatch() as sweep_t:
        for iid in ids:
            exposure(model, iid, index)
    print(
        f"  full index build: {_ms(min(builds)[0])} wall, {_ms(min(builds)[1])} CPU (best of 3); "
        "then every instance's "
        f"exposure: {sweep_t.wall:.2f} s ({load()})"
    )
    gids = sorted(model.groups)

    def timed(what: str, groups: list[str], instances: list[str]) -> None:
        with Stopwatch() as update_t:
            done = index.update(groups, instances)
        with Stopwatch() as again_t:
            reports = {iid: exposure(model, iid, index) for iid in ids}
        fresh = ExposureIndex(model)
        sample = ids[:: max(1, len(ids) // 200)]
        wrong = sum(reports[iid] != exposure(model, iid, fresh) for iid in sample)
        print(
            f"  update after {what}: {_ms(update_t.wall)} wall, {_ms(update_t.cpu)} CPU; then "
            "every instance's exposure: "
            f"{again_t.wall:.2f} s ({done['rule sets dropped']} rule sets recompiled, "
            f"{done['rule sets cleared']} with their members' part; {wrong} of {len(sample)} "
            "sampled reports differ from a fresh index)"
        )

    g = rng.choice(gids)
    model.modify_rule(g, model.groups[g].rules[0].rule_id, random_rule(rng, gids))
    timed("one rule change", [g], [])
    # a NIC is in at most 5 groups: the instance leaves one, then joins another
    iid = rng.choice(ids)
    own = model.instances[iid].primary_nic.security_group_ids
    model.leave(iid, own[0])
    timed("one instance leaving a group", [], [iid])
    model.join(iid, rng.choice([g for g in gids if g not in own]))
    timed("one instance joining a group", [], [iid])


def naive_internet_exposure(model: CloudModel, instance_id: str) -> set[tuple[str, int]]:
    """(protocol, port) pairs reachable from some internet address, by scanning all rules for
    one probe address per elementary address interval and each port boundary."""
    policy = resolve_nic_policy(model, instance_id)
    dst = model.instances[instance_id].primary_nic.private_ips[0]
    cuts = {0}
    ports = {1}
    for r in policy.rules:
        for lo, hi in r.peers:
            cuts.update((lo, hi + 1))
        ports.update((r.port_lo, r.port_hi + 1))
    probes = [c for c in cuts if ipv4.is_internet(c)][:64]
    open_ = set()
    for proto in (IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP):
        for port in (
            sorted(p for p in ports if 1 <= p <= 65535) if proto is not IpProtocol.ICMP else [0]
        ):
            for peer in probes:
                f = Flow(
                    Direction.INGRESS, proto, ipv4.format_ip(peer), dst, port, NicType.INTRANET
                )
                if naive_decide(policy, f).allowed:
                    open_.add((proto.value, port))
                    break
    return open_


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=60, help="groups of 100 rules")
    parser.add_argument("--rule-sets", type=int, default=500, help="distinct 5-group combinations")
    parser.add_argument(
        "--isolated-groups", type=int, default=10, help="groups with InnerAccessPolicy Drop"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model, ids = build_fleet(1, 1, 5, args.seed)
    bench_decide(model, ids[0], args.seed)
    model, ids = bench_exposure(
        args.instances, args.rule_sets, args.groups, args.isolated_groups, args.seed
    )
    bench_updates(model, ids, args.seed)


if __name__ == "__main__":
    main()
