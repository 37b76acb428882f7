"""The headless worker: ``shelfdesk worker`` runs every scheduled job of a workspace, without a console.

For servers: no Textual import (a test checks it), logs to the workspace's
log folder (set up by ``open_context``) and to stderr (for journald), and
stops cleanly on SIGTERM or Ctrl-C: no new run starts, the jobs in hand get
``grace`` seconds to finish, then are cancelled at their next await point and
recorded ``abandoned`` with their leases released — every job is written to be
safe to stop there and to run again. A second signal abandons them at once.

Several workers, consoles and CLI runs may share one workspace: leases make
each job run once per interval among all of them. A worker never changes the
schema under the others: it refuses to start on a database at another schema
revision, and stops (exit 2, one line) when someone migrates the database
while it runs. A database that goes away is waited for (see the scheduler).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from shelfdesk.context import AppContext
from shelfdesk.jobs.scheduler import JobScheduler

log = logging.getLogger("shelfdesk.worker")

DEFAULT_GRACE = 30.0


def run_worker(ctx: AppContext, *, grace: float = DEFAULT_GRACE, stderr: bool = True) -> int:
    """Run the scheduler until SIGTERM/SIGINT; returns the process exit code (0 on a clean stop)."""
    if ctx.read_only:
        raise PermissionError("a worker writes job runs and leases: it cannot run on a read-only workspace")
    if stderr:
        from shelfdesk.logs import install_stderr_handler

        install_stderr_handler()
    return asyncio.run(_serve(ctx, grace))


async def _serve(ctx: AppContext, grace: float) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    scheduler = JobScheduler(ctx, role="worker")
    received: list[str] = []

    def on_signal(signum: signal.Signals) -> None:
        received.append(signum.name)
        if len(received) == 1:
            log.info("received %s: finishing the jobs in hand (up to %.0f s), then stopping", signum.name, grace)
            stop.set()
        else:
            log.warning("received %s again: abandoning the jobs in hand now", signum.name)
            scheduler.runner.abandon()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    watch = asyncio.ensure_future(_watch_schema(ctx, stop, received, scheduler.heartbeat_seconds))
    try:
        scheduler.start()
        log.info("worker started on workspace %s as %s", ctx.paths.home, scheduler.runner.holder)
        await stop.wait()
        await scheduler.stop(grace=grace, reason=f"worker stopped ({received[0]})")
    finally:
        watch.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("worker stopped")
    return 2 if received[0] == SCHEMA_CHANGED else 0


SCHEMA_CHANGED = "schema changed"


async def _watch_schema(ctx: AppContext, stop: asyncio.Event, received: list[str], seconds: float) -> None:
    """Stop the worker when the database leaves this shelfdesk's schema revision (a migration by another)."""
    from shelfdesk.db.engine import is_unavailable
    from shelfdesk.db.migrate import HEAD_REVISION, at_head, current_revision, describe_database

    while not stop.is_set():
        await asyncio.sleep(seconds)
        try:
            if await asyncio.to_thread(at_head, ctx.engine):
                continue
            revision = await asyncio.to_thread(current_revision, ctx.engine)
        except Exception as exc:
            if not is_unavailable(exc):  # an outage is the scheduler's to report
                log.exception("schema check failed")
            continue
        log.error(
            "%s is now at schema revision %s and this worker runs %s: stopping (restart it with the matching shelfdesk)",
            describe_database(ctx.engine.url),
            revision,
            HEAD_REVISION,
        )
        received.append(SCHEMA_CHANGED)
        stop.set()
