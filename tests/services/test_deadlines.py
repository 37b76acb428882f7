"""Everything due in a workspace: the service, ``shelfdesk due`` and the counts ``status --json`` gains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.context import AppContext
from shelfdesk.deadlines import DueKind, Urgency
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus as S
from shelfdesk.services.deadlines import list_due

UTC = timezone.utc


def seed_due(ctx: AppContext) -> dict[str, int]:
    """A Monday morning (the fixed clock, 10:30 in Paris): one item of each kind, and closed orders that owe nothing."""
    from shelfdesk.db.models import Channel, MarketplaceAccount, Order, OrderAction, Store

    now = ctx.clock.now()
    ids: dict[str, int] = {}
    with ctx.write_session() as session:
        store = Store(name="Refurb Paris", country="FR", currency="EUR", created_at=now, updated_at=now)
        bm = MarketplaceAccount(marketplace=Marketplace.backmarket, name="Back Market EU", created_at=now, updated_at=now)
        lbc = MarketplaceAccount(marketplace=Marketplace.leboncoin, name="Leboncoin Pro", created_at=now, updated_at=now,
                                 token_expires_at=now + timedelta(days=10))  # fmt: skip
        session.add_all([store, bm, lbc])
        session.flush()
        bm_ch = Channel(store_id=store.id, account_id=bm.id, marketplace=Marketplace.backmarket, market="fr-fr",
                        country="FR", name="Back Market France", created_at=now, updated_at=now)  # fmt: skip
        lbc_ch = Channel(store_id=store.id, account_id=lbc.id, marketplace=Marketplace.leboncoin, market="FR",
                         country="FR", name="Leboncoin France", created_at=now, updated_at=now)  # fmt: skip
        session.add_all([bm_ch, lbc_ch])
        session.flush()

        def order(ref: str, ch: Channel, status: S, bought: datetime, **kw: object) -> Order:
            row = Order(account_id=ch.account_id, channel_id=ch.id, store_id=store.id, marketplace=ch.marketplace,
                        marketplace_order_id=ref, country="FR", status=status, purchased_at=bought, harvested_at=now,
                        updated_at=now, **kw)  # fmt: skip
            session.add(row)
            session.flush()
            ids[ref] = row.id  # type: ignore[assignment]
            return row

        order("BM-HELD", bm_ch, S.New, now - timedelta(hours=1), hold_reason="stock short: SKU1 (0 of 1)")
        order("BM-LATE", bm_ch, S.InProgress, now - timedelta(days=2),
              payload={"expected_dispatch_date": "2026-03-01T18:00:00"})  # Sunday 18:00 Paris: late
        order("LBC-1", lbc_ch, S.New, datetime(2026, 2, 27, 12, tzinfo=UTC))  # 3 days: Monday 12:00 UTC
        queued = order("BM-QUEUED", bm_ch, S.InProgress, now - timedelta(hours=2))
        order("BM-DONE", bm_ch, S.Shipped, now - timedelta(days=3))
        session.add(OrderAction(order_id=queued.id, kind=ActionKind.ship, idempotency_key="ship-q", created_at=now,
                                updated_at=now))  # fmt: skip
        ids["lbc_account"] = lbc.id  # type: ignore[assignment]
    return ids


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
    assert (held.note, held.order_id, held.due_at) == ("stock short: SKU1 (0 of 1)", ids["BM-HELD"],
                                                       datetime(2026, 3, 2, 23, tzinfo=UTC))  # fmt: skip
    assert due.items[0].due_at == datetime(2026, 3, 1, 17, tzinfo=UTC)  # Back Market's date, read in Paris time
    assert due.overdue == 1 and due.counts()[Urgency.today] == 2


@pytest.fixture
def cli_clock(clock: FakeClock) -> Iterator[FakeClock]:
    old = set_default_clock(clock)
    yield clock
    set_default_clock(old)


def test_due_command_groups_exits_1_when_overdue_and_status_counts(ctx: AppContext, cli_clock: FakeClock,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
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
