"""Lease semantics in one process: the conditional UPDATE, expiry, takeover, dead holders."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs import leases
from shelfdesk.jobs.runner import MANUAL, JobRunner
from shelfdesk.jobs.runs import list_runs, start_run
from shelfdesk.jobs.schedules import ensure_schedules


def _hold(ctx: AppContext, key: str, holder: str, *, expires_in: float) -> int:
    """Make ``holder`` hold ``key`` with a running run record, as a process that then vanished would."""
    now = ctx.clock.now()
    with ctx.write_session() as session:
        assert leases.claim(session, key, holder, now, interval=None, ttl=expires_in).claimed
        return start_run(session, key, "schedule", holder, now)


async def _ok(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    return {"ok": 1}


def test_only_one_claim_wins_and_the_loser_is_told_why(ctx: AppContext, clock: FakeClock) -> None:
    now = clock.now()
    with ctx.write_session() as session:
        first = leases.claim(session, "harvest:1", "hostA:1:worker-a", now, interval=60)
        second = leases.claim(session, "harvest:1", "hostB:2:console-b", now, interval=60)
    assert first.claimed and not second.claimed
    assert second.reason.startswith("running in worker 1@hostA (lease until 09:32:00)")
    with ctx.write_session() as session:
        assert leases.release(session, "harvest:1", "hostA:1:worker-a")
        assert not leases.release(session, "harvest:1", "hostA:1:worker-a")  # already free
        again = leases.claim(session, "harvest:1", "hostB:2:console-b", now + timedelta(seconds=1), interval=60)
    assert not again.claimed and "next due at 09:31:00" in again.reason
    with ctx.write_session() as session:
        manual = leases.claim(session, "harvest:1", "hostB:2:console-b", now + timedelta(seconds=1), interval=None)
    assert manual.claimed  # "run now" skips the once-per-interval rule, never the lease


def test_an_expired_lease_is_taken_over_and_its_run_marked_abandoned(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    jobs("harvest", _ok, interval=60)
    ensure_schedules(ctx)
    other = "otherhost:4242:worker-dead01"  # another machine: only expiry tells it is gone
    run_id = _hold(ctx, "harvest", other, expires_in=120)
    runner = JobRunner(ctx, role="console")

    import asyncio

    clock.advance(119)
    blocked = asyncio.run(runner.run("harvest", trigger=MANUAL))
    assert not blocked.ran and "running in worker 4242@otherhost" in blocked.reason
    clock.advance(1)
    report = asyncio.run(runner.run("harvest"))
    assert report.ran and report.taken_over_from == other and report.outcome is JobOutcome.succeeded
    runs = {r.id: r for r in list_runs(ctx, "harvest")}
    assert runs[run_id].outcome is JobOutcome.abandoned
    assert "stopped renewing its lease" in runs[run_id].error and runs[run_id].finished_at == clock.now()


def test_a_dead_holder_on_this_host_is_taken_over_without_waiting(ctx: AppContext, clock: FakeClock, jobs: Any) -> None:
    jobs("harvest", _ok, interval=60)
    ensure_schedules(ctx)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}:worker-gone01"
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        living = f"{socket.gethostname()}:{alive.pid}:worker-live01"
        assert leases.holder_is_dead(dead) and not leases.holder_is_dead(living)
        assert not leases.holder_is_dead(f"elsewhere:{gone.stdout.strip()}:worker-x")  # never judged remotely

        import asyncio

        _hold(ctx, "harvest", living, expires_in=3600)
        assert not asyncio.run(JobRunner(ctx, role="console").run("harvest", trigger=MANUAL)).ran
        with ctx.write_session() as session:
            from shelfdesk.db.models import JobLease

            session.get(JobLease, session.execute(select(JobLease.id)).scalar()).holder = dead
        report = asyncio.run(JobRunner(ctx, role="console").run("harvest", trigger=MANUAL))
        assert report.ran and report.taken_over_from == dead
    finally:
        alive.stdin.close()  # type: ignore[union-attr]
        alive.wait(10)


def test_holder_labels() -> None:
    here = socket.gethostname()
    assert leases.holder_label(f"{here}:77:worker-abc123") == "worker 77"
    assert leases.holder_label("far:77:console-abc123") == "console 77@far"
    assert leases.holder_label(None) == ""
    assert leases.make_holder("worker").startswith(f"{here}:")
