"""Uploading invoices to marketplaces that take them, through the orders outbox.

An upload is an ``order_actions`` row of kind ``upload_invoice`` whose payload
names the invoice (never the PDF itself: the outbox stays small and the bytes
come from the immutable invoice when the sender needs them). The idempotency
key is per invoice, so queuing the same invoice twice is one row. Sending it
again after an unknown outcome is harmless (the marketplace keeps the last
file for the order), so the outbox may retry it freely.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext


def upload_key(order_id: int, invoice_id: int) -> str:
    return f"upload_invoice:{order_id}:invoice-{invoice_id}"


def upload_key_sql(order_id: Any, invoice_id: Any) -> Any:
    """:func:`upload_key` as a SQL expression (``||`` on SQLite and PostgreSQL), to join invoices to their upload."""
    from sqlalchemy import String, cast, literal

    return literal("upload_invoice:", String) + cast(order_id, String) + literal(":invoice-", String) + cast(invoice_id, String)


def marketplace_takes_invoices(marketplace: Marketplace | str) -> bool:
    """True where the connector's capabilities list an invoice upload (Back Market)."""
    from shelfdesk.channels.registry import capabilities

    return ActionKind.upload_invoice in capabilities(marketplace).actions


def queue_upload(
    session: Session, *, order_id: int, marketplace_order_id: str, invoice_id: int, number: str, actor: str, now: datetime
) -> int:
    """Write (or re-arm) the outbox row that uploads one invoice; returns its id. Not committed here."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction, OrderEvent
    from shelfdesk.db.upsert import upsert_rows

    key = upload_key(order_id, invoice_id)
    existing = session.execute(select(OrderAction.id, OrderAction.state).where(OrderAction.idempotency_key == key)).first()
    if existing is not None:
        if ActionState(existing[1]) in (ActionState.failed, ActionState.abandoned):
            from sqlalchemy import update

            session.execute(
                update(OrderAction)
                .where(OrderAction.id == existing[0])
                .values(state=ActionState.pending, next_attempt_at=now, updated_at=now, error_code=None, claimed_by=None, claimed_at=None)
            )
        return int(existing[0])
    payload: dict[str, Any] = {"invoice_id": invoice_id, "number": number, "filename": f"{number}.pdf"}
    row = {
        "order_id": order_id,
        "kind": ActionKind.upload_invoice,
        "payload": payload,
        "state": ActionState.pending,
        "attempts": 0,
        "idempotency_key": key,
        "batch_key": None,
        "actor": actor,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
    }
    upsert_rows(session, OrderAction, [row], ["idempotency_key"], [])
    action_id = int(session.execute(select(OrderAction.id).where(OrderAction.idempotency_key == key)).scalar_one())
    session.add(
        OrderEvent(
            order_id=order_id,
            at=now,
            source=EventSource.operator,
            kind="action_queued",
            field=ActionKind.upload_invoice.value,
            actor=actor,
            message=f"upload invoice {number}",
        )
    )
    record_audit(
        session,
        actor,
        "order.upload_invoice",
        "order",
        marketplace_order_id,
        {"order_id": order_id, "action_id": action_id, "invoice": number},
        at=now,
    )
    return action_id


def upload_document(ctx: AppContext, payload: dict[str, Any]) -> tuple[str, bytes]:
    """The file an ``upload_invoice`` action sends: (filename, PDF bytes), read from the invoice."""
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        invoice = session.get(Invoice, int(payload["invoice_id"]))
        if invoice is None:
            raise LookupError(f"invoice {payload.get('number') or payload['invoice_id']} does not exist")
        return payload.get("filename") or f"{invoice.number}.pdf", bytes(invoice.pdf)
