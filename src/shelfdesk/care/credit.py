"""The credit note of a refund: exactly its amount, against the order's invoice, through the invoices code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext


def credit_refund(session: Session, ctx: AppContext, order: Any, refund: Any) -> int | None:
    """Issue the refund's credit note in the caller's transaction; None when the order has no invoice."""
    from shelfdesk.invoices.service import active_invoice, credit_amount

    invoice = active_invoice(session, order.id)
    if invoice is None:
        return None
    what = refund.sku or refund.line_ref or f"order {order.marketplace_order_id}"
    reason = f"refund of {refund.amount} {refund.currency} on {what}" + (f": {refund.reason}" if refund.reason else "")
    note = credit_amount(session, ctx, invoice, amount=refund.amount, sku=refund.sku, description=f"Refund {what}", reason=reason)
    return int(note.id)
