"""Exposure: what the security groups let in from the internet, against what really listens
(like a network-reachability report). Every finding names the rules that let the traffic in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar

from palisade.auditor.checks.base import Evidence, Finding, worst
from palisade.auditor.checks.exposure.metadata import (
    HIGH_RISK_PORT_WORLD_OPEN,
    LISTENER_COMMON_PORT,
    LISTENER_UNRECOGNISED_PORT,
    RULE_OPENS_UNUSED_PORTS,
)
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.checks.registry import instance_check
from palisade.auditor.model.network.exposure import exposure
from palisade.auditor.model.network.exposure_index import ExposureEntry
from palisade.auditor.model.network.security_group import PORTED_PROTOCOLS, SecurityGroupRule
from palisade.shared import ports
from palisade.shared.proto import facts_pb2

_WILDCARDS = {"", "*", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True, kw_only=True)
class ListenerEvidence(Evidence):
    """A listener the internet reaches (port, protocol: base.Evidence)."""

    listeners: tuple[dict, ...]  # pid, process, address
    rules: tuple[dict, ...]  # the rules that let the internet in
    service: str | None = None  # a recognised service (Redis, ...)
    service_kind: str | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = ("service", "service_kind")


@dataclass(frozen=True, kw_only=True)
class UnusedPortsEvidence(Evidence):
    rule: dict
    open_ranges: tuple[tuple[int, int], ...]
    listening_ports: tuple[int, ...]
    unused_port_count: int


@dataclass(frozen=True, kw_only=True)
class HighRiskRuleEvidence(Evidence):
    rule: dict
    services: tuple[str, ...]


def _rule_view(rule: SecurityGroupRule) -> dict:
    return {
        "rule_id": rule.rule_id,
        "protocol": rule.ip_protocol.value,
        "port_range": str(rule.port_range),
        "source": rule.peer_cidr or rule.peer_group_id,
        "priority": rule.priority,
        "policy": rule.policy.value,
        "description": rule.description,
    }


def _entry_rules(entry: ExposureEntry) -> list[dict]:
    return [_rule_view(r) for r in entry.rules] + [{"reason": r} for r in entry.reasons]


def _rule_names(entry: ExposureEntry) -> str:
    return ", ".join([r.rule_id for r in entry.rules] + list(entry.reasons)) or "no rule"


def listener_is_exposed(listener: facts_pb2.Listener, instance_ips: set[str]) -> bool:
    """Bound to every address, or to one of the instance's own addresses. Loopback and other
    addresses (a container bridge) are not reachable through the NIC."""
    address = listener.address.strip("[]")
    if address in _WILDCARDS:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if ip.is_loopback:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip) in instance_ips


def _entry_for(entries: tuple[ExposureEntry, ...], protocol: str, port: int):
    for e in entries:
        if e.protocol.value == protocol and e.port_lo <= port <= e.port_hi:
            return e
    return None


def _exposed_listeners(inp: CheckInput) -> dict[tuple[str, int], list[facts_pb2.Listener]]:
    inst = inp.instance
    assert inp.snapshot is not None and inst is not None
    ips = set(inst.private_ips) | {n.public_ip for n in inst.nics if n.public_ip}
    out: dict[tuple[str, int], list[facts_pb2.Listener]] = {}
    for lis in inp.snapshot.listeners:
        if lis.protocol in ("tcp", "udp") and lis.port and listener_is_exposed(lis, ips):
            out.setdefault((lis.protocol, lis.port), []).append(lis)
    return out


def _internet(inp: CheckInput) -> tuple[ExposureEntry, ...]:
    key = ("exposure", inp.instance_id)
    if key not in inp.memo:
        black_holed = inp.state.ddos.get(inp.instance_id).black_holed(inp.now)
        inp.memo[key] = exposure(
            inp.state.cloud, inp.instance_id, inp.exposure_index, black_holed=black_holed
        )
    return inp.memo[key].internet


def _process_view(listeners: list[facts_pb2.Listener]) -> list[dict]:
    return [
        {"address": lis.address, "pid": lis.pid, "process": lis.process_name, "user": lis.user}
        for lis in listeners
    ]


def _service_name(inp: CheckInput, protocol: str, port: int) -> ports.PortService | None:
    known = ports.lookup(protocol, port)
    if known is None and (protocol, port) in inp.settings.exposure_extra_ports:
        name = inp.settings.exposure_extra_ports[(protocol, port)]
        return ports.PortService(protocol, port, port, name, "custom", ports.SUSPICIOUS, False)
    return known


@instance_check(LISTENER_COMMON_PORT)
def internet_listener_common_port(inp: CheckInput) -> list[Finding] | None:
    return _listener_findings(inp, recognised=True)


@instance_check(LISTENER_UNRECOGNISED_PORT)
def internet_listener_unrecognised_port(inp: CheckInput) -> list[Finding] | None:
    return _listener_findings(inp, recognised=False)


def _listener_findings(inp: CheckInput, recognised: bool) -> list[Finding] | None:
    if inp.snapshot is None or inp.instance is None:
        return None
    internet = _internet(inp)
    findings = []
    for (protocol, port), listeners in sorted(_exposed_listeners(inp).items()):
        entry = _entry_for(internet, protocol, port)
        if entry is None:
            continue
        service = _service_name(inp, protocol, port)
        if (service is not None) != recognised:
            continue
        process = listeners[0].process_name or "an unknown process"
        evidence = ListenerEvidence(
            protocol=protocol,
            port=port,
            listeners=tuple(_process_view(listeners)),
            rules=tuple(_entry_rules(entry)),
            service=service.service if service is not None else None,
            service_kind=service.kind if service is not None else None,
        )
        if service is not None:
            meta, severity = LISTENER_COMMON_PORT, service.risk
            what = f"{service.service} ({process})"
        else:
            meta, severity = LISTENER_UNRECOGNISED_PORT, None
            what = process
        findings.append(
            meta.finding(
                inp.instance_id,
                f"{protocol}/{port}",
                f"{what} listens on {protocol}/{port} and the internet reaches it through "
                f"{_rule_names(entry)}.",
                evidence,
                severity=severity,
            )
        )
    return findings


@instance_check(RULE_OPENS_UNUSED_PORTS)
def rule_opens_unused_ports(inp: CheckInput) -> list[Finding] | None:
    if inp.snapshot is None or inp.instance is None:
        return None
    listening = set(_exposed_listeners(inp))
    # rule -> the port ranges it decides for some internet source
    opened: dict[str, tuple[SecurityGroupRule, list[tuple[int, int]]]] = {}
    for entry in _internet(inp):
        if entry.protocol not in PORTED_PROTOCOLS:
            continue
        for rule in entry.rules:
            opened.setdefault(rule.rule_id, (rule, []))[1].append((entry.port_lo, entry.port_hi))
    findings = []
    for rule_id, (rule, ranges) in sorted(opened.items()):
        proto = rule.ip_protocol.value
        width = sum(hi - lo + 1 for lo, hi in ranges)
        used = sorted(
            port
            for p, port in listening
            if p == proto and any(lo <= port <= hi for lo, hi in ranges)
        )
        unused = width - len(used)
        if unused <= 0:
            continue
        if used:
            msg = (
                f"Rule {rule_id} opens {width} {proto} ports to the internet; only "
                f"{', '.join(map(str, used[:10]))} listen. Narrow it to the ports in use."
            )
        else:
            msg = (
                f"Rule {rule_id} opens {proto} {_ranges_text(ranges)} to the internet but "
                "nothing listens there."
            )
        findings.append(
            RULE_OPENS_UNUSED_PORTS.finding(
                inp.instance_id,
                rule_id,
                msg,
                UnusedPortsEvidence(
                    rule=_rule_view(rule),
                    open_ranges=tuple(ranges),
                    listening_ports=tuple(used),
                    unused_port_count=unused,
                ),
            )
        )
    return findings


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


@instance_check(HIGH_RISK_PORT_WORLD_OPEN)
def high_risk_port_open_to_world(inp: CheckInput) -> list[Finding] | None:
    """Model only: needs no facts. Reported per rule (a 1/65535 rule is one finding that lists
    every high-risk port it opens, not twenty)."""
    if inp.instance is None:
        return None
    hits: dict[str, tuple[SecurityGroupRule, dict[str, ports.PortService]]] = {}
    for entry in _internet(inp):
        if entry.protocol not in PORTED_PROTOCOLS:
            continue
        for rule in entry.rules:
            if rule.peer_cidr not in ("0.0.0.0/0",):
                continue
            for svc in ports.high_risk_in(entry.protocol.value, entry.port_lo, entry.port_hi):
                hits.setdefault(rule.rule_id, (rule, {}))[1][svc.label] = svc
    findings = []
    for rule_id, (rule, services) in sorted(hits.items()):
        labels = sorted(services)
        findings.append(
            HIGH_RISK_PORT_WORLD_OPEN.finding(
                inp.instance_id,
                rule_id,
                f"Rule {rule_id} ({rule.ip_protocol.value} {rule.port_range}) opens "
                f"{', '.join(labels)} to 0.0.0.0/0.",
                HighRiskRuleEvidence(rule=_rule_view(rule), services=tuple(labels)),
                severity=worst(s.risk for s in services.values()),
            )
        )
    return findings
