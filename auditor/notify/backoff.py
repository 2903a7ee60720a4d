"""Stage 4, retries: exponential backoff with jitter, capped, forever (pure).

A channel that is down is retried until it is back (nothing is lost); the cap keeps a long
outage from turning into a slow trickle once it ends, and the jitter keeps replicas and
channels from retrying in lockstep. The arithmetic is palisade.shared.backoff, the agent's
sender's too (its exponent is clamped: any number of attempts gives at most the cap).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from palisade.shared import backoff

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
    return backoff.delay(attempts - 1, base_s, cap_s, "equal", rand)
