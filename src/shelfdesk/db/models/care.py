"""After-sales (Care): cases and their threads, refunds, returned units, saved replies, harvest cursors.

A case is unique per (marketplace account, the marketplace's case id), like an
order; its claims (the lines the buyer complains about) are a JSON document on
the case since they are only ever read with it. Messages and attachments are
rows: a thread grows, and an attachment is downloaded on demand.

``care_refunds`` holds every refund shelfdesk knows of, asked here (with the
outbox action that sends it) or seen in an order harvest (a line that became
refunded): its unique ``refund_key`` makes recording the same refund twice a
no-op, and its credit note is issued in the same transaction that records it.

``returned_units`` is the "returned, to inspect" stock: units the publishable
quantity holds back until an operator releases them.

``care_budget`` counts the Care calls of each account per UTC day, so the
daily limits hold across processes and restarts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field, json_field, money_field


class CareCase(ShelfModel, table=True):
    __tablename__ = "care_cases"
    __table_args__ = (
        UniqueConstraint("account_id", "case_ref"),
        Index("ix_care_cases_state_due_at", "state", "due_at"),
        Index("ix_care_cases_order_id", "order_id"),
    )

    id: int | None = id_field()
    account_id: int = Field(foreign_key="marketplace_accounts.id", ondelete="RESTRICT")
    channel_id: int | None = Field(default=None, foreign_key="channels.id", ondelete="SET NULL")
    order_id: int | None = Field(default=None, foreign_key="orders.id", ondelete="SET NULL")
    marketplace: str = Field(max_length=32)
    case_ref: str = Field(max_length=64)  #: the marketplace's id
    state: str = Field(max_length=16)  #: open / closed / unknown
    raw_state: str | None = None
    order_ref: str | None = None
    line_ref: str | None = None  #: the order line the case is about
    sku: str | None = None
    buyer_name: str | None = None
    buyer_email: str | None = None
    country_code: str | None = Field(default=None, max_length=16)
    problem: str | None = Field(default=None, sa_type=Text)  #: the buyer's issues, comma-separated
    resolution: str | None = Field(default=None, max_length=32)  #: the buyer's chosen resolution
    return_label: str | None = Field(default=None, max_length=16)  #: state of the latest return label
    opened_at: datetime
    modified_at: datetime | None = None
    last_message_at: datetime | None = None
    last_message_from: str | None = Field(default=None, max_length=16)
    closed_at: datetime | None = None
    messages_count: int = 0
    due_at: datetime | None = None
    due_what: str | None = Field(default=None, max_length=16)
    detailed_at: datetime | None = None  #: when the detail (thread) was last read
    harvested_at: datetime
    updated_at: datetime
    claims: dict[str, Any] = json_field()  #: {"claims": [...]} as read from the detail
    payload: dict[str, Any] = json_field()  #: the marketplace's raw folder (detail when read)
    unread_fields: str | None = None


class CareMessage(ShelfModel, table=True):
    __tablename__ = "care_messages"
    __table_args__ = (
        UniqueConstraint("case_id", "message_ref"),
        Index("ix_care_messages_case_id_sent_at", "case_id", "sent_at"),
    )

    id: int | None = id_field(big=True)
    case_id: int = Field(foreign_key="care_cases.id", ondelete="CASCADE")
    message_ref: str = Field(max_length=64)
    sent_at: datetime | None = None
    sender: str = Field(max_length=16)  #: buyer / merchant / backmarket
    initiator: str | None = None
    kind: str | None = None
    body: str = Field(default="", sa_type=Text)
    informative: bool = False
    payload: dict[str, Any] = json_field()


class CareAttachment(ShelfModel, table=True):
    __tablename__ = "care_attachments"
    __table_args__ = (UniqueConstraint("case_id", "url"),)

    id: int | None = id_field(big=True)
    case_id: int = Field(foreign_key="care_cases.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="care_messages.id", ondelete="SET NULL", sa_type=BigInteger)
    attachment_ref: str | None = None
    url: str
    name: str
    created_at: datetime | None = None
    local_path: str | None = None  #: relative to the workspace, once downloaded
    downloaded_at: datetime | None = None


class CareRefund(ShelfModel, table=True):
    __tablename__ = "care_refunds"
    __table_args__ = (Index("ix_care_refunds_order_id", "order_id", "id"),)

    id: int | None = id_field(big=True)
    refund_key: str = Field(unique=True)  #: action:<id> for ours, seen:<order>:<line>… for the marketplace's
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    order_line_id: int | None = Field(default=None, foreign_key="order_lines.id", ondelete="SET NULL", sa_type=BigInteger)
    case_id: int | None = Field(default=None, foreign_key="care_cases.id", ondelete="SET NULL")
    line_ref: str | None = None
    sku: str | None = None
    amount: Decimal = money_field(nullable=False)
    currency: str = Field(max_length=3)
    refund_type: int | None = None
    source: str = Field(max_length=16)  #: shelfdesk / marketplace
    state: str = Field(max_length=16)  #: pending / sent / confirmed / failed
    reason: str | None = Field(default=None, sa_type=Text)
    action_id: int | None = None  #: the order_actions row that sends it (ours)
    credit_note_id: int | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT")
    created_at: datetime
    confirmed_at: datetime | None = None
    created_by: str = Field(max_length=128)


class ReturnedUnit(ShelfModel, table=True):
    __tablename__ = "returned_units"
    __table_args__ = (Index("ix_returned_units_store_id_state_sku", "store_id", "state", "sku"),)

    id: int | None = id_field()
    unit_key: str = Field(unique=True)  #: what it came back from (refund:<id>), so it is recorded once
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE")
    sku: str
    quantity: int = 1
    state: str = Field(max_length=16)  #: to_inspect / sellable / written_off
    order_id: int | None = Field(default=None, foreign_key="orders.id", ondelete="SET NULL")
    refund_id: int | None = Field(default=None, foreign_key="care_refunds.id", ondelete="SET NULL", sa_type=BigInteger)
    case_ref: str | None = None
    reason: str | None = Field(default=None, sa_type=Text)
    returned_at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    note: str | None = Field(default=None, sa_type=Text)


class CareSavedReply(ShelfModel, table=True):
    __tablename__ = "care_saved_replies"
    __table_args__ = (UniqueConstraint("name", "language"),)

    id: int | None = id_field()
    name: str = Field(max_length=64)
    language: str = Field(max_length=8)
    body: str = Field(sa_type=Text)
    created_at: datetime
    updated_at: datetime


class CareCursor(ShelfModel, table=True):
    """Where an account's Care harvest stands and when it polls next (the adaptive interval)."""

    __tablename__ = "care_cursors"

    account_id: int = Field(primary_key=True, foreign_key="marketplace_accounts.id", ondelete="CASCADE")
    modified_watermark: datetime | None = None
    message_watermark: datetime | None = None
    last_poll_at: datetime | None = None
    next_poll_at: datetime | None = None
    interval_seconds: int = 300
    note: str | None = Field(default=None, sa_type=Text)  #: the budget line the Jobs screen shows
    updated_at: datetime


class CareBudget(ShelfModel, table=True):
    """Calls made per account, UTC day and Care endpoint (list, detail, message, problem, transfer, refund)."""

    __tablename__ = "care_budget"

    account_id: int = Field(primary_key=True, foreign_key="marketplace_accounts.id", ondelete="CASCADE")
    day: str = Field(primary_key=True, max_length=10)
    endpoint: str = Field(primary_key=True, max_length=16)
    calls: int = 0
