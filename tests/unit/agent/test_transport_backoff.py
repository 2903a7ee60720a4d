import random

from palisade.agent.transport import Backoff


def test_backoff_grows_exponentially_with_jitter_and_caps():
    b = Backoff(initial=1, maximum=30, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(10)]
    for n, d in enumerate(delays):
        ceiling = min(30, 2**n)
        assert ceiling / 2 <= d <= ceiling
    assert len(set(delays)) == len(delays)  # jittered, not lock-step
    b.reset()
    assert b.next_delay() <= 1
