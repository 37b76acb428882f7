"""Running a publication: plan, send in batches within the quota, follow each batch to per-item outcomes.

The order of writes is what makes a run safe to kill at any point:

1. The run is recorded (``running``, with its holder ``host:pid:publish-xxxxxx``) and every
   planned item is written before anything is sent.
2. Before a batch is posted, its items are marked ``sent`` with a batch key
   (committed). Then the batch is posted and its task id committed.
3. Each batch is polled to its per-item result, and the outcomes are
   committed together with the channel's published state.

The next run first follows what an earlier run left behind (its own process
gone): batches with a task id are polled again; items whose batch answer was
lost (crash or 5xx between posting and committing the task id) are checked
against the marketplace's listings, and are held, never re-sent, until the
listings show them applied or a hold period passes. So an item the
marketplace accepted is never sent twice, and nothing is lost: a 429 or a
refused batch puts its items back in the queue or records the refusal.

The run is here; its parts are siblings: :mod:`~shelfdesk.publishing.quota`,
:mod:`~shelfdesk.publishing.listings`, :mod:`~shelfdesk.publishing.outcomes`,
:mod:`~shelfdesk.publishing.recovery` and :mod:`~shelfdesk.publishing.counters`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shelfdesk.claims import holder_name
from shelfdesk.domain import ItemOutcome, PublicationKind, PublicationMode, PublicationState
from shelfdesk.publishing.channel import DEFAULT_BATCH_WAIT_SECONDS, DEFAULT_REALTIME_OFFERS_MAX, ChannelSpec, load_channel
from shelfdesk.publishing.counters import finish_counters, note_run
from shelfdesk.publishing.errors import PublicationRunning, PublishError, error_key
from shelfdesk.publishing.listings import read_listings, store_listings
from shelfdesk.publishing.outcomes import SentItem, batch_outcomes, record_outcomes
from shelfdesk.publishing.plan import Plan, PlannedItem, build_plan
from shelfdesk.publishing.quota import batch_size, run_quota, stockout_reserve
from shelfdesk.publishing.recovery import ACTIVE, mark_interrupted, recover

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.publishing")

#: Builds the connector of a channel (tests pass one with short timeouts).
ConnectorFactory = Callable[[ChannelSpec], "Connector"]
OVER_QUOTA = "over this hour's quota: carried to the next run"


@dataclass(frozen=True)
class Progress:
    """What a running publication reports: ``done`` of ``total`` items in the current phase."""

    publication_id: int | None
    phase: str  #: reading, planning, sending, waiting, done
    done: int = 0
    total: int = 0
    failed: int = 0
    message: str = ""


@dataclass
class PublishResult:
    """How a run ended, with its plan (the dry run's answer)."""

    publication_id: int | None
    state: PublicationState
    plan: Plan
    counters: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "publication_id": self.publication_id,
            "state": str(self.state),
            "counters": dict(self.counters),
            "recovered": dict(self.recovered),
            "error": self.error,
            "plan": self.plan.summary(),
        }


ProgressCallback = Callable[[Progress], None]
Checkpoint = Callable[[str], None]


def default_factory(ctx: AppContext) -> ConnectorFactory:
    """Connectors through the orders module's account resolution (credentials never leave it)."""

    def build(channel: ChannelSpec) -> Connector:
        from shelfdesk.orders.connect import connect, load_account

        return connect(ctx, load_account(ctx, channel.account_id), language=channel.market)

    return build


def _item_row(publication_id: int, item: PlannedItem, outcome: ItemOutcome, message: str | None = None) -> dict[str, Any]:
    failed = outcome is ItemOutcome.failed
    return {
        "publication_id": publication_id,
        "product_id": item.product_id,
        "sku": item.sku,
        "action": item.action,
        "outcome": outcome,
        "old_price": item.old_price,
        "new_price": item.new_price,
        "old_quantity": item.old_quantity,
        "new_quantity": item.new_quantity,
        "message": message if message is not None else item.reason,
        "error_code": item.error_code if failed else None,
        "error_key": error_key(item.error_code, item.reason or "", item.attribute) if failed else None,
        "attribute": item.attribute if failed else None,
        "content_hash": item.content_hash,
    }


def _insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from shelfdesk.db.models import PublicationItem

    for start in range(0, len(rows), 2000):
        session.execute(insert(PublicationItem), rows[start : start + 2000])


def record_plan(ctx: AppContext, publication_id: int, plan: Plan, *, dry_run: bool) -> None:
    """Write every planned item before anything is sent (a dry run's items are its answer)."""
    from shelfdesk.db.models import Publication

    rows: list[dict[str, Any]] = []
    rows += [_item_row(publication_id, i, ItemOutcome.failed) for i in plan.invalid]
    rows += [_item_row(publication_id, i, ItemOutcome.skipped) for i in plan.held]
    rows += [_item_row(publication_id, i, ItemOutcome.queued) for i in plan.to_send]
    over = ItemOutcome.skipped if dry_run else ItemOutcome.queued
    rows += [_item_row(publication_id, i, over, OVER_QUOTA) for i in plan.queued]
    with ctx.write_session() as session:
        _insert_items(session, rows)
        pub = session.get(Publication, publication_id)
        assert pub is not None
        pub.planned = len(plan.to_send)
        pub.items_total = plan.built
        pub.excluded = plan.excluded
        pub.summary = {**(pub.summary or {}), **plan.summary()}


async def publish(
    ctx: AppContext,
    channel_id: int,
    kind: PublicationKind | str,
    mode: PublicationMode | str = PublicationMode.update,
    *,
    dry_run: bool = False,
    only_skus: Collection[str] | None = None,
    started_by: str | None = None,
    factory: ConnectorFactory | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    checkpoint: Checkpoint | None = None,
    refresh_listings: bool = True,
) -> PublishResult:
    """Publish one feed of a channel (or plan it: ``dry_run``) and return how it ended.

    A real run needs the channel's publication activated (its three lights green, then
    the operator's activation); a dry run plans any channel.

    ``only_skus`` re-publishes just those SKUs (failed items of a group).
    ``should_cancel`` is checked between batches; a cancelled run leaves
    what it did not send queued. ``checkpoint(name)`` is called at each
    commit point (tests inject crashes there).
    """
    kind, mode = PublicationKind(kind), PublicationMode(mode)
    channel = load_channel(ctx, channel_id)
    _check_feed(channel, kind, mode)
    if not dry_run and not channel.active:
        raise PublishError(
            f"publication of {channel.label} is not activated: once its three lights are green, "
            "A on Mappings (or Stores) activates it; a dry run plans it meanwhile"
        )
    write = not ctx.read_only
    if not dry_run:
        ctx.require_write()
    report = progress or (lambda p: None)
    checkpoint = checkpoint or (lambda name: None)
    make = factory or default_factory(ctx)
    publication_id: int | None = None
    interrupted = 0
    if not dry_run:
        interrupted = _refuse_concurrent(ctx, channel)
    if write:
        publication_id = start_publication(ctx, channel, kind, mode, dry_run=dry_run, started_by=started_by, only_skus=only_skus)
    if publication_id is not None:
        ACTIVE.add(publication_id)
    try:
        connector = make(channel)
        async with connector:
            report(Progress(publication_id, "reading", message="reading the marketplace's listings"))
            remote = await read_listings(connector) if refresh_listings else None
            if remote is not None and write:
                store_listings(ctx, channel.id, remote)
            recovery = await recover(ctx, channel, connector, remote, write=write)
            recovery.interrupted += interrupted
            report(Progress(publication_id, "planning", message="planning"))
            quota = run_quota(ctx, channel)
            plan = build_plan(
                ctx,
                channel,
                kind,
                mode,
                remote=remote,
                held=recovery.held,
                only_skus=only_skus,
                quota=quota,
                reserve=stockout_reserve(ctx, channel, quota),
            )
            if not write and recovery.held:
                plan.warnings.append("earlier batches await an answer; the real run checks them first")
            if publication_id is not None:
                record_plan(ctx, publication_id, plan, dry_run=dry_run)
            if dry_run:
                counters = finish_counters(ctx, publication_id, state=PublicationState.dry_run, finished=True)[0] if publication_id else {}
                report(Progress(publication_id, "done", len(plan.to_send), len(plan.to_send), message="dry run: nothing sent"))
                return PublishResult(publication_id, PublicationState.dry_run, plan, counters, recovery.as_dict())
            assert publication_id is not None
            state, error = await send_plan(ctx, channel, kind, plan, publication_id, connector, report, should_cancel, checkpoint)
    except PublishError as exc:
        if publication_id is not None:
            finish_counters(ctx, publication_id, state=PublicationState.failed, error=str(exc)[:500], finished=True)
        raise
    except Exception as exc:  # a failure of the whole run: recorded, then raised to the caller
        log.exception("publication %s of channel %s failed", publication_id, channel_id)
        if publication_id is not None:
            requeue_unsent(ctx, publication_id)
            finish_counters(ctx, publication_id, state=PublicationState.failed, error=str(exc)[:500], finished=True)
        raise
    finally:
        if publication_id is not None:
            ACTIVE.discard(publication_id)
    counters, state = finish_counters(ctx, publication_id, state=state, error=error, finished=True)
    report(Progress(publication_id, "done", counters.get("sent", 0), len(plan.to_send), counters.get("failed", 0), message=f"{state}"))
    return PublishResult(publication_id, state, plan, counters, recovery.as_dict(), error)


def _refuse_concurrent(ctx: AppContext, channel: ChannelSpec) -> int:
    """One real run per channel at a time: two would plan the same changes and send them twice.

    Runs whose process is gone are marked interrupted first; returns how many.
    """
    from shelfdesk.db.models import Publication

    interrupted, live = mark_interrupted(ctx, channel.id, write=True)
    if not live:
        return interrupted
    with ctx.read_session() as session:
        others = [p for p in (session.get(Publication, pid) for pid in sorted(live)) if p is not None and not p.dry_run]
    if others:
        p = others[0]
        raise PublicationRunning(
            f"publication #{p.id} of {channel.label} is running ({p.kind}, started {p.started_at:%H:%M} UTC "
            f"by {p.started_by or '—'} in {p.holder}): wait for it to end"
        )
    return interrupted


def _check_feed(channel: ChannelSpec, kind: PublicationKind, mode: PublicationMode) -> None:
    from shelfdesk.channels.registry import capabilities

    caps = capabilities(channel.marketplace)
    if not channel.enabled:
        raise PublishError(f"channel {channel.label} is disabled: enable it before publishing")
    if kind not in caps.feeds:
        raise PublishError(f"{channel.marketplace} has no {kind} feed")
    if mode not in caps.feed_modes:
        allowed = " or ".join(sorted(str(m) for m in caps.feed_modes)) or "no"
        raise PublishError(
            f"{channel.label}: {channel.marketplace} takes {allowed} mode only, not {mode} "
            f"(update mode sends what changed, what failed last time and vanished SKUs at 0)"
        )
    enabled = channel.products_feed_enabled if kind is PublicationKind.products else channel.offers_feed_enabled
    if not enabled:
        raise PublishError(f"the {kind} feed of channel {channel.label} is switched off")


def start_publication(
    ctx: AppContext,
    channel: ChannelSpec,
    kind: PublicationKind,
    mode: PublicationMode,
    *,
    dry_run: bool,
    started_by: str | None,
    only_skus: Collection[str] | None,
) -> int:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Publication

    now = ctx.clock.now()
    with ctx.write_session() as session:
        pub = Publication(
            channel_id=channel.id,
            kind=kind,
            mode=mode,
            dry_run=dry_run,
            state=PublicationState.running,
            started_by=started_by or ctx.actor,
            holder=holder_name("publish"),
            started_at=now,
            summary={"only_skus": sorted(only_skus)[:50] if only_skus else []},
        )
        session.add(pub)
        session.flush()
        if not dry_run:
            record_audit(
                session,
                ctx,
                "publication.start",
                "channel",
                channel.id,
                {"publication": pub.id, "kind": str(kind), "mode": str(mode), "only_skus": len(only_skus or ())},
            )
        return int(pub.id)  # type: ignore[arg-type]


def requeue_unsent(ctx: AppContext, publication_id: int) -> None:
    """Items never posted go back to the queue (they are planned again next run)."""
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(
            update(PublicationItem)
            .where(
                PublicationItem.publication_id == publication_id,
                PublicationItem.outcome == ItemOutcome.queued,
                PublicationItem.sent_at.is_(None),
            )
            .values(message=OVER_QUOTA.replace("over this hour's quota", "the run stopped"))
        )  # type: ignore[union-attr]


async def send_plan(
    ctx: AppContext,
    channel: ChannelSpec,
    kind: PublicationKind,
    plan: Plan,
    publication_id: int,
    connector: Connector,
    report: ProgressCallback,
    should_cancel: Callable[[], bool] | None,
    checkpoint: Checkpoint,
) -> tuple[PublicationState | None, str | None]:
    """Post the plan's batches, then follow each to its per-item outcomes."""
    from sqlalchemy import select

    from shelfdesk.channels.base import BatchState
    from shelfdesk.channels.errors import (
        AuthError,
        ChannelError,
        RateLimited,
        RemoteRejected,
        TransientError,
        UnknownOutcome,
        WafBlocked,
    )
    from shelfdesk.db.models import PublicationItem as I

    total = len(plan.to_send)
    if total == 0:
        return (None, None)  # skipped, unless it refused items or queued them all (its counters tell)
    with ctx.read_session() as session:
        ids = dict(
            session.execute(
                select(I.sku, I.id).where(I.publication_id == publication_id, I.outcome == ItemOutcome.queued, I.message.is_(None))
            ).all()
        )  # type: ignore[union-attr]
    if kind is PublicationKind.offers and total <= channel.setting_int("realtime_offers_max", DEFAULT_REALTIME_OFFERS_MAX):
        note_run(ctx, publication_id, path="real-time")
        return await _send_realtime(ctx, channel, plan, publication_id, connector, ids, report, should_cancel)
    note_run(ctx, publication_id, path="batch")
    size = batch_size(channel)
    posted: list[tuple[Any, list[SentItem]]] = []
    done = failed = 0
    state: PublicationState | None = None
    error: str | None = None
    for start in range(0, total, size):
        if should_cancel is not None and should_cancel():
            state, error = PublicationState.canceled, "cancelled by the operator between batches"
            requeue_unsent(ctx, publication_id)
            break
        chunk = plan.to_send[start : start + size]
        batch_key = uuid.uuid4().hex[:12]
        items = mark_sent(ctx, publication_id, chunk, ids, batch_key)
        checkpoint("marked")
        payloads = [item.payload for item in chunk]
        try:
            try:
                if kind is PublicationKind.offers:
                    tickets = await connector.submit_offers(payloads)  # type: ignore[arg-type]
                else:
                    tickets = await connector.submit_listings(payloads)  # type: ignore[arg-type]
            except ChannelError as exc:
                if exc.submitted:  # earlier chunks were taken: follow their tasks; the error is about the rest
                    taken = _taken_by(items, exc.submitted)
                    _set_tasks(ctx, taken, exc.submitted)
                    posted.append((list(exc.submitted), taken))
                    done += len(taken)
                    taken_ids = {i.id for i in taken}
                    items = [i for i in items if i.id not in taken_ids]
                raise
        except UnknownOutcome as exc:
            # Maybe applied: the items stay "sent" without a task id; the next run checks the listings.
            _note(ctx, [i.id for i in items], f"no answer to the batch ({exc}); checked against the listings before any re-send")
            continue
        except (RateLimited, AuthError, WafBlocked, TransientError) as exc:  # not taken: nothing was applied
            unmark_sent(ctx, [i.id for i in items])
            requeue_unsent(ctx, publication_id)
            state, error = None, f"stopped sending: {exc}"
            break
        except RemoteRejected as exc:  # the whole batch refused (a 400): nothing applied
            outcomes = {i.id: (False, exc.message, exc.code or "batch-refused", None) for i in items}
            failed += record_outcomes(ctx, channel, items, outcomes)[1]
            continue
        checkpoint("posted")
        _set_tasks(ctx, items, tickets)
        checkpoint("task-recorded")
        posted.append((tickets, items))
        done += len(items)
        report(Progress(publication_id, "sending", done, total, failed, f"sent {done:,} of {total:,}"))
    wait = channel.setting_float("batch_wait_seconds", DEFAULT_BATCH_WAIT_SECONDS)
    poll_every = channel.setting_float("batch_poll_seconds", 0.0) or None
    answered = 0
    for tickets, items in posted:
        for ticket in tickets:
            mine = [i for i in items if i.sku in set(ticket.skus)] if len(tickets) > 1 else items
            try:
                result = await connector.wait_for_batch(ticket, poll_every=poll_every, timeout=wait)
            except ChannelError as exc:
                log.warning("publication %s: cannot read task %s (%s); the next run follows it", publication_id, ticket.remote_id, exc)
                continue
            if result.state is BatchState.pending:
                continue  # left "sent": the next run follows this task
            if result.unread_result is not None:
                note_run(ctx, publication_id, unread={ticket.remote_id: result.unread_result})
            checkpoint("answered")
            failed += record_outcomes(ctx, channel, mine, batch_outcomes(mine, result))[1]
            answered += len(mine)
            report(Progress(publication_id, "waiting", answered, done, failed, f"{answered:,} of {done:,} answered"))
    return state, error


async def _send_realtime(
    ctx: AppContext,
    channel: ChannelSpec,
    plan: Plan,
    publication_id: int,
    connector: Connector,
    ids: dict[str, int],
    report: ProgressCallback,
    should_cancel: Callable[[], bool] | None,
) -> tuple[PublicationState | None, str | None]:
    """A few offers, each its own real-time listing update (no batch, no task to poll).

    An update sets absolute values, so one whose answer was lost is simply
    sent again by the next run: the item goes back to the queue.
    """
    from shelfdesk.channels.errors import AuthError, RateLimited, TransientError, WafBlocked

    total, done, failed = len(plan.to_send), 0, 0
    for planned in plan.to_send:
        if should_cancel is not None and should_cancel():
            requeue_unsent(ctx, publication_id)
            return PublicationState.canceled, "cancelled by the operator between updates"
        [item] = mark_sent(ctx, publication_id, [planned], ids, "rt-" + uuid.uuid4().hex[:9])
        offer = planned.payload
        try:
            outcome = await connector.update_listing_now(
                sku=planned.sku,
                quantity=offer.quantity if offer else None,
                price=offer.price if offer else None,
                listing_id=getattr(offer, "remote_id", None),
                currency=getattr(offer, "currency", None),
                min_price=getattr(offer, "min_price", None),
            )
        except (RateLimited, AuthError, WafBlocked, TransientError) as exc:
            unmark_sent(ctx, [item.id])
            requeue_unsent(ctx, publication_id)
            return None, f"stopped sending: {exc}"
        failed += record_outcomes(ctx, channel, [item], {item.id: (outcome.ok, outcome.message, outcome.code, outcome.remote_id)})[1]
        done += 1
        report(Progress(publication_id, "sending", done, total, failed, f"updated {done:,} of {total:,} in real time"))
    return None, None


def mark_sent(ctx: AppContext, publication_id: int, chunk: list[PlannedItem], ids: dict[str, int], batch_key: str) -> list[SentItem]:
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    now = ctx.clock.now()
    items = [
        SentItem(
            ids[p.sku],
            publication_id,
            p.sku,
            p.action,
            p.payload.price if p.payload else None,
            p.payload.quantity if p.payload else None,
            p.content_hash,
            None,
            now,
        )
        for p in chunk
    ]
    with ctx.write_session() as session:
        session.execute(
            update(PublicationItem), [{"id": i.id, "outcome": ItemOutcome.sent, "sent_at": now, "batch_key": batch_key} for i in items]
        )
    return items


def unmark_sent(ctx: AppContext, ids: list[int]) -> None:
    """A batch the marketplace did not take (429, auth): its items were not sent."""
    from sqlalchemy import update

    if not ids:
        return

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(
            update(PublicationItem), [{"id": i, "outcome": ItemOutcome.queued, "sent_at": None, "batch_key": None} for i in ids]
        )


def _note(ctx: AppContext, ids: list[int], message: str) -> None:
    from sqlalchemy import update

    if not ids:
        return

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i, "message": message[:500]} for i in ids])


def _taken_by(items: list[SentItem], tickets: Sequence[Any]) -> list[SentItem]:
    """The items of ``items`` that one of ``tickets`` (batches the marketplace took) carries."""
    skus = {sku.casefold() for ticket in tickets for sku in ticket.skus}
    return [i for i in items if i.sku.casefold() in skus]


def _set_tasks(ctx: AppContext, items: list[SentItem], tickets: Sequence[Any]) -> None:
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    task_of: dict[str, str] = {}
    for ticket in tickets:
        for sku in ticket.skus:
            task_of[sku.casefold()] = ticket.remote_id
    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i.id, "remote_task_id": task_of.get(i.sku.casefold())} for i in items])
        if tickets:
            from shelfdesk.db.models import Publication

            pub = session.get(Publication, items[0].publication_id)
            if pub is not None and pub.remote_task_id is None:
                pub.remote_task_id = tickets[0].remote_id


def publish_sync(
    ctx: AppContext, channel_id: int, kind: PublicationKind | str, mode: PublicationMode | str = PublicationMode.update, **kwargs: Any
) -> PublishResult:
    """:func:`publish` for callers without an event loop (the CLI, a console thread worker)."""
    import asyncio

    return asyncio.run(publish(ctx, channel_id, kind, mode, **kwargs))
