"""Scheduled publishing: the offers and products feeds and the repricer as jobs of :mod:`shelfdesk.jobs`.

Plain functions: the runner calls them in a thread, where the engine runs its
own event loop, so a large plan never blocks the scheduler's loop. Each run
is an update-mode publication started by "scheduler"; a run with nothing to
send, or of a channel whose publication is not activated yet, returns no
counts (the job records it as skipped). A run that could not publish raises,
so the job run is failed with the error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shelfdesk.domain import PublicationKind, PublicationMode, PublicationState
from shelfdesk.jobs.registry import DEFAULT_INTERVALS, JobScope, JobSpec, register

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from shelfdesk.context import AppContext

SCHEDULER = "scheduler"
log = logging.getLogger("shelfdesk.publishing")


class PublicationFailed(RuntimeError):
    """The scheduled publication ran but failed as a whole (its record says why)."""


def _publish(ctx: AppContext, channel_id: int | None, kind: PublicationKind) -> dict[str, int]:
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.publishing.errors import PublicationRunning

    if channel_id is None:
        raise PublicationFailed(f"the {kind} job needs a channel")
    if not _publication_active(ctx, channel_id):
        # Publication needs the three green lights and the operator's activation (A on Mappings);
        # until then the schedule waits, and the run is recorded as skipped.
        log.info("%s job of channel %s skipped: its publication is not activated", kind, channel_id)
        return {}
    _wait_for_pusher(ctx, channel_id)
    try:
        result = publish_sync(ctx, channel_id, kind, PublicationMode.update, started_by=SCHEDULER)
    except PublicationRunning as exc:
        # An operator's run (or another process's) is sending this channel now: this turn is
        # skipped, not failed; the next one publishes what is left.
        log.info("%s job of channel %s skipped: %s", kind, channel_id, exc)
        return {}
    if result.state is PublicationState.failed and not result.counters.get("sent"):
        raise PublicationFailed(result.error or f"publication {result.publication_id} failed")
    if result.state is PublicationState.skipped:
        return {}
    c = result.counters
    return {
        "items_sent": c.get("sent", 0),
        "items_published": c.get("succeeded", 0),
        "items_failed": c.get("failed", 0),
        "items_invalid": c.get("invalid", 0),
        "items_queued": c.get("queued", 0),
    }


#: How long a scheduled feed run waits for the stock pusher's push of its channel to end (seconds).
PUSHER_WAIT_SECONDS = 30.0


def _wait_for_pusher(ctx: AppContext, channel_id: int) -> None:
    """A push takes seconds: the feed waits for it rather than fail as "another run is in progress"."""
    import time

    from sqlalchemy import select

    from shelfdesk.db.models import Publication
    from shelfdesk.publishing.pusher import PUSHER
    from shelfdesk.publishing.recovery import holder_alive

    deadline = time.monotonic() + PUSHER_WAIT_SECONDS
    while time.monotonic() < deadline:
        with ctx.read_session() as session:
            running = session.execute(
                select(Publication.id, Publication.holder, Publication.started_at).where(
                    Publication.channel_id == channel_id, Publication.state == PublicationState.running, Publication.started_by == PUSHER
                )
            ).all()
        now = ctx.clock.now()
        if not any(holder_alive(holder, pid, started, now) for pid, holder, started in running):
            return
        time.sleep(0.2)


def _publication_active(ctx: AppContext, channel_id: int) -> bool:
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        return channel is not None and channel.activated_at is not None


def last_publication(kind: PublicationKind) -> Callable[[AppContext, int | None], datetime | None]:
    """When the channel's ``kind`` feed was last published, by anyone (an operator, the CLI, the demo).

    A products feed published by hand at 10:00 is not published again by the
    daily job at 10:05 because the job itself never ran: the schedule counts
    from the later of the two (``JobSpec.last_done``).
    """

    def last(ctx: AppContext, channel_id: int | None) -> datetime | None:
        from sqlalchemy import func, select

        from shelfdesk.db.tables import table

        Publication = table("publications").c
        if channel_id is None:
            return None
        with ctx.read_connection() as session:
            return session.execute(
                select(func.max(Publication.started_at)).where(
                    Publication.channel_id == channel_id, Publication.kind == kind, Publication.dry_run.is_(False)
                )
            ).scalar()

    return last


def publish_offers(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Offers in update mode: what changed since the last successful run, failures, vanished SKUs at 0."""
    return _publish(ctx, channel_id, PublicationKind.offers)


def publish_products(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Products in update mode: new listings (within the hourly quota, the rest next time)."""
    return _publish(ctx, channel_id, PublicationKind.products)


def run_repricer(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    from shelfdesk.publishing.repricer import reprice_sync

    if channel_id is None:
        raise PublicationFailed("the repricer job needs a channel")
    result = reprice_sync(ctx, channel_id)
    if not result.changed:
        return {}
    return {"prices_changed": sum(d.applied for d in result.decisions), "prices_refused": sum(1 for d in result.decisions if d.error)}


def _has_buybox(marketplace: str) -> bool:
    from shelfdesk.channels.registry import capabilities

    return capabilities(marketplace).competitors


register(
    JobSpec(
        name="offers",
        title="Offers publication",
        run=publish_offers,
        scope=JobScope.channel,
        interval=DEFAULT_INTERVALS["offers"],
        applies=lambda ch: ch.enabled and ch.publication_active and ch.offers_feed_enabled,
        last_done=last_publication(PublicationKind.offers),
        description="Prices and quantities that changed, failures of the last run, vanished SKUs at 0 (update mode)",
    )
)
register(
    JobSpec(
        name="products",
        title="Products publication",
        run=publish_products,
        scope=JobScope.channel,
        interval=DEFAULT_INTERVALS["products"],
        applies=lambda ch: ch.enabled and ch.publication_active and ch.products_feed_enabled,
        last_done=last_publication(PublicationKind.products),
        description="Listings the marketplace does not have yet, within its hourly quota",
    )
)
register(
    JobSpec(
        name="repricer",
        title="Repricer",
        run=run_repricer,
        scope=JobScope.channel,
        interval=DEFAULT_INTERVALS["repricer"],
        applies=lambda ch: ch.enabled and ch.publication_active and ch.repricer_enabled and _has_buybox(ch.marketplace),
        description="Follows the buybox between minimum and default prices (channels with the repricer on)",
    )
)
register(
    JobSpec(
        name="stock",
        title="Stock pusher",
        run="shelfdesk.publishing.pusher:run_pusher",
        scope=JobScope.channel,
        interval=DEFAULT_INTERVALS["stock"],
        applies=lambda ch: ch.enabled and ch.publication_active,
        description="Quantities that changed (orders on any channel, catalog, stock feed, by hand) within seconds",
    )
)
register(
    JobSpec(
        name="drift",
        title="Drift check",
        run="shelfdesk.publishing.drift:run_drift",
        scope=JobScope.channel,
        interval=DEFAULT_INTERVALS["drift"],
        applies=lambda ch: ch.enabled and ch.publication_active,
        description="The marketplace's quantities and prices against what shelfdesk would send; differences on Publications",
    )
)
