"""A publication's counters and final state, recomputed from its items (the items are the truth)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shelfdesk.domain import ItemOutcome, PublicationState

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

SUCCESS = (ItemOutcome.created, ItemOutcome.updated, ItemOutcome.zeroed)


def finish_counters(
    ctx: AppContext, publication_id: int, *, state: PublicationState | None = None, error: str | None = None, finished: bool = False
) -> tuple[dict[str, int], PublicationState]:
    """Recompute a publication's counters from its items (the items are the truth).

    ``finished`` ends the run: its state is ``state`` or, when None, the one
    its counters call for. Otherwise (a later run resolved some of its items)
    a finished state is recomputed and interrupted/cancelled ones are kept.
    """
    from sqlalchemy import func, select

    from shelfdesk.db.models import Publication, PublicationItem as I

    with ctx.write_session() as session:
        rows = session.execute(
            select(I.outcome, I.sent_at.is_not(None), I.warning.is_not(None), func.count())
            .where(I.publication_id == publication_id)
            .group_by(I.outcome, I.sent_at.is_not(None), I.warning.is_not(None))
        ).all()
        c = {"sent": 0, "succeeded": 0, "warnings": 0, "failed": 0, "invalid": 0, "queued": 0, "pending": 0, "held": 0}
        for outcome, was_sent, warned, count in rows:
            outcome = ItemOutcome(outcome)
            if was_sent:
                c["sent"] += count
            if outcome in SUCCESS:
                c["succeeded"] += count
                c["warnings"] += count if warned else 0
            elif outcome is ItemOutcome.failed:
                c["failed" if was_sent else "invalid"] += count
            elif outcome is ItemOutcome.queued:
                c["queued"] += count
            elif outcome is ItemOutcome.sent:
                c["pending"] += count
            elif outcome is ItemOutcome.skipped:
                c["held"] += count
        pub = session.get(Publication, publication_id)
        assert pub is not None
        for name in ("sent", "succeeded", "warnings", "failed", "invalid", "queued"):
            setattr(pub, name, c[name])
        summary = dict(pub.summary or {})
        pub.skipped = int(sum((summary.get("skipped") or {}).values())) + c["held"]
        summary["pending"] = c["pending"]
        pub.summary = summary
        if state is not None:
            pub.state = state
        elif finished or pub.state in (PublicationState.succeeded, PublicationState.partial, PublicationState.failed):
            pub.state = _final_state(c, pub.planned or 0)
        if error is not None:
            pub.error = error
        if finished:
            pub.finished_at = ctx.clock.now()
        return c, PublicationState(pub.state)


def _final_state(c: dict[str, int], planned: int) -> PublicationState:
    if planned == 0 and c["sent"] == 0 and not (c["invalid"] or c["queued"]):
        return PublicationState.skipped  # nothing to do; a run that refused items or left some queued is partial
    if c["sent"] and c["succeeded"] == 0 and c["failed"] == c["sent"]:
        return PublicationState.failed
    if c["failed"] or c["queued"] or c["pending"] or c["invalid"]:
        return PublicationState.partial
    return PublicationState.succeeded


def note_stage(ctx: AppContext, publication_id: int, phase: str, done: int = 0, total: int = 0) -> None:
    """On the run's summary: the stage it is at, and since when, so any process listing the run (the
    console, for a run the CLI or the scheduler started) reads "sending 1,200 of 5,000" or how long the
    marketplace has been processing, instead of a bare "running"."""
    from shelfdesk.db.models import Publication

    with ctx.write_session() as session:
        pub = session.get(Publication, publication_id)
        if pub is None:
            return
        summary = dict(pub.summary or {})
        before = summary.get("stage") or {}
        since = before.get("since") if before.get("phase") == phase else ctx.clock.now().isoformat()
        summary["stage"] = {"phase": phase, "done": done, "total": total, "since": since}
        pub.summary = summary


def note_run(ctx: AppContext, publication_id: int, *, path: str | None = None, unread: dict[str, Any] | None = None) -> None:
    """On the run's summary: which path sent it (``batch`` or ``real-time``), and the per-item
    reports of tasks that could not be read (as the marketplace sent them, for triage)."""
    from shelfdesk.db.models import Publication

    with ctx.write_session() as session:
        pub = session.get(Publication, publication_id)
        if pub is None:
            return
        summary = dict(pub.summary or {})
        if path is not None:
            summary["path"] = path
        if unread:
            kept = dict(summary.get("unread_task_results") or {})
            kept.update({str(k): _truncated(v) for k, v in unread.items()})
            summary["unread_task_results"] = kept
        pub.summary = summary


def _truncated(value: Any, limit: int = 4000) -> Any:
    """A raw report kept as it came, unless it is too large for a summary (then its first characters)."""
    import json

    text = json.dumps(value, default=str)
    return value if len(text) <= limit else text[:limit] + "…"
