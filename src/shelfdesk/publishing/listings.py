"""The marketplace's listings as a publication run reads them, and their stored copy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shelfdesk.publishing.plan import RemoteView

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext


async def read_listings(connector: Connector) -> dict[str, RemoteView]:
    """Every listing the account has, by case-folded SKU."""
    out: dict[str, RemoteView] = {}
    async for page in connector.iter_listings():
        for listing in page:
            if listing.sku:
                out[listing.sku.casefold()] = RemoteView(listing.sku, listing.remote_id, listing.price, listing.quantity, listing.raw_state)
    return out


def store_listings(ctx: AppContext, channel_id: int, remote: dict[str, RemoteView]) -> None:
    """Replace the stored reading: SKUs the reading does not list are no longer listed."""
    from sqlalchemy import update

    from shelfdesk.db.models import ChannelListing
    from shelfdesk.db.upsert import upsert_rows

    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.execute(
            update(ChannelListing)
            .where(ChannelListing.channel_id == channel_id)
            .values(remote_id=None, remote_price=None, remote_quantity=None, remote_state=None)
        )
        rows = [
            {
                "channel_id": channel_id,
                "sku": v.sku,
                "sku_key": key,
                "remote_id": v.remote_id or key,
                "remote_price": v.price,
                "remote_quantity": v.quantity,
                "remote_state": v.state,
                "remote_seen_at": now,
                "updated_at": now,
            }
            for key, v in remote.items()
        ]
        for start in range(0, len(rows), 1000):
            upsert_rows(
                session,
                ChannelListing,
                rows[start : start + 1000],
                ["channel_id", "sku_key"],
                ["sku", "remote_id", "remote_price", "remote_quantity", "remote_state", "remote_seen_at", "updated_at"],
            )
