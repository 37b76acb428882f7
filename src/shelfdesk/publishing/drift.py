"""The drift check: what the marketplace shows against what shelfdesk would send now.

A scheduled reconciliation (daily, and on demand) reads the channel's
listings from the marketplace and plans the offers feed in full mode against
that reading: every listed SKU whose quantity (or price, where the channel
sends prices) differs from what shelfdesk would send is a drift, whoever made
it (a change in the marketplace's back office, a lost update). The check is
recorded as a dry-run publication started by :data:`DRIFT` whose items are the
differences (old = the marketplace's, new = shelfdesk's), so Publications
lists it and ``publications show`` pages it. Pushing the corrections forgets
the drifted SKUs' published baseline and marks them dirty: the stock pusher
sends them within seconds, within the account's budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import PublicationKind, PublicationMode, PublicationState

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import ConnectorFactory

#: Who started a drift check's record (Publications tells them apart by it).
DRIFT = "drift check"


@dataclass(frozen=True)
class Drift:
    sku: str
    marketplace_quantity: int | None
    expected_quantity: int | None
    marketplace_price: str | None
    expected_price: str | None


@dataclass
class DriftReport:
    channel_id: int
    publication_id: int | None
    listed: int  #: listings the marketplace showed
    drifts: list[Drift] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "publication_id": self.publication_id,
            "listed": self.listed,
            "drifted": len(self.drifts),
            "drifts": [d.__dict__ for d in self.drifts],
        }


async def check_drift(ctx: AppContext, channel_id: int, *, factory: ConnectorFactory | None = None) -> DriftReport:
    """Read the channel's listings, compare them with what shelfdesk would send now, record the differences."""
    from shelfdesk.publishing.channel import load_channel
    from shelfdesk.publishing.engine import default_factory, record_plan, start_publication
    from shelfdesk.publishing.counters import finish_counters
    from shelfdesk.publishing.listings import read_listings, store_listings
    from shelfdesk.publishing.plan import build_plan

    channel = load_channel(ctx, channel_id)
    make = factory or default_factory(ctx)
    async with make(channel) as connector:
        remote = await read_listings(connector)
    if not ctx.read_only:
        store_listings(ctx, channel.id, remote)
    plan = build_plan(ctx, channel, PublicationKind.offers, PublicationMode.full, remote=remote)
    drifted = []
    for item in [*plan.to_send, *plan.queued]:
        qty = channel.owns_quantities and item.new_quantity is not None and item.new_quantity != item.old_quantity
        price = channel.sends_prices and item.new_price is not None and item.new_price != item.old_price
        if qty or price:
            drifted.append(item)
    plan.to_send, plan.queued, plan.invalid, plan.held = drifted, [], [], []
    report = DriftReport(
        channel_id,
        None,
        len(remote),
        [
            Drift(
                i.sku,
                i.old_quantity,
                i.new_quantity,
                str(i.old_price) if i.old_price is not None else None,
                str(i.new_price) if i.new_price is not None else None,
            )
            for i in drifted
        ],
    )
    if not ctx.read_only:
        publication_id = start_publication(ctx, channel, PublicationKind.offers, PublicationMode.full, dry_run=True, started_by=DRIFT, only_skus=None)
        record_plan(ctx, publication_id, plan, dry_run=True)
        finish_counters(ctx, publication_id, state=PublicationState.dry_run, finished=True)
        report.publication_id = publication_id
    return report


def check_drift_sync(ctx: AppContext, channel_id: int, **kwargs: Any) -> DriftReport:
    return asyncio.run(check_drift(ctx, channel_id, **kwargs))


def push_corrections(ctx: AppContext, channel_id: int, skus: Collection[str] | None = None, publication_id: int | None = None) -> int:
    """Send the drifted SKUs again (those of the drift record ``publication_id``, or ``skus``); returns how many.

    Their published baseline is forgotten (the marketplace's reading becomes the
    baseline) and they are marked dirty: the stock pusher sends them.
    """
    from sqlalchemy import select, update

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel, ChannelListing, PublicationItem
    from shelfdesk.publishing.dirty import REASON_DRIFT, mark_dirty

    ctx.require_write()
    with ctx.write_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            from shelfdesk.publishing.errors import PublishError

            raise PublishError(f"no channel with id {channel_id}")
        chosen = list(skus or [])
        if publication_id is not None:
            chosen += list(
                session.execute(select(PublicationItem.sku).where(PublicationItem.publication_id == publication_id)).scalars()
            )  # a drift record's items are its drifts
        keys = sorted({s.casefold() for s in chosen})
        for start in range(0, len(keys), 500):
            session.execute(
                update(ChannelListing)
                .where(ChannelListing.channel_id == channel_id, ChannelListing.sku_key.in_(keys[start : start + 500]))  # type: ignore[attr-defined]
                .values(published_quantity=None, published_price=None)
            )
        mark_dirty(session, channel.store_id, chosen, REASON_DRIFT, ctx.clock.now(), channel_ids=[channel_id])
        record_audit(session, ctx, "drift.correct", "channel", channel_id, {"skus": len(keys), "publication": publication_id})
    return len(keys)


def run_drift(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """The daily ``drift`` job."""
    if channel_id is None:
        raise RuntimeError("the drift check needs a channel")
    report = check_drift_sync(ctx, channel_id)
    return {"listed": report.listed, "drifted": len(report.drifts)}
