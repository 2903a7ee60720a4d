"""Secrets: plaintext AccessKeys the agent found on the host (Snapshot.plaintext_access_keys:
path, line, id, user; never the secret), cross-checked with RAM: an active key of this account
is serious, a disabled or unknown one suspicious.
"""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.checks.registry import instance_check
from palisade.auditor.checks.secrets.metadata import PLAINTEXT_ACCESS_KEY
from palisade.auditor.model.ram.entities import AccessKeyStatus
from palisade.shared.proto import facts_pb2


@dataclass(frozen=True)
class FoundAccessKey:
    access_key_id: str
    path: str
    line_number: int = 0
    user: str = ""


def found_access_keys(snapshot: facts_pb2.Snapshot) -> list[FoundAccessKey]:
    return [
        FoundAccessKey(k.access_key_id, k.path, k.line, k.user)
        for k in snapshot.plaintext_access_keys
        if k.access_key_id
    ]


@dataclass(frozen=True, kw_only=True)
class PlaintextKeyEvidence(Evidence):
    access_key_id: str
    locations: tuple[str, ...]  # path:line
    ram_user: str | None  # the RAM user it belongs to, None when unknown to this account
    active: bool | None
    users: tuple[str, ...]  # the host accounts whose files hold it


def evaluate(inp: CheckInput, found: list[FoundAccessKey]) -> list[Finding]:
    """The check on already-extracted records."""
    by_id: dict[str, list[FoundAccessKey]] = {}
    for f in found:
        by_id.setdefault(f.access_key_id, []).append(f)
    findings = []
    for key_id, places in sorted(by_id.items()):
        owner = None
        for user in inp.state.ram.users.values():
            if key_id in user.access_keys:
                owner = (user, user.access_keys[key_id])
        if owner is not None:
            user, key = owner
            active = key.status is AccessKeyStatus.ACTIVE
            severity = "serious" if active else "suspicious"
            whose = f"RAM user {user.user_name}'s {'active' if active else 'disabled'} AccessKey"
        else:
            active, severity, whose = None, "suspicious", "an AccessKey unknown to this account"
        paths = sorted({f"{p.path}:{p.line_number}" if p.line_number else p.path for p in places})
        findings.append(
            PLAINTEXT_ACCESS_KEY.finding(
                inp.instance_id,
                key_id,
                f"{whose} {key_id} is stored in plaintext in {', '.join(paths)}.",
                PlaintextKeyEvidence(
                    access_key_id=key_id,
                    locations=tuple(paths),
                    ram_user=owner[0].user_name if owner else None,
                    active=active,
                    users=tuple(sorted({p.user for p in places if p.user})),
                ),
                severity=severity,
            )
        )
    return findings


@instance_check(PLAINTEXT_ACCESS_KEY)
def plaintext_access_key(inp: CheckInput) -> list[Finding] | None:
    if inp.snapshot is None:
        return None
    return evaluate(inp, found_access_keys(inp.snapshot))
