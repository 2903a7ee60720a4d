"""Baseline configuration: the YAML policies (policies/) against the agent's baseline facts,
through the one engine in engine.py. One finding per failed policy check; its subject is
"<policy id>/<check id>" and its title and severity come from the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.baseline.engine import baseline_facts, evaluate_policies
from palisade.auditor.checks.baseline.metadata import BASELINE
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.checks.registry import instance_check


@dataclass(frozen=True, kw_only=True)
class BaselineEvidence(Evidence):
    policy_id: str
    check_id: str  # the policy's item
    rationale: str
    remediation: str
    compliance: tuple[dict, ...]
    failures: tuple[dict, ...]  # what failed: {"item": ..., "rules": [...]}


def _failure_text(failures: tuple[dict, ...]) -> str:
    parts = []
    for f in failures[:5]:
        rules = "; ".join(f"{r['rule']} (is {r['actual']!r})" for r in f["rules"])
        parts.append(f"{f['item']}: {rules}" if f["item"] else rules)
    more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
    return " | ".join(parts) + more


@instance_check(BASELINE)
def baseline(inp: CheckInput) -> list[Finding] | None:
    if inp.snapshot is None or not inp.snapshot.HasField("baseline"):
        return None
    facts = baseline_facts(inp.snapshot)
    findings = []
    for result in evaluate_policies(inp.settings.baseline_policies, facts):
        if result.status != "failed":
            continue
        check = result.check
        findings.append(
            BASELINE.finding(
                inp.instance_id,
                f"{result.policy_id}/{check.id}",
                f"{check.title}: {_failure_text(result.failures)}. {check.remediation}",
                BaselineEvidence(
                    policy_id=result.policy_id,
                    check_id=check.id,
                    rationale=check.rationale,
                    remediation=check.remediation,
                    compliance=tuple(check.compliance),
                    failures=tuple(result.failures),
                ),
                severity=check.severity,
                title=check.title,
            )
        )
    return findings
