"""Refunds: what is left to refund on a line, queuing one, recording those seen in harvests, settling them.

What is left on a line is its price × quantity less every refund shelfdesk
knows of on it: seen on the marketplace, or asked here and not failed or
dismissed (a refund still in the outbox counts: a second one cannot overtake
it). The check runs again inside the write transaction that queues, with the
order row locked, so two operators cannot together refund more than is left.

Refund types follow the line's state (Back Market): 4 (paid, state 1) and 5
(accepted, state 2) refund the line in full; 6 (shipped, state 3) refunds any
amount up to what is left. A line already refunded after shipping (state 6)
with something left may be refunded again with type 6 [I: the spec lists type
6 for state 3 only; the marketplace has the last word].

Refunds seen in a harvest (:func:`record_seen_refunds`): a Back Market line in
state 4 or 5 is refunded in full; one in state 6 in full when shelfdesk knows
of no refund on it (a refund made in the Back Office), else by what the line's
refunded amount says beyond the known ones [I]. A cancelled Leboncoin order
refunds its buyer automatically: its whole total, as one refund.

:func:`settle_refunds` finishes each refund once the marketplace shows it: the
credit note for exactly its amount against the order's invoice (when the order
has one), and, for a shipped line refunded in full (the unit comes back), the
units "returned, to inspect".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from shelfdesk.care.cases import find_case_ref, find_order_ref
from shelfdesk.care.queue import queue_care_action
from shelfdesk.channels.backmarket_care import refunded_amount
from shelfdesk.domain import ActionKind, ActionState, Marketplace
from shelfdesk.services.care import CareError, QueuedAction, RefundQuote, RefundRow

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import RemoteOrder
    from shelfdesk.context import AppContext

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Back Market line state → the refund type it allows.
TYPE_FOR_STATE = {"1": 4, "2": 5, "3": 6, "6": 6}
_LIVE = [ActionState.pending, ActionState.sending, ActionState.synchronizing, ActionState.confirmed]


def counted_refunds() -> ColumnElement[bool]:
    """Refund rows that count against what is left: seen ones, and ours whose action is alive or done."""
    from shelfdesk.db.models import CareRefund, OrderAction

    return or_(
        col(CareRefund.source) == "marketplace",
        col(CareRefund.action_id).in_(select(col(OrderAction.id)).where(col(OrderAction.state).in_(_LIVE))),
    )


def refunded_by_line(session: Session, order_id: int) -> dict[str | None, Decimal]:
    """Line ref (None: the whole order) → refunded so far (counted refunds only)."""
    from shelfdesk.db.models import CareRefund

    rows = session.execute(
        select(col(CareRefund.line_ref), func.sum(col(CareRefund.amount)))
        .where(col(CareRefund.order_id) == order_id, counted_refunds())
        .group_by(col(CareRefund.line_ref))
    ).all()
    return {ref: Decimal(total or 0).quantize(CENT) for ref, total in rows}


def line_total(line: Any) -> Decimal:
    return (Decimal(line.unit_price or 0) * int(line.quantity or 0)).quantize(CENT)


def refund_terms(line: Any, refunded: Decimal) -> tuple[tuple[int, ...], Decimal]:
    """(refund types allowed now, amount left) for a stored Back Market line."""
    left = max(ZERO, line_total(line) - refunded)
    refund_type = TYPE_FOR_STATE.get(str(line.marketplace_status or ""))
    if refund_type is None or left <= 0 or (refund_type in (4, 5) and refunded > 0):
        return (), left if refund_type else ZERO
    return (refund_type,), left


def _parse_amount(amount: Decimal | str | None) -> Decimal | None:
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return None
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except InvalidOperation:
        raise CareError(f"{amount!r} is not an amount") from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise CareError(f"{amount!r} is not an amount in cents")
    if value <= 0:
        raise CareError("a refund amount must be above 0")
    return value.quantize(CENT)


def _pick_line(session: Session, order: Any, line: str | None, case: Any) -> Any:
    from shelfdesk.db.models import OrderLine

    lines = session.execute(select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id))).scalars().all()
    if line:
        wanted = line.strip().casefold()
        found = [l for l in lines if l.marketplace_line_id.casefold() == wanted or (l.sku or "").casefold() == wanted]
        if len(found) != 1:
            names = ", ".join(f"{l.sku or '?'} ({l.marketplace_line_id})" for l in lines)
            raise CareError(f"order {order.marketplace_order_id} has {'no' if not found else 'several'} line {line!r}: {names}")
        return found[0]
    if case is not None and case.line_ref:
        found = [l for l in lines if l.marketplace_line_id == case.line_ref]
        if found:
            return found[0]
    if len(lines) == 1:
        return lines[0]
    raise CareError(f"order {order.marketplace_order_id} has {len(lines)} lines: name one (--line SKU or line id)")


def _quote(session: Session, ref: str | int, line: str | None, amount: Decimal | str | None) -> tuple[RefundQuote, Any, Any, Any]:
    from shelfdesk.db.models import Order

    text = str(ref).strip()
    case = None
    if text.startswith("order:"):
        order = find_order_ref(session, text)
    else:
        case = find_case_ref(session, text)
        if case.order_id is None:
            raise CareError(f"case {case.case_ref}: its order is not harvested yet (shelfdesk orders harvest)")
        order = session.get(Order, case.order_id)
    if Marketplace(order.marketplace) is not Marketplace.backmarket:
        raise CareError(f"{order.marketplace} refunds its buyers itself when an order is cancelled: cancel the order instead")
    row = _pick_line(session, order, line, case)
    refunded = refunded_by_line(session, order.id).get(row.marketplace_line_id, ZERO)
    types, left = refund_terms(row, refunded)
    if not types:
        why = "nothing is left to refund on it" if left <= 0 and refunded > 0 else f"its state ({row.marketplace_status}) allows no refund"
        raise CareError(f"line {row.sku or row.marketplace_line_id} of order {order.marketplace_order_id} cannot be refunded: {why}")
    refund_type = types[0]
    wanted = _parse_amount(amount)
    value = left if wanted is None else wanted
    if value > left:
        raise CareError(
            f"{value} is above what is left to refund on line {row.sku or row.marketplace_line_id}: {left} {order.currency or ''}".rstrip()
        )
    if refund_type in (4, 5) and value != left:
        raise CareError("a line not shipped yet is refunded in full only (refund types 4 and 5 take no amount)")
    quote = RefundQuote(
        case_id=case.case_ref if case is not None else None,
        order_id=order.id,
        order_ref=order.marketplace_order_id,
        line_ref=row.marketplace_line_id,
        sku=row.sku,
        buyer=order.buyer_name or (case.buyer_name if case is not None else "") or "",
        refund_type=refund_type,
        amount=value,
        currency=order.currency or "EUR",
        refundable=left,
        full=value == left and refunded == 0,
    )
    return quote, order, row, case


def quote_refund(ctx: AppContext, ref: str | int, line: str | None = None, amount: Decimal | str | None = None) -> RefundQuote:
    with ctx.read_session() as session:
        return _quote(session, ref, line, amount)[0]


def queue_refund(
    ctx: AppContext, ref: str | int, line: str | None = None, amount: Decimal | str | None = None, *, reason: str | None = None
) -> QueuedAction:
    from shelfdesk.db.models import CareRefund, Order

    ctx.require_write()
    now = ctx.clock.now()
    with ctx.write_session() as session:
        quote, order, row, case = _quote(session, ref, line, amount)
        # Lock the order (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers) and check again.
        session.execute(select(col(Order.id)).where(col(Order.id) == order.id).with_for_update())
        quote, order, row, case = _quote(session, ref, line, amount)
        known = session.execute(
            select(func.count())
            .select_from(CareRefund)
            .where(col(CareRefund.order_id) == order.id, col(CareRefund.line_ref) == row.marketplace_line_id)
        ).scalar_one()
        payload = {
            "case_ref": quote.case_id,
            "line_ref": quote.line_ref,
            "sku": quote.sku,
            "refund_type": quote.refund_type,
            "amount": str(quote.amount),
            "currency": quote.currency,
            "reason": reason,
        }
        summary = f"refund {quote.amount} {quote.currency} on {quote.sku or quote.line_ref} (type {quote.refund_type})"
        action_id, created = queue_care_action(
            session,
            order_id=order.id,
            order_ref=order.marketplace_order_id,
            kind=ActionKind.refund,
            payload=payload,
            key=f"refund:{order.id}:{quote.line_ref}:{quote.amount}:{known}",
            actor=ctx.actor,
            now=now,
            summary=summary,
        )
        if created:
            session.add(
                CareRefund(
                    refund_key=f"action:{action_id}",
                    order_id=order.id,
                    order_line_id=row.id,
                    case_id=case.id if case is not None else None,
                    line_ref=quote.line_ref,
                    sku=quote.sku,
                    amount=quote.amount,
                    currency=quote.currency,
                    refund_type=quote.refund_type,
                    source="shelfdesk",
                    state="pending",
                    reason=reason,
                    action_id=action_id,
                    created_at=now,
                    created_by=ctx.actor,
                )
            )
        return QueuedAction(action_id, quote.case_id, quote.order_ref, ActionKind.refund.value, created, summary)


# ---------------------------------------------------------------------- seen on the marketplace


def record_seen_refunds(session: Session, remotes: Mapping[int, RemoteOrder], now: datetime) -> int:
    """Record the refunds the stored orders show that shelfdesk does not know of yet; not committed here."""
    from shelfdesk.db.models import CareRefund, OrderLine
    from shelfdesk.db.upsert import upsert_rows
    from shelfdesk.domain import NormalizedStatus

    candidates: dict[int, RemoteOrder] = {}
    for order_id, remote in remotes.items():
        if (
            remote.marketplace is Marketplace.backmarket
            and any(l.raw_status in ("4", "5", "6") for l in remote.lines)
            or remote.marketplace is Marketplace.leboncoin
            and remote.status is NormalizedStatus.Canceled
        ):
            candidates[order_id] = remote
    if not candidates:
        return 0
    rows: list[dict[str, Any]] = []
    for order_id, remote in candidates.items():
        known = refunded_by_line(session, order_id)
        if remote.marketplace is Marketplace.leboncoin:
            total = Decimal(remote.total).quantize(CENT)
            if total > 0 and known.get(None, ZERO) < total:
                rows.append(
                    _seen(
                        order_id,
                        None,
                        None,
                        None,
                        total - known.get(None, ZERO),
                        remote.currency,
                        None,
                        now,
                        f"seen:{order_id}:order:{total}",
                    )
                )
            continue
        line_ids = dict(
            session.execute(select(col(OrderLine.marketplace_line_id), col(OrderLine.id)).where(col(OrderLine.order_id) == order_id)).all()
        )
        for line in remote.lines:
            if line.raw_status not in ("4", "5", "6"):
                continue
            price = (line.unit_price * line.quantity).quantize(CENT)
            before = known.get(line.remote_id, ZERO)
            stated = refunded_amount(line.raw)
            if stated is not None:
                implied = stated.quantize(CENT)
            elif line.raw_status in ("4", "5") or before == 0:
                implied = price
            else:
                implied = before  # refunded after shipping, ours already known: nothing more can be told
            if implied > before:
                rows.append(
                    _seen(
                        order_id,
                        line_ids.get(line.remote_id),
                        line.remote_id,
                        line.sku or None,
                        implied - before,
                        line.currency,
                        int(line.raw_status),
                        now,
                        f"seen:{order_id}:{line.remote_id}:{implied}",
                        line.return_reason,
                    )
                )
    if rows:
        upsert_rows(session, CareRefund, rows, ["refund_key"], [])
    return len(rows)


def _seen(
    order_id: int,
    line_id: int | None,
    line_ref: str | None,
    sku: str | None,
    amount: Decimal,
    currency: str,
    state: int | None,
    now: datetime,
    key: str,
    return_reason: str | None = None,
) -> dict[str, Any]:
    from shelfdesk.channels.backmarket import RETURN_REASONS

    reason = None
    if return_reason is not None:
        reason = RETURN_REASONS.get(int(return_reason)) if return_reason.isdigit() else return_reason
    return {
        "refund_key": key,
        "order_id": order_id,
        "order_line_id": line_id,
        "case_id": None,
        "line_ref": line_ref,
        "sku": sku,
        "amount": amount,
        "currency": (currency or "EUR")[:3],
        "refund_type": {4: 4, 5: 5, 6: 6}.get(state or 0),
        "source": "marketplace",
        "state": "pending",
        "reason": reason or ("order cancelled" if line_ref is None else None),
        "action_id": None,
        "credit_note_id": None,
        "created_at": now,
        "confirmed_at": None,
        "created_by": "harvest",
    }


# ---------------------------------------------------------------------- settling


def settle_refunds(ctx: AppContext) -> int:
    """Credit notes and returned units for every refund the marketplace now shows, once each; returns how many were settled."""
    from shelfdesk.db.models import CareRefund, OrderAction

    with ctx.read_session() as session:
        ids = list(
            session.execute(
                select(col(CareRefund.id))
                .outerjoin(OrderAction, col(OrderAction.id) == col(CareRefund.action_id))
                .where(
                    col(CareRefund.state).in_(["pending", "sent"]),
                    or_(col(CareRefund.source) == "marketplace", col(OrderAction.state) == ActionState.confirmed),
                )
                .order_by(col(CareRefund.id))
            ).scalars()
        )
    settled = 0
    for refund_id in ids:
        settled += _settle_one(ctx, refund_id)
    return settled


def _settle_one(ctx: AppContext, refund_id: int) -> int:
    from shelfdesk.care.credit import credit_refund
    from shelfdesk.care.returns import receive_returned
    from shelfdesk.db.models import CareRefund, Order, OrderLine

    now = ctx.clock.now()
    with ctx.write_session() as session:
        refund = session.get(CareRefund, refund_id)
        if refund is None or refund.state not in ("pending", "sent"):
            return 0
        session.execute(select(col(Order.id)).where(col(Order.id) == refund.order_id).with_for_update())
        order = session.get(Order, refund.order_id)
        if order is None:
            raise CareError(f"refund {refund_id}'s order {refund.order_id} is gone")
        refund.state, refund.confirmed_at = "confirmed", now
        refund.credit_note_id = credit_refund(session, ctx, order, refund)
        line = session.get(OrderLine, refund.order_line_id) if refund.order_line_id else None
        if line is not None and refund.refund_type == 6 and refund.amount >= line_total(line) and order.store_id and line.sku:
            receive_returned(session, ctx, order, line, refund, now)
    return 1


def list_refunds(ctx: AppContext, *, order_id: int | None = None, limit: int | None = 500) -> list[RefundRow]:
    from shelfdesk.db.models import CareRefund, Invoice, Order, OrderAction

    with ctx.read_session() as session:
        query = (
            select(CareRefund, col(Order.marketplace_order_id), col(Invoice.number), col(OrderAction.state))
            .join(Order, col(Order.id) == col(CareRefund.order_id))
            .outerjoin(Invoice, col(Invoice.id) == col(CareRefund.credit_note_id))
            .outerjoin(OrderAction, col(OrderAction.id) == col(CareRefund.action_id))
            .order_by(col(CareRefund.id).desc())
        )
        if order_id is not None:
            query = query.where(col(CareRefund.order_id) == order_id)
        if limit:
            query = query.limit(limit)
        out = []
        for refund, order_ref, number, action_state in session.execute(query).all():
            state = refund.state
            if refund.source == "shelfdesk" and state != "confirmed" and action_state is not None:
                state = {"pending": "pending", "sending": "sending", "synchronizing": "sent"}.get(str(action_state), str(action_state))
            out.append(
                RefundRow(
                    refund.id,
                    refund.order_id,
                    order_ref,
                    refund.line_ref,
                    refund.sku,
                    refund.amount,
                    refund.currency,
                    refund.refund_type,
                    refund.source,
                    state,
                    refund.reason,
                    number,
                    refund.created_at,
                )
            )
        return out
