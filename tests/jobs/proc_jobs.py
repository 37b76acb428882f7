"""Helpers run in *separate OS processes* by the process tests (not a test module).

Imported through ``SHELFDESK_JOB_MODULES=tests.jobs.proc_jobs`` it registers
``blocker``, a job that announces itself on stdout and then waits forever
(until its process is stopped or killed). Run as ``python -m tests.jobs.proc_jobs``
it is a small driver the parent steps in lock-step through stdin/stdout, so
two processes try the same job at the same instants without any sleeping.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timedelta

from shelfdesk.context import AppContext
from shelfdesk.jobs.registry import JobScope, JobSpec, register

BLOCKER_STARTED = "blocker started"


async def blocker(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    print(BLOCKER_STARTED, flush=True)
    import logging

    logging.getLogger("shelfdesk.jobs").info(BLOCKER_STARTED)
    await asyncio.Event().wait()
    return {"never": 1}


register(JobSpec(name="blocker", title="Blocker", run=blocker, scope=JobScope.workspace, interval=3600))


def _context(home: str, start: str) -> AppContext:
    from shelfdesk.clock import FakeClock
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths

    return open_context(resolve_paths(home), clock=FakeClock(datetime.fromisoformat(start)))


def race(args: argparse.Namespace) -> None:
    """At each step: say ready, wait for "go", move the clock to step × interval, try to run the job."""
    from shelfdesk.jobs.runner import JobRunner

    ctx = _context(args.home, args.start)
    runner = JobRunner(ctx, role=args.role)
    start = datetime.fromisoformat(args.start)
    for step in range(args.steps):
        print(f"ready {step}", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        ctx.clock.set(start + timedelta(seconds=step * args.interval))  # type: ignore[attr-defined]
        report = asyncio.run(runner.run(args.key))
        print(
            json.dumps(
                {
                    "step": step,
                    "ran": report.ran,
                    "outcome": report.outcome,
                    "error": report.error,
                    "reason": report.reason,
                    "counts": report.counts,
                }
            ),
            flush=True,
        )
    ctx.close()


def hold(args: argparse.Namespace) -> None:
    """Run the blocker job and hold its lease until killed."""
    from shelfdesk.jobs.runner import JobRunner

    ctx = _context(args.home, args.start)
    asyncio.run(JobRunner(ctx, role=args.role).run("blocker"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["race", "hold"])
    parser.add_argument("--home", required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--key", default="blocker")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--role", default="proc")
    args = parser.parse_args()
    race(args) if args.mode == "race" else hold(args)


if __name__ == "__main__":
    main()
