"""Finding a case or an order from what an operator typed, and what both say about its lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from shelfdesk.services.care import CareError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def find_case_ref(session: Session, ref: str | int) -> Any:
    """A case by the marketplace's id (``123``) or the local id (``#7``); CareError when unknown or ambiguous."""
    from shelfdesk.db.models import CareCase

    text = str(ref).strip()
    if not text:
        raise CareError("name a case: its marketplace id, or #local-id")
    if text.startswith("#"):
        if not text[1:].isdigit():
            raise CareError(f"{text!r} is not a case id (#7, or the marketplace's 123)")
        case = session.get(CareCase, int(text[1:]))
        if case is None:
            raise CareError(f"no case {text}")
        return case
    rows = session.execute(select(CareCase).where(col(CareCase.case_ref) == text)).scalars().all()
    if not rows:
        raise CareError(f"no case {text} (harvest first: shelfdesk care list --refresh)")
    if len(rows) > 1:
        raise CareError(f"case {text} exists on {len(rows)} accounts: name it by its local id ({', '.join(f'#{r.id}' for r in rows)})")
    return rows[0]


def find_order_ref(session: Session, ref: str) -> Any:
    """``order:ID`` (the marketplace's order id, or ``#local``) for refunds outside a case."""
    from shelfdesk.db.models import Order

    text = ref.split(":", 1)[1].strip() if ref.startswith("order:") else ref.strip()
    if text.startswith("#") and text[1:].isdigit():
        order = session.get(Order, int(text[1:]))
    else:
        rows = session.execute(select(Order).where(col(Order.marketplace_order_id) == text)).scalars().all()
        if len(rows) > 1:
            raise CareError(f"order {text} exists on {len(rows)} accounts: name it #local-id")
        order = rows[0] if rows else None
    if order is None:
        raise CareError(f"no order {text}")
    return order
