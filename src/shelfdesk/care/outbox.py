"""Sending Care actions from the orders outbox, exactly once.

The orders outbox (:mod:`shelfdesk.orders.outbox`) claims, recovers and retries
every action; for the Care kinds it calls :func:`process_care` here, which
makes the marketplace calls and tells the sender what to record.

How each kind is kept to one effect:

* **reply**, **problem**: an attempt after the first reads the case first; a
  merchant message with the reply's text posted since the action was queued
  (a reply), or a case modified since then (a problem), counts as done and
  nothing is sent again.
* **item transfer**: Back Market refuses a second transfer with the same
  tracking number (400); a repeat's refusal, with the case read back, is done.
* **refund** (no idempotency key, 500 a day): the order line is read before
  every attempt. Before the first send its state (and refunded amount, when
  the line carries one) is written to the action: an attempt whose outcome is
  unknown is settled by comparing the line with that snapshot. When the line
  cannot tell (a second partial refund of a line already refunded after
  shipping, and no refunded amount on it), the action fails with
  ``outcome_unknown`` for an operator to check in the Back Office: it is
  never sent a second time.

Visibility ("synchronizing" until then): a reply when the thread shows it, a
problem or a transfer when the case was modified after the call, a refund when
the line shows it (its refunded state, or its refunded amount grown by ours).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlmodel import col

from shelfdesk.care import budget
from shelfdesk.channels.backmarket_care import REFUNDABLE_STATES, refunded_amount
from shelfdesk.channels.errors import ChannelError, RateLimited, RemoteRejected
from shelfdesk.domain import ActionKind, ActionState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine
    from shelfdesk.orders.outbox import ActionOutcome, ClaimedAction, OutboxSender

log = logging.getLogger("shelfdesk.care.outbox")

_ENDPOINT = {
    ActionKind.care_reply: "message",
    ActionKind.care_problem: "problem",
    ActionKind.care_transfer: "transfer",
    ActionKind.refund: "refund",
}
#: Clocks differ: a message dated up to this long before the action was queued still counts as ours.
SKEW = timedelta(minutes=2)


class RefundUnknown(Exception):
    """The line cannot tell whether an earlier attempt refunded it: never send again."""


# ---------------------------------------------------------------------- visibility (database side)


def _case(session: Session, account_id: int, case_ref: str) -> Any:
    from shelfdesk.db.models import CareCase

    return session.execute(
        select(CareCase).where(col(CareCase.account_id) == account_id, col(CareCase.case_ref) == case_ref)
    ).scalar_one_or_none()


def case_shows(session: Session, case: Any, kind: ActionKind, payload: dict[str, Any], since: datetime) -> bool:
    """Whether the stored case shows a reply, problem or transfer queued at ``since``."""
    from shelfdesk.db.models import CareMessage

    if case is None:
        return False
    if kind is ActionKind.care_reply:
        text = str(payload.get("message") or "").strip()
        rows = session.execute(
            select(col(CareMessage.body), col(CareMessage.sent_at)).where(
                col(CareMessage.case_id) == case.id, col(CareMessage.sender) == "merchant"
            )
        ).all()
        return any(body.strip() == text and (at is None or at >= since - SKEW) for body, at in rows)
    # Back Market's dates have whole seconds and the filters minutes: compare to the minute.
    floor = since.replace(second=0, microsecond=0)
    return case.modified_at is not None and case.modified_at >= floor


def confirm_case_actions(session: Session, case_id: int, now: datetime) -> int:
    """Confirm the synchronizing replies, problems and transfers the stored case now shows."""
    from shelfdesk.db.models import CareCase, OrderAction
    from shelfdesk.orders.store import mark_confirmed

    case = session.get(CareCase, case_id)
    if case is None or case.order_id is None:
        return 0
    confirmed = 0
    rows = session.execute(
        select(
            col(OrderAction.id),
            col(OrderAction.kind),
            col(OrderAction.payload),
            col(OrderAction.sent_at),
            col(OrderAction.created_at),
            col(OrderAction.actor),
        ).where(
            col(OrderAction.order_id) == case.order_id,
            col(OrderAction.state) == ActionState.synchronizing,
            col(OrderAction.kind).in_([ActionKind.care_reply, ActionKind.care_problem, ActionKind.care_transfer]),
        )
    ).all()
    for action_id, kind, payload, sent_at, created_at, actor in rows:
        if str((payload or {}).get("case_ref")) != case.case_ref:
            continue
        if case_shows(session, case, ActionKind(kind), payload or {}, sent_at or created_at):
            confirmed += mark_confirmed(session, action_id, case.order_id, ActionKind(kind), payload or {}, now, actor)
    return confirmed


def refund_visible(payload: dict[str, Any], line: RemoteOrderLine | None) -> bool | None:
    """True when ``line`` shows the refund, False when it shows it was not made, None when it cannot tell."""
    if line is None:
        return None
    refund_type = int(payload["refund_type"])
    before = payload.get("before") or {}
    state = line.raw_status
    if refund_type in (4, 5):
        return state in ("4", "5", "6")
    amount = Decimal(str(payload["amount"]))
    now_refunded = refunded_amount(line.raw)
    if now_refunded is not None and before.get("refunded") is not None:
        return now_refunded >= Decimal(str(before["refunded"])) + amount
    if before.get("state") != "6":
        return state == "6"
    return None  # a line already refunded after shipping, with no amount to compare: cannot tell


# ---------------------------------------------------------------------- sending


async def process_care(sender: OutboxSender, connector: Any, claimed: ClaimedAction) -> ActionOutcome:
    """Send one claimed Care action and record its outcome (errors propagate to the sender's handlers).

    A spent daily budget is a throttle: the action waits until the day resets.
    """
    try:
        return await _process(sender, connector, claimed)
    except budget.BudgetExhausted as exc:
        wait = max(60.0, (exc.resets_at - sender.ctx.clock.now()).total_seconds())
        raise RateLimited(str(exc), retry_after=wait, marketplace="backmarket") from None


async def _process(sender: OutboxSender, connector: Any, claimed: ClaimedAction) -> ActionOutcome:
    from shelfdesk.orders.outbox import ActionOutcome

    if not hasattr(connector, "iter_care_cases"):
        from shelfdesk.channels.errors import UnsupportedOperation

        raise UnsupportedOperation(f"{connector.marketplace} has no after-sales API", marketplace=str(connector.marketplace))
    if claimed.kind is ActionKind.refund:
        return await _refund(sender, connector, claimed)
    ctx = sender.ctx
    payload = claimed.payload
    case_ref = str(payload["case_ref"])
    label = claimed.marketplace_order_id
    queued_at = datetime.fromisoformat(payload["queued_at"])
    if claimed.attempts > 1:
        shown = await _read_case(sender, connector, claimed, case_ref, queued_at)
        if shown:
            await asyncio.to_thread(sender._record, claimed, None, ActionState.confirmed)
            return ActionOutcome(claimed.id, label, claimed.kind, ActionState.confirmed, "already applied on the marketplace")
    await asyncio.to_thread(budget.take, ctx, claimed.account_id, _ENDPOINT[claimed.kind])
    files = await asyncio.to_thread(_files, ctx, payload)
    if claimed.kind is ActionKind.care_reply:
        await connector.post_care_message(case_ref, str(payload["message"]), files)
    elif claimed.kind is ActionKind.care_problem:
        await connector.post_care_problem(case_ref, str(payload.get("problem_type") or "OTHER"), payload.get("message"), files)
    else:
        try:
            await connector.post_item_transfer(case_ref, str(payload["carrier"]), str(payload["tracking"]), payload.get("action"))
        except RemoteRejected as exc:
            if claimed.attempts == 1 or "already" not in exc.message.lower():
                raise
            # An earlier attempt registered this tracking number: that was ours.
    if sender.after_remote is not None:
        sender.after_remote(claimed, None)
    try:
        shown = await _read_case(sender, connector, claimed, case_ref, queued_at)
    except (ChannelError, OSError, budget.BudgetExhausted):
        shown = False  # sent all the same: the harvest will show it
    state = ActionState.confirmed if shown else ActionState.synchronizing
    await asyncio.to_thread(sender._record, claimed, None, state, sent=True)
    return ActionOutcome(claimed.id, label, claimed.kind, state, sent=True)


async def _read_case(sender: OutboxSender, connector: Any, claimed: ClaimedAction, case_ref: str, since: datetime) -> bool:
    """Read the case (a detail call, counted), store it, and say whether it shows the action.

    A spent detail budget raises :class:`~shelfdesk.care.budget.BudgetExhausted`: before a resend
    the action then waits for the next day rather than go out without its check.
    """
    from shelfdesk.care.store import StoredCases, store_case

    ctx = sender.ctx
    await asyncio.to_thread(budget.take, ctx, claimed.account_id, "detail")
    remote = await connector.get_care_case(case_ref)

    def store() -> bool:
        with sender._write_lock, ctx.write_session() as session:
            case_id = store_case(session, claimed.account_id, "backmarket", remote, ctx.clock.now(), StoredCases())
            from shelfdesk.db.models import CareCase

            return case_shows(session, session.get(CareCase, case_id), claimed.kind, claimed.payload, since)

    return await asyncio.to_thread(store)


def _files(ctx: Any, payload: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The attachments queued with the action, read from the workspace (copied there when queued)."""
    root = Path(ctx.paths.home)
    return [(Path(p).name, (root / p).read_bytes()) for p in payload.get("attachments") or []]


# ---------------------------------------------------------------------- refunds


def _line(remote: RemoteOrder, line_ref: str) -> RemoteOrderLine | None:
    return next((l for l in remote.lines if l.remote_id == str(line_ref)), None)


async def _refund(sender: OutboxSender, connector: Any, claimed: ClaimedAction) -> ActionOutcome:
    from shelfdesk.care.refunds import settle_refunds
    from shelfdesk.orders.outbox import ActionOutcome

    ctx = sender.ctx
    payload = claimed.payload
    label = claimed.marketplace_order_id
    remote = await connector.get_order(label)  # always read first: the line's state decides
    line = _line(remote, payload["line_ref"])
    if payload.get("before") is not None:
        seen = refund_visible(payload, line)
        if seen:
            await asyncio.to_thread(sender._record, claimed, remote, ActionState.confirmed)
            await asyncio.to_thread(settle_refunds, ctx)
            return ActionOutcome(claimed.id, label, claimed.kind, ActionState.confirmed, "already applied on the marketplace")
        if seen is None:
            message = (
                "an earlier attempt may have refunded this line and the marketplace's line cannot tell: "
                "check it in the Back Office; it is never sent twice"
            )
            await asyncio.to_thread(sender._record, claimed, remote, ActionState.failed, message=message, code="outcome_unknown")
            return ActionOutcome(claimed.id, label, claimed.kind, ActionState.failed, message)
    if line is None:
        raise RemoteRejected(f"order {label} has no line {payload['line_ref']} on the marketplace", marketplace="backmarket")
    refund_type = int(payload["refund_type"])
    # A line refunded after shipping may be refunded again while something is left [I] (see care.refunds).
    again = refund_type == 6 and line.raw_status == "6"
    if line.raw_status != REFUNDABLE_STATES[refund_type] and not again:
        raise RemoteRejected(
            f"line {line.sku or line.remote_id} is in state {line.raw_status}: refund type {refund_type} needs state {REFUNDABLE_STATES[refund_type]}",
            marketplace="backmarket",
        )
    before = {"state": line.raw_status, "refunded": None if refunded_amount(line.raw) is None else str(refunded_amount(line.raw))}
    await asyncio.to_thread(_write_before, sender, claimed, before)
    payload = {**payload, "before": before}
    await asyncio.to_thread(budget.take, ctx, claimed.account_id, "refund")
    amount = Decimal(str(payload["amount"])) if refund_type == 6 else None
    await connector.post_refund(payload["line_ref"], refund_type, amount)
    if sender.after_remote is not None:
        sender.after_remote(claimed, remote)
    after = await connector.get_order(label)
    state = ActionState.confirmed if refund_visible(payload, _line(after, payload["line_ref"])) else ActionState.synchronizing
    await asyncio.to_thread(sender._record, claimed, after, state, sent=True)
    await asyncio.to_thread(settle_refunds, ctx)
    return ActionOutcome(claimed.id, label, claimed.kind, state, sent=True)


def _write_before(sender: OutboxSender, claimed: ClaimedAction, before: dict[str, Any]) -> None:
    """Commit the line's state before the refund is sent: what an unknown outcome is settled against."""
    from shelfdesk.db.models import OrderAction

    with sender._write_lock, sender.ctx.write_session() as session:
        payload = dict(session.execute(select(col(OrderAction.payload)).where(col(OrderAction.id) == claimed.id)).scalar_one() or {})
        payload["before"] = before
        session.execute(
            update(OrderAction)
            .where(
                col(OrderAction.id) == claimed.id,
                col(OrderAction.claimed_by) == sender.holder,
                col(OrderAction.state) == ActionState.sending,
            )
            .values(payload=payload)
        )
