"""Push notifications: subscriptions, the events they receive, the delivery queue and its log.

Events are captured once (``webhook_events``, unique ``event_uid``) and fanned
out to one delivery per subscription (``webhook_deliveries``). The queue is
persistent: a delivery stays ``pending`` until the receiver answers 2xx, across
restarts and outages (at-least-once). Deliveries of one subscription that share
an ``ordering_key`` (the order, or the publication) go strictly in id order.
Every attempt is logged in ``webhook_attempts`` with its status code, duration
and error. The per-subscription HMAC secret is never stored here: the
subscription keeps a reference into the workspace secrets file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import BigIntId, ShelfModel, id_field, json_field


class WebhookSubscription(ShelfModel, table=True):
    """A receiver URL and the event types it wants."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = id_field()
    name: str = Field(unique=True, max_length=64)
    url: str
    events: str  #: comma-separated event types, e.g. "order.created,order.status_changed"
    secret_ref: str  #: ``secret:NAME`` in the workspace secrets file, never the secret itself
    state: str = Field(default="active", max_length=16)  #: active or paused
    paused_reason: str | None = Field(default=None, sa_type=Text)
    auto_paused: bool = False  #: paused by shelfdesk after failures (an alert), not by an operator
    max_failures: int = 10  #: failures in a row that pause the subscription
    failures_in_a_row: int = 0
    since: datetime  #: events older than this are not delivered (creation time, or the backfill date)
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime
    updated_at: datetime


class WebhookEvent(ShelfModel, table=True):
    """One thing that happened, with the order or publication as shelfdesk held it then."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_occurred", "occurred_at", "id"),)

    id: int | None = id_field(big=True)
    event_uid: str = Field(unique=True, max_length=64)  #: the id receivers see and deduplicate on
    type: str = Field(max_length=48)
    ordering_key: str = Field(max_length=64)  #: "order:12", "publication:3"
    source_key: str | None = Field(default=None, max_length=64, unique=True)  #: what it was captured from
    occurred_at: datetime
    payload: dict[str, Any] = json_field()


class WebhookDelivery(ShelfModel, table=True):
    """One event owed to one subscription (``replay`` > 0 for an operator's replays)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", "replay"),
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_sub_key", "subscription_id", "ordering_key", "state", "id"),
        Index("ix_webhook_deliveries_sub_id", "subscription_id", "id"),
        Index("ix_webhook_deliveries_event", "event_id"),
    )

    id: int | None = id_field(big=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="webhook_events.id", ondelete="CASCADE", sa_type=BigIntId)
    replay: int = 0
    ordering_key: str = Field(max_length=64)
    state: str = Field(default="pending", max_length=16)  #: pending, delivering, delivered
    attempts: int = 0
    next_attempt_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime
    delivered_at: datetime | None = None


class WebhookAttempt(ShelfModel, table=True):
    """The delivery log: one POST and what came of it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_sub_at", "subscription_id", "at", "id"),
        Index("ix_webhook_attempts_delivery", "delivery_id"),
    )

    id: int | None = id_field(big=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    delivery_id: int | None = Field(default=None, foreign_key="webhook_deliveries.id", ondelete="CASCADE", sa_type=BigIntId)
    event_uid: str = Field(max_length=64)
    event_type: str = Field(max_length=48)
    attempt: int
    at: datetime
    status_code: int | None = None
    duration_ms: int
    ok: bool
    error: str | None = Field(default=None, sa_type=Text)


class WebhookCursor(ShelfModel, table=True):
    """How far event capture has read a source (the last ``order_events.id`` seen …)."""

    __tablename__ = "webhook_cursors"

    name: str = Field(primary_key=True, max_length=32)
    #: An ``order_events.id`` (BIGINT) or Unix seconds (past 2038): BIGINT since migration 0007.
    position: int = Field(default=0, sa_type=BigIntId)
    updated_at: datetime
