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
import hashlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
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
from shelfdesk.sandbox.core import ChangeTracker, RequestLog, SandboxClock, StateStore, max_in_window
from shelfdesk.sandbox.faults import WAF_PAGE, FaultRule, Faults

log = logging.getLogger("shelfdesk.sandbox")

Handler = Callable[[Request, Any], Awaitable[Response]]

#: Generated orders per tick are capped so a jump of months does not build millions.
MAX_ORDERS_PER_TICK = 1000


class ApiError(Exception):
    """Raised by handlers; the sandbox renders it in its marketplace's error envelope."""

    def __init__(self, status: int, message: str, code: str | None = None, *, plain: bool = False, headers: dict[str, str] | None = None) -> None:
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
    appended_lists: tuple[str, ...] = ("effects",)
    #: Options of the admin API's ``/_sandbox/orders`` passed on to :meth:`generate_order`.
    order_options: tuple[str, ...] = ()
    #: The path of the request being answered (an error's envelope may depend on it).
    current_path = ""
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
        base_clock = clock or SystemClock()
        loaded = self.store.load()
        self.clock = SandboxClock(base_clock, float((loaded or {}).get("clock_offset", 0.0)))
        self.seed = int((loaded or {}).get("seed", seed))
        self._request_effects: list[dict[str, Any]] = []
        self._snapshot_due = loaded is None
        self.state: dict[str, Any] = loaded if loaded is not None else self.seed_state(seed)
        self._changes.baseline(self.state)
        if orders_per_hour is not None:
            self.set_order_rate(orders_per_hour)
        self.faults = Faults(self.seed)
        self.hang_cap = hang_cap  # real seconds: a hung request imitates the network, not the clock
        self._persist()
        self.app = Starlette(routes=self.routes() + self._admin_routes())

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

    def throttled(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": str(int(math.ceil(retry_after)))} if retry_after is not None else {}
        return Response("error code: 1015", 429, headers=headers, media_type="text/plain")

    def generate_order(self, created_at: datetime, index: Any, *, skus: list[str] | None = None,
                       fate: str | None = None, quantity: int | None = None) -> dict[str, Any]:  # fmt: skip
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
        skus = [str(s) for s in spec.get("skus") or []]
        if not skus:
            raise ValueError("give skus")
        groups = [skus] if spec.get("single_order") else [[s] for s in skus]
        created = []
        base = len(self.state["orders"])
        for n in range(int(spec.get("count", 1))):
            for i, group in enumerate(groups):
                options = {k: spec[k] for k in self.order_options if spec.get(k) is not None}
                order = self.generate_order(self.clock.now(), f"admin-{base}-{n}-{i}", skus=group,
                                            fate=spec.get("fate", "paid"), quantity=spec.get("quantity"), **options)  # fmt: skip
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
        self.state = self.seed_state(self.seed)
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
        self.current_path = path
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
            if raw and "json" in ctype:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Invalid JSON body", "invalid-json") from None
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
        except asyncio.TimeoutError:
            pass

    # ------------------------------------------------------------------ admin API

    def _admin_routes(self) -> list[Route]:
        def admin(fn: Callable[[Request, Any], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                raw = await request.body()
                try:
                    payload = json.loads(raw) if raw else {}
                    self._request_effects = []
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
                for spec in rules:
                    self.faults.add(**spec)
            elif request.method == "DELETE":
                self.faults.clear()
            return {"rules": self.faults.describe()}

        async def clock(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                if "to" in payload:
                    seconds = (parse_iso(payload["to"]) - self.clock.now()).total_seconds()
                else:
                    seconds = float(payload.get("advance", 0))
                self.advance_clock(seconds)
            return {"now": iso(self.clock.now())}

        async def generator(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                self.set_order_rate(float(payload["orders_per_hour"]))
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
            window = float(request.query_params.get("window", 10))
            entries = self.log.entries
            return {
                "window": window,
                "max_requests": max_in_window([e["t"] for e in entries], window),
                "throttled": sum(1 for e in self.log.entries if e["status"] == 429),
            }

        async def reset(request: Request, payload: Any) -> Any:
            self.reset(seed=payload.get("seed"))
            return {"reset": True, "now": iso(self.clock.now())}

        extra = self.admin_routes(admin)
        return [
            Route("/_sandbox", admin(info), methods=["GET"]),
            Route("/_sandbox/requests", admin(requests), methods=["GET", "DELETE"]),
            Route("/_sandbox/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/clock", admin(clock), methods=["GET", "POST"]),
            Route("/_sandbox/generator", admin(generator), methods=["GET", "POST"]),
            Route("/_sandbox/orders", admin(orders), methods=["POST"]),
            Route("/_sandbox/received", admin(received), methods=["GET"]),
            Route("/_sandbox/state", admin(state), methods=["GET"]),
            Route("/_sandbox/windows", admin(windows), methods=["GET"]),
            Route("/_sandbox/reset", admin(reset), methods=["POST"]),
            *extra,
        ]

    def admin_routes(self, admin: Callable[..., Any]) -> list[Route]:
        """Marketplace-specific admin routes (wrapped by ``admin``)."""
        return []


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


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
            return json.loads(text)
        except ValueError:
            return text
    return text
