"""How many listing lines a publication run may send, and in batches of what size.

The marketplace's hourly limit counts feed lines and repricer changes alike, so
a run budgets 90 % of it minus what the account sent in the last hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext
    from shelfdesk.publishing.channel import ChannelSpec


def lines_used_last_hour(session: Session, account_id: int, now: datetime) -> int:
    """Listing lines the account sent in the last hour: feed items plus applied repricer changes."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import Channel, Publication, PublicationItem, RepriceChange

    since = now - timedelta(hours=1)
    channels = select(Channel.id).where(Channel.account_id == account_id)
    recent = select(Publication.id).where(
        Publication.channel_id.in_(channels),
        Publication.dry_run.is_(False),
        Publication.started_at > now - timedelta(hours=6),
    )
    items = session.execute(
        select(func.count()).select_from(PublicationItem).where(PublicationItem.publication_id.in_(recent), PublicationItem.sent_at > since)
    ).scalar_one()
    reprices = session.execute(
        select(func.count())
        .select_from(RepriceChange)
        .where(RepriceChange.channel_id.in_(channels), RepriceChange.applied.is_(True), RepriceChange.at > since)
    ).scalar_one()
    return int(items) + int(reprices)


def run_quota(ctx: AppContext, channel: ChannelSpec) -> int | None:
    """Lines this run may send: 90 % of the marketplace's hourly limit minus the last hour's use."""
    from shelfdesk.channels.registry import capabilities

    per_hour = capabilities(channel.marketplace).lines_per_hour
    cap = channel.setting_int("max_lines_per_run", 0) or None
    if per_hour is None:
        return cap
    with ctx.read_session() as session:
        used = lines_used_last_hour(session, channel.account_id, ctx.clock.now())
    budget = max(0, int(per_hour * 0.9) - used)
    return budget if cap is None else min(cap, budget)


#: The share of the hourly limit only stock-outs may use: a feed or the repricer that spends the hour's
#: budget on increases and prices still leaves room to take a sold-out SKU offline.
STOCKOUT_RESERVE_SHARE = 0.05


def stockout_reserve(ctx: AppContext, channel: ChannelSpec, quota: int | None) -> int:
    """Of this run's ``quota``, the lines only stock-outs may use: the last lines of the account's hourly
    budget (0 where the marketplace sets no limit; a per-run cap of the operator's is not reserved from)."""
    from shelfdesk.channels.registry import capabilities

    per_hour = capabilities(channel.marketplace).lines_per_hour
    if quota is None or not per_hour:
        return 0
    with ctx.read_session() as session:
        used = lines_used_last_hour(session, channel.account_id, ctx.clock.now())
    general = max(0, int(per_hour * 0.9) - used - int(per_hour * STOCKOUT_RESERVE_SHARE))
    return max(0, quota - general)


def batch_size(channel: ChannelSpec) -> int:
    from shelfdesk.channels.registry import capabilities

    caps = capabilities(channel.marketplace)
    size = caps.max_batch_lines
    if caps.lines_per_hour:
        size = min(size, int(caps.lines_per_hour * 0.9))
    wanted = channel.setting_int("batch_lines", 0)
    return max(1, min(size, wanted) if wanted > 0 else size)
