"""Queuing order actions into the outbox, and the operator's hold on them (retry, dismiss, cancel).

An operator's (or a rule's) action is validated (:mod:`shelfdesk.orders.validation`),
then written as a ``pending`` row of ``order_actions`` with an idempotency key
derived from the order, the kind and the exact payload: queuing the same request
twice (a double key press, a CSV imported twice) is a no-op, not a second
shipment. Nothing here talks to a marketplace; :mod:`shelfdesk.orders.outbox`
sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace, NormalizedStatus
from shelfdesk.orders.errors import ActionRefused, OrderNotFound
from shelfdesk.orders.validation import LineFacts, LineIdentifier, OrderFacts, PreparedAction, parse_allowed, prepare_action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import Capabilities
    from shelfdesk.context import AppContext

OPEN_STATES = tuple(s.value for s in ActionState if s.is_open)


@dataclass(frozen=True)
class QueuedAction:
    """The outcome of queuing: the outbox row, and whether this call created it."""

    action_id: int
    order_id: int
    marketplace_order_id: str
    kind: ActionKind
    state: ActionState
    created: bool
    summary: str


@dataclass(frozen=True)
class ActionInfo:
    """One outbox row as the console and the CLI show it."""

    id: int
    order_id: int
    marketplace_order_id: str
    marketplace: str
    kind: ActionKind
    state: ActionState
    attempts: int
    last_error: str | None
    error_code: str | None
    actor: str | None
    batch_key: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    confirmed_at: datetime | None
    summary: str


@dataclass(frozen=True)
class BatchProgress:
    """Where a bulk operation stands: the numbers behind its progress bar."""

    total: int
    pending: int
    sending: int
    synchronizing: int
    confirmed: int
    failed: int
    abandoned: int

    @property
    def sent(self) -> int:
        return self.synchronizing + self.confirmed

    @property
    def done(self) -> bool:
        return self.pending == 0 and self.sending == 0


# ---------------------------------------------------------------------- facts


def find_order_id(session: Session, reference: str | int) -> int:
    """The shelfdesk id of an order named by its marketplace id (or ``#id`` for shelfdesk's own)."""
    from shelfdesk.db.models import Order

    text = str(reference).strip()
    if text.startswith("#") and text[1:].isdigit():
        if session.get(Order, int(text[1:])) is None:
            raise OrderNotFound(f"no order #{text[1:]}")
        return int(text[1:])
    ids = session.execute(select(Order.id).where(Order.marketplace_order_id == text).limit(3)).scalars().all()
    if len(ids) > 1:
        raise OrderNotFound(f"order id {text} exists on several accounts; name it by shelfdesk id (#{ids[0]}, #{ids[1]} …)")
    if ids:
        return ids[0]
    if text.isdigit() and session.get(Order, int(text)) is not None:
        return int(text)
    raise OrderNotFound(f"no order {text!r} (give the marketplace's order id, or #id for shelfdesk's)")


def order_facts(session: Session, order_id: int) -> OrderFacts:
    """Everything validation needs about one order, read in one place."""
    from shelfdesk.db.models import CategoryMapping, Order, OrderAction, OrderLine, Product

    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(f"no order #{order_id}")
    lines = session.execute(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)).scalars().all()
    skus = [l.sku for l in lines if l.sku]
    categories: dict[str, str | None] = {}
    needs: dict[str, bool] = {}
    if skus and order.store_id is not None:
        for sku, category in session.execute(
            select(Product.sku, Product.category_path).where(Product.store_id == order.store_id, Product.sku.in_(skus))  # type: ignore[attr-defined]
        ):
            categories[sku] = category
        wanted = {c for c in categories.values() if c}
        if wanted and order.channel_id is not None:
            flagged = set(session.execute(
                select(CategoryMapping.merchant_category).where(
                    CategoryMapping.channel_id == order.channel_id,
                    CategoryMapping.merchant_category.in_(wanted),  # type: ignore[attr-defined]
                    CategoryMapping.requires_imei_or_serial.is_(True),  # type: ignore[attr-defined]
                )
            ).scalars())  # fmt: skip
            needs = {sku: cat in flagged for sku, cat in categories.items() if cat}
    open_row = session.execute(
        select(OrderAction.kind, OrderAction.state)
        .where(OrderAction.order_id == order_id, OrderAction.state.in_(OPEN_STATES))  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    return OrderFacts(
        id=order.id,
        marketplace=Marketplace(order.marketplace),
        marketplace_order_id=order.marketplace_order_id,
        status=NormalizedStatus(order.status),
        marketplace_status=order.marketplace_status,
        allowed_actions=parse_allowed(order.allowed_actions),
        lines=tuple(
            LineFacts(
                remote_id=l.marketplace_line_id, sku=l.sku, quantity=l.quantity, status=NormalizedStatus(l.status),
                title=l.title, imei=l.imei, serial_number=l.serial_number, needs_identifier=needs.get(l.sku or "", False),
                category=categories.get(l.sku or ""),
            )
            for l in lines
        ),  # fmt: skip
        open_action=f"{open_row[0]} ({open_row[1]})" if open_row else None,
    )


def capabilities_for(marketplace: Marketplace | str) -> Capabilities:
    from shelfdesk.channels.registry import capabilities

    return capabilities(marketplace)


# ---------------------------------------------------------------------- queuing


def idempotency_key(order_id: int, prepared: PreparedAction) -> str:
    digest = hashlib.sha256(f"{order_id}|{prepared.kind.value}|{prepared.canonical()}".encode()).hexdigest()
    return f"{prepared.kind.value}:{order_id}:{digest[:24]}"


def prepare_for(
    session: Session,
    facts: OrderFacts,
    requested: str | ActionKind,
    fields: Mapping[str, Any] | None = None,
    *,
    skus: Sequence[str] = (),
    identifiers: Sequence[LineIdentifier] = (),
    caps: Capabilities | None = None,
) -> PreparedAction:
    """Validate a request; the very same request already in the outbox is not refused (it is a no-op)."""
    from shelfdesk.db.models import OrderAction

    caps = caps or capabilities_for(facts.marketplace)
    try:
        return prepare_action(caps, facts, requested, fields, skus=skus, identifiers=identifiers)
    except ActionRefused:
        if facts.open_action is None:
            raise
        prepared = prepare_action(caps, replace(facts, open_action=None), requested, fields, skus=skus, identifiers=identifiers)
        key = idempotency_key(facts.id, prepared)
        if session.execute(select(OrderAction.id).where(OrderAction.idempotency_key == key)).first() is None:
            raise
        return prepared


def queue_prepared(
    session: Session,
    facts: OrderFacts,
    prepared: PreparedAction,
    *,
    actor: str,
    now: datetime,
    batch_key: str | None = None,
) -> QueuedAction:
    """Write a validated action to the outbox in ``session`` (idempotent), with its event and audit entry."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction, OrderEvent
    from shelfdesk.db.upsert import upsert_rows

    key = idempotency_key(facts.id, prepared)
    existing = session.execute(select(OrderAction.id, OrderAction.state).where(OrderAction.idempotency_key == key)).first()
    if existing is not None:
        state = ActionState(existing[1])
        if state in (ActionState.failed, ActionState.abandoned):
            _rearm(session, existing[0], now)
            state = ActionState.pending
        return QueuedAction(existing[0], facts.id, facts.marketplace_order_id, prepared.kind, state, False, prepared.summary)
    row = {
        "order_id": facts.id, "kind": prepared.kind, "payload": prepared.payload, "state": ActionState.pending,
        "attempts": 0, "idempotency_key": key, "batch_key": batch_key, "actor": actor, "created_at": now,
        "updated_at": now, "next_attempt_at": now,
    }  # fmt: skip
    # DO NOTHING on a key another process wrote a moment ago: still exactly one row.
    upsert_rows(session, OrderAction, [row], ["idempotency_key"], [])
    action_id = session.execute(select(OrderAction.id).where(OrderAction.idempotency_key == key)).scalar_one()
    source = EventSource.rule if actor.startswith("rule:") else EventSource.operator
    session.add(OrderEvent(order_id=facts.id, at=now, source=source, kind="action_queued", field=prepared.kind.value,
                           actor=actor, message=prepared.summary))  # fmt: skip
    record_audit(session, actor, f"order.{prepared.kind.value}", "order", facts.marketplace_order_id,
                 {"order_id": facts.id, "action_id": action_id, "summary": prepared.summary, "batch": batch_key}, at=now)  # fmt: skip
    return QueuedAction(action_id, facts.id, facts.marketplace_order_id, prepared.kind, ActionState.pending, True, prepared.summary)


def enqueue_action(
    ctx: AppContext,
    reference: str | int,
    requested: str | ActionKind,
    fields: Mapping[str, Any] | None = None,
    *,
    skus: Sequence[str] = (),
    identifiers: Sequence[LineIdentifier] = (),
    batch_key: str | None = None,
) -> QueuedAction:
    """Validate and queue one action for the order named ``reference``; raises :class:`ActionRefused`.

    Nothing is written when the input is refused. Read-only workspaces raise
    :class:`~shelfdesk.context.ReadOnlyError` before reading anything.
    """
    ctx.require_write()
    with ctx.write_session() as session:
        facts = order_facts(session, find_order_id(session, reference))
        prepared = prepare_for(session, facts, requested, fields, skus=skus, identifiers=identifiers)
        return queue_prepared(session, facts, prepared, actor=ctx.actor, now=ctx.clock.now(), batch_key=batch_key)


@dataclass(frozen=True)
class BulkQueued:
    """What a bulk request queued, and what it refused with the reason."""

    batch_key: str
    queued: list[QueuedAction]
    refused: list[ActionRefused]


def enqueue_bulk(
    ctx: AppContext,
    order_ids: Iterable[int],
    requested: str,
    fields: Mapping[str, Any] | None = None,
    *,
    batch_key: str,
) -> BulkQueued:
    """Queue the same action on many orders (marks or "all matching"); refusals are collected, not raised.

    One transaction: either every valid action is queued or none is.
    """
    ctx.require_write()
    queued: list[QueuedAction] = []
    refused: list[ActionRefused] = []
    now = ctx.clock.now()
    caps_cache: dict[Marketplace, Capabilities] = {}
    with ctx.write_session() as session:
        for order_id in order_ids:
            try:
                facts = order_facts(session, order_id)
                caps = caps_cache.setdefault(facts.marketplace, capabilities_for(facts.marketplace))
                prepared = prepare_for(session, facts, requested, fields, caps=caps)
            except (ActionRefused, OrderNotFound) as exc:
                refused.append(exc if isinstance(exc, ActionRefused) else ActionRefused(str(exc)))
                continue
            queued.append(queue_prepared(session, facts, prepared, actor=ctx.actor, now=now, batch_key=batch_key))
    return BulkQueued(batch_key, queued, refused)


def _rearm(session: Session, action_id: int, now: datetime) -> None:
    from shelfdesk.db.models import OrderAction

    session.execute(
        update(OrderAction)
        .where(OrderAction.id == action_id, OrderAction.state.in_([ActionState.failed.value, ActionState.abandoned.value]))  # type: ignore[attr-defined]
        .values(state=ActionState.pending, next_attempt_at=now, updated_at=now, error_code=None, claimed_by=None, claimed_at=None)
    )


def retry_action(ctx: AppContext, action_id: int) -> ActionInfo:
    """Put a failed action back in the queue; the sender reads the order before sending it again."""
    return _operator_change(ctx, action_id, (ActionState.failed, ActionState.abandoned), ActionState.pending, "retry")


def dismiss_action(ctx: AppContext, action_id: int) -> ActionInfo:
    """Give up a failed action for good (the order leaves the failed list)."""
    return _operator_change(ctx, action_id, (ActionState.failed,), ActionState.abandoned, "dismiss")


def _operator_change(ctx: AppContext, action_id: int, from_states: tuple[ActionState, ...], to: ActionState, verb: str) -> ActionInfo:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction, OrderEvent

    now = ctx.clock.now()
    with ctx.write_session() as session:
        action = session.get(OrderAction, action_id)
        if action is None:
            raise ActionRefused(f"no order action {action_id}", field="action")
        if ActionState(action.state) not in from_states:
            allowed = " or ".join(s.value for s in from_states)
            raise ActionRefused(f"action {action_id} is {action.state}: only a {allowed} action can be {verb}ed",
                                field="state")  # fmt: skip
        values: dict[str, Any] = {"state": to, "updated_at": now}
        if to is ActionState.pending:
            values.update(next_attempt_at=now, error_code=None, claimed_by=None, claimed_at=None)
        session.execute(update(OrderAction).where(OrderAction.id == action_id, OrderAction.state == action.state).values(**values))
        session.add(OrderEvent(order_id=action.order_id, at=now, source=EventSource.operator, kind=f"action_{verb}",
                               field=str(action.kind), actor=ctx.actor, message=f"{action.kind} {verb} by {ctx.actor}"))  # fmt: skip
        record_audit(session, ctx, f"order.action_{verb}", "order_action", action_id, {"order_id": action.order_id})
    return get_action(ctx, action_id)


def cancel_batch(ctx: AppContext, batch_key: str) -> int:
    """Stop a bulk operation: its actions not yet sent are abandoned (those in flight finish)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction

    now = ctx.clock.now()
    with ctx.write_session() as session:
        result = session.execute(
            update(OrderAction)
            .where(OrderAction.batch_key == batch_key, OrderAction.state == ActionState.pending)
            .values(state=ActionState.abandoned, updated_at=now, last_error="cancelled by the operator before it was sent")
        )
        count = int(result.rowcount or 0)
        record_audit(session, ctx, "order.bulk_cancel", "batch", batch_key, {"abandoned": count})
    return count


# ---------------------------------------------------------------------- reading


def _info(row: Any, order_mid: str, marketplace: str) -> ActionInfo:
    payload = row.payload or {}
    fields = payload.get("fields") or {}
    local = payload.get("local") or {}
    bits = [str(v) for v in (fields.get("shipper") or fields.get("carrier") or local.get("carrier"),
                             fields.get("tracking_number") or local.get("tracking_number")) if v]  # fmt: skip
    if payload.get("skus"):
        bits.append("lines " + ", ".join(payload["skus"]))
    if payload.get("reason"):
        bits.append(f"reason {payload['reason']}")
    return ActionInfo(
        id=row.id, order_id=row.order_id, marketplace_order_id=order_mid, marketplace=marketplace,
        kind=ActionKind(row.kind), state=ActionState(row.state), attempts=row.attempts, last_error=row.last_error,
        error_code=row.error_code, actor=row.actor, batch_key=row.batch_key, created_at=row.created_at,
        updated_at=row.updated_at, next_attempt_at=row.next_attempt_at, confirmed_at=row.confirmed_at,
        summary=" ".join(bits),
    )  # fmt: skip


def list_actions(
    ctx: AppContext,
    *,
    states: Sequence[ActionState] | None = None,
    order_id: int | None = None,
    batch_key: str | None = None,
    limit: int = 500,
) -> list[ActionInfo]:
    """Outbox rows, newest first (``states=[failed]`` is the failed-actions list)."""
    from shelfdesk.db.models import Order, OrderAction

    query = select(OrderAction, Order.marketplace_order_id, Order.marketplace).join(Order, Order.id == OrderAction.order_id)
    if states:
        query = query.where(OrderAction.state.in_([s.value for s in states]))  # type: ignore[attr-defined]
    if order_id is not None:
        query = query.where(OrderAction.order_id == order_id)
    if batch_key is not None:
        query = query.where(OrderAction.batch_key == batch_key)
    query = query.order_by(OrderAction.id.desc()).limit(limit)  # type: ignore[union-attr]
    with ctx.read_session() as session:
        return [_info(a, mid, str(mp)) for a, mid, mp in session.execute(query)]


def get_action(ctx: AppContext, action_id: int) -> ActionInfo:
    from shelfdesk.db.models import Order, OrderAction

    with ctx.read_session() as session:
        row = session.execute(
            select(OrderAction, Order.marketplace_order_id, Order.marketplace)
            .join(Order, Order.id == OrderAction.order_id)
            .where(OrderAction.id == action_id)
        ).first()
    if row is None:
        raise ActionRefused(f"no order action {action_id}", field="action")
    return _info(row[0], row[1], str(row[2]))


def batch_progress(ctx: AppContext, batch_key: str) -> BatchProgress:
    from shelfdesk.db.models import OrderAction

    with ctx.read_session() as session:
        counts = dict(session.execute(
            select(OrderAction.state, func.count()).where(OrderAction.batch_key == batch_key).group_by(OrderAction.state)
        ).all())  # fmt: skip
    get = lambda s: int(counts.get(s.value, 0))  # noqa: E731
    return BatchProgress(sum(int(v) for v in counts.values()), get(ActionState.pending), get(ActionState.sending),
                         get(ActionState.synchronizing), get(ActionState.confirmed), get(ActionState.failed),
                         get(ActionState.abandoned))  # fmt: skip
