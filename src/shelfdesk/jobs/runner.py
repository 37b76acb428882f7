"""Running one job: claim its lease, record the run, call the job, renew, record the outcome, release.

One :class:`JobRunner` per process (console or worker). It never decides
*when* a job runs — the scheduler's timer does — but it has the last word on
*whether* it runs: the schedule must be active and not paused (re-read from
the database at every run, so a pause from another process is obeyed at
once) and the lease must be won. Database work runs in threads
(``asyncio.to_thread``) so the console's event loop never waits on SQLite.

Times come from ``ctx.clock``; the only waits are the job's own and the
shutdown grace, which also goes through the clock.

Shutdown (:meth:`JobRunner.shutdown`): no new runs start; jobs in hand get
``grace`` seconds to finish; then ``async`` jobs are cancelled at their next
await and recorded ``abandoned`` with their lease released — every job
function is written to be safe to stop there and to run again. Plain
(thread) functions cannot be interrupted: shutdown waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shelfdesk.context import AppContext
from shelfdesk.db.engine import is_unavailable, unavailable_reason
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs import leases
from shelfdesk.jobs.registry import JobSpec, get_job, split_key
from shelfdesk.jobs.runs import abandon_runs, finish_run, start_run
from shelfdesk.logs import redact

log = logging.getLogger("shelfdesk.jobs")

SCHEDULE = "schedule"
MANUAL = "manual"

#: Seconds between attempts to record a run's end while the database is unavailable.
FINISH_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class RunReport:
    """What happened when a run was asked for: it ran (with an outcome) or why it did not."""

    key: str
    ran: bool
    outcome: JobOutcome | None = None
    run_id: int | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    reason: str = ""
    """Why it did not run (paused, inactive, lease held, not due, shutting down)."""
    seconds: float | None = None
    taken_over_from: str | None = None


@dataclass(frozen=True)
class RunEvent:
    """Told to the runner's listener when a run starts and when it ends (the console refreshes)."""

    kind: str  #: "started" or "finished"
    key: str
    run_id: int
    report: RunReport | None = None


Listener = Callable[[RunEvent], None]
JobCall = Callable[[], Awaitable[Mapping[str, Any]]]


class JobRunner:
    """Runs jobs for one process; ``role`` names the process kind in lease holders (console, worker)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        role: str = "process",
        holder: str | None = None,
        lease_seconds: float = leases.LEASE_SECONDS,
        listener: Listener | None = None,
    ) -> None:
        self.ctx = ctx
        self.holder = holder or leases.make_holder(role)
        self.lease_seconds = lease_seconds
        self.listener = listener
        self.stopping = False
        self._tasks: dict[str, asyncio.Task[Mapping[str, Any]]] = {}
        self._async: dict[str, bool] = {}
        self._lost: set[str] = set()
        self._busy: dict[str, asyncio.Event] = {}
        self._stop_reason = "stopped by shutdown"

    @property
    def running(self) -> list[str]:
        """Keys of the jobs this process is running now."""
        return list(self._tasks)

    # ------------------------------------------------------------ one run

    async def run(self, key: str, *, trigger: str = SCHEDULE, call: JobCall | None = None) -> RunReport:
        """Run ``key`` now if it may run; a ``manual`` trigger skips the "once per interval" rule.

        ``call`` replaces the registered function for this run (same lease,
        same run record): an operator's "fetch now" that wants the service's
        full result, not only its counts, still runs once across processes.
        Never raises for a failing job: the failure is recorded and reported.
        """
        if self.stopping:
            return RunReport(key, False, reason="this process is shutting down")
        if key in self._busy:
            return RunReport(key, False, reason="already running in this process")
        done = self._busy[key] = asyncio.Event()
        try:
            return await self._run(key, trigger, call)
        finally:
            self._busy.pop(key, None)
            done.set()

    async def _run(self, key: str, trigger: str, call: JobCall | None) -> RunReport:
        claimed = await asyncio.to_thread(self._claim, key, trigger)
        if isinstance(claimed, RunReport):
            log.debug("job %s not run: %s", key, claimed.reason)
            return claimed
        run_id, spec, channel_id, taken_over = claimed
        if self.stopping:  # shutdown began while the claim was being written
            await asyncio.to_thread(self._finish, key, run_id, JobOutcome.abandoned, {}, self._stop_reason, None)
            return RunReport(key, True, JobOutcome.abandoned, run_id, error=self._stop_reason)
        # Debug: a job every few seconds would fill the log; the end of the run is logged below.
        log.log(
            logging.WARNING if taken_over else logging.DEBUG,
            "job %s started (run %d, %s%s)",
            key,
            run_id,
            trigger,
            f", taken over from {leases.holder_label(taken_over)}" if taken_over else "",
        )
        self._tell(RunEvent("started", key, run_id))
        started = self.ctx.clock.monotonic()
        task = asyncio.ensure_future(call() if call is not None else self._call(spec, channel_id))
        self._tasks[key] = task
        self._async[key] = call is not None or spec.is_async()
        counts: dict[str, Any] = {}
        error = trace = None
        cancelled_here = lost_database = False
        try:
            counts = _clean_counts(await task)
            outcome = JobOutcome.succeeded if counts else JobOutcome.skipped
        except asyncio.CancelledError:
            current = asyncio.current_task()
            cancelled_here = current is not None and current.cancelling() > 0
            outcome, error = JobOutcome.abandoned, self._stop_reason
        except Exception as exc:  # the job failed: record it, never crash the scheduler
            outcome = JobOutcome.failed
            error = redact(f"{type(exc).__name__}: {exc}")
            trace = redact("".join(traceback.format_exception(exc)))
            lost_database = is_unavailable(exc)
        finally:
            self._tasks.pop(key, None)
            self._async.pop(key, None)
        if key in self._lost:
            self._lost.discard(key)
            error = (error + "\n" if error else "") + "lease lost while running: another process may have run it too"
        seconds = self.ctx.clock.monotonic() - started
        await self._record_end(key, run_id, outcome, counts, error, trace)
        report = RunReport(key, True, outcome, run_id, counts, error, seconds=seconds, taken_over_from=taken_over)
        self._log_end(report, None if lost_database else trace)  # the database going away is one line, not a traceback
        self._tell(RunEvent("finished", key, run_id, report))
        if cancelled_here:
            raise asyncio.CancelledError
        return report

    async def _call(self, spec: JobSpec, channel_id: int | None) -> Mapping[str, Any]:
        function = spec.function()
        if spec.is_async():
            return await function(self.ctx, channel_id)  # type: ignore[misc]  # is_async() checked it is a coroutine function
        return await asyncio.to_thread(function, self.ctx, channel_id)

    def _claim(self, key: str, trigger: str) -> RunReport | tuple[int, JobSpec, int | None, str | None]:
        """In one transaction: check the schedule, claim the lease, insert the run record."""
        from shelfdesk.jobs.schedules import read_schedules

        job, channel_id = split_key(key)
        spec = get_job(job)
        if spec is None:
            return RunReport(key, False, reason=f"no job named {job!r} is registered")
        now = self.ctx.clock.now()
        with self.ctx.write_session() as session:
            found = read_schedules(session, key)
            if not found:
                return RunReport(key, False, reason="no such schedule")
            schedule = found[0]
            if not schedule.active:
                return RunReport(key, False, reason=f"inactive: {schedule.reason}")
            if schedule.paused and trigger == SCHEDULE:
                return RunReport(key, False, reason="paused")
            interval = None if trigger != SCHEDULE else schedule.interval
            claim = leases.claim(session, key, self.holder, now, interval=interval, ttl=self.lease_seconds)
            if not claim.claimed:
                return RunReport(key, False, reason=claim.reason)
            if claim.taken_over_from:
                abandoned = abandon_runs(
                    session,
                    key,
                    claim.taken_over_from,
                    now,
                    f"{leases.holder_label(claim.taken_over_from)} stopped renewing its lease "
                    f"(crashed or killed); taken over by {leases.holder_label(self.holder)}",
                )
                if abandoned:
                    log.warning("job %s: took over from %s, %d run(s) marked abandoned", key, claim.taken_over_from, abandoned)
            run_id = start_run(session, key, trigger, self.holder, now)
        return run_id, spec, channel_id, claim.taken_over_from

    async def _record_end(
        self, key: str, run_id: int, outcome: JobOutcome, counts: Mapping[str, Any], error: str | None, trace: str | None
    ) -> None:
        """Record the run's end and release its lease, waiting out a database outage while the lease lives.

        Gives up (raising) after about one lease period: by then the lease has
        expired and another process may take the job over, marking this run
        abandoned, so writing its end late would be wrong.
        """
        attempts = max(1, int(self.lease_seconds // FINISH_RETRY_SECONDS))
        for attempt in range(1, attempts + 1):
            try:
                await asyncio.to_thread(self._finish, key, run_id, outcome, counts, error, trace)
                return
            except Exception as exc:
                if not is_unavailable(exc) or attempt == attempts:
                    raise
                log.warning(
                    "job %s: cannot record the end of run %s, the database is unavailable (%s): retrying in %g s",
                    key,
                    run_id,
                    unavailable_reason(exc),
                    FINISH_RETRY_SECONDS,
                )
                await asyncio.sleep(FINISH_RETRY_SECONDS)

    def _finish(self, key: str, run_id: int, outcome: JobOutcome, counts: Mapping[str, Any], error: str | None, trace: str | None) -> None:
        with self.ctx.write_session() as session:
            finish_run(session, run_id, outcome, self.ctx.clock.now(), counts=counts, error=error, traceback=trace)
            leases.release(session, key, self.holder)

    def _log_end(self, report: RunReport, trace: str | None) -> None:
        took = f"{report.seconds:.1f} s" if report.seconds is not None else "?"
        if report.outcome is JobOutcome.failed:
            log.error("job %s failed after %s (run %s): %s\n%s", report.key, took, report.run_id, report.error, trace or "")
        elif report.outcome is JobOutcome.abandoned:
            log.warning("job %s abandoned after %s (run %s): %s", report.key, took, report.run_id, report.error)
        elif report.outcome is JobOutcome.skipped:  # nothing to do: only when debugging
            log.debug("job %s had nothing to do (%s, run %s)", report.key, took, report.run_id)
        else:
            log.info("job %s %s in %s (run %s) %s", report.key, report.outcome, took, report.run_id, report.counts or "")

    def _tell(self, event: RunEvent) -> None:
        if self.listener is None:
            return
        try:
            self.listener(event)
        except Exception:  # a broken listener must not break the run
            log.exception("job event listener failed")

    # ------------------------------------------------------------ heartbeat and shutdown

    async def heartbeat(self) -> set[str]:
        """Renew the leases of the jobs in hand; returns the keys whose lease was lost.

        Called by the scheduler's heartbeat (every ≤30 s, well inside the lease's life).
        """
        keys = list(self._tasks)
        if not keys:
            return set()
        held = await asyncio.to_thread(self._renew, keys)
        lost = set(keys) - held - self._lost
        for key in lost:
            log.warning("job %s: lease lost while running (this process stalled past its expiry?)", key)
        self._lost |= lost
        return lost

    def _renew(self, keys: list[str]) -> set[str]:
        with self.ctx.write_session() as session:
            return leases.renew(session, keys, self.holder, self.ctx.clock.now(), ttl=self.lease_seconds)

    def abandon(self) -> None:
        """Cancel the ``async`` jobs in hand now (a second SIGTERM); they are recorded ``abandoned``."""
        for key, task in self._tasks.items():
            if not task.done() and self._async.get(key, True):
                task.cancel()

    async def shutdown(self, grace: float = 30.0, reason: str = "stopped by shutdown") -> None:
        """Start no more runs; let the jobs in hand finish for ``grace`` seconds, then abandon them safely.

        Returns once every run in hand has written its record and released its lease.
        """
        self.stopping = True
        self._stop_reason = reason
        tasks = dict(self._tasks)
        if tasks:
            log.info("waiting up to %.0f s for %s", grace, ", ".join(tasks))
            await _wait_or_sleep(list(tasks.values()), grace, self.ctx.clock)
            for key, task in tasks.items():
                if not task.done() and self._async.get(key, True):
                    log.warning("job %s still running after %.0f s: abandoning it", key, grace)
                    task.cancel()
                elif not task.done():
                    log.warning("job %s runs in a thread and cannot be interrupted: waiting for it", key)
        for done in list(self._busy.values()):
            await done.wait()


async def _wait_or_sleep(tasks: list[asyncio.Task[Any]], seconds: float, clock: Any) -> None:
    """Wait for every task in ``tasks``, or ``seconds`` on ``clock``, whichever comes first."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    pending = {t for t in tasks if not t.done()}
    try:
        while pending and not sleeper.done():
            await asyncio.wait([*pending, sleeper], return_when=asyncio.FIRST_COMPLETED)
            pending = {t for t in pending if not t.done()}
    finally:
        sleeper.cancel()


def _clean_counts(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """Counts as stored: names to numbers; anything else is a bug in the job and fails the run."""
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise TypeError(f"a job must return a mapping of counts, not {type(result).__name__}")
    counts: dict[str, Any] = {}
    for name, value in result.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"count {name!r} is {value!r}: counts must be numbers")
        counts[str(name)] = value
    return counts
