"""Job run records: written by the runner, read by the Jobs screen, alerts and ``shelfdesk status``.

Every run that claimed its lease is recorded — start, end, outcome, counts,
error with traceback — so a job can never fail in silence (a job stuck pending
with no error, or an empty log after a failed sync, is what merchants complain
of most in tools like this one). Runs that did
not get the lease (another process had it, or it already ran this interval)
are not runs and are not recorded.

Reads go through the ``(job, channel_id, started_at)`` index, one small query
per schedule, so a workspace with a year of runs stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.db.tables import table
from shelfdesk.jobs.registry import split_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Outcomes that mean "the job is healthy" (skipped = ran, had nothing to do).
HEALTHY = (JobOutcome.succeeded, JobOutcome.skipped)
#: How far back "failures in a row" looks (shown as "20+" beyond).
STREAK_LIMIT = 20


@dataclass(frozen=True)
class RunInfo:
    """One run, as lists show it."""

    id: int
    key: str
    job: str
    channel_id: int | None
    trigger: str | None
    holder: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: JobOutcome
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def error_line(self) -> str:
        return (self.error or "").strip().splitlines()[0] if self.error else ""


@dataclass(frozen=True)
class RunDetail(RunInfo):
    traceback: str | None = None


_COLUMNS = ("id", "job", "channel_id", "trigger", "holder", "started_at", "finished_at", "outcome", "counts", "error")


def _columns() -> list[Any]:
    JobRun = table("job_runs").c  # Core: status and jobs list load no ORM (db/tables.py)

    return [getattr(JobRun, name) for name in _COLUMNS]


def _info(row: Any) -> RunInfo:
    values = dict(zip(_COLUMNS, row, strict=False))
    key = values["job"] if values["channel_id"] is None else f"{values['job']}:{values['channel_id']}"
    values["counts"] = dict(values["counts"] or {})
    values["outcome"] = JobOutcome(values["outcome"])
    return RunInfo(key=key, **values)


def _key_filter(job: str, channel_id: int | None) -> list[Any]:
    JobRun = table("job_runs").c  # Core: status and jobs list load no ORM (db/tables.py)

    channel = JobRun.channel_id.is_(None) if channel_id is None else JobRun.channel_id == channel_id  # type: ignore[union-attr]
    return [JobRun.job == job, channel]


# ---------------------------------------------------------------- writing (runner)


def start_run(session: Session, key: str, trigger: str, holder: str, now: datetime) -> int:
    """Insert the ``running`` record of a run (in the claim's transaction); returns its id."""
    from shelfdesk.db.models import JobRun

    job, channel_id = split_key(key)
    run = JobRun(job=job, channel_id=channel_id, trigger=trigger, holder=holder, started_at=now, outcome=JobOutcome.running, counts={})
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    outcome: JobOutcome,
    now: datetime,
    *,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
    traceback: str | None = None,
) -> None:
    """Record how a run ended (even if a takeover marked it abandoned meanwhile: the truth wins)."""
    from shelfdesk.db.models import JobRun

    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(outcome=outcome, finished_at=now, counts=dict(counts or {}), error=error, traceback=traceback)
    )


def abandon_runs(session: Session, key: str, holder: str, now: datetime, reason: str) -> int:
    """Close the ``running`` records a dead or expired holder left behind for ``key``."""
    from shelfdesk.db.models import JobRun

    job, channel_id = split_key(key)
    return int(
        session.execute(
            update(JobRun)
            .where(*_key_filter(job, channel_id), JobRun.holder == holder, JobRun.outcome == JobOutcome.running)
            .values(outcome=JobOutcome.abandoned, finished_at=now, error=reason)
        ).rowcount
    )  # type: ignore[attr-defined]


# ---------------------------------------------------------------- reading


def recent_runs(session: Session, key: str, limit: int) -> list[RunInfo]:
    JobRun = table("job_runs").c  # Core: status and jobs list load no ORM (db/tables.py)

    job, channel_id = split_key(key)
    rows = session.execute(
        select(*_columns()).where(*_key_filter(job, channel_id)).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)  # type: ignore[attr-defined,union-attr]
    ).all()
    return [_info(row) for row in rows]


@dataclass(frozen=True)
class RunSummary:
    """What the Jobs screen and ``status`` show about a schedule's runs."""

    last: RunInfo | None
    """The latest run, running or finished."""
    last_finished: RunInfo | None
    last_healthy_at: datetime | None
    failures_in_a_row: int


def summarize(session: Session, key: str) -> RunSummary:
    """Latest run, latest finished run, last healthy start and the current failure streak."""
    JobRun = table("job_runs").c  # Core: status and jobs list load no ORM (db/tables.py)

    recent = recent_runs(session, key, STREAK_LIMIT + 1)
    finished = [run for run in recent if run.outcome is not JobOutcome.running]
    streak = 0
    for run in finished:
        if run.outcome is JobOutcome.failed:
            streak += 1
        elif run.outcome in HEALTHY:
            break
        # abandoned runs (shutdown, crashed holder) neither break nor extend a streak
    healthy = next((run.started_at for run in finished if run.outcome in HEALTHY), None)
    if healthy is None and len(recent) > STREAK_LIMIT:
        job, channel_id = split_key(key)
        healthy = session.execute(
            select(JobRun.started_at)
            .where(*_key_filter(job, channel_id), JobRun.outcome.in_(HEALTHY))  # type: ignore[attr-defined]
            .order_by(JobRun.started_at.desc())
            .limit(1)  # type: ignore[attr-defined]
        ).scalar()
    return RunSummary(recent[0] if recent else None, finished[0] if finished else None, healthy, streak)


def list_runs(ctx: AppContext, key: str, *, limit: int = 200, before: tuple[datetime, int] | None = None) -> list[RunInfo]:
    """A schedule's runs, newest first; ``before`` = (started_at, id) of the last row shown (keyset)."""
    from shelfdesk.db.models import JobRun

    job, channel_id = split_key(key)
    query = select(*_columns()).where(*_key_filter(job, channel_id))
    if before is not None:
        started, run_id = before
        query = query.where(JobRun.started_at <= started, (JobRun.started_at < started) | (JobRun.id < run_id))  # type: ignore[operator]
    query = query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)  # type: ignore[attr-defined,union-attr]
    with ctx.read_session() as session:
        return [_info(row) for row in session.execute(query).all()]


def get_run(ctx: AppContext, run_id: int) -> RunDetail:
    """One run with its full error and traceback."""
    from shelfdesk.db.models import JobRun

    with ctx.read_session() as session:
        row = session.execute(select(*_columns(), JobRun.traceback).where(JobRun.id == run_id)).first()
    if row is None:
        raise LookupError(f"no job run {run_id}")
    info = _info(row[:-1])
    return RunDetail(**{name: getattr(info, name) for name in ("key", *_COLUMNS)}, traceback=row[-1])


def format_counts(counts: Mapping[str, Any]) -> str:
    """``orders_new 3, orders_updated 12`` (zeros left out; "nothing to do" when empty)."""
    shown = [f"{name} {value}" for name, value in counts.items() if value]
    if shown:
        return ", ".join(shown)
    return "all zero" if counts else "nothing to do"
