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

from sqlalchemy import func, insert, select, update

from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace, NormalizedStatus
from shelfdesk.orders.errors import ActionRefused, OrderNotFound
from shelfdesk.orders.validation import (
    LineFacts,
    LineIdentifier,
    OrderFacts,
    PreparedAction,
    parse_allowed,
    prepare_action,
    resolve_kind,
    state_problem,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import Capabilities
    from shelfdesk.context import AppContext

OPEN_STATES = tuple(s.value for s in ActionState if s.is_open)
#: Ids per IN (...) list.
CHUNK = 500


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
    found = find_order_ids(session, [reference])[str(reference).strip()]
    if isinstance(found, OrderNotFound):
        raise found
    return found


def find_order_ids(session: Session, references: Iterable[str | int]) -> dict[str, int | OrderNotFound]:
    """Order ids for many references at once (bulk files): each maps to its id or to why it has none."""
    from shelfdesk.db.tables import table

    Order = table("orders").c

    texts = list(dict.fromkeys(str(r).strip() for r in references))
    internal = {t: int(t[1:]) for t in texts if t.startswith("#") and t[1:].isdigit()}
    by_mid: dict[str, list[int]] = {}
    plain = [t for t in texts if t not in internal]
    for start in range(0, len(plain), CHUNK):
        for mid, order_id in session.execute(
            select(Order.marketplace_order_id, Order.id).where(Order.marketplace_order_id.in_(plain[start : start + CHUNK]))
        ):
            by_mid.setdefault(mid, []).append(order_id)
    candidates = set(internal.values()) | {int(t) for t in plain if t.isdigit() and t not in by_mid}
    existing: set[int] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), CHUNK):
        existing |= set(session.execute(select(Order.id).where(Order.id.in_(ids[start : start + CHUNK]))).scalars())
    result: dict[str, int | OrderNotFound] = {}
    for text in texts:
        if text in internal:
            result[text] = internal[text] if internal[text] in existing else OrderNotFound(f"no order {text}")
        elif len(by_mid.get(text, ())) > 1:
            a, b = sorted(by_mid[text])[:2]
            result[text] = OrderNotFound(f"order id {text} exists on several accounts; name it by shelfdesk id (#{a}, #{b} …)")
        elif text in by_mid:
            result[text] = by_mid[text][0]
        elif text.isdigit() and int(text) in existing:
            result[text] = int(text)
        else:
            result[text] = OrderNotFound(f"no order {text!r} (give the marketplace's order id, or #id for shelfdesk's)")
    return result


def order_facts(session: Session, order_id: int) -> OrderFacts:
    """Everything validation needs about one order, read in one place."""
    facts = order_facts_many(session, [order_id])
    if order_id not in facts:
        raise OrderNotFound(f"no order #{order_id}")
    return facts[order_id]


def order_facts_many(session: Session, order_ids: Iterable[int]) -> dict[int, OrderFacts]:
    """:func:`order_facts` for many orders in a few set-wise queries (bulk files, "all matching")."""
    from shelfdesk.db.tables import table

    orders_t, lines_t = table("orders"), table("order_lines")
    Order, OrderLine, OrderAction = orders_t.c, lines_t.c, table("order_actions").c
    Product, CategoryMapping = table("products").c, table("category_mappings").c

    ids = sorted(set(order_ids))
    orders: dict[int, Any] = {}
    lines: dict[int, list[Any]] = {}
    open_rows: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        orders.update({o.id: o for o in session.execute(select(orders_t).where(Order.id.in_(chunk)))})
        for line in session.execute(select(lines_t).where(OrderLine.order_id.in_(chunk)).order_by(OrderLine.id)):
            lines.setdefault(line.order_id, []).append(line)
        for order_id, kind, state in session.execute(
            select(OrderAction.order_id, OrderAction.kind, OrderAction.state).where(
                OrderAction.order_id.in_(chunk),
                OrderAction.state.in_(OPEN_STATES),
                # An invoice upload changes nothing of the order's state: a queued or
                # retrying upload must never hold up accepting, shipping or cancelling.
                OrderAction.kind != ActionKind.upload_invoice,
            )
        ):
            open_rows.setdefault(order_id, (str(kind), str(state)))
    wanted: dict[int, set[str]] = {}  # store -> SKUs
    for order_id, order in orders.items():
        if order.store_id is not None:
            wanted.setdefault(order.store_id, set()).update(l.sku for l in lines.get(order_id, []) if l.sku)
    categories: dict[tuple[int, str], str | None] = {}
    for store_id, skus in wanted.items():
        listed = sorted(skus)
        for start in range(0, len(listed), CHUNK):
            for sku, category in session.execute(
                select(Product.sku, Product.category_path).where(
                    Product.store_id == store_id, Product.sku.in_(listed[start : start + CHUNK])
                )
            ):
                categories[(store_id, sku)] = category
    channels = {o.channel_id for o in orders.values() if o.channel_id is not None}
    flagged: set[tuple[int, str]] = set()
    if channels and categories:
        flagged = {
            (c, m)
            for c, m in session.execute(
                select(CategoryMapping.channel_id, CategoryMapping.merchant_category).where(
                    CategoryMapping.channel_id.in_(sorted(channels)),
                    CategoryMapping.requires_imei_or_serial.is_(True),
                )
            )
        }
    result: dict[int, OrderFacts] = {}
    for order_id, order in orders.items():
        open_row = open_rows.get(order_id)

        def category(sku: str | None, store: int | None = order.store_id) -> str | None:
            return categories.get((store, sku)) if store is not None and sku else None

        result[order_id] = OrderFacts(
            id=order.id,
            marketplace=Marketplace(order.marketplace),
            marketplace_order_id=order.marketplace_order_id,
            status=NormalizedStatus(order.status),
            marketplace_status=order.marketplace_status,
            allowed_actions=parse_allowed(order.allowed_actions),
            lines=tuple(
                LineFacts(
                    remote_id=l.marketplace_line_id,
                    sku=l.sku,
                    quantity=l.quantity,
                    status=NormalizedStatus(l.status),
                    title=l.title,
                    imei=l.imei,
                    serial_number=l.serial_number,
                    needs_identifier=(order.channel_id, category(l.sku)) in flagged,
                    category=category(l.sku),
                )
                for l in lines.get(order_id, [])
            ),
            open_action=f"{open_row[0]} ({open_row[1]})" if open_row else None,
        )
    return result


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
    return queue_many(session, [(facts, prepared)], actor=actor, now=now, batch_key=batch_key)[0]


def queue_many(
    session: Session,
    items: Sequence[tuple[OrderFacts, PreparedAction]],
    *,
    actor: str,
    now: datetime,
    batch_key: str | None = None,
) -> list[QueuedAction]:
    """Write validated actions to the outbox in a few set-wise statements (idempotent, each with event and audit).

    An action already queued (same order, kind and payload) is returned as it
    is; one that failed or was dismissed is put back in the queue.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction, OrderEvent
    from shelfdesk.db.upsert import upsert_rows

    keyed = [(idempotency_key(f.id, p), f, p) for f, p in items]
    keys = [k for k, _, _ in keyed]
    existing: dict[str, tuple[int, ActionState]] = {}
    for start in range(0, len(keys), CHUNK):
        for action_id, key, state in session.execute(
            select(OrderAction.id, OrderAction.idempotency_key, OrderAction.state).where(
                OrderAction.idempotency_key.in_(keys[start : start + CHUNK])
            )
        ):
            existing[key] = (action_id, ActionState(state))
    rows, seen = [], set()
    for key, facts, prepared in keyed:
        if key in existing or key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "order_id": facts.id,
                "kind": prepared.kind,
                "payload": prepared.payload,
                "state": ActionState.pending,
                "attempts": 0,
                "idempotency_key": key,
                "batch_key": batch_key,
                "actor": actor,
                "created_at": now,
                "updated_at": now,
                "next_attempt_at": now,
            }
        )
    # DO NOTHING on a key another process wrote a moment ago: still exactly one row each.
    upsert_rows(session, OrderAction, rows, ["idempotency_key"], [])
    created: dict[str, int] = {}
    new_keys = [r["idempotency_key"] for r in rows]
    for start in range(0, len(new_keys), CHUNK):
        created.update(
            dict(
                session.execute(
                    select(OrderAction.idempotency_key, OrderAction.id).where(
                        OrderAction.idempotency_key.in_(new_keys[start : start + CHUNK])
                    )
                ).all()
            )
        )
    source = EventSource.rule if actor.startswith("rule:") else EventSource.operator
    events, result, done = [], [], set()
    for key, facts, prepared in keyed:
        if key in existing:
            action_id, state = existing[key]
            if state in (ActionState.failed, ActionState.abandoned):
                _rearm(session, action_id, now)
                state = ActionState.pending
            result.append(QueuedAction(action_id, facts.id, facts.marketplace_order_id, prepared.kind, state, False, prepared.summary))
            continue
        action_id = created[key]
        fresh = key not in done
        done.add(key)
        result.append(
            QueuedAction(action_id, facts.id, facts.marketplace_order_id, prepared.kind, ActionState.pending, fresh, prepared.summary)
        )
        if fresh:
            events.append(
                {
                    "order_id": facts.id,
                    "at": now,
                    "source": source,
                    "kind": "action_queued",
                    "field": prepared.kind.value,
                    "actor": actor,
                    "message": prepared.summary,
                }
            )
            record_audit(
                session,
                actor,
                f"order.{prepared.kind.value}",
                "order",
                facts.marketplace_order_id,
                {"order_id": facts.id, "action_id": action_id, "summary": prepared.summary, "batch": batch_key},
                at=now,
            )
    if events:
        session.execute(insert(OrderEvent.__table__), events)
    return result


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


@dataclass(frozen=True)
class BulkReach:
    """Which of the orders asked about an action applies to now, before asking the operator to confirm."""

    applicable: list[int]
    total: int
    others: dict[str, int]
    """Why the rest cannot take it, counted: {"Shipped": 2, "with an action in flight": 1}."""

    def others_text(self) -> str:
        """ "3 are not New: 2 Shipped, 1 with an action in flight" reads "2 Shipped, 1 with …"."""
        return ", ".join(f"{count:,} {why}" for why, count in sorted(self.others.items(), key=lambda kv: -kv[1]))


def bulk_reach(ctx: AppContext, order_ids: Iterable[int], requested: str) -> BulkReach:
    """Which orders ``requested`` (accept, cancel …) applies to now, by the same rule as :func:`enqueue_bulk`.

    Only the order's state counts here (status, an action in flight, the
    marketplace's allowed actions); fields such as a reason are checked when
    queuing. Read-only: nothing is written.
    """
    ids = list(order_ids)
    applicable: list[int] = []
    others: dict[str, int] = {}
    caps_cache: dict[Marketplace, Capabilities] = {}
    with ctx.read_session() as session:
        facts_by_id = order_facts_many(session, ids)
    for order_id in ids:
        facts = facts_by_id.get(order_id)
        if facts is None:
            others["gone"] = others.get("gone", 0) + 1
            continue
        caps = caps_cache.setdefault(facts.marketplace, capabilities_for(facts.marketplace))
        try:
            spec = resolve_kind(caps, requested, facts.marketplace_order_id)
        except ActionRefused:
            why = f"on {facts.marketplace} (no such action)"
        else:
            problem = state_problem(spec, facts)
            if problem is None:
                applicable.append(order_id)
                continue
            if facts.open_action:
                why = "with an action in flight"
            elif facts.status not in spec.allowed_statuses:
                why = str(facts.status)
            else:
                from shelfdesk.orders.marketplace_states import state_words

                why = state_words(facts.marketplace, facts.marketplace_status)
        others[why] = others.get(why, 0) + 1
    return BulkReach(applicable, len(ids), others)


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
    ids = list(order_ids)
    refused: list[ActionRefused] = []
    valid: list[tuple[OrderFacts, PreparedAction]] = []
    caps_cache: dict[Marketplace, Capabilities] = {}
    with ctx.write_session() as session:
        facts_by_id = order_facts_many(session, ids)
        for order_id in ids:
            facts = facts_by_id.get(order_id)
            if facts is None:
                refused.append(ActionRefused(f"no order #{order_id}", field="order"))
                continue
            caps = caps_cache.setdefault(facts.marketplace, capabilities_for(facts.marketplace))
            try:
                valid.append((facts, prepare_for(session, facts, requested, fields, caps=caps)))
            except ActionRefused as exc:
                refused.append(exc)
        queued = queue_many(session, valid, actor=ctx.actor, now=ctx.clock.now(), batch_key=batch_key)
    return BulkQueued(batch_key, queued, refused)


def _rearm(session: Session, action_id: int, now: datetime) -> None:
    from shelfdesk.db.models import OrderAction

    session.execute(
        update(OrderAction)
        .where(OrderAction.id == action_id, OrderAction.state.in_([ActionState.failed.value, ActionState.abandoned.value]))
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
            raise ActionRefused(f"action {action_id} is {action.state}: only a {allowed} action can be {verb}ed", field="state")
        values: dict[str, Any] = {"state": to, "updated_at": now}
        if to is ActionState.pending:
            values.update(next_attempt_at=now, error_code=None, claimed_by=None, claimed_at=None)
        session.execute(update(OrderAction).where(OrderAction.id == action_id, OrderAction.state == action.state).values(**values))
        session.add(
            OrderEvent(
                order_id=action.order_id,
                at=now,
                source=EventSource.operator,
                kind=f"action_{verb}",
                field=str(action.kind),
                actor=ctx.actor,
                message=f"{action.kind} {verb} by {ctx.actor}",
            )
        )
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
    bits = [
        str(v)
        for v in (
            fields.get("shipper") or fields.get("carrier") or local.get("carrier"),
            fields.get("tracking_number") or local.get("tracking_number"),
        )
        if v
    ]
    if payload.get("skus"):
        bits.append("lines " + ", ".join(payload["skus"]))
    if payload.get("reason"):
        bits.append(f"reason {payload['reason']}")
    return ActionInfo(
        id=row.id,
        order_id=row.order_id,
        marketplace_order_id=order_mid,
        marketplace=marketplace,
        kind=ActionKind(row.kind),
        state=ActionState(row.state),
        attempts=row.attempts,
        last_error=row.last_error,
        error_code=row.error_code,
        actor=row.actor,
        batch_key=row.batch_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        confirmed_at=row.confirmed_at,
        summary=" ".join(bits),
    )


def list_actions(
    ctx: AppContext,
    *,
    states: Sequence[ActionState] | None = None,
    order_id: int | None = None,
    batch_key: str | None = None,
    limit: int = 500,
) -> list[ActionInfo]:
    """Outbox rows, newest first (``states=[failed]`` is the failed-actions list)."""
    actions = _actions_query()
    action = actions.selected_columns
    if states:
        actions = actions.where(action.state.in_([s.value for s in states]))
    if order_id is not None:
        actions = actions.where(action.order_id == order_id)
    if batch_key is not None:
        actions = actions.where(action.batch_key == batch_key)
    with ctx.read_connection() as conn:
        return [
            _info(row, row.order_mid, str(row.order_marketplace)) for row in conn.execute(actions.order_by(action.id.desc()).limit(limit))
        ]


def get_action(ctx: AppContext, action_id: int) -> ActionInfo:
    actions = _actions_query()
    with ctx.read_connection() as conn:
        row = conn.execute(actions.where(actions.selected_columns.id == action_id)).first()
    if row is None:
        raise ActionRefused(f"no order action {action_id}", field="action")
    return _info(row, row.order_mid, str(row.order_marketplace))


def _actions_query() -> Any:
    """Outbox rows with their order's marketplace id and marketplace (Core tables: no ORM for a read)."""
    from shelfdesk.db.tables import table

    actions, orders = table("order_actions"), table("orders")
    return select(actions, orders.c.marketplace_order_id.label("order_mid"), orders.c.marketplace.label("order_marketplace")).join_from(
        actions, orders, orders.c.id == actions.c.order_id
    )


def batch_progress(ctx: AppContext, batch_key: str) -> BatchProgress:
    from shelfdesk.db.models import OrderAction

    with ctx.read_session() as session:
        counts: dict[str, int] = dict(
            session.execute(
                select(OrderAction.state, func.count()).where(OrderAction.batch_key == batch_key).group_by(OrderAction.state)
            ).all()
        )
    get = lambda s: int(counts.get(s.value, 0))  # noqa: E731
    return BatchProgress(
        sum(int(v) for v in counts.values()),
        get(ActionState.pending),
        get(ActionState.sending),
        get(ActionState.synchronizing),
        get(ActionState.confirmed),
        get(ActionState.failed),
        get(ActionState.abandoned),
    )
