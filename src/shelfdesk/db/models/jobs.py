"""Scheduled jobs: their schedules, the leases that keep each running once, and their runs.

Schedules live in the database so every process (consoles, workers) sees the
same ones; a process reschedules when a row's ``version`` changed. Leases are
claimed with a conditional UPDATE (portable, works across processes and on
PostgreSQL), never with in-process locks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, enum_field, id_field, json_field
from shelfdesk.domain import JobOutcome


class JobSchedule(ShelfModel, table=True):
    """How often one job runs, for one channel or globally.

    ``key`` is ``job`` or ``job:channel_id``: unique even where channel_id is
    NULL (SQL treats NULLs as distinct in a unique constraint).
    """

    __tablename__ = "job_schedules"

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    key: str = Field(unique=True)
    job: str = Field(max_length=64)
    channel_id: int | None = Field(default=None, foreign_key="channels.id", ondelete="CASCADE", index=True)
    interval_seconds: int
    paused: bool = False
    version: int = 1  #: bumped on every edit; processes compare it to reschedule
    updated_at: datetime


class JobLease(ShelfModel, table=True):
    """Who runs a job right now, until when. An expired lease may be taken over."""

    __tablename__ = "job_leases"

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    key: str = Field(unique=True)  #: same key as the schedule
    holder: str | None = None  #: host:pid:uuid of the process; None = free
    acquired_at: datetime | None = None
    expires_at: datetime | None = None
    renewed_at: datetime | None = None


class JobRun(ShelfModel, table=True):
    """One run of a job, kept for the Jobs screen, alerts and the log."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_job_channel_started", "job", "channel_id", "started_at"),
        Index("ix_job_runs_started", "started_at"),  # retention by age
        Index("ix_job_runs_channel", "channel_id"),  # channel deletion cascades here
    )

    id: int | None = id_field(big=True)
    job: str = Field(max_length=64)
    channel_id: int | None = Field(default=None, foreign_key="channels.id", ondelete="CASCADE")
    trigger: str | None = Field(default=None, max_length=16)  #: schedule, manual, startup
    holder: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    outcome: JobOutcome = enum_field(JobOutcome, JobOutcome.running)
    counts: dict[str, Any] = json_field()  #: {"orders_new": 3, "items_sent": 120, …}
    error: str | None = Field(default=None, sa_type=Text)
    traceback: str | None = Field(default=None, sa_type=Text)
