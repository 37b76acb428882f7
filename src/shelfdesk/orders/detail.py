"""One order in full, for the console's order detail and ``shelfdesk orders show``.

Lines, history, outbox actions and which action keys the order's state allows
now, read in one session. Lists of orders (filters, pages, counts) are in
``orders/queries.py``; this module reads one order by its reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shelfdesk.domain import ActionState, NormalizedStatus

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.orders.actions import ActionInfo


@dataclass(frozen=True)
class LineInfo:
    id: int
    marketplace_line_id: str
    sku: str | None
    title: str | None
    quantity: int
    unit_price: Decimal | None
    status: NormalizedStatus
    marketplace_status: str | None
    imei: str | None
    serial_number: str | None
    stock_location: str | None
    options: dict[str, Any]


@dataclass(frozen=True)
class EventInfo:
    at: datetime
    source: str
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    actor: str | None
    message: str | None


@dataclass(frozen=True)
class ActionChoice:
    """One action key of the detail screen: shown always, greyed when not allowed now."""

    kind: str
    label: str
    enabled: bool
    reason: str = ""


@dataclass(frozen=True)
class OrderDetail:
    id: int
    marketplace: str
    marketplace_order_id: str
    account: str
    channel: str | None
    store: str | None
    market: str | None
    country: str | None
    status: NormalizedStatus
    marketplace_status: str | None
    purchased_at: datetime
    modified_at: datetime | None
    harvested_at: datetime
    total: Decimal | None
    shipping_price: Decimal | None
    discount_total: Decimal | None
    currency: str | None
    buyer_name: str | None
    buyer_email: str | None
    buyer_phone: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    shipping_method: str | None
    payment_method: str | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    address_missing: bool
    gift: bool
    weight_grams: int | None
    accept_by: datetime | None
    ship_by: datetime | None
    hold_reason: str | None
    buyer_note: str | None
    internal_note: str | None
    lines: list[LineInfo]
    events: list[EventInfo]
    actions: list[ActionInfo]
    choices: list[ActionChoice]
    payload: dict[str, Any]
    #: Refunded so far per line (marketplace line id; "": the whole order, as a Leboncoin cancellation
    #: refunds it): refunds asked here and seen on the marketplace (see shelfdesk.care.refunded).
    refunds: dict[str, Decimal] = field(default_factory=dict)

    @property
    def refunded(self) -> Decimal | None:
        """The order's refunded amount, None when nothing was refunded; the status stays one of the seven."""
        return sum(self.refunds.values(), Decimal("0.00")) if self.refunds else None

    @property
    def sync(self) -> str:
        if any(a.state.is_open for a in self.actions):
            return "synchronizing"
        if any(a.state is ActionState.failed for a in self.actions):
            return "failed"
        return ""


def get_order_detail(ctx: AppContext, reference: str | int, *, events: int = 200) -> OrderDetail:
    """Everything about one order (``reference``: marketplace id, ``#id``, or shelfdesk id)."""
    from shelfdesk.db.tables import table
    from shelfdesk.orders.actions import capabilities_for, find_order_id, list_actions, order_facts
    from shelfdesk.orders.validation import QUEUEABLE, state_problem

    def by_id(name: str, row_id: int | None) -> Any:
        found = table(name)
        return None if row_id is None else session.execute(select(found).where(found.c.id == row_id)).first()

    # Core rows, not ORM objects: showing an order loads neither the ORM nor SQLModel (db/tables.py).
    line_t, event_t = table("order_lines"), table("order_events")
    with ctx.read_connection() as session:
        order_id = reference if isinstance(reference, int) else find_order_id(session, reference)
        order = by_id("orders", order_id)
        if order is None:
            from shelfdesk.orders.errors import OrderNotFound

            raise OrderNotFound(f"no order #{order_id}")
        account = by_id("marketplace_accounts", order.account_id)
        channel = by_id("channels", order.channel_id)
        store = by_id("stores", order.store_id)
        lines = session.execute(select(line_t).where(line_t.c.order_id == order_id).order_by(line_t.c.id)).all()
        history = session.execute(
            select(event_t).where(event_t.c.order_id == order_id).order_by(event_t.c.at.desc(), event_t.c.id.desc()).limit(events)
        ).all()
        facts = order_facts(session, order_id)
        from shelfdesk.care.refunded import refunded_lines

        refunds = refunded_lines(session, order_id)
    caps = capabilities_for(order.marketplace)
    choices = []
    for spec in caps.actions.values():
        if spec.kind not in QUEUEABLE:
            continue
        problem = state_problem(spec, facts)
        choices.append(ActionChoice(spec.kind.value, spec.label, problem is None, problem or ""))
    return OrderDetail(
        id=order.id,
        marketplace=str(order.marketplace),
        marketplace_order_id=order.marketplace_order_id,
        account=account.name if account else "?",
        channel=channel.name if channel else None,
        store=store.name if store else None,
        market=order.market,
        country=order.country,
        status=NormalizedStatus(order.status),
        marketplace_status=order.marketplace_status,
        purchased_at=order.purchased_at,
        modified_at=order.modified_at,
        harvested_at=order.harvested_at,
        total=order.total,
        shipping_price=order.shipping_price,
        discount_total=order.discount_total,
        currency=order.currency,
        buyer_name=order.buyer_name,
        buyer_email=order.buyer_email,
        buyer_phone=order.buyer_phone,
        shipping_address=_plain(order.shipping_address),
        billing_address=_plain(order.billing_address),
        shipping_method=order.shipping_method,
        payment_method=order.payment_method,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        tracking_url=order.tracking_url,
        address_missing=order.address_missing,
        gift=order.gift,
        weight_grams=order.weight_grams,
        accept_by=order.accept_by,
        ship_by=order.ship_by,
        hold_reason=order.hold_reason,
        buyer_note=order.buyer_note,
        internal_note=order.internal_note,
        lines=[
            LineInfo(
                l.id,
                l.marketplace_line_id,
                l.sku,
                l.title,
                l.quantity,
                l.unit_price,
                NormalizedStatus(l.status),
                l.marketplace_status,
                l.imei,
                l.serial_number,
                l.stock_location,
                _plain(l.options) or {},
            )
            for l in lines
        ],
        events=[EventInfo(e.at, str(e.source), e.kind, e.field, e.old_value, e.new_value, e.actor, e.message) for e in history],
        actions=list_actions(ctx, order_id=order_id, limit=50),
        choices=choices,
        payload=_plain(order.payload) or {},
        refunds=refunds,
    )


def _plain(value: Any) -> Any:
    """JSON columns come back as tracking dicts; hand out plain copies."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
