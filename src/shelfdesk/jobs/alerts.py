"""Alerts computed from the database, so the console, the CLI and the worker agree.

Each rule is one small function returning :class:`Alert` rows that point at
the exact thing to fix (an account, an order, an action, a job). Rules read
indexed columns only and stay cheap on a large workspace; rules whose data
does not exist yet simply find nothing. They read Core tables (``db.tables``)
through one connection, so ``shelfdesk status`` loads neither the ORM nor the
models.

They sit in ``jobs``, beside the health they feed (``jobs.health``): several
rules read job runs, leases and schedules, and ``jobs`` is the layer above the
services, so the services never import upwards to reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from shelfdesk.context import AppContext
from shelfdesk.db.tables import table

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


def _token_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    A = table("marketplace_accounts").c

    soon = now + timedelta(days=TOKEN_WARNING_DAYS)
    rows = session.execute(
        select(A.id, A.name, A.token_expires_at, A.token_error).where((A.token_error.is_not(None)) | (A.token_expires_at <= soon))
    )
    for account_id, name, expires, error in rows:
        if error:
            yield Alert("token_rejected", Severity.critical, f"{name}: token rejected ({error})", "account", account_id)
        elif expires is not None and expires <= now:
            yield Alert("token_expired", Severity.critical, f"{name}: token expired on {expires:%Y-%m-%d}", "account", account_id)
        elif expires is not None:
            days = (expires - now).days
            yield Alert("token_expiring", Severity.warning, f"{name}: token expires in {days} days", "account", account_id)


#: Rules that point at single rows list at most this many, then one "and N more" alert.
PER_ROW_LIMIT = 20
#: A publication whose failed items exceed this share of the items it settled raises an alert.
PUBLICATION_FAILED_SHARE = 0.2
#: A job that has not succeeded for this many of its intervals has stopped (no process runs it, or it hangs).
JOB_SILENT_INTERVALS = 3


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _in(delta: timedelta) -> str:
    hours = abs(delta.total_seconds()) / 3600
    span = f"{hours:.0f} h" if hours >= 1 else f"{abs(delta.total_seconds()) / 60:.0f} min"
    return f"in {span}" if delta.total_seconds() >= 0 else f"{span} ago"


def _failed_action_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """One alert per failed order action, pointing at its order (capped; the rest summed up)."""
    from shelfdesk.domain import ActionState

    Order, OrderAction = table("orders").c, table("order_actions")

    rows = session.execute(
        select(OrderAction.c.order_id, Order.marketplace_order_id, OrderAction.c.kind, OrderAction.c.last_error)
        .join(table("orders"), Order.id == OrderAction.c.order_id)
        .where(OrderAction.c.state == ActionState.failed)
        .order_by(OrderAction.c.updated_at.desc())
        .limit(PER_ROW_LIMIT + 1)
    ).all()
    for order_id, reference, kind, error in rows[:PER_ROW_LIMIT]:
        why = _first_line(error) or "refused"
        yield Alert(
            "actions_failed", Severity.critical, f"order {reference}: {kind} failed ({why}); retry or dismiss it", "order", order_id
        )
    if len(rows) > PER_ROW_LIMIT:
        total = session.execute(select(func.count()).select_from(OrderAction).where(OrderAction.c.state == ActionState.failed)).one()[0]
        yield Alert("actions_failed", Severity.critical, f"and {total - PER_ROW_LIMIT} more failed order action(s)", "actions", None)


def _named(kind: str, reference: str) -> str:
    """``order 40000169``, ``account Leboncoin Pro``; a reference that already says what it is stays as is (``case 12``)."""
    return reference if reference.lower().startswith(kind) else f"{kind} {reference}"


def _deadline_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Deadlines an escalation threshold has fired for (warning) or past (critical), most urgent first.

    Read from the watch list the deadline escalation keeps (``jobs/escalation.py``),
    so every deadline of the Due list counts (rule-computed ones, tokens), at the
    thresholds the workspace sets, with one query on ``due_at``.
    """
    watch = table("deadline_watch")
    W = watch.c
    condition = or_(W.alerted_seconds.is_not(None), W.due_at <= now)
    rows = session.execute(
        select(W.subject_type, W.subject_id, W.kind, W.reference, W.due_at).where(condition).order_by(W.due_at).limit(PER_ROW_LIMIT + 1)
    ).all()
    for subject_type, subject_id, kind, reference, due_at in rows[:PER_ROW_LIMIT]:
        what = str(kind).replace(" ", "_")
        yield Alert(
            f"deadline_{what}",
            Severity.critical if due_at <= now else Severity.warning,
            f"{_named(subject_type, reference)}: {kind} by {due_at:%m-%d %H:%M} UTC ({_in(due_at - now)})",
            subject_type,
            subject_id,
        )
    if len(rows) > PER_ROW_LIMIT:
        total = session.execute(select(func.count()).select_from(watch).where(condition)).one()[0]
        late = session.execute(select(func.count()).select_from(watch).where(W.due_at <= now)).one()[0]
        yield Alert(
            "deadlines",
            Severity.critical if late > PER_ROW_LIMIT else Severity.warning,
            f"and {total - PER_ROW_LIMIT} more deadline(s) close or past (D lists them all)",
            "orders",
            None,
        )


def _job_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Active, unpaused jobs failing N times in a row, or silent for N of their intervals.

    Read per schedule through the (job, channel, started) index: a few small
    queries, however many runs a year of work left.
    """
    from shelfdesk.jobs.leases import read_leases
    from shelfdesk.jobs.runs import summarize
    from shelfdesk.jobs.schedules import read_schedules

    leases = read_leases(session)
    for schedule in read_schedules(session):
        if not schedule.active or schedule.paused:
            continue
        summary = summarize(session, schedule.key)
        where = f"{schedule.job} on {schedule.where}"
        if summary.failures_in_a_row >= JOB_FAILURES_IN_A_ROW:
            error = _first_line(summary.last_finished.error if summary.last_finished else None)
            yield Alert(
                "job_failing",
                Severity.critical,
                f"job {where} failed {summary.failures_in_a_row} times in a row: {error}",
                "job",
                schedule.key,
            )
            continue
        lease = leases.get(schedule.key)
        if lease is not None and lease.live(now):
            continue  # running now, and its process renews the lease
        since = summary.last_healthy_at or schedule.updated_at
        if since <= now - timedelta(seconds=JOB_SILENT_INTERVALS * schedule.interval):
            done = f"has not succeeded since {since:%m-%d %H:%M} UTC" if summary.last_healthy_at else "has never run"
            yield Alert(
                "job_silent", Severity.critical, f"job {where} {done}: is a console or `shelfdesk worker` running?", "job", schedule.key
            )


def _publication_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """The latest publication of each channel and feed: failed as a whole, or too many failed items."""
    from shelfdesk.domain import PublicationState as P

    Channel, publications = table("channels").c, table("publications")
    Publication = publications.c
    channels = session.execute(select(Channel.id, Channel.name)).all()
    for channel_id, name in channels:
        for kind in ("offers", "products"):
            pub = session.execute(
                select(publications)
                .where(
                    Publication.channel_id == channel_id,
                    Publication.kind == kind,
                    Publication.state.not_in([P.running, P.queued, P.dry_run]),
                )
                .order_by(Publication.started_at.desc(), Publication.id.desc())
                .limit(1)
            ).first()
            if pub is None:
                continue
            if pub.state == P.failed:
                yield Alert(
                    "publication_failed",
                    Severity.critical,
                    f"{kind} publication of {name} failed: {_first_line(pub.error) or 'see its items'}",
                    "publication",
                    pub.id,
                )
                continue
            failed = pub.failed + pub.invalid
            settled = failed + pub.succeeded
            if settled and failed / settled > PUBLICATION_FAILED_SHARE:
                yield Alert(
                    "publication_failures",
                    Severity.warning,
                    f"{kind} publication of {name}: {failed} of {settled} items failed ({failed / settled:.0%})",
                    "publication",
                    pub.id,
                )


#: An action the marketplace took but whose effect is still not visible after this long needs a look.
SYNCHRONIZING_TOO_LONG = timedelta(hours=1)


def _address_missing_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Accepted orders still without a shipping address: they cannot be shipped (read on index)."""
    from shelfdesk.domain import NormalizedStatus as S

    orders = table("orders")
    count = session.execute(
        select(func.count()).select_from(orders).where(orders.c.address_missing.is_(True), orders.c.status == S.InProgress)
    ).one()[0]
    if count:
        yield Alert("address_missing", Severity.critical, f"{count} accepted order(s) have no shipping address yet", "orders", None)


def _unread_order_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Orders the marketplace sent with fields in a shape shelfdesk cannot read (kept, payload as sent).

    Their ids come from ``ix_orders_unread_fields`` alone and are put newest first here: with an
    ``ORDER BY id`` SQLite walks the whole table backwards along the primary key looking for them.
    """
    orders = table("orders")
    Order = orders.c
    ids = sorted(session.execute(select(Order.id).where(Order.unread_fields.is_not(None))).scalars(), reverse=True)
    rows = session.execute(
        select(Order.id, Order.marketplace_order_id, Order.marketplace, Order.unread_fields).where(Order.id.in_(ids[:PER_ROW_LIMIT]))
    ).all()
    for order_id, reference, marketplace, fields in sorted(rows, reverse=True):
        yield Alert(
            "order_unreadable",
            Severity.warning,
            f"order {reference}: {marketplace} sent {fields} in a shape shelfdesk cannot read; kept with what was sent (see its payload)",
            "order",
            order_id,
        )
    if len(ids) > PER_ROW_LIMIT:
        yield Alert(
            "order_unreadable", Severity.warning, f"and {len(ids) - PER_ROW_LIMIT} more order(s) with unreadable fields", "orders", None
        )


def _stuck_action_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Actions sent long ago that the marketplace's state still does not show."""
    from shelfdesk.domain import ActionState

    actions = table("order_actions")
    OrderAction = actions.c
    count = session.execute(
        select(func.count())
        .select_from(actions)
        .where(
            OrderAction.state == ActionState.synchronizing,
            OrderAction.next_attempt_at.is_(None) | (OrderAction.next_attempt_at <= now),
            OrderAction.updated_at <= now - SYNCHRONIZING_TOO_LONG,
        )
    ).one()[0]
    if count:
        yield Alert(
            "actions_unconfirmed",
            Severity.warning,
            f"{count} order action(s) sent over an hour ago are still not visible on the marketplace",
            "actions",
            None,
        )


def _webhook_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Push subscriptions shelfdesk paused after repeated failures: the merchant's systems miss events."""
    W = table("webhook_subscriptions").c

    rows = session.execute(select(W.id, W.name, W.paused_reason).where(W.state == "paused", W.auto_paused.is_(True)))
    for sub_id, name, reason in rows:
        yield Alert("webhook_paused", Severity.critical, f"webhook {name}: {reason or 'paused after failures'}", "webhook", sub_id)


def _stock_lag_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """Quantity changes the stock pusher has not sent for minutes: a marketplace may sell units that are gone."""
    from shelfdesk.publishing.dirty import waiting_counts
    from shelfdesk.services.stock import LAG_ALERT

    late = [(n, oldest) for n, oldest in waiting_counts(session).values() if oldest is not None and now - oldest >= LAG_ALERT]
    if late:
        oldest = min(o for _, o in late)
        minutes = int((now - oldest).total_seconds() // 60)
        yield Alert(
            "stock_unpushed",
            Severity.critical if now - oldest >= 3 * LAG_ALERT else Severity.warning,
            f"{sum(n for n, _ in late):,} stock change(s) not pushed for {minutes} min: marketplaces may offer "
            "units that are gone (see the stock pusher on Publications)",
            "publications",
            None,
        )


def _feed_alerts(session: Connection, now: datetime) -> Iterable[Alert]:
    """A store's catalog source or stock feed that fails: the last good catalog is kept, the stock may be stale."""
    from shelfdesk.secrets import mask_url

    Store, StoreFeed = table("stores").c, table("store_feeds").c

    rows = session.execute(
        select(
            StoreFeed.store_id,
            StoreFeed.kind,
            StoreFeed.source,
            StoreFeed.error,
            StoreFeed.failures,
            StoreFeed.next_at,
            Store.name,
            Store.catalog_source,
        )
        .join(table("stores"), Store.id == StoreFeed.store_id)
        .where(StoreFeed.error.is_not(None))
    )
    for store_id, kind, source, error, failures, next_at, store, catalog_source in rows:
        shown = mask_url(source or catalog_source or "")
        kept = "the last good catalog is kept" if kind == "catalog" else "the last stock figures are kept"
        retry = f"; retried at {next_at:%H:%M} UTC" if next_at is not None else ""
        yield Alert(
            "feed_failing",
            Severity.critical if failures >= 3 else Severity.warning,
            f"{kind} feed of {store} ({shown}) failed {failures} time(s): {_first_line(error)}; {kept}{retry}",
            "store",
            store_id,
        )


RULES: list[Callable[[Connection, datetime], Iterable[Alert]]] = [
    _token_alerts,
    _failed_action_alerts,
    _deadline_alerts,
    _job_alerts,
    _publication_alerts,
    _address_missing_alerts,
    _stuck_action_alerts,
    _webhook_alerts,
    _stock_lag_alerts,
    _unread_order_alerts,
    _feed_alerts,
]


def list_alerts(ctx: AppContext) -> list[Alert]:
    """Every current alert, critical first."""
    now = ctx.clock.now()
    with ctx.read_connection() as session:
        alerts = [alert for rule in RULES for alert in rule(session, now)]
    return sorted(alerts, key=lambda a: (a.severity != Severity.critical, a.kind))


def count_alerts(ctx: AppContext) -> int:
    return len(list_alerts(ctx))
