"""Alert rules for jobs, publications, deadlines and failed actions: each points at the row to fix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import ActionKind, ActionState, JobOutcome, Marketplace, NormalizedStatus
from shelfdesk.domain import PublicationKind, PublicationMode, PublicationState
from shelfdesk.jobs.registry import JobScope
from shelfdesk.jobs.schedules import ensure_schedules, set_paused
from shelfdesk.jobs import alerts as rules
from shelfdesk.jobs.alerts import Severity, count_alerts, list_alerts
from tests.jobs.conftest import add_channels


async def _ok(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    return {"ok": 1}


def _runs(
    ctx: AppContext,
    key_job: str,
    channel_id: int | None,
    outcomes: list[JobOutcome],
    *,
    every: int = 60,
    error: str = "HTTP 503 from the marketplace",
) -> None:
    """Runs newest first: ``outcomes[0]`` started one interval ago, the next two intervals ago …"""
    from shelfdesk.db.models import JobRun

    now = ctx.clock.now()
    with ctx.write_session() as session:
        for n, outcome in enumerate(outcomes, start=1):
            started = now - timedelta(seconds=n * every)
            session.add(
                JobRun(
                    job=key_job,
                    channel_id=channel_id,
                    started_at=started,
                    finished_at=started,
                    outcome=outcome,
                    error=error if outcome is JobOutcome.failed else None,
                )
            )


def _kinds(ctx: AppContext, prefix: str) -> list[tuple[str, Severity, str, Any]]:
    return [(a.kind, a.severity, a.target_type, a.target_id) for a in list_alerts(ctx) if a.kind.startswith(prefix)]


def test_a_job_failing_three_times_in_a_row(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    ids = add_channels(ctx, ("BM EU", "backmarket", "BM France"))
    jobs("harvest", _ok, scope=JobScope.account, interval=60)
    ensure_schedules(ctx)
    key = f"harvest:{ids['BM France']}"
    _runs(ctx, "harvest", ids["BM France"], [JobOutcome.failed, JobOutcome.abandoned, JobOutcome.failed, JobOutcome.succeeded], every=10)
    assert _kinds(ctx, "job_") == []  # two failures (an abandoned run neither breaks nor extends a streak)
    _runs(ctx, "harvest", ids["BM France"], [JobOutcome.failed], every=5)
    [alert] = [a for a in list_alerts(ctx) if a.kind == "job_failing"]
    assert (alert.severity, alert.target_type, alert.target_id) == (Severity.critical, "job", key)
    assert alert.message == "job harvest on BM France failed 3 times in a row: HTTP 503 from the marketplace"
    set_paused(ctx, [key], True)
    assert _kinds(ctx, "job_") == []  # a paused job is an operator's decision, not an alert


def test_a_job_silent_for_three_intervals(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    jobs("outbox", _ok, interval=60)
    ensure_schedules(ctx)
    clock.advance(179)
    assert _kinds(ctx, "job_") == []
    clock.advance(1)
    [alert] = [a for a in list_alerts(ctx) if a.kind == "job_silent"]
    assert alert.severity is Severity.critical and alert.target_id == "outbox"
    assert alert.message == "job outbox on workspace has never run: is a console or `shelfdesk worker` running?"
    _runs(ctx, "outbox", None, [JobOutcome.skipped])  # ran a minute ago, nothing to do: healthy
    assert _kinds(ctx, "job_") == []
    clock.advance(130)
    assert "has not succeeded since 03-02 09:32 UTC" in list_alerts(ctx)[0].message

    from shelfdesk.jobs import leases

    with ctx.write_session() as session:  # running now in a process that renews its lease: not silent
        assert leases.claim(session, "outbox", "elsewhere:1:worker-a", clock.now(), interval=None).claimed
    assert _kinds(ctx, "job_") == []


def test_publication_alerts_read_the_latest_settled_publication(ctx: AppContext, clock: FakeClock) -> None:
    from shelfdesk.db.models import Publication

    ids = add_channels(ctx, ("BM EU", "backmarket", "BM France"), ("LBC", "leboncoin", "LBC France"))
    now = clock.now()

    def publish(channel: str, kind: PublicationKind, state: PublicationState, minutes: int, **counters: Any) -> int:
        with ctx.write_session() as session:
            pub = Publication(
                channel_id=ids[channel],
                kind=kind,
                mode=PublicationMode.update,
                state=state,
                started_at=now - timedelta(minutes=minutes),
                **counters,
            )
            session.add(pub)
            session.flush()
            return int(pub.id)

    publish("BM France", PublicationKind.offers, PublicationState.failed, 60, error="old failure")
    publish("BM France", PublicationKind.offers, PublicationState.partial, 30, succeeded=90, failed=10)  # 10 %: fine
    bad_products = publish("BM France", PublicationKind.products, PublicationState.partial, 20, succeeded=14, failed=4, invalid=2)
    failed_offers = publish("LBC France", PublicationKind.offers, PublicationState.failed, 10, error="401 token rejected\nmore")
    publish("LBC France", PublicationKind.offers, PublicationState.running, 1)  # in progress: not judged yet

    alerts = {a.target_id: a for a in list_alerts(ctx) if a.kind.startswith("publication")}
    assert set(alerts) == {bad_products, failed_offers}
    assert alerts[bad_products].message == "products publication of BM France: 6 of 20 items failed (30%)"
    assert alerts[bad_products].severity is Severity.warning
    assert alerts[failed_offers].message == "offers publication of LBC France failed: 401 token rejected"
    assert (alerts[failed_offers].severity, alerts[failed_offers].target_type) == (Severity.critical, "publication")


def test_deadlines_and_failed_actions_point_at_each_order(ctx: AppContext, clock: FakeClock, monkeypatch: Any) -> None:
    from shelfdesk.db.models import Order, OrderAction

    monkeypatch.setattr(rules, "PER_ROW_LIMIT", 3)
    add_channels(ctx, ("LBC", "leboncoin", "LBC France"))
    now = clock.now()
    with ctx.write_session() as session:

        def order(reference: str, status: NormalizedStatus, **deadline: Any) -> int:
            row = Order(
                account_id=1,
                marketplace=Marketplace.leboncoin,
                marketplace_order_id=reference,
                status=status,
                purchased_at=now,
                harvested_at=now,
                updated_at=now,
                **deadline,
            )
            session.add(row)
            session.flush()
            return int(row.id)

        late = order("L-1", NormalizedStatus.New, accept_by=now - timedelta(hours=2))
        soon = order("L-2", NormalizedStatus.New, accept_by=now + timedelta(hours=3, minutes=30))
        order("L-3", NormalizedStatus.New, accept_by=now + timedelta(days=2))  # far enough
        order("L-4", NormalizedStatus.InProgress, accept_by=now - timedelta(days=1))  # accepted already
        ship = [order(f"S-{n}", NormalizedStatus.InProgress, ship_by=now + timedelta(hours=n)) for n in range(5)]
        refused = order("R-1", NormalizedStatus.New)
        session.add(
            OrderAction(
                order_id=refused,
                kind=ActionKind.accept,
                state=ActionState.failed,
                idempotency_key="k",
                last_error="order already canceled by the buyer\n(details)",
                created_at=now,
                updated_at=now,
            )
        )

    from shelfdesk.jobs.escalation import escalate

    assert [a for a in list_alerts(ctx) if a.kind.startswith("deadline")] == []  # nothing until the escalation has looked
    escalate(ctx)
    deadlines = [(a.kind, a.severity, a.target_type, a.target_id, a.message) for a in list_alerts(ctx) if a.kind.startswith("deadline")]
    assert deadlines[:3] == [  # most urgent first, three rows, then the rest summed up
        ("deadline_confirm_availability", Severity.critical, "order", late, "order L-1: confirm availability by 03-02 07:30 UTC (2 h ago)"),
        ("deadline_confirm_shipping", Severity.critical, "order", ship[0], "order S-0: confirm shipping by 03-02 09:30 UTC (in 0 min)"),
        ("deadline_confirm_shipping", Severity.warning, "order", ship[1], "order S-1: confirm shipping by 03-02 10:30 UTC (in 1 h)"),
    ]
    assert deadlines[3][:3] == ("deadlines", Severity.warning, "orders")
    assert deadlines[3][4] == "and 4 more deadline(s) close or past (D lists them all)"  # S-2, S-3, S-4 and L-2; not L-3 (2 days)
    assert soon not in [d[3] for d in deadlines]
    [failed] = [a for a in list_alerts(ctx) if a.kind == "actions_failed"]
    assert (failed.target_type, failed.target_id) == ("order", refused)
    assert failed.message == "order R-1: accept failed (order already canceled by the buyer); retry or dismiss it"
    assert count_alerts(ctx) == len(list_alerts(ctx)) == 5
    assert list_alerts(ctx)[0].severity is Severity.critical
