"""What a check is and what it returns: its metadata (`CheckMeta`: id, title, severity,
category, rationale, remediation) and its findings (`Finding`). Prowler style: a check is a
small pure function (`check.py` of its family) plus metadata (`metadata.py` beside it).

Checks are pure: no sockets, no database, no clock reads (the caller passes `now`). A check
returns a list of findings (empty: evaluated, nothing wrong) or None when it could not be
evaluated (the facts it needs are missing): the alerts layer resolves an alert only when its
check was evaluated and no longer finds the condition. Their inputs are in `inputs.py`, the
registry that runs them in `registry.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from palisade.auditor.checks.taxonomy import (
    CATEGORIES,
    SEVERITIES,
    Category,
    Severity,
    severity_rank,
)


def worst(severities: Iterable[str]) -> Severity:
    return Severity(min(severities, key=severity_rank, default=Severity.REMIND))


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    severity: str  # the default; a finding may carry another (e.g. exposure: by service)
    category: str
    rationale: str
    remediation: str
    # "condition": the finding holds while the condition does (the alert resolves when it
    # clears); "event": something happened (a login); a repeat counts up the same alert.
    kind: str = "condition"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.id}: category {self.category!r} not in {CATEGORIES}")
        if self.kind not in ("condition", "event"):
            raise ValueError(f"{self.id}: kind {self.kind!r}")

    def finding(
        self,
        instance_id: str | None,
        subject: str,
        message: str,
        details: dict | None = None,
        *,
        severity: str | None = None,
        title: str | None = None,
        check_id: str | None = None,
    ) -> Finding:
        return Finding(
            check_id=check_id or self.id,
            instance_id=instance_id,
            subject=subject,
            severity=severity or self.severity,
            category=self.category,
            title=title or self.title,
            message=message,
            details=details or {},
        )


@dataclass(frozen=True)
class Finding:
    check_id: str
    instance_id: str | None
    subject: str  # identifies the condition within (instance, check): "tcp/6379", an IP, ...
    severity: str
    category: str
    title: str
    message: str
    details: dict  # JSON-serialisable


__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "Category",
    "CheckMeta",
    "Finding",
    "Severity",
    "severity_rank",
    "worst",
]
