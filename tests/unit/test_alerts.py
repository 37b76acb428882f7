"""Alert rules read the database and point at what to fix."""

from __future__ import annotations

from datetime import timedelta

from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind, ActionState, JobOutcome, Marketplace, NormalizedStatus
from shelfdesk.jobs.alerts import Severity, count_alerts, list_alerts


def _account(session, clock: FakeClock, **kw):  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import MarketplaceAccount

    now = clock.now()
    account = MarketplaceAccount(
        marketplace=Marketplace.leboncoin, name=kw.pop("name", "LBC"), credential_ref="secret:x", created_at=now, updated_at=now, **kw
    )
    session.add(account)
    session.flush()
    return account


def test_empty_workspace_has_no_alerts(ctx) -> None:  # type: ignore[no-untyped-def]
    assert count_alerts(ctx) == 0


def test_token_alerts(ctx, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    with ctx.write_session() as session:
        _account(session, clock, name="soon", token_expires_at=now + timedelta(days=10))
        _account(session, clock, name="later", token_expires_at=now + timedelta(days=200))
        _account(session, clock, name="expired", token_expires_at=now - timedelta(days=1))
        _account(session, clock, name="rejected", token_error="401 invalid token")
    alerts = list_alerts(ctx)
    kinds = {(a.kind, a.severity) for a in alerts}
    assert kinds == {("token_expiring", Severity.warning), ("token_expired", Severity.critical), ("token_rejected", Severity.critical)}
    assert alerts[0].severity is Severity.critical
    assert "expires in 10 days" in next(a.message for a in alerts if a.kind == "token_expiring")


def test_failed_actions_deadlines_and_failing_jobs(ctx, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import JobRun, JobSchedule, Order, OrderAction

    now = clock.now()
    with ctx.write_session() as session:
        account = _account(session, clock)
        order = Order(
            account_id=account.id,
            marketplace=Marketplace.leboncoin,
            marketplace_order_id="1",
            status=NormalizedStatus.New,
            purchased_at=now,
            harvested_at=now,
            updated_at=now,
            accept_by=now + timedelta(hours=2),
        )
        session.add(order)
        session.flush()
        session.add(
            OrderAction(
                order_id=order.id, kind=ActionKind.accept, state=ActionState.failed, idempotency_key="k1", created_at=now, updated_at=now
            )
        )
        # Failing-job alerts come from schedules (one indexed query each), not from every run ever recorded.
        session.add(JobSchedule(key="outbox", job="outbox", interval_seconds=5, updated_at=now))
        for minutes in (1, 2, 3):
            session.add(JobRun(job="outbox", started_at=now - timedelta(minutes=minutes), outcome=JobOutcome.failed))
        session.add(JobRun(job="offers", started_at=now, outcome=JobOutcome.failed))
    from shelfdesk.jobs.escalation import escalate

    escalate(ctx)  # the deadline escalation fires the 4 h threshold of the order to confirm
    kinds = sorted(a.kind for a in list_alerts(ctx))
    assert kinds == ["actions_failed", "deadline_confirm_availability", "job_failing"]
