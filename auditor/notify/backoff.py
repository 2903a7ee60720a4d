"""Stage 4, retries: exponential backoff with jitter, capped, forever (pure).

A channel that is down is retried until it is back (nothing is lost); the cap keeps a long
outage from turning into a slow trickle once it ends, and the jitter keeps replicas and
channels from retrying in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_S = 2.0
CAP_S = 300.0


def retry_delay(
    attempts: int,
    base_s: float = BASE_S,
    cap_s: float = CAP_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds before the next try after `attempts` failed ones ("equal jitter": between half
    and all of min(cap, base * 2^(attempts-1)))."""
    ceiling = min(cap_s, base_s * 2 ** max(0, min(attempts - 1, 30)))
    return ceiling / 2 + rand() * ceiling / 2
