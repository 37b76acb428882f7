"""The stock loop's state: SKUs waiting for the stock pusher, and each store's polled feeds.

Both live in the database rather than in a process's memory so that a worker
killed at any point loses nothing: a dirty mark is written in the same
transaction as the change that caused it, and removed only once the quantity
it stands for is recorded as published.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field


class StockDirty(ShelfModel, table=True):
    """One SKU of one channel whose publishable quantity changed since it was last pushed."""

    __tablename__ = "stock_dirty"
    __table_args__ = (
        UniqueConstraint("channel_id", "sku_key"),
        # The oldest unpushed change (status, the lag alert) and the pusher's queue in arrival order.
        Index("ix_stock_dirty_first_marked_at", "first_marked_at"),
    )

    id: int | None = id_field(big=True)
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    sku: str
    sku_key: str  #: case-folded SKU, as channel_listings keys it
    #: A new token at every mark: the pusher removes the mark only if the token is still the one it
    #: read, so a change that arrives while a push is in flight is pushed again (clock instants repeat).
    token: str = Field(max_length=32)
    reason: str = Field(max_length=32)  #: catalog, stock feed, order, manual, drift …
    first_marked_at: datetime  #: the oldest change not pushed yet (kept when marked again)
    marked_at: datetime  #: the latest change


class StoreFeed(ShelfModel, table=True):
    """A source a store's catalog or stock is fetched from on a schedule, with what it answered last."""

    __tablename__ = "store_feeds"
    __table_args__ = (UniqueConstraint("store_id", "kind"),)

    id: int | None = id_field()
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)  #: "catalog" (the store's catalog source) or "stock"
    source: str | None = None  #: stock feeds: a path or an http(s) URL; catalog: None = the store's source
    interval_seconds: int = 900
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  #: digest of the last body applied: an unchanged body is not imported
    checked_at: datetime | None = None
    changed_at: datetime | None = None  #: when a fetched body was last applied
    failures: int = 0  #: consecutive failures (the backoff grows with them)
    error: str | None = None  #: why the last fetch failed; None when it worked
    next_at: datetime | None = None
    updated_at: datetime
