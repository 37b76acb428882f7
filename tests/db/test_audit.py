"""record_audit: the OS user (or a rule), the injected clock, the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from shelfdesk.audit import record_audit
from shelfdesk.db.models import AuditLog


def test_audit_uses_the_context_actor_and_clock(ctx: Any, clock: Any) -> None:
    clock.advance(timedelta(minutes=5))
    with ctx.write_session() as session:
        record_audit(session, ctx, "order.ship", "order", 42, {"carrier": "UPS"})
        record_audit(session, "rule:auto-accept", "order.accept", "order", "43", clock=clock)
    with ctx.read_session() as session:
        rows = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    assert [(r.actor, r.action, r.target_type, r.target_id) for r in rows] == [
        (ctx.actor, "order.ship", "order", "42"),
        ("rule:auto-accept", "order.accept", "order", "43"),
    ]
    assert rows[0].at == clock.now() and rows[0].details == {"carrier": "UPS"}


def test_audit_rolls_back_with_the_change(ctx: Any) -> None:
    try:
        with ctx.write_session() as session:
            record_audit(session, ctx, "store.delete", "store", 1)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with ctx.read_session() as session:
        assert session.execute(select(AuditLog)).first() is None
