"""Alerts computed from the database, so the console, the CLI and the worker agree.

Each rule is one small function returning :class:`Alert` rows that point at
the exact thing to fix (an account, an order, an action, a job). Rules read
indexed columns only and stay cheap on a large workspace; rules whose data
does not exist yet simply find nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlmodel import Session

from shelfdesk.context import AppContext

TOKEN_WARNING_DAYS = 30
JOB_FAILURES_IN_A_ROW = 3


class Severity(StrEnum):
    warning = "warning"
    critical = "critical"


@dataclass(frozen=True)
class Alert:
    """One thing an operator should look at, and where to find it."""

    kind: str
    severity: Severity
    message: str
    target_type: str
    target_id: int | str | None


def _token_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    from shelfdesk.db.models import MarketplaceAccount as A

    soon = now + timedelta(days=TOKEN_WARNING_DAYS)
    rows = session.exec(  # type: ignore[call-overload]
        select(A.id, A.name, A.token_expires_at, A.token_error).where(
            (A.token_error.is_not(None)) | (A.token_expires_at <= soon)  # type: ignore[union-attr,operator]
        )
    )
    for account_id, name, expires, error in rows:
        if error:
            yield Alert("token_rejected", Severity.critical, f"{name}: token rejected ({error})", "account", account_id)
        elif expires is not None and expires <= now:
            yield Alert("token_expired", Severity.critical, f"{name}: token expired on {expires:%Y-%m-%d}", "account", account_id)
        elif expires is not None:
            days = (expires - now).days
            yield Alert("token_expiring", Severity.warning, f"{name}: token expires in {days} days", "account", account_id)


def _failed_action_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    from shelfdesk.db.models import OrderAction
    from shelfdesk.domain import ActionState

    count = session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(OrderAction).where(OrderAction.state == ActionState.failed)
    ).one()[0]
    if count:
        yield Alert("actions_failed", Severity.critical, f"{count} order action(s) failed and wait for someone",
                    "actions", None)


def _deadline_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    from shelfdesk.db.models import Order
    from shelfdesk.domain import NormalizedStatus as S

    horizon = now + timedelta(hours=12)
    for column, status, what in ((Order.accept_by, S.New, "accept"), (Order.ship_by, S.InProgress, "ship")):
        late = session.exec(  # type: ignore[call-overload]
            select(func.count()).select_from(Order).where(Order.status == status, column <= horizon)  # type: ignore[operator]
        ).one()[0]
        if late:
            yield Alert(f"deadline_{what}", Severity.warning,
                        f"{late} order(s) to {what} are within 12 h of their deadline or past it", "orders", None)


def _job_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    from shelfdesk.db.models import JobRun
    from shelfdesk.domain import JobOutcome

    keys = session.exec(select(JobRun.job, JobRun.channel_id).distinct()).all()  # type: ignore[call-overload]
    for job, channel_id in keys:
        last = session.exec(  # type: ignore[call-overload]
            select(JobRun.outcome).where(JobRun.job == job, JobRun.channel_id == channel_id)
            .order_by(JobRun.started_at.desc()).limit(JOB_FAILURES_IN_A_ROW)  # type: ignore[attr-defined]
        ).all()
        outcomes = [row[0] for row in last]
        if len(outcomes) == JOB_FAILURES_IN_A_ROW and all(o == JobOutcome.failed for o in outcomes):
            yield Alert("job_failing", Severity.critical, f"job {job} failed {JOB_FAILURES_IN_A_ROW} times in a row",
                        "job", f"{job}:{channel_id}" if channel_id else job)


#: An action the marketplace took but whose effect is still not visible after this long needs a look.
SYNCHRONIZING_TOO_LONG = timedelta(hours=1)


def _address_missing_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    """Accepted orders still without a shipping address: they cannot be shipped (read on index)."""
    from shelfdesk.db.models import Order
    from shelfdesk.domain import NormalizedStatus as S

    count = session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(Order).where(Order.address_missing.is_(True), Order.status == S.InProgress)  # type: ignore[attr-defined]
    ).one()[0]
    if count:
        yield Alert("address_missing", Severity.critical,
                    f"{count} accepted order(s) have no shipping address yet", "orders", None)


def _stuck_action_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    """Actions sent long ago that the marketplace's state still does not show."""
    from shelfdesk.db.models import OrderAction
    from shelfdesk.domain import ActionState

    count = session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(OrderAction).where(
            OrderAction.state == ActionState.synchronizing,
            OrderAction.next_attempt_at.is_(None) | (OrderAction.next_attempt_at <= now),  # type: ignore[union-attr,operator]
            OrderAction.updated_at <= now - SYNCHRONIZING_TOO_LONG,  # type: ignore[operator]
        )
    ).one()[0]
    if count:
        yield Alert("actions_unconfirmed", Severity.warning,
                    f"{count} order action(s) sent over an hour ago are still not visible on the marketplace",
                    "actions", None)


def _webhook_alerts(session: Session, now: datetime) -> Iterable[Alert]:
    """Push subscriptions shelfdesk paused after repeated failures: the merchant's systems miss events."""
    from shelfdesk.db.models import WebhookSubscription as W

    rows = session.exec(  # type: ignore[call-overload]
        select(W.id, W.name, W.paused_reason).where(W.state == "paused", W.auto_paused.is_(True))  # type: ignore[attr-defined]
    )
    for sub_id, name, reason in rows:
        yield Alert("webhook_paused", Severity.critical, f"webhook {name}: {reason or 'paused after failures'}", "webhook", sub_id)


RULES: list[Callable[[Session, datetime], Iterable[Alert]]] = [
    _token_alerts, _failed_action_alerts, _deadline_alerts, _job_alerts, _address_missing_alerts,
    _stuck_action_alerts, _webhook_alerts,
]


def list_alerts(ctx: AppContext) -> list[Alert]:
    """Every current alert, critical first."""
    now = ctx.clock.now()
    with ctx.read_session() as session:
        alerts = [alert for rule in RULES for alert in rule(session, now)]
    return sorted(alerts, key=lambda a: (a.severity != Severity.critical, a.kind))


def count_alerts(ctx: AppContext) -> int:
    return len(list_alerts(ctx))
