"""Proof against the kernel: on hundreds of random rule sets, the engine's verdict for every
probe equals what Linux lets through when `render_nft`'s ruleset is loaded with real nftables.

The lab (network namespaces, only addresses inside them):

    peer "vpc" ns  eth0 --- vpc0  "instance" ns  net0 --- eth0  peer "net" ns
    10.199.0.1 (VPC, no instance)   10.199.0.10 (private IP)   198.51.100.7, 198.51.100.200,
    10.199.0.21, .0.22 (members of  198.18.0.10 (public IP,    203.0.113.9 (internet)
      the instance's groups)          classic)                 100.64.3.4, 192.168.5.5
    10.199.1.21, .1.22 (other group),                            (private, outside the VPC)
    10.199.1.30 (other group + the instance's first),
    10.199.2.5 (a group of another account)

"Internet" peers use documentation ranges (198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15),
which the model counts as internet (`ipv4.INTERNET_SPACE`): 100.64.0.0/10 is private for it.
In a VPC, public traffic reaches the private NIC, so in VPC rule sets the "net" peers probe the
private IP; in classic rule sets they probe the public IP over the internet NIC (`net0`).

Every rule set is a fresh `CloudModel` (VPC or classic; normal or enterprise groups; 1-3 groups
on the instance with random InnerAccessPolicy; random rules: priorities with ties, accept and
drop, overlapping CIDRs, port ranges, group authorisations (the instance's groups, another
group, an empty group, another account's group), tcp/udp/icmp/all/gre/icmpv6,
ingress and egress; SMTP unblock on or off). Its ruleset replaces the instance namespace's
(`flush ruleset` in the same transaction); then every peer address probes the instance (TCP
connect, UDP echo, ICMP echo; open and closed ports) and the instance probes every peer address
(egress), all at once. A probe passed if anything came back (a TCP RST or an ICMP port
unreachable for a closed port counts: the packet got through); drops are silent, so the first
pass waits only FAST_TIMEOUT_S and a probe the model allows but that timed out is probed again
with SLOW_TIMEOUT_S before it counts as a disagreement. An egress probe passes only if its
reply comes back in, mostly where no ingress rule would let it: that is connection tracking
(statefulness), and the test requires such probes.

Reproduce: PALISADE_SG_KERNEL_SEED=<seed> [PALISADE_SG_KERNEL_ONLY=<index,...>]
[PALISADE_SG_KERNEL_RULESETS=<count>] pytest -s tests/integration/test_sg_kernel.py
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import pytest

from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.limits import DEFAULT_LIMITS, Limits
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import (
    DEFAULT_EGRESS_ACCEPT,
    DEFAULT_EGRESS_DROP,
    DEFAULT_INGRESS_DROP,
    INNER_ACCEPT,
    PLATFORM_SMTP,
    RULE,
    CompiledPolicy,
    Decision,
    Flow,
    resolve_nic_policy,
)
from palisade.auditor.model.network.nft_render import render_nft
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NicType,
    RulePolicy,
    RuleRequest,
)
from tests.helpers.network_namespaces import BLOCKED, PASSED, Agent, Lab, Namespace, Probe
from tests.helpers.system import require_binary, require_root

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]

NOW = datetime(2024, 1, 1, 12, 0, 0)
REGION = "cn-hangzhou"
ACCOUNT = "1001"
FOREIGN_ACCOUNT = "1002"
VPC_CIDR = "10.199.0.0/16"
INSTANCE_IP = "10.199.0.10"
PUBLIC_IP = "198.18.0.10"

VPC_PEERS = ("10.199.0.1", "10.199.0.21", "10.199.0.22", "10.199.1.21", "10.199.1.22",
             "10.199.1.30", "10.199.2.5")  # fmt: skip
NET_PEERS = ("198.51.100.7", "198.51.100.200", "203.0.113.9", "100.64.3.4", "192.168.5.5")
NET_ROUTES = ("198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10", "192.168.0.0/16")

TCP_LISTENING = (22, 25, 80, 443, 8080)
TCP_CLOSED = (8081,)
UDP_LISTENING = (53, 123, 5000)
UDP_CLOSED = (5001,)

FAST_TIMEOUT_S = 0.08
SLOW_TIMEOUT_S = 2.0
# Source ports / ICMP ids: batch k uses TAG_BASE + k, its recheck RECHECK_BASE + k (below the
# ephemeral range), so no probe meets a conntrack entry of an earlier ruleset.
TAG_BASE = 1000
RECHECK_BASE = 16000
MAX_RULE_SETS = RECHECK_BASE - TAG_BASE
EGRESS_ICMP_ID_OFFSET = 32768  # ingress and egress echoes of a batch never share an id

# Port range ends around the probed ports: ranges overlap each other and the probes' edges.
PORT_MARKS = (1, 21, 22, 23, 24, 25, 26, 52, 53, 54, 79, 80, 81, 122, 123, 124, 442, 443, 444,
              4999, 5000, 5001, 5002, 8079, 8080, 8081, 8082, 65535)  # fmt: skip
CIDR_POOL = ("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "192.0.0.0/2", "10.0.0.0/8",
             "10.199.0.0/16", "10.199.0.0/17", "10.199.0.0/24", "10.199.0.16/28",
             "10.199.0.20/30", "10.199.1.0/24", "10.199.1.16/28", "10.199.2.0/23",
             "198.51.100.0/24", "198.51.100.0/25", "198.51.100.128/25", "203.0.113.0/24",
             "198.0.0.0/8", "100.64.0.0/10", "192.168.0.0/16", "172.16.0.0/12")  # fmt: skip
PRIORITIES = (1, 1, 1, 2, 2, 3, 5, 10, 50, 99, 100)


# ------------------------------------------------------------------------------ rule sets


@dataclass
class RuleSet:
    index: int
    model: CloudModel
    instance_id: str
    classic: bool
    groups: list[str]  # the instance's
    summary: str

    @property
    def interfaces(self) -> dict[NicType, str] | None:
        return {NicType.INTRANET: "vpc0", NicType.INTERNET: "net0"} if self.classic else None

    def describe(self) -> str:
        lines = [
            self.summary,
            f"instance {self.instance_id} (private {INSTANCE_IP}, public {PUBLIC_IP})",
        ]
        for inst in self.model.instances.values():
            nic = inst.primary_nic
            if inst.instance_id != self.instance_id:
                lines.append(f"member {nic.private_ips[0]}: {nic.security_group_ids}")
        lines.append(f"other groups: {sorted(set(self.model.groups) - set(self.groups))}")
        for group_id in self.groups:
            document = self.model.export_rules(group_id).document
            permissions = document["Permissions"]["Permission"]
            lines.append(
                f"group {group_id} (InnerAccessPolicy {document['InnerAccessPolicy']}), "
                "ECS JSON permissions:"
            )
            lines += [
                "  " + json.dumps({k: v for k, v in p.items() if v != ""}) for p in permissions
            ]
        return "\n".join(lines)


def random_ports(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return "1/65535"
    if roll < 0.4:
        port = rng.choice(TCP_LISTENING + TCP_CLOSED + UDP_LISTENING + UDP_CLOSED)
        return f"{port}/{port}"
    lo, hi = sorted(rng.sample(PORT_MARKS, 2))
    return f"{lo}/{hi}"


def random_cidr(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(CIDR_POOL)
    address = ipv4.parse_ip(rng.choice(VPC_PEERS + NET_PEERS + (INSTANCE_IP, PUBLIC_IP)))
    length = rng.choice((0, 1, 2, 4, 8, 10, 12, 16, 17, 23, 24, 25, 26, 28, 29, 30, 31, 32, 32))
    lo, _ = ipv4.cidr_interval(address, length)  # type: ignore[arg-type]
    return ipv4.format_cidr(lo, length)


def random_request(
    rng: random.Random,
    classic: bool,
    enterprise: bool,
    peer_groups: list[tuple[str, str | None]],  # (group id, owner account if another's)
) -> RuleRequest:
    direction = "ingress" if rng.random() < 0.55 else "egress"
    weights = {"tcp": 35, "udp": 25, "icmp": 15, "all": 15, "gre": 6, "icmpv6": 4}
    (protocol,) = rng.choices(list(weights), list(weights.values()))
    ports = random_ports(rng) if protocol in ("tcp", "udp") else "-1/-1"
    policy = "accept" if enterprise or rng.random() < 0.6 else "drop"
    priority = 1 if enterprise else rng.choice(PRIORITIES + (rng.randint(1, 100),))
    nic_type = rng.choice(("intranet", "internet")) if classic else "intranet"
    common = dict(
        direction=direction,
        ip_protocol=protocol,
        port_range=ports,
        policy=policy,
        priority=priority,
        nic_type=nic_type,
    )
    if not enterprise and nic_type == "intranet" and rng.random() < 0.2:
        group_id, owner = rng.choice(peer_groups)
        return RuleRequest(**common, peer_group_id=group_id, peer_group_owner_account=owner)
    if classic and nic_type == "intranet" and direction == "ingress":
        # Classic intranet ingress authorises single addresses only.
        peers = rng.sample(VPC_PEERS + NET_PEERS, rng.randint(1, 2))
        return RuleRequest(**common, peer_cidr=",".join(f"{a}/32" for a in peers))
    count = 1 if rng.random() < 0.85 else rng.randint(2, 3)
    return RuleRequest(**common, peer_cidr=",".join(random_cidr(rng) for _ in range(count)))


def random_rule_set(seed: int, index: int) -> RuleSet:
    rng = random.Random(f"{seed}:{index}")
    classic = rng.random() < 0.25
    enterprise = not classic and rng.random() < 0.15
    egress_accept = rng.random() < 0.5
    limits = (
        Limits(enterprise_egress_default_accept=egress_accept) if enterprise else DEFAULT_LIMITS
    )
    model = CloudModel(limits)
    model.add_region(REGION)
    network = "classic" if classic else "vpc"
    vpcs: dict[str, str | None] = {}
    for account in (ACCOUNT, FOREIGN_ACCOUNT):
        model.add_account(account)
        vpcs[account] = None if classic else model.create_vpc(account, REGION, VPC_CIDR).vpc_id

    def group(kind: str, account: str = ACCOUNT) -> str:
        return model.create_security_group(
            account,
            REGION,
            now=NOW,
            vpc_id=vpcs[account],
            network_type=network,
            group_type=kind,
            inner_access_policy=rng.choice(("Accept", "Drop")),
        ).group_id

    mine = [group("enterprise" if enterprise else "normal") for _ in range(rng.randint(1, 3))]
    other, empty = group("normal"), group("normal")
    foreign = group("normal", FOREIGN_ACCOUNT)
    peer_groups = [(g, None) for g in mine + [other, empty]] + [(foreign, FOREIGN_ACCOUNT)]
    for _ in range(rng.randint(1, 24)):
        request = random_request(rng, classic, enterprise, peer_groups)
        model.authorize(rng.choice(mine), request, NOW)
    smtp_unblocked = rng.random() < 0.3

    def instance(ip: str, groups: list[str], account: str = ACCOUNT, **kw) -> str:
        return model.create_instance(
            account,
            REGION,
            created_at=NOW,
            network_type=network,
            vpc_id=vpcs[account],
            private_ips=[ip],
            security_group_ids=groups,
            **kw,
        ).instance_id

    instance_id = instance(INSTANCE_IP, mine, public_ip=PUBLIC_IP, smtp_unblocked=smtp_unblocked)
    instance("10.199.0.21", [mine[0]])
    instance("10.199.0.22", [mine[-1]])
    instance("10.199.1.21", [other])
    instance("10.199.1.22", [other])
    instance("10.199.1.30", [other] if enterprise else [other, mine[0]])
    instance("10.199.2.5", [foreign], FOREIGN_ACCOUNT)
    summary = (
        f"{network} network, {'enterprise' if enterprise else 'normal'} groups"
        + (
            f" (enterprise egress default {'accept' if egress_accept else 'drop'})"
            if enterprise
            else ""
        )
        + f", TCP 25 {'unblocked' if smtp_unblocked else 'blocked'}"
    )
    return RuleSet(index, model, instance_id, classic, mine, summary)


# ------------------------------------------------------------------------------ probes


@dataclass(frozen=True)
class Check:
    """One probe and the flow the model is asked about."""

    direction: Direction
    protocol: IpProtocol
    src: str
    dst: str
    port: int
    nic_type: NicType
    sender: str  # "vpc", "net" or "instance": the namespace whose agent sends it

    @property
    def flow(self) -> Flow:
        return Flow(self.direction, self.protocol, self.src, self.dst, self.port, self.nic_type)

    def probe(self, tag: int, timeout: float) -> Probe:
        if self.protocol is IpProtocol.ICMP and self.direction is Direction.EGRESS:
            tag += EGRESS_ICMP_ID_OFFSET
        return Probe(self.protocol.value, self.src, self.dst, self.port, tag, timeout)

    def __str__(self) -> str:
        port = f":{self.port}" if self.protocol is not IpProtocol.ICMP else ""
        return (
            f"{self.direction.value} {self.protocol.value} {self.src} -> {self.dst}{port} "
            f"({self.nic_type.value} NIC)"
        )


def checks_for(classic: bool) -> list[Check]:
    services = (
        [(IpProtocol.TCP, p) for p in TCP_LISTENING + TCP_CLOSED]
        + [(IpProtocol.UDP, p) for p in UDP_LISTENING + UDP_CLOSED]
        + [(IpProtocol.ICMP, 0)]
    )
    out = []
    for side, peers in (("vpc", VPC_PEERS), ("net", NET_PEERS)):
        internet_nic = classic and side == "net"
        nic_type = NicType.INTERNET if internet_nic else NicType.INTRANET
        local = PUBLIC_IP if internet_nic else INSTANCE_IP
        for peer in peers:
            for protocol, port in services:
                out.append(Check(Direction.INGRESS, protocol, peer, local, port, nic_type, side))
                out.append(
                    Check(Direction.EGRESS, protocol, local, peer, port, nic_type, "instance")
                )
    return out


@dataclass
class KernelLab:
    instance: Namespace
    agents: dict[str, Agent]

    def load(self, ruleset: str) -> None:
        self.instance.run("nft", "-f", "-", input=ruleset)

    def run(self, checks: list[Check], tag: int, timeout: float) -> list[str]:
        """Every check at once (one batch per sending namespace); outcomes in check order."""
        by_sender: dict[str, list[int]] = {}
        for i, check in enumerate(checks):
            by_sender.setdefault(check.sender, []).append(i)
        for sender, indexes in by_sender.items():
            self.agents[sender].send([checks[i].probe(tag, timeout) for i in indexes])
        outcomes: list[str] = [""] * len(checks)
        for sender, indexes in by_sender.items():
            for i, outcome in zip(indexes, self.agents[sender].receive(), strict=True):
                outcomes[i] = outcome
        return outcomes


@pytest.fixture(scope="module")
def kernel_lab():
    require_root()
    ip_bin = require_binary("ip")
    require_binary("nft")
    lab = Lab("sg", ip_bin)
    try:
        instance, vpc, net = lab.namespace("inst"), lab.namespace("vpc"), lab.namespace("net")
        lab.link(instance, "vpc0", vpc, "eth0")
        lab.link(instance, "net0", net, "eth0")
        instance.ip("addr", "add", f"{INSTANCE_IP}/16", "dev", "vpc0")
        instance.ip("addr", "add", f"{PUBLIC_IP}/32", "dev", "net0")
        for prefix in NET_ROUTES:
            instance.ip("route", "add", prefix, "dev", "net0")
        for address in VPC_PEERS:
            vpc.ip("addr", "add", f"{address}/16", "dev", "eth0")
        for address in NET_PEERS:
            net.ip("addr", "add", f"{address}/32", "dev", "eth0")
        for prefix in (VPC_CIDR, f"{PUBLIC_IP}/32"):
            net.ip("route", "add", prefix, "dev", "eth0")
        tcp = TCP_LISTENING
        udp = UDP_LISTENING
        agents = {
            "instance": lab.agent(instance, tcp, udp, (INSTANCE_IP, PUBLIC_IP)),
            "vpc": lab.agent(vpc, tcp, udp, VPC_PEERS),
            "net": lab.agent(net, tcp, udp, NET_PEERS),
        }
        yield KernelLab(instance, agents)
    finally:
        lab.close()


def expected_outcome(check: Check) -> str:
    if check.protocol is IpProtocol.ICMP:
        return "reply"
    if check.port in TCP_CLOSED + UDP_CLOSED:
        return "refused"
    return "open" if check.protocol is IpProtocol.TCP else "echo"


def test_lab_without_a_ruleset_passes_every_probe(kernel_lab):
    """The lab itself: with no ruleset every probe passes, and closed ports answer (RST or
    ICMP port unreachable), which the proof counts as passed."""
    kernel_lab.load("flush ruleset\n")
    for classic in (False, True):
        checks = checks_for(classic)
        outcomes = kernel_lab.run(checks, TAG_BASE - 1 - int(classic), SLOW_TIMEOUT_S)
        wrong = [
            f"{c}: {o}" for c, o in zip(checks, outcomes, strict=True) if o != expected_outcome(c)
        ]
        assert not wrong, "the lab does not route as designed:\n" + "\n".join(wrong)


# ------------------------------------------------------------------------------ the proof


def kernel_outcomes(
    lab: KernelLab, checks: list[Check], decisions: list[Decision], index: int
) -> tuple[list[str], int]:
    """The kernel's outcome of every check under the loaded ruleset, and how many were probed
    twice: a silent drop and a slow answer look alike, so a check the model lets through but
    that got no answer within FAST_TIMEOUT_S is probed again with SLOW_TIMEOUT_S."""
    outcomes = lab.run(checks, TAG_BASE + index, FAST_TIMEOUT_S)
    again = [
        i for i, (d, o) in enumerate(zip(decisions, outcomes, strict=True))
        if d.allowed and o not in PASSED
    ]  # fmt: skip
    if again:
        retried = lab.run([checks[i] for i in again], RECHECK_BASE + index, SLOW_TIMEOUT_S)
        for i, outcome in zip(again, retried, strict=True):
            outcomes[i] = outcome
    return outcomes, len(again)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


@pytest.mark.timeout(900)
def test_engine_verdicts_equal_the_kernel_on_random_rule_sets(kernel_lab):
    seed = _env_int("PALISADE_SG_KERNEL_SEED", random.SystemRandom().randrange(2**32))
    count = _env_int("PALISADE_SG_KERNEL_RULESETS", 300)
    only = os.environ.get("PALISADE_SG_KERNEL_ONLY", "")
    indexes = [int(i) for i in only.split(",")] if only.strip() else list(range(count))
    assert max(indexes) < MAX_RULE_SETS, f"at most {MAX_RULE_SETS} rule sets per run"
    print(f"\nsg kernel proof: seed {seed}, {len(indexes)} rule sets")

    started = time.monotonic()
    failures: list[str] = []
    probes = rechecked = 0
    seen: Counter = Counter()
    for index in indexes:
        rule_set = random_rule_set(seed, index)
        nft = render_nft(rule_set.model, rule_set.instance_id, rule_set.interfaces)
        try:
            kernel_lab.load("flush ruleset\n" + nft)
        except RuntimeError as exc:
            failures.append(f"nft refused the ruleset: {exc}\n{rule_set.describe()}\n{nft}")
            break
        engine = CompiledPolicy(resolve_nic_policy(rule_set.model, rule_set.instance_id))
        checks = checks_for(rule_set.classic)
        decisions = [engine.decide(c.flow) for c in checks]
        outcomes, twice = kernel_outcomes(kernel_lab, checks, decisions, index)
        rechecked += twice
        probes += len(checks)
        wrong = []
        for check, decision, outcome in zip(checks, decisions, outcomes, strict=True):
            if outcome not in PASSED | BLOCKED:
                wrong.append(f"  {check}: probe failed: {outcome}")
                continue
            if decision.allowed != (outcome in PASSED):
                model = f"{decision.verdict.value} ({decision.reason})"
                wrong.append(f"  {check}: model {model}, kernel {outcome}")
            seen[(check.direction, check.protocol, decision.verdict)] += 1
            seen[decision.kind] += 1
            seen[outcome] += 1
            if check.direction is Direction.EGRESS and outcome in PASSED:
                # The reply came in: did an ingress rule let it, or only connection tracking?
                reply = Flow(
                    Direction.INGRESS,
                    check.protocol,
                    check.dst,
                    check.src,
                    TAG_BASE + index,
                    check.nic_type,
                )
                if not engine.decide(reply).allowed:
                    seen["stateful"] += 1
        if wrong:
            failures.append(
                f"rule set #{index} (PALISADE_SG_KERNEL_SEED={seed} "
                f"PALISADE_SG_KERNEL_ONLY={index}) disagrees with the kernel on "
                f"{len(wrong)} of {len(checks)} probes:\n"
                + "\n".join(wrong[:40])
                + f"\n{rule_set.describe()}\nnft ruleset:\n{nft}"
            )
            if len(failures) >= 3:
                break
    elapsed = time.monotonic() - started
    print(
        f"sg kernel proof: {len(indexes)} rule sets, {probes} probes ({rechecked} probed "
        f"again), {elapsed:.1f} s; outcomes "
        + ", ".join(f"{k} {seen[k]}" for k in sorted(PASSED | BLOCKED))
        + f"; {seen['stateful']} egress probes passed only through connection tracking"
    )
    rerun = f"PALISADE_SG_KERNEL_SEED={seed}"
    if failures:
        pytest.fail(
            f"model and kernel disagree ({rerun}):\n\n" + "\n\n".join(failures), pytrace=False
        )

    if only.strip() or count < 300:
        return
    # The run covered what it claims to prove.
    for direction in Direction:
        for protocol in (IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP):
            for verdict in RulePolicy:
                assert seen[(direction, protocol, verdict)] > 0, (
                    f"no {direction.value} {protocol.value} probe was {verdict.value}ed ({rerun})"
                )
    for kind in (RULE, INNER_ACCEPT, DEFAULT_INGRESS_DROP, DEFAULT_EGRESS_ACCEPT,
                 DEFAULT_EGRESS_DROP, PLATFORM_SMTP):  # fmt: skip
        assert seen[kind] > 0, f"no probe was decided by {kind} ({rerun})"
    for outcome in ("open", "refused", "echo", "reply", "timeout", "denied", "stateful"):
        assert seen[outcome] > 0, f"no probe ended {outcome} ({rerun})"
