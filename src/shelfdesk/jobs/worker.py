"""The headless worker: ``shelfdesk worker`` runs every scheduled job of a workspace, without a console.

For servers: no Textual import (a test checks it), logs to the workspace's
log folder (set up by ``open_context``) and to stderr (for journald), and
stops cleanly on SIGTERM or Ctrl-C: no new run starts, the jobs in hand get
``grace`` seconds to finish, then are cancelled at their next await point and
recorded ``abandoned`` with their leases released — every job is written to be
safe to stop there and to run again. A second signal abandons them at once.

Several workers, consoles and CLI runs may share one workspace: leases make
each job run once per interval among all of them.
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
    try:
        scheduler.start()
        log.info("worker started on workspace %s as %s", ctx.paths.home, scheduler.runner.holder)
        await stop.wait()
        await scheduler.stop(grace=grace, reason=f"worker stopped ({received[0]})")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("worker stopped")
    return 0
