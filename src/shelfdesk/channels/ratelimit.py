"""Client-side sliding-window rate limiting on the injected clock.

Marketplaces throttle by counting requests over a sliding window (Back Market:
about 200 requests per 10 s, 20 per 10 s on catalog endpoints, 2,000 listing
lines per hour). Being throttled costs a 10-second block, so connectors count
before sending instead of discovering the limit by a 429. A request made at
``t`` counts in every window that contains ``t``; it leaves the window at
``t + window`` exactly (the sandbox counts the same way).

The marketplace counts a request when it *arrives*, which is some time after
we send it and before its answer comes back. A request sent through
:func:`hold_all` therefore counts from the moment it is sent until its answer
is in, and then for a whole window after that: whatever the network's delays,
the marketplace never sees more than ``limit`` requests in a window (a request
whose answer came at ``d`` arrived before ``d``, so it has left the
marketplace's window by ``d + window``). This is what lets a connector use the
documented limit itself instead of keeping a margin under it for the delays;
the price is the answer time, a few milliseconds per window.

A limit that proves too high (a 429 although we counted) is lowered once, to
``after_throttle`` of itself: the marketplace told us its real figure is lower
than the documented one, and every later block would cost 10 seconds.

The marketplace counts per account, not per connector: every run (a harvest,
an offers feed, the outbox sender) builds its own connector, often one right
after the other, or side by side in threads. :func:`shared_limiter` gives all
of them in one process the same limiter per account, so back-to-back runs do
not each start with a full window and trip the marketplace's block. Taking
units is guarded by a lock, since publishing runs in threads with their own
event loops.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

from shelfdesk.clock import Clock

_TAKING = threading.Lock()
#: Never pruned: a process knows a handful of accounts, and a limiter a live connector holds must stay
#: the one the next connector of its account gets (each holds at most ``limit`` units).
_SHARED: dict[tuple[object, ...], SlidingWindowLimiter] = {}

#: The share of its limit a limiter keeps after the marketplace throttled it once.
AFTER_THROTTLE = 0.9


class _Units:
    """Units taken together; they leave the window ``window`` seconds after ``stamp``.

    ``stamp`` is None while the request they pay for is in flight: they cannot leave yet.
    """

    __slots__ = ("cost", "stamp")

    def __init__(self, cost: int, stamp: float | None) -> None:
        self.cost, self.stamp = cost, stamp


class SlidingWindowLimiter:
    """At most ``limit`` units in any ``window`` seconds.

    ``acquire(cost)`` waits (on the clock) until ``cost`` more units fit.
    ``penalize(seconds)`` stops every acquisition until the marketplace's
    block is over (after a 429), and lowers the limit to ``after_throttle``
    of the configured one.
    """

    def __init__(self, limit: int, window: float, clock: Clock, *, name: str = "", after_throttle: float = AFTER_THROTTLE) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a limiter needs a positive limit and window")
        self.limit = limit
        self.configured_limit = limit
        self.after_throttle = after_throttle
        self.window = float(window)
        self.clock = clock
        self.name = name
        self._units: list[_Units] = []
        self._used = 0
        self._blocked_until = 0.0

    def _expire(self, now: float) -> None:
        if any(u.stamp is not None and u.stamp + self.window <= now for u in self._units):
            kept = [u for u in self._units if u.stamp is None or u.stamp + self.window > now]
            self._used = sum(u.cost for u in kept)
            self._units = kept

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
            for stamp, c in sorted((u.stamp, u.cost) for u in self._units if u.stamp is not None):
                freed += c
                if freed >= need:
                    wait = max(wait, stamp + self.window - now)
                    break
            else:  # units of requests still in flight are needed: none leaves before a whole window
                wait = max(wait, self.window)
        return wait

    def _take(self, cost: int, *, in_flight: bool = False) -> _Units:
        units = _Units(cost, None if in_flight else self.clock.monotonic())
        self._units.append(units)
        self._used += cost
        return units

    async def acquire(self, cost: int = 1) -> float:
        """Wait until ``cost`` units fit, take them, and return the seconds waited."""
        return await acquire_all([self], cost)

    def penalize(self, seconds: float) -> None:
        """The marketplace throttled us: nothing goes for ``seconds``, and the limit is lowered (once)."""
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + seconds)
        self.limit = min(self.limit, max(1, int(self.configured_limit * self.after_throttle)))


class Hold:
    """Units of one request taken from every limiter; ``with hold:`` around the request.

    Until the block ends the units cannot leave their windows; at its end
    (answer, error or cancellation) they start their window from that moment.
    """

    def __init__(self, taken: list[tuple[SlidingWindowLimiter, _Units]], waited: float) -> None:
        self.taken, self.waited = taken, waited

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        for limiter, units in self.taken:
            if units.stamp is None:
                units.stamp = limiter.clock.monotonic()
        self.taken = []


async def _wait_and_take(limiters: list[SlidingWindowLimiter], cost: int, *, in_flight: bool) -> Hold:
    for limiter in limiters:
        if cost > limiter.limit:
            raise ValueError(f"cost {cost} exceeds limiter {limiter.name or ''} limit {limiter.limit}")
    if not limiters:
        return Hold([], 0.0)
    clock = limiters[0].clock
    waited = 0.0
    while True:
        with _TAKING:  # the check and the taking are one step, whichever thread or loop asks
            wait = max(limiter.wait_time(cost) for limiter in limiters)
            if wait <= 0:
                return Hold([(limiter, limiter._take(cost, in_flight=in_flight)) for limiter in limiters], waited)
        await clock.sleep(wait)
        waited += wait


async def acquire_all(limiters: Iterable[SlidingWindowLimiter], cost: int = 1) -> float:
    """Take ``cost`` units from every limiter at once, waiting on the clock until all fit.

    No ``await`` separates the final check from the taking, so concurrent
    callers on one event loop cannot overshoot. Waiting on the limiters one after the other could let the first one's units
    age while the second blocks; here we wait until all fit, then take from all.
    """
    return (await _wait_and_take(list(limiters), cost, in_flight=False)).waited


async def hold_all(limiters: Iterable[SlidingWindowLimiter], cost: int = 1) -> Hold:
    """Like :func:`acquire_all` for one request: the units count until the :class:`Hold` is released
    (``with hold: response = await send()``), then for a whole window (see the module's doc)."""
    return await _wait_and_take(list(limiters), cost, in_flight=True)


def shared_limiter(limit: int, window: float, clock: Clock, *, name: str, account: str, where: str) -> SlidingWindowLimiter:
    """This process's one limiter ``name`` for the account whose credential is ``account`` at ``where`` (base URL).

    The credential is only hashed into the key. Limiters on different clocks
    (tests with their own FakeClock) are never shared. A limiter keeps what it
    learned (a lowered limit after a 429, a block in progress) for the next run.
    """
    fingerprint = hashlib.sha256(account.encode("utf-8")).hexdigest()[:16]
    key = (id(clock), name, where.rstrip("/"), fingerprint, limit, float(window))
    with _TAKING:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = _SHARED[key] = SlidingWindowLimiter(limit, window, clock, name=name)
        return limiter
