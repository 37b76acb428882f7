"""A fixed workspace for the Jobs screen and alert list tests and snapshots (not a test module).

Three channels, test-registered jobs (so the registry of the moment does not
change the pictures), and runs written at fixed times on the FakeClock: a
harvest failing three times in a row, a healthy one, an idle outbox, an
offers publication running in another host's worker, a paused products job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs import leases
from shelfdesk.jobs.registry import JobScope
from shelfdesk.jobs.schedules import ensure_schedules, set_paused
from tests.jobs.conftest import add_channels

REMOTE_WORKER = "srv2:4242:worker-5f2c9a"


@dataclass
class Calls:
    """What the test-registered job functions were asked to do."""

    keys: list[tuple[str, int | None]] = field(default_factory=list)
    started: asyncio.Event | None = None


def register_jobs(jobs: Any, calls: Calls) -> None:
    def make(name: str) -> Any:
        async def run(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
            calls.keys.append((name, channel_id))
            if calls.started is not None:
                calls.started.set()
            return {"orders_new": 2} if name == "harvest" else {}

        return run

    jobs(
        "harvest",
        make("harvest"),
        scope=JobScope.account,
        interval=60,
        title="Order harvest",
        applies=lambda c: c.enabled and c.orders_enabled,
    )
    jobs("outbox", make("outbox"), interval=5, title="Outbox sender")
    jobs("offers", make("offers"), scope=JobScope.channel, interval=300, title="Offers publication")
    jobs("products", make("products"), scope=JobScope.channel, interval=86400, title="Products publication")


def seed(ctx: AppContext) -> dict[str, int]:
    """Channels, schedules, runs and leases; returns channel name → id."""
    from shelfdesk.db.models import JobRun

    ids = add_channels(
        ctx,
        ("Back Market EU", "backmarket", "BM France"),
        ("Back Market EU", "backmarket", "BM Spain"),
        ("Leboncoin Pro", "leboncoin", "LBC France"),
    )
    ensure_schedules(ctx)
    now = ctx.clock.now()
    bm, lbc = ids["BM France"], ids["LBC France"]

    def run(job: str, channel: int | None, minutes_ago: float, outcome: JobOutcome, seconds: float = 1.5, **fields: Any) -> None:
        started = now - timedelta(minutes=minutes_ago)
        finished = None if outcome is JobOutcome.running else started + timedelta(seconds=seconds)
        session.add(
            JobRun(
                job=job,
                channel_id=channel,
                trigger="schedule",
                holder="srv1:1200:console-a1b2c3",
                started_at=started,
                finished_at=finished,
                outcome=outcome,
                **fields,
            )
        )

    with ctx.write_session() as session:
        run("harvest", bm, 40, JobOutcome.succeeded, counts={"orders_fetched": 4, "orders_new": 3})
        for minutes in (3, 2, 1):
            run(
                "harvest",
                bm,
                minutes,
                JobOutcome.failed,
                seconds=0.4,
                error="AuthError: Back Market answered 401: token rejected",
                traceback='Traceback (most recent call last):\n  File "harvest.py", line 140, in harvest_account\n'
                "AuthError: Back Market answered 401: token rejected",
            )
        run("harvest", lbc, 0.5, JobOutcome.succeeded, counts={"orders_fetched": 12, "orders_new": 2, "orders_updated": 5})
        run("outbox", None, 0.1, JobOutcome.skipped, seconds=0.1)
        run("offers", bm, 0.2, JobOutcome.running)
    with ctx.write_session() as session:
        leases.claim(session, f"harvest:{lbc}", "srv1:1200:console-a1b2c3", now - timedelta(seconds=30), interval=None)
        leases.release(session, f"harvest:{lbc}", "srv1:1200:console-a1b2c3")
        leases.claim(session, f"harvest:{bm}", "srv1:1200:console-a1b2c3", now - timedelta(minutes=1), interval=None)
        leases.release(session, f"harvest:{bm}", "srv1:1200:console-a1b2c3")
        leases.claim(session, "outbox", "srv1:1200:console-a1b2c3", now - timedelta(seconds=6), interval=None)
        leases.release(session, "outbox", "srv1:1200:console-a1b2c3")
        leases.claim(session, f"offers:{bm}", REMOTE_WORKER, now - timedelta(seconds=12), interval=None)
    set_paused(ctx, [f"products:{ids['BM Spain']}"], True)
    return ids
