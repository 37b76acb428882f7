"""Reading cases for the Care list, a case's detail and the CLI: what is due first, one timeline per case."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from shelfdesk.care.cases import find_case_ref
from shelfdesk.care.refunds import ZERO, refund_terms, refunded_by_line
from shelfdesk.domain import MARKETPLACE_SHORT, ActionKind, ActionState
from shelfdesk.services.care import CareError, CaseAction, CaseAttachment, CaseDetail, CaseLine, CaseMessage, CaseRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

CARE_ACTION_KINDS = (ActionKind.care_reply, ActionKind.care_problem, ActionKind.care_transfer, ActionKind.refund)
_OPEN = [s for s in ActionState if s.is_open]


def _open_actions(session: Session, order_ids: list[int]) -> set[tuple[int, str]]:
    """(order id, case ref) pairs with a Care action still in flight (refunds count for every case of the order)."""
    from shelfdesk.db.models import OrderAction

    pairs: set[tuple[int, str]] = set()
    for start in range(0, len(order_ids), 500):
        for order_id, _kind, payload in session.execute(
            select(col(OrderAction.order_id), col(OrderAction.kind), col(OrderAction.payload)).where(
                col(OrderAction.order_id).in_(order_ids[start : start + 500]),
                col(OrderAction.kind).in_(CARE_ACTION_KINDS),
                col(OrderAction.state).in_(_OPEN),
            )
        ):
            pairs.add((order_id, str((payload or {}).get("case_ref") or "*")))
    return pairs


def _row(case: Any, channel: tuple[str | None, str | None], in_flight: set[tuple[int, str]], refunded: Decimal) -> CaseRow:
    short = MARKETPLACE_SHORT.get(case.marketplace, case.marketplace)
    label = f"{short} {channel[1]}" if channel[1] else ""
    busy = case.order_id is not None and ((case.order_id, case.case_ref) in in_flight or (case.order_id, "*") in in_flight)
    return CaseRow(
        id=case.id,
        case_id=case.case_ref,
        account_id=case.account_id,
        channel=label,
        marketplace=case.marketplace,
        state=case.state,
        order_id=case.order_id,
        order_ref=case.order_ref,
        buyer=case.buyer_name or "",
        problem=case.problem or "",
        resolution=case.resolution,
        return_label=case.return_label,
        opened_at=case.opened_at,
        modified_at=case.modified_at,
        last_message_at=case.last_message_at,
        last_message_from=case.last_message_from,
        messages=case.messages_count,
        due_at=case.due_at,
        due_what=case.due_what,
        synchronizing=busy,
        refunded=refunded,
    )


def list_cases(
    ctx: AppContext, *, state: str | None = None, channel: str | None = None, text: str | None = None, limit: int | None = 500
) -> list[CaseRow]:
    from shelfdesk.db.models import CareCase, CareRefund, Channel

    if state not in (None, "", "all", "open", "closed"):
        raise CareError(f"state is open, closed or all, not {state!r}")
    with ctx.read_session() as session:
        query = select(CareCase, col(Channel.name), col(Channel.country)).outerjoin(Channel, col(Channel.id) == col(CareCase.channel_id))
        if state in ("open", "closed"):
            query = query.where(col(CareCase.state) == state)
        if channel:
            from shelfdesk.channel_refs import UnknownChannel, pick_channel, refs_from

            try:
                picked = pick_channel(refs_from(session), channel)
            except UnknownChannel as exc:  # the resolver's own error names the choices
                raise CareError(str(exc)) from None
            query = query.where(col(CareCase.channel_id) == picked.id)
        if text and text.strip():
            like = f"%{text.strip().lower()}%"
            query = query.where(
                or_(
                    *(
                        func.lower(func.coalesce(column, "")).like(like)
                        for column in (
                            col(CareCase.case_ref),
                            col(CareCase.order_ref),
                            col(CareCase.buyer_name),
                            col(CareCase.buyer_email),
                            col(CareCase.sku),
                            col(CareCase.problem),
                        )
                    )
                )
            )
        # What is due first (undated last), then the latest activity.
        query = query.order_by(
            col(CareCase.due_at).is_(None),
            col(CareCase.due_at),
            func.coalesce(col(CareCase.last_message_at), col(CareCase.modified_at), col(CareCase.opened_at)).desc(),
            col(CareCase.id).desc(),
        )
        if limit:
            query = query.limit(limit)
        rows = session.execute(query).all()
        order_ids = sorted({c.order_id for c, _, _ in rows if c.order_id is not None})
        in_flight = _open_actions(session, order_ids)
        refunded: dict[tuple[int, str | None], Decimal] = defaultdict(lambda: ZERO)
        if order_ids:
            from shelfdesk.care.refunds import counted_refunds

            for start in range(0, len(order_ids), 500):
                for order_id, line_ref, total in session.execute(
                    select(col(CareRefund.order_id), col(CareRefund.line_ref), func.sum(col(CareRefund.amount)))
                    .where(col(CareRefund.order_id).in_(order_ids[start : start + 500]), counted_refunds())
                    .group_by(col(CareRefund.order_id), col(CareRefund.line_ref))
                ):
                    refunded[(order_id, line_ref)] = Decimal(total or 0)
        return [
            _row(case, (name, country), in_flight, refunded[(case.order_id, case.line_ref)] if case.order_id else ZERO)
            for case, name, country in rows
        ]


def case_refs(ctx: AppContext, order_id: int) -> list[str]:
    from shelfdesk.db.models import CareCase

    with ctx.read_session() as session:
        return list(
            session.execute(select(col(CareCase.case_ref)).where(col(CareCase.order_id) == order_id).order_by(col(CareCase.id))).scalars()
        )


def get_case(ctx: AppContext, ref: str | int) -> CaseDetail:
    from shelfdesk.care.refunds import list_refunds
    from shelfdesk.db.models import CareAttachment, CareMessage, Channel, Order, OrderAction, OrderLine
    from shelfdesk.invoices.service import active_invoice

    with ctx.read_session() as session:
        case = find_case_ref(session, ref)
        channel = session.execute(select(col(Channel.name), col(Channel.country)).where(col(Channel.id) == case.channel_id)).first() or (
            None,
            None,
        )
        order = session.get(Order, case.order_id) if case.order_id else None
        order_id = order.id if order is not None else None
        in_flight = _open_actions(session, [order_id]) if order_id is not None else set()
        by_line = refunded_by_line(session, order_id) if order_id is not None else {}
        claims = list((case.claims or {}).get("claims") or [])
        claim = claims[0] if claims else {}
        lines: list[CaseLine] = []
        if order is not None:
            for line in session.execute(select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id))).scalars():
                done = by_line.get(line.marketplace_line_id, ZERO)
                types, left = refund_terms(line, done)
                ours = line.marketplace_line_id == case.line_ref
                lines.append(
                    CaseLine(
                        order_line_id=line.id,
                        line_ref=line.marketplace_line_id,
                        sku=line.sku,
                        title=line.title,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        currency=order.currency or "EUR",
                        status=str(line.status),
                        marketplace_status=line.marketplace_status,
                        imei=line.imei,
                        serial_number=line.serial_number,
                        return_reason=(line.options or {}).get("return_reason"),
                        refunded=done,
                        refundable=left if types else ZERO,
                        refund_types=types,
                        claim_state=claim.get("state") if ours else None,
                        issues=tuple(claim.get("issues") or ()) if ours else (),
                        resolution=claim.get("resolution") if ours else None,
                        warranty=claim.get("warranty") if ours else None,
                        return_labels=tuple(claim.get("return_labels") or ()) if ours else (),
                    )
                )
        attachments_by_message: dict[int | None, list[CaseAttachment]] = defaultdict(list)
        home = Path(ctx.paths.home)
        all_attachments = []
        for a in session.execute(
            select(CareAttachment).where(col(CareAttachment.case_id) == case.id).order_by(col(CareAttachment.id))
        ).scalars():
            item = CaseAttachment(a.id, a.message_id, a.name, a.url, a.created_at, home / a.local_path if a.local_path else None)
            attachments_by_message[a.message_id].append(item)
            all_attachments.append(item)
        timeline: list[CaseMessage] = [
            CaseMessage(
                m.id,
                m.sent_at or case.opened_at,
                m.sender,
                m.kind or "",
                m.body,
                m.informative,
                tuple(attachments_by_message.get(m.id, ())),
            )
            for m in session.execute(select(CareMessage).where(col(CareMessage.case_id) == case.id)).scalars()
        ]
        actions: list[CaseAction] = []
        if order is not None:
            for a in session.execute(
                select(OrderAction)
                .where(col(OrderAction.order_id) == order.id, col(OrderAction.kind).in_(CARE_ACTION_KINDS))
                .order_by(col(OrderAction.id))
            ).scalars():
                payload = a.payload or {}
                if payload.get("case_ref") not in (None, case.case_ref):
                    continue
                summary = _summary(ActionKind(a.kind), payload)
                actions.append(CaseAction(a.id, str(a.kind), str(a.state), summary, a.last_error, a.created_at, a.sent_at, a.confirmed_at))
                timeline.append(CaseMessage(-a.id, a.created_at, "shelfdesk", "action", summary, False, (), str(a.state)))
        timeline.sort(key=lambda m: (m.at, m.id))
        invoice = active_invoice(session, order_id) if order_id is not None else None
        refunded_total = by_line.get(case.line_ref, ZERO) if order is not None else ZERO
        row = _row(case, tuple(channel), in_flight, refunded_total)
        detail = CaseDetail(
            case=row,
            order_status=str(order.status) if order else None,
            order_total=order.total if order else None,
            currency=(order.currency if order else None) or "EUR",
            buyer_email=case.buyer_email or (order.buyer_email if order else None),
            country=order.country if order else None,
            invoice=invoice.number if invoice is not None else None,
            lines=tuple(lines),
            timeline=tuple(timeline),
            actions=tuple(actions),
            refunds=(),
            attachments=tuple(all_attachments),
            raw=dict(case.payload or {}),
        )
    refunds = tuple(list_refunds(ctx, order_id=order.id)) if order is not None else ()
    from dataclasses import replace

    return replace(detail, refunds=refunds)


def _summary(kind: ActionKind, payload: dict[str, Any]) -> str:
    if kind is ActionKind.care_reply:
        return str(payload.get("message") or "")
    if kind is ActionKind.care_problem:
        return f"problem declared: {payload.get('problem_type')}" + (f" ({payload['message']})" if payload.get("message") else "")
    if kind is ActionKind.care_transfer:
        return f"item sent back: {payload.get('carrier')} {payload.get('tracking')}" + (
            f" ({payload['action']})" if payload.get("action") else ""
        )
    return f"refund {payload.get('amount')} {payload.get('currency') or ''} on {payload.get('sku') or payload.get('line_ref')}".replace(
        "  ", " "
    )
