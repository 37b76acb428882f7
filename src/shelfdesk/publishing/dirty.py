"""Dirty marks: SKUs whose publishable quantity changed and that the stock pusher must send.

Whatever changes a SKU's publishable quantity (a catalog or stock feed row, an
order harvested or cancelled on *any* channel of the store, a stock set by
hand) calls :func:`mark_dirty` in the transaction of that change, for every
channel of the store that sends quantities. A mark is a row, so it outlives a
killed process; it carries a fresh token at every mark, and the pusher removes
it with :func:`clear_marks` only if the token is still the one it read: a
change that lands while a push is in flight is pushed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Why a SKU was marked (shown in the pusher's history).
REASON_CATALOG, REASON_STOCK_FEED, REASON_ORDER, REASON_MANUAL, REASON_DRIFT = ("catalog", "stock feed", "order", "manual", "drift")


@dataclass(frozen=True, slots=True)
class DirtyMark:
    """A SKU waiting to be pushed to one channel."""

    channel_id: int
    sku: str
    token: str
    reason: str
    first_marked_at: datetime
    marked_at: datetime


def quantity_channels(session: Session, store_id: int) -> list[int]:
    """The store's channels that send quantities: enabled, publishing (activated), owning the account's quantities.

    A channel activated later gets every quantity from its first offers run.
    """
    from sqlalchemy import select

    from shelfdesk.db.models import Channel

    return list(
        session.execute(
            select(Channel.id)
            .where(
                Channel.store_id == store_id,
                Channel.enabled.is_(True),
                Channel.owns_quantities.is_(True),
                Channel.activated_at.is_not(None),
            )
            .order_by(Channel.id)
        ).scalars()
    )


def mark_dirty(
    session: Session, store_id: int, skus: Iterable[str], reason: str, now: datetime, *, channel_ids: Collection[int] | None = None
) -> int:
    """Mark ``skus`` of the store dirty for every channel sending its quantities; returns the marks written.

    Nothing is committed here: the mark commits (or rolls back) with the change that caused it.
    A SKU already waiting keeps its first mark time (the age of the oldest unpushed change).
    """
    from shelfdesk.db.models import StockDirty
    from shelfdesk.db.upsert import upsert_rows

    unique: dict[str, str] = {}
    for sku in skus:
        if sku:
            unique.setdefault(sku.casefold(), sku)
    if not unique:
        return 0
    channels = list(channel_ids) if channel_ids is not None else quantity_channels(session, store_id)
    if not channels:
        return 0
    rows = [
        {
            "channel_id": channel_id,
            "sku": sku,
            "sku_key": key,
            "token": uuid.uuid4().hex,
            "reason": reason[:32],
            "first_marked_at": now,
            "marked_at": now,
        }
        for channel_id in channels
        for key, sku in sorted(unique.items())
    ]
    for start in range(0, len(rows), 2000):
        upsert_rows(session, StockDirty, rows[start : start + 2000], ["channel_id", "sku_key"], ["sku", "token", "reason", "marked_at"])
    return len(rows)


def read_marks(session: Session, channel_id: int, limit: int | None = None) -> list[DirtyMark]:
    """The channel's dirty SKUs, oldest change first."""
    from sqlalchemy import select

    from shelfdesk.db.models import StockDirty as D

    query = (
        select(D.channel_id, D.sku, D.token, D.reason, D.first_marked_at, D.marked_at)
        .where(D.channel_id == channel_id)
        .order_by(D.first_marked_at, D.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [DirtyMark(*row) for row in session.execute(query).all()]


def clear_marks(session: Session, marks: Sequence[DirtyMark]) -> int:
    """Remove the marks whose token is unchanged (a newer change keeps its mark); returns how many."""
    from sqlalchemy import delete

    from shelfdesk.db.models import StockDirty as D

    removed = 0
    by_channel: dict[int, list[str]] = {}
    for mark in marks:
        by_channel.setdefault(mark.channel_id, []).append(mark.token)
    for channel_id, tokens in by_channel.items():
        for start in range(0, len(tokens), 500):
            result = session.execute(delete(D).where(D.channel_id == channel_id, D.token.in_(tokens[start : start + 500])))
            removed += int(result.rowcount or 0)
    return removed


def waiting_counts(session: Session) -> dict[int, tuple[int, datetime | None]]:
    """Channel id → (dirty SKUs waiting, oldest unpushed change)."""
    from sqlalchemy import func, select

    from shelfdesk.db.tables import table

    D = table("stock_dirty").c  # Core: ``shelfdesk status`` reads this without the models
    return {
        cid: (int(n), oldest)
        for cid, n, oldest in session.execute(select(D.channel_id, func.count(), func.min(D.first_marked_at)).group_by(D.channel_id)).all()
    }


def oldest_unpushed(session: Session) -> datetime | None:
    """When the oldest change not pushed yet happened, across every channel (None: nothing waits)."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import StockDirty as D

    return session.execute(select(func.min(D.first_marked_at))).scalar()
