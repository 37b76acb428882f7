"""Writing marketplace orders into the database: idempotent upserts, history events, confirmations.

One function, :func:`store_remote_orders`, is used by the harvest (a page at a
time) and by the outbox sender (the order the marketplace returned after an
action), so an order looks the same whichever way it arrived:

* rows are upserted through Core executemany on (account, marketplace order
  id) and (order, marketplace line id): running it twice changes nothing, and
  an older copy of an order (the marketplace may list one twice while it
  changes) never overwrites a newer one (``modified_at`` guard);
* what only shelfdesk knows is never erased by a marketplace that stays
  silent about it: a tracking number kept locally (Leboncoin takes none), an
  address once revealed, an IMEI once set. Internal notes, hold reasons and
  the outbox are not columns of the upsert at all, so a harvest never touches
  a pending action;
* every change of status, amount or address becomes an order event with its
  source (harvest, operator, rule);
* an action waiting in ``synchronizing`` is confirmed as soon as the
  marketplace's state shows it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace, NormalizedStatus, OrderScope
from shelfdesk.orders.validation import format_allowed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import RemoteOrder

S = NormalizedStatus

#: Columns a marketplace's silence never erases (None from the marketplace keeps the stored value).
STICKY_ORDER_COLUMNS = ("buyer_name", "buyer_email", "buyer_phone", "shipping_address", "billing_address",
                        "carrier", "tracking_number", "tracking_url", "shipping_method", "payment_method")  # fmt: skip
STICKY_LINE_COLUMNS = ("imei", "serial_number")
ORDER_KEY = ("account_id", "marketplace_order_id")
#: Never in an update's SET list: they cannot change, and leaving them out spares SQLite
#: rewriting the six indexes that hold the purchase time.
IMMUTABLE_COLUMNS = frozenset({"marketplace", "purchased_at"})
LINE_KEY = ("order_id", "marketplace_line_id")
#: Lines of an IN (...) query: well under SQLite's variable limit.
CHUNK = 500


@dataclass(frozen=True)
class ChannelScope:
    """One channel of an account, as the harvest needs it."""

    id: int
    store_id: int
    name: str
    market: str
    country: str
    scope: OrderScope
    orders_enabled: bool = True
    auto_accept: bool = False
    activated_at: datetime | None = None


@dataclass(frozen=True)
class AccountScope:
    """An account and its channels: which channel each harvested order belongs to."""

    account_id: int
    marketplace: Marketplace
    channels: tuple[ChannelScope, ...]

    def channel_for(self, country: str | None) -> ChannelScope | None:
        """The channel of the order's market; an account-scoped channel takes the other countries.

        None means no channel of this account manages that market's orders
        (scope "market" everywhere, or orders turned off for it).
        """
        enabled = [c for c in self.channels if c.orders_enabled]
        if country:
            exact = [c for c in self.channels if c.country.upper() == country.upper()]
            if exact:
                return exact[0] if exact[0].orders_enabled else None
            return next((c for c in enabled if c.scope is OrderScope.account), None)
        # No country yet (address hidden until accepted): never drop the order.
        if len(enabled) == 1:
            return enabled[0]
        return next((c for c in enabled if c.scope is OrderScope.account), enabled[0] if enabled else None)


def load_scope(session: Session, account_id: int) -> AccountScope:
    from shelfdesk.db.models import Channel, MarketplaceAccount

    account = session.get(MarketplaceAccount, account_id)
    if account is None:
        raise LookupError(f"marketplace account {account_id} does not exist")
    rows = session.execute(select(Channel).where(Channel.account_id == account_id).order_by(Channel.id)).scalars()
    channels = tuple(
        ChannelScope(c.id, c.store_id, c.name, c.market, c.country, OrderScope(c.orders_scope), c.orders_enabled and c.enabled,
                     c.auto_accept, c.activated_at)  # fmt: skip
        for c in rows
    )
    return AccountScope(account.id, Marketplace(account.marketplace), channels)


@dataclass
class StoreOutcome:
    """What one call stored."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    stale: int = 0  #: older copies ignored (a newer one is stored)
    out_of_scope: int = 0
    events: int = 0
    confirmed_actions: int = 0
    ids: dict[str, int] = field(default_factory=dict)  #: marketplace order id -> orders.id

    def add(self, other: StoreOutcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.out_of_scope += other.out_of_scope
        self.events += other.events
        self.confirmed_actions += other.confirmed_actions
        self.ids.update(other.ids)


@dataclass(frozen=True)
class _Existing:
    id: int
    status: str
    marketplace_status: str | None
    total: Decimal | None
    shipping_price: Decimal | None
    shipping_address: dict[str, Any] | None
    modified_at: datetime | None


def store_remote_orders(
    session: Session,
    scope: AccountScope,
    remotes: Iterable[RemoteOrder],
    now: datetime,
    *,
    source: EventSource = EventSource.harvest,
    actor: str | None = None,
) -> StoreOutcome:
    """Upsert ``remotes`` (one account's orders) with their lines and events; nothing is committed here."""
    from shelfdesk.db.models import Order

    outcome = StoreOutcome()
    latest: dict[str, RemoteOrder] = {}
    for remote in remotes:  # the same order may come twice: keep the latest copy
        kept = latest.get(remote.remote_id)
        if kept is None or remote.modified_at >= kept.modified_at:
            latest[remote.remote_id] = remote
    placed: list[tuple[RemoteOrder, ChannelScope | None]] = []
    for remote in latest.values():
        channel = scope.channel_for(remote.country)
        if channel is None:
            outcome.out_of_scope += 1
            continue
        placed.append((remote, channel))
    if not placed:
        return outcome

    existing = _existing(session, scope.account_id, [r.remote_id for r, _ in placed])
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    writing: list[RemoteOrder] = []
    pending_events: dict[str, list[dict[str, Any]]] = {}
    for remote, channel in placed:
        old = existing.get(remote.remote_id)
        if old is not None and old.modified_at is not None and remote.modified_at < old.modified_at:
            outcome.stale += 1
            continue
        changes = _changes(old, remote, now, source, actor)
        if old is not None and not changes and remote.modified_at == old.modified_at and source is EventSource.harvest:
            outcome.unchanged += 1
            outcome.ids[remote.remote_id] = old.id
            continue
        rows.append(_order_row(scope, channel, remote, now, old))
        writing.append(remote)
        pending_events[remote.remote_id] = changes
    if not rows:
        return outcome

    _upsert_sticky(session, Order, rows, ORDER_KEY, STICKY_ORDER_COLUMNS, guard_modified=True)
    ids = _ids(session, scope.account_id, [r.remote_id for r in writing])
    outcome.ids.update(ids)
    for remote in writing:
        order_id = ids[remote.remote_id]
        (outcome.updated if remote.remote_id in existing else outcome.created).append(order_id)
        for event in pending_events[remote.remote_id]:
            events.append({**event, "order_id": order_id})
    _store_lines(session, writing, ids)
    if events:
        from shelfdesk.db.models import OrderEvent

        session.execute(insert(OrderEvent.__table__), events)
        outcome.events = len(events)
    outcome.confirmed_actions = confirm_visible_actions(session, {ids[r.remote_id]: r for r in writing}, now)
    return outcome


# ---------------------------------------------------------------------- rows


def _order_row(scope: AccountScope, channel: ChannelScope | None, remote: RemoteOrder, now: datetime,
               old: _Existing | None) -> dict[str, Any]:  # fmt: skip
    # Hot path of the harvest (tens of thousands of orders a second): plain lookups, few calls.
    raw = remote.raw or {}
    get = raw.get
    address = dict(remote.shipping_address) if remote.shipping_address else None
    billing = get("billing_address")
    buyer = get("buyer")
    if not isinstance(buyer, Mapping):
        buyer = {}
    shipping = get("shipping")
    status = remote.status
    deadline = remote.deadline
    email = phone = None
    if address:
        email, phone = address.get("email"), address.get("phone")
    return {
        "account_id": scope.account_id,
        "channel_id": channel.id if channel else None,
        "store_id": channel.store_id if channel else None,
        "marketplace": scope.marketplace,
        "marketplace_order_id": remote.remote_id,
        "market": channel.market if channel else None,
        "country": (remote.country or "").upper()[:2] or None,
        "marketplace_status": remote.raw_status,
        "status": status,
        "purchased_at": remote.created_at,
        "modified_at": remote.modified_at,
        "harvested_at": now,
        "updated_at": now,
        "total": remote.total,
        "shipping_price": remote.shipping_price,
        "discount_total": _decimal(get("discount_total") or get("discount") or get("coupon_amount")),
        "currency": remote.currency,
        "buyer_name": remote.customer_name or _text(buyer.get("name")),
        "buyer_email": _text(email or buyer.get("email") or get("customer_email")),
        "buyer_phone": _text(phone or buyer.get("phone")),
        "shipping_address": address,
        "billing_address": dict(billing) if billing and isinstance(billing, Mapping) else None,
        "shipping_method": _text(get("shipping_method") or (shipping.get("method") if isinstance(shipping, Mapping) else None)),
        "payment_method": _text(get("payment_method")),
        "carrier": remote.shipper,
        "tracking_number": remote.tracking_number,
        "tracking_url": _text(get("tracking_url")),
        "address_missing": status is S.InProgress and not (address or (old and old.shipping_address)),
        "gift": bool(get("gift") or get("is_gift")),
        "weight_grams": _int(get("weight_grams") or get("weight")),
        "accept_by": deadline if status is S.New else None,
        "ship_by": deadline if status is S.InProgress else None,
        "buyer_note": _text(get("buyer_note") or get("buyer_message") or get("customer_note")),
        "payload": raw,
        "allowed_actions": format_allowed(remote.allowed_actions),
    }


def _store_lines(session: Session, remotes: Sequence[RemoteOrder], ids: Mapping[str, int]) -> None:
    from shelfdesk.db.models import OrderLine

    rows = []
    for remote in remotes:
        order_id = ids[remote.remote_id]
        for line in remote.lines:
            raw = line.raw or {}
            options = {k: str(raw[k]) for k in ("color", "colour", "size", "storage", "grade", "condition") if raw.get(k) not in (None, "")}
            rows.append({
                "order_id": order_id, "marketplace_line_id": line.remote_id, "sku": line.sku or None,
                "title": line.title or None, "quantity": line.quantity, "unit_price": line.unit_price,
                "marketplace_status": line.raw_status, "status": line.status, "imei": line.imei,
                "serial_number": line.serial_number, "options": options,
            })  # fmt: skip
    if rows:
        _upsert_sticky(session, OrderLine, rows, LINE_KEY, STICKY_LINE_COLUMNS)


def _upsert_sticky(session: Session, model: Any, rows: list[dict[str, Any]], key: Sequence[str],
                   sticky: Sequence[str], *, guard_modified: bool = False) -> None:  # fmt: skip
    """Upsert in groups so a None in a sticky column leaves the stored value alone."""
    from shelfdesk.db.upsert import excluded, upsert_rows

    where = None
    if guard_modified:
        table = model.__table__
        new = excluded(model, session)
        where = (table.c.modified_at.is_(None)) | (new.modified_at >= table.c.modified_at)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(c for c in sticky if row.get(c) in (None, {}, ""))].append(row)
    every = [c for c in rows[0] if c not in key and c not in IMMUTABLE_COLUMNS]
    for silent, group in groups.items():
        upsert_rows(session, model, group, key, [c for c in every if c not in silent], update_where=where)


def _existing(session: Session, account_id: int, remote_ids: Sequence[str]) -> dict[str, _Existing]:
    from shelfdesk.db.models import Order

    found: dict[str, _Existing] = {}
    for start in range(0, len(remote_ids), CHUNK):
        chunk = remote_ids[start : start + CHUNK]
        rows = session.execute(
            select(Order.marketplace_order_id, Order.id, Order.status, Order.marketplace_status, Order.total,
                   Order.shipping_price, Order.shipping_address, Order.modified_at)  # fmt: skip
            .where(Order.account_id == account_id, Order.marketplace_order_id.in_(chunk))  # type: ignore[attr-defined]
        )
        for r in rows:
            found[r[0]] = _Existing(r[1], str(r[2]), r[3], r[4], r[5], r[6], r[7])
    return found


def _ids(session: Session, account_id: int, remote_ids: Sequence[str]) -> dict[str, int]:
    from shelfdesk.db.models import Order

    ids: dict[str, int] = {}
    for start in range(0, len(remote_ids), CHUNK):
        chunk = remote_ids[start : start + CHUNK]
        rows = session.execute(
            select(Order.marketplace_order_id, Order.id).where(
                Order.account_id == account_id, Order.marketplace_order_id.in_(chunk)  # type: ignore[attr-defined]
            )
        )
        ids.update({r[0]: r[1] for r in rows})
    return ids


# ---------------------------------------------------------------------- events


def _changes(old: _Existing | None, remote: RemoteOrder, now: datetime, source: EventSource,
             actor: str | None) -> list[dict[str, Any]]:  # fmt: skip
    """Events for what changed between the stored order and the marketplace's copy."""

    def event(kind: str, fld: str | None, before: Any, after: Any, message: str | None = None) -> dict[str, Any]:
        return {"at": now, "source": source, "kind": kind, "field": fld, "old_value": before,
                "new_value": after, "actor": actor, "message": message}  # fmt: skip

    if old is None:
        # A first sight is not a change (the order's harvested_at says when it arrived); one row
        # less per new order keeps the harvest fast. Orders created by an action still get one.
        if source is EventSource.harvest:
            return []
        return [event("created", "status", None, remote.status.value, f"marketplace status {remote.raw_status}")]
    changes = []
    if old.status != remote.status.value:
        changes.append(event("status_changed", "status", old.status, remote.status.value,
                             f"marketplace status {old.marketplace_status} → {remote.raw_status}"))  # fmt: skip
    elif (old.marketplace_status or None) != (remote.raw_status or None):
        changes.append(event("status_changed", "marketplace_status", old.marketplace_status, remote.raw_status))
    if old.total != remote.total:
        changes.append(event("amount_changed", "total", _money(old.total), _money(remote.total)))
    if old.shipping_price != remote.shipping_price:
        changes.append(event("amount_changed", "shipping_price", _money(old.shipping_price), _money(remote.shipping_price)))
    new_address = dict(remote.shipping_address) if remote.shipping_address else None
    if new_address and new_address != (old.shipping_address or None):
        message = "address revealed" if not old.shipping_address else "address changed"
        changes.append(event("address_changed", "shipping_address", format_address(old.shipping_address),
                             format_address(new_address), message))  # fmt: skip
    return changes


def format_address(address: Mapping[str, Any] | None) -> str | None:
    """One line for an address: name, street, postal code and city, country."""
    if not address:
        return None
    name = " ".join(str(address[k]) for k in ("first_name", "last_name") if address.get(k)) or str(address.get("name") or "")
    street = " ".join(str(address[k]) for k in ("street", "street2") if address.get(k))
    city = " ".join(str(address[k]) for k in ("postal_code", "zip", "city") if address.get(k))
    return ", ".join(p for p in (name, address.get("company") or "", street, city, str(address.get("country") or "")) if p)


# ---------------------------------------------------------------------- confirmation


def action_visible(kind: ActionKind | str, payload: Mapping[str, Any], remote: RemoteOrder) -> bool:
    """True when the marketplace's state shows ``kind`` applied (the outbox's definition of done)."""
    kind = ActionKind(kind)
    skus = list(payload.get("skus") or [])
    lines = [remote.line_by_sku(s) for s in skus] if skus else list(remote.lines)
    if kind is ActionKind.accept:
        return bool(lines) and all(l is not None and l.status in (S.InProgress, S.Shipped, S.Closed) for l in lines)
    if kind is ActionKind.cancel:
        if skus:
            return all(l is not None and l.status is S.Canceled for l in lines)
        return remote.status is S.Canceled
    if kind is ActionKind.confirm_availability:
        return remote.status in (S.InProgress, S.Shipped, S.Closed)
    if kind in (ActionKind.ship, ActionKind.confirm_shipping):
        if remote.status not in (S.Shipped, S.Closed):
            return False
        ours = (payload.get("fields") or {}).get("tracking_number")
        # A marketplace that reports a tracking number must report ours; one that never does (Leboncoin) cannot.
        return not (ours and remote.tracking_number and remote.tracking_number != ours)
    return False


def confirm_visible_actions(session: Session, remotes: Mapping[int, RemoteOrder], now: datetime) -> int:
    """Mark ``synchronizing`` actions confirmed where the marketplace's state now shows them."""
    from shelfdesk.db.models import OrderAction

    if not remotes:
        return 0
    confirmed = 0
    order_ids = list(remotes)
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        rows = session.execute(
            select(OrderAction.id, OrderAction.order_id, OrderAction.kind, OrderAction.payload, OrderAction.actor).where(
                OrderAction.order_id.in_(chunk), OrderAction.state == ActionState.synchronizing  # type: ignore[attr-defined]
            )
        ).all()
        for action_id, order_id, kind, payload, actor in rows:
            if action_visible(kind, payload or {}, remotes[order_id]):
                confirmed += mark_confirmed(session, action_id, order_id, ActionKind(kind), payload or {}, now, actor)
    return confirmed


def mark_confirmed(session: Session, action_id: int, order_id: int, kind: ActionKind, payload: Mapping[str, Any],
                   now: datetime, actor: str | None) -> int:  # fmt: skip
    """Confirm one action (only if still open), keep its local fields on the order, add the event."""
    from shelfdesk.db.models import Order, OrderAction, OrderEvent

    result = session.execute(
        update(OrderAction)
        .where(OrderAction.id == action_id, OrderAction.state.in_([s.value for s in ActionState if s.is_open]))  # type: ignore[attr-defined]
        .values(state=ActionState.confirmed, confirmed_at=now, updated_at=now, claimed_by=None, claimed_at=None,
                next_attempt_at=None)  # fmt: skip
    )
    if not result.rowcount:
        return 0
    local = {k: v for k, v in (payload.get("local") or {}).items() if k in ("carrier", "tracking_number", "tracking_url")}
    if local:
        session.execute(update(Order).where(Order.id == order_id).values(**local, updated_at=now))
    session.add(OrderEvent(order_id=order_id, at=now, source=_source_for(actor), kind="action_confirmed",
                           field=kind.value, actor=actor, message=f"{kind.value} confirmed by the marketplace's state"))  # fmt: skip
    return 1


def _source_for(actor: str | None) -> EventSource:
    return EventSource.rule if actor and actor.startswith("rule:") else EventSource.operator


# ---------------------------------------------------------------------- small converters


def _first(raw: Mapping[str, Any], *paths: str | tuple[str, ...]) -> Any:
    for path in paths:
        value: Any = raw
        for key in (path,) if isinstance(path, str) else path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value not in (None, "", {}):
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Mapping):
        value = value.get("amount")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
