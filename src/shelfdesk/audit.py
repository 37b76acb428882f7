"""The audit log's one writer: who did what, when, to what.

Call :func:`record_audit` inside the same write session as the change it
records, so the change and its trace commit (or roll back) together. The actor
is the OS user from the context (``ctx.actor``), or a name such as
``"rule:auto-accept"`` for automatic actions; the time comes from the injected
clock, never from the wall clock directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shelfdesk.clock import Clock, default_clock, ensure_utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.db.models import AuditLog


class _HasActorAndClock(Protocol):
    actor: str
    clock: Clock


def record_audit(
    session: Session,
    ctx_or_actor: _HasActorAndClock | str,
    action: str,
    target_type: str | None,
    target_id: object | None,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    clock: Clock | None = None,
) -> AuditLog:
    """Add one audit row to ``session`` (not committed) and return it.

    ``ctx_or_actor`` is an :class:`~shelfdesk.context.AppContext` (its actor
    and clock are used) or an actor name. ``at`` overrides the time; otherwise
    it is ``clock``'s, else the context's, else the process clock's now.
    ``target_id`` is stored as text so any key (an order id, a SKU, a path) fits.
    """
    from shelfdesk.db.models import AuditLog

    if isinstance(ctx_or_actor, str):
        actor = ctx_or_actor
        clock = clock or default_clock()
    else:
        actor = ctx_or_actor.actor
        clock = clock or ctx_or_actor.clock
    if not actor:
        raise ValueError("an audit entry needs an actor")
    entry = AuditLog(
        at=ensure_utc(at) if at is not None else clock.now(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
    )
    session.add(entry)
    return entry
