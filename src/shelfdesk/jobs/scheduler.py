"""The timer of one process: APScheduler 3 (AsyncIOScheduler, in-memory job store).

Why APScheduler only as a timer: its 3.x job stores cannot be shared between
processes (its FAQ: "You can't"), so schedules, leases and runs live in our
own tables and APScheduler holds one in-memory timer per
active schedule. Each timer calls :meth:`JobScheduler._fire`, which asks the
:class:`~shelfdesk.jobs.runner.JobRunner` to run the job; the runner's lease
decides whether it really runs (another process may have run it this
interval). After every fire the timer is re-aimed at the job's next due time,
computed from the lease's last start, so every process aims at the same
moment and the first to claim wins.

A heartbeat timer (every :data:`HEARTBEAT_SECONDS`, well under 30 s) renews
the leases of jobs in hand, seeds schedules for new channels, and compares
schedule versions so an edit or a pause made by any process is picked up.

**Time.** Every instant we compute (due times, records, leases) comes from
``ctx.clock``. APScheduler keeps time with the wall clock and the event loop
(``datetime.now`` and ``loop.call_later`` inside its ``_process_jobs``),
which cannot be injected; so we hand it *delays* (seconds from now, measured
on our clock) through :class:`DelayTrigger`, never absolute instants, and
tests drive the runner and :meth:`JobScheduler.reconcile` with a FakeClock
instead of waiting for APScheduler.

**A lost database** (a PostgreSQL restart, a network cut, a SQLite file
locked too long) is one warning line naming it and why, then a retry at each
heartbeat and timer; one more line when it answers again. The pool checks each
connection before use, so nothing else is needed to reconnect. A job's lease
outlives the outage or expires: either way no two processes run it at once.

Misfires are coalesced twice: APScheduler runs a late timer once
(``coalesce=True``, ``max_instances=1``), and a job that missed many intervals
while every process was stopped is due once, now (:func:`~shelfdesk.jobs.leases.next_due`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from shelfdesk.context import AppContext
from shelfdesk.jobs.leases import next_due, read_leases
from shelfdesk.jobs.runner import MANUAL, SCHEDULE, JobCall, JobRunner, Listener, RunReport

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("shelfdesk.jobs")

HEARTBEAT_SECONDS = 15
"""Lease renewal and schedule-version check; must stay ≤ 30 s and well under the lease's life."""
HEARTBEAT_ID = "shelfdesk:heartbeat"


@dataclass(frozen=True)
class Timer:
    """What this process asked APScheduler to do for one schedule."""

    key: str
    interval: int
    delay: float
    """Seconds from when it was set until the first fire (0: due now)."""
    due: datetime | None
    """The due instant on ``ctx.clock`` (None: never ran, due at once)."""
    version: int


class DelayTrigger:
    """Fires ``delay`` seconds after being added (on APScheduler's own now), then every ``interval``.

    Handing APScheduler a delay rather than an instant keeps our clock and
    its wall clock from having to agree (see the module docstring).
    """

    __slots__ = ("delay", "interval")

    def __init__(self, delay: float, interval: float) -> None:
        self.delay = max(0.0, delay)
        self.interval = interval

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        if previous_fire_time is None:
            return now + timedelta(seconds=self.delay)
        return previous_fire_time + timedelta(seconds=self.interval)

    def __str__(self) -> str:
        return f"delay[{self.delay:.1f}s] every[{self.interval}s]"


def _trigger_class() -> type:
    """DelayTrigger as an APScheduler trigger (its base class is imported only when scheduling)."""
    from apscheduler.triggers.base import BaseTrigger

    class ApsDelayTrigger(DelayTrigger, BaseTrigger):
        __slots__ = ()

    return ApsDelayTrigger


class JobScheduler:
    """Schedules this process's runs of every active schedule; one per console or worker."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        role: str = "process",
        runner: JobRunner | None = None,
        listener: Listener | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        on_reconciled: Callable[[list[Timer]], None] | None = None,
        on_fired: Callable[[RunReport], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.runner = runner or JobRunner(ctx, role=role, listener=listener)
        self.heartbeat_seconds = heartbeat_seconds
        self.on_reconciled = on_reconciled
        self.on_fired = on_fired
        self._aps: AsyncIOScheduler | None = None
        self._trigger: type | None = None
        self._timers: dict[str, Timer] = {}
        self._unavailable_since: float | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def started(self) -> bool:
        return self._aps is not None

    def start(self, *, paused: bool = False) -> None:
        """Start the timers on the running event loop (``paused``: add timers but fire nothing, for tests)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._trigger = _trigger_class()
        # APScheduler warns at every fire of a job still running ("maximum number of running
        # instances reached"): expected here (one run at a time), and noise on a console's stderr.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self._aps = AsyncIOScheduler(
            timezone=timezone.utc,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._aps.start(paused=paused)
        self._aps.add_job(self._heartbeat, self._trigger(0, self.heartbeat_seconds), id=HEARTBEAT_ID, name="shelfdesk heartbeat")
        log.info("scheduler started (%s)", self.runner.holder)

    async def stop(self, grace: float = 30.0, reason: str = "stopped by shutdown") -> None:
        """Fire nothing more, give jobs in hand ``grace`` seconds, record and release, stop the timers."""
        if self._aps is not None and self._aps.running:
            self._aps.pause()
        await self.runner.shutdown(grace, reason)
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None
        self._timers.clear()
        log.info("scheduler stopped (%s)", self.runner.holder)

    # ------------------------------------------------------------ timers

    def timers(self) -> dict[str, Timer]:
        """The timers this process holds, by schedule key."""
        return dict(self._timers)

    async def reconcile(self) -> list[Timer]:
        """Seed new schedules, re-read every schedule and lease, and re-aim the timers that changed."""
        plans = await asyncio.to_thread(self._plan)
        for key in set(self._timers) - {t.key for t in plans}:
            self._drop(key)
        for timer in plans:
            current = self._timers.get(timer.key)
            if current is None or (current.interval, current.due, current.version) != (timer.interval, timer.due, timer.version):
                self._set(timer)
        if self.on_reconciled is not None:
            self.on_reconciled(list(self._timers.values()))
        return list(self._timers.values())

    def _plan(self, only: str | None = None) -> list[Timer]:
        """Next due time of every active, unpaused schedule (or of ``only``), on our clock."""
        from shelfdesk.jobs.registry import done_by_hand
        from shelfdesk.jobs.schedules import ensure_schedules, read_schedules

        if not self.ctx.read_only and only is None:
            ensure_schedules(self.ctx)
        with self.ctx.read_session() as session:
            schedules = read_schedules(session, only)
            lease_rows = read_leases(session)
        now = self.ctx.clock.now()
        plans = []
        for schedule in schedules:
            if not schedule.active or schedule.paused:
                continue
            done = done_by_hand(self.ctx, schedule.job, schedule.channel_id)
            due = next_due(schedule.interval, lease_rows.get(schedule.key), done)
            delay = 0.0 if due is None else max(0.0, (due - now).total_seconds())
            plans.append(Timer(schedule.key, schedule.interval, delay, due, schedule.version))
        return plans

    def _set(self, timer: Timer) -> None:
        self._timers[timer.key] = timer
        if self._aps is None or self._trigger is None:
            return
        self._aps.add_job(
            self._fire, self._trigger(timer.delay, timer.interval), args=[timer.key], id=timer.key, name=timer.key, replace_existing=True
        )

    def _drop(self, key: str) -> None:
        self._timers.pop(key, None)
        if self._aps is not None and self._aps.get_job(key) is not None:
            self._aps.remove_job(key)

    async def replan(self, key: str) -> Timer | None:
        """Re-aim one schedule's timer from the database (after it ran, or after an operator's change)."""
        plans = await asyncio.to_thread(self._plan, key)
        if not plans:
            self._drop(key)
            return None
        self._set(plans[0])
        return plans[0]

    # ------------------------------------------------------------ what the timers call

    async def _fire(self, key: str) -> None:
        """A timer went off: run the job if it may run, then re-aim the timer at its next due time."""
        report = None
        try:
            report = await self.runner.run(key, trigger=SCHEDULE)
            if not report.ran:
                log.debug("timer %s: not run (%s)", key, report.reason)
        except Exception as exc:  # never let one job break the timers
            self._failed(exc, f"job {key}: the scheduler could not run it")
        if not self.runner.stopping:
            try:
                await self.replan(key)
            except Exception as exc:
                self._failed(exc, f"job {key}: could not plan its next run")
        if report is not None and self.on_fired is not None:
            self.on_fired(report)

    async def _heartbeat(self) -> None:
        try:
            await self.runner.heartbeat()
            await self.reconcile()
        except Exception as exc:  # a locked or unreachable database: try again next beat
            self._failed(exc, f"job heartbeat failed; retrying in {self.heartbeat_seconds:g} s")
            return
        if self._unavailable_since is not None:
            down = self.ctx.clock.monotonic() - self._unavailable_since
            self._unavailable_since = None
            log.warning("the database answers again (unavailable for %.0f s): jobs resume", down)

    def _failed(self, exc: Exception, what: str) -> None:
        """Log a failure: one line for a database that went away (once per outage), a traceback otherwise."""
        from shelfdesk.db.engine import is_unavailable, unavailable_reason
        from shelfdesk.db.migrate import describe_database

        if not is_unavailable(exc):
            log.error("%s", what, exc_info=exc)
            return
        if self._unavailable_since is None:
            self._unavailable_since = self.ctx.clock.monotonic()
            log.warning(
                "%s is unavailable (%s): retrying every %g s",
                describe_database(self.ctx.engine.url),
                unavailable_reason(exc),
                self.heartbeat_seconds,
            )
        else:
            log.debug("%s: the database is still unavailable (%s)", what, unavailable_reason(exc))

    async def run_now(self, key: str, call: JobCall | None = None) -> RunReport:
        """Run ``key`` at once (an operator's "run now"), then re-aim its timer; ``call`` as in :meth:`JobRunner.run`."""
        report = await self.runner.run(key, trigger=MANUAL, call=call)
        if self.started:
            await self.replan(key)
        return report

    async def changed(self) -> None:
        """An operator changed schedules in this process: re-aim now rather than at the next heartbeat."""
        await self.reconcile()


def aps_jobs(scheduler: JobScheduler) -> dict[str, Any]:
    """APScheduler's own view (id → job), for tests and diagnostics."""
    if scheduler._aps is None:
        return {}
    return {job.id: job for job in scheduler._aps.get_jobs()}
