"""Job schedules: in the database, so every console and worker sees the same ones.

Each registered job gets one schedule per channel it applies to (or per
account, or one for the workspace), seeded with the registry's default
interval the first time a process sees that channel. Operators then edit the
interval or pause a job; every edit bumps ``version``, which each process
compares at least every 30 s to reschedule its in-memory timers. Pausing is a
column, so it survives restarts.

A schedule whose job is no longer registered, or whose channel no longer
qualifies (disabled, feed off), is kept — with the operator's interval — but
is *inactive*: it is listed with the reason and never runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from shelfdesk.context import AppContext
from shelfdesk.jobs.registry import ChannelFacts, JobScope, JobSpec, job_key, load_jobs

MIN_INTERVAL = 1
MAX_INTERVAL = 90 * 24 * 3600


class ScheduleError(ValueError):
    """An operator's request about a schedule that cannot be honoured; the message says why."""


@dataclass(frozen=True)
class Wanted:
    """A schedule the registry asks for."""

    key: str
    job: str
    channel_id: int | None
    interval: int


@dataclass(frozen=True)
class ScheduleInfo:
    """One schedule as the console, the CLI and the scheduler see it."""

    key: str
    job: str
    title: str
    channel_id: int | None
    channel_name: str | None
    interval: int
    paused: bool
    version: int
    updated_at: datetime
    active: bool
    reason: str = ""
    """Why an inactive schedule does not run."""

    @property
    def where(self) -> str:
        return self.channel_name or "workspace"

    @property
    def name(self) -> str:
        """How the console names the job everywhere ("Offers sync on Back Market France"), never its key."""
        return f"{self.title} on {self.where}"


# ---------------------------------------------------------------- intervals

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)


def parse_interval(text: str) -> int:
    """``"90"``/``"90s"`` → 90, ``"5m"`` → 300, ``"2h"``, ``"1d"``; refuses anything else."""
    match = _INTERVAL.match(text or "")
    if not match:
        raise ScheduleError(f"{text!r} is not an interval: write a number with s, m, h or d (e.g. 30s, 5m, 2h, 1d)")
    seconds = int(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ScheduleError(f"an interval must be between {MIN_INTERVAL} s and {MAX_INTERVAL // 86400} days")
    return seconds


def format_interval(seconds: int | float) -> str:
    """The shortest exact spelling: 300 → ``5m``, 90 → ``90s``, 86400 → ``1d``."""
    seconds = int(seconds)
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---------------------------------------------------------------- what the registry asks for


def channel_facts(session: object) -> list[ChannelFacts]:
    """Every channel with its account's name, ordered by id (account scope picks the first)."""
    from shelfdesk.db.tables import table

    Channel, MarketplaceAccount = table("channels").c, table("marketplace_accounts").c
    rows = session.execute(
        select(
            Channel.id,
            Channel.name,
            Channel.account_id,
            MarketplaceAccount.name,
            Channel.marketplace,
            Channel.enabled,
            Channel.orders_enabled,
            Channel.products_feed_enabled,
            Channel.offers_feed_enabled,
            Channel.repricer_enabled,
            Channel.activated_at,
        )
        .join_from(table("channels"), table("marketplace_accounts"), MarketplaceAccount.id == Channel.account_id)
        .order_by(Channel.id)
    ).all()
    return [
        ChannelFacts(
            r[0],
            r[1],
            r[2],
            r[3],
            str(r[4]),
            bool(r[5]),
            bool(r[6]),
            bool(r[7]),
            bool(r[8]),
            bool(r[9]),
            publication_active=r[10] is not None,
        )
        for r in rows
    ]


def wanted_schedules(specs: Iterable[JobSpec], channels: Sequence[ChannelFacts]) -> list[Wanted]:
    """The schedules the registered jobs ask for, given the channels (pure)."""
    wanted: list[Wanted] = []
    for spec in specs:
        if spec.scope is JobScope.workspace:
            wanted.append(Wanted(spec.name, spec.name, None, spec.interval))
            continue
        accounts: set[int] = set()
        for channel in channels:
            if not spec.applies(channel):
                continue
            if spec.scope is JobScope.account:
                if channel.account_id in accounts:
                    continue
                accounts.add(channel.account_id)
            wanted.append(Wanted(job_key(spec.name, channel.id), spec.name, channel.id, spec.interval))
    return wanted


def _wanted(session: object) -> tuple[list[Wanted], dict[int, ChannelFacts]]:
    channels = channel_facts(session)
    return wanted_schedules(load_jobs().values(), channels), {c.id: c for c in channels}


# ---------------------------------------------------------------- reading and seeding


def ensure_schedules(ctx: AppContext) -> int:
    """Create the schedules the registry asks for that do not exist yet; returns how many.

    Safe to run from several processes at once (``INSERT … ON CONFLICT DO
    NOTHING`` on the unique key). Never changes an existing schedule.
    """
    from shelfdesk.db.tables import table

    with ctx.read_connection() as conn:  # the usual case, nothing missing, loads no ORM
        wanted, _ = _wanted(conn)
        existing = set(conn.execute(select(table("job_schedules").c.key)).scalars())
    missing = [w for w in wanted if w.key not in existing]
    if not missing:
        return 0
    from shelfdesk.db.models import JobSchedule
    from shelfdesk.db.upsert import upsert_rows

    now = ctx.clock.now()
    rows = [
        {
            "key": w.key,
            "job": w.job,
            "channel_id": w.channel_id,
            "interval_seconds": w.interval,
            "paused": False,
            "version": 1,
            "updated_at": now,
        }
        for w in missing
    ]
    with ctx.write_session() as session:
        upsert_rows(session, JobSchedule, rows, ["key"], [])
    return len(missing)


def list_schedules(ctx: AppContext) -> list[ScheduleInfo]:
    """Every schedule, active ones first, then by job and channel."""
    with ctx.read_connection() as conn:
        return read_schedules(conn)


def read_schedules(session: object, key: str | None = None) -> list[ScheduleInfo]:
    """Schedules (all, or the one of ``key``) with whether each is active, in a caller's session."""
    from shelfdesk.db.tables import table

    specs = load_jobs()
    wanted, channels = _wanted(session)
    schedules = table("job_schedules")
    query = select(schedules)
    if key is not None:
        query = query.where(schedules.c.key == key)
    rows = session.execute(query).all()
    wanted_keys = {w.key for w in wanted}
    result = []
    for row in rows:
        spec = specs.get(row.job)
        channel = channels.get(row.channel_id) if row.channel_id is not None else None
        if spec is None:
            active, reason = False, f"no job named {row.job!r} is registered in this shelfdesk"
        elif row.key not in wanted_keys:
            active, reason = False, _why_not(spec, channel)
        else:
            active, reason = True, ""
        result.append(
            ScheduleInfo(
                key=row.key,
                job=row.job,
                title=spec.title if spec else row.job,
                channel_id=row.channel_id,
                channel_name=channel.name if channel else None,
                interval=row.interval_seconds,
                paused=row.paused,
                version=row.version,
                updated_at=row.updated_at,
                active=active,
                reason=reason,
            )
        )
    order = list(specs)
    return sorted(result, key=lambda s: (not s.active, order.index(s.job) if s.job in order else len(order), s.channel_name or "", s.key))


def _why_not(spec: JobSpec, channel: ChannelFacts | None) -> str:
    if channel is None:
        return "its channel no longer exists"
    if not channel.enabled:
        return f"channel {channel.name} is disabled"
    if spec.applies(channel) and spec.scope is JobScope.account:
        return f"account {channel.account_name} is handled on another of its channels"
    if not channel.publication_active and spec.applies(_activated(channel)):
        return f"publication of {channel.name} is not activated (three green lights, then A on Mappings)"
    return f"{spec.title.lower()} is switched off for channel {channel.name}"


def _activated(channel: ChannelFacts) -> ChannelFacts:
    from dataclasses import replace

    return replace(channel, publication_active=True)


def get_schedule(ctx: AppContext, key: str) -> ScheduleInfo:
    with ctx.read_session() as session:
        found = read_schedules(session, key)
    if found:
        return found[0]
    raise ScheduleError(f"no job schedule {key!r}; `shelfdesk jobs list` shows them")


def resolve_key(ctx: AppContext, text: str, channel: str | None = None) -> str:
    """Find a schedule from what an operator typed: a key, or a job name plus a channel (any form of ``channel_refs``)."""
    schedules = list_schedules(ctx)
    channel_id = None
    if channel is not None:
        from shelfdesk.channel_refs import resolve_channel

        channel_id = resolve_channel(ctx, channel).id
    if channel is None and any(s.key == text for s in schedules):
        return text
    candidates = [s for s in schedules if s.job == text or s.key == text]
    if channel is not None:
        candidates = [s for s in candidates if s.channel_id == channel_id]
    if len(candidates) == 1:
        return candidates[0].key
    if not candidates:
        where = f" on channel {channel!r}" if channel else ""
        raise ScheduleError(f"no job {text!r}{where}; `shelfdesk jobs list` shows the keys")
    listed = ", ".join(s.key for s in candidates)
    raise ScheduleError(f"{text!r} has several schedules ({listed}); give the key or --channel")


# ---------------------------------------------------------------- operator changes


def set_interval(ctx: AppContext, key: str, seconds: int) -> ScheduleInfo:
    """Change how often ``key`` runs; other processes pick it up at their next version check."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import JobSchedule

    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ScheduleError(f"an interval must be between {MIN_INTERVAL} s and {MAX_INTERVAL // 86400} days")
    with ctx.write_session() as session:
        changed = session.execute(
            update(JobSchedule)
            .where(JobSchedule.key == key)
            .values(interval_seconds=seconds, version=JobSchedule.version + 1, updated_at=ctx.clock.now())
        ).rowcount
        if not changed:
            raise ScheduleError(f"no job schedule {key!r}")
        record_audit(session, ctx, "job.schedule", "job", key, {"interval_seconds": seconds})
    return get_schedule(ctx, key)


def set_paused(ctx: AppContext, keys: Sequence[str] | None, paused: bool) -> int:
    """Pause (or resume) ``keys``, or every schedule when ``keys`` is None; returns how many changed.

    A running job finishes its run; it is not started again until resumed.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import JobSchedule

    with ctx.write_session() as session:
        query = update(JobSchedule).where(JobSchedule.paused != paused)
        if keys is not None:
            known = set(session.execute(select(JobSchedule.key).where(JobSchedule.key.in_(list(keys)))).scalars())
            unknown = sorted(set(keys) - known)
            if unknown:
                raise ScheduleError(f"no job schedule {', '.join(map(repr, unknown))}")
            query = query.where(JobSchedule.key.in_(list(keys)))
        changed = session.execute(query.values(paused=paused, version=JobSchedule.version + 1, updated_at=ctx.clock.now())).rowcount
        record_audit(
            session, ctx, "job.pause" if paused else "job.resume", "job", "all" if keys is None else ",".join(keys), {"changed": changed}
        )
    return int(changed)


def schedule_versions(ctx: AppContext) -> dict[str, tuple[int, bool, int]]:
    """``key → (version, paused, interval)``: the cheap query each process repeats every ≤30 s."""
    from shelfdesk.db.models import JobSchedule

    with ctx.read_session() as session:
        rows = session.execute(select(JobSchedule.key, JobSchedule.version, JobSchedule.paused, JobSchedule.interval_seconds)).all()
    return {key: (version, bool(paused), interval) for key, version, paused, interval in rows}
