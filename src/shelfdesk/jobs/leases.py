"""Job leases: one row per schedule key saying who runs it, until when, and when it last started.

Why a database lease and not a lock: two consoles and a worker share one
workspace, and several workers may share a PostgreSQL database. The claim
is one portable conditional UPDATE::

    UPDATE job_leases
       SET holder = :me, acquired_at = :now, expires_at = :now + ttl, renewed_at = :now
     WHERE key = :key
       AND (holder IS NULL OR expires_at <= :now [OR holder = :dead_holder])
       AND (acquired_at IS NULL OR acquired_at <= :now - interval + slack)

Exactly one process sees ``rowcount == 1``: SQLite serialises writers, and
PostgreSQL re-checks the WHERE clause on the row a concurrent winner just
committed. The second condition makes a job run once *per interval* across
processes, not only once at a time: ``acquired_at`` (kept after release) is
when the job last started anywhere, and every process plans its next run from
it. Manual runs ("run now") leave the interval condition out.

A running job's lease is renewed by its process's heartbeat; a lease whose
holder stopped renewing (crash, kill -9, suspended laptop) expires and is taken
over. A holder on *this* host whose process no longer exists is taken over at
once, without waiting for expiry. Holder names and liveness are :mod:`shelfdesk.claims`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from shelfdesk.db.tables import table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from shelfdesk.claims import holder_is_dead, holder_label, holder_name

#: How long a lease lives without renewal. The heartbeat renews every ≤30 s, so a
#: holder must miss several heartbeats in a row before anyone takes its job over.
LEASE_SECONDS = 120


def make_holder(role: str) -> str:
    """A holder name unique to this process: ``host:pid:role-xxxxxx``."""
    return holder_name(role)


def slack_for(interval: int) -> timedelta:
    """Tolerance on "once per interval": timers in different processes fire a little apart."""
    return timedelta(seconds=min(2.0, interval / 10))


@dataclass(frozen=True)
class LeaseState:
    key: str
    holder: str | None
    acquired_at: datetime | None
    expires_at: datetime | None
    renewed_at: datetime | None

    def live(self, now: datetime) -> bool:
        """Someone holds it and has not let it expire."""
        return self.holder is not None and self.expires_at is not None and self.expires_at > now


@dataclass(frozen=True)
class Claim:
    """Outcome of a claim: won, or why not."""

    claimed: bool
    reason: str = ""
    taken_over_from: str | None = None
    """The previous holder whose lease expired or whose process died."""
    before: LeaseState | None = None


def _row(session: Session, key: str) -> LeaseState | None:
    JobLease = table("job_leases").c

    row = session.execute(
        select(JobLease.key, JobLease.holder, JobLease.acquired_at, JobLease.expires_at, JobLease.renewed_at).where(JobLease.key == key)
    ).first()
    return LeaseState(*row) if row else None


def read_leases(session: Session) -> dict[str, LeaseState]:
    JobLease = table("job_leases").c

    rows = session.execute(select(JobLease.key, JobLease.holder, JobLease.acquired_at, JobLease.expires_at, JobLease.renewed_at)).all()
    return {row[0]: LeaseState(*row) for row in rows}


def claim(
    session: Session,
    key: str,
    holder: str,
    now: datetime,
    *,
    interval: int | None,
    ttl: float = LEASE_SECONDS,
) -> Claim:
    """Try to take the lease of ``key`` for ``holder``; ``interval`` None means a manual run.

    Runs inside the caller's write transaction (not committed here), so the run
    record can be inserted in the same commit as the claim.
    """
    from shelfdesk.db.models import JobLease
    from shelfdesk.db.upsert import upsert_rows

    # Write first: on SQLite the transaction takes the write lock here, before any read.
    upsert_rows(session, JobLease, [{"key": key}], ["key"], [])
    before = _row(session, key)
    assert before is not None
    free = or_(JobLease.holder.is_(None), JobLease.expires_at.is_(None), JobLease.expires_at <= now)  # type: ignore[union-attr,operator]
    dead = before.holder if before.live(now) and holder_is_dead(before.holder) else None
    if dead is not None:
        free = or_(free, JobLease.holder == dead)
    conditions = [JobLease.key == key, free]
    if interval is not None:
        cutoff = now - timedelta(seconds=interval) + slack_for(interval)
        conditions.append(or_(JobLease.acquired_at.is_(None), JobLease.acquired_at <= cutoff))  # type: ignore[union-attr,operator]
    won = (
        session.execute(
            update(JobLease)
            .where(*conditions)
            .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl), renewed_at=now)
        ).rowcount
        == 1
    )  # type: ignore[attr-defined]
    if won:
        previous = before.holder if before.holder and before.holder != holder else None
        return Claim(True, taken_over_from=previous, before=before)
    # Read again: on PostgreSQL a concurrent winner may have committed since ``before``.
    state = _row(session, key) or before
    if state.live(now):
        return Claim(False, f"running in {holder_label(state.holder)} (lease until {state.expires_at:%H:%M:%S})", before=state)
    if interval is not None and state.acquired_at is not None:
        due = state.acquired_at + timedelta(seconds=interval)
        return Claim(False, f"already ran at {state.acquired_at:%H:%M:%S}; next due at {due:%H:%M:%S}", before=state)
    return Claim(False, "another process claimed it at the same moment", before=state)


def renew(session: Session, keys: Iterable[str], holder: str, now: datetime, *, ttl: float = LEASE_SECONDS) -> set[str]:
    """Extend the leases ``holder`` still holds among ``keys``; returns those it still holds."""
    from shelfdesk.db.models import JobLease

    keys = list(keys)
    if not keys:
        return set()
    session.execute(
        update(JobLease)
        .where(JobLease.key.in_(keys), JobLease.holder == holder)  # type: ignore[attr-defined]
        .values(expires_at=now + timedelta(seconds=ttl), renewed_at=now)
    )
    held = session.execute(
        select(JobLease.key).where(JobLease.key.in_(keys), JobLease.holder == holder)  # type: ignore[attr-defined]
    ).scalars()
    return set(held)


def release(session: Session, key: str, holder: str) -> bool:
    """Give the lease back (only if still ours); ``acquired_at`` stays: it is the last start."""
    from shelfdesk.db.models import JobLease

    return (
        session.execute(
            update(JobLease).where(JobLease.key == key, JobLease.holder == holder).values(holder=None, expires_at=None)
        ).rowcount
        == 1
    )  # type: ignore[attr-defined]


def next_due(interval: int, lease: LeaseState | None, done_outside: datetime | None = None) -> datetime | None:
    """When a schedule is next due: its last start anywhere plus its interval (None: never ran, due now).

    ``done_outside`` is when the job's work was last done by hand
    (``JobSpec.last_done``): the schedule then counts from the later of the two.
    Coalescing lives here: however many intervals were missed while every
    process was stopped, the job is due once, now, and then an interval after
    that run.
    """
    starts = [t for t in (lease.acquired_at if lease else None, done_outside) if t is not None]
    return max(starts) + timedelta(seconds=interval) if starts else None
