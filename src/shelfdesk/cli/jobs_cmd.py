"""``shelfdesk jobs …``: list, run now, pause, resume and reschedule sync jobs; read their runs.

A job is named by its key (``harvest:3``, ``outbox``) or by its job name plus
``--channel`` (name or id) when it has several schedules. Changes are written
to the database: every console and worker picks them up within 30 s.
``run`` runs the job in this process, under its lease, like the console's
"run now". Exit codes: 0 done, 1 the run failed, 2 bad input, 3 the job did
not run (another process holds it, it is inactive) — the reason is printed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from shelfdesk.cli import CHANNEL_HELP, UserFacingError, add_workspace_options
from shelfdesk.cli.setup_common import print_json as _print_json

if TYPE_CHECKING:
    from datetime import datetime

    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="jobs_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_jobs_run=run)
        return cmd

    add("list", "every job: channel, schedule, last run, next run, lease holder, failures in a row", _list)
    p = add("run", "run a job now in this process (under its lease) and print its outcome", _run)
    _job_argument(p)
    for name, verb in (("pause", "pause"), ("resume", "resume")):
        p = add(name, f"{verb} jobs (it survives restarts); --all for every job", _pause if name == "pause" else _resume)
        p.add_argument("jobs", nargs="*", metavar="JOB", help="job keys or names")
        p.add_argument("--channel", help=f"{CHANNEL_HELP}, for a job name with several schedules")
        p.add_argument("--all", action="store_true", help=f"{verb} every job")
    p = add("schedule", "change how often a job runs (30s, 5m, 2h, 1d)", _schedule)
    _job_argument(p)
    p.add_argument("interval", help="e.g. 30s, 5m, 2h, 1d")
    p = add("history", "a job's runs, newest first", _history)
    _job_argument(p)
    p.add_argument("--limit", type=int, default=20, help="runs to show (default 20)")
    p = add("show", "one run in full: counts, error and traceback", _show)
    p.add_argument("run_id", type=int, metavar="RUN")


def _job_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="job key (harvest:3, outbox) or job name")
    parser.add_argument("--channel", help=f"{CHANNEL_HELP}, for a job name with several schedules")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.jobs.schedules import ScheduleError, ensure_schedules

    with workspace(args, ScheduleError, LookupError) as ctx:
        if not ctx.read_only:
            ensure_schedules(ctx)  # a new channel's jobs are listed before any scheduler ran
        return int(args._jobs_run(ctx, args))


def _key(ctx: AppContext, args: argparse.Namespace, text: str | None = None) -> str:
    from shelfdesk.jobs.schedules import resolve_key

    name = args.job if text is None else text
    if not name.strip():
        raise UserFacingError("an empty job name: give a job key (harvest:3, outbox) or name (shelfdesk jobs list)")
    return resolve_key(ctx, name, args.channel)


# ---------------------------------------------------------------- reading


def _when(ctx: AppContext, value: datetime | None) -> str:
    from shelfdesk.jobs.display import short_time

    return short_time(value, ctx.clock.now())


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.jobs.display import job_cells
    from shelfdesk.jobs.health import job_dict, job_rows

    rows = job_rows(ctx)
    now = ctx.clock.now()
    if args.json:
        _print_json([job_dict(r, now) for r in rows])
        return 0
    if not rows:
        print("No jobs yet: they appear once the workspace has channels (the outbox and retention always run).")
        return 0
    table = [("KEY", "JOB", "CHANNEL", "EVERY", "LAST RUN", "NEXT", "LEASE", "FAILS")]
    table += [(r.key, *job_cells(r, now)) for r in rows]
    _print_table(table)
    for r in rows:
        if not r.schedule.active:
            print(f"{r.key}: inactive, {r.schedule.reason}")
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _history(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.jobs.display import run_cells
    from shelfdesk.jobs.health import run_dict
    from shelfdesk.jobs.runs import list_runs

    key = _key(ctx, args)
    runs = list_runs(ctx, key, limit=max(1, min(args.limit, 500)))
    if args.json:
        _print_json([run_dict(r) for r in runs])
        return 0
    if not runs:
        print(f"{key} has not run yet.")
        return 0
    _print_table(
        [("RUN", "STARTED", "TRIGGER", "OUTCOME", "TOOK", "COUNTS / ERROR")] + [(str(r.id), *run_cells(r, ctx.clock.now())) for r in runs]
    )
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.jobs.display import counts_text
    from shelfdesk.jobs.health import run_dict
    from shelfdesk.jobs.leases import holder_label
    from shelfdesk.jobs.runs import get_run

    run = get_run(ctx, args.run_id)
    if args.json:
        _print_json(
            {**(run_dict(run) or {}), "key": run.key, "holder": holder_label(run.holder), "error": run.error, "traceback": run.traceback}
        )
        return 0
    took = f"{run.seconds:.1f} s" if run.seconds is not None else "still running"
    print(f"run {run.id} of {run.key} ({run.trigger}) by {holder_label(run.holder) or '?'}")
    print(f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, {run.outcome}, {took}")
    print(f"counts: {counts_text(run)}")
    if run.error:
        print(f"error: {run.error}")
    if run.traceback:
        print(run.traceback.rstrip())
    return 0


# ---------------------------------------------------------------- changing


def _run(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.jobs.health import run_dict
    from shelfdesk.jobs.runner import MANUAL, JobRunner
    from shelfdesk.jobs.runs import format_counts, get_run

    key = _key(ctx, args)
    ctx.require_write()
    report = asyncio.run(JobRunner(ctx, role="cli").run(key, trigger=MANUAL))
    if args.json:
        run = get_run(ctx, report.run_id) if report.run_id else None
        _print_json({"key": key, "ran": report.ran, "reason": report.reason or None, "run": run_dict(run)})
    elif not report.ran:
        print(f"{key} did not run: {report.reason}")
    else:
        took = f"{report.seconds:.1f} s" if report.seconds is not None else ""
        print(f"{key} {report.outcome} in {took} (run {report.run_id}): {format_counts(report.counts)}")
        if report.error:
            print(f"error: {report.error}\nfull traceback: shelfdesk jobs show {report.run_id}")
    if not report.ran:
        return 3
    return 1 if str(report.outcome) in ("failed", "abandoned") else 0


def _pause_or_resume(ctx: AppContext, args: argparse.Namespace, paused: bool) -> int:
    from shelfdesk.jobs.schedules import set_paused

    if args.all == bool(args.jobs):
        raise UserFacingError("name the jobs to change, or give --all (not both)")
    keys = None if args.all else [_key(ctx, args, text) for text in args.jobs]
    changed = set_paused(ctx, keys, paused)
    verb = "paused" if paused else "resumed"
    if args.json:
        _print_json({verb: changed, "jobs": keys or "all"})
    else:
        print(f"{changed} job(s) {verb}" + ("" if changed else " (nothing to change)"))
    return 0


def _pause(ctx: AppContext, args: argparse.Namespace) -> int:
    return _pause_or_resume(ctx, args, True)


def _resume(ctx: AppContext, args: argparse.Namespace) -> int:
    return _pause_or_resume(ctx, args, False)


def _schedule(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.jobs.schedules import format_interval, parse_interval, set_interval

    key = _key(ctx, args)
    schedule = set_interval(ctx, key, parse_interval(args.interval))
    if args.json:
        _print_json({"key": key, "interval_seconds": schedule.interval, "version": schedule.version})
    else:
        print(f"{key} now runs every {format_interval(schedule.interval)} (running processes pick it up within 30 s)")
    return 0
