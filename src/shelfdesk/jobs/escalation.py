"""Deadline escalation: every minute, what is due is copied to the watch list and each threshold fires once.

A threshold "fires" for a deadline when the time left first falls within it
(4 h, then 1 h before, by default; ``deadline_alert_hours`` in config.toml):
the alert list names the deadline from then on, and a ``deadline.approaching``
event goes to the push subscriptions that want it. Only the tightest
threshold crossed fires: an order harvested with 30 minutes left fires the
1 h threshold, not the 4 h one as well, and a late deadline seen for the first
time fires the tightest.

Once means once: ``deadline_watch.alerted_seconds`` records the tightest
threshold fired, and it only moves by a conditional UPDATE (``… WHERE
alerted_seconds IS NULL OR alerted_seconds > :threshold``), in the same
transaction as the event it fires. A restart reads the record back; of two
processes sweeping at once (the job's lease already prevents it), one UPDATE
matches and the other finds it moved; the event's unique source key would
refuse a second copy anyway. A deadline that moves later (Leboncoin's
shipping deadline after the availability one, an order accepted late) is a
new deadline: its thresholds fire again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update

from shelfdesk.jobs.registry import JobScope, JobSpec, register

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext
    from shelfdesk.deadlines import Due

log = logging.getLogger("shelfdesk.deadlines")

INTERVAL = 60
#: A deadline moved later by more than this is a new deadline (its thresholds fire again).
MOVED = timedelta(minutes=1)


def escalate(ctx: AppContext, channel_id: int | None = None) -> dict[str, int]:
    """Copy what is due to the watch list and fire the thresholds crossed since the last sweep."""
    from shelfdesk.services.deadline_watch import crossed, subject, thresholds
    from shelfdesk.services.deadlines import list_due

    due = list_due(ctx)
    now, limits = due.now, thresholds(ctx)
    current: dict[tuple[str, int], Due] = {}
    for item in due.items:  # most urgent first: a subject's first item is its deadline
        key = subject(item)
        if key is not None:
            current.setdefault(key, item)
    fired = 0
    with ctx.write_session() as session:
        counts = _sync(session, current, now)
        for key, item in current.items():
            limit = crossed(item.due_at, now, limits)
            if limit is not None and _fire(session, key, item, limit, now):
                fired += 1
    counts["thresholds_fired"] = fired
    return {k: v for k, v in counts.items() if v}


def _sync(session: Session, current: dict[tuple[str, int], Due], now: datetime) -> dict[str, int]:
    """Make the watch list what is due now: new deadlines added, moved ones updated, done ones removed."""
    from shelfdesk.db.models import DeadlineWatch as W
    from shelfdesk.db.upsert import upsert_rows

    known = {
        (t, i): (row_id, due_at) for row_id, t, i, due_at in session.execute(select(W.id, W.subject_type, W.subject_id, W.due_at)).all()
    }
    gone = [row_id for key, (row_id, _) in known.items() if key not in current]
    for start in range(0, len(gone), 500):
        session.execute(delete(W).where(W.id.in_(gone[start : start + 500])))  # type: ignore[union-attr]
    new = [
        {
            "subject_type": t,
            "subject_id": i,
            "kind": str(d.kind),
            "reference": d.reference,
            "due_at": d.due_at,
            "seen_at": now,
        }
        for (t, i), d in current.items()
        if (t, i) not in known
    ]
    for start in range(0, len(new), 500):
        upsert_rows(session, W, new[start : start + 500], ["subject_type", "subject_id"], [])
    moved = 0
    for key, d in current.items():
        if key not in known:
            continue
        row_id, due_at = known[key]
        values: dict[str, Any] = {"kind": str(d.kind), "reference": d.reference, "due_at": d.due_at, "seen_at": now}
        if d.due_at > due_at + MOVED:
            values.update(alerted_seconds=None, alerted_at=None)
        if d.due_at != due_at:
            moved += 1
        session.execute(update(W).where(W.id == row_id).values(**values))
    return {"deadlines_new": len(new), "deadlines_moved": moved, "deadlines_done": len(gone)}


def _fire(session: Session, key: tuple[str, int], item: Due, limit: timedelta, now: datetime) -> bool:
    """Claim threshold ``limit`` of this deadline; the process whose UPDATE matches announces it."""
    from shelfdesk.db.models import DeadlineWatch as W
    from shelfdesk.services.deadline_watch import format_threshold
    from shelfdesk.webhooks.events import DEADLINE_APPROACHING, queue_event

    seconds = int(limit.total_seconds())
    claimed = session.execute(
        update(W)
        .where(
            W.subject_type == key[0],
            W.subject_id == key[1],
            W.due_at == item.due_at,
            or_(W.alerted_seconds.is_(None), W.alerted_seconds > seconds),  # type: ignore[union-attr,operator]
        )
        .values(alerted_seconds=seconds, alerted_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    left = item.left(now)
    log.info(
        "deadline %s %s by %s: %s threshold (%s left)", item.kind, item.reference, item.due_at.isoformat(), format_threshold(limit), left
    )
    queue_event(
        session,
        f"deadline:{key[0]}:{key[1]}:{int(item.due_at.timestamp())}:{seconds}",
        DEADLINE_APPROACHING,
        f"{key[0]}:{key[1]}",
        {"deadline": deadline_dict(item, now), "threshold": {"seconds": seconds, "text": format_threshold(limit)}},
        now,
    )
    return True


def deadline_dict(item: Due, now: datetime) -> dict[str, Any]:
    """A deadline as the ``deadline.approaching`` event carries it (what, on what, by when, left, if missed)."""
    left = int(item.left(now).total_seconds())
    return {
        "kind": str(item.kind),
        "reference": item.reference,
        "target_type": item.target_type,
        "target_id": item.target_id,
        "order_id": item.order_id,
        "due_at": item.due_at.isoformat(),
        "seconds_left": left,
        "overdue": left <= 0,
        "source": item.source,
        "consequence": item.consequence,
        "note": item.note,
    }


register(
    JobSpec(
        name="deadlines",
        title="Deadline escalation",
        run="shelfdesk.jobs.escalation:escalate",
        scope=JobScope.workspace,
        interval=INTERVAL,
        description="Watches every deadline; alerts and a deadline.approaching push at 4 h and 1 h before (deadline_alert_hours)",
    )
)
