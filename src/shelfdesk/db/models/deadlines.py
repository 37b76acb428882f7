"""What the deadline escalation last saw: one row per thing due, with the tightest threshold already announced.

The escalation sweep (``jobs/escalation.py``) rewrites these rows from the
deadline clock every minute; the status bar counts them with one query on
``due_at``, and the alert list reads them. ``alerted_seconds`` is the claim
that makes each threshold fire once: a threshold fires for the process whose
conditional UPDATE moves it (two processes, or a restart, find it moved).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field


class DeadlineWatch(ShelfModel, table=True):
    """One deadline being watched: an order's (whatever action is next on it), an account token's, a case's."""

    __tablename__ = "deadline_watch"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id"),
        Index("ix_deadline_watch_due_at", "due_at"),
    )

    id: int | None = id_field()
    subject_type: str = Field(max_length=16)  #: "order" (its lines and actions too), "account", …
    subject_id: int
    kind: str = Field(max_length=32)  #: what to do, as the Due list groups it
    reference: str  #: what the operator recognises (an order id, an account name)
    due_at: datetime
    #: The tightest threshold (seconds before ``due_at``) already announced for this deadline; None: none yet.
    alerted_seconds: int | None = None
    alerted_at: datetime | None = None
    seen_at: datetime  #: the last sweep that found it still due
