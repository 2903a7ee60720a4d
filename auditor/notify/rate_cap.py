"""Stage 3, the per-hour cap of a channel: how many may go now, and when a slot frees (pure).

A delivery is one message handed to the channel: a single notification or a digest.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class CapDecision:
    free: int | None  # deliveries allowed now (None: no cap)
    next_slot_ms: int  # when one more delivery is allowed after spending `free` now


def decide(max_per_hour: int | None, recent_delivery_ms: list[int], now_ms: int) -> CapDecision:
    """`recent_delivery_ms`: when the channel's recent deliveries were made (any order)."""
    if max_per_hour is None:
        return CapDecision(None, now_ms)
    recent = [t for t in recent_delivery_ms if t > now_ms - HOUR_MS]
    free = max(0, max_per_hour - len(recent))
    if max_per_hour <= 0:  # the API refuses it; mean "hold everything" rather than crash
        return CapDecision(0, now_ms + HOUR_MS)
    spent = sorted(recent + [now_ms] * free)
    # a slot frees when enough deliveries have left the hour for one more to fit
    return CapDecision(free, spent[len(spent) - max_per_hour] + HOUR_MS)
