"""Words for jobs and runs, shared by the Jobs screen and ``shelfdesk jobs`` so both say the same.

Every state is spelled out (``FAILED``, ``paused``, ``due``), never shown by
colour alone; times are UTC, short enough for an 80-column table.
"""

from __future__ import annotations

from datetime import datetime

from shelfdesk.domain import JobOutcome
from shelfdesk.jobs.health import JobRow
from shelfdesk.jobs.leases import holder_label
from shelfdesk.jobs.runs import RunInfo, format_counts
from shelfdesk.jobs.schedules import format_interval

OUTCOME_WORDS = {
    JobOutcome.succeeded: "ok",
    JobOutcome.skipped: "idle",
    JobOutcome.failed: "FAILED",
    JobOutcome.abandoned: "abandoned",
    JobOutcome.running: "running",
}


def short_time(value: datetime | None, now: datetime) -> str:
    """``09:31`` today, ``Mar 01`` another day, ``-`` for never."""
    if value is None:
        return "-"
    if value.date() == now.date():
        return f"{value:%H:%M}"
    return f"{value:%b %d}"


def full_time(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def outcome_word(outcome: JobOutcome | str) -> str:
    return OUTCOME_WORDS.get(JobOutcome(outcome), str(outcome))


def last_run_text(row: JobRow, now: datetime) -> str:
    run = row.last
    if run is None:
        return "never"
    return f"{short_time(run.started_at, now)} {outcome_word(run.outcome)}"


def next_run_text(row: JobRow, now: datetime) -> str:
    if not row.schedule.active:
        return "off"
    if row.schedule.paused:
        return "paused"
    next_at = row.next_run(now)
    if next_at is None or next_at <= now:
        return "due"
    return short_time(next_at, now)


def job_cells(row: JobRow, now: datetime) -> tuple[str, str, str, str, str, str, str]:
    """Job, channel, every, last run, next, lease holder, failures in a row."""
    return (
        row.schedule.job,
        row.schedule.where,
        format_interval(row.schedule.interval),
        last_run_text(row, now),
        next_run_text(row, now),
        holder_label(row.holder) or "-",
        str(row.failures_in_a_row),
    )


def counts_text(run: RunInfo) -> str:
    """The run's counts; a failed run that counted nothing says "none", not "nothing to do"."""
    if not run.counts and run.outcome is not JobOutcome.skipped:
        return "none" if run.outcome is not JobOutcome.running else "not yet"
    return format_counts(run.counts)


def run_summary(run: RunInfo) -> str:
    """Counts for a run that worked, the first line of the error for one that did not."""
    if run.outcome in (JobOutcome.failed, JobOutcome.abandoned):
        return run.error_line or "no error recorded"
    if run.outcome is JobOutcome.running:
        return "running"
    return counts_text(run)


def run_cells(run: RunInfo, now: datetime) -> tuple[str, str, str, str, str]:
    """Started, trigger, outcome, duration, counts or error."""
    return (full_time(run.started_at), run.trigger or "-", outcome_word(run.outcome), duration(run.seconds), run_summary(run))
