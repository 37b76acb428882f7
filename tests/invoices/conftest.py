"""Fixtures for invoice tests: a store with invoice settings and shipped orders to invoice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from shelfdesk.context import AppContext
from shelfdesk.domain import Marketplace, NormalizedStatus

SELLER = {
    "seller_name": "Atelier Reconditionné SAS",
    "seller_address": "12 rue des Lilas\n69003 Lyon\nFrance",
    "seller_vat_number": "FR12345678901",
    "seller_registration": "RCS Lyon 123 456 789",
}


def make_order(
    ctx: AppContext,
    *,
    marketplace_order_id: str,
    lines: Sequence[tuple[str, int, str]] = (("iPhone 12 64 Go", 1, "329.90"),),
    shipping: str = "0.00",
    discount: str | None = None,
    total: str | None = None,
    status: NormalizedStatus = NormalizedStatus.Shipped,
    store_name: str = "Refurb FR",
    marketplace: Marketplace = Marketplace.backmarket,
) -> int:
    """Insert one order (and its store, account and channel on first use); returns its id."""
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, MarketplaceAccount, Order, OrderLine, Store

    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = session.execute(select(Store).where(Store.name == store_name)).scalar_one_or_none()
        if store is None:
            store = Store(name=store_name, country="FR", currency="EUR", created_at=now, updated_at=now)
            session.add(store)
            session.flush()
        account = session.execute(select(MarketplaceAccount).where(MarketplaceAccount.marketplace == marketplace)).scalar_one_or_none()
        if account is None:
            account = MarketplaceAccount(
                marketplace=marketplace, name=f"{marketplace} acct", credential_ref="secret:x", created_at=now, updated_at=now
            )
            session.add(account)
            session.flush()
        channel = session.execute(
            select(Channel).where(Channel.account_id == account.id, Channel.store_id == store.id)
        ).scalar_one_or_none()
        if channel is None:
            channel = Channel(
                store_id=store.id,
                account_id=account.id,
                marketplace=marketplace,
                market=f"fr-{store.id}",
                country="FR",
                name=f"{store_name} {marketplace}",
                created_at=now,
                updated_at=now,
            )
            session.add(channel)
            session.flush()
        gross = sum((Decimal(price) * qty for _, qty, price in lines), Decimal("0.00"))
        computed = gross + Decimal(shipping) - Decimal(discount or "0")
        order = Order(
            account_id=account.id,
            channel_id=channel.id,
            store_id=store.id,
            marketplace=marketplace,
            marketplace_order_id=marketplace_order_id,
            status=status,
            purchased_at=now,
            harvested_at=now,
            updated_at=now,
            total=Decimal(total) if total is not None else computed,
            shipping_price=Decimal(shipping),
            discount_total=Decimal(discount) if discount else None,
            currency="EUR",
            buyer_name="Camille Martin",
            billing_address={
                "first_name": "Camille",
                "last_name": "Martin",
                "street": "3 place Bellecour",
                "postal_code": "69002",
                "city": "Lyon",
                "country": "FR",
            },
        )
        session.add(order)
        session.flush()
        for number, (title, qty, price) in enumerate(lines):
            session.add(
                OrderLine(
                    order_id=order.id,
                    marketplace_line_id=f"{marketplace_order_id}-{number}",
                    sku=f"SKU-{number}",
                    title=title,
                    quantity=qty,
                    unit_price=Decimal(price),
                    status=status,
                )
            )
        return int(order.id)


@pytest.fixture
def seller_store(ctx: AppContext) -> Callable[..., Any]:
    """Configure a store's invoice settings (creating it if needed)."""
    from shelfdesk.invoices.settings import update_settings

    def configure(store_name: str = "Refurb FR", **changes: Any) -> Any:
        make_order(ctx, marketplace_order_id=f"seed-{store_name}", status=NormalizedStatus.New, store_name=store_name)
        return update_settings(ctx, store_name, {**SELLER, **changes})

    return configure
