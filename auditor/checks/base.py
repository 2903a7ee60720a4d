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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from palisade.auditor.checks.taxonomy import (
    CATEGORIES,
    SEVERITIES,
    Category,
    Severity,
    severity_rank,
)


def worst(severities: Iterable[str]) -> Severity:
    return Severity(min(severities, key=severity_rank, default=Severity.REMIND))


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What a finding rests on, typed: each check family has its dataclass (a subclass, in its
    check.py) with the facts its findings carry. The fields here are the ones other layers
    read - the alerts (whitelist by address or port, an event burst's end), notifications
    (grouping and inhibition by source) - so nobody indexes a dict for them; `to_json()` is
    what the store and the API keep (the field names are the JSON keys)."""

    source_ip: str | None = None  # the address the finding is about (a login's source)
    port: int | None = None
    protocol: str | None = None  # tcp / udp / ...
    last_ms: int | None = None  # an event check's burst: when its newest event happened

    SHARED: ClassVar[tuple[str, ...]] = ("source_ip", "port", "protocol", "last_ms")
    OPTIONAL: ClassVar[tuple[str, ...]] = ()  # a subclass's fields left out when None

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values; the shared and optional ones only when set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and (f.name in self.SHARED or f.name in self.OPTIONAL):
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Evidence:
        """The shared fields of stored evidence (an alert's details), type-checked: a value
        of the wrong type reads as absent."""
        data = data if isinstance(data, Mapping) else {}

        def typed(name: str, kind: type) -> Any:
            value = data.get(name)
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            return value if ok else None

        return Evidence(
            source_ip=typed("source_ip", str),
            port=typed("port", int),
            protocol=typed("protocol", str),
            last_ms=typed("last_ms", int),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class CheckErrorEvidence(Evidence):
    check_id: str  # the check that raised
    error: str  # the exception's type


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
        evidence: Evidence | None = None,
        *,
        severity: str | None = None,
        title: str | None = None,
        check_id: str | None = None,
    ) -> Finding:
        return Finding(
            check_id=check_id or self.id,
            instance_id=instance_id,
            subject=subject,
            severity=Severity(severity or self.severity),
            category=Category(self.category),
            title=title or self.title,
            message=message,
            evidence=evidence or Evidence(),
        )


@dataclass(frozen=True)
class Finding:
    check_id: str
    instance_id: str | None
    subject: str  # identifies the condition within (instance, check): "tcp/6379", an IP, ...
    severity: Severity
    category: Category
    title: str
    message: str
    evidence: Evidence  # typed: its family's dataclass

    @property
    def details(self) -> dict[str, Any]:
        """The evidence as JSON (what the alert stores and the API shows)."""
        return self.evidence.to_json()


__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "Category",
    "CheckErrorEvidence",
    "CheckMeta",
    "Evidence",
    "Finding",
    "Severity",
    "severity_rank",
    "worst",
]
