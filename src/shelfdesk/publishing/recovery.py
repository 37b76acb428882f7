"""Following what earlier publication runs left behind (their process gone).

Batches with a task id are polled again; items whose batch answer was lost are
checked against the marketplace's listings and held, never re-sent, until the
listings show them applied or a hold period passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shelfdesk.claims import Liveness, liveness
from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationState
from shelfdesk.publishing.channel import DEFAULT_HOLD_MINUTES
from shelfdesk.publishing.counters import finish_counters, note_run
from shelfdesk.publishing.outcomes import Outcome, SentItem, batch_outcomes, record_outcomes, sent_item

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.channel import ChannelSpec
    from shelfdesk.publishing.plan import RemoteView

UNKNOWN_OUTCOME = "unknown-outcome"
#: Publication ids running in this process (a crashed run of this process is not in it).
ACTIVE: set[int] = set()


#: A run held by another host is taken as dead after this long (its process cannot be checked).
FOREIGN_HOLDER_HOURS = 6


def holder_alive(holder: str | None, publication_id: int, started_at: datetime | None = None, now: datetime | None = None) -> bool:
    """Whether the process that runs a publication still does.

    On this host the process is checked (in this process, the run must be in
    :data:`ACTIVE`: a run that died inside it is not); another host's run is
    assumed alive for :data:`FOREIGN_HOLDER_HOURS` after it started.
    """
    state = liveness(holder)
    if state is Liveness.elsewhere:
        return started_at is None or now is None or now - started_at < timedelta(hours=FOREIGN_HOLDER_HOURS)
    if state is Liveness.this_process:
        return publication_id in ACTIVE
    return state is Liveness.running


@dataclass
class Recovery:
    held: set[str] = field(default_factory=set)  #: case-folded SKUs still awaiting an answer
    published: int = 0
    failed: int = 0
    interrupted: int = 0
    publications: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"interrupted": self.interrupted, "published": self.published, "failed": self.failed, "held": len(self.held)}


def mark_interrupted(ctx: AppContext, channel_id: int, *, write: bool) -> tuple[int, set[int]]:
    from sqlalchemy import select

    from shelfdesk.db.models import Publication

    with ctx.read_session() as session:
        running = session.execute(
            select(Publication.id, Publication.holder, Publication.started_at).where(
                Publication.channel_id == channel_id, Publication.state == PublicationState.running
            )
        ).all()
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


async def recover(
    ctx: AppContext, channel: ChannelSpec, connector: Connector, remote: dict[str, RemoteView] | None, *, write: bool = True
) -> Recovery:
    """Follow what earlier runs left ``sent``: poll their batches, check lost answers against the listings."""
    from sqlalchemy import select

    from shelfdesk.channels.base import BatchState, BatchTicket
    from shelfdesk.channels.errors import NotFound as NotFoundError
    from shelfdesk.db.models import Publication, PublicationItem

    report = Recovery()
    report.interrupted, live = mark_interrupted(ctx, channel.id, write=write)
    with ctx.read_session() as session:
        rows = session.execute(
            select(  # type: ignore[misc]  # SQLModel types each column as its value: select() of this many columns exhausts mypy's overloads
                PublicationItem.id,
                PublicationItem.publication_id,
                PublicationItem.sku,
                PublicationItem.action,
                PublicationItem.new_price,
                PublicationItem.new_quantity,
                PublicationItem.content_hash,
                PublicationItem.remote_task_id,
                PublicationItem.sent_at,
                Publication.kind,
            )
            .join(Publication, Publication.id == PublicationItem.publication_id)
            .where(
                Publication.channel_id == channel.id,
                Publication.dry_run.is_(False),
                PublicationItem.outcome == ItemOutcome.sent,
            )
        ).all()
    rows = [r for r in rows if r.publication_id not in live]
    if not rows:
        return report
    hold = timedelta(minutes=channel.setting_int("unknown_outcome_hold_minutes", DEFAULT_HOLD_MINUTES))
    now = ctx.clock.now()
    by_task: dict[tuple[str, str], list[SentItem]] = {}
    lost: list[tuple[SentItem, str]] = []
    for row in rows:
        item = sent_item(row)
        if item.remote_task_id:
            by_task.setdefault((str(row.kind), item.remote_task_id), []).append(item)
        else:
            lost.append((item, str(row.kind)))
        report.publications.add(item.publication_id)
    for (kind, task_id), items in by_task.items():
        ticket = BatchTicket(
            channel.marketplace,
            PublicationKind(kind),
            task_id,
            tuple(i.sku for i in items),
            min((i.sent_at for i in items if i.sent_at), default=now),
        )
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
                    note_run(ctx, publication_id, unread={task_id: result.unread_result})
            published, failed = record_outcomes(ctx, channel, items, batch_outcomes(items, result))
            report.published += published
            report.failed += failed
    outcomes: dict[int, Outcome] = {}
    resolved: list[SentItem] = []
    for item, kind in lost:
        view = remote.get(item.sku.casefold()) if remote is not None else None
        if remote is not None and _applied(item, kind, view):
            outcomes[item.id] = (True, "", None, view.remote_id if view else None)
            resolved.append(item)
        elif remote is not None and item.sent_at is not None and now - item.sent_at >= hold:
            outcomes[item.id] = (
                False,
                f"no answer to its batch and the marketplace's listings do not show it after "
                f"{int(hold.total_seconds() // 60)} minutes: it is sent again",
                UNKNOWN_OUTCOME,
                None,
            )
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


def _applied(item: SentItem, kind: str, view: RemoteView | None) -> bool:
    """Whether the marketplace's listing shows what the item sent."""
    if view is None:
        return False
    if kind == PublicationKind.products.value and item.action is ItemAction.create:
        return True
    if item.new_price is not None and view.price != item.new_price:
        return False
    return item.new_quantity is None or view.quantity == item.new_quantity
