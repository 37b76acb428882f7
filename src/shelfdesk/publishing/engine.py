"""Running a publication: plan, send in batches within the quota, follow each batch to per-item outcomes.

The order of writes is what makes a run safe to kill at any point:

1. The run is recorded (``running``, with its holder ``host:pid``) and every
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
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode, PublicationState
from shelfdesk.publishing.channel import (
    DEFAULT_BATCH_WAIT_SECONDS,
    DEFAULT_HOLD_MINUTES,
    DEFAULT_REALTIME_OFFERS_MAX,
    ChannelSpec,
    load_channel,
)
from shelfdesk.publishing.errors import PublishError, attribute_of, error_key
from shelfdesk.publishing.plan import Plan, PlannedItem, RemoteView, build_plan

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import BatchItemResult, BatchResult, Connector
    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.publishing")

#: Builds the connector of a channel (tests pass one with short timeouts).
ConnectorFactory = Callable[[ChannelSpec], "Connector"]
OVER_QUOTA = "over this hour's quota: carried to the next run"
UNKNOWN_OUTCOME = "unknown-outcome"
SUCCESS = (ItemOutcome.created, ItemOutcome.updated, ItemOutcome.zeroed)
#: Publication ids running in this process (a crashed run of this process is not in it).
_ACTIVE: set[int] = set()


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
        return {"publication_id": self.publication_id, "state": str(self.state), "counters": dict(self.counters),
                "recovered": dict(self.recovered), "error": self.error, "plan": self.plan.summary()}  # fmt: skip


ProgressCallback = Callable[[Progress], None]
Checkpoint = Callable[[str], None]


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


#: A run held by another host is taken as dead after this long (its process cannot be checked).
FOREIGN_HOLDER_HOURS = 6


def holder_alive(holder: str | None, publication_id: int, started_at: datetime | None = None,
                 now: datetime | None = None) -> bool:  # fmt: skip
    """Whether the process that runs a publication still does.

    On this host the process id is checked; another host's run is assumed
    alive for :data:`FOREIGN_HOLDER_HOURS` after it started.
    """
    if not holder or ":" not in holder:
        return False
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname():
        return started_at is None or now is None or now - started_at < timedelta(hours=FOREIGN_HOLDER_HOURS)
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return publication_id in _ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_factory(ctx: AppContext) -> ConnectorFactory:
    """Connectors through the orders module's account resolution (credentials never leave it)."""

    def build(channel: ChannelSpec) -> Connector:
        from shelfdesk.channels.registry import constructor_options
        from shelfdesk.orders.connect import connect, load_account

        account = load_account(ctx, channel.account_id)
        extra = {"language": channel.market} if "language" in constructor_options(account.marketplace) else {}
        return connect(ctx, account, **extra)

    return build


# --------------------------------------------------------------------------- quota


def lines_used_last_hour(session: Session, account_id: int, now: datetime) -> int:
    """Listing lines the account sent in the last hour: feed items plus applied repricer changes."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import Channel, Publication, PublicationItem, RepriceChange

    since = now - timedelta(hours=1)
    channels = select(Channel.id).where(Channel.account_id == account_id)
    recent = select(Publication.id).where(
        Publication.channel_id.in_(channels), Publication.dry_run.is_(False),  # type: ignore[attr-defined]
        Publication.started_at > now - timedelta(hours=6),
    )
    items = session.execute(
        select(func.count()).select_from(PublicationItem)
        .where(PublicationItem.publication_id.in_(recent), PublicationItem.sent_at > since)  # type: ignore[attr-defined,operator]
    ).scalar_one()  # fmt: skip
    reprices = session.execute(
        select(func.count()).select_from(RepriceChange)
        .where(RepriceChange.channel_id.in_(channels), RepriceChange.applied.is_(True), RepriceChange.at > since)  # type: ignore[attr-defined]
    ).scalar_one()  # fmt: skip
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


def batch_size(channel: ChannelSpec) -> int:
    from shelfdesk.channels.registry import capabilities

    caps = capabilities(channel.marketplace)
    size = caps.max_batch_lines
    if caps.lines_per_hour:
        size = min(size, int(caps.lines_per_hour * 0.9))
    wanted = channel.setting_int("batch_lines", 0)
    return max(1, min(size, wanted) if wanted > 0 else size)


# --------------------------------------------------------------------------- the marketplace's listings


async def read_listings(connector: Connector) -> dict[str, RemoteView]:
    """Every listing the account has, by case-folded SKU."""
    out: dict[str, RemoteView] = {}
    async for page in connector.iter_listings():
        for listing in page:
            if listing.sku:
                out[listing.sku.casefold()] = RemoteView(listing.sku, listing.remote_id, listing.price, listing.quantity,
                                                         listing.raw_state)  # fmt: skip
    return out


def store_listings(ctx: AppContext, channel_id: int, remote: dict[str, RemoteView]) -> None:
    """Replace the stored reading: SKUs the reading does not list are no longer listed."""
    from sqlalchemy import update

    from shelfdesk.db.models import ChannelListing
    from shelfdesk.db.upsert import upsert_rows

    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.execute(update(ChannelListing).where(ChannelListing.channel_id == channel_id)
                        .values(remote_id=None, remote_price=None, remote_quantity=None, remote_state=None))  # fmt: skip
        rows = [{"channel_id": channel_id, "sku": v.sku, "sku_key": key, "remote_id": v.remote_id or key,
                 "remote_price": v.price, "remote_quantity": v.quantity, "remote_state": v.state,
                 "remote_seen_at": now, "updated_at": now} for key, v in remote.items()]  # fmt: skip
        for start in range(0, len(rows), 1000):
            upsert_rows(session, ChannelListing, rows[start : start + 1000], ["channel_id", "sku_key"],
                        ["sku", "remote_id", "remote_price", "remote_quantity", "remote_state", "remote_seen_at", "updated_at"])  # fmt: skip


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class _SentItem:
    id: int
    publication_id: int
    sku: str
    action: ItemAction
    new_price: Decimal | None
    new_quantity: int | None
    content_hash: str | None
    remote_task_id: str | None
    sent_at: datetime | None


def _sent_item(row: Any) -> _SentItem:
    return _SentItem(row.id, row.publication_id, row.sku, ItemAction(row.action), row.new_price, row.new_quantity,
                     row.content_hash, row.remote_task_id, row.sent_at)  # fmt: skip


def record_outcomes(ctx: AppContext, channel: ChannelSpec, items: Sequence[_SentItem],
                    outcomes: dict[int, tuple[bool, str, str | None, str | None]]) -> tuple[int, int]:  # fmt: skip
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
            for row in session.execute(select(ChannelListing).where(
                    ChannelListing.channel_id == channel.id, ChannelListing.sku_key.in_(keys[start : start + 500]))).scalars():  # type: ignore[attr-defined]  # fmt: skip
                existing[row.sku_key] = row
        listing_rows: list[dict[str, Any]] = []
        for item in items:
            if item.id not in outcomes:
                continue
            ok, message, code, remote_id = outcomes[item.id]
            key = item.sku.casefold()
            before = existing.get(key)
            state = {
                "channel_id": channel.id, "sku": item.sku, "sku_key": key,
                "remote_id": getattr(before, "remote_id", None), "remote_price": getattr(before, "remote_price", None),
                "remote_quantity": getattr(before, "remote_quantity", None),
                "published_price": getattr(before, "published_price", None),
                "published_quantity": getattr(before, "published_quantity", None),
                "published_hash": getattr(before, "published_hash", None),
                "published_at": getattr(before, "published_at", None),
                "last_outcome": None, "last_error": None, "last_publication_id": item.publication_id, "updated_at": now,
            }  # fmt: skip
            if ok:
                ok_count += 1
                outcome = {ItemAction.create: ItemOutcome.created, ItemAction.zero: ItemOutcome.zeroed}.get(item.action, ItemOutcome.updated)
                item_rows.append({"id": item.id, "outcome": outcome, "message": None, "error_code": None, "error_key": None,
                                  "attribute": None, "warning": message or None, "resolved_at": now})  # fmt: skip
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
                item_rows.append({"id": item.id, "outcome": ItemOutcome.failed, "message": message or "refused without a message",
                                  "error_code": code, "error_key": error_key(code, message, attribute),
                                  "attribute": attribute, "warning": None, "resolved_at": now})  # fmt: skip
                state["last_outcome"] = ItemOutcome.failed
                state["last_error"] = (message or "")[:500]
            listing_rows.append(state)
        if item_rows:
            session.execute(update(PublicationItem), item_rows)
        for start in range(0, len(listing_rows), 1000):
            upsert_rows(session, ChannelListing, listing_rows[start : start + 1000], ["channel_id", "sku_key"],
                        [k for k in listing_rows[0] if k not in ("channel_id", "sku_key")])  # fmt: skip
    return ok_count, failed


def _batch_outcomes(items: Sequence[_SentItem], result: BatchResult) -> dict[int, tuple[bool, str, str | None, str | None]]:
    from shelfdesk.channels.base import BatchState

    by_sku: dict[str, BatchItemResult] = {r.sku.casefold(): r for r in result.items}
    out: dict[int, tuple[bool, str, str | None, str | None]] = {}
    for item in items:
        r = by_sku.get(item.sku.casefold())
        if r is not None:
            out[item.id] = (r.ok, r.message, r.code, r.remote_id)
        elif result.state is BatchState.failed:
            out[item.id] = (False, result.error or "the marketplace failed the whole batch", "batch-failed", None)
        else:
            out[item.id] = (False, "the marketplace reported no result for this SKU", "no-result", None)
    return out


# --------------------------------------------------------------------------- recovery


@dataclass
class Recovery:
    held: set[str] = field(default_factory=set)  #: case-folded SKUs still awaiting an answer
    published: int = 0
    failed: int = 0
    interrupted: int = 0
    publications: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"interrupted": self.interrupted, "published": self.published, "failed": self.failed, "held": len(self.held)}


def _mark_interrupted(ctx: AppContext, channel_id: int, *, write: bool) -> tuple[int, set[int]]:
    from sqlalchemy import select

    from shelfdesk.db.models import Publication

    with ctx.read_session() as session:
        running = session.execute(select(Publication.id, Publication.holder, Publication.started_at).where(
            Publication.channel_id == channel_id, Publication.state == PublicationState.running)).all()  # fmt: skip
    now = ctx.clock.now()
    dead = [pid for pid, holder, started in running if not holder_alive(holder, pid, started, now)]
    live = {pid for pid, _, _ in running} - set(dead)
    if dead and write:
        now = ctx.clock.now()
        with ctx.write_session() as session:
            for pid in dead:
                pub = session.get(Publication, pid)
                if pub is not None and pub.state == PublicationState.running:
                    pub.state = PublicationState.interrupted
                    pub.finished_at = now
                    pub.error = f"the process running it ({pub.holder}) stopped; its batches are followed by the next run"
    return len(dead), live


async def recover(ctx: AppContext, channel: ChannelSpec, connector: Connector,
                  remote: dict[str, RemoteView] | None, *, write: bool = True) -> Recovery:  # fmt: skip
    """Follow what earlier runs left ``sent``: poll their batches, check lost answers against the listings."""
    from sqlalchemy import select

    from shelfdesk.channels.base import BatchState, BatchTicket
    from shelfdesk.channels.errors import NotFound as NotFoundError
    from shelfdesk.db.models import Publication, PublicationItem

    report = Recovery()
    report.interrupted, live = _mark_interrupted(ctx, channel.id, write=write)
    with ctx.read_session() as session:
        rows = session.execute(
            select(PublicationItem.id, PublicationItem.publication_id, PublicationItem.sku, PublicationItem.action,
                   PublicationItem.new_price, PublicationItem.new_quantity, PublicationItem.content_hash,
                   PublicationItem.remote_task_id, PublicationItem.sent_at, Publication.kind)
            .join(Publication, Publication.id == PublicationItem.publication_id)
            .where(Publication.channel_id == channel.id, Publication.dry_run.is_(False),  # type: ignore[attr-defined]
                   PublicationItem.outcome == ItemOutcome.sent)
        ).all()  # fmt: skip
    rows = [r for r in rows if r.publication_id not in live]
    if not rows:
        return report
    hold = timedelta(minutes=channel.setting_int("unknown_outcome_hold_minutes", DEFAULT_HOLD_MINUTES))
    now = ctx.clock.now()
    by_task: dict[tuple[str, str], list[_SentItem]] = {}
    lost: list[tuple[_SentItem, str]] = []
    for row in rows:
        item = _sent_item(row)
        if item.remote_task_id:
            by_task.setdefault((str(row.kind), item.remote_task_id), []).append(item)
        else:
            lost.append((item, str(row.kind)))
        report.publications.add(item.publication_id)
    for (kind, task_id), items in by_task.items():
        ticket = BatchTicket(channel.marketplace, PublicationKind(kind), task_id, tuple(i.sku for i in items),
                             min((i.sent_at for i in items if i.sent_at), default=now))  # fmt: skip
        try:
            result = await connector.get_batch(ticket)
        except NotFoundError:  # the marketplace forgot the task: judge by its listings
            lost.extend((i, kind) for i in items)
            continue
        if result.state is BatchState.pending:
            report.held.update(i.sku.casefold() for i in items)
            continue
        if write:
            if result.unread_result is not None:
                for publication_id in {i.publication_id for i in items}:
                    _note_run(ctx, publication_id, unread={task_id: result.unread_result})
            published, failed = record_outcomes(ctx, channel, items, _batch_outcomes(items, result))
            report.published += published
            report.failed += failed
    outcomes: dict[int, tuple[bool, str, str | None, str | None]] = {}
    resolved: list[_SentItem] = []
    for item, kind in lost:
        view = remote.get(item.sku.casefold()) if remote is not None else None
        if remote is not None and _applied(item, kind, view):
            outcomes[item.id] = (True, "", None, view.remote_id if view else None)
            resolved.append(item)
        elif remote is not None and item.sent_at is not None and now - item.sent_at >= hold:
            outcomes[item.id] = (False, f"no answer to its batch and the marketplace's listings do not show it after "
                                        f"{int(hold.total_seconds() // 60)} minutes: it is sent again", UNKNOWN_OUTCOME, None)  # fmt: skip
            resolved.append(item)
        else:
            report.held.add(item.sku.casefold())
    if resolved and write:
        published, failed = record_outcomes(ctx, channel, resolved, outcomes)
        report.published += published
        report.failed += failed
    if write:
        for publication_id in report.publications:
            finish_counters(ctx, publication_id)
    return report


def _applied(item: _SentItem, kind: str, view: RemoteView | None) -> bool:
    """Whether the marketplace's listing shows what the item sent."""
    if view is None:
        return False
    if kind == PublicationKind.products.value and item.action is ItemAction.create:
        return True
    if item.new_price is not None and view.price != item.new_price:
        return False
    return item.new_quantity is None or view.quantity == item.new_quantity


# --------------------------------------------------------------------------- counters


def finish_counters(ctx: AppContext, publication_id: int, *, state: PublicationState | None = None,
                    error: str | None = None, finished: bool = False) -> tuple[dict[str, int], PublicationState]:  # fmt: skip
    """Recompute a publication's counters from its items (the items are the truth).

    ``finished`` ends the run: its state is ``state`` or, when None, the one
    its counters call for. Otherwise (a later run resolved some of its items)
    a finished state is recomputed and interrupted/cancelled ones are kept.
    """
    from sqlalchemy import func, select

    from shelfdesk.db.models import Publication, PublicationItem as I

    with ctx.write_session() as session:
        rows = session.execute(
            select(I.outcome, I.sent_at.is_not(None), I.warning.is_not(None), func.count())  # type: ignore[union-attr]
            .where(I.publication_id == publication_id).group_by(I.outcome, I.sent_at.is_not(None), I.warning.is_not(None))  # type: ignore[union-attr]
        ).all()  # fmt: skip
        c = {"sent": 0, "succeeded": 0, "warnings": 0, "failed": 0, "invalid": 0, "queued": 0, "pending": 0, "held": 0}
        for outcome, was_sent, warned, count in rows:
            outcome = ItemOutcome(outcome)
            if was_sent:
                c["sent"] += count
            if outcome in SUCCESS:
                c["succeeded"] += count
                c["warnings"] += count if warned else 0
            elif outcome is ItemOutcome.failed:
                c["failed" if was_sent else "invalid"] += count
            elif outcome is ItemOutcome.queued:
                c["queued"] += count
            elif outcome is ItemOutcome.sent:
                c["pending"] += count
            elif outcome is ItemOutcome.skipped:
                c["held"] += count
        pub = session.get(Publication, publication_id)
        assert pub is not None
        for name in ("sent", "succeeded", "warnings", "failed", "invalid", "queued"):
            setattr(pub, name, c[name])
        summary = dict(pub.summary or {})
        pub.skipped = int(sum((summary.get("skipped") or {}).values())) + c["held"]
        summary["pending"] = c["pending"]
        pub.summary = summary
        if state is not None:
            pub.state = state
        elif finished or pub.state in (PublicationState.succeeded, PublicationState.partial, PublicationState.failed):
            pub.state = _final_state(c, pub.planned or 0)
        if error is not None:
            pub.error = error
        if finished:
            pub.finished_at = ctx.clock.now()
        return c, PublicationState(pub.state)


def _final_state(c: dict[str, int], planned: int) -> PublicationState:
    if planned == 0 and c["sent"] == 0 and not (c["invalid"] or c["queued"]):
        return PublicationState.skipped  # nothing to do; a run that refused items or left some queued is partial
    if c["sent"] and c["succeeded"] == 0 and c["failed"] == c["sent"]:
        return PublicationState.failed
    if c["failed"] or c["queued"] or c["pending"] or c["invalid"]:
        return PublicationState.partial
    return PublicationState.succeeded


# --------------------------------------------------------------------------- the run


def _item_row(publication_id: int, item: PlannedItem, outcome: ItemOutcome, message: str | None = None) -> dict[str, Any]:
    failed = outcome is ItemOutcome.failed
    return {
        "publication_id": publication_id, "product_id": item.product_id, "sku": item.sku, "action": item.action,
        "outcome": outcome, "old_price": item.old_price, "new_price": item.new_price, "old_quantity": item.old_quantity,
        "new_quantity": item.new_quantity, "message": message if message is not None else item.reason,
        "error_code": item.error_code if failed else None,
        "error_key": error_key(item.error_code, item.reason or "", item.attribute) if failed else None,
        "attribute": item.attribute if failed else None, "content_hash": item.content_hash,
    }  # fmt: skip


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
        raise PublishError(f"publication of {channel.label} is not activated: once its three lights are green, "
                           "A on Mappings (or Stores) activates it; a dry run plans it meanwhile")  # fmt: skip
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
        publication_id = _start(ctx, channel, kind, mode, dry_run=dry_run, started_by=started_by, only_skus=only_skus)
    if publication_id is not None:
        _ACTIVE.add(publication_id)
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
            plan = build_plan(ctx, channel, kind, mode, remote=remote, held=recovery.held, only_skus=only_skus, quota=quota)
            if not write and recovery.held:
                plan.warnings.append("earlier batches await an answer; the real run checks them first")
            if publication_id is not None:
                record_plan(ctx, publication_id, plan, dry_run=dry_run)
            if dry_run:
                counters = finish_counters(ctx, publication_id, state=PublicationState.dry_run, finished=True)[0] if publication_id else {}
                report(Progress(publication_id, "done", len(plan.to_send), len(plan.to_send), message="dry run: nothing sent"))
                return PublishResult(publication_id, PublicationState.dry_run, plan, counters, recovery.as_dict())
            assert publication_id is not None
            state, error = await _send(ctx, channel, kind, plan, publication_id, connector, report, should_cancel, checkpoint)
    except PublishError as exc:
        if publication_id is not None:
            finish_counters(ctx, publication_id, state=PublicationState.failed, error=str(exc)[:500], finished=True)
        raise
    except Exception as exc:  # a failure of the whole run: recorded, then raised to the caller
        log.exception("publication %s of channel %s failed", publication_id, channel_id)
        if publication_id is not None:
            _requeue_unsent(ctx, publication_id)
            finish_counters(ctx, publication_id, state=PublicationState.failed, error=str(exc)[:500], finished=True)
        raise
    finally:
        if publication_id is not None:
            _ACTIVE.discard(publication_id)
    counters, state = finish_counters(ctx, publication_id, state=state, error=error, finished=True)
    report(Progress(publication_id, "done", counters.get("sent", 0), len(plan.to_send), counters.get("failed", 0),
                    message=f"{state}"))  # fmt: skip
    return PublishResult(publication_id, state, plan, counters, recovery.as_dict(), error)


def _refuse_concurrent(ctx: AppContext, channel: ChannelSpec) -> int:
    """One real run per channel at a time: two would plan the same changes and send them twice.

    Runs whose process is gone are marked interrupted first; returns how many.
    """
    from shelfdesk.db.models import Publication

    interrupted, live = _mark_interrupted(ctx, channel.id, write=True)
    if not live:
        return interrupted
    with ctx.read_session() as session:
        others = [p for p in (session.get(Publication, pid) for pid in sorted(live)) if p is not None and not p.dry_run]
    if others:
        p = others[0]
        raise PublishError(f"publication #{p.id} of {channel.label} is running ({p.kind}, started {p.started_at:%H:%M} UTC "
                           f"by {p.started_by or '—'} in {p.holder}): wait for it to end")  # fmt: skip
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
        raise PublishError(f"{channel.label}: {channel.marketplace} takes {allowed} mode only, not {mode} "
                           f"(update mode sends what changed, what failed last time and vanished SKUs at 0)")  # fmt: skip
    enabled = channel.products_feed_enabled if kind is PublicationKind.products else channel.offers_feed_enabled
    if not enabled:
        raise PublishError(f"the {kind} feed of channel {channel.label} is switched off")


def _start(ctx: AppContext, channel: ChannelSpec, kind: PublicationKind, mode: PublicationMode, *, dry_run: bool,
           started_by: str | None, only_skus: Collection[str] | None) -> int:  # fmt: skip
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Publication

    now = ctx.clock.now()
    with ctx.write_session() as session:
        pub = Publication(channel_id=channel.id, kind=kind, mode=mode, dry_run=dry_run,
                          state=PublicationState.running, started_by=started_by or ctx.actor, holder=holder_name(),
                          started_at=now, summary={"only_skus": sorted(only_skus)[:50] if only_skus else []})  # fmt: skip
        session.add(pub)
        session.flush()
        if not dry_run:
            record_audit(session, ctx, "publication.start", "channel", channel.id,
                         {"publication": pub.id, "kind": str(kind), "mode": str(mode), "only_skus": len(only_skus or ())})  # fmt: skip
        return int(pub.id)  # type: ignore[arg-type]


def _requeue_unsent(ctx: AppContext, publication_id: int) -> None:
    """Items never posted go back to the queue (they are planned again next run)."""
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(update(PublicationItem).where(
            PublicationItem.publication_id == publication_id, PublicationItem.outcome == ItemOutcome.queued,
            PublicationItem.sent_at.is_(None)).values(message=OVER_QUOTA.replace("over this hour's quota", "the run stopped")))  # type: ignore[union-attr]  # fmt: skip


async def _send(ctx: AppContext, channel: ChannelSpec, kind: PublicationKind, plan: Plan, publication_id: int,
                connector: Connector, report: ProgressCallback, should_cancel: Callable[[], bool] | None,
                checkpoint: Checkpoint) -> tuple[PublicationState | None, str | None]:  # fmt: skip
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
        ids = dict(session.execute(select(I.sku, I.id).where(
            I.publication_id == publication_id, I.outcome == ItemOutcome.queued, I.message.is_(None))).all())  # type: ignore[union-attr]  # fmt: skip
    if kind is PublicationKind.offers and total <= channel.setting_int("realtime_offers_max", DEFAULT_REALTIME_OFFERS_MAX):
        _note_run(ctx, publication_id, path="real-time")
        return await _send_realtime(ctx, channel, plan, publication_id, connector, ids, report, should_cancel)
    _note_run(ctx, publication_id, path="batch")
    size = batch_size(channel)
    posted: list[tuple[Any, list[_SentItem]]] = []
    done = failed = 0
    state: PublicationState | None = None
    error: str | None = None
    for start in range(0, total, size):
        if should_cancel is not None and should_cancel():
            state, error = PublicationState.canceled, "cancelled by the operator between batches"
            _requeue_unsent(ctx, publication_id)
            break
        chunk = plan.to_send[start : start + size]
        batch_key = uuid.uuid4().hex[:12]
        items = _mark_sent(ctx, publication_id, chunk, ids, batch_key)
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
            _unmark(ctx, [i.id for i in items])
            _requeue_unsent(ctx, publication_id)
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
                _note_run(ctx, publication_id, unread={ticket.remote_id: result.unread_result})
            checkpoint("answered")
            failed += record_outcomes(ctx, channel, mine, _batch_outcomes(mine, result))[1]
            answered += len(mine)
            report(Progress(publication_id, "waiting", answered, done, failed, f"{answered:,} of {done:,} answered"))
    return state, error


async def _send_realtime(ctx: AppContext, channel: ChannelSpec, plan: Plan, publication_id: int, connector: Connector,
                         ids: dict[str, int], report: ProgressCallback,
                         should_cancel: Callable[[], bool] | None) -> tuple[PublicationState | None, str | None]:  # fmt: skip
    """A few offers, each its own real-time listing update (no batch, no task to poll).

    An update sets absolute values, so one whose answer was lost is simply
    sent again by the next run: the item goes back to the queue.
    """
    from shelfdesk.channels.errors import AuthError, RateLimited, TransientError, WafBlocked

    total, done, failed = len(plan.to_send), 0, 0
    for planned in plan.to_send:
        if should_cancel is not None and should_cancel():
            _requeue_unsent(ctx, publication_id)
            return PublicationState.canceled, "cancelled by the operator between updates"
        [item] = _mark_sent(ctx, publication_id, [planned], ids, "rt-" + uuid.uuid4().hex[:9])
        offer = planned.payload
        try:
            outcome = await connector.update_listing_now(
                sku=planned.sku, quantity=offer.quantity if offer else None, price=offer.price if offer else None,
                listing_id=getattr(offer, "remote_id", None), currency=getattr(offer, "currency", None),
                min_price=getattr(offer, "min_price", None))  # fmt: skip
        except (RateLimited, AuthError, WafBlocked, TransientError) as exc:
            _unmark(ctx, [item.id])
            _requeue_unsent(ctx, publication_id)
            return None, f"stopped sending: {exc}"
        failed += record_outcomes(ctx, channel, [item], {item.id: (outcome.ok, outcome.message, outcome.code, outcome.remote_id)})[1]
        done += 1
        report(Progress(publication_id, "sending", done, total, failed, f"updated {done:,} of {total:,} in real time"))
    return None, None


def _note_run(ctx: AppContext, publication_id: int, *, path: str | None = None, unread: dict[str, Any] | None = None) -> None:
    """On the run's summary: which path sent it (``batch`` or ``real-time``), and the per-item
    reports of tasks that could not be read (as the marketplace sent them, for triage)."""
    from shelfdesk.db.models import Publication

    with ctx.write_session() as session:
        pub = session.get(Publication, publication_id)
        if pub is None:
            return
        summary = dict(pub.summary or {})
        if path is not None:
            summary["path"] = path
        if unread:
            kept = dict(summary.get("unread_task_results") or {})
            kept.update({str(k): _truncated(v) for k, v in unread.items()})
            summary["unread_task_results"] = kept
        pub.summary = summary


def _truncated(value: Any, limit: int = 4000) -> Any:
    """A raw report kept as it came, unless it is too large for a summary (then its first characters)."""
    import json

    text = json.dumps(value, default=str)
    return value if len(text) <= limit else text[:limit] + "…"


def _mark_sent(ctx: AppContext, publication_id: int, chunk: list[PlannedItem], ids: dict[str, int],
               batch_key: str) -> list[_SentItem]:  # fmt: skip
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    now = ctx.clock.now()
    items = [_SentItem(ids[p.sku], publication_id, p.sku, p.action, p.payload.price if p.payload else None,
                       p.payload.quantity if p.payload else None, p.content_hash, None, now) for p in chunk]  # fmt: skip
    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i.id, "outcome": ItemOutcome.sent, "sent_at": now,
                                                   "batch_key": batch_key} for i in items])  # fmt: skip
    return items


def _unmark(ctx: AppContext, ids: list[int]) -> None:
    """A batch the marketplace did not take (429, auth): its items were not sent."""
    from sqlalchemy import update

    if not ids:
        return

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i, "outcome": ItemOutcome.queued, "sent_at": None,
                                                   "batch_key": None} for i in ids])  # fmt: skip


def _note(ctx: AppContext, ids: list[int], message: str) -> None:
    from sqlalchemy import update

    if not ids:
        return

    from shelfdesk.db.models import PublicationItem

    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i, "message": message[:500]} for i in ids])


def _taken_by(items: list[_SentItem], tickets: Sequence[Any]) -> list[_SentItem]:
    """The items of ``items`` that one of ``tickets`` (batches the marketplace took) carries."""
    skus = {sku.casefold() for ticket in tickets for sku in ticket.skus}
    return [i for i in items if i.sku.casefold() in skus]


def _set_tasks(ctx: AppContext, items: list[_SentItem], tickets: Sequence[Any]) -> None:
    from sqlalchemy import update

    from shelfdesk.db.models import PublicationItem

    task_of: dict[str, str] = {}
    for ticket in tickets:
        for sku in ticket.skus:
            task_of[sku.casefold()] = ticket.remote_id
    with ctx.write_session() as session:
        session.execute(update(PublicationItem), [{"id": i.id, "remote_task_id": task_of.get(i.sku.casefold())}
                                                  for i in items])  # fmt: skip
        if tickets:
            from shelfdesk.db.models import Publication

            pub = session.get(Publication, items[0].publication_id)
            if pub is not None and pub.remote_task_id is None:
                pub.remote_task_id = tickets[0].remote_id


def publish_sync(ctx: AppContext, channel_id: int, kind: PublicationKind | str, mode: PublicationMode | str = PublicationMode.update,
                 **kwargs: Any) -> PublishResult:  # fmt: skip
    """:func:`publish` for callers without an event loop (the CLI, a console thread worker)."""
    import asyncio

    return asyncio.run(publish(ctx, channel_id, kind, mode, **kwargs))

