"""Which orders are refunded, and by how much: the Orders list's refund marker and its ``refunded`` filter.

Counted like :mod:`shelfdesk.care.refunds` counts what is left: refunds seen on
the marketplace, and refunds asked in shelfdesk whose outbox action is alive or
done. Core tables only (``db/tables.py``), so listing orders loads no ORM.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select

_LIVE = ("pending", "sending", "synchronizing", "confirmed")


def _counted(refunds: Any) -> Any:
    from shelfdesk.db.tables import table

    actions = table("order_actions").c
    return or_(refunds.source == "marketplace", refunds.action_id.in_(select(actions.id).where(actions.state.in_(_LIVE))))


def refunded_amounts(session: Any, order_ids: Iterable[int]) -> dict[int, Decimal]:
    """Order id → refunded amount, for those of ``order_ids`` with a refund."""
    from shelfdesk.db.tables import table

    refunds = table("care_refunds").c
    ids = sorted(set(order_ids))
    found: dict[int, Decimal] = {}
    if not ids:
        return found
    for start in range(0, len(ids), 500):
        for order_id, total in session.execute(
            select(refunds.order_id, func.sum(refunds.amount))
            .where(refunds.order_id.in_(ids[start : start + 500]), _counted(refunds))
            .group_by(refunds.order_id)
        ):
            found[order_id] = Decimal(total or 0).quantize(Decimal("0.01"))
    return found


def has_refund_clause() -> Any:
    """A WHERE clause on ``orders``: true for orders with a (counted) refund."""
    from shelfdesk.db.tables import table

    refunds = table("care_refunds").c
    return exists(select(refunds.id).where(refunds.order_id == table("orders").c.id, _counted(refunds)))


def refunded_lines(session: Any, order_id: int) -> dict[str, Decimal]:
    """Line ref ("": the whole order, as a Leboncoin cancellation refunds it) → refunded amount, for one order."""
    from shelfdesk.db.tables import table

    refunds = table("care_refunds").c
    rows = session.execute(
        select(refunds.line_ref, func.sum(refunds.amount)).where(refunds.order_id == order_id, _counted(refunds)).group_by(refunds.line_ref)
    ).all()
    return {ref or "": Decimal(total or 0).quantize(Decimal("0.01")) for ref, total in rows}
