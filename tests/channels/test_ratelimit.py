"""The sliding-window limiter waits on the injected clock and never lets a window overflow."""

from __future__ import annotations

import pytest

from shelfdesk.channels.ratelimit import SlidingWindowLimiter, acquire_all
from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.core import max_in_window


async def test_never_more_than_limit_in_any_window(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(5, 10.0, clock)
    stamps = []
    for _ in range(23):
        await limiter.acquire()
        stamps.append(clock.monotonic())
        clock.advance(0.5)  # a request takes some time
    assert max_in_window(stamps, 10.0) == 5
    assert clock.sleeps, "the limiter must have waited"
    assert all(s > 0 for s in clock.sleeps)


async def test_first_calls_do_not_wait(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(3, 10.0, clock)
    for _ in range(3):
        assert await limiter.acquire() == 0.0
    assert clock.sleeps == []
    waited = await limiter.acquire()
    assert waited == pytest.approx(10.0)  # the oldest unit leaves the window exactly 10 s after it was taken


async def test_costs_and_available(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(2000, 3600.0, clock)
    await limiter.acquire(1800)
    assert limiter.available() == 200
    waited = await limiter.acquire(700)
    assert waited == pytest.approx(3600.0)
    assert limiter.available() == 1300
    with pytest.raises(ValueError):
        await limiter.acquire(2001)


async def test_penalty_blocks_until_over(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(100, 10.0, clock)
    await limiter.acquire()
    limiter.penalize(10.0)
    assert await limiter.acquire() == pytest.approx(10.0)


async def test_acquire_all_waits_for_the_tightest(clock: FakeClock) -> None:
    wide = SlidingWindowLimiter(200, 10.0, clock)
    narrow = SlidingWindowLimiter(2, 10.0, clock)
    for _ in range(2):
        await acquire_all([wide, narrow])
    assert await acquire_all([wide, narrow]) == pytest.approx(10.0)
    assert wide.available() == 199  # the first two left the window too; one is in it


def test_bad_limits_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 10.0, clock)
