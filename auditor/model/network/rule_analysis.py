"""Rule analysis: dead rules (shadowed, duplicates, equal-priority conflicts), risky rules
(0.0.0.0/0 on ranges or all protocols), counts near the limits, and the ECS security guide's
advice."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import ResolvedRule, member_ip_index, resolve_rule
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    PortRange,
    RulePolicy,
)

SHADOWED = "shadowed"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
OVERLY_BROAD = "overly-broad"
NEAR_LIMIT = "near-limit"
ADVICE = "advice"


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str  # info | low | medium | high
    message: str
    group_id: str | None = None
    rule_ids: tuple[str, ...] = ()
    instance_id: str | None = None
    topic: str = ""  # which count a near-limit finding is about: rules, private-ips, groups


def _covers(s: ResolvedRule, r: ResolvedRule) -> bool:
    """Does `s` match every flow that `r` matches, except perhaps in the peer dimension?"""
    a, b = s.rule, r.rule
    return (
        a.direction is b.direction
        and (s.nic_type is None or s.nic_type is r.nic_type)
        and (a.ip_protocol is IpProtocol.ALL or a.ip_protocol is b.ip_protocol)
        and s.port_lo <= r.port_lo
        and r.port_hi <= s.port_hi
        and _source_ports_cover(a.source_port_range, b.source_port_range)
    )


def _source_ports_cover(outer: PortRange | None, inner: PortRange | None) -> bool:
    if outer is None:
        return True
    return inner is not None and outer.start <= inner.start and inner.end <= outer.end


def analyze_rule_set(rules: list[ResolvedRule], near: float = 0.8) -> list[Finding]:
    """Dead and conflicting rules of one rule set (a group, or all groups of a NIC)."""
    findings: list[Finding] = []
    ordered = sorted(rules, key=lambda r: r.order)
    seen: dict[tuple, ResolvedRule] = {}
    for r in ordered:
        first = seen.get(r.rule.key())
        if first is not None:
            findings.append(
                Finding(
                    DUPLICATE,
                    "low",
                    f"{r.rule.rule_id} repeats {first.rule.rule_id} (same direction, policy, "
                    "protocol, ports, "
                    f"peer and priority); remove one.",
                    r.group_id,
                    (r.rule.rule_id, first.rule.rule_id),
                )
            )
            continue
        seen[r.rule.key()] = r
    dupes = {f.rule_ids[0] for f in findings}
    for pos, r in enumerate(ordered):
        if r.rule.rule_id in dupes or not r.peers:
            continue
        stronger = [s for s in ordered[:pos] if _covers(s, r) and s.rule.rule_id not in dupes]
        covered = ipv4.merge([p for s in stronger for p in s.peers])
        if stronger and not ipv4.subtract(list(r.peers), covered):
            deciders = [s for s in stronger if ipv4.intersect(list(s.peers), list(r.peers))]
            same_priority_drop = [
                s
                for s in deciders
                if s.rule.priority == r.rule.priority
                and s.rule.policy is RulePolicy.DROP
                and r.rule.policy is RulePolicy.ACCEPT
            ]
            if same_priority_drop:
                findings.append(
                    Finding(
                        CONFLICT,
                        "medium",
                        f"accept {r.rule.rule_id} never applies: drop "
                        f"{same_priority_drop[0].rule.rule_id} has the same "
                        f"priority {r.rule.priority} and covers it (on equal priority drop wins). "
                        "Remove one or change a priority.",
                        r.group_id,
                        (r.rule.rule_id, same_priority_drop[0].rule.rule_id),
                    )
                )
            else:
                ids = ", ".join(s.rule.rule_id for s in deciders[:5])
                findings.append(
                    Finding(
                        SHADOWED,
                        "low",
                        f"{r.rule.rule_id} never decides: {ids} (stronger or earlier) cover all "
                        "its traffic. Remove it "
                        "or give it a smaller priority number.",
                        r.group_id,
                        (r.rule.rule_id,) + tuple(s.rule.rule_id for s in deciders[:5]),
                    )
                )
            continue
        if r.rule.policy is RulePolicy.ACCEPT:
            partial = [
                s
                for s in ordered[:pos]
                if s.rule.policy is RulePolicy.DROP
                and s.rule.priority == r.rule.priority
                and s.rule.direction is r.rule.direction
                and (
                    s.rule.ip_protocol in (IpProtocol.ALL, r.rule.ip_protocol)
                    or r.rule.ip_protocol is IpProtocol.ALL
                )
                and s.port_lo <= r.port_hi
                and r.port_lo <= s.port_hi
                and ipv4.intersect(ipv4.merge(list(s.peers)), ipv4.merge(list(r.peers)))
            ]
            if partial:
                findings.append(
                    Finding(
                        CONFLICT,
                        "low",
                        f"accept {r.rule.rule_id} and drop {partial[0].rule.rule_id} have the "
                        "same priority "
                        f"{r.rule.priority} and overlap; where they overlap the drop wins.",
                        r.group_id,
                        (r.rule.rule_id, partial[0].rule.rule_id),
                    )
                )
    for r in ordered:
        rule = r.rule
        if (
            rule.policy is RulePolicy.ACCEPT
            and rule.direction is Direction.INGRESS
            and rule.peer_cidr == "0.0.0.0/0"
        ):
            if rule.ip_protocol is IpProtocol.ALL:
                findings.append(
                    Finding(
                        OVERLY_BROAD,
                        "high",
                        f"{rule.rule_id} accepts every protocol and port from 0.0.0.0/0 (the "
                        "whole internet); open single "
                        "ports to the sources that need them (least privilege).",
                        r.group_id,
                        (rule.rule_id,),
                    )
                )
            elif (
                rule.ip_protocol in (IpProtocol.TCP, IpProtocol.UDP)
                and rule.port_range.start != rule.port_range.end
            ):
                findings.append(
                    Finding(
                        OVERLY_BROAD,
                        "medium",
                        f"{rule.rule_id} opens the port range {rule.port_range} to 0.0.0.0/0; "
                        "open single ports "
                        "(e.g. 80/80) and narrow the source.",
                        r.group_id,
                        (rule.rule_id,),
                    )
                )
    return findings


def analyze_group(
    model, group_id: str, member_ips: dict[str, list[int]] | None = None
) -> list[Finding]:
    group = model.get_group(group_id)
    member_ips = member_ips if member_ips is not None else member_ip_index(model)
    network = group.network_type
    resolved = [
        resolve_rule(i, r, group_id, network, member_ips) for i, r in enumerate(group.rules)
    ]
    findings = analyze_rule_set(resolved)
    limits = model.limits
    if len(group.rules) >= 0.8 * limits.rules_per_group:
        findings.append(
            Finding(
                NEAR_LIMIT,
                "medium" if len(group.rules) >= limits.rules_per_group else "low",
                f"{group_id} has {len(group.rules)} of {limits.rules_per_group} rules; keep rule "
                "sets short "
                "(remove redundant rules or split by tier).",
                group_id,
                topic="rules",
            )
        )
    ips = len(member_ips.get(group_id, []))
    if group.group_type.value == "normal" and ips >= 0.8 * limits.private_ips_per_normal_group:
        findings.append(
            Finding(
                NEAR_LIMIT,
                "low",
                f"{group_id} holds {ips} of {limits.private_ips_per_normal_group} private IPs.",
                group_id,
                topic="private-ips",
            )
        )
    return findings


def analyze_nic(model, instance_id: str, nic_id: str | None = None) -> list[Finding]:
    """Findings across all groups of a NIC (they form one rule set), and its counts."""
    from palisade.auditor.model.network.engine import resolve_nic_policy

    policy = resolve_nic_policy(model, instance_id, nic_id)
    instance = model.get_instance(instance_id)
    nic = instance.nic(nic_id)
    findings = [
        f for f in analyze_rule_set(list(policy.rules)) if f.kind in (SHADOWED, DUPLICATE, CONFLICT)
    ]
    findings = [
        Finding(f.kind, f.severity, f.message, f.group_id, f.rule_ids, instance_id)
        for f in findings
    ]
    return findings + nic_limits(model, instance_id, nic)


def nic_limits(model, instance_id: str, nic) -> list[Finding]:
    """A NIC's counts near the limits (rules across its groups, groups it is in); cheap: the
    rule-advice check runs it on every NIC of the fleet."""
    findings: list[Finding] = []
    limits = model.limits
    total = model.nic_rule_count(nic)
    if total >= 0.8 * limits.rules_per_nic:
        findings.append(
            Finding(
                NEAR_LIMIT,
                "low",
                f"NIC {nic.nic_id} is governed by {total} of {limits.rules_per_nic} rules.",
                instance_id=instance_id,
                topic="rules",
            )
        )
    if len(nic.security_group_ids) >= limits.groups_per_nic:
        findings.append(
            Finding(
                NEAR_LIMIT,
                "info",
                f"NIC {nic.nic_id} is in {len(nic.security_group_ids)} of "
                f"{limits.groups_per_nic} groups; it cannot join another.",
                instance_id=instance_id,
                topic="groups",
            )
        )
    return findings


def advice(model, account_id: str | None = None) -> list[Finding]:
    """The ECS security guide's practice advice, per account and region (of one account when
    given)."""
    findings: list[Finding] = []
    scopes: dict[tuple[str, str], list] = {}
    for inst in model.instances.values():
        if account_id is not None and inst.account_id != account_id:
            continue
        scopes.setdefault((inst.account_id, inst.region_id), []).append(inst)
    for (account, region), instances in sorted(scopes.items()):
        groups = [
            g for g in model.groups.values() if g.account_id == account and g.region_id == region
        ]
        for g in groups:
            members = {i.instance_id for i, _ in model.members(g.group_id)}
            if len(instances) >= 5 and len(members) == len(instances):
                findings.append(
                    Finding(
                        ADVICE,
                        "low",
                        f"every instance of account {account} in {region} is in {g.group_id}; do "
                        "not manage all "
                        "applications with one group — tiers need different isolation.",
                        g.group_id,
                    )
                )
        single = [g for g in groups if len(model.members(g.group_id)) == 1]
        if len(instances) >= 3 and len(single) >= len(instances):
            findings.append(
                Finding(
                    ADVICE,
                    "low",
                    f"account {account} in {region} gives every instance its own group; put "
                    "instances with the same "
                    "needs in one group instead.",
                )
            )
        for g in groups:
            if not any(
                r.direction is Direction.INGRESS and r.policy is RulePolicy.DROP for r in g.rules
            ) and any(
                r.direction is Direction.INGRESS
                and r.peer_cidr == "0.0.0.0/0"
                and r.ip_protocol is IpProtocol.ALL
                and r.policy is RulePolicy.ACCEPT
                for r in g.rules
            ):
                findings.append(
                    Finding(
                        ADVICE,
                        "medium",
                        f"{g.group_id} is not an allow-list: it accepts everything from everyone. "
                        "Start from deny-all "
                        "and open what is needed. Clone a production group and test changes on "
                        "the clone first.",
                        g.group_id,
                    )
                )
    return findings


def analyze_model(model) -> list[Finding]:
    member_ips = member_ip_index(model)
    findings: list[Finding] = []
    for gid in sorted(model.groups):
        findings += analyze_group(model, gid, member_ips)
    for iid in sorted(model.instances):
        findings += analyze_nic(model, iid)
    return findings + advice(model)
