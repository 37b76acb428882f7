"""Returned units: "returned, to inspect" stock the publishable quantity holds back until released.

A shipped line refunded in full comes back: its units enter this stock
(:func:`receive_returned`, when the refund settles). The catalog's stock
figure is taken to count every unit on the shelves, returns included: a unit
to inspect is held back from every channel like a unit of an open order
(:func:`held_units`, added to the units :func:`shelfdesk.publishing.stock.open_order_units`
holds), until an operator releases it:

* **sellable**: it is published again at once (the stock pusher is told);
* **written off**: it stays held until the next catalog import after the
  write-off, whose figure no longer counts it.

Every release is audit-logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from shelfdesk.services.care import RELEASE_TARGETS, CareError, ReturnedUnit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

REASON_RETURN = "return"


def receive_returned(session: Session, ctx: AppContext, order: Any, line: Any, refund: Any, now: datetime) -> None:
    """Record the units of a refunded line as to inspect (once per refund); not committed here."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CareCase, ReturnedUnit as Unit
    from shelfdesk.db.upsert import upsert_rows
    from shelfdesk.publishing.dirty import mark_dirty

    case_ref = (
        session.execute(select(col(CareCase.case_ref)).where(col(CareCase.id) == refund.case_id)).scalar() if refund.case_id else None
    )
    row = {
        "unit_key": f"refund:{refund.id}",
        "store_id": order.store_id,
        "sku": line.sku,
        "quantity": int(line.quantity or 1),
        "state": "to_inspect",
        "order_id": order.id,
        "refund_id": refund.id,
        "case_ref": case_ref,
        "reason": refund.reason,
        "returned_at": now,
        "released_at": None,
        "released_by": None,
        "note": None,
    }
    if upsert_rows(session, Unit, [row], ["unit_key"], []):
        record_audit(
            session, ctx, "stock.returned", "sku", line.sku, {"quantity": row["quantity"], "order": order.marketplace_order_id}, at=now
        )
        mark_dirty(session, order.store_id, [line.sku], REASON_RETURN, now)


def held_units(session: Session, store_id: int) -> dict[str, int]:
    """SKU → returned units the publishable quantity holds back (to inspect, or written off since the last import)."""
    from shelfdesk.db.models import Product, ReturnedUnit as Unit

    query = (
        select(col(Unit.sku), func.coalesce(func.sum(col(Unit.quantity)), 0))
        .outerjoin(Product, (col(Product.store_id) == col(Unit.store_id)) & (col(Product.sku) == col(Unit.sku)))
        .where(
            col(Unit.store_id) == store_id,
            or_(
                col(Unit.state) == "to_inspect",
                (col(Unit.state) == "written_off")
                & or_(col(Product.stock_imported_at).is_(None), col(Product.stock_imported_at) < col(Unit.released_at)),
            ),
        )
        .group_by(col(Unit.sku))
    )
    return {sku: int(units) for sku, units in session.execute(query).all()}


def _row(unit: Any, store: str) -> ReturnedUnit:
    return ReturnedUnit(
        unit.id,
        unit.store_id,
        store,
        unit.sku,
        unit.quantity,
        unit.state,
        None,
        unit.case_ref,
        unit.reason,
        unit.returned_at,
        unit.released_at,
        unit.released_by,
        unit.note,
    )


def returned_units(ctx: AppContext, *, store: str | None = None, state: str | None = "to_inspect") -> list[ReturnedUnit]:
    from shelfdesk.db.models import Order, ReturnedUnit as Unit, Store

    with ctx.read_session() as session:
        query = (
            select(Unit, col(Store.name), col(Order.marketplace_order_id))
            .join(Store, col(Store.id) == col(Unit.store_id))
            .outerjoin(Order, col(Order.id) == col(Unit.order_id))
            .order_by(col(Unit.returned_at).desc(), col(Unit.id).desc())
        )
        if store:
            query = query.where(or_(col(Store.name) == store, col(Store.id) == (int(store) if store.isdigit() else -1)))
        if state:
            query = query.where(col(Unit.state) == state)
        out = []
        for unit, name, order_ref in session.execute(query).all():
            row = _row(unit, name)
            out.append(ReturnedUnit(**{**row.__dict__, "order_ref": order_ref}))
        return out


def release_returned(ctx: AppContext, unit_id: int, to: str, *, note: str | None = None) -> ReturnedUnit:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Order, ReturnedUnit as Unit, Store
    from shelfdesk.publishing.dirty import mark_dirty

    target = (to or "").strip().lower().replace("-", "_").replace(" ", "_")
    if target not in RELEASE_TARGETS:
        raise CareError(f"release to one of {', '.join(RELEASE_TARGETS)}, not {to!r}")
    ctx.require_write()
    now = ctx.clock.now()
    with ctx.write_session() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise CareError(f"no returned unit {unit_id}")
        if unit.state != "to_inspect":
            raise CareError(f"returned unit {unit_id} ({unit.sku}) was already released: {unit.state}")
        unit.state, unit.released_at, unit.released_by, unit.note = target, now, ctx.actor, (note or "").strip() or None
        record_audit(
            session,
            ctx,
            f"stock.release_{target}",
            "sku",
            unit.sku,
            {"unit": unit.id, "quantity": unit.quantity, "note": unit.note},
            at=now,
        )
        if target == "sellable":
            mark_dirty(session, unit.store_id, [unit.sku], REASON_RETURN, now)
        store = session.get(Store, unit.store_id)
        order_ref = (
            session.execute(select(col(Order.marketplace_order_id)).where(col(Order.id) == unit.order_id)).scalar()
            if unit.order_id
            else None
        )
        row = _row(unit, store.name if store else "")
        return ReturnedUnit(**{**row.__dict__, "order_ref": order_ref})
