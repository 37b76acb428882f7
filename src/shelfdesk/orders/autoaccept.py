"""The auto-accept rule: accept new orders whose every line is in the catalog with stock to spare.

Per channel, off by default. For a marketplace whose accept is "confirm
availability" (Leboncoin) the rule confirms availability. An order is left
New, with the reason in ``hold_reason``, when a SKU is unknown or gone, when
available stock is short, when it was bought before the channel was activated
(orders older than the activation are never auto-accepted), or when the
marketplace does not allow accepting yet (payment checks). Every automatic
action is queued in the outbox like an operator's, and audited as done by the
rule (actor ``rule:auto-accept``).

Available stock = catalog stock − safety stock − units already committed to
orders placed after the stock was imported (accepted, shipped, or being
accepted), including the ones this same run just accepted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from shelfdesk.domain import ActionKind, ActionState, EventSource, NormalizedStatus
from shelfdesk.orders.actions import capabilities_for, order_facts, queue_prepared
from shelfdesk.orders.errors import ActionRefused
from shelfdesk.orders.store import AccountScope, ChannelScope
from shelfdesk.orders.validation import prepare_action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RULE_ACTOR = "rule:auto-accept"
S = NormalizedStatus
_COMMITTED = (S.InProgress.value, S.Shipped.value, S.Closed.value)
_ACCEPTS = (ActionKind.accept.value, ActionKind.confirm_availability.value)


@dataclass
class AutoAcceptOutcome:
    accepted: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)  #: order id -> reason


def auto_accept(session: Session, scope: AccountScope, order_ids: Iterable[int], now: datetime) -> AutoAcceptOutcome:
    """Apply the rule to ``order_ids`` (just harvested) of the account's auto-accept channels."""
    from shelfdesk.db.models import Order, OrderAction

    outcome = AutoAcceptOutcome()
    channels = {c.id: c for c in scope.channels if c.auto_accept and c.orders_enabled}
    ids = list(order_ids)
    if not channels or not ids:
        return outcome
    candidates = session.execute(
        select(Order.id, Order.channel_id, Order.purchased_at, Order.hold_reason)
        .where(Order.id.in_(ids), Order.status == S.New, Order.channel_id.in_(list(channels)))
        .order_by(Order.purchased_at, Order.id)
    ).all()
    if not candidates:
        return outcome
    touched = set(session.execute(select(OrderAction.order_id).where(OrderAction.order_id.in_([c[0] for c in candidates]))).scalars())
    taken: dict[tuple[int, str], int] = defaultdict(int)  # units this run committed, per (store, sku)
    caps = capabilities_for(scope.marketplace)
    for order_id, channel_id, purchased_at, previous in candidates:
        if order_id in touched:
            continue  # an operator or an earlier run already acted on it
        channel = channels[channel_id]
        reason = _hold_reason(session, channel, order_id, purchased_at, taken)
        facts = order_facts(session, order_id)
        prepared = None
        if reason is None:
            try:
                prepared = prepare_action(caps, facts, "accept")
            except ActionRefused as exc:
                reason = str(exc).removeprefix(f"order {facts.marketplace_order_id}: ")
        if prepared is None:
            if reason != previous:
                session.execute(update(Order).where(Order.id == order_id).values(hold_reason=reason, updated_at=now))
                session.add(_held_event(order_id, now, reason or ""))
            outcome.held[order_id] = reason or ""
            continue
        for line in facts.lines:
            if line.sku:
                taken[(channel.store_id, line.sku.casefold())] += line.quantity
        queue_prepared(session, facts, prepared, actor=RULE_ACTOR, now=now, batch_key=f"auto-accept:{now:%Y%m%dT%H%M%S}")
        if previous:
            session.execute(update(Order).where(Order.id == order_id).values(hold_reason=None, updated_at=now))
        outcome.accepted.append(order_id)
    return outcome


def _held_event(order_id: int, now: datetime, reason: str) -> Any:
    from shelfdesk.db.models import OrderEvent

    return OrderEvent(
        order_id=order_id, at=now, source=EventSource.rule, kind="auto_accept_held", actor=RULE_ACTOR, message=f"left New: {reason}"
    )


def _hold_reason(
    session: Session, channel: ChannelScope, order_id: int, purchased_at: datetime, taken: dict[tuple[int, str], int]
) -> str | None:
    """Why the rule must not accept this order, or None."""
    from shelfdesk.db.models import OrderLine, Product, Store

    if channel.activated_at is None:
        return "the channel is not activated"
    if purchased_at < channel.activated_at:
        return f"bought before the channel was activated ({channel.activated_at:%Y-%m-%d %H:%M} UTC)"
    lines = session.execute(select(OrderLine.sku, OrderLine.quantity).where(OrderLine.order_id == order_id)).all()
    if not lines:
        return "the order has no lines"
    wanted: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        if not sku:
            return "a line has no SKU"
        wanted[sku] += quantity
    store_safety = session.execute(select(Store.safety_stock).where(Store.id == channel.store_id)).scalar() or 0
    channel_safety = _channel_safety(session, channel.id)
    for sku, quantity in wanted.items():
        product = session.execute(
            select(Product.stock, Product.safety_stock, Product.stock_imported_at, Product.gone).where(
                Product.store_id == channel.store_id, Product.sku == sku
            )
        ).first()
        if product is None:
            return f"SKU {sku} is not in the catalog"
        stock, safety, imported_at, gone = product
        if gone:
            return f"SKU {sku} is no longer in the catalog feed"
        safety = safety if safety is not None else channel_safety if channel_safety is not None else store_safety
        available = (
            stock - safety - _committed(session, channel.store_id, sku, imported_at, order_id) - taken[(channel.store_id, sku.casefold())]
        )
        if available < quantity:
            return f"SKU {sku}: {quantity} wanted, {max(0, available)} available (stock {stock}, safety {safety})"
    return None


def _channel_safety(session: Session, channel_id: int) -> int | None:
    from shelfdesk.db.models import Channel

    return session.execute(select(Channel.safety_stock).where(Channel.id == channel_id)).scalar()


def _committed(session: Session, store_id: int, sku: str, since: datetime | None, exclude: int) -> int:
    """Units of ``sku`` already promised by orders placed after the stock figure was taken."""
    from shelfdesk.db.models import Order, OrderAction, OrderLine

    being_accepted = select(OrderAction.order_id).where(
        OrderAction.kind.in_(_ACCEPTS), OrderAction.state.in_([s.value for s in ActionState if s.is_open])
    )
    query = (
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku == sku, Order.store_id == store_id, Order.id != exclude)
        .where(Order.status.in_(_COMMITTED) | Order.id.in_(being_accepted))
    )
    if since is not None:
        query = query.where(Order.purchased_at > since)
    return int(session.execute(query).scalar() or 0)
