"""Rule advice as findings: model/network/rule_analysis.py's dead rules (shadowed,
duplicate, equal-priority conflicts), too-broad rules, counts near the limits (200 rules a
group, 1,000 a NIC) and practice advice, for the account's groups and NICs. A fleet check:
the rules are the model's, not a host's."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import CheckMeta, Evidence, Finding
from palisade.auditor.checks.inputs import FleetInput
from palisade.auditor.checks.registry import fleet_check
from palisade.auditor.checks.rule_advice.metadata import (
    RULE_CONFLICT,
    RULE_DUPLICATE,
    RULE_NEAR_LIMIT,
    RULE_PRACTICE,
    RULE_SHADOWED,
    RULE_TOO_BROAD,
)
from palisade.auditor.model.network import rule_analysis as ra
from palisade.auditor.model.network.engine import member_ip_index

# the analysis's kind -> its check; the analysis's severity -> an alert's level
META_OF_KIND = {
    ra.SHADOWED: RULE_SHADOWED,
    ra.DUPLICATE: RULE_DUPLICATE,
    ra.CONFLICT: RULE_CONFLICT,
    ra.OVERLY_BROAD: RULE_TOO_BROAD,
    ra.NEAR_LIMIT: RULE_NEAR_LIMIT,
    ra.ADVICE: RULE_PRACTICE,
}
SEVERITY_OF = {"high": "serious", "medium": "suspicious", "low": "remind", "info": "remind"}


@dataclass(frozen=True, kw_only=True)
class RuleAdviceEvidence(Evidence):
    kind: str  # shadowed, duplicate, conflict, overly-broad, near-limit, advice
    group_id: str | None
    rule_ids: tuple[str, ...]
    nic_instance_id: str | None
    advice: str  # the analysis's sentence


def account_findings(model, account_id: str) -> list[ra.Finding]:
    """The analysis of one account's groups (their rule sets and counts), NICs (counts) and
    practice; cross-group shadowing on a NIC is the explain page's, not an alert's."""
    member_ips = member_ip_index(model)
    out: list[ra.Finding] = []
    for gid in sorted(model.groups):
        if model.groups[gid].account_id == account_id:
            out += ra.analyze_group(model, gid, member_ips)
    for iid in sorted(model.instances):
        inst = model.instances[iid]
        if inst.account_id == account_id:
            for nic in inst.nics:
                out += [
                    ra.Finding(f.kind, f.severity, f.message, nic.nic_id, (), iid, f.topic)
                    for f in ra.nic_limits(model, iid, nic)
                ]
    return out + ra.advice(model, account_id)


def subject(f: ra.Finding) -> str:
    """One alert per rule and kind, per group or NIC count, per piece of advice."""
    where = f.group_id or (f"{f.instance_id}" if f.instance_id else "account")
    if f.rule_ids:
        return f"{where}/{f.rule_ids[0]}"
    if f.topic:
        return f"{where}/{f.topic}"
    return where


def group_findings(findings: list[Finding], group_id: str) -> list[Finding]:
    """The findings about one group (its page shows them)."""
    return [
        f
        for f in findings
        if isinstance(f.evidence, RuleAdviceEvidence) and f.evidence.group_id == group_id
    ]


# The six checks of a round read one analysis: the last input's, kept until the next round
_last: tuple[FleetInput, list[ra.Finding]] | None = None


def _analysis(inp: FleetInput) -> list[ra.Finding]:
    global _last
    if _last is None or _last[0] is not inp:
        _last = (inp, account_findings(inp.state.cloud, inp.state.account_id))
    return _last[1]


def findings_for(inp: FleetInput, meta: CheckMeta) -> list[Finding]:
    out = []
    seen: set[str] = set()
    for f in _analysis(inp):
        if META_OF_KIND[f.kind] is not meta:
            continue
        key = subject(f)
        if key in seen:  # one alert per subject (a rule shadowed by two sets, ...)
            continue
        seen.add(key)
        out.append(
            meta.finding(
                None,
                key,
                f.message,
                RuleAdviceEvidence(
                    kind=f.kind,
                    group_id=f.group_id if not f.instance_id else None,
                    rule_ids=f.rule_ids,
                    nic_instance_id=f.instance_id,
                    advice=f.message,
                ),
                severity=SEVERITY_OF.get(f.severity, meta.severity),
            )
        )
    return out


@fleet_check(RULE_SHADOWED)
def rule_shadowed(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_SHADOWED)


@fleet_check(RULE_DUPLICATE)
def rule_duplicate(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_DUPLICATE)


@fleet_check(RULE_CONFLICT)
def rule_conflict(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_CONFLICT)


@fleet_check(RULE_TOO_BROAD)
def rule_too_broad(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_TOO_BROAD)


@fleet_check(RULE_NEAR_LIMIT)
def rule_near_limit(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_NEAR_LIMIT)


@fleet_check(RULE_PRACTICE)
def rule_practice(inp: FleetInput) -> list[Finding]:
    return findings_for(inp, RULE_PRACTICE)
