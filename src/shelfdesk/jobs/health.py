"""What the Jobs screen, ``shelfdesk jobs list`` and ``shelfdesk status`` show: jobs and sync health.

Read-only and computed from the database alone, so the console, the CLI and a
monitoring check on a server all say the same thing: last harvest and
publication, lag, next run, failures in a row, token expiry. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from shelfdesk.context import AppContext
from shelfdesk.formatting import iso as _iso
from shelfdesk.jobs.leases import holder_label, next_due, read_leases
from shelfdesk.jobs.registry import done_by_hand, load_problems
from shelfdesk.jobs.runs import RunInfo, summarize
from shelfdesk.jobs.schedules import ScheduleInfo, channel_facts, read_schedules


@dataclass(frozen=True)
class JobRow:
    """One schedule with its runs and lease: a row of the Jobs screen."""

    schedule: ScheduleInfo
    last: RunInfo | None
    last_finished: RunInfo | None
    last_healthy_at: datetime | None
    failures_in_a_row: int
    due_at: datetime | None
    """When it is next due (its last start anywhere + interval); None: never ran."""
    holder: str | None
    """The process running it now (a live lease), if any."""
    lease_expires_at: datetime | None

    @property
    def key(self) -> str:
        return self.schedule.key

    @property
    def running(self) -> bool:
        return self.holder is not None

    @property
    def scheduled(self) -> bool:
        return self.schedule.active and not self.schedule.paused

    def next_run(self, now: datetime) -> datetime | None:
        """When it will run next (now when overdue); None when paused or inactive."""
        if not self.scheduled:
            return None
        return now if self.due_at is None or self.due_at <= now else self.due_at

    @property
    def state(self) -> str:
        """One word for lists: running, paused, inactive, failing, ok, never."""
        if self.running:
            return "running"
        if not self.schedule.active:
            return "inactive"
        if self.schedule.paused:
            return "paused"
        if self.failures_in_a_row:
            return "failing"
        return "ok" if self.last_finished else "never"


def job_rows(ctx: AppContext) -> list[JobRow]:
    """Every schedule with its last runs, next due time and lease holder (active ones first)."""
    now = ctx.clock.now()
    with ctx.read_connection() as session:
        schedules = read_schedules(session)
        leases = read_leases(session)
        rows = []
        for schedule in schedules:
            summary = summarize(session, schedule.key)
            lease = leases.get(schedule.key)
            live = lease is not None and lease.live(now)
            rows.append(
                JobRow(
                    schedule=schedule,
                    last=summary.last,
                    last_finished=summary.last_finished,
                    last_healthy_at=summary.last_healthy_at,
                    failures_in_a_row=summary.failures_in_a_row,
                    due_at=next_due(schedule.interval, lease, done_by_hand(ctx, schedule.job, schedule.channel_id)),
                    holder=lease.holder if live and lease else None,
                    lease_expires_at=lease.expires_at if live and lease else None,
                )
            )
    return rows


# ---------------------------------------------------------------- sync health per channel


@dataclass(frozen=True)
class PublicationState:
    kind: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    failed: int
    total: int


@dataclass(frozen=True)
class ChannelHealth:
    channel_id: int
    name: str
    marketplace: str
    account: str
    account_id: int
    enabled: bool
    harvest: JobRow | None
    """The account's harvest (it may be scheduled on another channel of the same account)."""
    orders_synced_to: datetime | None
    """The account's harvest watermark: orders modified up to here are in shelfdesk."""
    publications: list[PublicationState]
    jobs: list[JobRow]
    token_expires_at: datetime | None
    token_error: str | None

    @property
    def failures_in_a_row(self) -> int:
        rows = [*self.jobs, *([self.harvest] if self.harvest else [])]
        return max((row.failures_in_a_row for row in rows), default=0)

    def lag(self, now: datetime) -> timedelta | None:
        """How far behind the marketplace the orders are (None: never harvested)."""
        return None if self.orders_synced_to is None else max(timedelta(0), now - self.orders_synced_to)


@dataclass(frozen=True)
class SyncHealth:
    checked_at: datetime
    channels: list[ChannelHealth]
    workspace_jobs: list[JobRow]
    alerts: list[Any]
    problems: list[str] = field(default_factory=list)
    """Jobs that could not be loaded (a service module failed to import)."""
    stock: dict[str, Any] = field(default_factory=dict)
    """The stock pusher: SKUs waiting, the oldest unpushed change and its age."""
    deadlines: dict[str, int] = field(default_factory=dict)
    """How many deadlines per urgency ("overdue", "within 1 h" …), as ``shelfdesk due`` lists them."""

    @property
    def critical(self) -> bool:
        return any(str(alert.severity) == "critical" for alert in self.alerts) or bool(self.problems)

    @property
    def overdue(self) -> int:
        """Deadlines already missed (``shelfdesk status`` exits 1 on them, as on a critical alert)."""
        return int(self.deadlines.get("overdue", 0))


def sync_health(ctx: AppContext) -> SyncHealth:
    """Per channel: last harvest and publication, lag, next run, failures in a row, token expiry; plus alerts."""
    from shelfdesk.db.tables import table
    from shelfdesk.jobs.alerts import list_alerts

    # Core tables through one connection: ``shelfdesk status`` loads neither the ORM nor the models.
    MarketplaceAccount, publications_table = table("marketplace_accounts").c, table("publications")
    Publication = publications_table.c
    rows = job_rows(ctx)
    with ctx.read_connection() as session:
        channels = channel_facts(session)
        accounts = {
            a.id: a
            for a in session.execute(
                select(
                    MarketplaceAccount.id,
                    MarketplaceAccount.orders_watermark,
                    MarketplaceAccount.token_expires_at,
                    MarketplaceAccount.token_error,
                )
            )
        }
        publications: dict[int, list[PublicationState]] = {}
        for channel in channels:
            found = []
            for kind in ("offers", "products"):
                pub = session.execute(
                    # A dry run (a drift check, publish --dry-run) sent nothing: the last run that sent is meant.
                    select(Publication.state, Publication.started_at, Publication.finished_at, Publication.failed, Publication.items_total)
                    .where(Publication.channel_id == channel.id, Publication.kind == kind, Publication.dry_run.is_(False))
                    .order_by(Publication.started_at.desc(), Publication.id.desc())
                    .limit(1)
                ).first()
                if pub is not None:
                    found.append(PublicationState(kind, str(pub.state), pub.started_at, pub.finished_at, pub.failed, pub.items_total))
            publications[channel.id] = found
    channel_account = {c.id: c.account_id for c in channels}
    harvests = {channel_account.get(r.schedule.channel_id): r for r in rows if r.schedule.job == "harvest" and r.schedule.active}
    result = []
    for channel in channels:
        account = accounts[channel.account_id]
        result.append(
            ChannelHealth(
                channel_id=channel.id,
                name=channel.name,
                marketplace=channel.marketplace,
                account=channel.account_name,
                account_id=channel.account_id,
                enabled=channel.enabled,
                harvest=harvests.get(channel.account_id),
                orders_synced_to=account.orders_watermark,
                publications=publications[channel.id],
                jobs=[r for r in rows if r.schedule.channel_id == channel.id],
                token_expires_at=account.token_expires_at,
                token_error=account.token_error,
            )
        )
    workspace = [r for r in rows if r.schedule.channel_id is None]
    from shelfdesk.services.deadlines import due_counts
    from shelfdesk.services.stock import pusher_status

    deadlines = {str(u): n for u, n in due_counts(ctx).items()}
    return SyncHealth(ctx.clock.now(), result, workspace, list_alerts(ctx), load_problems(), pusher_status(ctx).as_json(), deadlines)


# ---------------------------------------------------------------- plain data (--json)


def run_dict(run: RunInfo | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "trigger": run.trigger,
        "outcome": str(run.outcome),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "seconds": run.seconds,
        "counts": run.counts,
        "error": run.error_line or None,
    }


def job_dict(row: JobRow, now: datetime) -> dict[str, Any]:
    s = row.schedule
    return {
        "key": s.key,
        "job": s.job,
        "title": s.title,
        "channel_id": s.channel_id,
        "channel": s.channel_name,
        "interval_seconds": s.interval,
        "paused": s.paused,
        "active": s.active,
        "inactive_reason": s.reason or None,
        "state": row.state,
        "last_run": run_dict(row.last),
        "last_success_at": _iso(row.last_healthy_at),
        "failures_in_a_row": row.failures_in_a_row,
        "next_run_at": _iso(row.next_run(now)),
        "lease_holder": holder_label(row.holder) or None,
    }


def health_dict(health: SyncHealth) -> dict[str, Any]:
    """``shelfdesk status --json``: names, times and counts only, never a credential."""
    now = health.checked_at
    channels = []
    for ch in health.channels:
        lag = ch.lag(now)
        channels.append(
            {
                "id": ch.channel_id,
                "name": ch.name,
                "marketplace": ch.marketplace,
                "account": ch.account,
                "enabled": ch.enabled,
                "last_harvest": run_dict(ch.harvest.last_finished) if ch.harvest else None,
                "next_harvest_at": _iso(ch.harvest.next_run(now)) if ch.harvest else None,
                "orders_synced_to": _iso(ch.orders_synced_to),
                "lag_seconds": lag.total_seconds() if lag is not None else None,
                "publications": [
                    {
                        "kind": p.kind,
                        "state": p.state,
                        "started_at": _iso(p.started_at),
                        "finished_at": _iso(p.finished_at),
                        "failed": p.failed,
                        "total": p.total,
                    }
                    for p in ch.publications
                ],
                "failures_in_a_row": ch.failures_in_a_row,
                "token_expires_at": _iso(ch.token_expires_at),
                "token_error": ch.token_error,
                "jobs": [job_dict(r, now) for r in ch.jobs],
            }
        )
    return {
        "checked_at": _iso(now),
        "critical": health.critical,
        "overdue": health.overdue,
        "channels": channels,
        "workspace_jobs": [job_dict(r, now) for r in health.workspace_jobs],
        "alerts": [
            {"kind": a.kind, "severity": str(a.severity), "message": a.message, "target_type": a.target_type, "target_id": a.target_id}
            for a in health.alerts
        ],
        "problems": health.problems,
        "stock": health.stock,
        "deadlines": health.deadlines,
    }
