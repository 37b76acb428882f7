"""Capturing events: from the order history and finished publications into ``webhook_events``.

Why capture from the history instead of hooking into harvests: every change
of an order is already written as an ``order_events`` row in the same
transaction as the change, whoever made it (harvest, operator, rule, outbox).
Reading that table after the fact sees every change exactly as committed,
adds no work and no network to a harvest, and survives crashes: the cursor
only moves in the transaction that stores the captured events.

Capture is idempotent: an event's ``source_key`` (``order_event:123``,
``publication:7:finished``) is unique, and deliveries are unique per
(subscription, event), so two processes capturing at once, or a capture that
re-reads a window, never produce a second delivery.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

from shelfdesk.webhooks.types import (  # noqa: F401  (re-exported: callers import them from here)
    DEADLINE_APPROACHING,
    EVENT_TYPES,
    ORDER_ACTION_CONFIRMED,
    ORDER_ACTION_FAILED,
    ORDER_CREATED,
    ORDER_STATUS_CHANGED,
    PING,
    PUBLICATION_FINISHED,
)

#: order_events.kind → event type (status changes only on the normalized status). New orders are
#: read from ``orders`` itself: a harvest records no history row for an order's first sight.
ORDER_EVENT_KINDS = {
    "status_changed": ORDER_STATUS_CHANGED,
    "action_confirmed": ORDER_ACTION_CONFIRMED,
    "action_failed": ORDER_ACTION_FAILED,
}
FINISHED_PUBLICATION_STATES = ("succeeded", "partial", "failed", "skipped", "canceled", "interrupted")
ORDER_CURSOR = "order_events"
ORDERS_CURSOR = "orders"
PUBLICATION_CURSOR = "publications"
#: Re-read this many ids below the cursor: on PostgreSQL ids can commit out of order.
LOOKBACK_IDS = 200
#: Where capture began for each id cursor (set once, by :func:`start_cursors`): the look-back
#: never reads below it, or the orders stored before the first subscription would come out
#: as new ``order.created`` events (an order's first capture is timed "now").
FLOOR_SUFFIX = ":floor"
PUBLICATION_LOOKBACK = timedelta(minutes=10)
BATCH = 500
_NAMESPACE = uuid.UUID("6f1d2a4e-8c3b-4e0a-9a57-2d9f0b8e51c7")


def parse_types(text: str | Iterable[str]) -> list[str]:
    """Event types from ``"order.created,order.status_changed"`` (or ``all``); ValueError names bad ones."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if not items or items == ["all"]:
        return list(EVENT_TYPES)
    unknown = [t for t in items if t not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(items))


def event_uid(source_key: str) -> str:
    """A stable public id: the same source always gives the same id (receivers deduplicate on it)."""
    return "evt_" + uuid.uuid5(_NAMESPACE, source_key).hex


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def order_snapshot(session: Session, order_id: int) -> dict[str, Any] | None:
    """The order as shelfdesk holds it (normalized fields and lines; not the marketplace's raw payload)."""
    from shelfdesk.db.models import Order, OrderLine

    order = session.get(Order, order_id)
    if order is None:
        return None
    lines = session.execute(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)).scalars().all()
    data = {
        "id": order.id,
        "marketplace": order.marketplace,
        "marketplace_order_id": order.marketplace_order_id,
        "account_id": order.account_id,
        "channel_id": order.channel_id,
        "store_id": order.store_id,
        "market": order.market,
        "country": order.country,
        "status": order.status,
        "marketplace_status": order.marketplace_status,
        "purchased_at": order.purchased_at,
        "modified_at": order.modified_at,
        "updated_at": order.updated_at,
        "total": order.total,
        "shipping_price": order.shipping_price,
        "discount_total": order.discount_total,
        "currency": order.currency,
        "buyer": {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone},
        "shipping_address": order.shipping_address,
        "billing_address": order.billing_address,
        "shipping_method": order.shipping_method,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "accept_by": order.accept_by,
        "ship_by": order.ship_by,
        "lines": [
            {
                "marketplace_line_id": l.marketplace_line_id,
                "sku": l.sku,
                "title": l.title,
                "quantity": l.quantity,
                "unit_price": l.unit_price,
                "status": l.status,
                "marketplace_status": l.marketplace_status,
                "imei": l.imei,
                "serial_number": l.serial_number,
            }
            for l in lines
        ],
    }
    return _plain(data)


def publication_snapshot(session: Session, publication_id: int) -> dict[str, Any] | None:
    from shelfdesk.db.models import Channel, Publication

    pub = session.get(Publication, publication_id)
    if pub is None:
        return None
    channel = session.get(Channel, pub.channel_id)
    data = {
        "id": pub.id,
        "channel_id": pub.channel_id,
        "channel": channel.name if channel else None,
        "marketplace": channel.marketplace if channel else None,
        "kind": pub.kind,
        "mode": pub.mode,
        "state": pub.state,
        "dry_run": pub.dry_run,
        "started_by": pub.started_by,
        "started_at": pub.started_at,
        "finished_at": pub.finished_at,
        "counts": {
            k: getattr(pub, k)
            for k in ("items_total", "excluded", "invalid", "sent", "succeeded", "warnings", "failed", "skipped", "queued")
        },
        "error": pub.error,
    }
    return _plain(data)


def envelope(uid: str, type_: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body every receiver gets: ``{id, type, created_at, data}``."""
    return {"id": uid, "type": type_, "created_at": occurred_at.isoformat(), "data": data}


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------- cursors


def get_cursor(session: Session, name: str) -> int | None:
    from shelfdesk.db.models import WebhookCursor

    row = session.get(WebhookCursor, name)
    return None if row is None else int(row.position)


def set_cursor(session: Session, name: str, position: int, now: datetime) -> None:
    from shelfdesk.db.models import WebhookCursor

    row = session.get(WebhookCursor, name)
    if row is None:
        session.add(WebhookCursor(name=name, position=position, updated_at=now))
    elif position > row.position:
        row.position = position
        row.updated_at = now


def start_cursors(session: Session, now: datetime) -> None:
    """Where capture begins when the first subscription is added: now, not the whole history."""
    from shelfdesk.db.models import OrderEvent

    from shelfdesk.db.models import Order

    for name, id_column in ((ORDERS_CURSOR, Order.id), (ORDER_CURSOR, OrderEvent.id)):
        if get_cursor(session, name) is None:
            start = int(session.execute(select(func.coalesce(func.max(id_column), 0))).scalar_one())
            set_cursor(session, name, start, now)
            set_cursor(session, name + FLOOR_SUFFIX, start, now)
    if get_cursor(session, PUBLICATION_CURSOR) is None:
        set_cursor(session, PUBLICATION_CURSOR, int(now.timestamp()), now)


# ---------------------------------------------------------------------- storing events


def _store_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new events (DO NOTHING on a source already captured)."""
    from shelfdesk.db.models import WebhookEvent
    from shelfdesk.db.upsert import upsert_rows

    if rows:
        upsert_rows(session, WebhookEvent, rows, ["source_key"], [])


def _stored(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str, str, datetime]]:
    """source_key → (event id, type, ordering key, occurred at) as stored (the first capture wins)."""
    from shelfdesk.db.models import WebhookEvent as E

    found: dict[str, tuple[int, str, str, datetime]] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        for key, *values in session.execute(
            select(E.source_key, E.id, E.type, E.ordering_key, E.occurred_at).where(E.source_key.in_(chunk))  # type: ignore[union-attr]
        ).all():
            found[key] = tuple(values)  # type: ignore[assignment]
    return found


def fan_out(
    session: Session, events: Sequence[tuple[int, str, str, datetime]], now: datetime, subscription_ids: Sequence[int] | None = None
) -> int:
    """One delivery per (subscription that wants the type, event); returns how many rows were offered.

    ``events`` are (event id, type, ordering key, occurred at), in the order
    they must be delivered. Paused subscriptions get them too: they are
    delivered once the subscription resumes.
    """
    from shelfdesk.db.models import WebhookDelivery, WebhookSubscription
    from shelfdesk.db.upsert import upsert_rows

    query = select(WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.since)
    if subscription_ids is not None:
        query = query.where(WebhookSubscription.id.in_(list(subscription_ids)))  # type: ignore[union-attr]
    subscriptions = [(sid, set(types.split(",")), since) for sid, types, since in session.execute(query).all()]
    rows = [
        {
            "subscription_id": sid,
            "event_id": event_id,
            "replay": 0,
            "ordering_key": key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, type_, key, occurred in events
        for sid, types, since in subscriptions
        if type_ in types and occurred >= since
    ]
    for start in range(0, len(rows), 500):
        upsert_rows(session, WebhookDelivery, rows[start : start + 500], ["subscription_id", "event_id", "replay"], [])
    return len(rows)


def _order_event_rows(session: Session, query: Any) -> list[dict[str, Any]]:
    """Event rows for the order_events ``query`` selects, skipping sources already captured."""
    from shelfdesk.db.models import WebhookEvent

    found = session.execute(query).all()
    keys = [f"order_event:{row[0]}" for row in found]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            session.execute(select(WebhookEvent.source_key).where(WebhookEvent.source_key.in_(keys[start : start + 500]))).scalars()
        )  # type: ignore[union-attr,arg-type]
    snapshots: dict[int, dict[str, Any] | None] = {}
    out = []
    for oe_id, order_id, at, kind, fld, old, new, source, actor, message in found:
        type_ = ORDER_EVENT_KINDS.get(kind)
        source_key = f"order_event:{oe_id}"
        if type_ is None or (kind == "status_changed" and fld != "status"):
            continue
        if source_key in known:
            out.append({"source_key": source_key, "type": type_, "ordering_key": f"order:{order_id}", "occurred_at": at})
            continue
        if order_id not in snapshots:
            snapshots[order_id] = order_snapshot(session, order_id)
        order = snapshots[order_id]
        if order is None:
            continue
        change: dict[str, Any] = {"source": _plain(source), "actor": actor, "message": message}
        if kind == "status_changed":
            change.update({"field": fld, "from": old, "to": new})
        elif kind.startswith("action_"):
            change.update({"action": fld})
        uid = event_uid(source_key)
        out.append(
            {
                "event_uid": uid,
                "type": type_,
                "ordering_key": f"order:{order_id}",
                "source_key": source_key,
                "occurred_at": at,
                "payload": envelope(uid, type_, at, {"order": order, "change": change}),
            }
        )
    return out


def _created_rows(session: Session, query: Any, seen_at: datetime | None) -> list[dict[str, Any]]:
    """``order.created`` rows for the orders ``query`` selects (id, purchase time), skipping captured ones.

    The event's time is ``seen_at`` (when capture first saw the order, close to its
    harvest) or, for a backfill, the purchase time, which precedes every change.
    """
    from shelfdesk.db.models import WebhookEvent

    found = session.execute(query).all()
    keys = [f"order:{row[0]}:created" for row in found]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            session.execute(select(WebhookEvent.source_key).where(WebhookEvent.source_key.in_(keys[start : start + 500]))).scalars()
        )  # type: ignore[union-attr,arg-type]
    out = []
    for (order_id, purchased), source_key in zip(found, keys, strict=True):
        seen = seen_at or purchased
        row: dict[str, Any] = {"source_key": source_key, "type": ORDER_CREATED, "ordering_key": f"order:{order_id}", "occurred_at": seen}
        if source_key not in known:
            order = order_snapshot(session, order_id)
            if order is None:
                continue
            uid = event_uid(source_key)
            row.update(event_uid=uid, payload=envelope(uid, ORDER_CREATED, seen, {"order": order, "change": {"source": "harvest"}}))
        out.append(row)
    return out


def _window(query: Any, id_column: Any, time_column: Any, *, after_id: int | None, up_to: int | None, since: datetime | None) -> Any:
    """``query`` limited to ids in (after_id, up_to] and times from ``since``, in id order."""
    if after_id is not None:
        query = query.where(id_column > after_id)
    if up_to is not None:
        query = query.where(id_column <= up_to)
    if since is not None:
        query = query.where(time_column >= since)
    return query.order_by(id_column)


def _orders_query(*, after_id: int | None = None, up_to: int | None = None, since: datetime | None = None) -> Any:
    from shelfdesk.db.models import Order

    return _window(select(Order.id, Order.purchased_at), Order.id, Order.purchased_at, after_id=after_id, up_to=up_to, since=since)


def _order_events_query(*, after_id: int | None = None, up_to: int | None = None, since: datetime | None = None) -> Any:
    from shelfdesk.db.models import OrderEvent as E

    query = select(E.id, E.order_id, E.at, E.kind, E.field, E.old_value, E.new_value, E.source, E.actor, E.message).where(
        E.kind.in_(list(ORDER_EVENT_KINDS))  # type: ignore[attr-defined]
    )
    return _window(query, E.id, E.at, after_id=after_id, up_to=up_to, since=since)


def _publication_rows(session: Session, since: datetime) -> list[dict[str, Any]]:
    from shelfdesk.db.models import Publication as P

    rows = []
    found = session.execute(
        select(P.id, P.finished_at)
        .where(P.finished_at >= since, P.state.in_(FINISHED_PUBLICATION_STATES))  # type: ignore[operator,attr-defined]
        .order_by(P.finished_at, P.id)  # type: ignore[arg-type]
    ).all()
    for pub_id, finished in found:
        data = publication_snapshot(session, pub_id)
        source_key = f"publication:{pub_id}:finished"
        uid = event_uid(source_key)
        rows.append(
            {
                "event_uid": uid,
                "type": PUBLICATION_FINISHED,
                "ordering_key": f"publication:{pub_id}",
                "source_key": source_key,
                "occurred_at": finished,
                "payload": envelope(uid, PUBLICATION_FINISHED, finished, {"publication": data}),
            }
        )
    return rows


def _store_and_fan_out(session: Session, rows: list[dict[str, Any]], now: datetime, subscription_ids: Sequence[int] | None = None) -> int:
    """Store the rows that carry a payload (new sources), then offer every row's event, as stored, to the subscriptions."""
    _store_events(session, [r for r in rows if "payload" in r])
    stored = _stored(session, [r["source_key"] for r in rows])
    events = [stored[r["source_key"]] for r in rows if r["source_key"] in stored]
    return fan_out(session, events, now, subscription_ids)


def queue_event(session: Session, source_key: str, type_: str, ordering_key: str, data: dict[str, Any], now: datetime) -> int:
    """Store one event that no table records (a deadline crossing a threshold) and queue it for its subscriptions.

    The same ``source_key`` is stored once, whoever queues it how often. With
    no subscription at all nothing is stored, as with captured events. Returns
    how many deliveries were offered.
    """
    from shelfdesk.db.models import WebhookSubscription

    if session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 0:
        return 0
    uid = event_uid(source_key)
    row = {"event_uid": uid, "type": type_, "ordering_key": ordering_key, "source_key": source_key, "occurred_at": now}
    return _store_and_fan_out(session, [{**row, "payload": envelope(uid, type_, now, _plain(data))}], now)


def capture(ctx: AppContext, *, limit: int = BATCH) -> int:
    """Capture new events and queue their deliveries; returns how many new source rows were read.

    One write transaction: events, deliveries and the moved cursors commit
    together. The last LOOKBACK_IDS ids are read again (cheaply: sources
    already captured are only re-offered, which the unique keys make a no-op).
    """
    from shelfdesk.db.models import OrderEvent, WebhookSubscription

    now = ctx.clock.now()
    with ctx.write_session() as session:
        if session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 0:
            return 0
        start_cursors(session, now)
        from shelfdesk.db.models import Order

        # New orders first, so an order's "created" is queued before its later changes.
        orders_cursor = get_cursor(session, ORDERS_CURSOR) or 0
        orders_up_to = orders_cursor + limit
        orders_floor = get_cursor(session, ORDERS_CURSOR + FLOOR_SUFFIX) or 0
        created = _created_rows(session, _orders_query(after_id=max(orders_floor, orders_cursor - LOOKBACK_IDS), up_to=orders_up_to), now)
        orders_top = session.execute(select(func.max(Order.id)).where(Order.id <= orders_up_to)).scalar() or orders_cursor
        cursor = get_cursor(session, ORDER_CURSOR) or 0
        up_to = cursor + limit
        floor = get_cursor(session, ORDER_CURSOR + FLOOR_SUFFIX) or 0
        changes = _order_event_rows(session, _order_events_query(after_id=max(floor, cursor - LOOKBACK_IDS), up_to=up_to))
        top = session.execute(select(func.max(OrderEvent.id)).where(OrderEvent.id <= up_to)).scalar()
        # A change of an order not captured yet (past this run's limit) waits for the next run.
        early = [int(r["source_key"].split(":")[1]) for r in changes if int(r["ordering_key"].split(":")[1]) > orders_top]
        if early:
            top = min(early) - 1
            changes = [r for r in changes if int(r["source_key"].split(":")[1]) <= top]
        rows = created + changes
        read = sum(1 for r in created if int(r["ordering_key"].split(":")[1]) > orders_cursor)
        read += sum(1 for r in changes if int(r["source_key"].split(":")[1]) > cursor)
        _store_and_fan_out(session, rows, now)
        set_cursor(session, ORDERS_CURSOR, int(orders_top), now)
        if top is not None:
            set_cursor(session, ORDER_CURSOR, int(top), now)
        pub_cursor = get_cursor(session, PUBLICATION_CURSOR) or int(now.timestamp())
        pubs = _publication_rows(session, datetime.fromtimestamp(pub_cursor, tz=now.tzinfo) - PUBLICATION_LOOKBACK)
        _store_and_fan_out(session, pubs, now)
        set_cursor(session, PUBLICATION_CURSOR, int(now.timestamp()), now)
        return read + len(pubs)


def backfill(session: Session, subscription_id: int, since: datetime, now: datetime) -> int:
    """Queue, for one subscription, every event since ``since`` (captured now if it never was)."""
    rows = _created_rows(session, _orders_query(since=since), None) + _order_event_rows(session, _order_events_query(since=since))
    rows += _publication_rows(session, since)
    rows.sort(key=lambda r: (r["occurred_at"], r["source_key"]))
    return _store_and_fan_out(session, rows, now, [subscription_id])
