"""What an instance exposes to the internet and to other groups (`exposure`, like a
network-exposure report), with the deciding rules; `exposure_fleet` for every instance. Pure
functions of the model."""

from __future__ import annotations

from dataclasses import dataclass, field

from palisade.auditor.model.fleet.resources import Nic
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.exposure_index import (
    ExposureEntry,
    ExposureIndex,
    RuleSetExposure,
)
from palisade.auditor.model.network.security_group import (
    FLOW_PROTOCOLS,
    PORTED_PROTOCOLS,
)


@dataclass(frozen=True)
class ExposureReport:
    instance_id: str
    internet: tuple[ExposureEntry, ...]
    groups: dict[str, tuple[ExposureEntry, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


_SAME_GROUP = "same group (InnerAccessPolicy Accept)"


def _all_protocols(reason: str) -> tuple[ExposureEntry, ...]:
    return tuple(
        ExposureEntry(
            p,
            1 if p in PORTED_PROTOCOLS else -1,
            65535 if p in PORTED_PROTOCOLS else -1,
            (),
            (reason,),
        )
        for p in FLOW_PROTOCOLS
    )


_ALL_SAME_GROUP = _all_protocols(_SAME_GROUP)


_BLACK_HOLE = "DDoS black hole: all inbound traffic from the internet is dropped"


def exposure(
    model, instance_id: str, index: ExposureIndex | None = None, black_holed: bool = False
) -> ExposureReport:
    """What the instance's primary NIC lets in: from the internet (if it has a public IP and is
    not in a DDoS black hole: `black_holed`, an input) and from the members of each other group
    on its private network, with the deciding rules. For the instance's own groups the
    "members" are the other members."""
    inst = model.get_instance(instance_id)
    nic = inst.primary_nic
    if index is None or not index.knows(nic.security_group_ids):
        # (a kept index that has not yet heard of a group the NIC just joined: a fresh one)
        index = ExposureIndex(model)
    rule_set = index.rule_set(inst, nic)
    n_own_ips = len(nic.private_ips)
    with_others = tuple(
        g for g in nic.security_group_ids if len(index.member_ips.get(g, ())) > n_own_ips
    )
    same_group = rule_set.same_group
    isolated = [g for g in with_others if g not in same_group]
    if isolated:
        my_ips = {ipv4.ip_value(ip) for ip in nic.private_ips}
        others = tuple(rule_set.other_members(g, my_ips) for g in isolated)
    else:
        others = ()
    # Instances whose other members fall in the same source classes share one report body.
    key = (nic.public_ip is not None, black_holed, with_others, others)
    body = rule_set.reports.get(key)
    if body is None:
        body = rule_set.reports[key] = _report_body(
            model, rule_set, nic, with_others, dict(zip(isolated, others, strict=True)), black_holed
        )
    return ExposureReport(instance_id, *body)


def _report_body(
    model,
    rule_set: RuleSetExposure,
    nic: Nic,
    with_others: tuple[str, ...],
    others: dict[str, int],
    black_holed: bool,
) -> tuple:
    own = set(nic.security_group_ids)
    same_group = rule_set.same_group
    groups: dict[str, tuple[ExposureEntry, ...]] = dict(rule_set.by_group)
    for gid in same_group - own:
        groups[gid] = _ALL_SAME_GROUP
    for gid in with_others:
        if gid in same_group:
            groups[gid] = _ALL_SAME_GROUP
        elif others[gid]:
            groups[gid] = rule_set.isolated_entries(gid, others[gid])
    notes = []
    internet: tuple[ExposureEntry, ...] = ()
    if nic.public_ip is None:
        notes.append("no public IP: not reachable from the internet")
    elif black_holed:
        notes.append(_BLACK_HOLE)
    else:
        internet = rule_set.internet
    for e in internet:
        if e.protocol in PORTED_PROTOCOLS:
            for p in sorted(model.limits.carrier_blocked_ports):
                if e.port_lo <= p <= e.port_hi:
                    notes.append(
                        f"{e.protocol.value} {p} is open to the internet; some carriers block it"
                    )
    return internet, dict(sorted(groups.items())), tuple(notes)


def exposure_fleet(model, black_holed: frozenset[str] = frozenset()) -> dict[str, ExposureReport]:
    """`exposure` for every instance, sharing indexes and the per-rule-set work. `black_holed`:
    the instances in a DDoS black hole now."""
    index = ExposureIndex(model)
    return {iid: exposure(model, iid, index, iid in black_holed) for iid in model.instances}
