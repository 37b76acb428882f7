"""Retention prunes by age with the workspace's settings, and never what an open order needs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import (
    ActionKind,
    ActionState,
    EventSource,
    ItemAction,
    JobOutcome,
    Marketplace,
    NormalizedStatus,
    PublicationKind,
    PublicationMode,
    PublicationState,
)
from shelfdesk.jobs import retention
from tests.jobs.conftest import add_channels


def _count(ctx: AppContext, model: object) -> int:
    with ctx.read_session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar())  # type: ignore[arg-type]


def test_prune_by_age_and_kind(ctx: AppContext, clock: FakeClock) -> None:
    from shelfdesk.db.models import JobRun, Order, OrderAction, OrderEvent, Publication, PublicationItem

    now = clock.now()
    channel_id = add_channels(ctx, ("BM EU", "backmarket", "BM France"))["BM France"]
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    with ctx.write_session() as session:
        # Job runs: kept 30 days when they worked, 2 when they had nothing to do, 90 when they failed.
        for age, outcome in [
            (31, JobOutcome.succeeded),
            (29, JobOutcome.succeeded),
            (3, JobOutcome.skipped),
            (1, JobOutcome.skipped),
            (91, JobOutcome.failed),
            (89, JobOutcome.failed),
            (91, JobOutcome.abandoned),
            (400, JobOutcome.running),
        ]:
            session.add(JobRun(job="harvest", started_at=days(age), outcome=outcome))
        # Publication items: by their publication's end.
        for age in (100, 10):
            publication = Publication(
                channel_id=channel_id,
                kind=PublicationKind.offers,
                mode=PublicationMode.update,
                state=PublicationState.succeeded,
                started_at=days(age),
                finished_at=days(age),
            )
            session.add(publication)
            session.flush()
            session.add_all([PublicationItem(publication_id=publication.id, sku=f"S{age}-{n}", action=ItemAction.update) for n in range(3)])
        # Order history: only for closed or canceled orders, and only when older than two years.
        orders = {}
        for name, status in [("closed", NormalizedStatus.Closed), ("open", NormalizedStatus.InProgress)]:
            order = Order(
                account_id=1,
                marketplace=Marketplace.backmarket,
                marketplace_order_id=name,
                status=status,
                purchased_at=days(900),
                harvested_at=days(900),
                updated_at=days(900),
            )
            session.add(order)
            session.flush()
            orders[name] = order.id
            for age in (800, 100):
                session.add(OrderEvent(order_id=order.id, at=days(age), source=EventSource.harvest, kind="status"))
            session.add(
                OrderAction(
                    order_id=order.id,
                    kind=ActionKind.accept,
                    state=ActionState.confirmed,
                    idempotency_key=f"k-{name}",
                    created_at=days(800),
                    updated_at=days(800),
                )
            )
        # API answers to Idempotency-Keys: a week.
        from shelfdesk.db.models import ApiIdempotency, ApiToken

        token = ApiToken(name="erp", scope="write", token_hash="0" * 64, prefix="sdk_0", created_at=days(30), created_by="t")
        session.add(token)
        session.flush()
        session.add_all(
            [
                ApiIdempotency(token_id=token.id, key=f"k{age}", request_hash="0" * 64, status=202, body={}, created_at=days(age))
                for age in (8, 6)
            ]
        )

    with ctx.read_session() as session:
        assert retention.prunable(session, ctx) == {
            "job_runs": 1,
            "job_runs_nothing_to_do": 1,
            "job_runs_failed": 2,
            "publication_items": 3,
            "order_events": 1,
            "order_actions": 1,
            "api_idempotency": 1,
        }
    deleted = asyncio.run(retention.prune(ctx))
    assert deleted == {
        "job_runs": 1,
        "job_runs_nothing_to_do": 1,
        "job_runs_failed": 2,
        "publication_items": 3,
        "order_events": 1,
        "order_actions": 1,
        "api_idempotency": 1,
    }
    with ctx.read_session() as session:
        left = session.execute(select(JobRun.outcome, JobRun.started_at)).all()
        events = session.execute(select(OrderEvent.order_id, OrderEvent.at)).all()
        actions = session.execute(select(OrderAction.order_id)).scalars().all()
    assert sorted((o, (now - at).days) for o, at in left) == [
        (JobOutcome.failed, 89),
        (JobOutcome.running, 400),
        (JobOutcome.skipped, 1),
        (JobOutcome.succeeded, 29),
    ]
    assert sorted((o, (now - at).days) for o, at in events) == sorted(
        [(orders["closed"], 100), (orders["open"], 800), (orders["open"], 100)]
    )
    assert actions == [orders["open"]]
    assert _count(ctx, PublicationItem) == 3
    assert asyncio.run(retention.prune(ctx)) == dict.fromkeys(deleted, 0)  # nothing left to prune


def test_retention_follows_workspace_settings_in_small_batches(ctx: AppContext, clock: FakeClock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import JobRun

    now = clock.now()
    with ctx.write_session() as session:
        session.add_all(
            [JobRun(job="outbox", started_at=now - timedelta(days=10, minutes=n), outcome=JobOutcome.succeeded) for n in range(25)]
        )
    ctx.settings.retention_job_runs_days = 0  # keep forever
    assert asyncio.run(retention.prune(ctx)).get("job_runs") is None
    ctx.settings.retention_job_runs_days = 7
    monkeypatch.setattr(retention, "BATCH", 10)
    assert asyncio.run(retention.prune(ctx))["job_runs"] == 25
    assert _count(ctx, JobRun) == 0
