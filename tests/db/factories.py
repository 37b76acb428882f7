"""Small builders for database tests: the rows every test needs before its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from shelfdesk.db.models import Channel, MarketplaceAccount, Store
from shelfdesk.domain import Marketplace, NormalizedStatus

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def add_store(session: Session, name: str = "Refurb FR", country: str = "FR") -> Store:
    store = Store(name=name, country=country, currency="EUR", created_at=NOW, updated_at=NOW)
    session.add(store)
    session.flush()
    return store


def add_account(session: Session, name: str = "BM EU", marketplace: Marketplace = Marketplace.backmarket) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=name, credential_ref=f"secret:{name}", created_at=NOW, updated_at=NOW)
    session.add(account)
    session.flush()
    return account


def add_channel(session: Session, store: Store, account: MarketplaceAccount, market: str) -> Channel:
    channel = Channel(
        store_id=store.id,
        account_id=account.id,
        marketplace=account.marketplace,
        market=market,
        country=market[:2].upper(),
        name=f"{account.name} {market}",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(channel)
    session.flush()
    return channel


def order_row(
    account_id: int,
    order_id: str,
    *,
    channel: Channel | None = None,
    minutes: int = 0,
    status: NormalizedStatus = NormalizedStatus.New,
    total: str = "99.90",
) -> dict[str, Any]:
    """One orders row as a harvest would upsert it (every row has the same keys)."""
    return {
        "account_id": account_id,
        "channel_id": channel.id if channel else None,
        "store_id": channel.store_id if channel else None,
        "marketplace": Marketplace.backmarket,
        "marketplace_order_id": order_id,
        "marketplace_status": "1",
        "status": status,
        "purchased_at": NOW - timedelta(minutes=minutes),
        "modified_at": NOW - timedelta(minutes=minutes),
        "harvested_at": NOW,
        "updated_at": NOW,
        "total": Decimal(total),
        "currency": "EUR",
        "payload": {"order_id": order_id},
    }
