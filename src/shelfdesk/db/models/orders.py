"""Orders harvested from marketplaces, their lines, their history, and the action outbox.

An order is unique per (marketplace account, marketplace order id): an account
seen from two channels never yields the same order twice. Every list the Orders
screen shows has a composite index ending in ``(purchased_at, id)`` so keyset
paging (newest first) reads the index in order, with no temporary sort.
The text filter reads ``order_search_terms`` (one row per word of an order's
id, buyer name and e-mail; see ``orders/terms.py``) in the same order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, enum_field, id_field, json_field, money_field
from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace, NormalizedStatus


def _where_set(column: str) -> dict[str, Any]:
    """A partial index's condition, the same on SQLite and PostgreSQL: only the rows where ``column`` is set."""
    return {"sqlite_where": text(f"{column} IS NOT NULL"), "postgresql_where": text(f"{column} IS NOT NULL")}


class Order(ShelfModel, table=True):
    """One marketplace order as shelfdesk holds it.

    ``store_id`` is the store of ``channel_id`` (denormalized so the store
    filter has its own index); both stay None when no channel of the account
    covers the order's market.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "marketplace_order_id"),
        Index("ix_orders_channel_status_purchased", "channel_id", "status", "purchased_at", "id"),
        Index("ix_orders_channel_purchased", "channel_id", "purchased_at", "id"),
        Index("ix_orders_store_status_purchased", "store_id", "status", "purchased_at", "id"),
        Index("ix_orders_store_purchased", "store_id", "purchased_at", "id"),
        Index("ix_orders_status_purchased", "status", "purchased_at", "id"),
        Index("ix_orders_purchased", "purchased_at", "id"),
        Index("ix_orders_account_modified", "account_id", "modified_at"),
        Index("ix_orders_marketplace_order_id", "marketplace_order_id"),
        Index("ix_orders_address_missing_status", "address_missing", "status"),
        Index("ix_orders_unread_fields", "unread_fields"),
        # Marketplace-dated deadlines (status's counts, the deadline alerts); partial, see migration 0014.
        Index("ix_orders_status_accept_by", "status", "accept_by", **_where_set("accept_by")),
        Index("ix_orders_status_ship_by", "status", "ship_by", **_where_set("ship_by")),
    )

    id: int | None = id_field()
    account_id: int = Field(foreign_key="marketplace_accounts.id", ondelete="RESTRICT")
    channel_id: int | None = Field(default=None, foreign_key="channels.id", ondelete="SET NULL")
    store_id: int | None = Field(default=None, foreign_key="stores.id", ondelete="SET NULL")
    marketplace: Marketplace = enum_field(Marketplace)
    marketplace_order_id: str
    market: str | None = Field(default=None, max_length=16)
    country: str | None = Field(default=None, max_length=2)
    marketplace_status: str | None = None  #: raw, as the marketplace sent it
    status: NormalizedStatus = enum_field(NormalizedStatus, NormalizedStatus.New)
    purchased_at: datetime
    modified_at: datetime | None = None  #: the marketplace's last modification time
    harvested_at: datetime
    updated_at: datetime
    total: Decimal | None = money_field()
    shipping_price: Decimal | None = money_field()
    discount_total: Decimal | None = money_field()
    currency: str | None = Field(default=None, max_length=3)
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_phone: str | None = None
    shipping_address: dict[str, Any] | None = json_field(nullable=True)  #: None until revealed
    billing_address: dict[str, Any] | None = json_field(nullable=True)
    shipping_method: str | None = None
    payment_method: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    address_missing: bool = False  #: accepted yet still without a shipping address
    gift: bool = False
    weight_grams: int | None = None
    accept_by: datetime | None = None  #: marketplace deadline to accept / confirm availability
    ship_by: datetime | None = None  #: marketplace deadline to ship
    hold_reason: str | None = None  #: why auto-accept left it New
    buyer_note: str | None = Field(default=None, sa_type=Text)
    internal_note: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = json_field()  #: the marketplace's raw order
    #: Actions the marketplace allows in its current state (comma-separated ActionKind values,
    #: from the connector's reading of raw states); None until harvested. Last column: added by 0003.
    allowed_actions: str | None = None
    #: Fields of the marketplace's copy that could not be read (comma-separated), None when all were:
    #: the order is kept with ``payload`` as sent, and an alert names them. Added by 0008.
    unread_fields: str | None = None


#: A search term compares as plain code points everywhere, so a prefix is an index range
#: (on PostgreSQL a linguistic collation would order "ab-c" among "abc…").
SEARCH_TERM_TYPE = String(120).with_variant(String(120, collation="C"), "postgresql")


class OrderSearchTerm(ShelfModel, table=True):
    """One word an order is found by (see ``orders/terms.py``), written with the order.

    ``purchased_at`` repeats the order's (which never changes) so the index
    ``(term, purchased_at, order_id)`` gives a word's orders newest first:
    the text filter pages like every other list, with no sort. The primary key
    ``(order_id, term)`` answers "has this order a word starting with …" and
    deletes an order's words. No rowid on SQLite: two B-trees instead of three
    on the harvest's write path (the option means nothing to PostgreSQL).
    """

    __tablename__ = "order_search_terms"
    __table_args__ = (
        Index("ix_order_search_terms_term_purchased", "term", "purchased_at", "order_id"),
        {"sqlite_with_rowid": False},
    )

    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", primary_key=True)
    term: str = Field(primary_key=True, sa_type=SEARCH_TERM_TYPE)
    purchased_at: datetime


class OrderLine(ShelfModel, table=True):
    """One line of an order; unique per (order, marketplace line id) so harvests upsert it."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "marketplace_line_id"),
        Index("ix_order_lines_sku", "sku"),
    )

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    marketplace_line_id: str  #: the marketplace's id, or one the connector derives stably
    sku: str | None = None
    title: str | None = None
    quantity: int = 1
    unit_price: Decimal | None = money_field()
    marketplace_status: str | None = None
    status: NormalizedStatus = enum_field(NormalizedStatus, NormalizedStatus.New)
    imei: str | None = Field(default=None, max_length=15)
    serial_number: str | None = Field(default=None, max_length=50)
    stock_location: str | None = None
    weight_grams: int | None = None
    options: dict[str, Any] = json_field()  #: colour, size …


class OrderEvent(ShelfModel, table=True):
    """One change in an order's history (status, amount, address, action …)."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order_at", "order_id", "at", "id"),
        Index("ix_order_events_at", "at"),  # retention by age
    )

    id: int | None = id_field(big=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    at: datetime
    source: EventSource = enum_field(EventSource)
    kind: str = Field(max_length=32)  #: created, status_changed, amount_changed, address_changed, unreadable, action_* …
    field: str | None = None
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    actor: str | None = None  #: OS user, rule name or process
    message: str | None = Field(default=None, sa_type=Text)


class OrderAction(ShelfModel, table=True):
    """The outbox: an action an operator or a rule asked for, until the marketplace shows it.

    A sender claims a row with a conditional UPDATE (``... WHERE id = :id AND
    state = 'pending'``), so two processes never send the same action;
    ``claimed_by``/``claimed_at`` tell a stale claim (crashed sender) apart.
    ``idempotency_key`` makes queuing the same request twice a no-op.
    """

    __tablename__ = "order_actions"
    __table_args__ = (
        Index("ix_order_actions_state_next", "state", "next_attempt_at"),
        Index("ix_order_actions_order_state", "order_id", "state"),
        Index("ix_order_actions_batch", "batch_key"),
        Index("ix_order_actions_sent_at", "sent_at", **_where_set("sent_at")),  # accepted recently (status's counts)
        Index("ix_order_actions_confirmed_at", "confirmed_at", **_where_set("confirmed_at")),
    )

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    kind: ActionKind = enum_field(ActionKind)
    payload: dict[str, Any] = json_field()
    state: ActionState = enum_field(ActionState, ActionState.pending)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    error_code: str | None = None
    idempotency_key: str = Field(unique=True)
    batch_key: str | None = None  #: groups the actions of one bulk operation for its progress bar
    actor: str | None = None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None  #: not before; None = now
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    confirmed_at: datetime | None = None
