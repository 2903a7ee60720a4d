"""What every check shares: its metadata, the findings it returns, its inputs and settings,
and the registry that runs them (Prowler-style: a check is a small pure function plus metadata).

Checks are pure: no sockets, no database, no clock reads (the caller passes `now`). A check
returns a list of findings (empty: evaluated, nothing wrong) or None when it could not be
evaluated (the facts it needs are missing): the alerts layer resolves an alert only when its
check was evaluated and no longer finds the condition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from palisade.shared.proto import facts_pb2

if TYPE_CHECKING:
    from palisade.auditor.checks.baseline.engine import BaselinePolicy
    from palisade.auditor.checks.ddos.thresholds import DdosThreshold
    from palisade.auditor.checks.vulnerabilities.osv import AdvisoryDatabase
    from palisade.auditor.model.cloud_state import CloudState
    from palisade.auditor.model.fleet.resources import Instance
    from palisade.auditor.model.network.exposure_index import ExposureIndex

log = logging.getLogger(__name__)

Severity = Literal["serious", "suspicious", "remind"]
SEVERITIES: tuple[str, ...] = ("serious", "suspicious", "remind")
CATEGORIES: tuple[str, ...] = (
    "exposure",
    "keypair",
    "login",
    "baseline",
    "ddos",
    "secrets",
    "vulnerability",
    "ram",
)
CHECK_ERROR = "palisade.check_error"


def severity_rank(severity: str) -> int:
    """0 for serious (the worst) .. 2 for remind."""
    return SEVERITIES.index(severity)


def worst(severities: Iterable[str]) -> str:
    return min(severities, key=severity_rank, default="remind")


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

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        return (self.instance_id or "", self.check_id, self.subject)


# ------------------------------------------------------------------ history for learning checks


@dataclass
class InstanceHistory:
    """What the login checks learn from an instance's past, computed by the caller from stored
    events (`InstanceHistory.from_events`). Times are unix milliseconds of the first successful
    login with that source / account / hour; a value at or after an event's own time means
    "first seen with this event", so the caller may include the events being checked."""

    learning_since_ms: int | None = None  # first report from the instance; None: unknown
    sources: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)  # hour of day (settings.timezone)

    @classmethod
    def from_events(
        cls,
        events: Iterable[facts_pb2.Event],
        settings: CheckSettings | None = None,
        learning_since_ms: int | None = None,
    ) -> InstanceHistory:
        settings = settings or CheckSettings()
        history = cls(learning_since_ms=learning_since_ms)
        first_event: int | None = None
        for ev in events:
            first_event = ev.time_ms if first_event is None else min(first_event, ev.time_ms)
            if not ev.HasField("login") or ev.login.result != "success":
                continue
            history.observe_success(ev, settings)
        if history.learning_since_ms is None:
            history.learning_since_ms = first_event
        return history

    def observe_success(self, ev: facts_pb2.Event, settings: CheckSettings) -> None:
        t = ev.time_ms
        login = ev.login
        if login.source_ip:
            self.sources[login.source_ip] = min(self.sources.get(login.source_ip, t), t)
        if login.user:
            self.accounts[login.user] = min(self.accounts.get(login.user, t), t)
        hour = settings.hour_of(t)
        self.hours[hour] = min(self.hours.get(hour, t), t)


# ------------------------------------------------------------------ settings


def _default_ddos_thresholds() -> dict[str, DdosThreshold]:
    from palisade.auditor.checks.ddos.thresholds import load_default_thresholds

    return load_default_thresholds()


def _default_policies() -> list[BaselinePolicy]:
    from palisade.auditor.checks.baseline.engine import load_default_policies

    return load_default_policies()


@dataclass
class CheckSettings:
    """Every tunable of the checks. Defaults are the issue's and the seed's figures."""

    # logins
    brute_force_failures: int = 8  # failed attempts from one source ...
    brute_force_window_s: int = 120  # ... within this many seconds
    brute_force_success_min_failures: int = 5  # a success after this many failures ...
    brute_force_success_window_s: int = 3600  # ... from the same source within this
    learning_window_s: int = 24 * 3600  # no "unusual" login alerts while learning
    unusual_hour_tolerance_h: int = 1  # an hour next to a usual one is usual too
    timezone: str = "UTC"  # for login hours (the account's time zone)
    fleet_failure_min_instances: int = 3  # one source failing on this many instances ...
    fleet_failure_window_s: int = 3600  # ... within this many seconds
    default_ssh_port: int = 22
    default_rdp_port: int = 3389
    # exposure
    exposure_extra_ports: dict[tuple[str, int], str] = field(default_factory=dict)
    # ddos
    ddos_thresholds: dict[str, DdosThreshold] = field(default_factory=_default_ddos_thresholds)
    ddos_instance_thresholds: dict[str, DdosThreshold] = field(default_factory=dict)  # lower only
    ddos_black_hole_bps: float = 5e9  # the seed: above 5 Gbit/s the instance is black-holed
    ddos_max_traffic_age_s: int = 300  # older traffic facts are not evaluated
    ddos_ignored_interface_prefixes: tuple[str, ...] = (
        "lo",
        "docker",
        "veth",
        "br-",
        "virbr",
        "cni",
        "flannel",
        "cali",
        "tun",
        "tap",
        "wg",
    )
    # baseline
    baseline_policies: list[BaselinePolicy] = field(default_factory=_default_policies)
    # vulnerabilities (None: no feed loaded, the check is not evaluated)
    advisories: AdvisoryDatabase | None = None

    def hour_of(self, time_ms: int) -> int:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(self.timezone)
        return datetime.fromtimestamp(time_ms / 1000, tz).hour


# ------------------------------------------------------------------ inputs


@dataclass
class CheckInput:
    state: CloudState
    instance_id: str
    snapshot: facts_pb2.Snapshot | None
    events: list[facts_pb2.Event]  # recent, oldest first
    now: datetime  # aware UTC
    settings: CheckSettings = field(default_factory=CheckSettings)
    history: InstanceHistory = field(default_factory=InstanceHistory)
    # Optional: one ExposureIndex shared by every instance of a round (exposure_fleet's trick).
    exposure_index: ExposureIndex | None = None
    # Per-input memo for work several checks share (the exposure report); not an input.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def instance(self) -> Instance | None:
        """The model's instance, or None when the cloud model doesn't know it."""
        return self.state.cloud.instances.get(self.instance_id)

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    def logins(self) -> list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]]:
        return [(e, e.login) for e in self.events if e.HasField("login")]


@dataclass
class FleetInput:
    state: CloudState
    now: datetime
    settings: CheckSettings = field(default_factory=CheckSettings)
    events_by_instance: dict[str, list[facts_pb2.Event]] = field(default_factory=dict)


# ------------------------------------------------------------------ registry

InstanceCheckFn = Callable[[CheckInput], "list[Finding] | None"]
FleetCheckFn = Callable[[FleetInput], "list[Finding] | None"]


@dataclass(frozen=True)
class RegisteredCheck:
    meta: CheckMeta
    fn: Callable


INSTANCE_CHECKS: dict[str, RegisteredCheck] = {}
FLEET_CHECKS: dict[str, RegisteredCheck] = {}


def _register(table: dict[str, RegisteredCheck], meta: CheckMeta, fn: Callable) -> None:
    if meta.id in INSTANCE_CHECKS or meta.id in FLEET_CHECKS:
        raise ValueError(f"check {meta.id!r} registered twice")
    table[meta.id] = RegisteredCheck(meta, fn)


def instance_check(meta: CheckMeta) -> Callable[[InstanceCheckFn], InstanceCheckFn]:
    def wrap(fn: InstanceCheckFn) -> InstanceCheckFn:
        _register(INSTANCE_CHECKS, meta, fn)
        fn.meta = meta  # type: ignore[attr-defined]
        return fn

    return wrap


def fleet_check(meta: CheckMeta) -> Callable[[FleetCheckFn], FleetCheckFn]:
    def wrap(fn: FleetCheckFn) -> FleetCheckFn:
        _register(FLEET_CHECKS, meta, fn)
        fn.meta = meta  # type: ignore[attr-defined]
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
        severity="remind",
        category=meta.category,
        title=f"Check {meta.id} failed",
        message=f"{type(exc).__name__}: {exc}",
        details={"check_id": meta.id, "error": type(exc).__name__},
    )


def _run(table: dict[str, RegisteredCheck], inp, instance_id: str | None) -> CheckRun:
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
