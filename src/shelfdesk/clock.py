"""The one injectable clock.

Every part of shelfdesk that needs the time or needs to wait (connectors, rate
limiters, the sandbox, services, the scheduler) takes a :class:`Clock`. Tests
pass a :class:`FakeClock` and move time forward instead of sleeping, so a
ten-second back-off costs nothing in the suite. Nothing else in the code base
calls ``time.sleep``, ``asyncio.sleep`` for waiting on time, or ``datetime.now``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

UTC = UTC


@runtime_checkable
class Clock(Protocol):
    """What every time-aware component needs: the current time and a way to wait."""

    def now(self) -> datetime:
        """Current time, timezone-aware, in UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for rate limiters)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (asynchronously)."""

    def sleep_sync(self, seconds: float) -> None:
        """Wait ``seconds`` in a thread that has no event loop."""


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        import asyncio  # here, not at the top: a running loop has loaded it; a CLI read never does (20 ms)

        await asyncio.sleep(max(0.0, seconds))

    def sleep_sync(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to, or when someone sleeps on it.

    ``sleep`` advances the clock by the requested amount and returns at once
    (after yielding to the event loop), so code that backs off for ten seconds
    runs instantly while still observing ten seconds passing. ``advance`` moves
    time by hand. ``sleeps`` records every wait, so tests can assert on back-off.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float | timedelta) -> None:
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (which must not be in the past)."""
        self.advance((when.astimezone(UTC) - self._now).total_seconds())

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        import asyncio

        await asyncio.sleep(0)

    def sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))


_default: Clock = SystemClock()


def default_clock() -> Clock:
    """The process-wide clock used when none is injected."""
    return _default


def set_default_clock(clock: Clock) -> Clock:
    """Replace the process-wide clock (tests, the demo's fixed clock); returns the old one."""
    global _default
    old, _default = _default, clock
    return old


def utcnow(clock: Clock | None = None) -> datetime:
    """Aware UTC now from ``clock`` or the default clock."""
    return (clock or _default).now()


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: shelfdesk only stores aware UTC datetimes")
    return value.astimezone(UTC)
