"""The sliding-window limiter waits on the injected clock and never lets a window overflow."""

from __future__ import annotations

import pytest

from shelfdesk.channels.ratelimit import SlidingWindowLimiter, acquire_all, hold_all
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


async def test_a_held_unit_counts_until_the_answer_then_for_a_window(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(3, 10.0, clock)
    holds = [await hold_all([limiter]) for _ in range(3)]
    assert limiter.wait_time() == 10.0  # in flight: none can leave before a whole window
    clock.advance(4.0)  # slow answers
    for hold in holds:
        with hold:
            pass
    assert limiter.wait_time() == pytest.approx(10.0)  # counted from the answers, not from the sending
    clock.advance(9.9)
    assert limiter.available() == 0
    clock.advance(0.1)
    assert limiter.available() == 3


def simulate(counting: str, seed: int) -> list[float]:
    """Requests sent as fast as a 20-per-10-s limiter allows, over a network whose delays vary
    (up to 2 s each way, as a loaded link or a far region may): when the marketplace saw each."""
    import asyncio
    import random

    async def run() -> list[float]:
        clock = FakeClock()
        limiter = SlidingWindowLimiter(20, 10.0, clock)
        rng = random.Random(seed)
        in_flight: list[tuple[float, object]] = []
        arrivals: list[float] = []

        def move_to(when: float) -> None:
            for answer, hold in sorted(in_flight, key=lambda p: p[0]):
                if answer > when:
                    break
                clock.advance(answer - clock.monotonic())
                hold.release()  # type: ignore[attr-defined]
                in_flight.remove((answer, hold))
            clock.advance(max(0.0, when - clock.monotonic()))

        for _ in range(400):
            while (wait := limiter.wait_time()) > 0:
                move_to(min(clock.monotonic() + wait, min((a for a, _ in in_flight), default=float("inf"))))
            arrive = clock.monotonic() + rng.choice([0.01, 1.9]) * rng.random()
            if counting == "answer":
                in_flight.append((arrive + rng.random() * 2.0, await hold_all([limiter])))
            else:  # the old way: units counted from the sending
                await acquire_all([limiter])
            arrivals.append(arrive)
            move_to(clock.monotonic() + rng.random() * 0.05)
        return arrivals

    return asyncio.run(run())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_marketplace_never_sees_more_than_the_limit_whatever_the_delays(seed: int) -> None:
    assert max_in_window(simulate("answer", seed), 10.0) <= 20
    assert max_in_window(simulate("sending", seed), 10.0) > 20  # counting from the sending would trip it


async def test_a_throttled_limiter_lowers_its_limit_once(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(200, 10.0, clock)
    limiter.penalize(10.0)
    assert limiter.limit == 180
    limiter.penalize(10.0)
    assert limiter.limit == 180  # once: a second 429 is not a reason to crawl
    clock.advance(10.0)
    for _ in range(180):
        await limiter.acquire()
    assert limiter.wait_time() == pytest.approx(10.0)
