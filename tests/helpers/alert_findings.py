"""Findings for the alert tests, in the shape of the checks' findings, and the scope they are
reconciled in (instance i-1, a brute-force check and a port check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from palisade.auditor.alerts.lifecycle import Scope

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ACCOUNT = "1234567890"
SCOPE = Scope(ACCOUNT, "i-1", frozenset({"login.brute_force", "exposure.port"}))
EVENT_CHECKS = frozenset({"login.brute_force"})  # CheckMeta.kind "event"


@dataclass(frozen=True)
class Finding:  # the shape of palisade.auditor.checks.base.Finding
    check_id: str
    instance_id: str | None
    subject: str
    severity: str = "serious"
    category: str = "login"
    title: str = "title"
    message: str = "message"
    details: dict = field(default_factory=dict)


def brute(source: str = "203.0.113.7", **kw) -> Finding:
    return Finding("login.brute_force", "i-1", source, details={"source_ip": source}, **kw)


def port(p: int = 6379) -> Finding:
    return Finding(
        "exposure.port",
        "i-1",
        f"tcp/{p}",
        category="exposure",
        details={"port": p, "protocol": "tcp"},
    )
