"""Exponential backoff with jitter, capped, for any number of attempts: the one the agent's
sender (reconnecting to the auditor) and the notifier (retrying a channel) both use.

The delay before retry number `step` (0 for the first) is drawn below a ceiling of
min(maximum, initial * 2**step). The exponent is clamped (MAX_EXPONENT), so the ceiling is a
float operation that never overflows however long an outage lasts: a sender that has failed
10**6 times still gets `maximum`, not an OverflowError. The jitter keeps a fleet (or the
auditor's replicas) from retrying in lock-step:

- "equal": between half and all of the ceiling (what both users have always used);
- "full": anywhere between 0 and the ceiling;
- "none": exactly the ceiling.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Jitter = Literal["equal", "full", "none"]
JITTERS: tuple[Jitter, ...] = ("equal", "full", "none")

# 2.0**1023 is the largest power of two a float holds; beyond it `2.0**step` would raise.
# initial * 2.0**1023 may round to inf, which min() then turns into `maximum`.
MAX_EXPONENT = 1023


def _check(initial: float, maximum: float) -> None:
    if not (math.isfinite(initial) and initial > 0):
        raise ValueError(f"backoff initial delay must be a positive number, not {initial!r}")
    if not (math.isfinite(maximum) and maximum >= initial):
        raise ValueError(
            f"backoff maximum must be a number >= the initial delay {initial!r}, not {maximum!r}"
        )


def ceiling(step: int, initial: float, maximum: float) -> float:
    """min(maximum, initial * 2**step) for any step (negative counts as 0), without
    overflowing; non-decreasing in `step`."""
    _check(initial, maximum)
    exponent = min(max(0, int(step)), MAX_EXPONENT)
    return min(maximum, initial * 2.0**exponent)


def delay(
    step: int,
    initial: float,
    maximum: float,
    jitter: Jitter = "equal",
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry `step` (0-based): within [0, maximum] whatever the step
    and whatever `rand` returns (its value is clamped into [0, 1])."""
    top = ceiling(step, initial, maximum)
    if jitter == "none":
        return top
    r = min(1.0, max(0.0, float(rand())))
    if jitter == "full":
        return top * r
    if jitter == "equal":
        return top / 2 + r * top / 2
    raise ValueError(f"backoff jitter must be one of {', '.join(JITTERS)}, not {jitter!r}")


@dataclass
class Backoff:
    """The retries of one connection: `next_delay()` after each failure, `reset()` after a
    success. `attempt` counts the failures since the last reset (it may grow without bound)."""

    initial: float
    maximum: float
    jitter: Jitter = "equal"
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        _check(self.initial, self.maximum)
        if self.jitter not in JITTERS:
            raise ValueError(f"backoff jitter must be one of {', '.join(JITTERS)}")

    def next_delay(self) -> float:
        d = delay(self.attempt, self.initial, self.maximum, self.jitter, self.rng.random)
        self.attempt += 1
        return d

    def reset(self) -> None:
        self.attempt = 0
