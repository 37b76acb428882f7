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
from typing import TYPE_CHECKING, Any

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
from shelfdesk.domain import Marketplace

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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
    from shelfdesk.db.tables import table
    from shelfdesk.domain import NormalizedStatus as S

    now = ctx.clock.now()
    with ctx.read_connection() as conn:
        items = _order_items(conn, table("orders").c.status.in_([S.New, S.InProgress]))
        items.extend(care_case_dues(conn))
        items.extend(_token_items(conn, now))
    return DueList(now, most_urgent_first(items))


def due_counts(ctx: AppContext) -> dict[Urgency, int]:
    """``list_due(ctx).counts()`` without computing the deadline of every open order (``shelfdesk status``).

    A workspace can hold hundreds of thousands of open orders; almost all of
    them were bought long before any rule deadline could still be ahead. Per
    channel, :meth:`WorkingTime.rule_passed_before` gives the instant before
    which every rule deadline has passed: the open orders bought before it are
    counted as overdue from the ``(channel_id, status, purchased_at)`` index.
    The others are computed one by one as :func:`list_due` does: those bought
    since, those with a marketplace date (the connectors store it in
    ``accept_by`` / ``ship_by``), those accepted since (their rule runs from
    the acceptance) and those with an action waiting in the outbox. Orders of
    a channel without a country (their own country decides) and orders
    without a channel use :data:`RULE_PASSED`.
    """
    from sqlalchemy import and_

    from shelfdesk.db.tables import table
    from shelfdesk.domain import ActionKind, ActionState, NormalizedStatus as S

    orders, channels, actions = table("orders").c, table("channels").c, table("order_actions").c
    now = ctx.clock.now()
    still_open = orders.status.in_([S.New, S.InProgress])
    with ctx.read_connection() as conn:
        cuts: dict[int | None, datetime] = {None: now - RULE_PASSED}
        stores = table("stores")
        calendars = select(channels.id, channels.country, channels.settings, stores.c.settings).outerjoin(
            stores, stores.c.id == channels.store_id
        )
        for channel_id, country, settings, store_settings in conn.execute(calendars):
            working = WorkingTime.for_channel(country, settings, store_settings)
            cuts[channel_id] = working.rule_passed_before(now) if country else now - RULE_PASSED
        passed = 0
        exact: set[int] = set()
        for channel_id, cut in cuts.items():
            same = orders.channel_id.is_(None) if channel_id is None else orders.channel_id == channel_id
            passed += conn.execute(select(func.count()).where(same, still_open, orders.purchased_at < cut)).scalar_one()
            exact.update(conn.execute(select(orders.id).where(same, still_open, orders.purchased_at >= cut)).scalars())
        for status in (S.New, S.InProgress):  # one index range each: (status, accept_by), (status, ship_by)
            for dated in (orders.accept_by, orders.ship_by):
                exact.update(conn.execute(select(orders.id).where(orders.status == status, dated.is_not(None))).scalars())
        since = min(cuts.values())
        accepting = {str(ActionKind.accept), str(ActionKind.confirm_availability)}
        accepted = {str(ActionState.synchronizing), str(ActionState.confirmed)}
        for at in (actions.sent_at, actions.confirmed_at):  # accepted since: one index range each, kinds filtered here
            recent = conn.execute(select(actions.order_id, actions.kind, actions.state).where(at >= since))
            exact.update(order_id for order_id, kind, state in recent if str(kind) in accepting and str(state) in accepted)
        waiting = actions.state.in_([ActionState.pending, ActionState.sending])
        exact.update(conn.execute(select(actions.order_id).where(waiting)).scalars())
        items: list[Due] = []
        ids = sorted(exact)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            items.extend(_order_items(conn, and_(orders.id.in_(chunk), still_open)))
            passed -= sum(  # counted from the index above, computed here
                purchased < cuts.get(channel_id, cuts[None])
                for channel_id, purchased in conn.execute(
                    select(orders.channel_id, orders.purchased_at).where(orders.id.in_(chunk), still_open)
                )
            )
        items.extend(_token_items(conn, now))
    counts = DueList(now, items).counts()
    counts[Urgency.overdue] += passed
    return counts


#: Every rule deadline of an order bought or accepted this long ago has passed, in any calendar
#: that has a business day in any two weeks (holidays included) and any zone.
RULE_PASSED = timedelta(days=16)
#: Order ids per query when reading the orders :func:`due_counts` computes one by one.
_CHUNK = 5000


def _order_items(conn: Connection, where: Any) -> list[Due]:
    """The deadlines of the orders ``where`` selects (open ones), as :func:`list_due` lists them."""
    from shelfdesk.db.tables import table
    from shelfdesk.domain import ActionKind, ActionState, NormalizedStatus as S

    orders, channels, stores, actions = table("orders"), table("channels"), table("stores"), table("order_actions").c
    o = orders.c
    rows = conn.execute(
        select(
            o.id,
            o.marketplace_order_id,
            o.marketplace,
            o.status,
            o.purchased_at,
            o.accept_by,
            o.ship_by,
            o.hold_reason,
            o.payload,
            o.country,
            o.channel_id,
            channels.c.country,
            channels.c.settings,
            stores.c.settings,
        )
        .select_from(orders.outerjoin(channels, channels.c.id == o.channel_id).outerjoin(stores, stores.c.id == o.store_id))
        .where(where)
    ).all()
    ids = [r[0] for r in rows]
    accepted: dict[int, datetime] = {}
    pending: dict[int, list[tuple[int, ActionKind]]] = {}
    if ids:
        accept_kinds = [ActionKind.accept, ActionKind.confirm_availability]
        for order_id, at in conn.execute(
            select(actions.order_id, func.min(func.coalesce(actions.confirmed_at, actions.sent_at)))
            .where(
                actions.order_id.in_(ids),
                actions.kind.in_(accept_kinds),
                actions.state.in_([ActionState.synchronizing, ActionState.confirmed]),
            )
            .group_by(actions.order_id)
        ):
            if at is not None:
                accepted[order_id] = at
        for action_id, order_id, kind in conn.execute(
            select(actions.id, actions.order_id, actions.kind).where(
                actions.order_id.in_(ids), actions.state.in_([ActionState.pending, ActionState.sending])
            )
        ):
            pending.setdefault(order_id, []).append((action_id, ActionKind(kind)))
    items: list[Due] = []
    calendars: dict[tuple[int | None, str | None], WorkingTime] = {}
    for (
        oid,
        ref,
        marketplace,
        status,
        bought,
        accept_by,
        ship_by,
        hold,
        payload,
        country,
        channel_id,
        ch_country,
        ch_settings,
        st_settings,
    ) in rows:
        dates: dict[str, Any] = {k: payload[k] for k in _DATE_KEYS if isinstance(payload, dict) and payload.get(k)}
        facts = OrderFacts(oid, ref, Marketplace(marketplace), S(status), bought, accept_by, ship_by, accepted.get(oid), hold, dates)
        key = (channel_id, ch_country or country)
        working = calendars.get(key)
        if working is None:
            working = calendars[key] = WorkingTime.for_channel(ch_country or country, ch_settings, st_settings)
        actions_due = [d for action_id, kind in pending.get(oid, []) for d in due_for_action(action_id, kind, facts, working)]
        items.extend(actions_due or due_for_order(facts, working))
    return items


def _token_items(conn: Connection, now: datetime) -> list[Due]:
    """Accounts whose token expires within :data:`TOKEN_HORIZON`, or that the marketplace refused."""
    from shelfdesk.db.tables import table

    accounts = table("marketplace_accounts").c
    tokens = conn.execute(
        select(
            accounts.id, accounts.name, accounts.marketplace, accounts.token_expires_at, accounts.token_checked_at, accounts.token_error
        ).where((accounts.token_expires_at <= now + TOKEN_HORIZON) | accounts.token_error.is_not(None))
    ).all()
    return [
        d
        for account_id, name, marketplace, expires, checked, error in tokens
        for d in due_for_token(TokenFacts(account_id, name, Marketplace(marketplace), expires, rejected_at=checked or now, error=error))
    ]


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
