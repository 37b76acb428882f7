"""Which orders are invoiced: the Orders list's marker and its ``invoiced`` filter.

An order is invoiced when it has an invoice that no credit note cancels.
Kept apart from ``invoices/service.py`` (numbering, amounts, documents) so
that listing orders, which asks this of every page, loads none of that; the
queries use Core tables (``db/tables.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def invoiced_order_ids(session: Session, order_ids: Iterable[int]) -> set[int]:
    """Which of ``order_ids`` have an invoice not cancelled by a credit note (the Orders screen's marker).

    ``session`` may be a Core connection (Core tables: the list commands load no ORM).
    """
    from shelfdesk.db.tables import table

    ids = sorted(set(order_ids))
    if not ids:
        return set()
    invoices = table("invoices")
    credit = invoices.alias("credit")
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            session.execute(
                select(invoices.c.order_id)
                .select_from(invoices.outerjoin(credit, credit.c.credited_invoice_id == invoices.c.id))
                .where(invoices.c.order_id.in_(chunk), invoices.c.kind == "invoice", credit.c.id.is_(None))
            ).scalars()
        )
    return found


def has_invoice_clause() -> Any:
    """A WHERE clause on ``orders`` true for orders with an active invoice (for list filters; Core tables)."""
    from sqlalchemy import exists

    from shelfdesk.db.tables import table

    invoices = table("invoices")
    credit = invoices.alias("credit")
    return exists(
        select(invoices.c.id)
        .select_from(invoices.outerjoin(credit, credit.c.credited_invoice_id == invoices.c.id))
        .where(invoices.c.order_id == table("orders").c.id, invoices.c.kind == "invoice", credit.c.id.is_(None))
    )
