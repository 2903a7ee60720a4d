"""The registry of checks and its runners. A family's check.py registers each check with
`@instance_check(meta)` or `@fleet_check(meta)` on import; `evaluate_instance` /
`evaluate_fleet` run every registered check, a failing one becoming a `CHECK_ERROR` finding
instead of hiding the others' findings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from palisade.auditor.checks.base import CheckErrorEvidence, CheckMeta, Finding
from palisade.auditor.checks.inputs import CheckInput, FleetInput
from palisade.auditor.checks.taxonomy import Category, Severity

log = logging.getLogger(__name__)

CHECK_ERROR = "palisade.check_error"

InstanceCheckFn = Callable[[CheckInput], "list[Finding] | None"]
FleetCheckFn = Callable[[FleetInput], "list[Finding] | None"]


@dataclass(frozen=True)
class RegisteredCheck:
    meta: CheckMeta
    fn: Callable[..., list[Finding] | None]  # an InstanceCheckFn or a FleetCheckFn


INSTANCE_CHECKS: dict[str, RegisteredCheck] = {}
FLEET_CHECKS: dict[str, RegisteredCheck] = {}


def _register(
    table: dict[str, RegisteredCheck], meta: CheckMeta, fn: Callable[..., list[Finding] | None]
) -> None:
    if meta.id in INSTANCE_CHECKS or meta.id in FLEET_CHECKS:
        raise ValueError(f"check {meta.id!r} registered twice")
    table[meta.id] = RegisteredCheck(meta, fn)


def instance_check(meta: CheckMeta) -> Callable[[InstanceCheckFn], InstanceCheckFn]:
    def wrap(fn: InstanceCheckFn) -> InstanceCheckFn:
        _register(INSTANCE_CHECKS, meta, fn)
        return fn

    return wrap


def fleet_check(meta: CheckMeta) -> Callable[[FleetCheckFn], FleetCheckFn]:
    def wrap(fn: FleetCheckFn) -> FleetCheckFn:
        _register(FLEET_CHECKS, meta, fn)
        return fn

    return wrap


def all_metas() -> list[CheckMeta]:
    """Every registered check's metadata (for the dashboard and the notifications)."""
    _load_checks()
    return [c.meta for c in (*INSTANCE_CHECKS.values(), *FLEET_CHECKS.values())]


@dataclass
class CheckRun:
    findings: list[Finding]
    evaluated: set[str]  # check ids that ran to completion (their alerts may resolve)


def _error_finding(meta: CheckMeta, instance_id: str | None, exc: BaseException) -> Finding:
    return Finding(
        check_id=CHECK_ERROR,
        instance_id=instance_id,
        subject=meta.id,
        severity=Severity.REMIND,
        category=Category(meta.category),
        title=f"Check {meta.id} failed",
        message=f"{type(exc).__name__}: {exc}",
        evidence=CheckErrorEvidence(check_id=meta.id, error=type(exc).__name__),
    )


def _run(
    table: dict[str, RegisteredCheck], inp: CheckInput | FleetInput, instance_id: str | None
) -> CheckRun:
    findings: list[Finding] = []
    evaluated: set[str] = set()
    for check in table.values():
        try:
            out = check.fn(inp)
        except Exception as exc:  # a broken check must not hide the others' findings
            log.exception("check %s failed", check.meta.id)
            findings.append(_error_finding(check.meta, instance_id, exc))
            continue
        if out is None:
            continue
        evaluated.add(check.meta.id)
        findings.extend(out)
    return CheckRun(findings, evaluated)


def evaluate_instance(inp: CheckInput) -> CheckRun:
    """Every instance check on one instance, with the set of checks that were evaluated."""
    _load_checks()
    return _run(INSTANCE_CHECKS, inp, inp.instance_id)


def evaluate_fleet(inp: FleetInput) -> CheckRun:
    _load_checks()
    return _run(FLEET_CHECKS, inp, None)


def run_instance_checks(inp: CheckInput) -> list[Finding]:
    return evaluate_instance(inp).findings


def run_fleet_checks(inp: FleetInput) -> list[Finding]:
    return evaluate_fleet(inp).findings


def _load_checks() -> None:
    # The check modules register themselves on import.
    import palisade.auditor.checks  # noqa: F401
