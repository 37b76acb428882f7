"""Publications of a channel's feeds and the per-item outcome of each.

Items are the unit support staff triage: one row per product a run built,
with what it planned (``action``), what happened (``outcome``) and the
marketplace's message, grouped for triage by ``error_key``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, enum_field, id_field, money_field
from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode, PublicationState


class Publication(ShelfModel, table=True):
    """One run of one feed (products or offers) of a channel, with its counters."""

    __tablename__ = "publications"
    __table_args__ = (
        Index("ix_publications_channel_started", "channel_id", "started_at", "id"),
        Index("ix_publications_state", "state"),
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
    product_id: int | None = Field(default=None, foreign_key="products.id", ondelete="SET NULL")
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
