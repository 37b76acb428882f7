"""Pieces every sandbox shares: its clock, its state (snapshot and journal), its request log, its rate windows."""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from shelfdesk.clock import Clock
from shelfdesk.files import temp_pattern, write_atomic


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


class JournalCorrupt(ValueError):
    """A journal record (or the snapshot) cannot be read: what a strict read refuses and a repairing load skips."""


#: Operation -> (its length, the type the named top-level value must have for it to apply).
_OPS: dict[str, tuple[int, type | None]] = {"put": (4, dict), "del": (3, dict), "add": (3, list), "set": (3, None), "drop": (2, None)}


def record_problem(state: dict[str, Any], ops: Any) -> str | None:
    """Why the journal record ``ops`` cannot be applied to ``state`` (None when it can)."""
    if not isinstance(ops, list):
        return "a record is a list of operations"
    for op in ops:
        if not isinstance(op, list) or not op or op[0] not in _OPS:
            return f"unknown journal operation {str(op)[:60]}"
        length, target = _OPS[op[0]]
        if len(op) != length or not isinstance(op[1], str):
            return f"malformed {op[0]!r} operation"
        if op[0] in ("put", "del") and not isinstance(op[2], str):
            return f"{op[0]!r} needs a string key"
        if op[0] == "add" and not isinstance(op[2], list):
            return "'add' needs a list of items"
        if target is not None and op[1] in state and not isinstance(state[op[1]], target):
            return f"{op[0]!r} on {op[1]!r}, which is not a {target.__name__}"
    return None


def apply_ops(state: dict[str, Any], ops: list[list[Any]]) -> None:
    """Replay one journal record on ``state`` (see :class:`StateStore` for the operations).

    The record is checked whole first (:func:`record_problem`), so it applies
    entirely or not at all: a record is one acknowledged change.
    """
    problem = record_problem(state, ops)
    if problem is not None:
        raise JournalCorrupt(problem)
    for op in ops:
        kind, name = op[0], op[1]
        if kind == "put":
            state.setdefault(name, {})[op[2]] = op[3]
        elif kind == "del":
            state.get(name, {}).pop(op[2], None)
        elif kind == "add":
            state.setdefault(name, []).extend(op[2])
        elif kind == "set":
            state[name] = op[2]
        else:  # drop
            state.pop(name, None)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def utf8_clean(value: Any, depth: int = 0) -> bool:
    """True when every string in ``value`` (keys too) can be written as UTF-8.

    JSON can carry lone surrogates (``"\\ud800"``): Python reads them, but no
    answer containing them can be encoded, so one stored SKU like that would
    make every listing page fail.
    """
    if depth > 200:
        return False
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, Mapping):
        return all(utf8_clean(k, depth + 1) and utf8_clean(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(utf8_clean(v, depth + 1) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no NaN or Infinity; Python's reader accepts them
    return True


def as_datetime(value: Any) -> datetime | None:
    """An RFC 3339 date-time with its offset, or None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


Shape = Any  # field -> a type, a tuple of types, or a predicate; or one of these for the whole value


def shape_problem(value: Any, shape: Shape) -> str | None:
    """Why ``value`` is not a dict with these fields of these kinds (None when it is).

    A field's kind is a type or a tuple of types (``type(None)`` for nullable),
    or a predicate for what a type cannot say (a date that must parse). A
    ``shape`` that is itself a kind (not a dict) is checked on the whole value.
    """
    if not isinstance(shape, dict):
        ok = isinstance(value, shape) if isinstance(shape, (type, tuple)) else _holds(shape, value)
        return None if ok else f"{str(value)[:40]!r}"
    if not isinstance(value, dict):
        return "not an object"
    for name, kind in shape.items():
        if name not in value:
            return f"no {name!r}"
        field = value[name]
        ok = isinstance(field, kind) if isinstance(kind, (type, tuple)) else _holds(kind, field)
        if not ok:
            return f"{name!r} is {str(field)[:40]!r}"
    return None


def _holds(predicate: Any, value: Any) -> bool:
    try:
        return bool(predicate(value))
    except Exception:  # noqa: BLE001 - a predicate that cannot read the value says no
        return False


class StateStore:
    """A sandbox's state on disk: a snapshot and the journal of the changes made since.

    ``state.json`` is the whole state at one moment, written to a temporary
    file, synced and renamed over the old one, so it is always complete. It
    carries its ``_generation``; the changes made after it go, one line per
    persisted change, to ``journal-<generation>.jsonl``. A line is a JSON list
    of operations (:func:`apply_ops`): ``["put", collection, key, value]`` and
    ``["del", collection, key]`` for one entry of a keyed collection (an
    order, a listing), ``["add", name, items]`` for items appended to a list
    that only grows (effects), ``["set", name, value]`` and ``["drop", name]``
    for a whole top-level value. Writing a change costs its own size, however
    large the state is.

    :meth:`append` writes the line with one ``write`` before returning, so a
    change is in the file (the operating system's cache) before the sandbox
    answers: a killed sandbox restarts with every change it acknowledged. A
    crash while writing leaves at most a partial last line, never acknowledged;
    :meth:`load` drops it. :meth:`save` (a fresh snapshot, when the journal has
    grown past the snapshot's size, or for a new state) moves to the next
    generation: until the new snapshot is renamed into place the old snapshot
    and its journal are the state, after it the new snapshot alone is (a
    journal of an older generation is ignored and deleted), so a crash at any
    step of a compaction loses nothing.
    """

    #: The journal is folded into a new snapshot once it is larger than this and than the snapshot.
    compact_min_bytes = 4 * 1024 * 1024

    def __init__(self, folder: Path, name: str = "state.json") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / name
        self.generation = 0
        self.snapshot_bytes = 0
        self.journal_bytes = 0
        #: Bytes this store wrote (snapshots and journal lines): what tests measure a write's cost by.
        self.bytes_written = 0
        #: What the last :meth:`load` could not read and skipped, one sentence each.
        self.skipped: list[str] = []
        self._journal: BinaryIO | None = None

    def journal_path(self, generation: int | None = None) -> Path:
        return self.folder / f"journal-{self.generation if generation is None else generation}.jsonl"

    def load(self, *, repair: bool = True) -> dict[str, Any] | None:
        """The snapshot with its journal replayed; None when there is no state yet.

        ``repair`` cuts a partial last line off the journal and deletes the
        journals of older generations (a compaction that stopped before its
        last step); without it the files are only read, and anything unreadable
        raises :class:`JournalCorrupt`.

        Repairing, nothing unreadable stops a sandbox from starting: a journal
        record that does not parse or apply is skipped, a snapshot that does not
        parse is set aside (with its journal) and the state starts again, as if
        there were none. Each is said in :attr:`skipped`, and the files read are
        first copied to ``unreadable-…`` beside them, for whoever wants to look.
        """
        self.skipped = []
        if not self.path.exists():
            return None
        raw = self.path.read_bytes()
        try:
            state = json.loads(raw)
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
            self.generation = int(state.pop("_generation", 0))
        except (ValueError, TypeError, RecursionError) as exc:
            if not repair:
                raise JournalCorrupt(f"{self.path}: unreadable snapshot ({exc})") from None
            kept = self.set_aside(self.path, move=True)
            for journal in self.folder.glob("journal-*.jsonl"):
                self.set_aside(journal, move=True)
            self.skipped.append(f"{self.path.name} could not be read ({str(exc)[:80]}): started from the seed; the old file is {kept.name}")
            self.generation = 0
            return None
        self.snapshot_bytes = len(raw)
        self.journal_bytes = self._replay(state, repair=repair)
        if repair:
            for stale in [
                *self.folder.glob("journal-*.jsonl"),
                *self.folder.glob(".state-*.json"),
                *self.folder.glob(temp_pattern(self.path)),
            ]:
                if stale != self.journal_path():
                    stale.unlink(missing_ok=True)
        return state

    def _replay(self, state: dict[str, Any], *, repair: bool) -> int:
        """Apply the journal's records; a partial last line (a crash while writing) is cut off."""
        path = self.journal_path()
        if not path.exists():
            return 0
        data = path.read_bytes()
        good, bad = 0, []
        # A line is one write ending in a newline; a last line without one was being written
        # when the sandbox stopped, so it was never acknowledged: it is dropped.
        while (end := data.find(b"\n", good)) >= 0:
            try:
                apply_ops(state, json.loads(data[good:end]))
            except (ValueError, RecursionError) as exc:  # JournalCorrupt is a ValueError
                if not repair:
                    raise JournalCorrupt(f"{path}: unreadable record at byte {good}") from None
                bad.append(f"byte {good} ({str(exc)[:60]})")
            good = end + 1
        if bad:
            kept = self.set_aside(path, move=False)
            self.skipped.append(
                f"{path.name}: skipped {len(bad)} unreadable record(s), at {', '.join(bad[:3])}; the journal as it was is {kept.name}"
            )
        if good < len(data) and repair:
            with path.open("r+b") as fh:
                fh.truncate(good)
        return good

    def set_aside(self, path: Path, *, move: bool) -> Path:
        """Keep an unreadable file under a name no load reads again (``unreadable-N-<name>``)."""
        n = 1
        while (target := self.folder / f"unreadable-{n}-{path.name}").exists():
            n += 1
        if move:
            os.replace(path, target)
        else:
            shutil.copyfile(path, target)
        return target

    def save(self, state: dict[str, Any]) -> None:
        """Write a fresh snapshot (next generation) and start its empty journal."""
        generation = self.generation + 1
        data = _dumps({**state, "_generation": generation}).encode("utf-8")
        write_atomic(self.path, data, durable=True)
        _sync_folder(self.folder)
        self.close()
        old = self.journal_path()
        self.generation, self.snapshot_bytes, self.journal_bytes = generation, len(data), 0
        self.bytes_written += len(data)
        old.unlink(missing_ok=True)

    def append(self, ops: list[list[Any]]) -> int:
        """Add one record to the journal, in the file before this returns; the bytes written."""
        line = (_dumps(ops) + "\n").encode("utf-8")
        if self._journal is None:
            self._journal = self.journal_path().open("ab", buffering=0)
        written = 0
        while written < len(line):  # an unbuffered file writes with one os.write, which may be partial
            written += self._journal.write(line[written:]) or 0
        self.journal_bytes += len(line)
        self.bytes_written += len(line)
        return len(line)

    def wants_compaction(self) -> bool:
        return self.journal_bytes > max(self.compact_min_bytes, self.snapshot_bytes)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ChangeTracker:
    """What changed in a sandbox's state since it was last written, as journal operations.

    The state is a dict of top-level values of three kinds, named by the sandbox:

    * keyed collections (``orders``, ``listings`` …): entries added since the
      last write are found by themselves (a dict keeps insertion order, so they
      are its last ones); an entry changed or deleted in place must be named
      with :meth:`touch`;
    * lists that only grow (``effects`` …): the items past the length last written;
    * everything else (counters, tokens, the generator): small values compared
      with what was last written.

    A collection or list replaced by another object, or shrunk, is written whole.
    """

    def __init__(self, keyed: tuple[str, ...], appended: tuple[str, ...]) -> None:
        self.keyed, self.appended = keyed, appended
        self._touched: dict[str, set[str]] = {}
        self._sizes: dict[str, tuple[int, int]] = {}  # name -> (id of the object, length) at the last write
        self._small: dict[str, str] = {}

    def touch(self, collection: str, key: Any) -> None:
        self._touched.setdefault(collection, set()).add(str(key))

    def _tracked(self, state: dict[str, Any]) -> dict[str, tuple[int, int]]:
        sizes = {name: state[name] for name in self.keyed if isinstance(state.get(name), dict)}
        sizes.update({name: state[name] for name in self.appended if isinstance(state.get(name), list)})
        return {name: (id(value), len(value)) for name, value in sizes.items()}

    def baseline(self, state: dict[str, Any]) -> None:
        """``state`` is on disk as it is now."""
        self._touched.clear()
        self._sizes = self._tracked(state)
        self._small = {name: _dumps(value) for name, value in state.items() if name not in self._sizes}

    def changes(self, state: dict[str, Any]) -> list[list[Any]]:
        """The operations that bring the last written state to ``state``, which becomes the new baseline."""
        ops: list[list[Any]] = []
        tracked = self._tracked(state)
        for name in self.keyed:
            if name not in tracked:
                continue
            value = state[name]
            touched = self._touched.get(name, set())
            ident, size = self._sizes.get(name, (None, 0))
            deleted = sum(1 for key in touched if key not in value)
            added = len(value) - size + deleted
            if ident != id(value) or added < 0:  # replaced, or shrunk by more than the deletions named
                ops.append(["set", name, value])
                continue
            fresh = list(itertools.islice(reversed(value), added))[::-1]
            for key in sorted(touched.difference(fresh)):
                ops.append(["put", name, key, value[key]] if key in value else ["del", name, key])
            ops.extend(["put", name, key, value[key]] for key in fresh)
        for name in self.appended:
            if name not in tracked:
                continue
            items = state[name]
            ident, size = self._sizes.get(name, (None, 0))
            if ident != id(items) or len(items) < size:
                ops.append(["set", name, items])
            elif len(items) > size:
                ops.append(["add", name, items[size:]])
        small = {}
        for name, value in state.items():
            if name not in tracked:
                small[name] = text = _dumps(value)
                if self._small.get(name) != text:
                    ops.append(["set", name, value])
        ops.extend(["drop", name] for name in self._small if name not in state)
        self._small, self._sizes = small, tracked
        self._touched.clear()
        return ops


class RequestLog:
    """Every request the sandbox received, with what it answered: what tests assert on.

    Kept in memory and appended to ``requests.jsonl`` in the state folder (so
    an operator can read it after the fact; it is reloaded on restart).
    """

    #: Every entry has these, of these types: what :meth:`select` and the admin API read.
    FIELDS: dict[str, type | tuple[type, ...]] = {"method": str, "path": str, "t": (int, float), "status": int}

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "requests.jsonl"
        self.entries: list[dict[str, Any]] = []
        #: Lines of the file that could not be read back (a crash while writing, an edit), skipped.
        self.skipped = 0
        if self.path.exists():
            with self.path.open(encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.strip():
                        self._reload(line)
            with self.path.open("rb+") as raw:
                if raw.seek(0, 2) and (raw.seek(-1, 2), raw.read(1))[1] != b"\n":
                    raw.write(b"\n")  # a line cut by a crash: the next entry starts on its own line

    def _reload(self, line: str) -> None:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            entry = None
        if isinstance(entry, dict) and all(isinstance(entry.get(k), t) for k, t in self.FIELDS.items()) and utf8_clean(entry):
            self.entries.append(entry)
        else:
            self.skipped += 1

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
