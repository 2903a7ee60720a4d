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


def test_backoff_past_1024_failures_stays_at_the_cap_instead_of_overflowing():
    # 0.5 * 2**1024 raised OverflowError, which ended the sender task for good
    for attempt in (1023, 1024, 2000, 10**6):
        b = Backoff(attempt=attempt, rng=random.Random(attempt))
        assert 30.0 <= b.next_delay() <= 60.0  # equal jitter: half to all of the 60 s cap
        assert b.attempt == attempt + 1
