"""Scheduler behaviour on a FakeClock: schedules, once per interval, coalescing, pause, edits, records.

Nothing here waits for real time: the runner and the planner read the
injected clock, and tests move it. The one test that lets APScheduler fire
waits for the run's own "finished" event, not for a duration.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs import registry
from shelfdesk.jobs.registry import JobScope
from shelfdesk.jobs.runner import MANUAL, JobRunner, RunReport
from shelfdesk.jobs.runs import list_runs, summarize
from shelfdesk.jobs.scheduler import JobScheduler, aps_jobs
from shelfdesk.jobs.schedules import (
    ScheduleError,
    ensure_schedules,
    format_interval,
    list_schedules,
    parse_interval,
    set_interval,
    set_paused,
)
from tests.jobs.conftest import add_channels


def _count(counter: list[int]) -> Any:
    async def job(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
        counter.append(channel_id or 0)
        return {"items": 1}

    return job


def _lease(ctx: AppContext, key: str) -> Any:
    from sqlmodel import select

    from shelfdesk.db.models import JobLease

    with ctx.read_session() as session:
        return session.exec(select(JobLease).where(JobLease.key == key)).one()


def test_schedules_are_seeded_per_channel_per_account_and_for_the_workspace(ctx: AppContext, jobs: Any) -> None:
    ids = add_channels(ctx, ("BM EU", "backmarket", "BM France"), ("BM EU", "backmarket", "BM Spain"), ("LBC", "leboncoin", "LBC France"))
    jobs("harvest", _count([]), scope=JobScope.account, interval=60, applies=lambda c: c.enabled and c.orders_enabled)
    jobs("offers", _count([]), scope=JobScope.channel, interval=300)
    jobs("outbox", _count([]), scope=JobScope.workspace, interval=5)

    assert ensure_schedules(ctx) == 6
    assert ensure_schedules(ctx) == 0  # idempotent
    keys = {s.key: s for s in list_schedules(ctx)}
    # One harvest per account, on its first channel; offers on every channel; one outbox.
    assert set(keys) == {f"harvest:{ids['BM France']}", f"harvest:{ids['LBC France']}", "outbox", *(f"offers:{i}" for i in ids.values())}
    assert keys["outbox"].interval == 5 and keys["outbox"].where == "workspace"
    assert keys[f"offers:{ids['BM Spain']}"].interval == 300

    from shelfdesk.db.models import Channel

    with ctx.write_session() as session:
        session.get(Channel, ids["LBC France"]).enabled = False
    inactive = {s.key: s for s in list_schedules(ctx) if not s.active}
    assert set(inactive) == {f"harvest:{ids['LBC France']}", f"offers:{ids['LBC France']}"}
    assert "LBC France is disabled" in inactive[f"offers:{ids['LBC France']}"].reason
    assert list_schedules(ctx)[-1].active is False  # inactive ones listed last


async def test_a_job_runs_once_per_interval_and_is_recorded(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    calls: list[int] = []
    jobs("ping", _count(calls), interval=60)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="test")

    first = await runner.run("ping")
    assert first.ran and first.outcome is JobOutcome.succeeded and first.counts == {"items": 1}
    again = await runner.run("ping")
    assert not again.ran and "already ran at 09:30:00; next due at 09:31:00" in again.reason
    clock.advance(30)
    assert not (await runner.run("ping")).ran
    clock.advance(30)
    assert (await runner.run("ping")).ran
    assert len(calls) == 2

    runs = list_runs(ctx, "ping")
    assert [r.started_at for r in runs] == [clock.now(), clock.now() - timedelta(seconds=60)]
    assert all(r.outcome is JobOutcome.succeeded and r.trigger == "schedule" and r.holder == runner.holder for r in runs)
    lease = _lease(ctx, "ping")
    assert lease.holder is None and lease.acquired_at == clock.now()  # released; last start kept


async def test_manual_run_ignores_the_interval_and_resets_the_timer(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    jobs("ping", _count([]), interval=60)
    scheduler = JobScheduler(ctx, role="test")
    await scheduler.reconcile()
    await scheduler.runner.run("ping")
    clock.advance(10)
    report = await scheduler.run_now("ping")
    assert report.ran and list_runs(ctx, "ping")[0].trigger == MANUAL
    timer = await scheduler.replan("ping")
    assert timer is not None and timer.delay == 60  # next scheduled run counts from the manual one


async def test_misfires_are_coalesced_into_one_run(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    calls: list[int] = []
    jobs("harvest", _count(calls), interval=60)
    scheduler = JobScheduler(ctx, role="console")
    await scheduler.reconcile()
    assert scheduler.timers()["harvest"].delay == 0  # never ran: due at once
    await scheduler.runner.run("harvest")
    timers = await scheduler.reconcile()
    assert [(t.key, t.delay) for t in timers] == [("harvest", 60)]

    clock.advance(timedelta(hours=1))  # every process was closed for an hour: sixty runs missed
    restarted = JobScheduler(ctx, role="console")
    timer = (await restarted.reconcile())[0]
    assert timer.delay == 0 and timer.due == clock.now() - timedelta(minutes=59)
    assert (await restarted.runner.run("harvest")).ran
    assert not (await restarted.runner.run("harvest")).ran  # one run, not sixty
    assert (await restarted.replan("harvest")).delay == 60
    assert len(calls) == 2


async def test_apscheduler_fires_the_due_job_once_and_reaims_its_timer(ctx: AppContext, jobs: Any) -> None:
    calls: list[int] = []
    jobs("harvest", _count(calls), interval=3600)
    fired: list[RunReport] = []
    done = asyncio.Event()
    events: list[str] = []

    def on_fired(report: RunReport) -> None:
        fired.append(report)
        done.set()

    scheduler = JobScheduler(ctx, role="console", on_fired=on_fired, listener=lambda e: events.append(e.kind))
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 20)  # a guard against hanging, not a wait for time
        assert events == ["started", "finished"] and fired[0].outcome is JobOutcome.succeeded
        aps = aps_jobs(scheduler)
        assert aps["harvest"].coalesce is True and aps["harvest"].max_instances == 1
        assert aps["harvest"].misfire_grace_time is None
        assert scheduler.timers()["harvest"].delay == 3600
    finally:
        await scheduler.stop(grace=0)
    assert calls == [0]
    assert [r.outcome for r in list_runs(ctx, "harvest")] == [JobOutcome.succeeded]


async def test_pause_survives_a_restart_and_manual_runs_still_work(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    calls: list[int] = []
    jobs("offers", _count(calls), interval=300)
    jobs("tokens", _count(calls), interval=86400)
    first = JobScheduler(ctx, role="console")
    await first.reconcile()
    assert set(first.timers()) == {"offers", "tokens"}
    assert set_paused(ctx, ["offers"], True) == 1
    await first.changed()
    assert set(first.timers()) == {"tokens"}

    restarted = JobScheduler(ctx, role="worker")  # a new process reads the pause from the database
    await restarted.reconcile()
    assert set(restarted.timers()) == {"tokens"}
    report = await restarted.runner.run("offers")
    assert not report.ran and report.reason == "paused"
    assert (await restarted.runner.run("offers", trigger=MANUAL)).ran  # an operator's "run now" still runs

    assert set_paused(ctx, None, True) == 1  # pause all: only tokens was still running
    await restarted.reconcile()
    assert restarted.timers() == {}
    assert set_paused(ctx, None, False) == 2  # resume all
    await restarted.reconcile()
    assert set(restarted.timers()) == {"offers", "tokens"}
    with pytest.raises(ScheduleError, match="no job schedule 'nope'"):
        set_paused(ctx, ["nope"], True)


async def test_an_edited_schedule_is_picked_up_at_the_next_version_check(ctx: AppContext, jobs: Any) -> None:
    jobs("offers", _count([]), interval=300)
    scheduler = JobScheduler(ctx, role="console")
    scheduler.start(paused=True)  # timers are set in APScheduler but fire nothing
    try:
        await scheduler.reconcile()
        assert scheduler.timers()["offers"].interval == 300
        assert aps_jobs(scheduler)["offers"].trigger.interval == 300
        edited = set_interval(ctx, "offers", parse_interval("2m"))  # as another process would
        assert edited.version == 2 and edited.interval == 120
        await scheduler.reconcile()
        assert scheduler.timers()["offers"].interval == 120 and scheduler.timers()["offers"].version == 2
        assert aps_jobs(scheduler)["offers"].trigger.interval == 120
        set_paused(ctx, ["offers"], True)
        await scheduler.reconcile()
        assert "offers" not in aps_jobs(scheduler)
        assert scheduler.heartbeat_seconds <= 30
    finally:
        await scheduler.stop(grace=0)


async def test_failures_are_recorded_with_masked_error_and_traceback(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    outcomes = iter([ValueError("rejected access_token=abcdef123456"), ValueError("again"), None])

    def flaky(ctx: AppContext, channel_id: int | None) -> dict[str, int]:  # a plain function: runs in a thread
        error = next(outcomes)
        if error is not None:
            raise error
        return {"orders_new": 2}

    jobs("harvest", flaky, interval=60)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="test")
    report = await runner.run("harvest")
    assert report.outcome is JobOutcome.failed
    assert report.error == "ValueError: rejected access_token=••••"
    from shelfdesk.jobs.runs import get_run

    detail = get_run(ctx, report.run_id)
    assert "Traceback" in detail.traceback and "abcdef123456" not in detail.traceback
    clock.advance(60)
    await runner.run("harvest")
    with ctx.read_session() as session:
        assert summarize(session, "harvest").failures_in_a_row == 2
    clock.advance(60)
    assert (await runner.run("harvest")).outcome is JobOutcome.succeeded
    with ctx.read_session() as session:
        summary = summarize(session, "harvest")
    assert summary.failures_in_a_row == 0 and summary.last_healthy_at == clock.now()


async def test_bad_counts_fail_the_run_and_nothing_to_do_is_skipped(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    async def idle(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
        return {}

    async def wrong(ctx: AppContext, channel_id: int | None) -> Any:
        return {"orders": "three"}

    jobs("idle", idle)
    jobs("wrong", wrong)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="test")
    assert (await runner.run("idle")).outcome is JobOutcome.skipped
    report = await runner.run("wrong")
    assert report.outcome is JobOutcome.failed and "counts must be numbers" in report.error


async def test_inactive_or_unknown_schedules_do_not_run(ctx: AppContext, jobs: Any) -> None:
    ids = add_channels(ctx, ("BM EU", "backmarket", "BM France"))
    jobs("offers", _count([]), scope=JobScope.channel, applies=lambda c: c.enabled and c.offers_feed_enabled)
    ensure_schedules(ctx)
    from shelfdesk.db.models import Channel

    with ctx.write_session() as session:
        session.get(Channel, ids["BM France"]).offers_feed_enabled = False
    runner = JobRunner(ctx, role="test")
    report = await runner.run(f"offers:{ids['BM France']}", trigger=MANUAL)
    assert not report.ran and report.reason == "inactive: offers is switched off for channel BM France"
    registry.unregister("offers")
    assert "no job named 'offers'" in (await runner.run(f"offers:{ids['BM France']}")).reason


class Gate:
    """A job that starts, then waits until the test opens the gate (or forever)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, ctx: AppContext, channel_id: int | None) -> dict[str, int]:
        self.started.set()
        await self.release.wait()
        return {"done": 1}

    async def start(self, runner: JobRunner, key: str) -> asyncio.Future[RunReport]:
        run = asyncio.ensure_future(runner.run(key))
        await self.started.wait()
        return run


class FrozenClock(FakeClock):
    """A clock on which a wait never ends by itself: shutdown's grace never runs out."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.Event().wait()


async def test_shutdown_lets_the_job_in_hand_finish_within_grace(ctx: AppContext, jobs: Any) -> None:
    ctx.clock = FrozenClock(ctx.clock.now())
    gate = Gate()
    jobs("slow", gate)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="worker")
    run = await gate.start(runner, "slow")
    stopping = asyncio.ensure_future(runner.shutdown(grace=30))
    await asyncio.sleep(0)
    assert not (await runner.run("slow")).ran  # no new runs once stopping
    gate.release.set()
    await stopping
    assert (await run).outcome is JobOutcome.succeeded
    assert _lease(ctx, "slow").holder is None


async def test_shutdown_abandons_a_job_still_running_after_grace(ctx: AppContext, jobs: Any) -> None:
    gate = Gate()  # never opened
    jobs("stuck", gate)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="worker")
    run = await gate.start(runner, "stuck")
    await runner.shutdown(grace=10, reason="worker stopped (SIGTERM)")  # the FakeClock's 10 s pass at once
    report = await run
    assert report.outcome is JobOutcome.abandoned and report.error == "worker stopped (SIGTERM)"
    assert list_runs(ctx, "stuck")[0].outcome is JobOutcome.abandoned
    assert _lease(ctx, "stuck").holder is None


async def test_heartbeat_renews_the_lease_of_a_job_in_hand(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    gate = Gate()
    jobs("slow", gate)
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="worker", lease_seconds=120)
    run = await gate.start(runner, "slow")
    clock.advance(100)
    assert await runner.heartbeat() == set()
    assert _lease(ctx, "slow").expires_at == clock.now() + timedelta(seconds=120)

    from sqlalchemy import update

    from shelfdesk.db.models import JobLease

    with ctx.write_session() as session:  # someone took it over (this process stalled past the expiry)
        session.execute(update(JobLease).where(JobLease.key == "slow").values(holder="elsewhere:1:worker-x"))
    assert await runner.heartbeat() == {"slow"}
    gate.release.set()
    report = await run
    assert report.outcome is JobOutcome.succeeded and "lease lost while running" in report.error
    assert _lease(ctx, "slow").holder == "elsewhere:1:worker-x"  # not ours to release


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), (" 3 M ", 180)])
def test_parse_interval(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "-1", "0", "1.5h", "200d"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_interval(text)


def test_format_interval() -> None:
    assert [format_interval(s) for s in (5, 60, 90, 300, 3600, 5400, 86400)] == ["5s", "1m", "90s", "5m", "1h", "90m", "1d"]


async def test_work_done_by_hand_pushes_the_next_run_back(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    """A daily feed published by hand at 10:00 is not published again by its job at 10:05 (JobSpec.last_done)."""
    done: dict[str, Any] = {"at": None}
    calls: list[int] = []
    jobs("feed", _count(calls), interval=3600, last_done=lambda ctx, channel_id: done["at"])
    scheduler = JobScheduler(ctx, role="console")
    assert (await scheduler.reconcile())[0].delay == 0  # never done at all: due now
    done["at"] = clock.now() - timedelta(minutes=5)
    timer = (await scheduler.reconcile())[0]
    assert timer.delay == 55 * 60 and timer.due == done["at"] + timedelta(hours=1)
    await scheduler.runner.run("feed")  # a scheduled run later than the hand-made one wins
    assert (await scheduler.replan("feed")).delay == 3600

    def broken(ctx: AppContext, channel_id: int | None) -> Any:
        raise RuntimeError("publications table unreadable")

    jobs("feed", _count(calls), interval=3600, last_done=broken)
    assert (await scheduler.replan("feed")).delay == 3600  # a failing hook is ignored, the lease still counts


async def test_publishing_jobs_wait_for_the_channel_s_activation(ctx: AppContext) -> None:
    from shelfdesk.db.models import Channel

    registry.load_jobs()
    [channel_id] = add_channels(ctx, ("BM", "backmarket", "Back Market France")).values()
    ensure_schedules(ctx)
    offers = {s.key: s for s in list_schedules(ctx)}.get(f"offers:{channel_id}")
    assert offers is None  # never applied: no schedule yet, nothing listed as active
    with ctx.write_session() as session:
        session.get(Channel, channel_id).activated_at = ctx.clock.now()  # type: ignore[union-attr]
    ensure_schedules(ctx)
    by_key = {s.key: s for s in list_schedules(ctx)}
    assert by_key[f"offers:{channel_id}"].active and by_key[f"products:{channel_id}"].active
    with ctx.write_session() as session:
        session.get(Channel, channel_id).activated_at = None  # type: ignore[union-attr]
    offers = {s.key: s for s in list_schedules(ctx)}[f"offers:{channel_id}"]
    assert not offers.active and "publication of Back Market France is not activated" in offers.reason
