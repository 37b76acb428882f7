"""The frame every sandbox shares: request pipeline, persistence, faults, admin API.

A request to the imitated API goes through, in order: the clock tick (new
orders, deadlines, task progress), the marketplace's gatekeeping (rate limits,
headers, credentials — :meth:`SandboxApp.gate`), the fault rules, the handler,
writing what changed to the state's journal (before the reply leaves), and one
entry in the request log.

Handlers change ``self.state`` in place. What they change is written as it is
(see :class:`~shelfdesk.sandbox.core.ChangeTracker`): new entries of a keyed
collection and items appended to a growing list are found by themselves; an
existing entry changed in place is named with :meth:`SandboxApp.touch`. The admin
API under ``/_sandbox/`` is not logged, not throttled and needs no token: it
is for tests and operators on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import pickle
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from shelfdesk.clock import Clock, SystemClock
from shelfdesk.logs import redact
from shelfdesk.sandbox.core import (
    ChangeTracker,
    RequestLog,
    SandboxClock,
    Shape,
    StateStore,
    as_datetime,
    max_in_window,
    shape_problem,
    utf8_clean,
)
from shelfdesk.sandbox.faults import WAF_PAGE, FaultRule, Faults

log = logging.getLogger("shelfdesk.sandbox")

Handler = Callable[[Request, Any], Awaitable[Response]]

#: Generated orders per tick are capped so a jump of months does not build millions.
MAX_ORDERS_PER_TICK = 1000
#: Bounds of the admin API's knobs [I]: beyond, a clock overflows its dates or a tick builds too much.
MAX_CLOCK_JUMP = 10 * 365 * 86400
MAX_ORDERS_PER_HOUR = 10_000
MAX_ADMIN_ORDERS = 10_000


class ApiError(Exception):
    """Raised by handlers; the sandbox renders it in its marketplace's error envelope."""

    def __init__(
        self, status: int, message: str, code: str | None = None, *, plain: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.plain, self.headers = status, message, code, plain, headers or {}


@dataclass(frozen=True)
class RouteOptions:
    auth: bool = True
    limits: tuple[str, ...] = ("requests",)


def iso(dt: datetime) -> str:
    """How the sandboxes write datetimes: RFC 3339 with an explicit offset."""
    return dt.isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SandboxApp:
    """Base of the Back Market and Leboncoin sandboxes (see their modules)."""

    name = "sandbox"
    api_prefix = "/"
    #: Top-level dicts of entries by key (orders, listings …) and lists that only grow (effects …).
    keyed_collections: tuple[str, ...] = ("orders",)
    #: How a generated order can start (``create_orders``'s ``fate``).
    fates: tuple[str, ...] = ()
    appended_lists: tuple[str, ...] = ("effects",)
    #: Options of the admin API's ``/_sandbox/orders`` passed on to :meth:`generate_order`.
    order_options: tuple[str, ...] = ()
    #: The path of the request being answered (an error's envelope may depend on it).
    current_path = ""
    current_method = ""
    #: Tests set this: called with (sandbox, request-log entry, request body, answer body), the bodies as
    #: bytes, after each API request (the log keeps large bodies by their size only). Kept cheap: it
    #: runs before the answer leaves.
    observe: Callable[[SandboxApp, dict[str, Any], bytes, bytes], None] | None = None
    #: Tests set this: after every write the state is read back from disk and compared (a
    #: change a handler made without :meth:`touch` would be lost on restart).
    verify_journal = False

    def __init__(
        self,
        folder: Path | str,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        orders_per_hour: float | None = None,
        hang_cap: float = 15.0,
    ) -> None:
        self.folder = Path(folder)
        self.store = StateStore(self.folder)
        self.log = RequestLog(self.folder)
        self._changes = ChangeTracker(self.keyed_collections, self.appended_lists)
        self.clock = SandboxClock(clock or SystemClock(), 0.0)
        self.seed = seed
        self._request_effects: list[dict[str, Any]] = []
        #: What could not be read from the state folder at start and was skipped, one sentence each.
        self.recovered: list[str] = []
        loaded = self._load()
        self._snapshot_due = loaded is None or bool(self.recovered)  # a repaired state is written clean at once
        self.state: dict[str, Any] = loaded if loaded is not None else self.seed_state(self.seed)
        self._changes.baseline(self.state)
        if orders_per_hour is not None:
            self.set_order_rate(orders_per_hour)
        self.faults = Faults(self.seed)
        self.hang_cap = hang_cap  # real seconds: a hung request imitates the network, not the clock
        self._persist()
        self.app = Starlette(routes=self.routes() + self._admin_routes(), exception_handlers={404: self._no_route, 405: self._no_route})

    # ------------------------------------------------------------------ loading

    #: Top-level value -> the shape of each of its entries (a dict's values, a list's items): what
    #: handlers and ticks read without checking, so a loaded entry without it is dropped.
    entry_shapes: dict[str, Shape] = {}

    def _load(self) -> dict[str, Any] | None:
        """The state in the folder, repaired so that it can be served; None for a new state.

        Whatever cannot be read is skipped and said in :attr:`recovered` (and the
        log): unreadable journal records and snapshots (see :meth:`StateStore.load`),
        top-level values of the wrong kind (the seed's are taken), entries without
        what handlers read (dropped), a request log's unreadable lines. If the
        state still cannot go through a tick, it is set aside whole and the
        sandbox starts from its seed: starting always beats refusing to.
        """
        loaded = self.store.load()
        self.recovered = list(self.store.skipped)
        if self.log.skipped:
            self.recovered.append(f"{self.log.path.name}: skipped {self.log.skipped} unreadable line(s)")
        if loaded is not None:
            loaded = self._repaired(loaded)
        for note in self.recovered:
            log.warning("%s sandbox, %s: %s", self.name, self.folder, note)
        return loaded

    def _repaired(self, loaded: dict[str, Any]) -> dict[str, Any] | None:
        """``loaded`` with what no handler could read taken out (see :meth:`_load`); None to start from the seed."""
        seed = loaded.get("seed", self.seed)
        self.seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else self.seed
        offset = loaded.get("clock_offset", 0.0)
        if isinstance(offset, (int, float)) and math.isfinite(offset) and 0 <= offset < 100 * 365 * 86400:
            self.clock.offset = float(offset)
        fresh = self.seed_state(self.seed)
        for name, value in fresh.items():
            if name in loaded and _kind(loaded[name]) != _kind(value):
                self.recovered.append(f"{name!r} could not be read ({str(loaded[name])[:40]!r}): the seed's was taken")
                loaded[name] = value
            loaded.setdefault(name, value)  # a state written before this value existed
        writable = _writable(loaded)  # one C-speed pass; entry by entry only when it fails
        for name, shape in self.entry_shapes.items():
            entries = loaded.get(name)
            items = list(entries.items()) if isinstance(entries, dict) else list(enumerate(entries or []))
            bad = {
                key: problem
                for key, entry in items
                if (problem := shape_problem(entry, shape) or (None if writable else _unwritable(entry)))
            }
            if not bad:
                continue
            if isinstance(entries, dict):
                loaded[name] = {k: v for k, v in entries.items() if k not in bad}
            else:
                loaded[name] = [v for k, v in items if k not in bad]
            first = next(iter(bad.items()))
            self.recovered.append(
                f"{name}: dropped {len(bad)} unreadable entr{'y' if len(bad) == 1 else 'ies'} (first {first[0]!r}: {first[1]})"
            )
        problem = self._tick_problem(loaded, writable=writable or _writable(loaded))
        if problem is None:
            return loaded
        kept = [self.store.set_aside(path, move=True) for path in (self.store.path, self.store.journal_path()) if path.exists()]
        self.store.generation = 0
        self.recovered.append(
            f"the state could not be served ({problem}): started from the seed; the old state is in {', '.join(k.name for k in kept)}"
        )
        return None

    def _tick_problem(self, state: dict[str, Any], *, writable: bool) -> str | None:
        """Why ``state`` cannot go through a tick, or be written as JSON (``writable``); None when it can.

        The tick runs on a copy: ``state`` is left as it is."""
        if not writable:
            return "it holds text or numbers JSON cannot write"
        saved = getattr(self, "state", None)
        try:
            self.state = pickle.loads(pickle.dumps(state))  # a copy for the tick to change (faster than deepcopy)
            self.tick()
        except Exception as exc:  # noqa: BLE001 - any failure here would be every request's
            return f"{type(exc).__name__}: {str(exc)[:80]}"
        finally:
            self.state = saved  # type: ignore[assignment]  # None only before the first state was set, and then restored as it was
            self._changes = ChangeTracker(self.keyed_collections, self.appended_lists)
            self._request_effects = []
        return None

    # ------------------------------------------------------------------ for subclasses

    def seed_state(self, seed: int) -> dict[str, Any]:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def gate(self, request: Request, opts: RouteOptions) -> Response | None:
        """Rate limits, mandatory headers, credentials: a refusal, or None to go on."""
        return None

    def error(self, exc: ApiError) -> Response:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, exc.status, headers=exc.headers)

    async def _no_route(self, request: Request, exc: Exception) -> Response:
        """A path or method no route serves: the marketplace's error envelope rather than Starlette's plain text."""
        status = getattr(exc, "status_code", 404)
        self.current_path, self.current_method = request.url.path, request.method
        message = "Method not allowed" if status == 405 else f"No such endpoint: {request.url.path[:100]}"
        return self.error(
            ApiError(
                status, message, "method-not-allowed" if status == 405 else "not-found", headers=dict(getattr(exc, "headers", None) or {})
            )
        )

    def throttled(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": str(int(math.ceil(retry_after)))} if retry_after is not None else {}
        return Response("error code: 1015", 429, headers=headers, media_type="text/plain")

    def generate_order(
        self, created_at: datetime, index: Any, *, skus: list[str] | None = None, fate: str | None = None, quantity: int | None = None
    ) -> dict[str, Any]:
        """Add the ``index``-th generated order, created at ``created_at`` (random SKUs and fate unless given)."""
        raise NotImplementedError

    def advance(self, now: datetime) -> None:
        """Move time-driven state (order stages, deadlines, tasks) to ``now``."""

    def create_orders(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        """``{"skus": [...], "fate": ..., "quantity": 1, "single_order": false, "count": 1}``.

        One order per SKU (or one order with every SKU as a line when
        ``single_order``), ``count`` times, created now. The fates are the
        sandbox's (see its ``FATES``); an unknown SKU gets a listing/ad.
        """
        from shelfdesk.sandbox.inputs import admin_number

        skus = spec.get("skus") if isinstance(spec, dict) else None
        if not isinstance(skus, list) or not skus or not all(isinstance(s, str) and s.strip() and utf8_clean(s) for s in skus):
            raise ValueError("give skus: a list of SKUs")
        fate = spec.get("fate", "paid")
        if fate not in self.fates:
            raise ValueError(f"unknown fate {fate!r}: one of {', '.join(self.fates)}")
        quantity = spec.get("quantity")
        quantity = None if quantity is None else int(admin_number(spec, "quantity", 1, 1000, whole=True))
        count = int(admin_number(spec, "count", 1, MAX_ADMIN_ORDERS, default=1, whole=True))
        groups = [skus] if spec.get("single_order") else [[s] for s in skus]
        if count * len(groups) > MAX_ADMIN_ORDERS:
            raise ValueError(f"at most {MAX_ADMIN_ORDERS} orders at a time")
        options = {k: spec[k] for k in self.order_options if spec.get(k) is not None}
        if not all(isinstance(v, str) and len(v) <= 100 for v in options.values()):
            raise ValueError(f"{', '.join(self.order_options)} must be text")
        created = []
        base = len(self.state["orders"])
        for n in range(count):
            for i, group in enumerate(groups):
                order = self.generate_order(self.clock.now(), f"admin-{base}-{n}-{i}", skus=group, fate=fate, quantity=quantity, **options)
                created.append(self.public_order(order))
        self._persist()
        return created

    def public_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order as the API shows it (without the sandbox's private ``_`` keys)."""
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def _next_id(self, kind: str) -> int:
        value = self.state["next_ids"][kind]
        self.state["next_ids"][kind] = value + 1
        return value

    def received(self) -> dict[str, Any]:
        """What the sandbox received, for the admin API: batches, actions, invoices."""
        return {"effects": self.state.get("effects", [])}

    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ shared helpers

    def route(self, path: str, handler: Handler, methods: list[str], **opts: Any) -> Route:
        options = RouteOptions(**opts)

        async def endpoint(request: Request) -> Response:
            return await self._handle(request, handler, options)

        return Route(path, endpoint, methods=methods)

    def touch(self, collection: str, key: Any) -> None:
        """The entry ``key`` of ``collection`` (an order, a listing …) was changed or deleted in place."""
        self._changes.touch(collection, key)

    def mark_dirty(self) -> None:
        """Something changed that no :meth:`touch` names: the next write is a whole snapshot.

        That costs the size of the state; handlers touch what they change instead.
        """
        self._snapshot_due = True

    def save_snapshot(self) -> None:
        """Write the whole state now, as one snapshot.

        For in-process seeding (the demo creates thousands of orders and
        listings through Python calls, which no request persists): one
        snapshot at the end instead of a journal line per change.
        """
        self.mark_dirty()
        self._persist()

    def effect(self, kind: str, **data: Any) -> dict[str, Any]:
        """Record one applied change (an action, a batch, an invoice): tests count these."""
        entry = {"kind": kind, "at": iso(self.clock.now()), **data}
        self.state.setdefault("effects", []).append(entry)
        self._request_effects.append(entry)
        return entry

    @contextlib.contextmanager
    def contained(self, what: str) -> Iterator[list[BaseException]]:
        """Run one unit of background work (a batch, a feed) so that a failure stays its own.

        Background work runs at every tick, before any request is answered: an
        exception escaping it would fail every later request, and every restart.
        Inputs are checked before they are stored, so this is for the sandbox's own
        bugs: logged, and the list yielded receives the exception so the caller
        can mark the work failed.
        """
        failed: list[BaseException] = []
        try:
            yield failed
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.exception("%s sandbox: %s failed", self.name, what)
            failed.append(exc)

    def rng_for(self, *parts: object) -> Any:
        import random

        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def tick(self) -> datetime:
        now = self.clock.now()
        gen = self.state.setdefault("generator", {"rate_per_hour": 0.0, "epoch": iso(now), "generated": 0})
        rate = float(gen.get("rate_per_hour") or 0)
        if rate > 0:
            epoch = parse_iso(gen["epoch"])
            due = int((now - epoch).total_seconds() * rate / 3600.0 + 1e-9)
            start = max(int(gen["generated"]), due - MAX_ORDERS_PER_TICK)
            for k in range(start, due):
                self.generate_order(epoch + timedelta(seconds=k * 3600.0 / rate), k)
            if due != gen["generated"]:
                gen["generated"] = due
        self.advance(now)
        return now

    def set_order_rate(self, per_hour: float) -> None:
        """Change the generator's rate from now on (orders already due are kept)."""
        if per_hour < 0:
            raise ValueError("a rate cannot be negative")
        self.tick()
        self.state["generator"] = {"rate_per_hour": float(per_hour), "epoch": iso(self.clock.now()), "generated": 0}
        self._persist()

    def advance_clock(self, seconds: float) -> datetime:
        self.clock.advance(seconds)
        self.tick()
        self._persist()
        return self.clock.now()

    def reset(self, *, clock: Clock | None = None, seed: int | None = None) -> None:
        """Start over from a fresh seed: state, log, faults and rate windows (the demo's
        "reset", and how tests reuse one running server with their own clock)."""
        self.clock = SandboxClock(clock or self.clock.base, 0.0)
        self.seed = self.seed if seed is None else seed
        self.log.clear()
        self.faults = Faults(self.seed)
        self.reset_limits()
        self._request_effects = []
        self.recovered = []
        self.state = self.seed_state(self.seed)
        self._changes = ChangeTracker(self.keyed_collections, self.appended_lists)
        self._snapshot_due = True
        self._persist()

    def reset_limits(self) -> None:
        """Forget the rate windows (subclasses own them)."""

    # ------------------------------------------------------------------ pipeline

    def _persist(self) -> None:
        """Write what changed since the last write: a journal line, or a snapshot when one is due.

        Cheap when nothing changed; called before every reply leaves and after
        every admin operation, so whatever the sandbox acknowledged is on disk.
        """
        self.state["clock_offset"] = self.clock.offset
        if not self._snapshot_due:
            ops = self._changes.changes(self.state)
            if ops:
                self.store.append(ops)
        if self._snapshot_due or self.store.wants_compaction():
            self.store.save(self.state)
            self._changes.baseline(self.state)
            self._snapshot_due = False
        if self.verify_journal:
            self._verify_journal()

    def _verify_journal(self) -> None:
        """Read the state back as a restart would and compare it with the one in memory."""
        on_disk = StateStore(self.folder).load(repair=False) or {}
        if _dumps(on_disk) == _dumps(self.state):
            return
        names = sorted(set(on_disk) | set(self.state), key=str)
        name = next(n for n in names if _dumps(on_disk.get(n)) != _dumps(self.state.get(n)))
        detail = ""
        if isinstance(self.state.get(name), dict) and isinstance(on_disk.get(name), dict):
            keys = [k for k in {**on_disk[name], **self.state[name]} if _dumps(on_disk[name].get(k)) != _dumps(self.state[name].get(k))]
            detail = f" (entries {keys[:5]}: changed in place without touch()?)"
        raise AssertionError(f"{self.name} sandbox: {name!r} on disk differs from memory{detail}")

    async def _handle(self, request: Request, handler: Handler, opts: RouteOptions) -> Response:
        raw = await request.body()
        self._request_effects = []
        now = self.tick()
        method, path = request.method, request.url.path
        self.current_path, self.current_method = path, method
        fault: FaultRule | None = None
        response = self.gate(request, opts)
        refused = response is not None
        if response is None:
            fault = self.faults.pick(method, path)
            if fault is not None and fault.before_effect:
                response = await self._fault_response(fault, request, None)
            else:
                response = await self._run(handler, request, raw)
                if fault is not None:
                    response = await self._fault_response(fault, request, response)
        self._persist()  # saved before the reply leaves
        entry = self.log.append(
            {
                "at": iso(now),
                "t": now.timestamp(),
                "method": method,
                "path": path,
                "query": str(request.url.query),
                "status": response.status_code,
                "fault": fault.kind if fault else None,
                "refused": refused,
                "effects": len(self._request_effects),
                "user_agent": request.headers.get("user-agent"),
                "accept_language": request.headers.get("accept-language"),
                "body": _loggable(raw, request.headers.get("content-type", "")),
            }
        )
        if self.observe is not None:
            self.observe(self, entry, raw, bytes(getattr(response, "body", b"") or b""))
        return response

    async def _run(self, handler: Handler, request: Request, raw: bytes) -> Response:
        try:
            payload: Any = None
            ctype = request.headers.get("content-type", "")
            if request.method in ("GET", "HEAD", "DELETE"):
                pass  # a body there means nothing to a server: not read, so never refused
            elif raw and "json" in ctype:
                payload = read_json(raw)
            elif raw:
                payload = raw
            return await handler(request, payload)
        except ApiError as exc:
            return self.error(exc)
        except Exception:  # a sandbox bug must show as a 500, and in the logs
            log.exception("%s sandbox: handler failed for %s %s", self.name, request.method, request.url.path)
            return JSONResponse({"error": {"code": "internal", "message": "sandbox internal error"}}, 500)

    async def _fault_response(self, fault: FaultRule, request: Request, real: Response | None) -> Response:
        kind = fault.kind
        if kind in ("500", "502", "503"):
            return Response(f"<html><body><h1>{kind} Server Error</h1></body></html>", int(kind), media_type="text/html")
        if kind == "429":
            return self.throttled(fault.retry_after)
        if kind == "waf":
            ray = hashlib.sha1(f"{self.seed}:{len(self.log.entries)}".encode()).hexdigest()[:16] + "-CDG"
            return HTMLResponse(WAF_PAGE.format(ray=ray), 403, headers={"cf-ray": ray})
        if kind == "timeout":
            await self._hang(request)
            return Response("", 504)
        assert real is not None
        if kind == "latency":
            await self.clock.sleep(fault.latency)
            return real
        body = bytes(real.body)
        if kind == "truncated":
            body = body[: max(1, len(body) // 2)]
        else:  # malformed
            body = b'{"results": [{"id": 1,, "state": }' + body[:8]
        headers = {k: v for k, v in real.headers.items() if k.lower() != "content-length"}
        return Response(body, real.status_code, headers=headers)

    async def _hang(self, request: Request) -> None:
        """Answer nothing until the client gives up (or ``hang_cap`` real seconds pass).

        Real time on purpose: a timeout is the network's doing, and the client's
        httpx timeout runs on real time too.
        """

        async def until_disconnect() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        try:
            await asyncio.wait_for(until_disconnect(), self.hang_cap)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ admin API

    def _admin_routes(self) -> list[Route]:
        from shelfdesk.sandbox.inputs import admin_number

        def admin(
            fn: Callable[[Request, Any], Awaitable[Any]], *, tick: bool = True, lists: bool = False
        ) -> Callable[[Request], Awaitable[Response]]:
            """An admin endpoint: its JSON body (an object, or a list too when ``lists``), a tick first unless not ``tick``."""

            async def endpoint(request: Request) -> Response:
                raw = await request.body()
                try:
                    payload = read_json(raw) if raw else {}
                    if not isinstance(payload, dict) and not (lists and isinstance(payload, list)):
                        raise ApiError(400, "the body must be a JSON object")
                    self._request_effects = []
                    if tick:
                        self.tick()
                    result = await fn(request, payload)
                except (ValueError, TypeError, KeyError, ApiError) as exc:
                    status = exc.status if isinstance(exc, ApiError) else 400
                    return JSONResponse({"error": str(exc)}, status)
                self._persist()
                return result if isinstance(result, Response) else JSONResponse(result)

            return endpoint

        async def info(request: Request, _: Any) -> Any:
            return {
                "name": self.name,
                "now": iso(self.clock.now()),
                "credentials": self.credentials(),
                "generator": self.state.get("generator"),
                "counts": {k: len(v) for k, v in self.state.items() if isinstance(v, (dict, list)) and k != "generator"},
                "recovered": self.recovered,
            }

        async def requests(request: Request, _: Any) -> Any:
            q = request.query_params
            if request.method == "DELETE":
                self.log.clear()
                return {"cleared": True}
            entries = self.log.select(method=q.get("method"), path=q.get("path"), prefix=q.get("prefix"))
            return {"count": len(entries), "entries": entries}

        async def faults(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                rules = payload.get("rules", [payload]) if isinstance(payload, dict) else payload
                if not isinstance(rules, list) or not all(isinstance(spec, dict) for spec in rules):
                    raise ApiError(400, "give a rule object, a list of them, or {rules: [...]}")
                checked = [FaultRule(**spec) for spec in rules]  # every rule checked before any is added
                self.faults.rules.extend(checked)
            elif request.method == "DELETE":
                self.faults.clear()
            return {"rules": self.faults.describe()}

        async def clock(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                if "to" in payload:
                    to = as_datetime(payload["to"])
                    if to is None:
                        raise ApiError(400, "to must be an RFC 3339 date-time with its offset")
                    seconds = (to - self.clock.now()).total_seconds()
                    if not 0 <= seconds <= MAX_CLOCK_JUMP:
                        raise ApiError(400, f"to must be from now to {MAX_CLOCK_JUMP // 86400} days ahead (the clock only moves forward)")
                else:
                    seconds = admin_number(payload, "advance", 0, MAX_CLOCK_JUMP, default=0)
                self.advance_clock(seconds)
            return {"now": iso(self.clock.now())}

        async def generator(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                self.set_order_rate(admin_number(payload, "orders_per_hour", 0, MAX_ORDERS_PER_HOUR))
            return self.state["generator"]

        async def orders(request: Request, payload: Any) -> Any:
            created = self.create_orders(payload)
            return JSONResponse({"orders": created}, 201)

        async def received(request: Request, _: Any) -> Any:
            return self.received()

        async def state(request: Request, _: Any) -> Any:
            return self.state

        async def windows(request: Request, _: Any) -> Any:
            """Busiest 10-s window seen in the request log, and how many 429s were sent."""
            window = admin_number(dict(request.query_params), "window", 0.001, MAX_CLOCK_JUMP, default=10)
            entries = self.log.entries
            return {
                "window": window,
                "max_requests": max_in_window([e["t"] for e in entries], window),
                "throttled": sum(1 for e in self.log.entries if e["status"] == 429),
            }

        async def reset(request: Request, payload: Any) -> Any:
            seed = payload.get("seed") if isinstance(payload, dict) else None
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ApiError(400, "seed must be an integer")
            self.reset(seed=seed)
            return {"reset": True, "now": iso(self.clock.now())}

        extra = self.admin_routes(admin)
        return [
            Route("/_sandbox", admin(info), methods=["GET"]),
            Route("/_sandbox/requests", admin(requests), methods=["GET", "DELETE"]),
            Route("/_sandbox/faults", admin(faults, lists=True), methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/clock", admin(clock), methods=["GET", "POST"]),
            Route("/_sandbox/generator", admin(generator), methods=["GET", "POST"]),
            Route("/_sandbox/orders", admin(orders), methods=["POST"]),
            Route("/_sandbox/received", admin(received), methods=["GET"]),
            Route("/_sandbox/state", admin(state), methods=["GET"]),
            Route("/_sandbox/windows", admin(windows), methods=["GET"]),
            # No tick first: whatever the state holds, a reset must go through.
            Route("/_sandbox/reset", admin(reset, tick=False), methods=["POST"]),
            *extra,
        ]

    def admin_routes(self, admin: Callable[..., Any]) -> list[Route]:
        """Marketplace-specific admin routes (wrapped by ``admin``)."""
        return []


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def read_json(raw: bytes) -> Any:
    """A request's JSON body, or a 400: also for what Python reads but no answer could write back.

    Python's reader takes ``NaN`` and ``Infinity``, lone surrogates (``"\\ud800"``)
    and nesting deep enough to exhaust the stack; stored, the first two would
    fail every answer that shows them, so they are refused like bad syntax.
    """
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "Invalid JSON body", "invalid-json") from None
    if not utf8_clean(payload):
        raise ApiError(400, "Invalid JSON body: NaN, Infinity, lone surrogates or nesting deeper than 200", "invalid-json")
    return payload


def _kind(value: Any) -> str:
    """What a top-level state value is, for telling a readable one from an unreadable one."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _writable(value: Any) -> bool:
    """``value`` can be written as strict JSON in UTF-8 (what every answer and the snapshot do)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def _unwritable(entry: Any) -> str | None:
    return None if utf8_clean(entry) else "a string no UTF-8 can write, or a number JSON cannot"


def _loggable(raw: bytes, ctype: str) -> Any:
    """The request body as the log keeps it: parsed JSON when small, else its size.

    Text bodies go through :func:`redact`: the token endpoint receives the
    refresh token in its form body, and no log keeps a credential.
    """
    if not raw:
        return None
    if len(raw) > 16_384:
        return {"_bytes": len(raw)}
    if "multipart" in ctype:
        return {"_bytes": len(raw), "_multipart": True}
    text = redact(raw.decode("utf-8", "replace"))
    if "json" in ctype:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return text
        return parsed if utf8_clean(parsed) else text
    return text
