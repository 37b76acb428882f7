"""Writing a Care action to the orders outbox (on the case's order), with its order event and audit entry.

The key makes queuing the same request twice one row. Unlike order actions, a
Care action that failed is never re-armed by queuing it again: a refund whose
outcome was unknown must be checked by an operator, not sent again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from shelfdesk.domain import ActionKind, ActionState, EventSource

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def queue_care_action(
    session: Session,
    *,
    order_id: int,
    order_ref: str,
    kind: ActionKind,
    payload: dict[str, Any],
    key: str,
    actor: str,
    now: datetime,
    summary: str,
) -> tuple[int, bool]:
    """(action id, created): the outbox row for ``key``, written now unless it exists. Not committed here."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import OrderAction, OrderEvent
    from shelfdesk.db.upsert import upsert_rows

    existing = session.execute(select(col(OrderAction.id)).where(col(OrderAction.idempotency_key) == key)).scalar()
    if existing is not None:
        return int(existing), False
    row = {
        "order_id": order_id,
        "kind": kind,
        "payload": {**payload, "queued_at": now.isoformat()},
        "state": ActionState.pending,
        "attempts": 0,
        "idempotency_key": key,
        "batch_key": None,
        "actor": actor,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
    }
    upsert_rows(session, OrderAction, [row], ["idempotency_key"], [])
    action_id = session.execute(select(col(OrderAction.id)).where(col(OrderAction.idempotency_key) == key)).scalar_one()
    assert action_id is not None  # a stored row has its id
    session.add(
        OrderEvent(
            order_id=order_id, at=now, source=EventSource.operator, kind="action_queued", field=kind.value, actor=actor, message=summary
        )
    )
    record_audit(
        session, actor, f"care.{kind.value}", "order", order_ref, {"order_id": order_id, "action_id": action_id, **_audit(payload)}, at=now
    )
    return action_id, True


def _audit(payload: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a payload: everything but a message's text (it may be long)."""
    return {k: (f"{len(v)} characters" if k == "message" and isinstance(v, str) else v) for k, v in payload.items()}
