"""A Monday morning of deadlines, shared by the service, CLI and console tests of the Due list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shelfdesk.context import AppContext
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus as S

if TYPE_CHECKING:
    from sqlmodel import Session

    from shelfdesk.db.models import Channel, Order


def seed_due(ctx: AppContext) -> dict[str, int]:
    """A Monday morning (the fixed clock, 10:30 in Paris): one item of each kind, and closed orders that owe nothing."""
    from shelfdesk.db.models import Channel, MarketplaceAccount, OrderAction, Store

    now = ctx.clock.now()
    ids: dict[str, int] = {}
    with ctx.write_session() as session:
        store = Store(name="Refurb Paris", country="FR", currency="EUR", created_at=now, updated_at=now)
        bm = MarketplaceAccount(marketplace=Marketplace.backmarket, name="Back Market EU", created_at=now, updated_at=now)
        lbc = MarketplaceAccount(
            marketplace=Marketplace.leboncoin,
            name="Leboncoin Pro",
            created_at=now,
            updated_at=now,
            token_expires_at=now + timedelta(days=10),
        )
        session.add_all([store, bm, lbc])
        session.flush()
        bm_ch = Channel(
            store_id=store.id,
            account_id=bm.id,
            marketplace=Marketplace.backmarket,
            market="fr-fr",
            country="FR",
            name="Back Market France",
            created_at=now,
            updated_at=now,
        )
        lbc_ch = Channel(
            store_id=store.id,
            account_id=lbc.id,
            marketplace=Marketplace.leboncoin,
            market="FR",
            country="FR",
            name="Leboncoin France",
            created_at=now,
            updated_at=now,
        )
        session.add_all([bm_ch, lbc_ch])
        session.flush()

        def order(ref: str, ch: Channel, status: S, bought: datetime, **kw: object) -> Order:
            row = add_order(session, ch, ref, status, bought, now, **kw)
            ids[ref] = row.id  # type: ignore[assignment]
            return row

        order("BM-HELD", bm_ch, S.New, now - timedelta(hours=1), hold_reason="stock short: SKU1 (0 of 1)")
        order(
            "BM-LATE", bm_ch, S.InProgress, now - timedelta(days=2), payload={"expected_dispatch_date": "2026-03-01T18:00:00"}
        )  # Sunday 18:00 Paris: late
        order("LBC-1", lbc_ch, S.New, datetime(2026, 2, 27, 12, tzinfo=UTC))  # 3 days: Monday 12:00 UTC
        queued = order("BM-QUEUED", bm_ch, S.InProgress, now - timedelta(hours=2))
        order("BM-DONE", bm_ch, S.Shipped, now - timedelta(days=3))
        session.add(OrderAction(order_id=queued.id, kind=ActionKind.ship, idempotency_key="ship-q", created_at=now, updated_at=now))
        ids["lbc_account"] = lbc.id  # type: ignore[assignment]
    return ids


def add_order(
    session: Session,
    ch: Channel,
    ref: str,
    status: S,
    bought: datetime,
    now: datetime,
    *,
    channel: bool = True,
    country: str = "FR",
    **kw: object,
) -> Order:
    """An order of ``ch``'s account (without its channel when ``channel`` is False: its country then decides)."""
    from shelfdesk.db.models import Order

    row = Order(
        account_id=ch.account_id,
        channel_id=ch.id if channel else None,
        store_id=ch.store_id,
        marketplace=ch.marketplace,
        marketplace_order_id=ref,
        country=country,
        status=status,
        purchased_at=bought,
        harvested_at=now,
        updated_at=now,
        **kw,
    )
    session.add(row)
    session.flush()
    return row
