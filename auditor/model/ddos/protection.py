"""Each instance's DDoS basic-protection state, driven by its inbound traffic.

The states are Anti-DDoS Basic's (DescribeInstanceDdosStatus): `normal`, `defense`
(scrubbing) and `blackhole`. `next_state` is the whole machine, one reading at a time:

- above the black-hole level (the ECS security guide: 5 Gbit/s) -> black hole until
  now + the black-hole duration (Anti-DDoS Basic: 2.5 hours by default); a reading above the
  level while black-holed extends it from that reading (the attack continues);
- a black hole is not lifted early, whatever the traffic (Anti-DDoS Basic cannot cancel one);
  once its time is up the reading decides like from `normal`;
- above the instance's scrubbing threshold (BPS or PPS) -> scrubbing;
- otherwise, or with no fresh reading (no measurement above the threshold) -> normal.

An instance type missing from the threshold table has no scrubbing threshold (it can still be
black-holed): `default_threshold` names it in a clear message where one is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Changes
from palisade.auditor.model.ddos.thresholds import DdosThreshold
from palisade.auditor.model.document import decode, encode
from palisade.auditor.model.errors import ModelError


class DdosStatus(str, Enum):
    NORMAL = "normal"
    SCRUBBING = "defense"
    BLACK_HOLE = "blackhole"


@dataclass(frozen=True)
class DdosPolicy:
    """The platform's figures (settings): the black-hole level and how long a black hole lasts."""

    black_hole_bps: float = 5e9
    black_hole_s: int = 9000


@dataclass(frozen=True)
class InboundTraffic:
    bps: float  # bits per second
    pps: float  # packets per second


@dataclass
class InstanceDdos:
    status: DdosStatus = DdosStatus.NORMAL
    since: datetime | None = None  # when the instance entered `status`
    until: datetime | None = None  # the end of a black hole
    lowered: DdosThreshold | None = None  # the user's threshold (lower only); None: the default

    def effective_status(self, now: datetime) -> DdosStatus:
        """A black hole whose time is up counts as normal until the next reading."""
        if self.status is DdosStatus.BLACK_HOLE and not self.black_holed(now):
            return DdosStatus.NORMAL
        return self.status

    def black_holed(self, now: datetime) -> bool:
        return self.status is DdosStatus.BLACK_HOLE and self.until is not None and now < self.until


def effective_threshold(
    default: DdosThreshold | None, lowered: DdosThreshold | None
) -> DdosThreshold | None:
    """The instance type's threshold, lowered by the user's (never raised)."""
    if default is None:
        return lowered
    return default.lowered_by(lowered)


def next_state(
    current: InstanceDdos,
    traffic: InboundTraffic | None,
    threshold: DdosThreshold | None,
    policy: DdosPolicy,
    now: datetime,
) -> InstanceDdos:
    """The state after one reading of the inbound traffic (None: no fresh reading)."""
    above_black_hole = traffic is not None and traffic.bps > policy.black_hole_bps
    if current.black_holed(now) and not above_black_hole:
        return current
    if above_black_hole:
        since = current.since if current.black_holed(now) else now
        return replace(
            current,
            status=DdosStatus.BLACK_HOLE,
            since=since,
            until=now + timedelta(seconds=policy.black_hole_s),
        )
    if traffic is not None and threshold is not None:
        if threshold.exceeded_by(traffic.bps, traffic.pps):
            status = DdosStatus.SCRUBBING
        else:
            status = DdosStatus.NORMAL
    else:
        status = DdosStatus.NORMAL
    if status is current.status:
        return current
    return replace(current, status=status, since=now, until=None)


def default_threshold(table: dict[str, DdosThreshold], instance_type: str) -> DdosThreshold:
    """The instance type's threshold from the table, or a clear error naming the type."""
    found = table.get(instance_type)
    if found is None:
        raise ModelError(
            "InvalidInstanceType.NoDdosThreshold",  # 400: the instance exists, its type has no row
            f"Instance type {instance_type[:64]!r} is not in the DDoS scrubbing threshold table "
            f"({len(table)} types from the ECS security guide); its scrubbing threshold is "
            "unknown.",
        )
    return found


@dataclass
class DdosProtection:
    """Every instance's state; instances never seen above a threshold and never lowered have
    no entry (normal, default threshold)."""

    instances: dict[str, InstanceDdos] = field(default_factory=dict)
    # what a write touched (see model.changes)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def get(self, instance_id: str) -> InstanceDdos:
        return self.instances.get(instance_id) or InstanceDdos()

    def put(self, instance_id: str, record: InstanceDdos) -> None:
        if record == self.instances.get(instance_id):
            return
        if record == InstanceDdos():
            if self.instances.pop(instance_id, None) is not None:
                self.changes.touch(K.DDOS, instance_id)
        else:
            self.instances[instance_id] = record
            self.changes.touch(K.DDOS, instance_id)

    def black_holed(self, now: datetime) -> frozenset[str]:
        return frozenset(i for i, r in self.instances.items() if r.black_holed(now))

    def set_threshold(
        self,
        instance_id: str,
        default: DdosThreshold,
        requested: DdosThreshold | None,
        instance_type: str,
    ) -> InstanceDdos:
        """Lowers the instance's threshold to `requested` (None: back to the default). Raising
        either figure above the instance type's default is refused."""
        if requested is not None:
            for name, value, limit, unit, scale in (
                ("Bps", requested.bps, default.bps, "Mbit/s", 1e6),
                ("Pps", requested.pps, default.pps, "pps", 1),
            ):
                if value > limit:
                    raise ModelError(
                        f"InvalidParameter.{name}",
                        f"{name} {value / scale:.0f} {unit} is above the default "
                        f"{limit / scale:.0f} {unit} of {instance_type}: a scrubbing threshold "
                        "can only be lowered (IsAuto=true resets it to the default).",
                    )
            if requested == default:
                requested = None
        record = replace(self.get(instance_id), lowered=requested)
        self.put(instance_id, record)
        return record

    def forget(self, gone: set[str]) -> None:
        for instance_id in gone:
            if self.instances.pop(instance_id, None) is not None:
                self.changes.touch(K.DDOS, instance_id)

    def to_document(self) -> dict:
        return {"instances": {i: encode(r) for i, r in sorted(self.instances.items())}}

    @classmethod
    def from_document(cls, doc: dict | None) -> DdosProtection:
        if not doc:
            return cls()
        return cls(
            {
                str(i): decode(InstanceDdos, r, f"$.ddos.instances.{i}")
                for i, r in doc.get("instances", {}).items()
            }
        )
