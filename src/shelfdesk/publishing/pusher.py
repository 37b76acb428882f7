"""The stock pusher: dirty SKUs reach the marketplace within seconds, through the fastest path it allows.

Every change of a SKU's publishable quantity leaves a dirty mark per channel
(:mod:`.dirty`). The pusher, a job like the others (a few seconds apart, under
the same leases), takes a channel's marks, plans them exactly as the offers
feed would (same stock policy, same listing state, same quota), and sends what
differs from what was last published:

* stock-outs always, and everything when only a few SKUs changed, one by one
  through the marketplace's real-time update (Back Market's
  ``POST /ws/listings/{id}``, Leboncoin's ad update): seconds, not minutes;
* the rest of a large change in one batch of the offers feed's endpoint.

Each push is a publication run of the offers feed started by
:data:`PUSHER`: its items are the SKU's history on Publications, they count in
the account's hourly budget like every other line (:func:`engine.run_quota`),
and the engine's crash rules hold (items marked sent before anything is
posted). A mark is removed only once its SKU's outcome is recorded and only if
no newer change marked it again, so a killed pusher loses nothing: the next
one finds the marks and pushes the quantity true at that moment. Quantities are
absolute, so a real-time update whose answer was lost is simply sent again.

Bursts coalesce: a channel whose newest mark is under ``stock_settle_seconds``
old waits a moment (never more than ``stock_max_wait_seconds`` after its
oldest mark), so a 500-order harvest is one push, not 500.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import ItemOutcome, PublicationKind, PublicationMode, PublicationState
from shelfdesk.publishing.dirty import DirtyMark, clear_marks, read_marks

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.channel import ChannelSpec
    from shelfdesk.publishing.engine import ConnectorFactory
    from shelfdesk.publishing.outcomes import SentItem
    from shelfdesk.publishing.plan import Plan, PlannedItem

log = logging.getLogger("shelfdesk.publishing")

#: Who started the pusher's publication runs (Publications and the budget tell them apart by it).
PUSHER = "stock pusher"
#: Up to this many SKUs go one by one through the real-time update; more go in one batch.
DEFAULT_REALTIME_MAX = 20
#: A burst is waited for while its newest mark is this young …
DEFAULT_SETTLE_SECONDS = 1.0
#: … but never longer than this after its oldest mark.
DEFAULT_MAX_WAIT_SECONDS = 5.0
#: SKUs planned per push at most (a catalog-wide change is pushed in slices, stock-outs first).
MAX_SKUS_PER_PUSH = 20_000
#: Batch key prefix of real-time items: an interrupted one is sent again rather than held.
REALTIME_KEY = "rt-"
INTERRUPTED = "the pusher stopped before the marketplace's answer; the quantity is pushed again"


@dataclass
class PushResult:
    """What one push of one channel did."""

    channel_id: int
    publication_id: int | None = None
    waiting: int = 0  #: dirty SKUs found
    realtime: int = 0  #: lines sent one by one
    batched: int = 0  #: lines sent in a batch
    published: int = 0
    failed: int = 0
    unchanged: int = 0  #: marks cleared without sending (already published as computed)
    over_budget: int = 0  #: left dirty: the account's hourly budget is spent
    held: int = 0  #: left dirty: awaiting an earlier batch's answer
    deferred: str | None = None  #: why nothing was tried this time (a burst settling, a run in progress)
    sent_quantities: dict[str, int] = field(default_factory=dict)  #: SKU → quantity sent (tests, --json)

    def counts(self) -> dict[str, int]:
        """The job's counts (empty when nothing was to do: the run is recorded as skipped)."""
        if self.deferred or not (self.realtime or self.batched or self.failed or self.unchanged or self.over_budget or self.held):
            return {}
        out = {
            "realtime": self.realtime,
            "batched": self.batched,
            "published": self.published,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "over_budget": self.over_budget,
            "held": self.held,
        }
        return {k: v for k, v in out.items() if v}


async def push_stock(ctx: AppContext, channel_id: int, *, factory: ConnectorFactory | None = None, settle: bool = True) -> PushResult:
    """Push the channel's dirty SKUs now (``settle=False``: do not wait for a burst to end)."""
    from shelfdesk.publishing.channel import load_channel
    from shelfdesk.publishing.engine import default_factory
    from shelfdesk.publishing.quota import run_quota
    from shelfdesk.publishing.recovery import mark_interrupted, recover

    result = PushResult(channel_id)
    channel = load_channel(ctx, channel_id)
    with ctx.read_session() as session:
        marks = read_marks(session, channel_id, MAX_SKUS_PER_PUSH)
    result.waiting = len(marks)
    if not marks:
        return result
    if not (channel.enabled and channel.active and channel.owns_quantities):
        with ctx.write_session() as session:  # the feeds send it once the channel publishes quantities again
            clear_marks(session, marks)
        result.deferred = "the channel does not publish quantities now"
        return result
    if settle and _settling(ctx, channel, marks):
        result.deferred = "a burst of changes is still arriving"
        return result
    _, live = mark_interrupted(ctx, channel_id, write=True)
    if live:  # a feed run planned before these changes: push after it lands, or it would overwrite the push
        result.deferred = "a publication of this channel is running"
        return result
    _settle_interrupted(ctx, channel)
    make = factory or default_factory(ctx)
    async with make(channel) as connector:
        recovery = await recover(ctx, channel, connector, None)
        quota = run_quota(ctx, channel)
        plan = _plan(ctx, channel, marks, recovery.held, quota)
        result.held = len(plan.held)
        result.over_budget = len(plan.queued)
        keep = {i.key for i in plan.held} | {i.key for i in plan.queued}
        if plan.to_send:
            sent_ok = await _send(ctx, channel, connector, plan, result)
            keep |= {i.key for i in plan.to_send if i.key not in sent_ok}
        result.unchanged = sum(1 for m in marks if m.sku.casefold() not in keep) - result.published - result.failed
        result.unchanged = max(0, result.unchanged)
    with ctx.write_session() as session:
        clear_marks(session, [m for m in marks if m.sku.casefold() not in keep])
    return result


def push_stock_sync(ctx: AppContext, channel_id: int, **kwargs: Any) -> PushResult:
    """:func:`push_stock` for callers without an event loop (the job runs in a thread, the CLI)."""
    return asyncio.run(push_stock(ctx, channel_id, **kwargs))


def _settling(ctx: AppContext, channel: ChannelSpec, marks: Sequence[DirtyMark]) -> bool:
    now = ctx.clock.now()
    settle = timedelta(seconds=channel.setting_float("stock_settle_seconds", DEFAULT_SETTLE_SECONDS))
    longest = timedelta(seconds=channel.setting_float("stock_max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS))
    newest = max(m.marked_at for m in marks)
    oldest = min(m.first_marked_at for m in marks)
    return now - newest < settle and now - oldest < longest


def _plan(ctx: AppContext, channel: ChannelSpec, marks: Sequence[DirtyMark], held: set[str], quota: int | None) -> Plan:
    from shelfdesk.publishing.plan import build_plan

    from shelfdesk.publishing.quota import stockout_reserve

    return build_plan(
        ctx,
        channel,
        PublicationKind.offers,
        PublicationMode.update,
        held=held,
        only_skus=[m.sku for m in marks],
        quota=quota,
        changed_only=True,
        reserve=stockout_reserve(ctx, channel, quota),
    )


def _split(channel: ChannelSpec, items: Sequence[PlannedItem]) -> tuple[list[PlannedItem], list[PlannedItem]]:
    """(real-time, batch): every stock-out real-time; the rest too when they are few."""
    realtime_max = channel.setting_int("stock_realtime_max", DEFAULT_REALTIME_MAX)
    if len(items) <= realtime_max:
        return list(items), []
    stockouts = [i for i in items if i.new_quantity == 0]
    return stockouts, [i for i in items if i.new_quantity != 0]


async def _send(ctx: AppContext, channel: ChannelSpec, connector: Connector, plan: Plan, result: PushResult) -> set[str]:
    """Record the run, send its items, record their outcomes; returns the SKU keys whose outcome is recorded."""
    from shelfdesk.publishing.counters import finish_counters
    from shelfdesk.publishing.engine import record_plan, start_publication
    from shelfdesk.publishing.recovery import ACTIVE

    skus = [i.sku for i in plan.to_send]
    publication_id = start_publication(ctx, channel, PublicationKind.offers, PublicationMode.update, dry_run=False, started_by=PUSHER, only_skus=skus)
    result.publication_id = publication_id
    ACTIVE.add(publication_id)
    done: set[str] = set()
    error: str | None = None
    try:
        record_plan(ctx, publication_id, plan, dry_run=False)
        with ctx.write_session() as session:
            from shelfdesk.db.models import Publication

            pub = session.get(Publication, publication_id)
            if pub is not None:
                pub.summary = {**(pub.summary or {}), "pusher": True}
        realtime, batch = _split(channel, plan.to_send)
        ids = _item_ids(ctx, publication_id)
        error = await _send_realtime(ctx, channel, connector, publication_id, realtime, ids, result, done)
        if batch and error is None:
            error = await _send_batch(ctx, channel, connector, publication_id, plan, batch, result, done)
    except Exception as exc:
        log.exception("stock push %s of channel %s failed", publication_id, channel.id)
        finish_counters(ctx, publication_id, state=PublicationState.failed, error=str(exc)[:500], finished=True)
        raise
    finally:
        ACTIVE.discard(publication_id)
    finish_counters(ctx, publication_id, error=error, finished=True)
    return done


def _item_ids(ctx: AppContext, publication_id: int) -> dict[str, int]:
    from sqlalchemy import select

    from shelfdesk.db.models import PublicationItem as I

    with ctx.read_session() as session:
        return dict(
            session.execute(
                select(I.sku, I.id).where(I.publication_id == publication_id, I.outcome == ItemOutcome.queued, I.message.is_(None))
            ).all()
        )  # type: ignore[union-attr]


async def _send_realtime(
    ctx: AppContext,
    channel: ChannelSpec,
    connector: Connector,
    publication_id: int,
    items: Sequence[PlannedItem],
    ids: dict[str, int],
    result: PushResult,
    done: set[str],
) -> str | None:
    """One real-time update per item; stops (the rest stays dirty) at a failure that is not about the SKU."""
    from shelfdesk.channels.errors import ChannelError, UnknownOutcome
    from shelfdesk.publishing.engine import mark_sent, requeue_unsent, unmark_sent
    from shelfdesk.publishing.outcomes import record_outcomes
    from shelfdesk.publishing.recovery import UNKNOWN_OUTCOME

    for item in items:
        payload = item.payload
        assert payload is not None
        sent = mark_sent(ctx, publication_id, [item], ids, f"{REALTIME_KEY}{uuid.uuid4().hex[:9]}")
        try:
            answer = await connector.update_listing_now(
                sku=item.sku, quantity=payload.quantity, price=payload.price, listing_id=payload.remote_id, currency=payload.currency
            )
        except UnknownOutcome as exc:  # maybe applied: counted in the budget, pushed again (absolute values)
            record_outcomes(ctx, channel, sent, {sent[0].id: (False, f"no answer ({exc}): pushed again", UNKNOWN_OUTCOME, None)})
            result.failed += 1
            continue
        except ChannelError as exc:  # throttled, credentials, unreachable: not taken; the marks wait
            unmark_sent(ctx, [sent[0].id])
            requeue_unsent(ctx, publication_id)
            return f"stopped pushing: {exc}"
        record_outcomes(
            ctx, channel, sent, {sent[0].id: (answer.ok, answer.message if not answer.ok else "", answer.code, answer.remote_id)}
        )
        _count(result, item, answer.ok, realtime=True)
        done.add(item.key)
    return None


async def _send_batch(
    ctx: AppContext,
    channel: ChannelSpec,
    connector: Connector,
    publication_id: int,
    plan: Plan,
    items: Sequence[PlannedItem],
    result: PushResult,
    done: set[str],
) -> str | None:
    """A large change goes the offers feed's way (the engine's batches); an unanswered batch is followed later."""
    from dataclasses import replace

    from sqlalchemy import select

    from shelfdesk.db.models import PublicationItem as I
    from shelfdesk.publishing.counters import SUCCESS
    from shelfdesk.publishing.engine import send_plan

    batch = replace(plan, to_send=list(items), queued=[])
    _, error = await send_plan(ctx, channel, PublicationKind.offers, batch, publication_id, connector, lambda p: None, None, lambda name: None)
    by_key = {i.key: i for i in items}
    with ctx.read_session() as session:
        rows = session.execute(select(I.sku, I.outcome).where(I.publication_id == publication_id)).all()
    for sku, outcome in rows:
        item = by_key.get(sku.casefold())
        if item is None or outcome not in (*SUCCESS, ItemOutcome.failed):
            continue
        _count(result, item, outcome in SUCCESS, realtime=False)
        done.add(item.key)
    return error


def _count(result: PushResult, item: PlannedItem, ok: bool, *, realtime: bool) -> None:
    if realtime:
        result.realtime += 1
    else:
        result.batched += 1
    if ok:
        result.published += 1
        if item.new_quantity is not None:
            result.sent_quantities[item.sku] = item.new_quantity
    else:
        result.failed += 1


def _settle_interrupted(ctx: AppContext, channel: ChannelSpec) -> None:
    """Real-time items a killed pusher left without an answer are recorded as such: the mark pushes them again.

    (A batch item is different: it may still be applied minutes later, so the engine holds it.)
    """
    from sqlalchemy import select

    from shelfdesk.db.models import Publication, PublicationItem as I
    from shelfdesk.publishing.counters import finish_counters
    from shelfdesk.publishing.outcomes import record_outcomes, sent_item

    with ctx.read_session() as session:
        rows = session.execute(
            select(I.id, I.publication_id, I.sku, I.action, I.new_price, I.new_quantity, I.content_hash, I.remote_task_id, I.sent_at)
            .join(Publication, Publication.id == I.publication_id)
            .where(
                Publication.channel_id == channel.id,
                Publication.state != PublicationState.running,
                I.outcome == ItemOutcome.sent,
                I.batch_key.like(f"{REALTIME_KEY}%"),
            )  # type: ignore[union-attr]
        ).all()
    if not rows:
        return
    items: list[SentItem] = [sent_item(row) for row in rows]
    record_outcomes(ctx, channel, items, {i.id: (False, INTERRUPTED, "interrupted", None) for i in items})
    for publication_id in {i.publication_id for i in items}:
        finish_counters(ctx, publication_id)


def push_waiting(ctx: AppContext, *, factory: ConnectorFactory | None = None) -> int:
    """Push now every channel with SKUs waiting, without waiting for the pusher's next run; returns lines sent.

    Called at the end of a run that has just marked SKUs (an order harvest, a
    feed applied), so a sale reaches the other marketplaces in the same minute
    rather than one pusher interval later. A failure is logged, not raised:
    the marks stay and the pusher's own schedule sends them.
    """
    from shelfdesk.publishing.dirty import waiting_counts

    with ctx.read_session() as session:
        channels = sorted(waiting_counts(session))
    sent = 0
    for channel_id in channels:
        try:
            result = push_stock_sync(ctx, channel_id, factory=factory, settle=False)
        except Exception:
            log.exception("stock push of channel %s after new marks failed; the pusher's schedule retries", channel_id)
            continue
        sent += result.realtime + result.batched
    return sent


# --------------------------------------------------------------------------- the job


def run_pusher(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """The job: push the channel's dirty SKUs (a plain function: the runner gives it a thread and its own loop)."""
    if channel_id is None:
        raise RuntimeError("the stock pusher needs a channel")
    result = push_stock_sync(ctx, channel_id)
    if result.deferred:
        log.debug("stock push of channel %s deferred: %s", channel_id, result.deferred)
    return result.counts()


def last_push(ctx: AppContext, channel_id: int) -> Any:
    """The channel's latest pusher run (None when it never pushed)."""
    from sqlalchemy import select

    from shelfdesk.db.models import Publication

    with ctx.read_session() as session:
        return (
            session.execute(
                select(Publication)
                .where(Publication.channel_id == channel_id, Publication.started_by == PUSHER)
                .order_by(Publication.started_at.desc(), Publication.id.desc())
                .limit(1)  # type: ignore[attr-defined]
            )
            .scalars()
            .first()
        )
