"""DDoS basic protection: inbound traffic against the instance type's scrubbing thresholds.
Findings are conditions (they exist while the traffic is above the threshold; the alerts layer
opens and resolves them, which gives the start and end of an episode).

Inbound = the sum of the received rates of the instance's real interfaces (virtual ones such
as docker0/veth would count the same packets twice); the agent cannot tell public from private
traffic, so this over-estimates the public inbound traffic the cloud measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.ddos.metadata import BLACK_HOLE, SCRUBBING
from palisade.auditor.checks.inputs import CheckInput, CheckSettings
from palisade.auditor.checks.registry import instance_check
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.ddos.protection import InboundTraffic, effective_threshold
from palisade.auditor.model.ddos.thresholds import DdosThreshold


def inbound_rates(inp: CheckInput) -> tuple[float, float, list[str]] | None:
    """(bits/s, packets/s, interfaces) received, or None when there are no fresh rates."""
    snap = inp.snapshot
    if snap is None or not snap.HasField("traffic"):
        return None
    traffic = snap.traffic
    age_ms = inp.now_ms - traffic.measured_at_ms
    if traffic.measured_at_ms and age_ms > inp.settings.ddos_max_traffic_age_s * 1000:
        return None  # stale: the condition is unknown
    skip = inp.settings.ddos_ignored_interface_prefixes
    real = [i for i in traffic.interfaces if not i.name.startswith(skip)]
    rated = [i for i in real if i.has_rates]
    if not rated:
        return None
    return (
        sum(i.rx_bits_per_second for i in rated),
        sum(i.rx_packets_per_second for i in rated),
        [i.name for i in rated],
    )


def inbound_traffic(inp: CheckInput) -> InboundTraffic | None:
    """The reading that drives the instance's protection state (model/ddos/protection.py)."""
    rates = inbound_rates(inp)
    return None if rates is None else InboundTraffic(rates[0], rates[1])


def instance_threshold(
    settings: CheckSettings, state: CloudState, instance_id: str
) -> DdosThreshold | None:
    """The instance type's scrubbing threshold, lowered by the user's (ModifyDdosThreshold)."""
    inst = state.cloud.instances.get(instance_id)
    if inst is None:
        return None
    return effective_threshold(
        settings.ddos_thresholds.get(inst.instance_type), state.ddos.get(instance_id).lowered
    )


def threshold_for(inp: CheckInput) -> DdosThreshold | None:
    return instance_threshold(inp.settings, inp.state, inp.instance_id)


@dataclass(frozen=True, kw_only=True)
class TrafficEvidence(Evidence):
    rx_bps: float
    rx_pps: float
    interfaces: tuple[str, ...]
    measured_at_ms: int
    threshold_bps: float
    threshold_pps: float | None = None  # scrubbing: the instance type's thresholds
    instance_type: str | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = ("threshold_pps", "instance_type")


def _details(bps: float, pps: float, names: list[str], inp: CheckInput, **more) -> TrafficEvidence:
    return TrafficEvidence(
        rx_bps=bps,
        rx_pps=pps,
        interfaces=tuple(names),
        measured_at_ms=inp.snapshot.traffic.measured_at_ms if inp.snapshot else 0,
        **more,
    )


@instance_check(SCRUBBING)
def scrubbing(inp: CheckInput) -> list[Finding] | None:
    rates, limit = inbound_rates(inp), threshold_for(inp)
    if rates is None or limit is None:
        return None
    bps, pps, names = rates
    if not limit.exceeded_by(bps, pps):
        return []
    over = []
    if bps > limit.bps:
        over.append(f"{bps / 1e6:.0f} Mbit/s > {limit.bps / 1e6:.0f} Mbit/s")
    if pps > limit.pps:
        over.append(f"{pps:.0f} pps > {limit.pps:.0f} pps")
    inst = inp.instance
    assert inst is not None
    return [
        SCRUBBING.finding(
            inp.instance_id,
            "scrubbing",
            f"Inbound traffic {' and '.join(over)} ({inst.instance_type}): scrubbing.",
            _details(
                bps,
                pps,
                names,
                inp,
                instance_type=inst.instance_type,
                threshold_bps=limit.bps,
                threshold_pps=limit.pps,
            ),
        )
    ]


@instance_check(BLACK_HOLE)
def black_hole(inp: CheckInput) -> list[Finding] | None:
    rates = inbound_rates(inp)
    if rates is None:
        return None
    bps, pps, names = rates
    limit = inp.settings.ddos_black_hole_bps
    if bps <= limit:
        return []
    return [
        BLACK_HOLE.finding(
            inp.instance_id,
            "black_hole",
            f"Inbound traffic {bps / 1e9:.2f} Gbit/s > {limit / 1e9:.0f} Gbit/s: black hole.",
            _details(bps, pps, names, inp, threshold_bps=limit),
        )
    ]
