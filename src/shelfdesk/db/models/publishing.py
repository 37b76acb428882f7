"""Publications of a channel's feeds and the per-item outcome of each.

Items are the unit support staff triage: one row per product a run built,
with what it planned (``action``), what happened (``outcome``) and the
marketplace's message, grouped for triage by ``error_key``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import BigIntId, ShelfModel, enum_field, id_field, json_field, money_field
from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode, PublicationState


class Publication(ShelfModel, table=True):
    """One run of one feed (products or offers) of a channel, with its counters."""

    __tablename__ = "publications"
    __table_args__ = (
        Index("ix_publications_channel_started", "channel_id", "started_at", "id"),
        Index("ix_publications_state", "state"),
        # The history of every channel, newest first.
        Index("ix_publications_started", "started_at", "id"),
    )

    id: int | None = id_field()
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    kind: PublicationKind = enum_field(PublicationKind)
    mode: PublicationMode = enum_field(PublicationMode)
    state: PublicationState = enum_field(PublicationState, PublicationState.queued)
    dry_run: bool = False
    started_by: str | None = None  #: an OS user, or "scheduler"
    holder: str | None = None  #: the process running it (host:pid), to spot interrupted runs
    started_at: datetime
    finished_at: datetime | None = None
    items_total: int = 0  #: built from the catalog
    excluded: int = 0
    invalid: int = 0  #: refused by validation, never sent
    sent: int = 0
    succeeded: int = 0
    warnings: int = 0
    failed: int = 0
    skipped: int = 0
    queued: int = 0  #: over quota, carried to the next run
    remote_task_id: str | None = None  #: the marketplace's task id (items keep their own batch's)
    error: str | None = None  #: why the run as a whole failed
    # Appended by migration 0004 (hence last):
    #: Items this run meant to send (the "N" of the progress "n of N"); None before planning.
    planned: int | None = None
    #: What the counters do not say: skip reasons with counts, quota, warnings, the SKUs a
    #: re-publish was restricted to. Never secrets.
    summary: dict[str, Any] | None = json_field(nullable=True)


class PublicationItem(ShelfModel, table=True):
    """What one publication planned and achieved for one SKU."""

    __tablename__ = "publication_items"
    __table_args__ = (
        # One publication's items, paged by id.
        Index("ix_publication_items_publication", "publication_id", "id"),
        # Triage: failed items grouped by error (GROUP BY error_key reads the index in order),
        # one group paged by id, "failed only" ordered by (error_key, id).
        Index("ix_publication_items_outcome_error", "publication_id", "outcome", "error_key", "id"),
        # A product's history across publications; one publication filtered by SKU.
        Index("ix_publication_items_sku", "sku", "publication_id"),
        Index("ix_publication_items_product", "product_id"),
    )

    id: int | None = id_field(big=True)
    publication_id: int = Field(foreign_key="publications.id", ondelete="CASCADE")
    product_id: int | None = Field(default=None, foreign_key="products.id", ondelete="SET NULL", sa_type=BigIntId)
    sku: str
    action: ItemAction = enum_field(ItemAction)
    outcome: ItemOutcome = enum_field(ItemOutcome, ItemOutcome.queued)
    old_price: Decimal | None = money_field()
    new_price: Decimal | None = money_field()
    old_quantity: int | None = None
    new_quantity: int | None = None
    message: str | None = None  #: the marketplace's or the validator's message, verbatim
    error_code: str | None = None
    error_key: str | None = None  #: normalized message or code, to group failures
    attribute: str | None = None  #: the attribute at fault, to jump to its mapping
    warning: str | None = None  #: published, with this warning
    remote_task_id: str | None = None  #: the task this item was sent in
    sent_at: datetime | None = None
    resolved_at: datetime | None = None  #: when its outcome became known
    #: Written before the batch is posted (appended by migration 0004): a crash between the
    #: marketplace's answer and the local commit leaves the item findable as "sent, task unknown".
    batch_key: str | None = None
    content_hash: str | None = None  #: products feed: digest of the listing fields sent


class ChannelListing(ShelfModel, table=True):
    """One SKU of one channel: what the marketplace lists, and what shelfdesk last published.

    ``remote_*`` is the latest complete reading of the marketplace's listings
    (so SKUs it lists that the catalog lost are found and sent to 0, even if
    shelfdesk never published them); ``remote_id`` is None when the last
    reading did not list the SKU. ``published_*`` is what the last successful
    publication set: the baseline of update mode.
    """

    __tablename__ = "channel_listings"
    __table_args__ = (UniqueConstraint("channel_id", "sku_key"),)

    #: BIGINT (migration 0007): every publication run upserts every listing, and on PostgreSQL
    #: ``INSERT … ON CONFLICT`` takes a sequence value per row even when the row exists.
    id: int | None = id_field(big=True)
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    sku: str  #: as the marketplace or the catalog spells it
    sku_key: str  #: case-folded SKU: marketplaces match SKUs without case
    remote_id: str | None = None
    remote_price: Decimal | None = money_field()
    remote_quantity: int | None = None
    remote_state: str | None = None
    remote_seen_at: datetime | None = None
    published_price: Decimal | None = money_field()
    published_quantity: int | None = None
    published_hash: str | None = None  #: digest of the listing fields last sent by the products feed
    published_at: datetime | None = None
    last_outcome: ItemOutcome | None = enum_field(ItemOutcome, None, nullable=True)
    last_error: str | None = None
    last_publication_id: int | None = None
    repriced_at: datetime | None = None  #: last price change by the repricer (cooldown)
    updated_at: datetime


class RepriceChange(ShelfModel, table=True):
    """One decision of the repricer for one listing, applied or simulated, with its reason."""

    __tablename__ = "reprice_changes"
    __table_args__ = (
        Index("ix_reprice_changes_channel_at", "channel_id", "at", "id"),
        Index("ix_reprice_changes_channel_sku", "channel_id", "sku", "at"),
    )

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    run_key: str  #: one repricer run (its decisions share it)
    sku: str
    at: datetime
    simulated: bool = False
    applied: bool = False  #: the marketplace took the new price
    old_price: Decimal | None = money_field()
    new_price: Decimal | None = money_field()
    minimum_price: Decimal | None = money_field()
    default_price: Decimal | None = money_field()
    price_to_win: Decimal | None = money_field()
    reason: str
    error: str | None = None  #: why the marketplace refused it
