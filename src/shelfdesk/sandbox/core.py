"""Pieces every sandbox shares: its clock, its state file, its request log, its rate windows."""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from shelfdesk.clock import Clock


class SandboxClock:
    """The sandbox's view of time: the injected clock plus an offset the admin API moves.

    When the injected clock can be advanced (a ``FakeClock`` shared with the
    connector in tests), moving the sandbox clock moves that clock, so both
    sides agree on the time; otherwise (the real clock) an offset is kept and
    saved with the state so deadlines survive restarts.
    """

    def __init__(self, base: Clock, offset: float = 0.0) -> None:
        self.base = base
        self.offset = offset

    def now(self) -> datetime:
        from datetime import timedelta

        return self.base.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.base.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    def sleep_sync(self, seconds: float) -> None:
        self.base.sleep_sync(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        advance = getattr(self.base, "advance", None)
        if callable(advance):
            advance(seconds)
        else:
            self.offset += seconds


class StateStore:
    """One JSON file per sandbox, replaced atomically so a crash never leaves half a state."""

    def __init__(self, folder: Path, name: str = "state.json") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / name

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text(encoding="utf-8"))

    def save(self, state: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh, separators=(",", ":"), default=str)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class RequestLog:
    """Every request the sandbox received, with what it answered: what tests assert on.

    Kept in memory and appended to ``requests.jsonl`` in the state folder (so
    an operator can read it after the fact; it is reloaded on restart).
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "requests.jsonl"
        self.entries: list[dict[str, Any]] = []
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                self.entries = [json.loads(line) for line in fh if line.strip()]

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry["seq"] = len(self.entries) + 1
        self.entries.append(entry)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, default=str) + "\n")
        return entry

    def clear(self) -> None:
        self.entries.clear()
        self.path.write_text("", encoding="utf-8")

    def select(self, *, method: str | None = None, path: str | None = None, prefix: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.entries
            if (method is None or e["method"] == method.upper())
            and (path is None or e["path"] == path)
            and (prefix is None or e["path"].startswith(prefix))
        ]


class RateWindow:
    """Server-side throttling as Cloudflare does it: over ``limit`` requests in
    ``window`` seconds, every request is refused for ``block`` seconds.

    A request at ``t`` counts while ``now - t < window`` (the client limiter
    uses the same boundary).
    """

    def __init__(self, limit: int, window: float, block: float) -> None:
        self.limit, self.window, self.block = limit, window, block
        self._hits: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}

    def allow(self, key: str, now: float, cost: int = 1) -> bool:
        if self._blocked.get(key, float("-inf")) > now:
            return False
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] + self.window <= now:
            hits.popleft()
        if len(hits) + cost > self.limit:
            self._blocked[key] = now + self.block
            return False
        hits.extend([now] * cost)
        return True


def max_in_window(times: list[float], window: float) -> int:
    """Largest number of ``times`` inside any half-open window ``(t - window, t]``: for tests and the admin API."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] + window <= t:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
