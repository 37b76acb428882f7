"""Retention: prune old rows by age, with the workspace's settings, so a year-old workspace stays fast.

Why here: the tables that grow without bound are written by jobs (job runs
every few seconds, publication items by the thousand, order events on every
harvest), and the daily ``retention`` job is what keeps them in check.

What is kept, by default (``config.toml`` of the workspace changes it):

=========================  =====================================================  ==========================
rows                       pruned when                                            setting (days)
=========================  =====================================================  ==========================
job runs, succeeded        started longer ago than                                ``retention_job_runs_days`` (30)
job runs, nothing to do    started longer ago than                                ``retention_skipped_job_runs_days`` (2)
job runs, failed/abandoned started longer ago than                                ``retention_failed_job_runs_days`` (90)
publication items          their publication finished longer ago than             ``retention_publication_items_days`` (90)
order events               older than, *and* the order is closed or canceled      ``retention_order_history_days`` (730)
order actions              finished longer ago than, *and* the order is closed    ``retention_order_history_days`` (730)
API Idempotency-Key answers given longer ago than                                   (7, fixed: a retry comes sooner)
=========================  =====================================================  ==========================

Nothing an open order needs is ever pruned. Rows go in small batches, one
short transaction each, so the console and a worker never wait long for the
write lock; the batch query is portable (``DELETE … WHERE id IN (…)``).

Other services add their own rules with :func:`add_rule` (e.g. webhook
delivery logs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shelfdesk.context import AppContext
from shelfdesk.settings import WorkspaceSettings

BATCH = 2000
#: Days an answer to an API Idempotency-Key is replayed (integrators retry within minutes or hours).
IDEMPOTENCY_DAYS = 7


@dataclass(frozen=True)
class Rule:
    """One kind of prunable row: its name, its age setting, and the query of prunable ids."""

    name: str
    days: Callable[[WorkspaceSettings], int]
    ids: Callable[[datetime], Any]
    """Select of prunable ids older than the cutoff (the caller adds the LIMIT)."""
    table: Callable[[], Any]


def _job_runs(outcomes: tuple[str, ...]) -> Callable[[datetime], Any]:
    def query(cutoff: datetime) -> Any:
        from shelfdesk.db.models import JobRun

        return select(JobRun.id).where(JobRun.started_at < cutoff, JobRun.outcome.in_(outcomes))

    return query


def _publication_items(cutoff: datetime) -> Any:
    from shelfdesk.db.models import Publication, PublicationItem

    return (
        select(PublicationItem.id)
        .join(Publication, Publication.id == PublicationItem.publication_id)
        .where(Publication.finished_at < cutoff)
    )


def _final_orders() -> Any:
    from shelfdesk.db.models import Order
    from shelfdesk.domain import NormalizedStatus

    return select(Order.id).where(Order.status.in_([NormalizedStatus.Closed, NormalizedStatus.Canceled]))


def _order_events(cutoff: datetime) -> Any:
    from shelfdesk.db.models import OrderEvent

    return select(OrderEvent.id).where(OrderEvent.at < cutoff, OrderEvent.order_id.in_(_final_orders()))


def _order_actions(cutoff: datetime) -> Any:
    from shelfdesk.db.models import OrderAction
    from shelfdesk.domain import ActionState

    return select(OrderAction.id).where(
        OrderAction.updated_at < cutoff,
        OrderAction.state.in_([ActionState.confirmed, ActionState.abandoned]),
        OrderAction.order_id.in_(_final_orders()),
    )


def _idempotency_answers(cutoff: datetime) -> Any:
    from shelfdesk.db.models import ApiIdempotency

    return select(ApiIdempotency.id).where(ApiIdempotency.created_at < cutoff)


def _model(name: str) -> Callable[[], Any]:
    def table() -> Any:
        from shelfdesk.db import models

        return getattr(models, name)

    return table


RULES: list[Rule] = [
    Rule("job_runs", lambda s: s.retention_job_runs_days, _job_runs(("succeeded",)), _model("JobRun")),
    Rule("job_runs_nothing_to_do", lambda s: s.retention_skipped_job_runs_days, _job_runs(("skipped",)), _model("JobRun")),
    Rule("job_runs_failed", lambda s: s.retention_failed_job_runs_days, _job_runs(("failed", "abandoned")), _model("JobRun")),
    Rule("publication_items", lambda s: s.retention_publication_items_days, _publication_items, _model("PublicationItem")),
    Rule("order_events", lambda s: s.retention_order_history_days, _order_events, _model("OrderEvent")),
    Rule("order_actions", lambda s: s.retention_order_history_days, _order_actions, _model("OrderAction")),
    Rule("api_idempotency", lambda s: IDEMPOTENCY_DAYS, _idempotency_answers, _model("ApiIdempotency")),
]


def add_rule(rule: Rule) -> None:
    """Let another service prune its own rows with the daily retention job."""
    RULES[:] = [r for r in RULES if r.name != rule.name] + [rule]


def _prune_batch(ctx: AppContext, rule: Rule, cutoff: datetime) -> int:
    table = rule.table()
    with ctx.write_session() as session:
        ids = session.execute(rule.ids(cutoff).limit(BATCH)).scalars().all()
        if ids:
            session.execute(delete(table).where(table.id.in_(ids)))
    return len(ids)


async def prune(ctx: AppContext, *, rules: list[Rule] | None = None) -> dict[str, int]:
    """Delete what every rule allows, in batches; returns rows deleted per rule.

    Awaits between batches, so a shutdown stops it cleanly at a batch boundary.
    """
    now = ctx.clock.now()
    deleted: dict[str, int] = {}
    for rule in rules if rules is not None else RULES:
        days = rule.days(ctx.settings)
        if days <= 0:  # 0 or less: keep forever
            continue
        cutoff = now - timedelta(days=days)
        total = 0
        while True:
            count = await asyncio.to_thread(_prune_batch, ctx, rule, cutoff)
            total += count
            if count < BATCH:
                break
        deleted[rule.name] = total
    return deleted


def prunable(session: Session, ctx: AppContext) -> dict[str, int]:
    """How many rows each rule would delete now (for ``shelfdesk status`` and tests)."""
    from sqlalchemy import func

    now = ctx.clock.now()
    counts = {}
    for rule in RULES:
        days = rule.days(ctx.settings)
        if days > 0:
            sub = rule.ids(now - timedelta(days=days)).subquery()
            counts[rule.name] = int(session.execute(select(func.count()).select_from(sub)).scalar() or 0)
    return counts
