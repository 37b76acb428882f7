"""Per-item outcomes of a publication, stored with the channel's published state.

A batch's answer becomes one outcome per item, written in the same
transaction as what the channel now shows, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import ItemAction, ItemOutcome
from shelfdesk.publishing.errors import attribute_of, error_key

if TYPE_CHECKING:
    from shelfdesk.channels.base import BatchItemResult, BatchResult
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.channel import ChannelSpec

#: An item's outcome: ``(ok, message, code, remote_id)``.
Outcome = tuple[bool, str, str | None, str | None]


@dataclass(frozen=True)
class SentItem:
    """An item marked sent: what it carried, to judge the answer (or the listings) against."""

    id: int
    publication_id: int
    sku: str
    action: ItemAction
    new_price: Decimal | None
    new_quantity: int | None
    content_hash: str | None
    remote_task_id: str | None
    sent_at: datetime | None


def sent_item(row: Any) -> SentItem:
    return SentItem(
        row.id,
        row.publication_id,
        row.sku,
        ItemAction(row.action),
        row.new_price,
        row.new_quantity,
        row.content_hash,
        row.remote_task_id,
        row.sent_at,
    )


def record_outcomes(ctx: AppContext, channel: ChannelSpec, items: Sequence[SentItem], outcomes: dict[int, Outcome]) -> tuple[int, int]:
    """Store per-item outcomes and the channel's published state, in one transaction.

    ``outcomes`` maps an item id to ``(ok, message, code, remote_id)``.
    Returns (published, failed).
    """
    from sqlalchemy import select, update

    from shelfdesk.db.models import ChannelListing, PublicationItem
    from shelfdesk.db.upsert import upsert_rows

    now = ctx.clock.now()
    ok_count = failed = 0
    item_rows: list[dict[str, Any]] = []
    keys = [item.sku.casefold() for item in items if item.id in outcomes]
    with ctx.write_session() as session:
        existing: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            for row in session.execute(
                select(ChannelListing).where(ChannelListing.channel_id == channel.id, ChannelListing.sku_key.in_(keys[start : start + 500]))
            ).scalars():
                existing[row.sku_key] = row
        listing_rows: list[dict[str, Any]] = []
        for item in items:
            if item.id not in outcomes:
                continue
            ok, message, code, remote_id = outcomes[item.id]
            key = item.sku.casefold()
            before = existing.get(key)
            state = {
                "channel_id": channel.id,
                "sku": item.sku,
                "sku_key": key,
                "remote_id": getattr(before, "remote_id", None),
                "remote_price": getattr(before, "remote_price", None),
                "remote_quantity": getattr(before, "remote_quantity", None),
                "published_price": getattr(before, "published_price", None),
                "published_quantity": getattr(before, "published_quantity", None),
                "published_hash": getattr(before, "published_hash", None),
                "published_at": getattr(before, "published_at", None),
                "last_outcome": None,
                "last_error": None,
                "last_publication_id": item.publication_id,
                "updated_at": now,
            }
            if ok:
                ok_count += 1
                outcome = {ItemAction.create: ItemOutcome.created, ItemAction.zero: ItemOutcome.zeroed}.get(
                    item.action, ItemOutcome.updated
                )
                item_rows.append(
                    {
                        "id": item.id,
                        "outcome": outcome,
                        "message": None,
                        "error_code": None,
                        "error_key": None,
                        "attribute": None,
                        "warning": message or None,
                        "resolved_at": now,
                    }
                )
                if item.new_price is not None:
                    state["published_price"] = state["remote_price"] = item.new_price
                if item.new_quantity is not None:
                    state["published_quantity"] = state["remote_quantity"] = item.new_quantity
                if item.content_hash is not None:
                    state["published_hash"] = item.content_hash
                state["remote_id"] = remote_id or state["remote_id"] or key
                state["published_at"] = now
                state["last_outcome"] = outcome
            else:
                failed += 1
                attribute = attribute_of(code, message)
                item_rows.append(
                    {
                        "id": item.id,
                        "outcome": ItemOutcome.failed,
                        "message": message or "refused without a message",
                        "error_code": code,
                        "error_key": error_key(code, message, attribute),
                        "attribute": attribute,
                        "warning": None,
                        "resolved_at": now,
                    }
                )
                state["last_outcome"] = ItemOutcome.failed
                state["last_error"] = (message or "")[:500]
            listing_rows.append(state)
        if item_rows:
            session.execute(update(PublicationItem), item_rows)
        for start in range(0, len(listing_rows), 1000):
            upsert_rows(
                session,
                ChannelListing,
                listing_rows[start : start + 1000],
                ["channel_id", "sku_key"],
                [k for k in listing_rows[0] if k not in ("channel_id", "sku_key")],
            )
    return ok_count, failed


def batch_outcomes(items: Sequence[SentItem], result: BatchResult) -> dict[int, Outcome]:
    from shelfdesk.channels.base import BatchState

    by_sku: dict[str, BatchItemResult] = {r.sku.casefold(): r for r in result.items}
    out: dict[int, Outcome] = {}
    for item in items:
        r = by_sku.get(item.sku.casefold())
        if r is not None:
            out[item.id] = (r.ok, r.message, r.code, r.remote_id)
        elif result.state is BatchState.failed:
            out[item.id] = (False, result.error or "the marketplace failed the whole batch", "batch-failed", None)
        else:
            out[item.id] = (False, "the marketplace reported no result for this SKU", "no-result", None)
    return out
