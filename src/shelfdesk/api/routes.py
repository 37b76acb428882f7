"""What each endpoint does: read the request, call the service the CLI calls, shape the answer.

Handlers are plain synchronous functions (the services are synchronous; the
app runs them in a worker thread). Each gets a :class:`Call` (a workspace
context whose actor is the token's name, the path and query parameters, the
parsed body) and returns an :class:`Answer`. Errors are raised: an
:class:`~shelfdesk.api.errors.ApiError`, or a service's own error, which
``errors.from_service_error`` maps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from shelfdesk.api.errors import ApiError

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.services.api_tokens import TokenInfo

#: The actions an order takes through the API (the CLI's ``orders accept|ship|cancel|confirm-…``).
ORDER_ACTIONS = ("accept", "ship", "cancel", "confirm_availability", "confirm_shipping")
#: Operator fields an action body may carry, as the CLI's options name them.
ACTION_FIELDS = ("carrier", "tracking_number", "tracking_url", "note", "reason")
#: Every key an action body may have.
ACTION_KEYS = frozenset((*ACTION_FIELDS, "skus", "imei", "serial_number", "sku", "identifiers"))
#: Rows per page of the order list, unless ``limit`` says otherwise.
DEFAULT_LIMIT = 50


@dataclass
class Call:
    ctx: AppContext
    token: TokenInfo | None
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Any = None


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    #: Run after the answer is sent (in the same worker thread pool): sending a queued action at once.
    after: Callable[[], None] | None = field(default=None, repr=False)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def _only(body: Mapping[str, Any], keys: set[str]) -> None:
    unknown = sorted(set(body) - keys)
    if unknown:
        raise ApiError(422, "invalid", f"unknown field(s) {', '.join(unknown)} (fields: {', '.join(sorted(keys))})", field=unknown[0])


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid", f"{name} must be a string", field=name)
    return value


# ---------------------------------------------------------------------- orders


def list_orders(call: Call) -> Answer:
    """A page of orders, newest first, under the Orders screen's filters; ``next`` continues it."""
    from shelfdesk.orders.queries import MAX_WINDOW, count_by_status, format_cursor, list_orders as page_of, make_filter, parse_cursor

    q = call.query
    limit_text = q.get("limit") or str(DEFAULT_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_WINDOW:
        raise ApiError(422, "invalid", f"limit: a whole number from 1 to {MAX_WINDOW}", field="limit")
    invoiced = q.get("invoiced")
    if invoiced not in (None, "", "true", "false"):
        raise ApiError(422, "invalid", "invoiced: true or false", field="invoiced")
    flt = make_filter(
        call.ctx,
        status=q.get("status") or None,
        store=q.get("store") or None,
        channel=q.get("channel") or None,
        after=q.get("after") or None,
        before=q.get("before") or None,
        search=q.get("search") or "",
        invoiced=None if not invoiced else invoiced == "true",
        option="",
    )
    after = parse_cursor(q["cursor"], "cursor") if q.get("cursor") else None
    page = page_of(call.ctx, flt, after=after, limit=int(limit_text))
    body: dict[str, Any] = {
        "orders": [asdict(r) for r in page.rows],
        "next": format_cursor(page.last) if page.has_next and page.last else None,
        "filter": flt.as_dict(),
    }
    if q.get("counts") == "true":
        body["counts"] = {k.value: v for k, v in count_by_status(call.ctx, flt).items()}
    return Answer(200, body)


def order_detail(call: Call) -> Answer:
    """One order: lines, buyer, addresses, deadlines, events, actions, what it allows now (no raw payload)."""
    from shelfdesk.orders.detail import get_order_detail

    detail = get_order_detail(call.ctx, call.path["order"])
    data = asdict(detail)
    data.pop("payload", None)
    data["sync"] = detail.sync
    data["invoice"] = _invoice(call.ctx, detail.id)
    return Answer(200, data)


def _invoice(ctx: AppContext, order_id: int) -> dict[str, Any] | None:
    """The order's invoice (number, issue date, totals, upload state), or None."""
    from shelfdesk.invoices.service import order_invoice

    invoice = order_invoice(ctx, order_id)
    return asdict(invoice) if invoice is not None else None


def _identifiers(body: Mapping[str, Any]) -> list[Any]:
    """IMEI / serial numbers: ``imei`` and ``serial_number`` (one unit) or ``identifiers`` (one per line of quantity 1)."""
    from shelfdesk.orders.validation import LineIdentifier

    found = []
    if body.get("imei") is not None or body.get("serial_number") is not None:
        found.append(LineIdentifier(imei=_text(body, "imei"), serial_number=_text(body, "serial_number"), sku=_text(body, "sku")))
    items = body.get("identifiers") or []
    if not isinstance(items, list):
        raise ApiError(422, "invalid", "identifiers must be a list of {sku, imei, serial_number}", field="identifiers")
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(422, "invalid", "identifiers must be a list of {sku, imei, serial_number}", field="identifiers")
        found.append(LineIdentifier(imei=_text(item, "imei"), serial_number=_text(item, "serial_number"), sku=_text(item, "sku")))
    return found


def order_action(call: Call, *, send: bool) -> Answer:
    """Validate and queue an action in the outbox (202 with its id); the sender then sends it."""
    from shelfdesk.orders.actions import enqueue_action

    action = call.path["action"]
    if action not in ORDER_ACTIONS:
        raise ApiError(404, "not_found", f"no order action {action!r} (one of: {', '.join(ORDER_ACTIONS)})", field="action")
    body = _object(call.body if call.body is not None else {})
    _only(body, set(ACTION_KEYS))
    skus = body.get("skus") or []
    if not isinstance(skus, list) or not all(isinstance(s, str) for s in skus):
        raise ApiError(422, "invalid", "skus must be a list of strings", field="skus")
    fields = {name: _text(body, name) for name in ACTION_FIELDS}
    identifiers = _identifiers(body) if action in ("ship", "confirm_shipping") else []
    queued = enqueue_action(call.ctx, call.path["order"], action, fields, skus=skus, identifiers=identifiers)
    after = None
    if send and queued.created:
        ctx, action_id = call.ctx, queued.action_id

        def after() -> None:
            from shelfdesk.orders.outbox import send_pending

            send_pending(ctx, action_ids={action_id}, max_wait=60)

    data = asdict(queued)
    data["links"] = {"action": f"/v1/actions/{queued.action_id}"}
    return Answer(202, data, after)


def action_state(call: Call) -> Answer:
    from shelfdesk.orders.actions import get_action
    from shelfdesk.orders.errors import ActionRefused

    ident = call.path["action_id"]
    if not ident.isdigit() or len(ident) > 18:
        raise ApiError(404, "not_found", f"no order action {ident!r}", field="action")
    try:
        return Answer(200, asdict(get_action(call.ctx, int(ident))))
    except ActionRefused as exc:  # the service's "no order action N"
        raise ApiError(404, "not_found", str(exc), field="action") from None


# ---------------------------------------------------------------------- stock


def _quantity(value: Any, sku: str) -> int:
    from shelfdesk.services.stock import parse_quantity

    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(422, "invalid", f"{sku}: quantity must be a whole number", field="quantity")
    return parse_quantity(str(value), sku)


def _store(call: Call) -> int:
    from shelfdesk.catalog.errors import SetupError
    from shelfdesk.services.stores import find_store

    try:
        return find_store(call.ctx, call.path["store"]).id
    except SetupError as exc:
        raise ApiError(404, "not_found", str(exc), field="store") from None


def put_stock(call: Call) -> Answer:
    """One SKU's quantity, as ``shelfdesk stock set STORE SKU=QTY`` sets it (the stock pusher sends it on)."""
    from shelfdesk.catalog.errors import SetupError
    from shelfdesk.services.stock import StockLine, set_stock

    body = _object(call.body)
    _only(body, {"quantity"})
    sku = call.path["sku"]
    try:
        quantity = _quantity(body.get("quantity"), sku)
    except SetupError as exc:
        raise ApiError(422, "invalid", str(exc), field="quantity") from None
    result = set_stock(call.ctx, _store(call), [StockLine(sku, quantity)], source="api")
    if result.unknown:
        raise ApiError(404, "not_found", f"no SKU {sku!r} in the store's catalog", field="sku")
    return Answer(200, result.as_json())


def post_stock(call: Call) -> Answer:
    """Many quantities at once (``items``: [{sku, quantity}]); unknown SKUs are refused by name, the rest applied."""
    from shelfdesk.catalog.errors import SetupError
    from shelfdesk.services.stock import StockLine, set_stock

    body = _object(call.body)
    _only(body, {"items"})
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(422, "invalid", "items: a non-empty list of {sku, quantity}", field="items")
    lines, errors = [], []
    for number, item in enumerate(items):
        sku = item.get("sku") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku.strip():
            errors.append(f"item {number}: no sku")
            continue
        try:
            lines.append(StockLine(sku.strip(), _quantity(item.get("quantity"), sku.strip()), line=number))
        except (SetupError, ApiError) as exc:
            errors.append(f"item {number}: {exc}")
    return Answer(200, set_stock(call.ctx, _store(call), lines, source="api", errors=errors).as_json())


# ---------------------------------------------------------------------- health


def status(call: Call) -> Answer:
    """Sync health and alerts, exactly as ``shelfdesk status --json`` prints them."""
    from shelfdesk.jobs.health import health_dict, sync_health

    return Answer(200, health_dict(sync_health(call.ctx)))


def ready(call: Call) -> Answer:
    """For a load balancer: the database answers and its schema is the one this shelfdesk knows."""
    from shelfdesk.db.migrate import require_head

    try:
        require_head(call.ctx.engine)
    except Exception:  # unreachable or another schema: not ready, and nothing more is said
        raise ApiError(503, "not_ready", "the workspace database is not ready") from None
    return Answer(200, {"status": "ready"})
