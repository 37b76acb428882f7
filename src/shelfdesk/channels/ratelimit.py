"""Client-side sliding-window rate limiting on the injected clock.

Marketplaces throttle by counting requests over a sliding window (Back Market:
about 200 requests per 10 s, 20 per 10 s on catalog endpoints, 2,000 listing
lines per hour). Being throttled costs a 10-second block, so connectors count
before sending instead of discovering the limit by a 429. A request made at
``t`` counts in every window that contains ``t``; it leaves the window at
``t + window`` exactly (the sandbox counts the same way).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from shelfdesk.clock import Clock


class SlidingWindowLimiter:
    """At most ``limit`` units in any ``window`` seconds.

    ``acquire(cost)`` waits (on the clock) until ``cost`` more units fit.
    ``penalize(seconds)`` stops every acquisition until the marketplace's
    block is over (after a 429).
    """

    def __init__(self, limit: int, window: float, clock: Clock, *, name: str = "") -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a limiter needs a positive limit and window")
        self.limit = limit
        self.window = float(window)
        self.clock = clock
        self.name = name
        self._events: deque[tuple[float, int]] = deque()
        self._used = 0
        self._blocked_until = 0.0

    def _expire(self, now: float) -> None:
        while self._events and self._events[0][0] + self.window <= now:
            _, cost = self._events.popleft()
            self._used -= cost

    def available(self) -> int:
        self._expire(self.clock.monotonic())
        return self.limit - self._used

    def wait_time(self, cost: int = 1) -> float:
        """Seconds to wait before ``cost`` units fit (0 if they fit now)."""
        now = self.clock.monotonic()
        self._expire(now)
        wait = max(0.0, self._blocked_until - now)
        need = self._used + cost - self.limit
        if need > 0:
            freed = 0
            for stamp, c in self._events:
                freed += c
                if freed >= need:
                    wait = max(wait, stamp + self.window - now)
                    break
        return wait

    def _take(self, cost: int) -> None:
        self._events.append((self.clock.monotonic(), cost))
        self._used += cost

    async def acquire(self, cost: int = 1) -> float:
        """Wait until ``cost`` units fit, take them, and return the seconds waited."""
        return await acquire_all([self], cost)

    def penalize(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + seconds)


async def acquire_all(limiters: Iterable[SlidingWindowLimiter], cost: int = 1) -> float:
    """Take ``cost`` units from every limiter at once, waiting on the clock until all fit.

    No ``await`` separates the final check from the taking, so concurrent
    callers on one event loop cannot overshoot. Waiting on the limiters one after the other could let the first one's units
    age while the second blocks; here we wait until all fit, then take from all.
    """
    limiters = list(limiters)
    for limiter in limiters:
        if cost > limiter.limit:
            raise ValueError(f"cost {cost} exceeds limiter {limiter.name or ''} limit {limiter.limit}")
    if not limiters:
        return 0.0
    clock = limiters[0].clock
    waited = 0.0
    while True:
        wait = max(limiter.wait_time(cost) for limiter in limiters)
        if wait <= 0:
            for limiter in limiters:
                limiter._take(cost)
            return waited
        await clock.sleep(wait)
        waited += wait
