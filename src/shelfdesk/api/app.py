"""The Starlette application: the route table, and the guard every call goes through.

The guard, in order: the body is read up to the size limit (413 past it);
the bearer token is checked against the stored hashes (401, the same answer
whatever was wrong with it); the token's rate (429 with ``Retry-After``) and
scope (403: writes need a write token); then, for a POST carrying an
``Idempotency-Key``, the answer already given to that key is returned as it
was, without running anything. The handler runs in a worker thread with a
context whose actor is ``api:TOKEN-NAME``, so the services' audit rows name
the token.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shelfdesk.api import routes
from shelfdesk.api.errors import ApiError, from_service_error
from shelfdesk.api.limits import RateLimiter
from shelfdesk.api.openapi import MONEY, OPENAPI_PATH, TIME, Schemas, build_document
from shelfdesk.jsonable import json_default

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.services.api_tokens import TokenInfo

log = logging.getLogger("shelfdesk.api")

SchemaOf = Callable[[Schemas], dict[str, Any]]


@dataclass(frozen=True)
class ApiSettings:
    """What ``shelfdesk api serve`` lets the merchant tune."""

    max_body: int = 1_048_576  #: bytes; a stock batch of ~20,000 SKUs fits
    rate: float = 20.0  #: requests per second per token, sustained
    burst: int = 100  #: requests per token at once
    send_actions: bool = True  #: send a queued order action at once (else the worker's outbox job does)


@dataclass(frozen=True)
class Param:
    name: str
    where: str  #: "path" or "query"
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    handler: Callable[[routes.Call], routes.Answer]
    scope: str | None  #: "read", "write", or None (no token: readiness and this document)
    summary: str
    tag: str
    answers: dict[int, tuple[str, SchemaOf]]
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    body: SchemaOf | None = None
    idempotent: bool = False  #: takes an Idempotency-Key


# ---------------------------------------------------------------------- the route table

_STR = {"type": "string"}
_READ_ERRORS = (401, 413, 429)
_WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)


def _order_list(s: Schemas) -> dict[str, Any]:
    from shelfdesk.orders.queries import OrderRow

    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["orders", "next", "filter"],
        "properties": {
            "orders": {"type": "array", "items": s.ref(OrderRow)},
            "next": {"type": ["string", "null"], "description": "cursor of the next page, null on the last"},
            "filter": {"type": "object"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }


def _order_detail(s: Schemas) -> dict[str, Any]:
    from shelfdesk.invoices.service import InvoiceInfo
    from shelfdesk.orders.detail import OrderDetail

    return s.ref(
        OrderDetail,
        drop=("payload",),
        extra={
            "sync": {"type": "string", "description": "'', 'synchronizing' (an action in flight) or 'failed'"},
            "invoice": {"anyOf": [s.ref(InvoiceInfo), {"type": "null"}]},
        },
    )


def _queued(s: Schemas) -> dict[str, Any]:
    from shelfdesk.orders.actions import QueuedAction

    links = {"type": "object", "additionalProperties": False, "required": ["action"], "properties": {"action": _STR}}
    return s.ref(QueuedAction, extra={"links": links})


def _action_info(s: Schemas) -> dict[str, Any]:
    from shelfdesk.orders.actions import ActionInfo

    return s.ref(ActionInfo)


def _stock_result(s: Schemas) -> dict[str, Any]:
    from shelfdesk.services.stock import StockResult

    return s.ref(StockResult)


def _action_body(s: Schemas) -> dict[str, Any]:
    ident = {"type": "object", "additionalProperties": False, "properties": {"sku": _STR, "imei": _STR, "serial_number": _STR}}
    props = {name: _STR for name in routes.ACTION_FIELDS}
    props.update(
        {
            "skus": {"type": "array", "items": _STR, "description": "only these lines (per-line marketplaces)"},
            "imei": {"type": "string", "description": "15 digits with a valid Luhn check digit (one unit)"},
            "serial_number": _STR,
            "sku": {"type": "string", "description": "the line imei/serial_number is for"},
            "identifiers": {"type": "array", "items": ident, "description": "one per unit"},
        }
    )
    return {"type": "object", "additionalProperties": False, "properties": props}


def _quantity_schema() -> dict[str, Any]:
    from shelfdesk.services.stock import MAX_QUANTITY

    return {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY}


def _put_stock_body(s: Schemas) -> dict[str, Any]:
    return {"type": "object", "required": ["quantity"], "additionalProperties": False, "properties": {"quantity": _quantity_schema()}}


def _post_stock_body(s: Schemas) -> dict[str, Any]:
    item = {
        "type": "object",
        "required": ["sku", "quantity"],
        "additionalProperties": False,
        "properties": {"sku": {"type": "string", "minLength": 1}, "quantity": _quantity_schema()},
    }
    return {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {"items": {"type": "array", "minItems": 1, "items": item}},
    }


def _status(s: Schemas) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["checked_at", "critical", "channels", "alerts"],
        "properties": {
            "checked_at": TIME,
            "critical": {"type": "boolean"},
            "overdue": {"type": "integer", "minimum": 0, "description": "deadlines already missed (as `shelfdesk due` lists them)"},
            "deadlines": {"type": "object", "description": "how many deadlines per urgency: overdue, within 1 h, within 4 h …"},
            "channels": {"type": "array"},
            "workspace_jobs": {"type": "array"},
            "alerts": {"type": "array"},
        },
    }


def _ready(s: Schemas) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["status"], "properties": {"status": {"const": "ready"}}}


def _document(s: Schemas) -> dict[str, Any]:
    return {"type": "object", "required": ["openapi", "paths"]}


def endpoints(settings: ApiSettings) -> list[Endpoint]:
    from shelfdesk.domain import NormalizedStatus
    from shelfdesk.orders.queries import MAX_WINDOW

    order = Param("order", "path", _STR, "marketplace order id (or #id, URL-encoded as %23id)")
    store = Param("store", "path", _STR, "store name or id")

    def send(call: routes.Call) -> routes.Answer:
        return routes.order_action(call, send=settings.send_actions)

    send.__doc__ = routes.order_action.__doc__
    return [
        Endpoint(
            "listOrders",
            "GET",
            "/v1/orders",
            routes.list_orders,
            "read",
            "List orders, newest first",
            "orders",
            {200: ("a page of orders", _order_list)},
            (*_READ_ERRORS, 422),
            params=(
                Param("status", "query", {"type": "string", "enum": [s.value for s in NormalizedStatus]}),
                Param("store", "query", _STR, "store name or id"),
                Param("channel", "query", _STR, "channel id, name, slug (bm-fr) or market (fr-fr)"),
                Param("after", "query", _STR, "purchased on or after (YYYY-MM-DD or RFC 3339)"),
                Param("before", "query", _STR, "purchased before (YYYY-MM-DD or RFC 3339)"),
                Param("search", "query", _STR, "words, each the start of a word of the order id, buyer name or e-mail"),
                Param("invoiced", "query", {"type": "string", "enum": ["true", "false"]}),
                Param("cursor", "query", _STR, "the `next` of the previous page"),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW, "default": routes.DEFAULT_LIMIT}),
                Param("counts", "query", {"type": "string", "enum": ["true", "false"]}, "also count orders per status"),
            ),
        ),
        Endpoint(
            "getOrder",
            "GET",
            "/v1/orders/{order}",
            routes.order_detail,
            "read",
            "One order in full",
            "orders",
            {200: ("the order", _order_detail)},
            (*_READ_ERRORS, 404),
            params=(order,),
        ),
        Endpoint(
            "orderAction",
            "POST",
            "/v1/orders/{order}/{action}",
            send,
            "write",
            "Queue an action on an order (accept, ship, cancel, confirm_availability, confirm_shipping)",
            "orders",
            {202: ("queued (or already queued: created is false)", _queued)},
            _WRITE_ERRORS,
            params=(order, Param("action", "path", {"type": "string", "enum": list(routes.ORDER_ACTIONS)})),
            body=_action_body,
            idempotent=True,
        ),
        Endpoint(
            "getAction",
            "GET",
            "/v1/actions/{action_id}",
            routes.action_state,
            "read",
            "An order action's state",
            "orders",
            {200: ("the action", _action_info)},
            (*_READ_ERRORS, 404),
            params=(Param("action_id", "path", {"type": "string", "pattern": "^[0-9]+$"}),),
        ),
        Endpoint(
            "putStock",
            "PUT",
            "/v1/stock/{store}/{sku}",
            routes.put_stock,
            "write",
            "Set one SKU's stock",
            "stock",
            {200: ("applied; the stock pusher sends it to every channel", _stock_result)},
            _WRITE_ERRORS,
            params=(store, Param("sku", "path", _STR)),
            body=_put_stock_body,
            idempotent=True,
        ),
        Endpoint(
            "postStock",
            "POST",
            "/v1/stock/{store}",
            routes.post_stock,
            "write",
            "Set the stock of many SKUs",
            "stock",
            {200: ("applied (unknown SKUs and bad items are listed, the rest applied)", _stock_result)},
            _WRITE_ERRORS,
            params=(store,),
            body=_post_stock_body,
            idempotent=True,
        ),
        Endpoint(
            "status",
            "GET",
            "/v1/status",
            routes.status,
            "read",
            "Sync health and alerts (as status --json)",
            "health",
            {200: ("sync health", _status)},
            _READ_ERRORS,
        ),
        Endpoint(
            "ready",
            "GET",
            "/v1/ready",
            routes.ready,
            None,
            "Readiness, for a load balancer (no token)",
            "health",
            {200: ("ready", _ready)},
            (503,),
        ),
    ]


# ---------------------------------------------------------------------- the guard

#: Stands for a "/" sent encoded (%2F) inside one path segment while the router matches the path
#: (a private-use character: no order id or SKU holds one).
_ENCODED_SLASH = "\ue000"


class _EncodedSlashes:
    """Route on the path as sent, so an order id or SKU holding "/" (sent as %2F) stays one segment.

    The router matches the decoded path, where ``A%2FB`` has become two segments and
    reaches another endpoint (or a 405); here each segment is decoded on its own and the
    guard turns the stand-in back into "/" in the path parameters.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%2f" in raw.lower():
            path = raw.split(b"?", 1)[0].decode("latin-1")
            scope = dict(scope, path=_ENCODED_SLASH.join(unquote(part) for part in re.split("%2[fF]", path)))
        await self.app(scope, receive, send)


def _plain(body: Any) -> Any:
    """JSON-native data: money as decimal strings, times RFC 3339 UTC (the CLI's --json conversion)."""
    return json.loads(json.dumps(body, default=json_default))


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, default=json_default, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status_code=status, headers=headers, media_type="application/json")


UNAUTHORIZED = ApiError(401, "unauthorized", "a valid bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="shelfdesk"'})


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = ApiError(413, "too_large", f"the body is over {limit:,} bytes")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _acting(ctx: AppContext, token: TokenInfo) -> AppContext:
    """The workspace context as seen by one token: the same engine and clock, the token's name as actor."""
    acting = copy.copy(ctx)
    acting.actor = f"api:{token.name}"
    return acting


@dataclass
class Guard:
    ctx: AppContext
    settings: ApiSettings
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate, self.settings.burst, self.ctx.clock)

    def wrap(self, ep: Endpoint) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                return await self._handle(ep, request)
            except ApiError as exc:
                return _json(exc.status, exc.body(), exc.headers)

        endpoint.__name__ = ep.name
        return endpoint

    async def _authenticate(self, ep: Endpoint, request: Request) -> TokenInfo | None:
        from shelfdesk.services.api_tokens import authenticate

        if ep.scope is None:
            return None
        secret = _bearer(request)
        token = await run_in_threadpool(authenticate, self.ctx, secret) if secret else None
        if token is None:
            raise UNAUTHORIZED
        wait = self.limiter.take(token.id)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"over {self.settings.rate:g} requests a second for this token",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if ep.scope == "write" and not token.can_write:
            raise ApiError(403, "forbidden", "this token's scope is read: changes need a token of scope write")
        return token

    async def _handle(self, ep: Endpoint, request: Request) -> Response:
        from shelfdesk.services.api_tokens import request_hash, store_answer, stored_answer

        raw = await _read_body(request, self.settings.max_body)
        token = await self._authenticate(ep, request)
        body = None
        if ep.body is not None and raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "bad_request", "the body is not valid JSON") from None
        ctx = _acting(self.ctx, token) if token is not None else self.ctx
        path = {name: str(value).replace(_ENCODED_SLASH, "/") for name, value in request.path_params.items()}
        call = routes.Call(ctx, token, path, dict(request.query_params), body)
        key = request.headers.get("idempotency-key") if ep.idempotent and token is not None else None
        digest = ""
        if key is not None:
            if not 1 <= len(key) <= 255:
                raise ApiError(400, "bad_request", "Idempotency-Key: 1 to 255 characters", field="Idempotency-Key")
            digest = request_hash(request.method, request.url.path, raw)
            try:
                first = await run_in_threadpool(stored_answer, self.ctx, token.id, key, digest)  # type: ignore[union-attr]
            except Exception as exc:
                raise from_service_error(exc) or exc from None
            if first is not None:
                return _json(first[0], first[1], {"Idempotent-Replayed": "true"})
        status, data, after = await self._run(ep, call)
        if key is not None and status < 500:
            status, data = await run_in_threadpool(store_answer, self.ctx, token.id, key, digest, status, data)  # type: ignore[union-attr]
        response = _json(status, data)
        if after is not None:
            response.background = BackgroundTask(after)
        return response

    async def _run(self, ep: Endpoint, call: routes.Call) -> tuple[int, Any, Callable[[], None] | None]:
        try:
            answer = await run_in_threadpool(ep.handler, call)
        except ApiError as exc:
            return exc.status, exc.body(), None
        except Exception as exc:
            mapped = from_service_error(exc)
            if mapped is None:
                log.exception("API %s failed", ep.name)
                return 500, {"error": {"code": "internal", "message": "internal error (see the workspace log)", "field": None}}, None
            return mapped.status, mapped.body(), None
        return answer.status, _plain(answer.body), answer.after


def create_app(ctx: AppContext, settings: ApiSettings | None = None) -> Starlette:
    """The API over ``ctx``'s workspace (the context stays open as long as the app serves)."""
    from shelfdesk import __version__

    settings = settings or ApiSettings()
    ctx.engine  # noqa: B018 - made once here, shared by every request's context
    table = endpoints(settings)
    guard = Guard(ctx, settings)
    document = build_document(table, version=__version__)

    async def openapi(request: Request) -> Response:
        return _json(200, document)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "error")
        message = {404: "no such endpoint (see " + OPENAPI_PATH + ")", 405: "method not allowed"}.get(status, "error")
        return _json(status, {"error": {"code": code, "message": message, "field": None}})

    app_routes = [Route(ep.path, guard.wrap(ep), methods=[ep.method]) for ep in table]
    app_routes.append(Route(OPENAPI_PATH, openapi, methods=["GET"]))
    app = Starlette(
        routes=app_routes, middleware=[Middleware(_EncodedSlashes)], exception_handlers={HTTPException: http_error, Exception: http_error}
    )
    # No redirect to the path with(out) a trailing slash: an id that ends in "/" (an encoded
    # "%2F") is a 404 in the document's error shape, never a 307 the document does not list.
    app.router.redirect_slashes = False
    app.state.document = document
    app.state.guard = guard
    return app


__all__ = ["MONEY", "ApiSettings", "Endpoint", "create_app", "endpoints"]
