"""The stock policy: what quantity a channel may publish for a product.

Sent = available − safety stock, never below 0, where available = the
catalog's stock minus the units of open orders (neither shipped nor
cancelled) placed since that stock figure was imported, and minus returned
units still to inspect (see :mod:`shelfdesk.care.returns`). Orders decrement
stock until the next catalog import brings a figure that already counts
them, so shelfdesk does not oversell between imports. Safety stock is the
product's when it has one (its column, or the mapped ``safety_stock``
attribute), else the channel's, else the store's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shelfdesk.domain import NormalizedStatus as S

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Order and line statuses that still hold units: neither shipped nor cancelled.
#: Undefined/NotProvided count as open: an unknown status must not release stock.
OPEN_STATUSES = (S.New.value, S.InProgress.value, S.Undefined.value, S.NotProvided.value)
CLOSED_LINE_STATUSES = (S.Canceled.value, S.Shipped.value, S.Closed.value)


def open_order_units(session: Session, store_id: int) -> dict[str, int]:
    """SKU → units held by open orders placed after the product's stock was imported.

    One grouped query over open orders only (a small set), joined to the
    product so each SKU is compared with its own import time.
    """
    from sqlalchemy import func, or_, select

    from shelfdesk.db.models import Order, OrderLine, Product

    query = (
        select(Product.sku, func.coalesce(func.sum(OrderLine.quantity), 0))
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, (Product.store_id == Order.store_id) & (Product.sku == OrderLine.sku))
        .where(
            Order.store_id == store_id,
            Order.status.in_(OPEN_STATUSES),
            OrderLine.status.notin_(CLOSED_LINE_STATUSES),
            or_(Product.stock_imported_at.is_(None), Order.purchased_at > Product.stock_imported_at),
        )
        .group_by(Product.sku)
    )
    return {sku: int(units) for sku, units in session.execute(query).all()}


def units_held(session: Session, store_id: int) -> dict[str, int]:
    """SKU → units the publishable quantity holds back: those of open orders (:func:`open_order_units`)
    and returned units not yet released from inspection (:func:`shelfdesk.care.returns.held_units`)."""
    from shelfdesk.care.returns import held_units

    held = open_order_units(session, store_id)
    for sku, units in held_units(session, store_id).items():
        held[sku] = held.get(sku, 0) + units
    return held


def publishable_quantity(stock: int, held: int, safety: int) -> int:
    """Available minus safety stock, never below 0."""
    return max(0, int(stock) - int(held) - max(0, int(safety)))
