"""Per-token rate limit: a token bucket per token, in the server's memory.

Each token may make ``burst`` requests at once and ``rate`` per second after
that; the answer past it is 429 with ``Retry-After`` (whole seconds, at least
1). Time comes from the injected clock's monotonic reading, so tests move it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from shelfdesk.clock import Clock


@dataclass
class RateLimiter:
    rate: float  #: requests per second, sustained
    burst: int  #: requests allowed at once
    clock: Clock
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)  #: token id -> (tokens left, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: int) -> float:
        """Spend one request of ``key``; 0 when allowed, else the seconds to wait before the next one is."""
        now = self.clock.monotonic()
        with self._lock:
            left, at = self._buckets.get(key, (float(self.burst), now))
            left = min(float(self.burst), left + (now - at) * self.rate)
            if left >= 1.0:
                self._buckets[key] = (left - 1.0, now)
                return 0.0
            self._buckets[key] = (left, now)
            return (1.0 - left) / self.rate if self.rate > 0 else math.inf
