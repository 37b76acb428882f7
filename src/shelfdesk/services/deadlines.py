"""Everything due in a workspace, most urgent first: the Due list, ``shelfdesk due`` and the status counts.

Reads the open orders (New, In progress), the outbox actions still to send
and the accounts whose token expires within :data:`TOKEN_HORIZON`, and asks
:mod:`shelfdesk.deadlines` what each of them owes by when. An order whose
racing action already waits in the outbox shows once, as that action: the
operator has done their part, the sender has not yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from shelfdesk.context import AppContext
from shelfdesk.deadlines import (
    Due,
    OrderFacts,
    TokenFacts,
    Urgency,
    WorkingTime,
    due_for_action,
    due_for_order,
    due_for_token,
    most_urgent_first,
)


def care_case_dues(session: Any) -> list[Due]:
    """Open after-sales cases with something due (see :mod:`shelfdesk.care.deadlines`)."""
    from shelfdesk.care.deadlines import case_due_consequence
    from shelfdesk.db.models import CareCase
    from shelfdesk.deadlines import due_for_care_case

    rows = session.execute(
        select(CareCase.id, CareCase.case_ref, CareCase.order_id, CareCase.due_what, CareCase.due_at).where(
            CareCase.state == "open",
            CareCase.due_at.is_not(None),
        )
    ).all()
    return [d for cid, ref, oid, what, at in rows for d in due_for_care_case(cid, ref, oid, what, at, case_due_consequence(what))]


#: Tokens show on the Due list from this long before they expire.
TOKEN_HORIZON = timedelta(days=30)
#: Payload keys a marketplace dates its deadlines with (the rest of the payload is not read).
_DATE_KEYS = ("expected_dispatch_date", "availability_deadline", "shipping_deadline")


@dataclass(frozen=True)
class DueList:
    """Everything due at ``now``, most urgent first."""

    now: datetime
    items: list[Due]

    def counts(self) -> dict[Urgency, int]:
        """How many items per urgency (every urgency present, zero included)."""
        seen = Counter(d.urgency(self.now) for d in self.items)
        return {u: seen.get(u, 0) for u in Urgency}

    @property
    def overdue(self) -> int:
        return self.counts()[Urgency.overdue]


def list_due(ctx: AppContext) -> DueList:
    """Every deadline that applies now (orders, lines through their order, pending actions, tokens)."""
    from shelfdesk.db.models import Channel, MarketplaceAccount, Order, OrderAction, Store
    from shelfdesk.domain import ActionKind, ActionState, NormalizedStatus as S

    now = ctx.clock.now()
    items: list[Due] = []
    with ctx.read_session() as session:
        rows = session.execute(
            select(  # type: ignore[misc]  # SQLModel types each column as its value: select() of this many columns exhausts mypy's overloads
                Order.id,
                Order.marketplace_order_id,
                Order.marketplace,
                Order.status,
                Order.purchased_at,
                Order.accept_by,
                Order.ship_by,
                Order.hold_reason,
                Order.payload,
                Order.country,
                Channel.country,
                Channel.settings,
                Store.settings,
            )
            .outerjoin(Channel, Channel.id == Order.channel_id)
            .outerjoin(Store, Store.id == Order.store_id)
            .where(Order.status.in_([S.New, S.InProgress]))
        ).all()
        ids = [r[0] for r in rows]
        accepted: dict[int, datetime] = {}
        pending: dict[int, list[tuple[int, ActionKind]]] = {}
        if ids:
            accept_kinds = [ActionKind.accept, ActionKind.confirm_availability]
            for order_id, at in session.execute(
                select(OrderAction.order_id, func.min(func.coalesce(OrderAction.confirmed_at, OrderAction.sent_at)))
                .where(
                    OrderAction.order_id.in_(ids),
                    OrderAction.kind.in_(accept_kinds),
                    OrderAction.state.in_([ActionState.synchronizing, ActionState.confirmed]),
                )
                .group_by(OrderAction.order_id)
            ):
                if at is not None:
                    accepted[order_id] = at
            for action_id, order_id, kind in session.execute(
                select(OrderAction.id, OrderAction.order_id, OrderAction.kind).where(
                    OrderAction.order_id.in_(ids),
                    OrderAction.state.in_([ActionState.pending, ActionState.sending]),
                )
            ):
                pending.setdefault(order_id, []).append((action_id, ActionKind(kind)))
        items.extend(care_case_dues(session))
        tokens = session.execute(
            select(
                MarketplaceAccount.id,
                MarketplaceAccount.name,
                MarketplaceAccount.marketplace,
                MarketplaceAccount.token_expires_at,
                MarketplaceAccount.token_checked_at,
                MarketplaceAccount.token_error,
            ).where((MarketplaceAccount.token_expires_at <= now + TOKEN_HORIZON) | MarketplaceAccount.token_error.is_not(None))
        ).all()
    for oid, ref, marketplace, status, bought, accept_by, ship_by, hold, payload, country, ch_country, ch_settings, st_settings in rows:
        dates: dict[str, Any] = {k: payload[k] for k in _DATE_KEYS if isinstance(payload, dict) and payload.get(k)}
        facts = OrderFacts(oid, ref, marketplace, S(status), bought, accept_by, ship_by, accepted.get(oid), hold, dates)
        working = WorkingTime.for_channel(ch_country or country, ch_settings, st_settings)
        actions = [d for action_id, kind in pending.get(oid, []) for d in due_for_action(action_id, kind, facts, working)]
        items.extend(actions or due_for_order(facts, working))
    for account_id, name, marketplace, expires, checked, error in tokens:
        items.extend(due_for_token(TokenFacts(account_id, name, marketplace, expires, rejected_at=checked or now, error=error)))
    return DueList(now, most_urgent_first(items))


def due_dict(due: DueList) -> dict[str, Any]:
    """``shelfdesk due --json``: what, on what, when, how long is left (negative once late), never a credential."""
    return {
        "checked_at": due.now.isoformat(),
        "overdue": due.overdue,
        "counts": {str(u): n for u, n in due.counts().items()},
        "items": [
            {
                "kind": str(d.kind),
                "urgency": str(d.urgency(due.now)),
                "due_at": d.due_at.isoformat(),
                "seconds_left": int(d.left(due.now).total_seconds()),
                "target_type": d.target_type,
                "target_id": d.target_id,
                "order_id": d.order_id,
                "reference": d.reference,
                "source": d.source,
                "consequence": d.consequence,
                "note": d.note,
            }
            for d in due.items
        ],
    }
