"""Everything due in a workspace: the service, ``shelfdesk due`` and the counts ``status --json`` gains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.context import AppContext
from shelfdesk.deadlines import DueKind, Urgency
from shelfdesk.domain import NormalizedStatus as S
from shelfdesk.services.deadlines import due_dict, list_due
from tests.conftest import FIXED_NOW
from tests.due_data import add_order, seed_due

UTC = UTC


def test_everything_due_most_urgent_first_with_reasons(ctx: AppContext) -> None:
    ids = seed_due(ctx)
    due = list_due(ctx)
    got = [(d.kind, d.reference, d.urgency(due.now)) for d in due.items]
    assert got == [
        (DueKind.ship, "BM-LATE", Urgency.overdue),
        (DueKind.confirm_availability, "LBC-1", Urgency.soon),
        (DueKind.accept, "BM-HELD", Urgency.today),
        (DueKind.send_action, "BM-QUEUED", Urgency.today),  # the queued ship, not the order a second time
        (DueKind.renew_token, "Leboncoin Pro", Urgency.later),
    ]
    held = due.items[2]
    assert (held.note, held.order_id, held.due_at) == ("stock short: SKU1 (0 of 1)", ids["BM-HELD"], datetime(2026, 3, 2, 23, tzinfo=UTC))
    assert due.items[0].due_at == datetime(2026, 3, 1, 17, tzinfo=UTC)  # Back Market's date, read in Paris time
    assert due.overdue == 1 and due.counts()[Urgency.today] == 2


@pytest.fixture
def cli_clock(clock: FakeClock) -> Iterator[FakeClock]:
    old = set_default_clock(clock)
    yield clock
    set_default_clock(old)


def test_due_command_groups_exits_1_when_overdue_and_status_counts(
    ctx: AppContext, cli_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_due(ctx)
    assert main(["due"]) == 1
    out = capsys.readouterr().out
    assert "Ship (1)" in out and "Accept (1)" in out and "(stock short: SKU1 (0 of 1))" in out
    assert out.index("Ship (1)") < out.index("Confirm availability (1)") < out.index("Renew token (1)")
    assert main(["due", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["overdue"] == 1 and data["items"][0]["reference"] == "BM-LATE"
    assert data["items"][0]["seconds_left"] == -(16 * 3600 + 30 * 60)
    main(["status", "--json"])
    status = json.loads(capsys.readouterr().out)
    assert status["deadlines"]["overdue"] == 1 and status["deadlines"]["within 4 h"] == 1

    cli_clock.set(datetime(2026, 3, 5, tzinfo=UTC))
    with ctx.write_session() as session:
        from sqlalchemy import update

        from shelfdesk.db.models import Order

        session.execute(update(Order).values(status=S.Shipped))
    assert main(["due"]) == 0  # the token still expires in the future: due, not overdue
    assert "Renew token (1)" in capsys.readouterr().out


def test_status_exits_1_on_a_missed_deadline_alone_and_0_once_it_is_handled(
    ctx: AppContext, cli_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seed_due(ctx)
    assert main(["status", "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["overdue"] == 1 and status["critical"] is False  # no critical alert: the late shipment alone
    assert main(["status"]) == 1
    assert "Deadlines     1 overdue, 1 within 4 h, 2 within 24 h, 1 later (shelfdesk due lists them)" in capsys.readouterr().out
    with ctx.write_session() as session:
        from sqlalchemy import update

        from shelfdesk.db.models import Order

        session.execute(update(Order).where(Order.id == ids["BM-LATE"]).values(status=S.Shipped))
    assert main(["status", "--json"]) == 0 and json.loads(capsys.readouterr().out)["overdue"] == 0
    assert main(["due", "--json"]) == 0 and json.loads(capsys.readouterr().out)["overdue"] == 0


def test_an_order_auto_accept_held_shows_on_due_with_its_reason(ctx: AppContext) -> None:
    """Through auto-accept itself: an unknown SKU leaves the order New, and Due says why."""
    from sqlalchemy import select, update

    from shelfdesk.db.models import Channel, Order, OrderLine
    from shelfdesk.orders.autoaccept import auto_accept
    from shelfdesk.orders.store import load_scope

    ids = seed_due(ctx)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.execute(update(Channel).values(auto_accept=True, activated_at=now - timedelta(days=30)))
        session.execute(update(Order).where(Order.id == ids["BM-HELD"]).values(hold_reason=None))
        session.add(OrderLine(order_id=ids["BM-HELD"], marketplace_line_id="1", sku="NO-SUCH-SKU", quantity=1, status=S.New))
    with ctx.write_session() as session:
        account_id = session.get(Order, ids["BM-HELD"]).account_id  # type: ignore[union-attr]
        outcome = auto_accept(session, load_scope(session, account_id), [ids["BM-HELD"]], now)
    assert ids["BM-HELD"] in outcome.held
    with ctx.read_session() as session:
        reason = session.execute(select(Order.hold_reason).where(Order.id == ids["BM-HELD"])).scalar_one()
    assert reason and "NO-SUCH-SKU" in reason
    held = next(d for d in list_due(ctx).items if d.reference == "BM-HELD")
    assert (held.kind, held.note) == (DueKind.accept, reason)


def test_a_leboncoin_refresh_token_shows_a_month_before_its_365_days_and_a_refused_token_at_once(
    ctx: AppContext, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import update

    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.services.accounts import create_account

    lbc = create_account(ctx, "leboncoin", "Leboncoin Pro", token="lbc-refresh-0123456789abcdef")
    bm = create_account(
        ctx, "backmarket", "Back Market EU", token="bm-token-0123456789abcdef", company="Refurb", contact_email="a@b.example"
    )
    assert [d.reference for d in list_due(ctx).items] == []  # 365 days ahead: not this month's business
    clock.advance(timedelta(days=340))
    [token] = list_due(ctx).items
    assert (token.kind, token.reference, token.target_id, token.urgency(clock.now())) == (
        DueKind.renew_token,
        "Leboncoin Pro",
        lbc.id,
        Urgency.later,
    )
    assert token.due_at == FIXED_NOW + timedelta(days=365)
    with ctx.write_session() as session:  # the token check found Back Market's token refused
        session.execute(
            update(MarketplaceAccount)
            .where(MarketplaceAccount.id == bm.id)
            .values(token_error="401 invalid token", token_checked_at=clock.now() - timedelta(hours=2))
        )
    refused, _ = list_due(ctx).items
    assert (refused.reference, refused.note, refused.urgency(clock.now())) == (
        "Back Market EU",
        "refused: 401 invalid token",
        Urgency.overdue,
    )
    assert "bm-token" not in json.dumps(due_dict(list_due(ctx)))


def test_status_counts_old_open_orders_from_the_index_and_agree_with_the_due_list(ctx: AppContext) -> None:
    """``due_counts`` (what ``status`` shows) equals the Due list's counts, however each order is dated."""
    from shelfdesk.db.models import Channel, Order, OrderAction
    from shelfdesk.domain import ActionKind, ActionState
    from shelfdesk.services.deadlines import due_counts

    ids = seed_due(ctx)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        channels = {c.marketplace: c for c in session.exec(select(Channel))}

        def order(ref: str, marketplace: str, status: S, bought: datetime, **kw: object) -> Order:
            return add_order(session, channels[marketplace], ref, status, bought, now, country="DE", **kw)

        month_ago = now - timedelta(days=30)
        for n in range(5):
            order(f"OLD-BM-{n}", "backmarket", S.New, month_ago - timedelta(hours=n))  # overdue by the rule
            order(f"OLD-LBC-{n}", "leboncoin", S.InProgress, month_ago)
        order("OLD-NO-CHANNEL", "backmarket", S.New, month_ago, channel=False)
        order("NEW-NO-CHANNEL", "backmarket", S.New, now - timedelta(hours=3), channel=False)
        order("OLD-DATED", "backmarket", S.New, month_ago, accept_by=now + timedelta(days=3))  # the marketplace's date: later
        order("OLD-SHIPPED", "backmarket", S.Shipped, month_ago)
        accepted = order("OLD-ACCEPTED-TODAY", "backmarket", S.InProgress, month_ago)
        queued = order("OLD-QUEUED", "leboncoin", S.New, month_ago)
        session.add_all(
            [
                OrderAction(
                    order_id=accepted.id,
                    kind=ActionKind.accept,
                    state=ActionState.confirmed,
                    idempotency_key="acc-today",
                    created_at=now,
                    updated_at=now,
                    sent_at=now - timedelta(hours=1),
                    confirmed_at=now - timedelta(minutes=50),
                ),
                OrderAction(
                    order_id=queued.id, kind=ActionKind.confirm_availability, idempotency_key="conf-q", created_at=now, updated_at=now
                ),
                OrderAction(
                    order_id=ids["BM-QUEUED"], kind=ActionKind.ship, idempotency_key="ship-q2", created_at=now, updated_at=now
                ),  # two actions waiting: two items
            ]
        )
    counts = due_counts(ctx)
    assert counts == list_due(ctx).counts()
    assert counts[Urgency.overdue] == 1 + 5 + 5 + 1 + 1  # BM-LATE, the old ones, the one without a channel, the queued one
    assert counts[Urgency.later] == 2  # the token and the order the marketplace dated
    # the order accepted today ships by tonight (Paris), with the one bought today without a channel and two queued ships
    assert counts[Urgency.today] == 5
