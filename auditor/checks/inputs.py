"""What a check reads: `CheckInput` (one instance: the cloud state, its latest snapshot, its
recent events, what it learnt from its past in `InstanceHistory`) or `FleetInput` (every
instance), and `CheckSettings`, every tunable of the checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from palisade.shared.proto import facts_pb2

if TYPE_CHECKING:
    from palisade.auditor.checks.baseline.engine import BaselinePolicy
    from palisade.auditor.checks.vulnerabilities.osv import AdvisoryDatabase
    from palisade.auditor.model.cloud_state import CloudState
    from palisade.auditor.model.ddos.protection import DdosPolicy
    from palisade.auditor.model.ddos.thresholds import DdosThreshold
    from palisade.auditor.model.fleet.resources import Instance
    from palisade.auditor.model.network.exposure_index import ExposureIndex


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


def _default_ddos_thresholds() -> dict[str, DdosThreshold]:
    from palisade.auditor.model.ddos.thresholds import load_default_thresholds

    return load_default_thresholds()


def _default_policies() -> list[BaselinePolicy]:
    from palisade.auditor.checks.baseline.engine import load_default_policies

    return load_default_policies()


@dataclass
class CheckSettings:
    """Every tunable of the checks. Defaults are the issue's figures and the ECS security
    guide's."""

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
    ssh_scanner_connections: int = 5  # pre-auth scans / protocol errors from one source ...
    ssh_scanner_window_s: int = 600  # ... within this many seconds: an SSH-scanner alert
    default_ssh_port: int = 22
    default_rdp_port: int = 3389
    # exposure
    exposure_extra_ports: dict[tuple[str, int], str] = field(default_factory=dict)
    # ddos
    ddos_thresholds: dict[str, DdosThreshold] = field(default_factory=_default_ddos_thresholds)
    # (an instance's lowered threshold is in the state: CloudState.ddos, ModifyDdosThreshold)
    ddos_black_hole_bps: float = 5e9  # ECS security guide: above 5 Gbit/s, black-holed
    ddos_black_hole_s: int = 9000  # Anti-DDoS Basic: a black hole lasts 2.5 hours by default
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

    @property
    def ddos_policy(self) -> DdosPolicy:
        from palisade.auditor.model.ddos.protection import DdosPolicy

        return DdosPolicy(self.ddos_black_hole_bps, self.ddos_black_hole_s)

    def hour_of(self, time_ms: int) -> int:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(self.timezone)
        return datetime.fromtimestamp(time_ms / 1000, tz).hour


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
