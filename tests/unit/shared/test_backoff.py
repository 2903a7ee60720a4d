"""The shared backoff near its limits, and its properties for any step and parameters."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.shared import backoff

STEPS = [0, 1, 7, 1023, 1024, 10**6, 10**100]


def test_the_ceiling_doubles_from_initial_then_stays_at_the_cap():
    assert [backoff.ceiling(n, 0.5, 60) for n in range(9)] == [
        0.5, 1, 2, 4, 8, 16, 32, 60, 60,
    ]  # fmt: skip


@pytest.mark.parametrize("step", STEPS)
def test_no_step_overflows_and_every_late_step_is_the_cap(step):
    assert backoff.ceiling(step, 0.5, 60) == (0.5 if step == 0 else 1 if step == 1 else 60)
    for jitter in backoff.JITTERS:
        for r in (0.0, 0.5, 1.0):
            d = backoff.delay(step, 0.5, 60, jitter, rand=lambda r=r: r)
            assert 0 <= d <= 60


def test_the_exponent_is_clamped_even_when_the_cap_is_out_of_reach():
    # initial * 2**1023 overflows to inf as a float: min() gives the cap, no OverflowError
    assert backoff.ceiling(10**6, 1e10, 1.7e308) == 1.7e308
    tiny = backoff.ceiling(backoff.MAX_EXPONENT, 1e-320, 1.0)
    assert backoff.ceiling(10**9, 1e-320, 1.0) == tiny  # clamped, still within [0, cap]


def test_the_jitter_kinds():
    assert backoff.delay(3, 1, 60, "none") == 8
    assert backoff.delay(3, 1, 60, "equal", rand=lambda: 0.0) == 4
    assert backoff.delay(3, 1, 60, "equal", rand=lambda: 1.0) == 8
    assert backoff.delay(3, 1, 60, "full", rand=lambda: 0.0) == 0
    assert backoff.delay(3, 1, 60, "full", rand=lambda: 0.25) == 2
    # a random source outside [0, 1) cannot push the delay outside [0, ceiling]
    assert backoff.delay(3, 1, 60, "full", rand=lambda: 7.0) == 8
    assert backoff.delay(3, 1, 60, "full", rand=lambda: -1.0) == 0


def test_the_stateful_backoff_counts_failures_and_resets():
    b = backoff.Backoff(initial=1, maximum=30, jitter="none")
    assert [b.next_delay() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    b.attempt = 10**6
    assert b.next_delay() == 30
    b.reset()
    assert b.next_delay() == 1


@pytest.mark.parametrize(
    "initial, maximum",
    [(0, 1), (-1, 1), (2, 1), (float("nan"), 1), (1, float("inf")), (float("inf"), 1e308)],
)
def test_nonsense_parameters_are_refused(initial, maximum):
    with pytest.raises(ValueError, match="backoff"):
        backoff.Backoff(initial=initial, maximum=maximum)
    with pytest.raises(ValueError, match="backoff"):
        backoff.delay(0, initial, maximum)


def test_an_unknown_jitter_is_refused():
    with pytest.raises(ValueError, match="jitter"):
        backoff.Backoff(initial=1, maximum=2, jitter="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="jitter"):
        backoff.delay(0, 1, 2, "fuzzy")  # type: ignore[arg-type]


steps = st.one_of(st.integers(min_value=-10, max_value=5000), st.integers(min_value=0))
params = st.tuples(
    st.floats(min_value=1e-9, max_value=1e6), st.floats(min_value=1.0, max_value=1e9)
).filter(lambda p: p[1] >= p[0])


@given(step=steps, p=params, jitter=st.sampled_from(backoff.JITTERS), seed=st.integers())
def test_any_delay_is_within_zero_and_the_cap(step, p, jitter, seed):
    initial, maximum = p
    d = backoff.delay(step, initial, maximum, jitter, random.Random(seed).random)
    assert 0 <= d <= maximum


@given(a=steps, b=steps, p=params)
def test_the_ceiling_never_goes_down(a, b, p):
    initial, maximum = p
    lo, hi = sorted((a, b))
    low, high = backoff.ceiling(lo, initial, maximum), backoff.ceiling(hi, initial, maximum)
    assert initial <= low <= high <= maximum
