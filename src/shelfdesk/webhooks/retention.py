"""Pruning the delivery log and delivered events, from the webhooks job itself (at most hourly).

Only rows nobody needs any more go: attempts older than the retention, deliveries
delivered before it, and events older than it that no subscription still waits
for. The days come from ``retention_webhook_days`` in the workspace's config.toml
(default 30; 0 keeps everything). Deleting in batches of BATCH ids keeps each
write transaction short, so harvests and the console never wait long on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

DEFAULT_RETENTION_DAYS = 30
EVERY = timedelta(hours=1)
BATCH = 2000
CURSOR = "pruned_at"  #: webhook_cursors row holding when pruning last ran (Unix seconds)


def retention_days(ctx: AppContext) -> int:
    return int(ctx.settings.extra.get("retention_webhook_days", DEFAULT_RETENTION_DAYS))


def _queries(cutoff: datetime) -> list[tuple[str, Any, Any]]:
    from shelfdesk.db.models import WebhookAttempt as A, WebhookDelivery as D, WebhookEvent as E

    waiting = select(D.id).where(D.event_id == E.id, D.state != "delivered").exists()
    return [
        ("webhook_attempts", A, select(A.id).where(A.at < cutoff)),
        ("webhook_deliveries", D, select(D.id).where(D.state == "delivered", D.delivered_at < cutoff)),
        ("webhook_events", E, select(E.id).where(E.occurred_at < cutoff, ~waiting)),
    ]


def prune_webhook_rows(ctx: AppContext, *, force: bool = False) -> dict[str, int]:
    """Delete what the retention allows; does nothing when it ran less than an hour ago (unless ``force``)."""
    from shelfdesk.webhooks.events import get_cursor, set_cursor

    now = ctx.clock.now()
    days = retention_days(ctx)
    with ctx.read_session() as session:
        last = get_cursor(session, CURSOR)
    if days <= 0 or (not force and last is not None and now.timestamp() - last < EVERY.total_seconds()):
        return {}
    cutoff = now - timedelta(days=days)
    deleted: dict[str, int] = {}
    for name, table, query in _queries(cutoff):
        total = 0
        while True:
            with ctx.write_session() as session:
                ids = session.execute(query.limit(BATCH)).scalars().all()
                if ids:
                    session.execute(delete(table).where(table.id.in_(ids)))
            total += len(ids)
            if len(ids) < BATCH:
                break
        if total:
            deleted[name] = total
    with ctx.write_session() as session:
        set_cursor(session, CURSOR, int(now.timestamp()), now)
    return deleted
